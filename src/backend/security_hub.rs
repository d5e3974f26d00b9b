//! AWS Security Hub, where `audit --security-hub` sends the findings: is
//! it enabled, what did this tool send before, and the sending itself,
//! each call paced at Security Hub's published quota and retried like any
//! other. The only module with Security Hub's SDK types.

use std::collections::BTreeMap;

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, AwsSecurityFindingIdentifier, Compliance,
    ComplianceStatus, Recommendation, RecordState, Remediation, Resource, Severity, SeverityLabel,
    StringFilter, StringFilterComparison, WorkflowUpdate,
};

use super::Gate;
use super::attempts::{Pacing, RetryPolicy, RetryStats};
use super::error::{BackendError, HubOperation, Located, Operation};
use super::pacer::Pacer;
use super::quota::{HUB_GET_FINDINGS, HUB_IMPORT, HUB_UPDATE};
use super::sdk_error::classify;
use crate::findings::asff::{AsffFinding, GENERATOR_PREFIX, MAX_FINDINGS_PER_CALL, Refused};

pub struct SecurityHub {
    client: aws_sdk_securityhub::Client,
    import: Pacer,
    update: Pacer,
    read: Pacer,
    policy: RetryPolicy,
    stats: RetryStats,
    /// Never closed: what is sent is the audit's own record.
    gate: Gate,
}

fn located(operation: HubOperation) -> impl Fn(BackendError) -> Located {
    move |error| Located::new(Operation::SecurityHub(operation), error)
}

impl SecurityHub {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self {
            client: aws_sdk_securityhub::Client::from_conf(
                aws_sdk_securityhub::config::Builder::from(config)
                    .interceptor(super::address::NamesTheAddress)
                    .build(),
            ),
            import: Pacer::new(HUB_IMPORT),
            update: Pacer::new(HUB_UPDATE),
            read: Pacer::new(HUB_GET_FINDINGS),
            policy: RetryPolicy::default(),
            stats: RetryStats::default(),
            gate: Gate::default(),
        }
    }

    /// Whether Security Hub is on here: the first thing asked, so a hub
    /// that is off, or a caller without the permission, is one error.
    pub async fn enabled(&self) -> Result<(), Located> {
        self.policy
            .run(&self.stats, Pacing::Unpaced, || async {
                self.client.describe_hub().send().await.map_err(classify)
            })
            .await
            .map(|_| ())
            .map_err(located(HubOperation::DescribeHub))
    }

    /// Every finding of `product_arn` this tool sent before.
    pub async fn sent_before(&self, product_arn: &str) -> Result<Vec<AsffFinding>, Located> {
        let filters = AwsSecurityFindingFilters::builder()
            .product_arn(
                StringFilter::builder()
                    .comparison(StringFilterComparison::Equals)
                    .value(product_arn)
                    .build(),
            )
            .generator_id(
                StringFilter::builder()
                    .comparison(StringFilterComparison::Prefix)
                    .value(GENERATOR_PREFIX)
                    .build(),
            )
            .build();
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = crate::pages::Pages::new("Security Hub GetFindings");
        loop {
            let page = self
                .policy
                .run(
                    &self.stats,
                    Pacing::Paced {
                        pacer: &self.read,
                        gate: &self.gate,
                    },
                    || async {
                        self.client
                            .get_findings()
                            .filters(filters.clone())
                            .max_results(100)
                            .set_next_token(token.clone())
                            .send()
                            .await
                            .map_err(classify)
                    },
                )
                .await
                .map_err(located(HubOperation::GetFindings))?;
            // Filtered here too: a hub that ignores a filter sends others'.
            found.extend(page.findings().iter().map(from_sdk).filter(|finding| {
                finding.product_arn == product_arn
                    && finding.generator_id.starts_with(GENERATOR_PREFIX)
            }));
            match page.next_token().filter(|token| !token.is_empty()) {
                Some(next) => {
                    pages.next(next).map_err(|endless| {
                        located(HubOperation::GetFindings)(BackendError::Endless(endless))
                    })?;
                    token = Some(next.to_owned());
                }
                None => return Ok(found),
            }
        }
    }

    /// Sends one call's findings; those Security Hub refused come back.
    pub async fn import(&self, findings: &[AsffFinding]) -> Result<Vec<Refused>, Located> {
        let sdk: Vec<AwsSecurityFinding> = findings.iter().map(to_sdk).collect();
        let answer = self
            .policy
            .run(
                &self.stats,
                Pacing::Paced {
                    pacer: &self.import,
                    gate: &self.gate,
                },
                || async {
                    self.client
                        .batch_import_findings()
                        .set_findings(Some(sdk.clone()))
                        .send()
                        .await
                        .map_err(classify)
                },
            )
            .await
            .map_err(located(HubOperation::BatchImportFindings))?;
        Ok(answer
            .failed_findings()
            .iter()
            .map(|failed| Refused {
                id: failed.id().unwrap_or_default().to_owned(),
                code: failed.error_code().unwrap_or_default().to_owned(),
                message: failed.error_message().unwrap_or_default().to_owned(),
            })
            .collect())
    }
}

