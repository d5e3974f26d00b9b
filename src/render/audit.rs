//! Audit output: a table of which contacts each account has, then the
//! findings, in human, JSON or Markdown form.

use std::fmt::Write;

use owo_colors::Style;
use serde::Serialize;

use super::markdown::cell;
use super::{Header, Paint, account_label, printable};
use crate::audit::{AccountRow, Audit, Finding, Severity};
use crate::model::count;

pub fn summary_line(audit: &Audit) -> String {
    if audit.findings.is_empty() {
        return format!(
            "Audit passed: {} with distinct SECURITY, BILLING and OPERATIONS contacts.",
            count(audit.accounts.len(), "account")
        );
    }
    let severity_count = |severity| {
        audit
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    };
    format!(
        "Audit: {} ({} high, {} medium, {} low) across {}.",
        count(audit.findings.len(), "finding"),
        severity_count(Severity::High),
        severity_count(Severity::Medium),
        severity_count(Severity::Low),
        count(audit.accounts.len(), "account")
    )
}

fn label(row: &AccountRow) -> String {
    let label = account_label(&row.account_id, row.account_name.as_deref());
    match row.excluded {
        true => format!("{label} [excluded]"),
        false => label,
    }
}

fn finding_subject(finding: &Finding, audit: &Audit) -> String {
    match &finding.account_id {
        Some(id) => audit
            .accounts
            .iter()
            .find(|row| &row.account_id == id)
            .map_or_else(|| id.to_string(), label),
        None => match (&finding.about.location, &finding.about.address) {
            (Some(location), _) => location.to_string(),
            (None, Some(address)) => address.clone(),
            (None, None) if !finding.about.accounts.is_empty() => {
                crate::model::count(finding.about.accounts.len(), "account")
            }
            (None, None) => "contacts".to_owned(),
        },
    }
}

/// The controls a finding fails, for a person.
fn controls(finding: &Finding) -> String {
    let labels: Vec<&str> = finding.controls.iter().map(|c| c.label()).collect();
    format!("fails: {}", labels.join(", "))
}

pub fn human(audit: &Audit, header: &Header, paint: Paint) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "altcontacts audit: {}", header.target);
    if let Some(member_role) = &header.member_role {
        let _ = writeln!(out, "{}", member_role.summary());
    }
    out.push('\n');
    let width = audit
        .accounts
        .iter()
        .map(|row| printable(&label(row)).chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let _ = writeln!(out, "{:width$}  SECURITY  BILLING  OPERATIONS", "Account");
    // Each mark is padded to its column's header; the last one is not, so
    // no line ends in spaces.
    let mark = |set: bool, column: &str| {
        let (word, style) = if set {
            ("yes", Style::new().green())
        } else {
            ("NO", Style::new().red().bold())
        };
        let pad = column.len().saturating_sub(word.len());
        format!("{}{}", paint.paint(word, style), " ".repeat(pad))
    };
    for row in &audit.accounts {
        let _ = writeln!(
            out,
            "{:width$}  {}  {}  {}",
            printable(&label(row)),
            mark(row.security, "SECURITY"),
            mark(row.billing, "BILLING"),
            mark(row.operations, "")
        );
    }
    if !audit.findings.is_empty() {
        let _ = writeln!(out, "\nFindings:");
        for finding in &audit.findings {
            let (text, style) = match finding.severity {
                Severity::High => ("HIGH  ", Style::new().red().bold()),
                Severity::Medium => ("MEDIUM", Style::new().yellow()),
                Severity::Low => ("LOW   ", Style::new().dimmed()),
            };
            let _ = writeln!(
                out,
                "  {} {}: {}",
                paint.paint(text, style),
                printable(&finding_subject(finding, audit)),
                printable(&finding.message)
            );
            if !finding.controls.is_empty() {
                let _ = writeln!(
                    out,
                    "         {}",
                    paint.paint(&controls(finding), Style::new().dimmed())
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{}",
        paint.paint(&summary_line(audit), Style::new().bold())
    );
    out
}

#[derive(Serialize)]
struct JsonAudit<'a> {
    format_version: u32,
    target: &'a str,
    compliant: bool,
    accounts: &'a [AccountRow],
    findings: &'a [Finding],
    #[serde(skip_serializing_if = "Option::is_none")]
    member_role: Option<&'a crate::model::MemberRoleUse>,
    /// With `--security-hub`: what was sent, and what became of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    security_hub: Option<&'a crate::findings::asff::Sent>,
}

pub fn json(
    audit: &Audit,
    header: &Header,
    security_hub: Option<&crate::findings::asff::Sent>,
) -> String {
    let json = JsonAudit {
        security_hub,
        format_version: super::json::FORMAT_VERSION,
        target: &header.target,
        member_role: header.member_role.as_ref(),
        compliant: audit.findings.is_empty(),
        accounts: &audit.accounts,
        findings: &audit.findings,
    };
    let mut text = serde_json::to_string_pretty(&json).expect("plain data serializes");
    text.push('\n');
    text
}

pub fn markdown(audit: &Audit, header: &Header) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### altcontacts audit\n\n**{}**\n\nOn {}.\n",
        summary_line(audit),
        header.target
    );
    if let Some(member_role) = &header.member_role {
        let _ = writeln!(out, "{}.\n", cell(&member_role.summary()));
    }
    if !audit.findings.is_empty() {
        let _ = writeln!(
            out,
            "| Severity | Subject | Finding | Controls |\n|---|---|---|---|"
        );
        for finding in &audit.findings {
            let _ = writeln!(
                out,
                "| {:?} | {} | {} | {} |",
                finding.severity,
                cell(&finding_subject(finding, audit)),
                cell(&finding.message),
                finding
                    .controls
                    .iter()
                    .map(|control| control.label())
                    .collect::<Vec<_>>()
                    .join("<br>")
            );
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "<details><summary>Contacts per account ({})</summary>\n",
        audit.accounts.len()
    );
    let _ = writeln!(
        out,
        "| Account | SECURITY | BILLING | OPERATIONS |\n|---|---|---|---|"
    );
    let mark = |set: bool| if set { "✅" } else { "❌" };
    for row in &audit.accounts {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&label(row)),
            mark(row.security),
            mark(row.billing),
            mark(row.operations)
        );
    }
    let _ = writeln!(out, "\n</details>");
    out
}
