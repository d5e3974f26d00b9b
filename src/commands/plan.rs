//! `altcontacts plan`: what would change, in the format asked for.

use crate::cli::{PlanArgs, PlanFormat};
use crate::error::Error;
use crate::planfile::{Made, Observed, PlanFile};
use crate::render::PlanView;
use crate::safety;
use crate::session::{Base, Context, Request};

pub async fn run(context: &Context, args: &PlanArgs) -> Result<u8, Error> {
    // Both files, and what a plan to save needs, are checked before
    // anything is asked of AWS.
    let file = args.file.path();
    let key = match &args.out {
        Some(_) => context.plan_key.for_sealing()?,
        None => None,
    };
    let config = context.load_config(&file)?;
    // When and at which commit a plan to save is made: before anything is
    // read, so the live state it records is no older than it says.
    let made = match &args.out {
        Some(_) => Some(Made::now(&file)?),
        None => None,
    };
    let base = Base::selected(&args.selection, &file)?;
    let request = Request::selected(&config, &args.selection, base.as_ref());
    let (session, plan, organization) = context.plan(&request).await?;
    context.show_warnings(&plan.warnings, args.format == PlanFormat::Json);
    let checked = safety::check_plan(&plan, &config.config.safety, &args.safety);
    let view = PlanView::new(&plan, session.header(), checked).laid_out(args.compact.compact);
    let output = args.format.render(&view, context.paint);
    print!("{output}");
    if let (Some(path), Some(made)) = (&args.out, made) {
        let observed = Observed::of(&plan, organization.as_ref());
        PlanFile::new(
            &plan,
            observed,
            &config,
            &session.target,
            &session.caller,
            made,
            key,
        )
        .write(path)?;
        context.ui.note(&format!(
            "Saved the plan to {}. Apply exactly these changes with: altcontacts apply {}",
            path.display(),
            path.display()
        ));
    }
    Ok(args.detailed.exit(plan.summary().changes() > 0))
}
