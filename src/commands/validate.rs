//! `altcontacts validate`: offline checks only, no AWS call.

use crate::cli::{ValidateArgs, ValidateFormat};
use crate::config::{ConfigError, LoadedConfig};
use crate::error::{EXIT_ERROR, EXIT_OK, Error};
use crate::model::count;
use crate::session::{Context, load_config};

pub fn run(_context: &Context, args: &ValidateArgs) -> Result<u8, Error> {
    if args.format == ValidateFormat::Json {
        return json(args);
    }
    let loaded = load_config(&args.file.path(), args.format == ValidateFormat::Github)?;
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

/// Every problem as data on stdout; the exit code says whether there were any.
fn json(args: &ValidateArgs) -> Result<u8, Error> {
    let path = args.file.path();
    let file = path.display().to_string();
    let problems = match LoadedConfig::load(&path) {
        Ok(_) => Vec::new(),
        Err(ConfigError::Problems(problems)) => problems.problems,
        Err(other) => return Err(other.into()),
    };
    let problems: Vec<serde_json::Value> = problems
        .iter()
        .map(|problem| {
            serde_json::json!({
                "line": problem.line,
                "column": problem.column,
                "path": problem.path.as_ref().map(ToString::to_string),
                "message": problem.message,
                "help": problem.help,
            })
        })
        .collect();
    let report = serde_json::json!({
        "format_version": 1,
        "file": file,
        "valid": problems.is_empty(),
        "problems": problems,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("plain data serializes")
    );
    Ok(if problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}
