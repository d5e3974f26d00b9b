//! The findings as AWS Security Hub holds them (AWS Security Finding
//! Format), and what a run sends: every finding of this audit, updated in
//! place by its stable `Id` (its `CreatedAt` kept), and every finding this
//! tool sent before that is gone now, sent again as resolved.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Origin, key, per_account, place};
use crate::audit::{Audit, Control, Severity};
use crate::config::LoadedConfig;
use crate::model::Timestamp;

/// What Security Hub takes in one BatchImportFindings call.
pub const MAX_FINDINGS_PER_CALL: usize = 100;
pub const MAX_BYTES_PER_CALL: usize = 6 * 1024 * 1024;
pub const MAX_BYTES_PER_FINDING: usize = 240 * 1024;

/// Every finding this tool sends has a GeneratorId under this prefix, so a
/// run can find what earlier runs sent.
pub const GENERATOR_PREFIX: &str = "altcontacts/";

/// One finding, with the fields this tool sets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    pub id: String,
    pub product_arn: String,
    pub generator_id: String,
    pub aws_account_id: String,
    pub types: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    /// `HIGH`, `MEDIUM` or `LOW`.
    pub severity_label: String,
    pub title: String,
    pub description: String,
    pub remediation: String,
    /// The account concerned, as an `AwsAccount` resource.
    pub resource_id: String,
    pub partition: String,
    pub region: String,
    /// `FAILED`, or `PASSED` once fixed.
    pub compliance_status: String,
    pub related_requirements: Vec<String>,
    pub security_control_id: Option<String>,
    /// `ACTIVE`, or `ARCHIVED` once fixed.
    pub record_state: String,
    /// `SUPPRESSED` for a finding the file mutes; else Security Hub's own
    /// workflow is left as its users set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_status: Option<String>,
    pub product_fields: BTreeMap<String, String>,
}

impl AsffFinding {
    /// Its size as sent (JSON), for the limits per finding and per call.
    pub fn size(&self) -> usize {
        serde_json::to_string(self).map_or(0, |text| text.len())
    }

    /// Whether Security Hub shows it as a problem still.
    pub fn is_open(&self) -> bool {
        self.record_state == "ACTIVE" && self.compliance_status != "PASSED"
    }
}

/// The custom product every account has for its own findings.
pub fn product_arn(origin: &Origin) -> String {
    format!(
        "arn:{}:securityhub:{}:{}:product/{}/default",
        origin.partition, origin.region, origin.caller, origin.caller
    )
}

fn label(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
    }
}

/// This audit's findings, one per finding and account, open.
pub fn current(
    audit: &Audit,
    config: Option<&LoadedConfig>,
    origin: &Origin,
    now: Timestamp,
) -> Vec<AsffFinding> {
    let product = product_arn(origin);
    let now = now.rfc3339();
    per_account(audit, &origin.caller)
        .map(|(finding, muted, account)| {
            let fixed_at = place(finding, &account, config);
            let mut remediation = finding.check.help().to_owned();
            if let Some(location) = &fixed_at {
                remediation = format!("Change {location}. {remediation}");
            }
            let mut product_fields = BTreeMap::from([
                ("altcontacts/check".to_owned(), finding.check.code()),
                ("altcontacts/account".to_owned(), account.to_string()),
            ]);
            if let Some(location) = &fixed_at {
                product_fields.insert("altcontacts/location".to_owned(), location.to_string());
            }
            if let Some(muted) = muted {
                product_fields.insert(MUTED_UNTIL.to_owned(), muted.until.clone());
                product_fields.insert("altcontacts/muted_reason".to_owned(), muted.reason.clone());
            }
            let cis = finding.controls.iter().any(|control| {
                serde_json::to_value(control)
                    .ok()
                    .and_then(|value| value.as_str().map(|name| name.starts_with("cis-")))
                    .unwrap_or(false)
            });
            let mut types =
                vec!["Software and Configuration Checks/AWS Security Best Practices".to_owned()];
            if cis {
                types.push(
                    "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"
                        .to_owned(),
                );
            }
            AsffFinding {
                id: format!("{GENERATOR_PREFIX}{}", key(finding, &account)),
                product_arn: product.clone(),
                generator_id: format!("{GENERATOR_PREFIX}{}", finding.check.code()),
                // Security Hub takes a finding under the default product
                // only from the account it names: the caller's. The account
                // concerned is the resource.
                aws_account_id: origin.caller.to_string(),
                types,
                created_at: now.clone(),
                updated_at: now.clone(),
                severity_label: label(finding.severity).to_owned(),
                title: finding.check.title().to_owned(),
                description: finding.message.clone(),
                remediation,
                resource_id: format!("AWS::::Account:{account}"),
                partition: origin.partition.clone(),
                region: origin.region.clone(),
                compliance_status: "FAILED".to_owned(),
                related_requirements: finding
                    .controls
                    .iter()
                    .filter_map(|control| {
                        serde_json::to_value(control)
                            .ok()
                            .and_then(|value| value.as_str().map(str::to_owned))
                    })
                    .collect(),
                security_control_id: finding
                    .controls
                    .contains(&Control::SecurityHubAccount1)
                    .then(|| "Account.1".to_owned()),
                record_state: "ACTIVE".to_owned(),
                workflow_status: muted.map(|_| "SUPPRESSED".to_owned()),
                product_fields,
            }
        })
        .collect()
}

