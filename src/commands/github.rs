//! `altcontacts github plan|apply|drift`: the steps of the GitOps loop in
//! GitHub Actions, as the action runs them.
//!
//! - `plan` (pull request): the plan against the pull request's base, in
//!   the job summary and in one comment, each within GitHub's size limits.
//! - `apply` (push to main, and every 30 minutes): everything merged since
//!   the last apply that fully succeeded, recorded as a deployment when it
//!   does; never `HEAD~1`, so a push of several commits, an evicted run or a
//!   failed one leaves nothing unapplied.
//! - `drift` (nightly): every managed contact; one issue while AWS differs
//!   from the file, closed with a comment when it matches again.

use std::path::Path;

use super::apply::{ReportFormat, refuse_on_breaches, write};
use super::pipeline::Request;
use super::{Base, Context, Session, load_config, with_flags};
use crate::apply::Report;
use crate::cli::{
    DriftMode, GithubApplyArgs, GithubCommand, GithubDriftArgs, GithubPlanArgs, SafetyArgs,
};
use crate::config::LoadedConfig;
use crate::error::{EXIT_CHANGES, EXIT_ERROR, EXIT_OK, Error};
use crate::git::Repository;
use crate::github::comment::{self, Upserted};
use crate::github::issue::DriftIssue;
use crate::github::record::Record;
use crate::github::{BODY_LIMIT, Run};
use crate::model::count;
use crate::plan::Plan;
use crate::render::{self, Budget, PlanView};
use crate::safety::{self, SafetyCheck, SafetyLimits};

