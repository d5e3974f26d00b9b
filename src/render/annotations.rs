//! Problems of a contacts file as GitHub Actions workflow commands, so
//! GitHub shows each on its line of the pull request's diff; and every
//! other line of a GitHub step's log kept from being read as one.
//!
//! GitHub's runner reads a line that starts with `::` (after spaces) as a
//! command, and the legacy `##[…]` anywhere in a line: a contact or account
//! name of that shape, printed in a plan or an error, would mask a secret's
//! look-alike, end the step's commands, or forge an annotation. So, in a
//! step of GitHub Actions, the run's output is wrapped in
//! `::stop-commands::TOKEN` (a token no value can know) and commands resume
//! only around the annotations this tool means.

use std::fmt::Write;
use std::io::Write as _;
use std::sync::OnceLock;

use crate::config::FileProblems;
use crate::model::Warning;

/// One `::error file=…,line=…,col=…,title=…::message` line per problem.
pub fn github(problems: &FileProblems) -> String {
    let mut out = String::new();
    for problem in &problems.problems {
        let mut message = problem.message.clone();
        if let Some(help) = &problem.help {
            let _ = write!(message, "\nhelp: {help}");
        }
        let _ = writeln!(
            out,
            "::error file={},line={},col={},title={}::{}",
            property(&problems.file),
            problem.line,
            problem.column,
            property("altcontacts: invalid contacts file"),
            data(&message)
        );
    }
    out
}

/// One `::warning file=…,line=…,col=…,title=…::message` line per warning.
pub fn warnings(warnings: &[Warning]) -> String {
    let mut out = String::new();
    for warning in warnings {
        let message = format!("{}\nhelp: {}", warning.kind.message(), warning.kind.help());
        let _ = writeln!(
            out,
            "::warning file={},line={},col={},title={}::{}",
            property(&warning.file),
            warning.line,
            warning.column,
            property(&format!(
                "altcontacts: {}",
                warning.kind.code().replace('_', " ")
            )),
            data(&message)
        );
    }
    out
}

/// A message as a person may see it, with the escaping GitHub's toolkit
/// applies to a command's message (a CR is already shown as `\r`); a
/// legacy `##[` inside it is broken by a word joiner, since it is read
/// anywhere in a line, this one's too.
fn data(text: &str) -> String {
    crate::printable::printable_lines(text)
        .replace('%', "%25")
        .replace('\n', "%0A")
        .replace("##[", "#\u{2060}#[")
}

/// The token this run stopped GitHub's commands with, if it runs in a step
/// of GitHub Actions.
static STOPPED_WITH: OnceLock<Option<String>> = OnceLock::new();

/// While it lives, GitHub's runner reads no command from this run's
/// output (nothing happens outside GitHub Actions).
pub struct Silence;

/// Stops GitHub's commands for the rest of the run, when it is a step of
/// GitHub Actions (`GITHUB_ACTIONS=true`); they resume when the returned
/// guard is dropped, at the run's end.
pub fn silence() -> Silence {
    let token = STOPPED_WITH.get_or_init(|| {
        (std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true")).then(|| {
            format!(
                "altcontacts-{:016x}{:016x}",
                fastrand::u64(..),
                fastrand::u64(..)
            )
        })
    });
    if let Some(token) = token {
        emit(&format!("::stop-commands::{token}\n"));
    }
    Silence
}

impl Drop for Silence {
    fn drop(&mut self) {
        if let Some(Some(token)) = STOPPED_WITH.get() {
            emit(&format!("::{token}::\n"));
        }
    }
}

/// Prints `commands` (annotations this tool means) so that GitHub reads
/// them: commands resume for them alone.
pub fn print(commands: &str) {
    match STOPPED_WITH.get() {
        Some(Some(token)) => emit(&format!(
            "::{token}::\n{commands}::stop-commands::{token}\n"
        )),
        _ => emit(commands),
    }
}

fn emit(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// ...and to a property's value, where `:` and `,` separate properties.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_problem_is_one_escaped_workflow_command() {
        let text = "version: 1\naccounts:\n  012345678901: {}\n";
        let problems = FileProblems::single(
            "dir,a/contacts:1.yaml",
            text,
            (3, 3),
            "100% wrong:\nreally".to_owned(),
            "fix it".to_owned(),
        );
        assert_eq!(
            github(&problems),
            "::error file=dir%2Ca/contacts%3A1.yaml,line=3,col=3,title=altcontacts%3A invalid contacts file::100%25 wrong:%0Areally%0Ahelp: fix it\n"
        );
    }
}
