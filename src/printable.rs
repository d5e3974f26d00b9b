//! Text safe to show a person, wherever it is shown: a terminal, a job's
//! log, a Markdown comment, a snippet of the contacts file. A value read
//! from AWS or committed in a pull request may hold control characters
//! (ESC, CR, NUL) or the invisible ones that reorder text (U+202E) or
//! break a line where no newline is seen (U+2028): each is shown escaped
//! (`\u{1b}`, `\r`), so it cannot move the cursor, recolor the terminal,
//! or make one thing read as another (CVE-2021-42574, "Trojan Source").

/// Whether `c` is shown escaped; `keep` names the layout characters a
/// composed message may hold as themselves.
fn hidden(c: char, keep: &[char]) -> bool {
    !keep.contains(&c)
        && (c.is_control()
            || matches!(
                c,
                '\u{061c}'
                    | '\u{200b}'..='\u{200f}'
                    | '\u{2028}'..='\u{202e}'
                    | '\u{2060}'..='\u{2069}'
                    | '\u{feff}'
            ))
}

fn escaped(text: &str, keep: &[char]) -> String {
    if !text.chars().any(|c| hidden(c, keep)) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if hidden(c, keep) {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Whether a value's `c` is shown escaped (a newline and a tab too).
pub fn needs_escape(c: char) -> bool {
    hidden(c, &[])
}

/// One value (a name, an email, a line of a file): everything above is
/// escaped, newlines and tabs too.
pub fn printable(text: &str) -> String {
    escaped(text, &[])
}

/// A message already composed of lines (an error with its snippet and its
/// help): its newlines and tabs stay, every other character above is
/// escaped.
pub fn printable_lines(text: &str) -> String {
    escaped(text, &['\n', '\t'])
}

/// A value the file writes (a name, a key, an account ID), quoted in a
/// message: in backticks, shown as every value is ([`printable`]), so a
/// `\n` written in the file stays two characters and cannot start a line
/// of the message that reads as the tool's own (`Plan: ...`).
pub fn quoted(value: &str) -> String {
    format!("`{}`", printable(value))
}

/// How many columns `c` takes once shown: what a caret under a snippet
/// counts to stay under its column.
pub fn shown_width(c: char) -> usize {
    if hidden(c, &['\t']) {
        c.escape_debug().count()
    } else {
        1
    }
}

/// A line of a file as shown in a snippet: its tabs stay (they are the
/// line's layout, and the caret line repeats them).
pub fn printable_line(line: &str) -> String {
    escaped(line, &['\t'])
}

/// A limit as people write it: 65536 as "65,536".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A size as a limit's message says it: 52428800 bytes as "52.4 MB".
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_said_as_people_write_them() {
        assert_eq!(thousands(65_536), "65,536");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn control_and_invisible_characters_are_shown_escaped() {
        assert_eq!(
            printable("Ops\u{1b}[2J\r\nTeam\0\u{202e}x"),
            "Ops\\u{1b}[2J\\r\\nTeam\\0\\u{202e}x"
        );
        assert_eq!(printable("Équipe Sécurité"), "Équipe Sécurité");
    }

    #[test]
    fn line_and_paragraph_separators_and_isolates_are_escaped() {
        assert_eq!(
            printable("a\u{2028}b\u{2029}c\u{2066}d\u{061c}e"),
            "a\\u{2028}b\\u{2029}c\\u{2066}d\\u{61c}e"
        );
    }

    #[test]
    fn a_composed_message_keeps_its_lines_and_tabs_only() {
        assert_eq!(
            printable_lines("one\n\ttwo\u{202e}\r"),
            "one\n\ttwo\\u{202e}\\r"
        );
        assert_eq!(printable_line("\tx\u{2028}\n"), "\tx\\u{2028}\\n");
    }

    #[test]
    fn a_caret_counts_an_escaped_character_as_wide_as_its_escape() {
        assert_eq!(shown_width('a'), 1);
        assert_eq!(shown_width('\t'), 1);
        assert_eq!(shown_width('\u{202e}'), "\\u{202e}".len());
    }
}
