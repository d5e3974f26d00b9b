//! The plan as versioned JSON, for machines. Field names are stable; a
//! breaking change bumps `format_version`.

use serde::Serialize;

use super::PlanView;
use crate::model::AccountId;
use crate::plan::Change;
use crate::safety::{Breach, Safety};

pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Plan")]
struct JsonPlan<'a> {
    #[schemars(extend("const" = FORMAT_VERSION))]
    format_version: u32,
    target: &'a str,
    caller_account: &'a AccountId,
    accounts_in_scope: usize,
    summary: JsonSummary,
    changes: &'a [Change],
    skipped: Vec<JsonSkipped<'a>>,
    safety: &'a [Breach],
    /// The limits the plan was checked against.
    safety_limits: &'a Safety,
    not_read: usize,
    /// With `--joined-since`: the cutoff and the older accounts not read.
    joined_since: Option<JsonJoinedSince>,
    /// What about the file deserves a look but does not stop the run.
    warnings: Vec<JsonWarning>,
    /// The accounts whose subscriptions to AWS Health's notices (AWS User
    /// Notifications) the file wants and that were not read, with why:
    /// nothing is planned for them.
    subscriptions_unchecked: Vec<JsonUnchecked>,
    /// With `--member-role`: the accounts reached through it, and those
    /// reached through the caller instead, with why.
    #[serde(skip_serializing_if = "Option::is_none")]
    member_role: Option<&'a crate::model::MemberRoleUse>,
}

#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Warning")]
struct JsonWarning {
    /// Stable: `stale_exclusion`.
    code: &'static str,
    file: String,
    line: usize,
    column: usize,
    message: String,
    help: &'static str,
}

#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "SubscriptionsUnchecked")]
struct JsonUnchecked {
    account_id: AccountId,
    /// `no_member_role` (User Notifications answers an account only to
    /// itself), `not_offered` (the partition has no managed notifications)
    /// or `not_read` (the read failed: `detail` says how).
    #[schemars(extend("enum" = ["no_member_role", "not_offered", "not_read"]))]
    reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "JoinedSince")]
struct JsonJoinedSince {
    time: String,
    older_accounts_not_read: usize,
}

#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Summary")]
struct JsonSummary {
    create: usize,
    update: usize,
    delete: usize,
    /// Contacts to subscribe again to AWS Health topics.
    subscribe: usize,
    unchanged: usize,
}

#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Skipped")]
struct JsonSkipped<'a> {
    account_id: &'a AccountId,
    account_name: Option<&'a str>,
    status: String,
    /// `not_active`; `management_account` when a delegated administrator
    /// runs the plan; `unreadable` for a member account that denied the
    /// reads of its contacts while the others answered.
    #[schemars(extend("enum" = ["not_active", "management_account", "unreadable"]))]
    reason: &'static str,
    /// With `unreadable`: what AWS answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

pub fn plan(view: &PlanView) -> String {
    let json = JsonPlan {
        format_version: FORMAT_VERSION,
        target: &view.header.target,
        caller_account: &view.header.caller,
        member_role: view.header.member_role.as_ref(),
        accounts_in_scope: view.accounts_in_scope(),
        summary: {
            let summary = view.summary();
            JsonSummary {
                create: summary.create,
                update: summary.update,
                delete: summary.delete,
                subscribe: summary.subscribe,
                unchanged: summary.unchanged,
            }
        },
        changes: view.changes(),
        skipped: view
            .plan
            .skipped
            .iter()
            .map(|skipped| JsonSkipped {
                account_id: &skipped.id,
                account_name: skipped.name.as_deref(),
                status: skipped.status.to_string(),
                reason: skipped.reason.code(),
                detail: skipped.reason.detail(),
            })
            .collect(),
        safety: &view.breaches,
        safety_limits: &view.limits,
        not_read: view.plan.not_read,
        joined_since: view.plan.joined_since.map(|window| JsonJoinedSince {
            time: window.since.rfc3339(),
            older_accounts_not_read: window.older_accounts,
        }),
        warnings: view
            .plan
            .warnings
            .iter()
            .map(|warning| JsonWarning {
                code: warning.kind.code(),
                file: warning.file.clone(),
                line: warning.line,
                column: warning.column,
                message: warning.kind.message(),
                help: warning.kind.help(),
            })
            .collect(),
        subscriptions_unchecked: view
            .plan
            .unchecked
            .iter()
            .map(|(account, why)| JsonUnchecked {
                account_id: account.clone(),
                reason: why.code(),
                detail: why.failed().then(|| why.to_string()),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&json).expect("plain data serializes");
    text.push('\n');
    text
}

/// The JSON Schema of `plan --format json`, as committed in `schema/`.
pub fn schema() -> String {
    crate::render::schema_of::<JsonPlan>("altcontacts plan --format json")
}
