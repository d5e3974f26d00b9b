//! Writing a plan's changes as every command that writes does: refused past
//! the safety limits, interruptible, and reported once.

use std::sync::Arc;

use super::{Context, Session};
use crate::apply::{self, Ledger, Verify};
use crate::error::{Error, Refusal};
use crate::plan::Plan;
use crate::progress::Progress;
use crate::render::apply::ApplyFormat;
use crate::safety::Breach;

/// Refuses a plan that exceeds a safety limit, unless `force`.
pub fn refuse_on_breaches(breaches: &[Breach], force: bool) -> Result<(), Error> {
    if breaches.is_empty() || force {
        return Ok(());
    }
    Err(Error::Refused(Refusal::SafetyLimits(breaches.to_vec())))
}

/// Writes the plan's changes, prints the report and returns it. An
/// interrupt starts no new write; a second one prints the report as it
/// stands and quits (see [`crate::interrupt`]).
pub async fn write(
    context: &Context,
    session: &Session,
    plan: &Plan,
    shown: ApplyFormat,
) -> apply::Report {
    let interrupts = &context.interrupts;
    let ledger = Arc::new(Ledger::new(plan.changes.clone()));
    let gate = interrupts.gate();
    let paint = context.paint;
    let header = session.header();
    let standing = Arc::clone(&ledger);
    let standing_header = header.clone();
    interrupts.writing(Box::new(move || {
        print!(
            "{}",
            shown.render(&standing.report(true), &standing_header, paint)
        );
    }));
    let progress = Progress::start(&context.ui, "applying", plan.changes.len() as u64);
    let report = apply::apply(
        &session.api,
        &ledger,
        &session.caller,
        &gate,
        Verify::default(),
        &progress,
    )
    .await;
    progress.finish();
    if interrupts.claim_report() {
        // The header as it is now: the accounts the writes sent through
        // the caller are among those named.
        print!("{}", shown.render(&report, &session.header(), paint));
    }
    report
}
