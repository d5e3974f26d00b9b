//! `audit --format json`: the accounts, the findings, and what became of
//! them in Security Hub.

use serde::Serialize;

use super::AuditView;
use crate::audit::mute::MutedFinding;
use crate::audit::{AccountRow, DnsAsked, Finding};
use crate::findings::asff::Sent;

#[derive(Serialize)]
struct JsonAudit<'a> {
    format_version: u32,
    target: &'a str,
    compliant: bool,
    accounts: &'a [AccountRow],
    findings: &'a [Finding],
    /// The findings the file accepts, each with `muted`: its reason, the
    /// last day it is muted and where the mute is written. Never counted.
    muted: &'a [MutedFinding],
    /// `asked`, `off` (`--no-dns`) or `sandbox`: whether the domains'
    /// mail servers were looked up.
    dns: DnsAsked,
    #[serde(skip_serializing_if = "Option::is_none")]
    member_role: Option<&'a crate::model::MemberRoleUse>,
    /// With `--security-hub`: what was sent, and what became of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    security_hub: Option<&'a Sent>,
}

pub fn report(view: &AuditView) -> String {
    let (audit, header) = (view.audit, view.header);
    let json = JsonAudit {
        security_hub: view.security_hub,
        format_version: crate::render::plan::FORMAT_VERSION,
        target: &header.target,
        member_role: header.member_role.as_ref(),
        compliant: audit.findings.is_empty(),
        accounts: &audit.accounts,
        findings: &audit.findings,
        muted: &audit.muted,
        dns: audit.dns,
    };
    let mut text = serde_json::to_string_pretty(&json).expect("plain data serializes");
    text.push('\n');
    text
}
