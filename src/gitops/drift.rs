//! The nightly step: every managed contact; one issue while AWS differs
//! from the file, updated while it lasts and closed when it ends.

use crate::apply::Report;
use crate::cli::{DriftMode, LoopDriftArgs};
use crate::error::{EXIT_ERROR, EXIT_OK, Error};
use crate::git::Repository;
use crate::model::count;
use crate::render::{self, Budget, PlanView};
use crate::session::{Context, Request};

use super::apply::{Applied, Recording, plan_and_write, summarize_apply};
use super::forge::NoIssues;
use super::record::{self, Judge};
use super::{Forge, RecordKey, drift_marker, file_key, issue_limit_text, load, make_plan, remarks};

pub(super) async fn drift<F: Forge>(
    context: &Context,
    forge: &F,
    args: &LoopDriftArgs,
) -> Result<u8, Error> {
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
        print!(
            "{}",
            render::PlanFormat::Human.render(&planned.view(), context.paint)
        );
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
        remarks::Issues::Off(none) => return drift_without_issues(context, forge, &applied, &none),
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
    let last_applied = last_applied(context, forge, &record, &repository).await;
    let body = drift_body(
        forge,
        &marker,
        view,
        &key,
        &head,
        last_applied.as_ref().map(Option::as_deref),
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

/// The last apply the loop would base itself on, for the issue to say:
/// `Some(None)` when none is recorded, `None` when it cannot tell (a
/// shallow clone, a forge that does not answer).
async fn last_applied<F: Forge>(
    context: &Context,
    forge: &F,
    record: &RecordKey,
    repository: &Repository,
) -> Option<Option<String>> {
    let branch = forge.default_branch().await.ok()?;
    let judge = Judge::new(repository, branch, forge.terms().full_history, &context.ui).ok()?;
    record::last_honoured(forge, record, &judge).await.ok()
}

/// "1 contact in AWS differs", "2 contacts in AWS differ".
fn differ(drifted: usize) -> String {
    format!(
        "{} in AWS {}",
        count(drifted, "contact"),
        if drifted == 1 { "differs" } else { "differ" }
    )
}

/// Drift where no issue can be kept (`none` says why): the drift is listed
/// in the log (above), and the job fails while AWS differs from the file,
/// so the failed run (and its notice) is what people see.
fn drift_without_issues<F: Forge>(
    context: &Context,
    forge: &F,
    applied: &Applied,
    none: &NoIssues,
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
                "Repaired the drift: {} written back. No issue can be kept ({}), so this {} is the record ({} for one issue per drift).",
                count(drifted, "contact"),
                none.why,
                terms.run,
                none.remedy
            ));
            Ok(EXIT_OK)
        }
        Some(_) => Ok(EXIT_ERROR),
        None => Err(crate::forge::ForgeError::setup(
            terms.forge,
            "keep the drift issue",
            format!("{} from the file, and {}", differ(drifted), none.why),
            Some(format!(
                "{} for one issue, updated while the drift lasts and closed when it ends; until then this {} fails while AWS differs from the file",
                none.remedy, terms.run
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
    last_applied: Option<Option<&str>>,
    report: Option<&Report>,
) -> String {
    let mut head_text = format!(
        "{marker}\n### AWS differs from `{key}`\n\n{} found {} whose live value is not what `{key}` says at {head}.",
        forge.run_link(),
        count(view.summary().changes(), "contact"),
    );
    match last_applied {
        Some(Some(last)) if last != head => head_text.push_str(&format!(
            " The last apply that fully succeeded was of {last}: changes merged since then may be part of this list until they are applied."
        )),
        Some(None) => head_text.push_str(" No apply of this file is recorded yet."),
        Some(Some(_)) | None => {}
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
    let plan = render::plan::markdown_within(view, &budget);
    format!("{head_text}{}", plan.text)
}
