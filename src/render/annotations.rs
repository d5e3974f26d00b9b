//! Problems of a contacts file as GitHub Actions workflow commands, so
//! GitHub shows each on its line of the pull request's diff.

use std::fmt::Write;

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
/// applies to a command's message (a CR is already shown as `\r`).
fn data(text: &str) -> String {
    crate::printable::printable_lines(text)
        .replace('%', "%25")
        .replace('\n', "%0A")
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
