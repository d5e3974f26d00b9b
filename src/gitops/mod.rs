//! The GitOps loop, once for every forge: what it decides, with the forge
//! behind the [`Forge`] interface.
//!
//! - `plan` (a review: pull or merge request): the plan against the
//!   review's base, in one note edited on every push and in the job's
//!   summary where the CI has one, each within the forge's limits.
//! - `apply` (the default branch, and on a schedule): everything merged
//!   since the last apply that fully succeeded, recorded when it does; never
//!   the previous commit, so a push of several commits, a run that never
//!   ran or one that failed leaves nothing unapplied.
//! - `drift` (nightly): every managed contact; one issue while AWS differs
//!   from the file, closed with a note when it matches again.

mod apply;
pub mod bitbucket;
mod drift;
pub mod forge;
pub mod github;
pub mod gitlab;
mod on_lines;
mod record;
pub(crate) mod registry;
mod remarks;
mod review;

use std::path::Path;

use crate::cli::{LoopCommand, SafetyArgs};
use crate::config::{ConfigError, LoadedConfig};
use crate::error::Error;
use crate::git::Repository;
use crate::plan::Plan;
use crate::printable::thousands;
use crate::render::PlanView;
use crate::safety::{self, SafetyCheck};
use crate::session::{Context, Request, Session};
pub use forge::{Applying, Ended, Forge, Honours, RecordKey, Recorded, Terms, Upserted};

/// Runs one step of the loop on `forge`.
pub async fn run<F: Forge>(
    context: &Context,
    forge: &F,
    command: &LoopCommand,
) -> Result<u8, Error> {
    // Boxed: each step's future is deep enough to exceed the compiler's
    // layout limit when nested in the dispatch.
    match command {
        LoopCommand::Plan(args) => Box::pin(review::plan(context, forge, args)).await,
        LoopCommand::Apply(args) => Box::pin(apply::apply(context, forge, args)).await,
        LoopCommand::Drift(args) => Box::pin(drift::drift(context, forge, args)).await,
    }
}

/// A plan and what it was checked against, ready to show.
struct Planned {
    session: Session,
    plan: Plan,
    checked: SafetyCheck,
}

impl Planned {
    fn view(&self) -> PlanView<'_> {
        PlanView::new(&self.plan, self.session.header(), self.checked.clone())
    }
}

/// The contacts file, its problems put on their lines of the review when
/// it is invalid.
async fn load<F: Forge>(
    forge: &F,
    file: &Path,
    artifact: Option<&str>,
) -> Result<LoadedConfig, Error> {
    match LoadedConfig::load(file) {
        Ok(config) => Ok(config),
        Err(error) => {
            if let ConfigError::Problems(problems) = &error {
                forge.report_problems(artifact, problems).await?;
            }
            Err(error.into())
        }
    }
}

async fn make_plan<F: Forge>(
    context: &Context,
    forge: &F,
    config: &LoadedConfig,
    request: &Request<'_>,
    safety: &SafetyArgs,
    artifact: Option<&str>,
) -> Result<Planned, Error> {
    let (session, plan, _) = context.plan(request).await?;
    context.note_warnings(&plan.warnings);
    forge.report_warnings(artifact, &plan.warnings).await?;
    let checked = safety::check_plan(&plan, &config.config.safety, safety);
    Ok(Planned {
        session,
        plan,
        checked,
    })
}

/// The contacts file as the repository names it (`infra/contacts.yaml`):
/// what the note, the record and the issue of one file are keyed on.
fn file_key(file: &Path) -> String {
    Repository::of(file)
        .path_in_repository(file)
        .unwrap_or_else(|_| file.display().to_string())
}

/// The first line of a review's plan note for `file`: how it is found again.
pub fn plan_marker(file: &str) -> String {
    format!("<!-- altcontacts plan: {file} -->")
}

/// The first line of the drift issue of `file`.
pub fn drift_marker(file: &str) -> String {
    format!("<!-- altcontacts drift: {file} -->")
}

/// Text in a fenced block no line of it can close.
fn fenced(text: &str) -> String {
    let text = &crate::printable::printable_lines(text);
    let longest = text
        .lines()
        .map(|line| line.chars().take_while(|c| *c == '`').count())
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{}\n{fence}\n", text.trim_end())
}

/// "a pull-request comment holds at most 65,536 characters".
fn note_limit_text(terms: &Terms) -> String {
    format!(
        "a {}-{} holds at most {} characters",
        terms.review.replace(' ', "-"),
        terms.note,
        thousands(terms.note_limit)
    )
}

fn issue_limit_text(terms: &Terms) -> String {
    format!(
        "an issue holds at most {} characters",
        thousands(terms.issue_limit)
    )
}

const SUMMARY_LIMIT_TEXT: &str = "a job summary holds at most 1 MiB";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_is_longer_than_any_run_of_backticks_in_the_text() {
        assert_eq!(fenced("a\n````b"), "`````text\na\n````b\n`````\n");
    }
}
