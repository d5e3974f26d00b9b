//! altcontacts: keeps AWS account alternate contacts and the primary
//! contact in the state a YAML file declares.
//!
//! Data flows one way: `config` → `Desired` → the reading
//! (`session/read.rs`: scope per account as discovery lists it, then
//! `live::read`) → `plan::diff` → `safety` → `render` | `apply`. The
//! GitOps loop (`gitops`) runs the same steps, with a forge (`forge`)
//! behind one interface.

pub(crate) mod apply;
pub(crate) mod audit;
pub(crate) mod backend;
pub(crate) mod cli;
mod commands;
pub mod config;
pub(crate) mod deliverability;
pub(crate) mod error;
pub(crate) mod event_rule;
pub mod export;
pub(crate) mod findings;
pub(crate) mod forge;
pub(crate) mod git;
pub(crate) mod gitops;
pub(crate) mod guardrail;
pub(crate) mod hint;
pub(crate) mod interrupt;
pub(crate) mod live;
pub(crate) mod member_role;
pub mod model;
mod pages;
pub mod plan;
pub mod planfile;
pub(crate) mod printable;
pub(crate) mod progress;
pub(crate) mod render;
pub(crate) mod retry;
pub(crate) mod safety;
pub(crate) mod session;
pub(crate) mod settings;

use crate::error::EXIT_ERROR;
pub use crate::gitops::registry::CommandLine;

/// Parses the command line, runs the command, prints any error once, and
/// returns the process exit code.
pub fn main_exit_code() -> u8 {
    let cli = match CommandLine::parse_described(std::env::args_os()) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            // clap's own usage errors exit 2, which `plan --detailed-exitcode`
            // uses for "changes": a typo in CI must not look like a plan.
            return if error.use_stderr() { EXIT_ERROR } else { 0 };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return EXIT_ERROR;
        }
    };
    // Before anything is printed, and resumed once the error is.
    let _silence = render::annotations::silence();
    match runtime.block_on(commands::run(&cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", printable::printable_lines(&error.to_string()));
            error.exit_code()
        }
    }
}
