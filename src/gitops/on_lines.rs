//! The file's problems and warnings as a review puts them on its lines:
//! the path from the repository's top (as the diff names it), the check,
//! the message with its help, and a fingerprint that lasts while the
//! problem does. GitLab's Code Quality report and Bitbucket's annotations
//! are each one shape of these.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::config::FileProblems;
use crate::git::Repository;
use crate::model::Warning;

/// One problem or warning on its line of the review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnLine {
    pub path: String,
    /// `altcontacts.invalid_file`, `altcontacts.WARNING_CODE`.
    pub check: String,
    pub message: String,
    pub line: usize,
    /// The file, the check and the message, not the line (which moves as
    /// the file is edited), so a forge tells new problems from old ones.
    pub fingerprint: String,
    /// A problem that makes the file invalid, not a warning.
    pub invalid: bool,
}

/// The file as the review's diff names it: from the repository's top.
fn repository_path(file: &str) -> String {
    let path = Path::new(file);
    Repository::of(path)
        .path_in_repository(path)
        .unwrap_or_else(|_| file.to_owned())
}

fn on_line(file: &str, check: String, message: String, line: usize, invalid: bool) -> OnLine {
    let path = repository_path(file);
    // As every view for a person shows text: the forge draws it on the line.
    let message = crate::printable::printable_lines(&message);
    let digest = Sha256::digest(format!("{path}\0{check}\0{message}").as_bytes());
    OnLine {
        fingerprint: hex::encode(digest),
        path,
        check,
        message,
        line,
        invalid,
    }
}

/// Every problem of an invalid contacts file.
pub fn problems(problems: &FileProblems) -> Vec<OnLine> {
    problems
        .problems
        .iter()
        .map(|problem| {
            let message = match &problem.help {
                Some(help) => format!("{} (help: {help})", problem.message),
                None => problem.message.clone(),
            };
            on_line(
                &problems.file,
                "altcontacts.invalid_file".to_owned(),
                message,
                problem.line,
                true,
            )
        })
        .collect()
}

/// The file's warnings.
pub fn warnings(warnings: &[Warning]) -> Vec<OnLine> {
    warnings
        .iter()
        .map(|warning| {
            on_line(
                &warning.file,
                format!("altcontacts.{}", warning.kind.code()),
                format!("{} (help: {})", warning.kind.message(), warning.kind.help()),
                warning.line,
                false,
            )
        })
        .collect()
}
