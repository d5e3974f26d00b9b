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

pub mod bitbucket;
pub mod forge;
pub mod github;
pub mod gitlab;
mod on_lines;
mod remarks;

use std::collections::BTreeSet;
use std::path::Path;

use crate::apply::Report;
use crate::cli::{
    DriftMode, LoopApplyArgs, LoopCommand, LoopDriftArgs, ReviewPlanArgs, SafetyArgs,
};
use crate::config::{ConfigError, LoadedConfig};
use crate::error::{EXIT_ERROR, EXIT_OK, Error};
use crate::git::Repository;
use crate::model::count;
use crate::plan::Plan;
use crate::printable::thousands;
use crate::render::{self, Budget, PlanView};
use crate::safety::{self, SafetyCheck};
use crate::session::{Base, Context, ReportFormat, Request, Session, refuse_on_breaches, write};
pub use forge::{Applying, Ended, Forge, RecordKey, Terms, Upserted};

/// Runs one step of the loop on `forge`.
pub async fn run<F: Forge>(
    context: &Context,
    forge: &F,
    command: &LoopCommand,
) -> Result<u8, Error> {
    // Boxed: each step's future is deep enough to exceed the compiler's
    // layout limit when nested in the dispatch.
    match command {
        LoopCommand::Plan(args) => Box::pin(plan(context, forge, args)).await,
        LoopCommand::Apply(args) => Box::pin(apply(context, forge, args)).await,
        LoopCommand::Drift(args) => Box::pin(drift(context, forge, args)).await,
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

async fn plan<F: Forge>(context: &Context, forge: &F, args: &ReviewPlanArgs) -> Result<u8, Error> {
    let terms = forge.terms();
    let file = args.file.path();
    let key = file_key(&file);
    let marker = plan_marker(&key);
    let review = forge.review();
    let planned = async {
        let config = load(forge, &file, Some(&args.artifact)).await?;
        let revision = match (&args.base_ref.base_ref, args.full) {
            (_, true) => None,
            (Some(revision), _) => Some(revision.clone()),
            (None, false) => {
                let base = forge.review_base(&Repository::of(&file))?;
                if base.is_none() {
                    context.ui.note(&format!(
                        "note: the CI names no {} base for this {}, so every managed contact is planned (pass --base-ref to plan a change).",
                        terms.review, terms.run
                    ));
                }
                base
            }
        };
        let base = Base::load(None, revision.as_deref(), &file)?;
        let request = Request {
            base: base.as_ref(),
            ..Request::managed(&config)
        };
        make_plan(
            context,
            forge,
            &config,
            &request,
            &args.safety,
            Some(&args.artifact),
        )
        .await
    }
    .await;
    let planned = match planned {
        Ok(planned) => planned,
        Err(error) => {
            // The reviewer sees why there is no plan, where the plan would be.
            let text = format!(
                "### altcontacts plan\n\n**altcontacts could not make the plan of `{key}`.**\n\n{}",
                fenced(&error.to_string())
            );
            forge.add_to_summary(&text)?;
            if let (true, Some(number)) = (args.comment, review) {
                remarks::upsert_note(forge, number, &marker, &format!("{marker}\n{text}")).await?;
            }
            forge.set_outputs(&[("summary", "altcontacts could not make the plan".to_owned())])?;
            return Err(error);
        }
    };
    let view = &planned.view();
    print!("{}", render::human(view, context.paint));

    let full_plan = forge.full_plan_place(&args.artifact);
    let mut left_out = 0;
    let room = forge.summary_room();
    if room > 0 {
        let summary = render::markdown_within(
            view,
            &Budget {
                max_bytes: room,
                limit: SUMMARY_LIMIT_TEXT.to_owned(),
                full_plan: full_plan.clone(),
            },
        );
        forge.add_to_summary(&summary.text)?;
        left_out = summary.left_out;
    }
    match (args.comment, review) {
        (true, Some(number)) => {
            let body = render::markdown_within(
                view,
                &Budget {
                    max_bytes: terms.note_limit - marker.len() - 1,
                    limit: note_limit_text(terms),
                    full_plan,
                },
            );
            left_out = left_out.max(body.left_out);
            let made =
                remarks::upsert_note(forge, number, &marker, &format!("{marker}\n{}", body.text))
                    .await?;
            let review = format!("{} {}{number}", terms.review, terms.review_sign);
            context.ui.note(&match made {
                Upserted::Created(_) => format!("Commented the plan on {review}."),
                Upserted::Updated(_) => format!("Updated the plan {} on {review}.", terms.note),
            });
        }
        (true, None) => context.ui.note(&format!(
            "note: this {} is not for a {}, so the plan is not commented.",
            terms.run, terms.review
        )),
        (false, _) => {}
    }
    forge.keep_full_plan(&args.artifact, &render::markdown(view), left_out > 0)?;
    forge.report_counts(&args.artifact, &view.summary()).await?;
    forge.set_outputs(&[
        ("summary", view.summary_line()),
        ("changes", view.summary().changes().to_string()),
        ("truncated", (left_out > 0).to_string()),
    ])?;
    Ok(args.detailed.exit(view.summary().changes() > 0))
}

/// What an apply bases itself on, decided from the record.
enum Since {
    /// The last apply that fully succeeded, an ancestor of this commit.
    Applied(String),
    /// Nothing to base on: every managed contact is planned.
    Everything(&'static str),
    /// This commit is the last applied one's ancestor: a newer one was
    /// applied already, so applying this one would undo it.
    Behind(String),
}

async fn since_last_apply<F: Forge>(
    forge: &F,
    record: &RecordKey,
    repository: &Repository,
    head: &str,
) -> Result<Since, Error> {
    let Some(last) = forge.last_applied(record).await? else {
        return Ok(Since::Everything(
            "no apply is recorded yet, so the whole file is applied",
        ));
    };
    if repository.commit(&last).is_err() {
        return Err(Error::usage(
            format!("the last applied commit {last} is not in this clone"),
            Some(format!(
                "check out the whole history ({})",
                forge.terms().full_history
            )),
        ));
    }
    if last == head || repository.is_ancestor(&last, head)? {
        return Ok(Since::Applied(last));
    }
    if repository.is_ancestor(head, &last)? {
        return Ok(Since::Behind(last));
    }
    Ok(Since::Everything(
        "the last applied commit is not in this branch's history (was it rewritten?), so the whole file is applied",
    ))
}

/// What an apply wrote, and how it ended.
struct Applied {
    planned: Planned,
    report: Option<Report>,
}

/// Where an apply is recorded: the record, the commit, and whether that
/// commit is the one applied last.
struct Recording<'a> {
    record: &'a RecordKey,
    head: &'a str,
    same_commit: bool,
}

/// Plans with `request`, and applies the plan, refusing it past the
/// safety limits unless `force`.
async fn plan_and_write<F: Forge>(
    context: &Context,
    forge: &F,
    config: &LoadedConfig,
    request: &Request<'_>,
    safety: &SafetyArgs,
    force: bool,
    recording: Option<Recording<'_>>,
) -> Result<Applied, Error> {
    let planned = make_plan(context, forge, config, request, safety, None).await?;
    print!("{}", render::human(&planned.view(), context.paint));
    let unchanged_commit = recording.as_ref().is_some_and(|r| r.same_commit);
    if planned.plan.changes.is_empty() && (recording.is_none() || unchanged_commit) {
        return Ok(Applied {
            planned,
            report: None,
        });
    }
    let applying = match &recording {
        Some(recording) => Some(forge.begin_apply(recording.record, recording.head).await?),
        None => None,
    };
    if let Err(refused) = refuse_on_breaches(&planned.checked.breaches, force) {
        if let (Some(recording), Some(applying)) = (&recording, applying) {
            forge
                .finish_apply(
                    recording.record,
                    applying,
                    Ended::Failed,
                    "refused: a safety limit is exceeded",
                )
                .await?;
        }
        return Err(refused);
    }
    let report = if planned.plan.changes.is_empty() {
        None
    } else {
        Some(
            write(
                context,
                &planned.session,
                &planned.plan,
                ReportFormat::Human,
            )
            .await,
        )
    };
    if let (Some(recording), Some(applying)) = (&recording, applying) {
        let (ended, description) = match &report {
            None => (
                Ended::Succeeded,
                "nothing to write: AWS already matched".to_owned(),
            ),
            Some(report) => (
                match (report.succeeded(), report.interrupted) {
                    (true, _) => Ended::Succeeded,
                    (false, true) => Ended::Interrupted,
                    (false, false) => Ended::Failed,
                },
                render::report::summary_line(report),
            ),
        };
        forge
            .finish_apply(recording.record, applying, ended, &description)
            .await?;
    }
    Ok(Applied { planned, report })
}

fn summarize_apply<F: Forge>(forge: &F, applied: &Applied) -> Result<(), Error> {
    let budget = forge.summary_room();
    if budget == 0 {
        return Ok(());
    }
    let plan = render::markdown_within(
        &applied.planned.view(),
        &Budget {
            max_bytes: budget / 2,
            limit: SUMMARY_LIMIT_TEXT.to_owned(),
            full_plan: format!("the log of {}", forge.run_link()),
        },
    );
    forge.add_to_summary(&plan.text)?;
    if let Some(report) = &applied.report {
        let text = render::report::apply_markdown(report, budget / 2);
        forge.add_to_summary(&text)?;
    }
    Ok(())
}

fn exit_code(applied: &Applied) -> u8 {
    match &applied.report {
        Some(report) if !report.succeeded() => EXIT_ERROR,
        _ => EXIT_OK,
    }
}

async fn apply<F: Forge>(context: &Context, forge: &F, args: &LoopApplyArgs) -> Result<u8, Error> {
    let file = args.file.path();
    let config = load(forge, &file, None).await?;
    let repository = Repository::of(&file);
    let head = repository.commit("HEAD")?;
    let record = RecordKey {
        environment: args.environment.clone(),
        file: file_key(&file),
        account: None,
    };
    if let Some(account) = &args.new_account.account {
        // An event's run: that account whole, recorded as its own, and
        // never as the file's (the other accounts were not looked at).
        context.ui.note(&format!(
            "Applying every managed contact of account {account}, the account of the event."
        ));
        let request = Request {
            account: Some(account.clone()),
            ..Request::managed(&config)
        };
        let recording = Recording {
            record: &record.of_account(account),
            head: &head,
            same_commit: false,
        };
        return finish_loop_apply(context, forge, args, &config, &request, recording).await;
    }
    let since = if args.full {
        Since::Everything("--full: every managed contact is applied")
    } else {
        since_last_apply(forge, &record, &repository, &head).await?
    };
    let base_commit = match &since {
        Since::Behind(last) => {
            let note = format!(
                "Nothing to apply: {head} is older than {last}, which was applied already (applying it would undo newer changes)."
            );
            context.ui.note(&note);
            forge.add_to_summary(&format!("### altcontacts apply\n\n{note}\n"))?;
            forge.set_outputs(&[("summary", note)])?;
            return Ok(EXIT_OK);
        }
        Since::Everything(why) => {
            context.ui.note(&format!("note: {why}."));
            None
        }
        Since::Applied(last) => {
            context.ui.note(&format!(
                "Applying what changed since {last}, the last commit whose apply fully succeeded."
            ));
            Some(last.clone())
        }
    };
    let same_commit = base_commit.as_deref() == Some(head.as_str());
    let base = match &base_commit {
        Some(commit) => Base::load(None, Some(commit), &file)?,
        None => None,
    };
    // The schedule is the events' safety net: an account an event's run
    // applied whole at this very commit is not read again as new.
    let applied_by_events = match args.new_accounts_since {
        Some(since) => forge.accounts_applied(&record, &head, since).await?,
        None => BTreeSet::new(),
    };
    if !applied_by_events.is_empty() {
        context.ui.note(&format!(
            "{} applied by {} at this commit already: not read again as new.",
            count(applied_by_events.len(), "account"),
            if applied_by_events.len() == 1 {
                "its event"
            } else {
                "their events"
            }
        ));
    }
    let request = Request {
        base: base.as_ref(),
        new_accounts_since: args.new_accounts_since,
        applied_by_events: Some(&applied_by_events),
        ..Request::managed(&config)
    };
    let recording = Recording {
        record: &record,
        head: &head,
        same_commit,
    };
    finish_loop_apply(context, forge, args, &config, &request, recording).await
}

/// Plans `request`, applies it, records it, and says how it went.
async fn finish_loop_apply<F: Forge>(
    context: &Context,
    forge: &F,
    args: &LoopApplyArgs,
    config: &LoadedConfig,
    request: &Request<'_>,
    recording: Recording<'_>,
) -> Result<u8, Error> {
    let applied = plan_and_write(
        context,
        forge,
        config,
        request,
        &args.safety,
        args.force,
        Some(recording),
    )
    .await?;
    summarize_apply(forge, &applied)?;
    let summary = match &applied.report {
        Some(report) => render::report::summary_line(report),
        None => applied.planned.view().summary_line(),
    };
    forge.set_outputs(&[("summary", summary)])?;
    Ok(exit_code(&applied))
}

async fn drift<F: Forge>(context: &Context, forge: &F, args: &LoopDriftArgs) -> Result<u8, Error> {
    let file = args.file.path();
    let config = load(forge, &file, None).await?;
    let key = file_key(&file);
    let repository = Repository::of(&file);
    let head = repository.commit("HEAD")?;
    let record = RecordKey {
        environment: args.environment.clone(),
        file: key.clone(),
        account: None,
    };
    let applied = if args.mode == DriftMode::Repair {
        plan_and_write(
            context,
            forge,
            &config,
            &Request::managed(&config),
            &args.safety,
            args.force,
            Some(Recording {
                record: &record,
                head: &head,
                same_commit: false,
            }),
        )
        .await?
    } else {
        let planned = make_plan(
            context,
            forge,
            &config,
            &Request::managed(&config),
            &args.safety,
            None,
        )
        .await?;
        print!("{}", render::human(&planned.view(), context.paint));
        Applied {
            planned,
            report: None,
        }
    };
    summarize_apply(forge, &applied)?;

    let marker = drift_marker(&key);
    let view = &applied.planned.view();
    let drifted = view.summary().changes();
    let repaired = applied.report.as_ref().is_some_and(Report::succeeded);
    let open = match remarks::open_issue(forge, &args.label, &marker).await? {
        remarks::Issues::On { open } => open,
        remarks::Issues::Off => return drift_without_issues(context, forge, &applied),
    };
    if drifted == 0 {
        if let Some(number) = open {
            remarks::close_issue(
                forge,
                number,
                &format!(
                    "AWS matches `{key}` again, as checked by {}.",
                    forge.run_link()
                ),
            )
            .await?;
            context.ui.note(&format!(
                "AWS matches the file again: closed issue #{number}."
            ));
        }
        forge.set_outputs(&[("summary", view.summary_line()), ("drift", "0".to_owned())])?;
        return Ok(EXIT_OK);
    }
    let last_applied = forge.last_applied(&record).await.ok().flatten();
    let body = drift_body(
        forge,
        &marker,
        view,
        &key,
        &head,
        last_applied.as_deref(),
        applied.report.as_ref(),
    );
    let title = format!("altcontacts: {} from {key}", differ(drifted));
    let number = remarks::save_issue(forge, open, &args.label, &title, &body).await?;
    if repaired {
        remarks::close_issue(
            forge,
            number,
            &format!(
                "Repaired by {}: {} written back to what `{key}` says.",
                forge.run_link(),
                count(drifted, "contact")
            ),
        )
        .await?;
        context
            .ui
            .note(&format!("Repaired the drift; issue #{number} records it."));
    } else {
        context.ui.note(&format!(
            "{} from the file: issue #{number}.",
            differ(drifted)
        ));
    }
    forge.set_outputs(&[
        ("summary", view.summary_line()),
        ("drift", drifted.to_string()),
        ("issue", number.to_string()),
    ])?;
    Ok(match &applied.report {
        Some(report) if !report.succeeded() => EXIT_ERROR,
        _ => args.detailed.exit(!repaired),
    })
}

/// "1 contact in AWS differs", "2 contacts in AWS differ".
fn differ(drifted: usize) -> String {
    format!(
        "{} in AWS {}",
        count(drifted, "contact"),
        if drifted == 1 { "differs" } else { "differ" }
    )
}

/// Drift where the repository keeps no issues: the drift is listed in the
/// log (above), and the job fails while AWS differs from the file, so the
/// failed run (and its notice) is what people see.
fn drift_without_issues<F: Forge>(
    context: &Context,
    forge: &F,
    applied: &Applied,
) -> Result<u8, Error> {
    let view = &applied.planned.view();
    let drifted = view.summary().changes();
    forge.set_outputs(&[
        ("summary", view.summary_line()),
        ("drift", drifted.to_string()),
    ])?;
    let terms = forge.terms();
    match &applied.report {
        _ if drifted == 0 => Ok(EXIT_OK),
        Some(report) if report.succeeded() => {
            context.ui.note(&format!(
                "Repaired the drift: {} written back. This repository keeps no issues, so this {} is the record ({} for one issue per drift).",
                count(drifted, "contact"),
                terms.run,
                terms.enable_issues
            ));
            Ok(EXIT_OK)
        }
        Some(_) => Ok(EXIT_ERROR),
        None => Err(crate::forge::ForgeError::setup(
            terms.forge,
            "keep the drift issue",
            format!(
                "{} from the file, and this repository keeps no issues",
                differ(drifted)
            ),
            Some(format!(
                "{} for one issue, updated while the drift lasts and closed when it ends; until then this {} fails while AWS differs from the file",
                terms.enable_issues, terms.run
            )),
        )
        .into()),
    }
}

fn drift_body<F: Forge>(
    forge: &F,
    marker: &str,
    view: &PlanView,
    key: &str,
    head: &str,
    last_applied: Option<&str>,
    report: Option<&Report>,
) -> String {
    let mut head_text = format!(
        "{marker}\n### AWS differs from `{key}`\n\n{} found {} whose live value is not what `{key}` says at {head}.",
        forge.run_link(),
        count(view.summary().changes(), "contact"),
    );
    match last_applied {
        Some(last) if last != head => head_text.push_str(&format!(
            " The last apply that fully succeeded was of {last}: changes merged since then may be part of this list until they are applied."
        )),
        Some(_) => {}
        None => head_text.push_str(" No apply of this file is recorded yet."),
    }
    let run = forge.terms().run;
    head_text.push_str(&match report {
        Some(report) if report.succeeded() => format!("\n\nThis {run} wrote them back.\n\n"),
        Some(_) => format!("\n\nThis {run} tried to write them back; what did not succeed is still listed. See its log.\n\n"),
        None => "\n\nThe next apply writes them back (`altcontacts apply`), unless the file is changed to what AWS holds. This issue is updated every night while the drift lasts and closed once AWS matches.\n\n".to_owned(),
    });
    let full_plan = match forge.summary_room() {
        0 => format!("the log of {}", forge.run_link()),
        _ => format!("the job summary and the log of {}", forge.run_link()),
    };
    let budget = Budget {
        max_bytes: forge.terms().issue_limit.saturating_sub(head_text.len()),
        limit: issue_limit_text(forge.terms()),
        full_plan,
    };
    let plan = render::markdown_within(view, &budget);
    format!("{head_text}{}", plan.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_is_longer_than_any_run_of_backticks_in_the_text() {
        assert_eq!(fenced("a\n````b"), "`````text\na\n````b\n`````\n");
    }
}
