//! The apply's step (the default branch, a schedule, an account's event):
//! everything merged since the last apply that fully succeeded, recorded
//! when it does; never the previous commit, so a push of several commits,
//! a run that never ran or one that failed leaves nothing unapplied.

use std::collections::BTreeSet;

use crate::apply::Report;
use crate::cli::{LoopApplyArgs, SafetyArgs};
use crate::config::LoadedConfig;
use crate::config::reading::{Reading, Unread, read_text};
use crate::error::{EXIT_ERROR, EXIT_OK, Error};
use crate::event_rule::PAYLOAD_ACCOUNT_FIELD;
use crate::git::Repository;
use crate::model::{AccountId, SkipReason, Timestamp, count};
use crate::render::{self, Budget};
use crate::session::{Base, Context, Request, refuse_on_breaches, write};

use super::record::{self, Judge};
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
    judge: &Judge<'_>,
    repository: &Repository,
    head: &str,
) -> Result<Since, Error> {
    let Some(last) = record::last_honoured(forge, record, judge).await? else {
        return Ok(Since::Everything(
            "no apply is recorded yet, so the whole file is applied",
        ));
    };
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
    print!(
        "{}",
        render::PlanFormat::Human.render(&planned.view(), context.paint)
    );
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
                crate::render::apply::ApplyFormat::Human,
            )
            .await,
        )
    };
    if let (Some(recording), Some(applying)) = (&recording, applying) {
        let unread = unread_accounts(&planned);
        let (ended, description) = match &report {
            // What the accounts that could not be read need is still to
            // do: the next apply must not take this one as done.
            _ if unread > 0 => (
                Ended::Failed,
                format!(
                    "{} could not be read, so nothing of theirs was written",
                    count(unread, "account")
                ),
            ),
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
                render::apply::summary_line(report),
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
    let plan = render::plan::markdown_within(
        &applied.planned.view(),
        &Budget {
            max_bytes: budget / 2,
            limit: SUMMARY_LIMIT_TEXT.to_owned(),
            full_plan: format!("the log of {}", forge.run_link()),
        },
    );
    forge.add_to_summary(&plan.text)?;
    if let Some(report) = &applied.report {
        let text = render::apply::apply_markdown(report, budget / 2);
        forge.add_to_summary(&text)?;
    }
    Ok(())
}

/// The accounts the plan skipped because their contacts could not be read.
fn unread_accounts(planned: &Planned) -> usize {
    (planned.plan.skipped.iter())
        .filter(|skipped| matches!(skipped.reason, SkipReason::Unreadable(_)))
        .count()
}

/// An apply that wrote all but could not read an account fails the run:
/// the account's share of the merge is still to be applied.
fn exit_code(applied: &Applied) -> u8 {
    match &applied.report {
        Some(report) if !report.succeeded() => EXIT_ERROR,
        _ if unread_accounts(&applied.planned) > 0 => EXIT_ERROR,
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
    // --full reads no record, so it needs no history to judge one by.
    let judge = match args.full {
        true => None,
        false => Some(Judge::new(
            &repository,
            forge.default_branch().await?,
            forge.terms().full_history,
            &context.ui,
        )?),
    };
    let since = match &judge {
        None => Since::Everything("--full: every managed contact is applied"),
        Some(judge) => since_last_apply(forge, &record, judge, &repository, &head).await?,
    };
    if let Some(judge) = &judge {
        forge.add_to_summary(&judge.summary())?;
    }
    let merged = Merged {
        config: &config,
        record: &record,
        head: &head,
        judge: judge.as_ref(),
    };
    let account = match (&args.new_account.account, &args.event_payload) {
        (Some(account), _) => Some(account.clone()),
        (None, Some(payload)) => event_account(payload)?,
        (None, None) => None,
    };
    match &account {
        Some(account) => event_apply(context, forge, args, &merged, since, account).await,
        None => {
            merged_apply(
                context,
                forge,
                args,
                &merged,
                since,
                args.new_accounts_since,
            )
            .await
        }
    }
}

/// How a trigger's payload is read: it names one account.
const PAYLOAD: Reading = Reading {
    limit: 64 * 1024,
    sized: "a trigger's payload names one account, in a few bytes",
    pass: "pass the file GitLab gives as TRIGGER_PAYLOAD",
    in_repository: false,
};

/// The account an event's payload names (its `account_id`), if it names
/// one; whoever holds the trigger chose every byte of it, so nothing else
/// in it is read, and anything but an account ID is refused.
fn event_account(path: &std::path::Path) -> Result<Option<AccountId>, Error> {
    let shown = path.display().to_string();
    let refused = |why: String| {
        Error::usage(
            format!("the event's payload {shown} {why}"),
            Some(format!(
                "the payload is the trigger's body, whose `{PAYLOAD_ACCOUNT_FIELD}` names one account: {}",
                "check the EventBridge rule's input template (`altcontacts events`)"
            )),
        )
    };
    let text = read_text(path, &PAYLOAD).map_err(|unread| match unread {
        Unread::Io(error) => refused(format!("cannot be read: {error}")),
        Unread::Refused { why, .. } => refused(format!("is not read: {why}")),
    })?;
    let payload: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| refused(format!("is not JSON: {e}")))?;
    match &payload[PAYLOAD_ACCOUNT_FIELD] {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(id) if id.is_empty() => Ok(None),
        serde_json::Value::String(id) => AccountId::given(id)
            .map(Some)
            .map_err(|wrong| refused(format!("names its account: {wrong}"))),
        other => Err(refused(format!(
            "names its account {other}, which is not an account ID (an account ID is 12 digits)"
        ))),
    }
}

/// What the default branch holds, and how its applies are recorded.
struct Merged<'a> {
    config: &'a LoadedConfig,
    record: &'a RecordKey,
    head: &'a str,
    /// What records are weighed by; none for `--full`, which reads none.
    judge: Option<&'a Judge<'a>>,
}

