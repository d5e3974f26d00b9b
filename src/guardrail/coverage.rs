//! Which member accounts an attached service control policy protects.
//!
//! Each target is asked once (ListPoliciesForTarget): the root and every
//! unit above a member account once for all the accounts under it, then
//! each account; each distinct policy is read once (DescribePolicy).

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, TryStreamExt};

use super::GUARDED_ACTIONS;
use super::evaluate::{Document, Verdict};
use crate::backend::Policies;
use crate::backend::error::Located;
use crate::model::{AccountId, OrgAccount, PolicySummary};
use crate::progress::Progress;

/// Organizations requests in flight at once: it allows a handful per second.
const CONCURRENCY: usize = 4;

/// A member account no policy protects, and what the policies above it do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    pub account: AccountId,
    /// The guarded actions some policy does deny to everyone in it.
    pub denied: Vec<&'static str>,
    /// The guarded actions nothing denies.
    pub open: Vec<&'static str>,
    /// Why a Deny that names a guarded action does not count, by policy.
    pub doubts: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    pub protected: usize,
    pub gaps: Vec<Gap>,
    /// ListPoliciesForTarget requests, one per target.
    pub targets_read: usize,
    /// DescribePolicy requests, one per distinct policy.
    pub policies_read: usize,
}

/// Judges every account of `members` (ACTIVE members; an SCP never applies
/// to the management account) against the policies attached to it, to the
/// units above it and to the root.
pub async fn check(
    api: &impl Policies,
    members: &[&OrgAccount],
    progress: &Progress,
) -> Result<Coverage, Located> {
    let targets: BTreeSet<&str> = members
        .iter()
        .flat_map(|account| {
            account
                .parents
                .iter()
                .map(String::as_str)
                .chain([account.id.as_str()])
        })
        .collect();
    progress.grow(targets.len() as u64);
    let attached: BTreeMap<&str, Vec<PolicySummary>> = futures::stream::iter(&targets)
        .map(|target| async move {
            let policies = api.policies_for_target(target).await?;
            progress.inc();
            Ok::<_, Located>((*target, policies))
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    let policies: BTreeSet<&PolicySummary> = attached.values().flatten().collect();
    progress.grow(policies.len() as u64);
    progress.total_known();
    // Parsed once each, however many accounts they sit above.
    let documents: BTreeMap<&str, Document> = futures::stream::iter(&policies)
        .map(|policy| async move {
            let document = api.policy_document(policy).await?;
            progress.inc();
            Ok::<_, Located>((policy.id.as_str(), Document::parse(&document)))
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;

    let mut coverage = Coverage {
        targets_read: targets.len(),
        policies_read: policies.len(),
        ..Coverage::default()
    };
    for account in members {
        let chain = account
            .parents
            .iter()
            .map(String::as_str)
            .chain([account.id.as_str()]);
        let mut denied = [false; GUARDED_ACTIONS.len()];
        let mut doubts = Vec::new();
        for policy in chain.flat_map(|target| attached.get(target).into_iter().flatten()) {
            let Some(document) = documents.get(policy.id.as_str()) else {
                continue;
            };
            let Verdict {
                denied: by_this,
                doubts: why,
            } = document.judge(&account.id);
            for (all, this) in denied.iter_mut().zip(by_this) {
                *all |= this;
            }
            doubts.extend(
                why.into_iter()
                    .map(|why| format!("policy `{}` ({}): {why}", policy.name, policy.id)),
            );
        }
        if denied.iter().all(|denied| *denied) {
            coverage.protected += 1;
            continue;
        }
        let (by_deny, by_open): (Vec<_>, Vec<_>) = GUARDED_ACTIONS
            .iter()
            .zip(denied)
            .partition(|(_, denied)| *denied);
        doubts.sort();
        doubts.dedup();
        coverage.gaps.push(Gap {
            account: account.id.clone(),
            denied: by_deny.into_iter().map(|(action, _)| *action).collect(),
            open: by_open.into_iter().map(|(action, _)| *action).collect(),
            doubts,
        });
    }
    Ok(coverage)
}
