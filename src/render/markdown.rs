//! The plan as GitHub-flavoured Markdown, for a pull-request comment or
//! `$GITHUB_STEP_SUMMARY`: the summary first, then a table of changes,
//! folded away when the plan is large.

use std::fmt::Write;

use super::{ChangeRow, PlanView, account_label, printable};
use crate::model::count;
use crate::plan::ChangeKind;

/// Above this many changes the table is collapsed, so a comment on a big
/// plan stays readable.
const OPEN_TABLE_AT_MOST: usize = 20;

/// Plain text, safe anywhere in a line and inside a table cell: every
/// character that Markdown or HTML could read as syntax is escaped, so a
/// name read from AWS cannot become a link, an image, formatting, a tag or
/// a new cell. Control characters are shown escaped.
pub fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in printable(text).chars() {
        // `:`, `@` and `.` too: GitHub links bare `http://`, `www.` and
        // e-mail addresses.
        if "\\`*_[]<>|~&:@.".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A value in a code span that nothing inside can close: the fence is one
/// backtick longer than the longest run of backticks in the text (CommonMark
/// 6.1). Pipes are escaped, which GitHub's tables require even inside code.
pub fn code(text: &str) -> String {
    let text = printable(text).replace('|', "\\|");
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    // A space keeps a leading or trailing backtick off the fence; CommonMark
    // strips one space from each side of the content.
    let pad = if text.starts_with('`') || text.ends_with('`') || text.starts_with(' ') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

fn icon(action: ChangeKind) -> &'static str {
    match action {
        ChangeKind::Create => "🟢 create",
        ChangeKind::Update => "🟡 update",
        ChangeKind::Delete => "🔴 delete",
    }
}

fn field_changes(row: &ChangeRow) -> String {
    row.fields
        .iter()
        .map(|field| match (&field.before, &field.after) {
            (Some(before), Some(after)) => {
                format!("{}: ~~{}~~ → {}", field.field, code(before), code(after))
            }
            (None, Some(after)) => format!("{}: {}", field.field, code(after)),
            (Some(before), None) => format!("{}: ~~{}~~", field.field, code(before)),
            (None, None) => String::new(),
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

pub fn plan(view: &PlanView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### altcontacts plan\n");
    let _ = writeln!(out, "**{}**\n", view.summary_line());
    let _ = writeln!(
        out,
        "{} in scope on {}, caller `{}`.",
        count(view.accounts_in_scope, "account"),
        view.header.target,
        view.header.caller
    );
    if view.not_read > 0 {
        let _ = writeln!(
            out,
            "{} managed contacts were not read: unchanged since the base file, including those of accounts that joined since (`--joined-since` or a full plan covers them).",
            view.not_read
        );
    }
    if let Some(line) = view.joined_since_line() {
        let _ = writeln!(out, "{line}");
    }
    if view.summary.update + view.summary.delete > 0 {
        let _ = writeln!(
            out,
            "Checked against the safety limits: {}.",
            view.limits.describe()
        );
    }
    out.push('\n');
    for breach in &view.breaches {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> Safety limit: {}. `apply` will refuse this plan unless `--force`.\n",
            breach.describe()
        );
    }
    if !view.rows.is_empty() {
        let collapsed = view.rows.len() > OPEN_TABLE_AT_MOST;
        if collapsed {
            let _ = writeln!(
                out,
                "<details><summary>Show {} changes</summary>\n",
                view.rows.len()
            );
        }
        let _ = writeln!(out, "| Action | Account | Contact | Changes | From |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for row in &view.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                icon(row.action),
                cell(&row.account_label()),
                row.contact_type,
                field_changes(row),
                code(&row.source)
            );
        }
        if collapsed {
            let _ = writeln!(out, "\n</details>");
        }
        out.push('\n');
    }
    let (inactive, management) = view.skipped_by_reason();
    for skipped in management {
        let _ = writeln!(
            out,
            "Skipped {}: {}.\n",
            cell(&account_label(&skipped.id, skipped.name.as_deref())),
            skipped.reason.explain()
        );
    }
    if !inactive.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Skipped, not ACTIVE ({})</summary>\n",
            inactive.len()
        );
        for skipped in inactive {
            let _ = writeln!(
                out,
                "- {} {}",
                cell(&account_label(&skipped.id, skipped.name.as_deref())),
                skipped.status
            );
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    out
}
