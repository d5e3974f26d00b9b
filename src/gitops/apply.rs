//! The apply's step (the default branch, a schedule, an account's event):
//! everything merged since the last apply that fully succeeded, recorded
//! when it does; never the previous commit, so a push of several commits,
//! a run that never ran or one that failed leaves nothing unapplied.

use std::collections::BTreeSet;

use crate::apply::Report;
use crate::cli::{LoopApplyArgs, SafetyArgs};
use crate::config::LoadedConfig;
use crate::error::{EXIT_ERROR, EXIT_OK, Error};
use crate::git::Repository;
use crate::model::count;
use crate::render::{self, Budget};
use crate::session::{Base, Context, ReportFormat, Request, refuse_on_breaches, write};

use super::{Ended, Forge, Planned, RecordKey, SUMMARY_LIMIT_TEXT, file_key, load, make_plan};

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
pub(super) struct Applied {
    pub(super) planned: Planned,
    pub(super) report: Option<Report>,
}

/// Where an apply is recorded: the record, the commit, and whether that
/// commit is the one applied last.
pub(super) struct Recording<'a> {
    pub(super) record: &'a RecordKey,
    pub(super) head: &'a str,
    pub(super) same_commit: bool,
}

/// Plans with `request`, and applies the plan, refusing it past the
/// safety limits unless `force`.
pub(super) async fn plan_and_write<F: Forge>(
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

pub(super) fn summarize_apply<F: Forge>(forge: &F, applied: &Applied) -> Result<(), Error> {
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

pub(super) async fn apply<F: Forge>(
    context: &Context,
    forge: &F,
    args: &LoopApplyArgs,
) -> Result<u8, Error> {
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
