//! How a message's hint (what to do next) is shown on a terminal: on its
//! own line, after the message, the same way for every kind of error and
//! warning. Forges' own formats (annotations, Code Quality) carry hints in
//! theirs.

use std::fmt;

/// A hint after a message: `\n  help: TEXT`, or nothing without one.
#[derive(Clone, Copy, Debug)]
pub struct Hint<'a>(pub Option<&'a str>);

impl<'a> Hint<'a> {
    pub fn of(help: &'a Option<String>) -> Self {
        Self(help.as_deref())
    }
}

impl fmt::Display for Hint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(help) => write!(f, "\n{}", line(help)),
            None => Ok(()),
        }
    }
}

/// A hint as a line of a list of hints (after several failures).
pub fn line(help: &str) -> String {
    // A hint may quote the file or AWS: it is shown as any other text is.
    format!("  help: {}", crate::printable::printable_lines(help))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_is_its_own_line_after_the_message_and_nothing_without_one() {
        assert_eq!(
            format!("failed{}", Hint(Some("retry"))),
            "failed\n  help: retry"
        );
        assert_eq!(format!("failed{}", Hint(None)), "failed");
    }
}
