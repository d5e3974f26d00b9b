//! `altcontacts validate`: offline checks only, no AWS call.

use super::Context;
use crate::cli::ValidateArgs;
use crate::config::LoadedConfig;
use crate::error::{EXIT_OK, Error};

pub fn run(_context: &Context, args: &ValidateArgs) -> Result<u8, Error> {
    let loaded = LoadedConfig::load(&args.file)?;
    let config = &loaded.config;
    let scope = match &config.organization {
        Some(org) => format!(
            "every ACTIVE account of the organization ({} unit override{}, {} excluded), {} account entr{}",
            org.units.len(),
            if org.units.len() == 1 { "" } else { "s" },
            org.exclude.len(),
            config.accounts.len(),
            if config.accounts.len() == 1 {
                "y"
            } else {
                "ies"
            }
        ),
        None => format!(
            "{} listed account{}",
            config.accounts.len(),
            if config.accounts.len() == 1 { "" } else { "s" }
        ),
    };
    println!(
        "{} is valid: {} named contact{}; scope: {scope}.",
        loaded.file,
        config.contacts.len(),
        if config.contacts.len() == 1 { "" } else { "s" }
    );
    Ok(EXIT_OK)
}
