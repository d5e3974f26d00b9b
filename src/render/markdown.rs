//! Text that is safe in Markdown wherever a forge shows it: a comment, a
//! table cell, a step summary. Every output that writes Markdown escapes
//! with these two.

use super::printable;

/// Plain text, safe anywhere in a line and inside a table cell: every
/// character that Markdown or HTML could read as syntax is escaped, so a
/// name read from AWS cannot become a link, an image, formatting, a tag or
/// a new cell. Control characters are shown escaped. And it references and
/// pings nothing on any forge: a forge finds `@team`, `#1` or
/// `owner/repo#1` in the text a backslash leaves, so each sigil is followed
/// by a word joiner, which reads as nothing and ends the reference.
pub fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in printable(text).chars() {
        // `:`, `@` and `.` too: GitHub links bare `http://`, `www.` and
        // e-mail addresses.
        if "\\`*_[]<>|~&:@.".contains(c) {
            out.push('\\');
        }
        out.push(c);
        if REFERENCE_SIGILS.contains(c) {
            out.push(WORD_JOINER);
        }
    }
    out
}

/// What starts a reference or a mention on some forge: `@user` and `#1`
/// everywhere, `!1` (a merge request), `%milestone`, `~label`, `$snippet`
/// and `&epic` on GitLab. A code span references nothing on any of them,
/// so values shown in one need none of this.
const REFERENCE_SIGILS: &str = "@#!%~$&";

/// U+2060: no width, no break, not a word character.
const WORD_JOINER: char = '\u{2060}';

/// A value in a code span that nothing inside can close: the fence is one
/// backtick longer than the longest run of backticks in the text (CommonMark
/// 6.1). Pipes are escaped, which GitHub's tables require even inside code.
pub fn code(text: &str) -> String {
    let text = printable(text).replace('|', "\\|");
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    // A space keeps a leading or trailing backtick off the fence; CommonMark
    // strips one space from each side of the content.
    let pad = if text.starts_with('`') || text.ends_with('`') || text.starts_with(' ') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}
