//! Problems found in a YAML file, each with its file:line:col and a hint.

use std::fmt;

use super::node::{Spot, YamlPath};
use crate::printable::{printable, printable_line, shown_width};

/// Which part of a mapping entry a problem points at: the value, or its key
/// (an unknown key, or an account ID that must be quoted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Value,
    Key,
}

/// A problem at a path, before its position in the text is looked up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: YamlPath,
    pub target: Target,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A problem with the value at `path`.
    pub fn at(path: &YamlPath, message: impl Into<String>) -> Self {
        Self {
            path: path.clone(),
            target: Target::Value,
            message: message.into(),
            help: None,
        }
    }

    /// A problem with the key that leads to `path` (an unknown or malformed key).
    pub fn at_key(path: &YamlPath, message: impl Into<String>) -> Self {
        Self {
            path: path.clone(),
            target: Target::Key,
            message: message.into(),
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// The closest of `candidates` to a misspelt `word`, if one is close enough
/// to be worth suggesting.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(word, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= 2.max(candidate.len() / 3))
        .min()
        .map(|(_, candidate)| candidate)
}

/// A located problem, ready to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub path: Option<YamlPath>,
    pub message: String,
    pub help: Option<String>,
    /// Shared by the problems of one line: a generated file can hold a line
    /// of megabytes with a problem every few bytes.
    pub source_line: Option<std::sync::Arc<str>>,
}

/// Every problem of one file. Displayed as a compiler would, one block each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProblems {
    pub file: String,
    pub problems: Vec<Problem>,
}

/// The human view shows this many problems; past them a file has one
/// systematic mistake and the rest only repeat it. Annotations and JSON
/// carry them all.
const SHOWN_AT_MOST: usize = 200;

impl FileProblems {
    /// Every diagnostic located by the document's spots: a walk in memory
    /// each, not another read of the text.
    pub fn locate(file: &str, text: &str, spots: &Spot, diagnostics: Vec<Diagnostic>) -> Self {
        let lines: Vec<&str> = text.lines().collect();
        let mut shared = std::collections::HashMap::new();
        let mut starts = std::collections::HashMap::new();
        let mut problems: Vec<Problem> = diagnostics
            .into_iter()
            .map(|diagnostic| {
                let (line, column) = position_of(spots, &diagnostic.path, diagnostic.target);
                let help = diagnostic
                    .help
                    .map(|help| with_source_token(help, &lines, &mut starts, line, column));
                let source = shared
                    .entry(line)
                    .or_insert_with(|| source_line(&lines, line))
                    .clone();
                Problem {
                    line,
                    column,
                    path: Some(diagnostic.path),
                    message: diagnostic.message,
                    help,
                    source_line: source,
                }
            })
            .collect();
        // In file order, as a reader fixes them.
        problems.sort_by_key(|problem| (problem.line, problem.column));
        Self {
            file: file.to_owned(),
            problems,
        }
    }

    /// A single problem at a known position (YAML syntax errors).
    pub fn single(
        file: &str,
        text: &str,
        (line, column): (usize, usize),
        message: String,
        help: String,
    ) -> Self {
        let lines: Vec<&str> = text.lines().collect();
        Self {
            file: file.to_owned(),
            problems: vec![Problem {
                line,
                column,
                path: None,
                message,
                help: Some(help),
                source_line: source_line(&lines, line),
            }],
        }
    }
}

/// The position of a path's node; a node that does not exist (a missing key)
/// is reported at its nearest existing ancestor.
fn position_of(spots: &Spot, path: &YamlPath, target: Target) -> (usize, usize) {
    let mut segs = path.0.as_slice();
    let mut key = target == Target::Key;
    loop {
        if let Some(pos) = spots.find(segs, key) {
            return (pos.line, pos.column);
        }
        match segs.split_last() {
            Some((_, parent)) => segs = parent,
            None => return (1, 1),
        }
        key = false;
    }
}

/// A hint may quote what the user wrote (`{source}`): YAML has already turned
/// an unquoted `012345678901` into 12345678901, so it is read off the text.
/// `starts` holds, per line, where each of its characters starts: found
/// once a line, so that many problems on one long line cost each a lookup.
fn with_source_token(
    help: String,
    lines: &[&str],
    starts: &mut std::collections::HashMap<usize, Vec<usize>>,
    line: usize,
    column: usize,
) -> String {
    if !help.contains("{source}") {
        return help;
    }
    let text = lines
        .get(line.saturating_sub(1))
        .copied()
        .unwrap_or_default();
    let starts = starts
        .entry(line)
        .or_insert_with(|| text.char_indices().map(|(at, _)| at).collect());
    let from = starts
        .get(column.saturating_sub(1))
        .copied()
        .unwrap_or(text.len());
    let token: String = text[from..]
        .chars()
        .take_while(|c| !matches!(c, ':' | ',' | ']' | '}' | '#'))
        .collect();
    help.replace("{source}", token.trim())
}

/// Line `line` (from 1) of the text, to quote under a problem.
fn source_line(lines: &[&str], line: usize) -> Option<std::sync::Arc<str>> {
    lines.get(line.saturating_sub(1)).map(|line| (*line).into())
}

/// Longest source line shown whole; of a longer one, the part around the
/// column (a minified or generated file can hold a line of megabytes).
const LINE_SHOWN_AT_MOST: usize = 120;

/// The part of `line` to show and where `column` falls in it.
fn excerpt(line: &str, column: usize) -> (String, usize) {
    let length = line.chars().count();
    if length <= LINE_SHOWN_AT_MOST {
        return (line.to_owned(), column);
    }
    let start = column
        .saturating_sub(LINE_SHOWN_AT_MOST / 2)
        .min(length - LINE_SHOWN_AT_MOST);
    let middle: String = line.chars().skip(start).take(LINE_SHOWN_AT_MOST).collect();
    let (head, tail) = (
        if start > 0 { "…" } else { "" },
        if start + LINE_SHOWN_AT_MOST < length {
            "…"
        } else {
            ""
        },
    );
    (
        format!("{head}{middle}{tail}"),
        column - start + head.chars().count(),
    )
}

impl fmt::Display for FileProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().take(SHOWN_AT_MOST).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "{}:{}:{}: ",
                printable(&self.file),
                problem.line,
                problem.column
            )?;
            if let Some(path) = problem.path.as_ref().filter(|p| !p.0.is_empty()) {
                write!(f, "{path}: ")?;
            }
            // A message is one line; one that quotes a parser's words
            // (serde's) may hold a value as it was written.
            write!(f, "{}", printable(&problem.message))?;
            if let Some(source) = &problem.source_line {
                let gutter = problem.line.to_string();
                let pad = " ".repeat(gutter.len());
                let (shown, column) = excerpt(source, problem.column);
                // The caret stays under its column however wide the
                // escapes before it are.
                let indent: String = shown
                    .chars()
                    .take(column.saturating_sub(1))
                    .map(|c| {
                        if c == '\t' {
                            "\t".to_owned()
                        } else {
                            " ".repeat(shown_width(c))
                        }
                    })
                    .collect();
                let shown = printable_line(&shown);
                write!(f, "\n {gutter} | {shown}\n {pad} | {indent}^")?;
            }
            write!(f, "{}", crate::hint::Hint::of(&problem.help))?;
        }
        if self.problems.len() > SHOWN_AT_MOST {
            write!(
                f,
                "\n... and {} more problems, each with its line: `altcontacts validate --format github` (or `--format json`) lists them all",
                self.problems.len() - SHOWN_AT_MOST
            )?;
        }
        Ok(())
    }
}
