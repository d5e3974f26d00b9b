//! `altcontacts apply`: plan and apply after approval, or apply a saved plan
//! exactly, refusing it when anything it was based on has changed.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::apply::describe;
use crate::cli::{ApplyArgs, ApplyFormat, DEFAULT_FILE, PlanFormat};
use crate::error::{Drift, EXIT_ERROR, EXIT_OK, Error, Refusal};
use crate::git::Repository;
use crate::model::{Slot, Timestamp};
use crate::plan::{Change, Plan};
use crate::planfile::PlanFile;
use crate::render::PlanView;
use crate::safety;
use crate::session::{Base, Context, FileConnection, Request, Session, refuse_on_breaches, write};

pub async fn run(context: &Context, args: &ApplyArgs) -> Result<u8, Error> {
    match &args.plan {
        Some(path) => apply_saved(context, args, path).await,
        None => apply_fresh(context, args).await,
    }
}

async fn apply_fresh(context: &Context, args: &ApplyArgs) -> Result<u8, Error> {
    let file = args.file.path();
    let config = context.load_config(&file)?;
    let base = Base::selected(&args.selection, &file)?;
    let request = Request::selected(&config, &args.selection, base.as_ref());
    let (session, plan, _) = context.plan(&request).await?;
    context.show_warnings(&plan.warnings, false);
    let checked = safety::check_plan(&plan, &config.config.safety, &args.safety);
    show_plan(
        context,
        args.format,
        &PlanView::new(&plan, session.header(), checked.clone()).laid_out(args.compact.compact),
    );
    if plan.summary().changes() > 0 {
        refuse_on_breaches(&checked.breaches, args.force)?;
        confirm(args.auto_approve, plan.summary().changes())?;
    }
    execute(context, &session, &plan, args.format).await
}

/// The plan about to be applied: on stdout, or with `--format json` on
/// stderr, so stdout holds the report alone.
fn show_plan(context: &Context, format: ApplyFormat, view: &PlanView) {
    match format {
        ApplyFormat::Human => print!("{}", PlanFormat::Human.render(view, context.paint)),
        ApplyFormat::Json => eprint!("{}", PlanFormat::Human.render(view, context.paint)),
    }
}

async fn apply_saved(context: &Context, args: &ApplyArgs, path: &Path) -> Result<u8, Error> {
    let now = Timestamp::now();
    let key = context
        .plan_key
        .for_applying(args.require_plan_key)
        .map_err(Error::Refused)?;
    let (saved, plan) = PlanFile::read(path, key)?;
    saved
        .check_age(now, args.max_plan_age)
        .map_err(Error::Refused)?;
    // The file at hand must be the one planned: `-f`, or ./contacts.yaml if
    // there is one. Without either, the plan file alone is enough.
    let config_path = args.file.file.clone().or_else(|| {
        let default = PathBuf::from(DEFAULT_FILE);
        default.exists().then_some(default)
    });
    // The checkout this run is in (the contacts file's, else the current
    // directory's) must have merged the commit the plan was made at.
    saved.check_commit(&Repository::of(
        config_path.as_deref().unwrap_or(Path::new(DEFAULT_FILE)),
    ))?;
    // The limits are this run's: the file at hand and these flags, never
    // what the plan run was given.
    let config = match config_path {
        Some(config_path) => {
            let config = context.load_config(&config_path)?;
            if config.digest() != saved.config_digest {
                return Err(Error::Refused(Refusal::FileChanged {
                    file: config_path.display().to_string(),
                    planned_from: saved.config_file,
                }));
            }
            saved.check_against(&config).map_err(Error::Refused)?;
            Some(config.config)
        }
        None => None,
    };
    let session = context
        .open(config.as_ref().map(FileConnection::of).unwrap_or_default())
        .await?;
    let safety_settings = config.map(|config| config.safety).unwrap_or_default();
    check_target(&saved, &session)?;

    let checked = safety::check_plan(&plan, &safety_settings, &args.safety);
    refuse_on_breaches(&checked.breaches, args.force)?;
    refuse_if_stale(context, &session, &plan.changes).await?;
    show_plan(
        context,
        args.format,
        &PlanView::new(&plan, session.header(), checked).laid_out(args.compact.compact),
    );
    execute(context, &session, &plan, args.format).await
}

/// A plan made against another backend (another sandbox file, or AWS) or
/// as another caller (so in another organization) is refused.
fn check_target(saved: &PlanFile, session: &Session) -> Result<(), Error> {
    if saved.target != session.target || saved.caller_account != session.caller {
        return Err(Error::Refused(Refusal::OtherTarget {
            planned_on: saved.target.clone(),
            planned_as: saved.caller_account.clone(),
            running_on: session.target.clone(),
            running_as: session.caller.clone(),
        }));
    }
    Ok(())
}

/// Re-reads exactly the slots the plan changes; any that no longer hold the
/// value the plan started from makes the whole plan stale.
async fn refuse_if_stale(
    context: &Context,
    session: &Session,
    changes: &[Change],
) -> Result<(), Error> {
    // A subscription is added, never taken away, and adding it twice is
    // no change: only the contacts themselves can be stale.
    let contacts: Vec<&Change> = changes
        .iter()
        .filter(|change| change.action.topic().is_none())
        .collect();
    let slots: Vec<Slot> = contacts.iter().map(|change| change.slot.clone()).collect();
    let live = context.read(session, slots).await?;
    let drifted: Vec<Drift> = contacts
        .into_iter()
        .filter_map(|change| {
            let now = live.slots.get(&change.slot).and_then(Option::as_ref);
            let planned_from = change.action.before();
            (now != planned_from).then(|| Drift {
                slot: change.slot.clone(),
                planned_from: describe(planned_from),
                now: describe(now),
            })
        })
        .collect();
    if drifted.is_empty() {
        return Ok(());
    }
    Err(Error::Refused(Refusal::Stale(drifted)))
}

fn confirm(auto_approve: bool, changes: usize) -> Result<(), Error> {
    if auto_approve {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Error::Refused(Refusal::NoTerminal));
    }
    eprint!("\nApply these {changes} changes? Only 'yes' is accepted: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = stdin.lock().read_line(&mut answer);
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Error::Refused(Refusal::Cancelled))
    }
}

async fn execute(
    context: &Context,
    session: &Session,
    plan: &Plan,
    format: ApplyFormat,
) -> Result<u8, Error> {
    let report = match format {
        // Nothing to write: no report but the plan's "no changes".
        ApplyFormat::Human if plan.changes.is_empty() => return Ok(EXIT_OK),
        format => write(context, session, plan, format).await,
    };
    Ok(if report.succeeded() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}
