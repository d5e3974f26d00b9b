//! The outcome of an apply: one line per change, then the summary line.

use std::collections::BTreeMap;
use std::fmt::Write;

use owo_colors::Style;

use super::{Paint, account_label};
use crate::apply::{Outcome, Report};
use crate::backend::error::distinct_help;
use crate::model::{AccountId, AccountInfo};

pub fn apply_report(
    report: &Report,
    accounts: &BTreeMap<AccountId, AccountInfo>,
    paint: Paint,
) -> String {
    let mut out = String::new();
    for result in &report.results {
        let slot = &result.change.slot;
        let label = account_label(
            &slot.account,
            accounts
                .get(&slot.account)
                .and_then(|info| info.name.as_deref()),
        );
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
    let counts = report.counts();
    let line = if report.interrupted {
        format!(
            "Apply interrupted: {} created, {} updated, {} deleted, {} failed, {} not started.",
            counts.created, counts.updated, counts.deleted, counts.failed, counts.not_started
        )
    } else {
        format!(
            "Apply complete: {} created, {} updated, {} deleted, {} failed.",
            counts.created, counts.updated, counts.deleted, counts.failed
        )
    };
    let style = if report.succeeded() {
        Style::new().green().bold()
    } else {
        Style::new().red().bold()
    };
    let _ = writeln!(out, "\n{}", paint.paint(&line, style));
    out
}
