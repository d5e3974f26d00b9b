//! `altcontacts show PLAN`: a saved plan, laid out as `plan` lays it out,
//! in any of its formats. It reads the plan file alone: no AWS call, no
//! contacts file. The file is checked as `apply PLAN` checks it (its seal,
//! with ALTCONTACTS_PLAN_KEY when set), so what is shown is what would be
//! applied.

use crate::cli::{PlanFormat, ShowArgs};
use crate::error::{EXIT_OK, Error};
use crate::model::Timestamp;
use crate::planfile::{DEFAULT_MAX_AGE, PlanFile};
use crate::printable::printable;
use crate::render::{Header, PlanView};
use crate::safety;
use crate::session::Context;
use crate::settings::{SafetyArgs, SafetySpec};

pub fn run(context: &Context, args: &ShowArgs) -> Result<u8, Error> {
    let key = context
        .plan_key
        .for_applying(false)
        .map_err(Error::Refused)?;
    let (saved, plan) = PlanFile::read(&args.plan, key)?;
    let header = Header {
        target: saved.target.to_string(),
        caller: saved.caller_account.clone(),
        member_role: None,
    };
    // The limits `apply PLAN` holds it to without a contacts file at hand;
    // with one, its `safety:` and the flags of that run decide.
    let checked = safety::check_plan(&plan, &SafetySpec::default(), &SafetyArgs::default());
    let view = PlanView::new(&plan, header, checked).laid_out(args.compact.compact);
    if args.format == PlanFormat::Human {
        let commit = saved
            .commit
            .as_deref()
            .map_or_else(String::new, |commit| format!(" at commit {commit}"));
        println!(
            "Saved plan {}: made {} by {} from {}{commit}.",
            printable(&args.plan.display().to_string()),
            saved.created_at.rfc3339(),
            printable(&saved.created_by),
            printable(&saved.config_file),
        );
    }
    print!("{}", args.format.render(&view, context.paint));
    // Shown all the same, for a review; but it is said that `apply` would
    // not take it as it stands.
    if let Err(refusal) = saved.check_age(Timestamp::now(), DEFAULT_MAX_AGE) {
        context.ui.note(&format!(
            "apply would refuse this plan: {refusal} (--max-plan-age sets how old a plan it takes)"
        ));
    }
    Ok(EXIT_OK)
}
