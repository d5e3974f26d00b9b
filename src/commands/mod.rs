//! One module per command, and the dispatch to them. What the commands
//! share (the run's context, reading, planning, writing) is `session`'s.

mod apply;
mod audit;
mod export;
mod guardrail;
mod plan;
mod security_hub;
mod show;
mod validate;

use std::io::IsTerminal;

use crate::cli::{ColorChoice, Command, SchemaOf};
use crate::error::{EXIT_OK, Error};
use crate::gitops::registry::{self, CommandLine};
use crate::render::Paint;
use crate::session::Context;

pub async fn run(cli: &CommandLine) -> Result<u8, Error> {
    let context = Context::resolve(
        &cli.global,
        Paint(color_enabled(cli.global.color)),
        registry::ci_run(),
    );
    match &cli.command {
        Command::Validate(args) => validate::run(&context, args),
        Command::Schema { of } => {
            print!(
                "{}",
                match of {
                    SchemaOf::Contacts => crate::config::file::json_schema(),
                    SchemaOf::Plan => crate::render::plan::schema(),
                    SchemaOf::ApplyReport => crate::render::apply::apply_schema(),
                }
            );
            Ok(EXIT_OK)
        }
        Command::Completions { shell } => {
            let mut command = CommandLine::described();
            clap_complete::generate(*shell, &mut command, "altcontacts", &mut std::io::stdout());
            Ok(EXIT_OK)
        }
        Command::Manpage { dir: Some(dir) } => {
            std::fs::create_dir_all(dir)
                .and_then(|()| clap_mangen::generate_to(CommandLine::described(), dir))
                .map_err(|source| Error::Write {
                    path: dir.display().to_string(),
                    source,
                })?;
            Ok(EXIT_OK)
        }
        Command::Manpage { dir: None } => {
            // As `--dir` writes them: `help` has no page, so none is named.
            let page =
                clap_mangen::Man::new(CommandLine::described().disable_help_subcommand(true));
            match page.render(&mut std::io::stdout()) {
                // `altcontacts manpage | head` closes the pipe early: not an error.
                Err(source) if source.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(Error::Write {
                        path: "standard output".to_owned(),
                        source,
                    })
                }
                _ => Ok(EXIT_OK),
            }
        }
        Command::Plan(args) => plan::run(&context, args).await,
        Command::Apply(args) => apply::run(&context, args).await,
        Command::Export(args) => export::run(&context, args).await,
        Command::Audit(args) => audit::run(&context, args).await,
        Command::Show(args) => show::run(&context, args),
        Command::Guardrail(args) => guardrail::run(args),
        Command::MemberRole(args) => guardrail::member_role(args),
        Command::Events(args) => guardrail::events(args),
        Command::Loop(step) => (step.forge.run)(&context, &step.command).await,
    }
}

/// A command's output: to `path` when given (`--output`), else stdout.
fn emit(path: Option<&std::path::Path>, text: &str) -> Result<(), Error> {
    match path {
        Some(path) => std::fs::write(path, text).map_err(|source| Error::Write {
            path: path.display().to_string(),
            source,
        }),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Colors for stdout: `--color`, else only on a terminal and without NO_COLOR.
fn color_enabled(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
                && std::env::var("TERM").map_or(true, |term| term != "dumb")
        }
    }
}