/// Everything merged since the last apply, plus (on a schedule) the
/// accounts that joined after `new_accounts_since`.
async fn merged_apply<F: Forge>(
    context: &Context,
    forge: &F,
    args: &LoopApplyArgs,
    merged: &Merged<'_>,
    since: Since,
    new_accounts_since: Option<Timestamp>,
) -> Result<u8, Error> {
    let Merged {
        config,
        record,
        head,
        judge,
    } = *merged;
    let file = args.file.path();
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
    let same_commit = base_commit.as_deref() == Some(head);
    let base = match &base_commit {
        Some(commit) => Base::load(None, Some(commit), &file)?,
        None => None,
    };
    // The schedule is the events' safety net: an account an event's run
    // applied whole at this very commit is not read again as new.
    let applied_by_events: BTreeSet<AccountId> = match (new_accounts_since, judge) {
        (Some(since), Some(judge)) => forge
            .accounts_applied(record, head, since)
            .await?
            .into_iter()
            .filter(|(_, recorded)| judge.honours(recorded))
            .map(|(account, _)| account)
            .collect(),
        _ => BTreeSet::new(),
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
        new_accounts_since,
        applied_by_events: Some(&applied_by_events),
        ..Request::managed(config)
    };
    let recording = Recording {
        record,
        head,
        same_commit,
    };
    finish_loop_apply(context, forge, args, config, &request, recording).await
}

/// An event's run: what merged and is not applied yet, first, then the
/// event's account whole, recorded as its own and never as the file's
/// (the other accounts were not looked at).
///
/// The first part is there because a CI may let a dispatch displace a
/// merge's run still waiting for the lock (GitHub keeps one pending run
/// per concurrency group): the event's run then does what that run would
/// have, so no merge waits for the next schedule. When nothing is pending
/// it reads nothing.
async fn event_apply<F: Forge>(
    context: &Context,
    forge: &F,
    args: &LoopApplyArgs,
    merged: &Merged<'_>,
    since: Since,
    account: &AccountId,
) -> Result<u8, Error> {
    let caught_up = match &since {
        Since::Applied(last) if last == merged.head => Ok(EXIT_OK),
        Since::Behind(_) => {
            context.ui.note(&format!(
                "note: account {account} is left to the next run: this commit is older than one applied already, and its file would undo newer changes."
            ));
            return merged_apply(context, forge, args, merged, since, None).await;
        }
        Since::Applied(_) | Since::Everything(_) => {
            context
                .ui
                .note("Applying what merged since the last apply first, as the run of that merge would have.");
            merged_apply(context, forge, args, merged, since, None).await
        }
    };
    // A merge held back (a safety limit, a failure) does not hold back the
    // new account: it is applied all the same, and the run fails after.
    if let Err(error) = &caught_up {
        context.ui.note(&format!(
            "note: what merged could not be applied ({}); the event's account is applied all the same.",
            crate::printable::printable(&error.to_string())
        ));
    }
    context.ui.note(&format!(
        "Applying every managed contact of account {account}, the account of the event."
    ));
    let request = Request {
        account: Some(account.clone()),
        ..Request::managed(merged.config)
    };
    let recording = Recording {
        record: &merged.record.of_account(account),
        head: merged.head,
        same_commit: false,
    };
    let account_applied =
        finish_loop_apply(context, forge, args, merged.config, &request, recording).await?;
    Ok(caught_up?.max(account_applied))
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
        Some(report) => render::apply::summary_line(report),
        None => applied.planned.view().summary_line(),
    };
    forge.set_outputs(&[("summary", summary)])?;
    Ok(exit_code(&applied))
}
