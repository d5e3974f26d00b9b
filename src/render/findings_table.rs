//! The audit's findings as a table: one row per finding, with everything a
//! reader needs beside it (the account's name, where the file decides it,
//! the command that fixes it). The CSV and the HTML report lay out these
//! same rows, so they cannot disagree.

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
}

/// The columns of `audit --format csv`, in order: a stable contract
/// (docs/audit.md).
pub const COLUMNS: [&str; 12] = [
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
];

pub fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
    }
}

impl Row {
    fn of(finding: &Finding, audit: &Audit, config: Option<&LoadedConfig>) -> Self {
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
        }
    }

    /// The row's cells, in [`COLUMNS`]' order.
    pub fn cells(&self) -> [String; 12] {
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
        ]
    }
}

pub fn rows(audit: &Audit, config: Option<&LoadedConfig>) -> Vec<Row> {
    audit
        .findings
        .iter()
        .map(|finding| Row::of(finding, audit, config))
        .collect()
}

/// One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line
/// break, quotes doubled. A cell a spreadsheet would read as a formula
/// (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return) is
/// prefixed with `'`, so an account name or a message from AWS cannot run
/// in the reader's spreadsheet.
fn cell(text: &str) -> String {
    let neutral = match text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        true => format!("'{text}"),
        false => text.to_owned(),
    };
    match neutral.contains([',', '"', '\n', '\r']) {
        true => format!("\"{}\"", neutral.replace('"', "\"\"")),
        false => neutral,
    }
}

/// `audit --format csv`: a header line, then one line per finding, each
/// ended by CRLF as RFC 4180 has it.
pub fn csv(audit: &Audit, config: Option<&LoadedConfig>) -> String {
    let line = |cells: &[String]| {
        let mut line = cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
        line.push_str("\r\n");
        line
    };
    let header: Vec<String> = COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    let mut out = line(&header);
    for row in rows(audit, config) {
        out.push_str(&line(&row.cells()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_as_rfc_4180_says_and_formulas_are_neutralised() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a, b"), "\"a, b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1 202 555 0100"), "'+1 202 555 0100");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("a=b"), "a=b", "only a leading sign is a formula");
    }
}
