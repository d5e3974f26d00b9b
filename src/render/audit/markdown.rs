//! The audit as Markdown, for a step summary or a comment: the findings,
//! then the contacts of each account, folded.

use std::fmt::Write;

use super::{AuditView, finding_subject, label, muted_line, summary_line};
use crate::render::markdown::cell;

pub fn report(view: &AuditView) -> String {
    let (audit, header) = (view.audit, view.header);
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
    if let Some(why) = audit.dns.not_asked_because() {
        let _ = writeln!(out, "Deliverability not checked: {}.\n", cell(why));
    }
    if !audit.muted.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Muted ({}): accepted until their date, not counted</summary>\n\n| Severity | Subject | Finding | Muted |\n|---|---|---|---|",
            audit.muted.len()
        );
        for muted in &audit.muted {
            let _ = writeln!(
                out,
                "| {:?} | {} | {} | {} |",
                muted.finding.severity,
                cell(&finding_subject(&muted.finding, audit)),
                cell(&muted.finding.message),
                cell(&muted_line(&muted.muted))
            );
        }
        let _ = writeln!(out, "\n</details>\n");
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
