//! The plan for a terminal or a CI log: one block per change, field-level
//! before → after, the changed characters highlighted when colored.

use std::fmt::Write;

use owo_colors::Style;

use crate::model::count;
use crate::plan::ChangeKind;

use super::{Compact, PlanView};
use crate::plan::Change;
use crate::render::{Paint, Piece, account_label, inline_diff, printable};

fn action_style(action: ChangeKind) -> (&'static str, Style) {
    match action {
        ChangeKind::Create => ("+", Style::new().green()),
        ChangeKind::Update => ("~", Style::new().yellow()),
        ChangeKind::Delete => ("-", Style::new().red()),
        ChangeKind::Subscribe => ("+", Style::new().cyan()),
    }
}

fn quoted(pieces: &[Piece], paint: Paint, changed: Style) -> String {
    let body: String = pieces
        .iter()
        .map(|piece| {
            if piece.changed {
                paint.paint(&piece.text, changed)
            } else {
                piece.text.clone()
            }
        })
        .collect();
    format!("\"{body}\"")
}

fn change_block(out: &mut String, change: &Change, paint: Paint) {
    let kind = change.action.kind();
    let (marker, style) = action_style(kind);
    let _ = writeln!(
        out,
        "{} {} {}  {}",
        paint.paint(&format!("{marker} {}", kind.name()), style.bold()),
        paint.paint(&printable(&change.account_label()), Style::new().bold()),
        paint.paint(&change.what(), Style::new().bold()),
        paint.paint(
            &format!("(from {})", printable(&change.source.to_string())),
            Style::new().dimmed()
        ),
    );
    if change.action.topic().is_some() {
        let _ = writeln!(
            out,
            "    the contact is unsubscribed from these AWS Health notices (AWS User Notifications)"
        );
    }
    let fields = change.action.field_changes();
    let width = fields
        .iter()
        .map(|(field, ..)| field.len() + 1)
        .max()
        .unwrap_or(0);
    for (field, before, after) in &fields {
        let label = format!("{field}:");
        let value = match (before, after) {
            (Some(before), Some(after)) => {
                let (old, new) = inline_diff(&printable(before), &printable(after));
                format!(
                    "{} → {}",
                    quoted(&old, paint, Style::new().red().bold().underline()),
                    quoted(&new, paint, Style::new().green().bold().underline())
                )
            }
            (None, Some(only)) | (Some(only), None) => {
                paint.paint(&format!("\"{}\"", printable(only)), style)
            }
            (None, None) => String::new(),
        };
        let _ = writeln!(out, "    {label:width$} {value}");
    }
    out.push('\n');
}