/// What a run sends, and what that does.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Update {
    pub findings: Vec<AsffFinding>,
    /// Findings Security Hub did not have.
    pub new: usize,
    /// Findings it had, sent again (`UpdatedAt` moves, `CreatedAt` stays).
    pub updated: usize,
    /// Findings this tool sent open before, fixed since: now PASSED and
    /// ARCHIVED.
    pub resolved: usize,
    /// Findings sent before whose mute changed since: (`SUPPRESSED` or
    /// `NEW`, their IDs), set with BatchUpdateFindings, since an import
    /// sets the workflow of new findings only.
    pub workflow: Vec<(&'static str, Vec<String>)>,
}

/// The product field that says a finding is muted, and until when.
const MUTED_UNTIL: &str = "altcontacts/muted_until";

/// `current` against what this tool sent before (`previous`, as Security
/// Hub answered it).
pub fn update(current: Vec<AsffFinding>, previous: &[AsffFinding], now: Timestamp) -> Update {
    let before: BTreeMap<&str, &AsffFinding> = previous
        .iter()
        .map(|finding| (finding.id.as_str(), finding))
        .collect();
    let mut update = Update::default();
    let ids: BTreeSet<String> = current.iter().map(|finding| finding.id.clone()).collect();
    let (mut suppress, mut renew) = (Vec::new(), Vec::new());
    for mut finding in current {
        match before.get(finding.id.as_str()) {
            Some(earlier) => {
                finding.created_at = earlier.created_at.clone();
                update.updated += 1;
                let was_muted = earlier.product_fields.contains_key(MUTED_UNTIL);
                match (was_muted, finding.workflow_status.is_some()) {
                    (false, true) => suppress.push(finding.id.clone()),
                    (true, false) => renew.push(finding.id.clone()),
                    _ => {}
                }
            }
            None => update.new += 1,
        }
        update.findings.push(finding);
    }
    update.workflow = [("SUPPRESSED", suppress), ("NEW", renew)]
        .into_iter()
        .filter(|(_, ids)| !ids.is_empty())
        .collect();
    for earlier in previous
        .iter()
        .filter(|earlier| earlier.is_open() && !ids.contains(&earlier.id))
    {
        update.findings.push(AsffFinding {
            updated_at: now.rfc3339(),
            compliance_status: "PASSED".to_owned(),
            record_state: "ARCHIVED".to_owned(),
            ..(*earlier).clone()
        });
        update.resolved += 1;
    }
    update
}

/// One finding Security Hub refused, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refused {
    pub id: String,
    pub code: String,
    pub message: String,
}

/// What the run sent, and what became of it.
#[derive(Debug, Serialize)]
pub struct Sent {
    pub region: String,
    pub product_arn: String,
    /// BatchImportFindings calls made.
    pub calls: usize,
    pub new: usize,
    pub updated: usize,
    pub resolved: usize,
    /// Findings whose workflow was set because their mute changed.
    pub workflows: usize,
    pub refused: Vec<Refused>,
}