pub async fn run(context: &Context<'_>, command: &GithubCommand) -> Result<u8, Error> {
    let run = Run::from_env()?;
    match command {
        GithubCommand::Plan(args) => plan(context, &run, args).await,
        GithubCommand::Apply(args) => apply(context, &run, args).await,
        GithubCommand::Drift(args) => drift(context, &run, args).await,
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

async fn make_plan(
    context: &Context<'_>,
    config: &LoadedConfig,
    request: &Request<'_>,
    safety: &SafetyArgs,
) -> Result<Planned, Error> {
    let (session, plan) = context.plan(request, false).await?;
    let limits = with_flags(SafetyLimits::from(config.config.safety), safety);
    let checked = safety::check(&plan.summary(), plan.managed_slots, &limits);
    Ok(Planned {
        session,
        plan,
        checked,
    })
}

/// The contacts file as the repository names it (`infra/contacts.yaml`):
/// what the comment, the record and the issue of one file are keyed on.
fn file_key(file: &Path) -> String {
    Repository::of(file)
        .path_in_repository(file)
        .unwrap_or_else(|_| file.display().to_string())
}

/// The pull request's base: the first parent of the merge commit GitHub
/// checks out for a pull request, else the base branch as fetched.
fn pull_request_base(context: &Context<'_>, file: &Path) -> Result<Option<String>, Error> {
    let repository = Repository::of(file);
    let parents = repository.parents("HEAD")?;
    if parents.len() >= 2 {
        return Ok(Some(parents[0].clone()));
    }
    match std::env::var("GITHUB_BASE_REF") {
        Ok(branch) if !branch.is_empty() => Ok(Some(format!("origin/{branch}"))),
        _ => {
            context.ui.note(
                "note: HEAD is not a pull request's merge commit and GITHUB_BASE_REF is not set, so every managed contact is planned (pass --base-ref to plan a change).",
            );
            Ok(None)
        }
    }
}

/// Text in a fenced block no line of it can close.
fn fenced(text: &str) -> String {
    let longest = text
        .lines()
        .map(|line| line.chars().take_while(|c| *c == '`').count())
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{}\n{fence}\n", text.trim_end())
}

async fn plan(context: &Context<'_>, run: &Run, args: &GithubPlanArgs) -> Result<u8, Error> {
    let key = file_key(&args.file);
    let marker = comment::marker(&key);
    let pull_request = run.pull_request();
    let planned = async {
        let config = load_config(&args.file, true)?;
        let revision = match (&args.base_ref, args.full) {
            (_, true) => None,
            (Some(revision), _) => Some(revision.clone()),
            (None, false) => pull_request_base(context, &args.file)?,
        };
        let base = Base::load(None, revision.as_deref(), &args.file)?;
        let request = Request {
            base: base.as_ref(),
            ..Request::managed(&config)
        };
        make_plan(context, &config, &request, &args.safety).await
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
            run.add_to_summary(&text)?;
            if let (true, Some(number)) = (args.comment, pull_request) {
                comment::upsert(run, number, &marker, &format!("{marker}\n{text}")).await?;
            }
            run.set_outputs(&[("summary", "altcontacts could not make the plan".to_owned())])?;
            return Err(error);
        }
    };
    let view = &planned.view();
    print!("{}", render::human(view, context.paint));

    let full = render::markdown(view);
    let directory = run.temp.join("altcontacts");
    let plan_file = directory.join("plan.md");
    std::fs::create_dir_all(&directory)
        .and_then(|()| std::fs::write(&plan_file, &full))
        .map_err(|source| Error::Write {
            path: plan_file.display().to_string(),
            source,
        })?;
    let full_plan = format!(
        "`plan.md` in the `{}` artifact of {}",
        args.artifact,
        run.run_link()
    );
    let summary = render::markdown_within(
        view,
        &Budget {
            max_bytes: run.summary_room(),
            limit: "a job summary holds at most 1 MiB".to_owned(),
            full_plan: full_plan.clone(),
        },
    );
    run.add_to_summary(&summary.text)?;
    let mut left_out = summary.left_out;
    match (args.comment, pull_request) {
        (true, Some(number)) => {
            let body = render::markdown_within(
                view,
                &Budget {
                    max_bytes: BODY_LIMIT - marker.len() - 1,
                    limit: "a pull-request comment holds at most 65,536 characters".to_owned(),
                    full_plan,
                },
            );
            left_out = left_out.max(body.left_out);
            let made =
                comment::upsert(run, number, &marker, &format!("{marker}\n{}", body.text)).await?;
            context.ui.note(&match made {
                Upserted::Created(_) => format!("Commented the plan on pull request #{number}."),
                Upserted::Updated(_) => {
                    format!("Updated the plan comment on pull request #{number}.")
                }
            });
        }
        (true, None) => context
            .ui
            .note("note: this run is not for a pull request, so the plan is not commented."),
        (false, _) => {}
    }
    run.set_outputs(&[
        ("summary", view.summary_line()),
        ("changes", view.summary().changes().to_string()),
        ("truncated", (left_out > 0).to_string()),
        ("plan-file", plan_file.display().to_string()),
    ])?;
    Ok(if args.detailed_exitcode && view.summary().changes() > 0 {
        EXIT_CHANGES
    } else {
        EXIT_OK
    })
}

/// What an apply run bases itself on, decided from the record.
enum Since {
    /// The last apply that fully succeeded, an ancestor of this commit.
    Applied(String),
    /// Nothing to base on: every managed contact is planned.
    Everything(&'static str),
    /// This commit is the last applied one's ancestor: a newer one was
    /// applied already, so applying this one would undo it.
    Behind(String),
}

async fn since_last_apply(
    record: &Record<'_>,
    repository: &Repository,
    head: &str,
) -> Result<Since, Error> {
    let Some(last) = record.last_applied().await? else {
        return Ok(Since::Everything(
            "no apply is recorded yet, so the whole file is applied",
        ));
    };
    if repository.commit(&last).is_err() {
        return Err(Error::usage(
            format!("the last applied commit {last} is not in this clone"),
            Some("check out the whole history: actions/checkout with `fetch-depth: 0`".to_owned()),
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

/// Plans with `reading`, and applies the plan, refusing it past the safety
/// limits unless `force`.
async fn plan_and_write(
    context: &Context<'_>,
    config: &LoadedConfig,
    request: &Request<'_>,
    safety: &SafetyArgs,
    force: bool,
    record: Option<(&Record<'_>, &str, bool)>,
) -> Result<Applied, Error> {
    let planned = make_plan(context, config, request, safety).await?;
    print!("{}", render::human(&planned.view(), context.paint));
    let unchanged_commit = record.is_some_and(|(_, _, same)| same);
    if planned.plan.changes.is_empty() && (record.is_none() || unchanged_commit) {
        return Ok(Applied {
            planned,
            report: None,
        });
    }
    let deployment = match record {
        Some((record, head, _)) => Some((record, record.begin(head).await?)),
        None => None,
    };
    if let Err(refused) = refuse_on_breaches(&planned.checked.breaches, force) {
        if let Some((record, deployment)) = deployment {
            record
                .finish(deployment, false, "refused: a safety limit is exceeded")
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
    if let Some((record, deployment)) = deployment {
        let (succeeded, description) = match &report {
            None => (true, "nothing to write: AWS already matched".to_owned()),
            Some(report) => (report.succeeded(), render::report::summary_line(report)),
        };
        record.finish(deployment, succeeded, &description).await?;
    }
    Ok(Applied { planned, report })
}

fn summarize_apply(run: &Run, applied: &Applied) -> Result<(), Error> {
    let budget = run.summary_room();
    let plan = render::markdown_within(
        &applied.planned.view(),
        &Budget {
            max_bytes: budget / 2,
            limit: "a job summary holds at most 1 MiB".to_owned(),
            full_plan: "the log of this run".to_owned(),
        },
    );
    run.add_to_summary(&plan.text)?;
    if let Some(report) = &applied.report {
        let text = render::report::apply_markdown(report, budget / 2);
        run.add_to_summary(&text)?;
    }
    Ok(())
}

fn exit_code(applied: &Applied) -> u8 {
    match &applied.report {
        Some(report) if !report.succeeded() => EXIT_ERROR,
        _ => EXIT_OK,
    }
}

async fn apply(context: &Context<'_>, run: &Run, args: &GithubApplyArgs) -> Result<u8, Error> {
    let config = load_config(&args.file, true)?;
    let repository = Repository::of(&args.file);
    let head = repository.commit("HEAD")?;
    let record = Record::new(run, &args.environment, &file_key(&args.file));
    let since = if args.full {
        Since::Everything("--full: every managed contact is applied")
    } else {
        since_last_apply(&record, &repository, &head).await?
    };
    let base_commit = match &since {
        Since::Behind(last) => {
            let note = format!(
                "Nothing to apply: {head} is older than {last}, which was applied already (applying it would undo newer changes)."
            );
            context.ui.note(&note);
            run.add_to_summary(&format!("### altcontacts apply\n\n{note}\n"))?;
            run.set_outputs(&[("summary", note)])?;
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
        Some(commit) => Base::load(None, Some(commit), &args.file)?,
        None => None,
    };
    let request = Request {
        base: base.as_ref(),
        new_accounts_since: args.new_accounts_since,
        ..Request::managed(&config)
    };
    let applied = plan_and_write(
        context,
        &config,
        &request,
        &args.safety,
        args.force,
        Some((&record, &head, same_commit)),
    )
    .await?;
    summarize_apply(run, &applied)?;
    let summary = match &applied.report {
        Some(report) => render::report::summary_line(report),
        None => applied.planned.view().summary_line(),
    };
    run.set_outputs(&[("summary", summary)])?;
    Ok(exit_code(&applied))
}

async fn drift(context: &Context<'_>, run: &Run, args: &GithubDriftArgs) -> Result<u8, Error> {
    let config = load_config(&args.file, true)?;
    let key = file_key(&args.file);
    let repository = Repository::of(&args.file);
    let head = repository.commit("HEAD")?;
    let record = Record::new(run, &args.environment, &key);
    let applied = if args.mode == DriftMode::Repair {
        plan_and_write(
            context,
            &config,
            &Request::managed(&config),
            &args.safety,
            args.force,
            Some((&record, &head, false)),
        )
        .await?
    } else {
        let planned = make_plan(context, &config, &Request::managed(&config), &args.safety).await?;
        print!("{}", render::human(&planned.view(), context.paint));
        Applied {
            planned,
            report: None,
        }
    };
    summarize_apply(run, &applied)?;

    let issue = DriftIssue::new(run, &args.label, &key);
    let open = issue.find_open().await?;
    let view = &applied.planned.view();
    let drifted = view.summary().changes();
    let repaired = applied.report.as_ref().is_some_and(Report::succeeded);
    if drifted == 0 {
        if let Some(number) = open {
            issue
                .close(
                    number,
                    &format!(
                        "AWS matches `{key}` again, as checked by {}.",
                        run.run_link()
                    ),
                )
                .await?;
            context.ui.note(&format!(
                "AWS matches the file again: closed issue #{number}."
            ));
        }
        run.set_outputs(&[("summary", view.summary_line()), ("drift", "0".to_owned())])?;
        return Ok(EXIT_OK);
    }
    let last_applied = record.last_applied().await.ok().flatten();
    let body = drift_body(
        &issue,
        view,
        &key,
        &head,
        last_applied.as_deref(),
        run,
        applied.report.as_ref(),
    );
    let title = format!(
        "altcontacts: {} in AWS {} from {key}",
        count(drifted, "contact"),
        if drifted == 1 { "differs" } else { "differ" }
    );
    let number = issue.open_or_update(open, &title, &body).await?;
    if repaired {
        issue
            .close(
                number,
                &format!(
                    "Repaired by {}: {} written back to what `{key}` says.",
                    run.run_link(),
                    count(drifted, "contact")
                ),
            )
            .await?;
        context
            .ui
            .note(&format!("Repaired the drift; issue #{number} records it."));
    } else {
        context.ui.note(&format!(
            "{} in AWS differ from the file: issue #{number}.",
            count(drifted, "contact")
        ));
    }
    run.set_outputs(&[
        ("summary", view.summary_line()),
        ("drift", drifted.to_string()),
        ("issue", number.to_string()),
    ])?;
    Ok(match &applied.report {
        Some(report) if !report.succeeded() => EXIT_ERROR,
        _ if args.detailed_exitcode && !repaired => EXIT_CHANGES,
        _ => EXIT_OK,
    })
}

fn drift_body(
    issue: &DriftIssue<'_>,
    view: &PlanView,
    key: &str,
    head: &str,
    last_applied: Option<&str>,
    run: &Run,
    report: Option<&Report>,
) -> String {
    let mut head_text = format!(
        "{}\n### AWS differs from `{key}`\n\n{} found {} whose live value is not what `{key}` says at {head}.",
        issue.marker(),
        run.run_link(),
        count(view.summary().changes(), "contact"),
    );
    match last_applied {
        Some(last) if last != head => head_text.push_str(&format!(
            " The last apply that fully succeeded was of {last}: changes merged since then may be part of this list until they are applied."
        )),
        Some(_) => {}
        None => head_text.push_str(" No apply of this file is recorded yet."),
    }
    head_text.push_str(match report {
        Some(report) if report.succeeded() => "\n\nThis run wrote them back.\n\n",
        Some(_) => "\n\nThis run tried to write them back; what did not succeed is still listed. See its log.\n\n",
        None => "\n\nThe next apply writes them back (`altcontacts apply`), unless the file is changed to what AWS holds. This issue is updated every night while the drift lasts and closed once AWS matches.\n\n",
    });
    let budget = Budget {
        max_bytes: BODY_LIMIT.saturating_sub(head_text.len()),
        limit: "an issue holds at most 65,536 characters".to_owned(),
        full_plan: format!("the job summary and the log of {}", run.run_link()),
    };
    let plan = render::markdown_within(view, &budget);
    format!("{head_text}{}", plan.text)
}
