//! The audit's findings as a table: one row per finding, with everything a
//! reader needs beside it (the account's name, where the file decides it,
//! the command that fixes it). The CSV and the HTML report lay out these
//! same rows, so they cannot disagree.

use crate::audit::mute::Muted;
use crate::audit::{Audit, Finding, Severity};
use crate::config::LoadedConfig;
use crate::findings;

/// One finding, as a table row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub severity: Severity,
    /// The check's code, as JSON has it: `missing_security`.
    pub check: String,
    /// What the check wants, in a line.
    pub title: &'static str,
    pub account_id: String,
    pub account_name: String,
    /// Every account concerned, for a finding about an address several use.
    pub accounts: Vec<String>,
    pub address: String,
    pub contact: String,
    pub message: String,
    /// The controls it fails, as people name them.
    pub controls: Vec<&'static str>,
    /// Where the contacts file decides it (`contacts.yaml:12:5`).
    pub location: String,
    pub remediation: String,
    /// Why, until when and where the file accepts it; none when it counts.
    pub muted: Option<Muted>,
}

/// The columns of `audit --format csv`, in order: a stable contract
/// (docs/audit.md).
pub const COLUMNS: [&str; 15] = [
    "severity",
    "check",
    "title",
    "account_id",
    "account_name",
    "accounts",
    "address",
    "contact",
    "message",
    "controls",
    "location",
    "remediation",
    "muted_until",
    "muted_reason",
    "muted_location",
];

pub fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
    }
}

impl Row {
    fn of(
        finding: &Finding,
        muted: Option<&Muted>,
        audit: &Audit,
        config: Option<&LoadedConfig>,
    ) -> Self {
        let account = finding
            .account_id
            .as_ref()
            .or_else(|| finding.about.accounts.first());
        let location = match account {
            Some(account) => findings::place(finding, account, config),
            None => finding.about.location.clone(),
        };
        Self {
            severity: finding.severity,
            check: finding.check.code(),
            title: finding.check.title(),
            account_id: finding
                .account_id
                .as_ref()
                .map(|id| id.to_string())
                .unwrap_or_default(),
            account_name: finding
                .account_id
                .as_ref()
                .and_then(|id| findings::account_name(audit, id))
                .unwrap_or_default(),
            accounts: finding
                .about
                .accounts
                .iter()
                .map(|id| id.to_string())
                .collect(),
            address: finding.about.address.clone().unwrap_or_default(),
            contact: finding.about.contact.clone().unwrap_or_default(),
            message: finding.message.clone(),
            controls: finding
                .controls
                .iter()
                .map(|control| control.label())
                .collect(),
            location: location.map(|at| at.to_string()).unwrap_or_default(),
            remediation: findings::remediation(finding).unwrap_or_default(),
            muted: muted.cloned(),
        }
    }

    /// The row's cells, in [`COLUMNS`]' order.
    pub fn cells(&self) -> [String; 15] {
        [
            severity_word(self.severity).to_owned(),
            self.check.clone(),
            self.title.to_owned(),
            self.account_id.clone(),
            self.account_name.clone(),
            self.accounts.join(" "),
            self.address.clone(),
            self.contact.clone(),
            self.message.clone(),
            self.controls.join("; "),
            self.location.clone(),
            self.remediation.clone(),
            self.muted
                .as_ref()
                .map(|m| m.until.clone())
                .unwrap_or_default(),
            self.muted
                .as_ref()
                .map(|m| m.reason.clone())
                .unwrap_or_default(),
            self.muted
                .as_ref()
                .map(|m| m.location.to_string())
                .unwrap_or_default(),
        ]
    }
}

pub fn rows(audit: &Audit, config: Option<&LoadedConfig>) -> Vec<Row> {
    audit
        .findings
        .iter()
        .map(|finding| Row::of(finding, None, audit, config))
        .chain(
            audit
                .muted
                .iter()
                .map(|muted| Row::of(&muted.finding, Some(&muted.muted), audit, config)),
        )
        .collect()
}
