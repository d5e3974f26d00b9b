//! Which member accounts an attached service control policy protects.
//!
//! Asked per policy, not per target: the organization's service control
//! policies are listed (ListPolicies) and each is read once
//! (DescribePolicy); only a policy that can deny a guarded action has its
//! targets listed (ListTargetsForPolicy). An organization has a handful of
//! such policies however many accounts it has, so the check costs a few
//! calls where asking each account (ListPoliciesForTarget) cost one per
//! account; FullAWSAccess, attached everywhere, is never listed.

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
    /// DescribePolicy requests, one per service control policy.
    pub policies_read: usize,
    /// The policies whose targets were listed: those that can deny a
    /// guarded action.
    pub guarding: usize,
}

/// Judges every account of `members` (ACTIVE members; an SCP never applies
/// to the management account) against the policies attached to it, to the
/// units above it and to the root.
pub async fn check(
    api: &impl Policies,
    members: &[&OrgAccount],
    progress: &Progress,
) -> Result<Coverage, Located> {
    let policies = api.service_control_policies().await?;
    progress.grow(policies.len() as u64);
    // Parsed once each, however many accounts they sit above.
    let documents: BTreeMap<&str, (&PolicySummary, Document)> = futures::stream::iter(&policies)
        .map(|policy| async move {
            let document = api.policy_document(policy).await?;
            progress.inc();
            Ok::<_, Located>((policy.id.as_str(), (policy, Document::parse(&document))))
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    let guarding: Vec<&PolicySummary> = documents
        .values()
        .filter(|(_, document)| document.may_guard())
        .map(|(policy, _)| *policy)
        .collect();
    progress.grow(guarding.len() as u64);
    progress.total_known();
    let targets: Vec<(&PolicySummary, Vec<String>)> = futures::stream::iter(&guarding)
        .map(|policy| async move {
            let targets = api.policy_targets(policy).await?;
            progress.inc();
            Ok::<_, Located>((*policy, targets))
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    let mut attached: BTreeMap<&str, BTreeSet<&PolicySummary>> = BTreeMap::new();
    for (policy, targets) in &targets {
        for target in targets {
            attached.entry(target.as_str()).or_default().insert(policy);
        }
    }

    let mut coverage = Coverage {
        policies_read: policies.len(),
        guarding: guarding.len(),
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
            let Some((_, document)) = documents.get(policy.id.as_str()) else {
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
