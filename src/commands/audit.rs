//! `altcontacts audit`: the compliance check over the file's scope, or the
//! whole organization with `--org`.

use std::path::PathBuf;

use super::Context;
use super::pipeline::{Reads, Request, Scope};
use crate::audit;
use crate::cli::{AuditArgs, Format};
use crate::config::LoadedConfig;
use crate::error::{EXIT_CHANGES, EXIT_OK, Error};
use crate::model::Date;
use crate::render;

pub async fn run(context: &Context<'_>, args: &AuditArgs) -> Result<u8, Error> {
    let config = match args.org {
        true => None,
        false => Some(LoadedConfig::load(
            &args
                .file
                .clone()
                .unwrap_or_else(|| PathBuf::from("contacts.yaml")),
        )?),
    };
    // The audit is about what AWS holds, so every slot is read, managed or not.
    let request = Request {
        scope: match &config {
            Some(config) => Scope::File(config),
            None => Scope::WholeOrganization,
        },
        base: None,
        joined_since: args.joined_since,
        new_accounts_since: None,
        reads: Reads::Every,
    };
    let reading = context.read_scope(&request).await?;
    match &config {
        Some(_) => context.show_warnings(&reading.desired.warnings, args.format == Format::Json),
        None => context.note_left_out(&reading.desired),
    }
    let result = audit::check(
        &reading.desired.accounts,
        &reading.live,
        &reading.primaries,
        config.as_ref().map(|_| &reading.desired),
        Date::today(),
    );
    let target = reading.session.label.clone();
    let output = match args.format {
        Format::Human => render::audit::human(&result, &target, context.paint),
        Format::Json => render::audit::json(&result, &target),
        Format::Markdown => render::audit::markdown(&result, &target),
    };
    print!("{output}");
    Ok(if result.findings.is_empty() {
        EXIT_OK
    } else {
        EXIT_CHANGES
    })
}
