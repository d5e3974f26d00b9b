//! The plan for a terminal or a CI log: one block per change, field-level
//! before → after, the changed characters highlighted when colored.

use std::fmt::Write;

use owo_colors::Style;

use crate::model::count;
use crate::plan::ChangeKind;

use super::PlanView;
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
    for change in view.changes() {
        change_block(&mut out, change, paint);
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
