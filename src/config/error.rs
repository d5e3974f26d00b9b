//! How reading a contacts file fails: the file cannot be read, or what it
//! says is wrong (every problem, each at its line and column).

use super::FileProblems;
use crate::model::count;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}", problems_message(.0))]
    Problems(FileProblems),

    #[error("cannot read {path}: {source}{}", crate::hint::Hint(Some(.help)))]
    Read {
        path: String,
        source: std::io::Error,
        help: String,
    },

    /// A file that is not read: a link out of the repository, not a
    /// regular file, too big, not text.
    #[error("refusing to read {path}: {why}{}", crate::hint::Hint(Some(.help)))]
    Refused {
        path: String,
        why: String,
        help: String,
    },
}

fn problems_message(problems: &FileProblems) -> String {
    format!(
        "{} is not valid ({}):\n{problems}",
        crate::printable::printable(&problems.file),
        count(problems.problems.len(), "problem")
    )
}
