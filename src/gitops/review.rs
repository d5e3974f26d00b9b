//! The review's step: the plan of a pull or merge request against its
//! base, in one note edited on every push and in the job's summary where
//! the CI has one, each within the forge's limits.

use crate::cli::ReviewPlanArgs;
use crate::error::Error;
use crate::git::Repository;
use crate::render::{self, Budget};
use crate::session::{Base, Context, Request};

use super::{
    Forge, SUMMARY_LIMIT_TEXT, Upserted, fenced, file_key, load, make_plan, note_limit_text,
    plan_marker, remarks,
};

pub(super) async fn plan<F: Forge>(
    context: &Context,
    forge: &F,
    args: &ReviewPlanArgs,
) -> Result<u8, Error> {
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
    print!("{}", render::PlanFormat::Human.render(view, context.paint));

    let full_plan = forge.full_plan_place(&args.artifact);
    let mut left_out = 0;
    let room = forge.summary_room();
    if room > 0 {
        let summary = render::plan::markdown_within(
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
            let body = render::plan::markdown_within(
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
    forge.keep_full_plan(
        &args.artifact,
        &render::PlanFormat::Markdown.render(view, crate::render::Paint(false)),
        left_out > 0,
    )?;
    forge.report_counts(&args.artifact, &view.summary()).await?;
    forge.set_outputs(&[
        ("summary", view.summary_line()),
        ("changes", view.summary().changes().to_string()),
        ("truncated", (left_out > 0).to_string()),
    ])?;
    Ok(args.detailed.exit(view.summary().changes() > 0))
}
