//! The outcome of an apply: one line per change, then the summary line.

use std::fmt::Write;

use owo_colors::Style;

use super::Paint;
use super::markdown::cell;
use crate::apply::{Outcome, Report};
use crate::backend::error::distinct_help;

/// The apply's outcome line: `Apply complete: ...` or `Apply interrupted: ...`.
pub fn summary_line(report: &Report) -> String {
    let counts = report.counts();
    if report.interrupted {
        let in_flight = match counts.in_flight {
            0 => String::new(),
            n => format!(" {n} in flight (outcome unknown: the next apply reads them again),"),
        };
        format!(
            "Apply interrupted: {} created, {} updated, {} deleted, {} failed,{in_flight} {} not started.",
            counts.created, counts.updated, counts.deleted, counts.failed, counts.not_started
        )
    } else {
        format!(
            "Apply complete: {} created, {} updated, {} deleted, {} failed.",
            counts.created, counts.updated, counts.deleted, counts.failed
        )
    }
}

/// The outcome as Markdown within `max_bytes`, for a job summary: the
/// summary line, then what did not succeed, then what did.
pub fn apply_markdown(report: &Report, max_bytes: usize) -> String {
    let mut head = String::new();
    let _ = writeln!(
        head,
        "### altcontacts apply\n\n**{}**\n",
        summary_line(report)
    );
    let rank = |outcome: &Outcome| match outcome {
        Outcome::Failed { .. } => 0,
        Outcome::InFlight => 1,
        Outcome::NotStarted => 2,
        Outcome::Applied => 3,
    };
    let mut results: Vec<_> = report.results.iter().collect();
    results.sort_by_key(|result| rank(&result.outcome));
    let rows: Vec<String> = results
        .iter()
        .map(|result| {
            let slot = &result.change.slot;
            let kind = result.change.action.kind();
            let outcome = match &result.outcome {
                Outcome::Applied => format!("✅ {}", kind.past_tense()),
                Outcome::Failed { reason, .. } => {
                    format!("❌ {} failed: {}", kind.name(), cell(reason))
                }
                Outcome::NotStarted => format!("⏸️ {} not started", kind.name()),
                Outcome::InFlight => format!("❔ {} in flight when the run stopped", kind.name()),
            };
            format!(
                "| {outcome} | {} | {} |\n",
                cell(&result.change.account_label()),
                slot.kind
            )
        })
        .collect();
    const TABLE: &str = "| Outcome | Account | Contact |\n|---|---|---|\n";
    let note = |left: usize| format!("\n{left} more outcomes are in the log of this run.\n");
    let mut out = head;
    if rows.is_empty() {
        return out;
    }
    out.push_str(TABLE);
    let room = max_bytes.saturating_sub(out.len() + note(rows.len()).len());
    let mut used = 0;
    let mut shown = 0;
    for row in &rows {
        if used + row.len() > room {
            break;
        }
        used += row.len();
        shown += 1;
    }
    for row in &rows[..shown] {
        out.push_str(row);
    }
    if shown < rows.len() {
        out.push_str(&note(rows.len() - shown));
    }
    out
}

pub fn apply_report(report: &Report, paint: Paint) -> String {
    let mut out = String::new();
    for result in &report.results {
        let slot = &result.change.slot;
        let label = result.change.account_label();
        let kind = result.change.action.kind();
        let _ = match &result.outcome {
            Outcome::Applied => writeln!(
                out,
                "{} {} {label} {}",
                paint.paint("✓", Style::new().green()),
                kind.past_tense(),
                slot.kind
            ),
            Outcome::Failed { reason, .. } => writeln!(
                out,
                "{} {label} {}: {}",
                paint.paint(
                    &format!("✗ {} failed", kind.name()),
                    Style::new().red().bold()
                ),
                slot.kind,
                reason
            ),
            Outcome::NotStarted => writeln!(
                out,
                "{} {label} {} (not started)",
                paint.paint("·", Style::new().dimmed()),
                slot.kind
            ),
            Outcome::InFlight => writeln!(
                out,
                "{} {label} {} (in flight when the run was stopped: it may or may not have been written)",
                paint.paint("?", Style::new().yellow().bold()),
                slot.kind
            ),
        };
    }
    let causes = report
        .results
        .iter()
        .filter_map(|result| match &result.outcome {
            Outcome::Failed { cause, .. } => cause.as_ref(),
            _ => None,
        });
    for help in distinct_help(causes) {
        let _ = writeln!(out, "  help: {help}");
    }
    let line = summary_line(report);
    let style = if report.succeeded() {
        Style::new().green().bold()
    } else {
        Style::new().red().bold()
    };
    let _ = writeln!(out, "\n{}", paint.paint(&line, style));
    out
}