/// A change in one line: what, where, the gist of the values, and the
/// layer it comes from.
fn change_line(out: &mut String, change: &Change, paint: Paint) {
    let kind = change.action.kind();
    let (marker, style) = action_style(kind);
    let fields = change.action.field_changes();
    let gist = match kind {
        // What the new contact is: its address (the primary's name).
        ChangeKind::Create => fields
            .iter()
            .find(|(field, ..)| *field == "email_address")
            .or(fields.first())
            .and_then(|(_, _, after)| after.as_deref())
            .map(|value| format!("  {}", printable(value))),
        // Which fields change; the address, the one a reader checks, with
        // its values.
        ChangeKind::Update => Some(format!(
            "  {}",
            fields
                .iter()
                .map(|(field, before, after)| match (*field, before, after) {
                    ("email_address", Some(before), Some(after)) =>
                        format!("email_address {} → {}", printable(before), printable(after)),
                    (field, ..) => field.to_owned(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        )),
        ChangeKind::Delete | ChangeKind::Subscribe => None,
    };
    let _ = writeln!(
        out,
        "{} {} {}{}  {}",
        paint.paint(&format!("{marker} {}", kind.name()), style),
        printable(&change.account_label()),
        change.what(),
        gist.unwrap_or_default(),
        paint.paint(
            &format!("(from {})", printable(&change.source.to_string())),
            Style::new().dimmed()
        ),
    );
}

pub fn plan(view: &PlanView, paint: Paint) -> String {
    let mut out = String::new();
    let accounts = count(view.accounts_in_scope(), "account");
    let _ = writeln!(
        out,
        "altcontacts plan: {}, caller {}, {accounts} in scope",
        view.header.target, view.header.caller
    );
    if let Some(member_role) = &view.header.member_role {
        let _ = writeln!(out, "{}", member_role.summary());
    }
    if view.plan.not_read > 0 {
        let _ = writeln!(
            out,
            "{} managed contacts not read: their desired value is the same as in the base file. \
             That includes accounts that joined the organization since: `--joined-since` or a full plan covers them.",
            view.plan.not_read
        );
    }
    if let Some(line) = view.joined_since_line() {
        let _ = writeln!(out, "{line}");
    }
    out.push('\n');
    if view.is_compact() {
        for change in view.changes() {
            change_line(&mut out, change, paint);
        }
        if view.layout == Compact::Auto {
            let _ = writeln!(
                out,
                "({} changes, one line each: --compact never shows each field by field, --format json has them all.)",
                view.changes().len()
            );
        }
        out.push('\n');
    } else {
        for change in view.changes() {
            change_block(&mut out, change, paint);
        }
    }
    let (inactive, management) = view.skipped_by_reason();
    if !inactive.is_empty() {
        let _ = writeln!(out, "Skipped, not ACTIVE:");
        for skipped in inactive {
            let _ = writeln!(
                out,
                "  {} {}",
                printable(&account_label(&skipped.id, skipped.name.as_deref())),
                skipped.status
            );
        }
        out.push('\n');
    }
    for skipped in management {
        let _ = writeln!(
            out,
            "Skipped {}: {}.\n",
            printable(&account_label(&skipped.id, skipped.name.as_deref())),
            skipped.reason.explain()
        );
    }
    if let Some(line) = view.unchecked_line() {
        let _ = writeln!(out, "{line}\n");
    }
    for breach in &view.breaches {
        let warning = format!(
            "Safety limit: {}. apply will refuse this plan unless --force.",
            breach.describe()
        );
        let _ = writeln!(
            out,
            "{}",
            paint.paint(&warning, Style::new().yellow().bold())
        );
    }
    if view.summary().update + view.summary().delete > 0 {
        let _ = writeln!(out, "Safety limits: {}.", view.limits.describe());
    }
    if !view.breaches.is_empty() || view.summary().update + view.summary().delete > 0 {
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{}",
        paint.paint(&view.summary_line(), Style::new().bold())
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::plan::fixtures::{plan_of, view};

    #[test]
    fn compact_is_one_line_a_change_with_the_address_it_changes() {
        let changes = plan_of(2);
        let text = plan(&view(&changes).laid_out(Compact::Always), Paint(false));
        let lines: Vec<&str> = text.lines().filter(|l| l.contains("(from ")).collect();
        assert_eq!(lines.len(), 6, "{text}");
        assert!(lines.iter().any(|l| l.starts_with("+ create 100000000000 (Account 0) SECURITY  new@example.com  (from organization.defaults)")), "{text}");
        assert!(lines.iter().any(|l| l.contains("~ update 100000000001 (Account 1) SECURITY  email_address old@example.com → new@example.com  (from ")), "{text}");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("- delete 100000000002 (Account 2) SECURITY  (from ")),
            "{text}"
        );
        assert!(
            !text.contains("one line each"),
            "asked for, not chosen: no note"
        );
        assert!(
            text.ends_with("Plan: 2 to create, 2 to update, 2 to delete, 0 unchanged.\n"),
            "{text}"
        );
    }

    #[test]
    fn above_a_thousand_changes_the_plan_is_compact_unless_told_never() {
        let small = plan_of(300);
        let text = plan(&view(&small), Paint(false));
        assert!(
            text.contains("    email_address: "),
            "900 changes: a block each"
        );
        let large = plan_of(334);
        let text = plan(&view(&large), Paint(false));
        assert!(
            !text.contains("    email_address: "),
            "1,002 changes: a line each"
        );
        assert!(
            text.contains(
                "(1002 changes, one line each: --compact never shows each field by field"
            ),
            "{}",
            &text[text.len() - 400..]
        );
        let full = plan(&view(&large).laid_out(Compact::Never), Paint(false));
        assert!(full.contains("    email_address: "));
    }
}