impl Sent {
    pub fn summary(&self) -> String {
        format!(
            "Security Hub ({}): {} new, {} updated, {} resolved{}, in {}{}",
            self.region,
            self.new,
            self.updated,
            self.resolved,
            match self.workflows {
                0 => String::new(),
                n => format!(", {n} muted or unmuted"),
            },
            crate::model::count(self.calls, "call"),
            match self.refused.len() {
                0 => String::new(),
                refused => format!("; {refused} refused"),
            }
        )
    }
}

/// The calls that send `findings` within Security Hub's limits: at most
/// 100 findings and 6 MB a call. A finding over 240 KB is never sent; it
/// is returned apart, as Security Hub would refuse it.
pub fn batches(findings: Vec<AsffFinding>) -> (Vec<Vec<AsffFinding>>, Vec<AsffFinding>) {
    let mut calls: Vec<Vec<AsffFinding>> = Vec::new();
    let mut too_big = Vec::new();
    let mut bytes = 0;
    for finding in findings {
        let size = finding.size();
        if size > MAX_BYTES_PER_FINDING {
            too_big.push(finding);
            continue;
        }
        match calls.last_mut() {
            Some(call)
                if call.len() < MAX_FINDINGS_PER_CALL && bytes + size <= MAX_BYTES_PER_CALL =>
            {
                bytes += size;
                call.push(finding);
            }
            _ => {
                bytes = size;
                calls.push(vec![finding]);
            }
        }
    }
    (calls, too_big)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(id: &str) -> AsffFinding {
        AsffFinding {
            id: id.to_owned(),
            product_arn: "arn:aws:securityhub:us-east-1:1:product/1/default".to_owned(),
            generator_id: "altcontacts/missing_security".to_owned(),
            aws_account_id: "111111111111".to_owned(),
            types: Vec::new(),
            created_at: "2026-01-01T00:00:00Z".to_owned(),
            updated_at: "2026-01-01T00:00:00Z".to_owned(),
            severity_label: "HIGH".to_owned(),
            title: "t".to_owned(),
            description: "d".to_owned(),
            remediation: "r".to_owned(),
            resource_id: "AWS::::Account:111111111111".to_owned(),
            partition: "aws".to_owned(),
            region: "us-east-1".to_owned(),
            compliance_status: "FAILED".to_owned(),
            related_requirements: Vec::new(),
            security_control_id: None,
            record_state: "ACTIVE".to_owned(),
            workflow_status: None,
            product_fields: BTreeMap::new(),
        }
    }

    #[test]
    fn a_rerun_keeps_created_at_and_a_finding_gone_is_sent_again_resolved() {
        let now = Timestamp(1_800_000_000);
        let previous = vec![finding("a"), finding("b"), {
            let mut closed = finding("c");
            closed.record_state = "ARCHIVED".to_owned();
            closed
        }];
        let mut again = finding("a");
        again.created_at = now.rfc3339();
        let update = update(vec![again, finding("d")], &previous, now);
        assert_eq!((update.new, update.updated, update.resolved), (1, 1, 1));
        let a = &update.findings[0];
        assert_eq!(a.created_at, "2026-01-01T00:00:00Z", "CreatedAt kept");
        let b = update.findings.iter().find(|f| f.id == "b").unwrap();
        assert_eq!(
            (b.compliance_status.as_str(), b.record_state.as_str()),
            ("PASSED", "ARCHIVED")
        );
        assert!(update.findings.iter().all(|f| f.id != "c"), "resolved once");
    }

    #[test]
    fn calls_hold_at_most_100_findings_and_6_mb_and_a_finding_over_240_kb_is_kept_apart() {
        let many: Vec<AsffFinding> = (0..250).map(|n| finding(&n.to_string())).collect();
        let (calls, too_big) = batches(many);
        assert_eq!(
            calls.iter().map(Vec::len).collect::<Vec<_>>(),
            [100, 100, 50]
        );
        assert!(too_big.is_empty());
        let mut big = finding("big");
        big.description = "x".repeat(200 * 1024);
        let mut huge = finding("huge");
        huge.description = "x".repeat(241 * 1024);
        let (calls, too_big) = batches(vec![big.clone(); 40].into_iter().chain([huge]).collect());
        assert!(calls.iter().all(|call| call.iter().map(AsffFinding::size).sum::<usize>()
            <= MAX_BYTES_PER_CALL));
        assert_eq!(calls.len(), 2, "30 of 200 KB fit in 6 MB");
        assert_eq!(too_big.len(), 1);
    }
}
