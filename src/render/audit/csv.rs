//! `audit --format csv`: one row per finding, columns as docs/audit.md
//! lists them.

use super::table::{COLUMNS, rows};
use crate::audit::Audit;
use crate::config::LoadedConfig;

/// One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line
/// break, quotes doubled. A cell a spreadsheet would read as a formula
/// (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return) is
/// prefixed with `'`, so an account name or a message from AWS cannot run
/// in the reader's spreadsheet.
fn cell(text: &str) -> String {
    let neutral = match text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        true => format!("'{text}"),
        false => text.to_owned(),
    };
    match neutral.contains([',', '"', '\n', '\r']) {
        true => format!("\"{}\"", neutral.replace('"', "\"\"")),
        false => neutral,
    }
}

/// `audit --format csv`: a header line, then one line per finding, each
/// ended by CRLF as RFC 4180 has it.
pub fn table(audit: &Audit, config: Option<&LoadedConfig>) -> String {
    let line = |cells: &[String]| {
        let mut line = cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
        line.push_str("\r\n");
        line
    };
    let header: Vec<String> = COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    let mut out = line(&header);
    for row in rows(audit, config) {
        out.push_str(&line(&row.cells()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_as_rfc_4180_says_and_formulas_are_neutralised() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a, b"), "\"a, b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1 202 555 0100"), "'+1 202 555 0100");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("a=b"), "a=b", "only a leading sign is a formula");
    }
}
