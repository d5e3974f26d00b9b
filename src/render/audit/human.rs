//! The audit for a terminal: a table of which contacts each account has,
//! then the findings, then the summary line.

use std::fmt::Write;

use owo_colors::Style;

use super::{AuditView, controls, finding_subject, label, muted_line, summary_line};
use crate::audit::Severity;
use crate::render::{Paint, printable};

/// The severity, padded to the widest.
fn padded_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "HIGH  ",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW   ",
    }
}

pub fn report(view: &AuditView, paint: Paint) -> String {
    let (audit, header) = (view.audit, view.header);
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
            let style = match finding.severity {
                Severity::High => Style::new().red().bold(),
                Severity::Medium => Style::new().yellow(),
                Severity::Low => Style::new().dimmed(),
            };
            let text = padded_severity(finding.severity);
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
    if let Some(why) = audit.dns.not_asked_because() {
        let _ = writeln!(out, "\nDeliverability not checked: {why}.");
    }
    if !audit.muted.is_empty() {
        let _ = writeln!(out, "\nMuted (accepted until their date; not counted):");
        for muted in &audit.muted {
            let finding = &muted.finding;
            let _ = writeln!(
                out,
                "  {} {}: {}",
                paint.paint(padded_severity(finding.severity), Style::new().dimmed()),
                printable(&finding_subject(finding, audit)),
                printable(&finding.message)
            );
            let _ = writeln!(
                out,
                "         {}",
                paint.paint(&printable(&muted_line(&muted.muted)), Style::new().dimmed())
            );
        }
    }
    let _ = writeln!(
        out,
        "\n{}",
        paint.paint(&summary_line(audit), Style::new().bold())
    );
    out
}