impl SecurityHub {
    /// Sets the workflow of findings it has (`SUPPRESSED` for those the file
    /// mutes now, `NEW` for those it no longer does): an import sets a
    /// finding's workflow only when it creates the finding. Returns the
    /// findings it could not update.
    pub async fn set_workflow(
        &self,
        product_arn: &str,
        ids: &[String],
        status: &str,
    ) -> Result<Vec<Refused>, Located> {
        let mut refused = Vec::new();
        for chunk in ids.chunks(MAX_FINDINGS_PER_CALL) {
            let identifiers: Vec<AwsSecurityFindingIdentifier> = chunk
                .iter()
                .map(|id| {
                    AwsSecurityFindingIdentifier::builder()
                        .id(id)
                        .product_arn(product_arn)
                        .build()
                })
                .collect();
            let answer = self
                .policy
                .run(
                    &self.stats,
                    Pacing::Paced {
                        pacer: &self.update,
                        gate: &self.gate,
                    },
                    || async {
                        self.client
                            .batch_update_findings()
                            .set_finding_identifiers(Some(identifiers.clone()))
                            .workflow(WorkflowUpdate::builder().status(status.into()).build())
                            .send()
                            .await
                            .map_err(classify)
                    },
                )
                .await
                .map_err(located(HubOperation::BatchUpdateFindings))?;
            refused.extend(answer.unprocessed_findings().iter().map(|failed| {
                Refused {
                    id: failed
                        .finding_identifier()
                        .and_then(|identifier| identifier.id())
                        .unwrap_or_default()
                        .to_owned(),
                    code: failed.error_code().unwrap_or_default().to_owned(),
                    message: failed.error_message().unwrap_or_default().to_owned(),
                }
            }));
        }
        Ok(refused)
    }
}

fn to_sdk(finding: &AsffFinding) -> AwsSecurityFinding {
    AwsSecurityFinding::builder()
        .schema_version("2018-10-08")
        .id(&finding.id)
        .product_arn(&finding.product_arn)
        .product_name("altcontacts")
        .company_name("altcontacts")
        .generator_id(&finding.generator_id)
        .aws_account_id(&finding.aws_account_id)
        .set_types(Some(finding.types.clone()))
        .created_at(&finding.created_at)
        .updated_at(&finding.updated_at)
        .severity(
            Severity::builder()
                .label(SeverityLabel::from(finding.severity_label.as_str()))
                .build(),
        )
        .title(&finding.title)
        .description(&finding.description)
        .remediation(
            Remediation::builder()
                .recommendation(
                    Recommendation::builder()
                        .text(&finding.remediation)
                        .set_url(crate::findings::checks_page())
                        .build(),
                )
                .build(),
        )
        .resources(
            Resource::builder()
                .r#type("AwsAccount")
                .id(&finding.resource_id)
                .partition(finding.partition.as_str().into())
                .region(&finding.region)
                .build(),
        )
        .compliance(
            Compliance::builder()
                .status(ComplianceStatus::from(finding.compliance_status.as_str()))
                .set_related_requirements(Some(finding.related_requirements.clone()))
                .set_security_control_id(finding.security_control_id.clone())
                .build(),
        )
        .record_state(RecordState::from(finding.record_state.as_str()))
        .set_workflow(finding.workflow_status.as_deref().map(|status| {
            aws_sdk_securityhub::types::Workflow::builder()
                .status(status.into())
                .build()
        }))
        .set_product_fields(Some(
            finding
                .product_fields
                .iter()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
        ))
        .build()
}

fn from_sdk(finding: &AwsSecurityFinding) -> AsffFinding {
    let text = |value: Option<&str>| value.unwrap_or_default().to_owned();
    let resource = finding.resources().first();
    let compliance = finding.compliance();
    AsffFinding {
        id: text(finding.id()),
        product_arn: text(finding.product_arn()),
        generator_id: text(finding.generator_id()),
        aws_account_id: text(finding.aws_account_id()),
        types: finding.types().to_vec(),
        created_at: text(finding.created_at()),
        updated_at: text(finding.updated_at()),
        severity_label: finding
            .severity()
            .and_then(|severity| severity.label())
            .map_or_else(String::new, |label| label.as_str().to_owned()),
        title: text(finding.title()),
        description: text(finding.description()),
        remediation: text(
            finding
                .remediation()
                .and_then(|remediation| remediation.recommendation())
                .and_then(|recommendation| recommendation.text()),
        ),
        resource_id: text(resource.and_then(|resource| resource.id())),
        partition: resource
            .and_then(|resource| resource.partition())
            .map_or_else(
                || "aws".to_owned(),
                |partition| partition.as_str().to_owned(),
            ),
        region: text(resource.and_then(|resource| resource.region())),
        compliance_status: compliance
            .and_then(|compliance| compliance.status())
            .map_or_else(String::new, |status| status.as_str().to_owned()),
        related_requirements: compliance
            .map(|compliance| compliance.related_requirements().to_vec())
            .unwrap_or_default(),
        security_control_id: compliance
            .and_then(|compliance| compliance.security_control_id())
            .map(str::to_owned),
        record_state: finding
            .record_state()
            .map_or_else(|| "ACTIVE".to_owned(), |state| state.as_str().to_owned()),
        // What Security Hub's users made of it is theirs: a run sets only
        // what it mutes.
        workflow_status: None,
        product_fields: finding
            .product_fields()
            .map(|fields| {
                fields
                    .iter()
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect::<BTreeMap<_, _>>()
            })
            .unwrap_or_default(),
    }
}
