//! `audit --security-hub`: the audit's findings sent to AWS Security Hub,
//! each kept current there. What is sent, and why, is `findings::asff`'s;
//! the calls are the backend's.

use futures::StreamExt;

use crate::audit::Audit;
use crate::backend::Backend;
use crate::config::LoadedConfig;
use crate::error::Error;
use crate::findings::Origin;
use crate::findings::asff::{self, Refused, Sent};
use crate::model::{Timestamp, count};
use crate::session::{Context, Session};

/// BatchImportFindings calls in flight at once; the pacer keeps them at
/// Security Hub's quota.
const CALLS_IN_FLIGHT: usize = 8;

/// The findings Security Hub refused, as the run's error.
pub fn refusals(sent: &Sent) -> Result<(), Error> {
    match sent.refused.is_empty() {
        true => Ok(()),
        false => Err(Error::SecurityHubRefused(sent.refused.clone())),
    }
}

/// `--security-hub` on the sandbox, refused before anything is read.
pub fn no_hub_on_the_sandbox() -> Error {
    Error::usage(
        "--security-hub sends findings to AWS: the sandbox has no Security Hub",
        Some("run without --sandbox, or without --security-hub".to_owned()),
    )
}

pub async fn send(
    context: &Context,
    session: &Session,
    audit: &Audit,
    config: Option<&LoadedConfig>,
    origin: &Origin,
) -> Result<Sent, Error> {
    let Backend::Aws(aws) = &session.api else {
        return Err(no_hub_on_the_sandbox());
    };
    let hub = aws.inner().security_hub();
    hub.enabled().await?;
    let product_arn = asff::product_arn(origin);
    let before = hub.sent_before(&product_arn).await?;
    let now = Timestamp::now();
    let update = asff::update(asff::current(audit, config, origin, now), &before, now);
    let (calls, too_big) = asff::batches(update.findings);
    let mut refused: Vec<Refused> = too_big
        .into_iter()
        .map(|finding| Refused {
            code: "TooLarge".to_owned(),
            message: format!(
                "{} bytes, over Security Hub's {} a finding",
                finding.size(),
                asff::MAX_BYTES_PER_FINDING
            ),
            id: finding.id,
        })
        .collect();
    context.ui.verbose(&format!(
        "Security Hub: {} sent before by altcontacts; sending {}",
        count(before.len(), "finding"),
        count(calls.len(), "call")
    ));
    let answers: Vec<Result<Vec<Refused>, _>> = futures::stream::iter(&calls)
        .map(|call| hub.import(call))
        .buffer_unordered(CALLS_IN_FLIGHT)
        .collect()
        .await;
    for answer in answers {
        refused.extend(answer?);
    }
    // After the imports: the findings must be there to be updated.
    let mut workflows = 0;
    for (status, ids) in &update.workflow {
        refused.extend(hub.set_workflow(&product_arn, ids, status).await?);
        workflows += ids.len();
    }
    Ok(Sent {
        region: origin.region.clone(),
        product_arn,
        calls: calls.len(),
        new: update.new,
        updated: update.updated,
        resolved: update.resolved,
        workflows,
        refused,
    })
}
