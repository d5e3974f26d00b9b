//! `altcontacts validate`: offline checks only, no AWS call.

use super::{Context, load_config};
use crate::cli::{ValidateArgs, ValidateFormat};
use crate::error::{EXIT_OK, Error};
use crate::model::count;

pub fn run(_context: &Context, args: &ValidateArgs) -> Result<u8, Error> {
    let loaded = load_config(&args.file, args.format == ValidateFormat::Github)?;
    if args.format == ValidateFormat::Github {
        // A valid file has nothing to annotate.
        return Ok(EXIT_OK);
    }
    let config = &loaded.config;
    let scope = match &config.organization {
        Some(org) => format!(
            "every ACTIVE account of the organization ({}, {} excluded), {}",
            count(org.units.len(), "unit override"),
            org.exclude.len(),
            count(config.accounts.len(), "account entry"),
        ),
        None => count(config.accounts.len(), "listed account"),
    };
    println!(
        "{} is valid: {}; scope: {scope}.",
        loaded.file,
        count(config.contacts.len(), "named contact")
    );
    Ok(EXIT_OK)
}
