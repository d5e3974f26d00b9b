//! The plan as GitHub-flavoured Markdown, for a pull-request comment or
//! `$GITHUB_STEP_SUMMARY`: the summary first, then a table of changes,
//! folded away when the plan is large.

use std::fmt::Write;

use super::PlanView;
use crate::model::count;
use crate::plan::{Change, ChangeKind};
use crate::render::account_label;
use crate::render::markdown::{cell, code};

/// Above this many changes the table is collapsed, so a comment on a big
/// plan stays readable.
const OPEN_TABLE_AT_MOST: usize = 20;

fn icon(action: ChangeKind) -> &'static str {
    match action {
        ChangeKind::Create => "🟢 create",
        ChangeKind::Update => "🟡 update",
        ChangeKind::Delete => "🔴 delete",
        ChangeKind::Subscribe => "🔵 subscribe",
    }
}

fn field_changes(change: &Change) -> String {
    if let Some(topic) = change.action.topic() {
        return format!("subscribe to {}", code(topic.as_str()));
    }
    change
        .action
        .field_changes()
        .into_iter()
        .map(|(field, before, after)| match (before, after) {
            (Some(before), Some(after)) => {
                format!("{field}: ~~{}~~ → {}", code(before), code(after))
            }
            (None, Some(after)) => format!("{field}: {}", code(after)),
            (Some(before), None) => format!("{field}: ~~{}~~", code(before)),
            (None, None) => String::new(),
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

/// Where a plan too big for its place is to be read in full, and why it
/// did not fit: what a shortened plan says instead of the changes it
/// leaves out.
#[derive(Clone, Debug)]
pub struct Budget {
    /// The most bytes the text may take (a byte budget also bounds the
    /// characters GitHub counts).
    pub max_bytes: usize,
    /// Why there is a limit, e.g. "a pull-request comment holds at most
    /// 65,536 characters".
    pub limit: String,
    /// Where the full plan is, as Markdown.
    pub full_plan: String,
}

/// A plan laid out within a [`Budget`], and how many changes it shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fitted {
    pub text: String,
    pub shown: usize,
    pub left_out: usize,
}

/// The whole plan.
pub fn plan(view: &PlanView) -> String {
    let rows: Vec<String> = view.changes().iter().map(table_row).collect();
    let mut out = head(view);
    out.push_str(&table(&rows.iter().map(String::as_str).collect::<Vec<_>>()));
    out.push_str(&skipped(view, None));
    out
}

/// The plan within `budget`: the summary, the safety lines and the skipped
/// accounts whole, then as many changes as fit, deletes first, then
/// updates, then creates (what a reviewer must see first), and a note of
/// how many were left out and where the full plan is.
pub fn plan_within(view: &PlanView, budget: &Budget) -> Fitted {
    let whole = plan(view);
    let total = view.changes().len();
    if whole.len() <= budget.max_bytes {
        return Fitted {
            text: whole,
            shown: total,
            left_out: 0,
        };
    }
    let by_priority = |kind: ChangeKind| {
        view.changes()
            .iter()
            .filter(move |change| change.action.kind() == kind)
            .map(table_row)
    };
    let rows: Vec<String> = by_priority(ChangeKind::Delete)
        .chain(by_priority(ChangeKind::Update))
        .chain(by_priority(ChangeKind::Subscribe))
        .chain(by_priority(ChangeKind::Create))
        .collect();
    let head = head(view);
    // The skipped accounts are kept whole unless they alone overflow, as a
    // list of thousands of suspended accounts could.
    let mut tail = skipped(view, None);
    let note = |shown: usize| {
        format!(
            "> [!NOTE]\n> {} of {} changes are not shown here: {}. Deletes are shown first, then updates, then subscriptions, then creates. The full plan: {}.\n\n",
            total - shown,
            total,
            budget.limit,
            budget.full_plan
        )
    };
    if head.len() + note(0).len() + tail.len() > budget.max_bytes {
        tail = skipped(view, Some(&budget.full_plan));
    }
    let fixed = head.len() + note(0).len() + tail.len();
    let mut rows_bytes = 0;
    let mut shown = 0;
    for row in &rows {
        let (opening, closing) = table_frame(shown + 1);
        if fixed + opening.len() + closing.len() + rows_bytes + row.len() > budget.max_bytes {
            break;
        }
        rows_bytes += row.len();
        shown += 1;
    }
    let chosen: Vec<&str> = rows[..shown].iter().map(String::as_str).collect();
    let mut text = head;
    if shown < total {
        text.push_str(&note(shown));
    }
    text.push_str(&table(&chosen));
    text.push_str(&tail);
    Fitted {
        text,
        shown,
        left_out: total - shown,
    }
}

/// The title, the summary line, the scope, and the safety lines.
fn head(view: &PlanView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### altcontacts plan\n");
    let _ = writeln!(out, "**{}**\n", view.summary_line());
    let _ = writeln!(
        out,
        "{} in scope on {}, caller `{}`.",
        count(view.accounts_in_scope(), "account"),
        view.header.target,
        view.header.caller
    );
    if let Some(member_role) = &view.header.member_role {
        let _ = writeln!(out, "{}.", cell(&member_role.summary()));
    }
    if view.plan.not_read > 0 {
        let _ = writeln!(
            out,
            "{} managed contacts were not read: unchanged since the base file, including those of accounts that joined since (`--joined-since` or a full plan covers them).",
            view.plan.not_read
        );
    }
    if let Some(line) = view.joined_since_line() {
        let _ = writeln!(out, "{line}");
    }
    if let Some(line) = view.unchecked_line() {
        let _ = writeln!(out, "{}", cell(&line));
    }
    if view.summary().update + view.summary().delete > 0 {
        let _ = writeln!(
            out,
            "Checked against the safety limits: {}.",
            view.limits.describe()
        );
    }
    for warning in &view.plan.warnings {
        let _ = writeln!(
            out,
            "Warning: {} (`{}:{}:{}`): {}.",
            cell(&warning.kind.message()),
            warning.file,
            warning.line,
            warning.column,
            cell(warning.kind.help())
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
    out
}

fn table_row(change: &Change) -> String {
    format!(
        "| {} | {} | {} | {} | {} |\n",
        icon(change.action.kind()),
        cell(&change.account_label()),
        change.slot.kind,
        field_changes(change),
        code(&change.source.to_string())
    )
}

/// The table of `rows` (each a line).
fn table(rows: &[&str]) -> String {
    let (opening, closing) = table_frame(rows.len());
    let mut out = opening;
    for row in rows {
        out.push_str(row);
    }
    out.push_str(&closing);
    out
}

/// What goes before and after a table of `rows` rows: its header, and the
/// fold that hides a table longer than a screenful.
fn table_frame(rows: usize) -> (String, String) {
    let (mut opening, mut closing) = (String::new(), String::new());
    if rows == 0 {
        return (opening, closing);
    }
    let collapsed = rows > OPEN_TABLE_AT_MOST;
    if collapsed {
        let _ = writeln!(opening, "<details><summary>Show {rows} changes</summary>\n");
    }
    let _ = writeln!(opening, "| Action | Account | Contact | Changes | From |");
    let _ = writeln!(opening, "|---|---|---|---|---|");
    if collapsed {
        let _ = writeln!(closing, "\n</details>");
    }
    closing.push('\n');
    (opening, closing)
}

/// The accounts out of scope: each listed, or counted with where the full
/// plan (`listed_in`) lists them.
fn skipped(view: &PlanView, listed_in: Option<&str>) -> String {
    let mut out = String::new();
    let (inactive, management) = view.skipped_by_reason();
    for skipped in management {
        let _ = writeln!(
            out,
            "Skipped {}: {}.\n",
            cell(&account_label(&skipped.id, skipped.name.as_deref())),
            skipped.reason.explain()
        );
    }
    if inactive.is_empty() {
        return out;
    }
    if let Some(full_plan) = listed_in {
        let _ = writeln!(
            out,
            "Skipped, not ACTIVE: {}, listed in the full plan: {full_plan}.\n",
            count(inactive.len(), "account")
        );
        return out;
    }
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccountId, AccountStatus, SkipReason, SkippedAccount};
    use crate::render::plan::fixtures::{plan_of, view};

    fn budget(max_bytes: usize) -> Budget {
        Budget {
            max_bytes,
            limit: "a pull-request comment holds at most 65,536 characters".into(),
            full_plan: "the `altcontacts-plan` artifact".into(),
        }
    }

    #[test]
    fn a_plan_that_fits_is_the_whole_plan() {
        let changes = plan_of(5);
        let view = view(&changes);
        let fitted = plan_within(&view, &budget(1 << 20));
        assert_eq!(fitted.text, plan(&view));
        assert_eq!((fitted.shown, fitted.left_out), (15, 0));
    }

    #[test]
    fn a_plan_too_big_keeps_its_summary_and_skips_and_shows_deletes_then_updates_first() {
        let changes = plan_of(3_000);
        let view = view(&changes);
        assert!(plan(&view).len() > 1_000_000);
        let fitted = plan_within(&view, &budget(65_536));
        assert!(fitted.text.len() <= 65_536, "{}", fitted.text.len());
        assert!(fitted.shown > 100, "{} shown", fitted.shown);
        assert_eq!(fitted.shown + fitted.left_out, 9_000);
        let text = &fitted.text;
        assert!(
            text.contains("**Plan: 3000 to create, 3000 to update, 3000 to delete, 0 unchanged.**")
        );
        assert!(text.contains(&format!(
            "{} of 9000 changes are not shown here",
            fitted.left_out
        )));
        assert!(text.contains("The full plan: the `altcontacts-plan` artifact."));
        assert!(text.contains("Skipped, not ACTIVE (1)") && text.contains("999999999990"));
        let kinds: Vec<&str> = text
            .lines()
            .filter_map(|line| line.strip_prefix("| "))
            .filter_map(|line| line.split(' ').nth(1))
            .filter(|kind| ["create", "update", "delete"].contains(kind))
            .collect();
        assert_eq!(kinds.len(), fitted.shown);
        let first_non_delete = kinds
            .iter()
            .position(|kind| *kind != "delete")
            .unwrap_or(kinds.len());
        assert!(
            kinds[first_non_delete..]
                .iter()
                .all(|kind| *kind != "delete"),
            "deletes first"
        );
        assert!(text.contains(&format!("Show {} changes", fitted.shown)));

        let summary = plan_within(&view, &budget(1 << 20));
        assert!(summary.text.len() <= 1 << 20);
        assert!(summary.shown > fitted.shown);
        let kinds_in_summary = summary.text.matches("| 🟡 update |").count();
        assert_eq!(
            kinds_in_summary,
            summary.shown - 3_000,
            "all deletes, then updates"
        );
    }

    #[test]
    fn thousands_of_skipped_accounts_are_counted_when_listing_them_would_not_fit() {
        let mut changes = plan_of(10);
        for n in 0..5_000u64 {
            changes.skipped.push(SkippedAccount {
                id: AccountId::parse(&format!("{:012}", 500_000_000_000 + n)).unwrap(),
                name: Some(format!("Closed {n}")),
                status: AccountStatus::Suspended,
                reason: SkipReason::NotActive,
            });
        }
        let fitted = plan_within(&view(&changes), &budget(65_536));
        assert!(fitted.text.len() <= 65_536);
        assert!(
            fitted.text.contains("Skipped, not ACTIVE: 5001 accounts, listed in the full plan: the `altcontacts-plan` artifact."),
            "{}",
            fitted.text
        );
        assert_eq!(fitted.left_out, 0);
        assert!(!fitted.text.contains("not shown here"));
    }
}
