//! Problems found in a YAML file, each with its file:line:col and a hint.

use std::fmt;

use super::locate::{Target, locate};
use super::node::YamlPath;

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
    pub source_line: Option<String>,
}

/// Every problem of one file. Displayed as a compiler would, one block each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProblems {
    pub file: String,
    pub problems: Vec<Problem>,
}

/// Walking the text again costs a full parse per problem; past this many a
/// file has one systematic mistake and the rest only repeat it.
const LOCATED_AT_MOST: usize = 200;

impl FileProblems {
    pub fn locate(file: &str, text: &str, diagnostics: Vec<Diagnostic>) -> Self {
        let total = diagnostics.len();
        let mut problems: Vec<Problem> = diagnostics
            .into_iter()
            .take(LOCATED_AT_MOST)
            .map(|diagnostic| {
                let (line, column) = position_of(text, &diagnostic.path, diagnostic.target);
                let help = diagnostic
                    .help
                    .map(|help| with_source_token(help, text, line, column));
                Problem::new(
                    text,
                    line,
                    column,
                    Some(diagnostic.path),
                    diagnostic.message,
                    help,
                )
            })
            .collect();
        // In file order, as a reader fixes them.
        problems.sort_by_key(|problem| (problem.line, problem.column));
        if total > LOCATED_AT_MOST {
            let last = problems.last().map_or((1, 1), |p| (p.line, p.column));
            problems.push(Problem::new(
                text,
                last.0,
                last.1,
                None,
                format!("{} more problems not shown", total - LOCATED_AT_MOST),
                Some("fix the problems above and run `altcontacts validate` again".to_owned()),
            ));
        }
        Self {
            file: file.to_owned(),
            problems,
        }
    }

    /// A single problem at a known position (YAML syntax errors).
    pub fn single(file: &str, text: &str, line: usize, column: usize, message: String) -> Self {
        Self {
            file: file.to_owned(),
            problems: vec![Problem::new(text, line, column, None, message, None)],
        }
    }
}

/// The position of a path's node; a node that does not exist (a missing key)
/// is reported at its nearest existing ancestor.
fn position_of(text: &str, path: &YamlPath, target: Target) -> (usize, usize) {
    let mut segs = path.0.as_slice();
    let mut target = target;
    loop {
        if let Some(position) = locate(text, segs, target) {
            return position;
        }
        match segs.split_last() {
            Some((_, parent)) => segs = parent,
            None => return (1, 1),
        }
        target = Target::Value;
    }
}

/// A hint may quote what the user wrote (`{source}`): YAML has already turned
/// an unquoted `012345678901` into 12345678901, so it is read off the text.
fn with_source_token(help: String, text: &str, line: usize, column: usize) -> String {
    if !help.contains("{source}") {
        return help;
    }
    let token: String = text
        .lines()
        .nth(line.saturating_sub(1))
        .unwrap_or_default()
        .chars()
        .skip(column.saturating_sub(1))
        .take_while(|c| !matches!(c, ':' | ',' | ']' | '}' | '#'))
        .collect();
    help.replace("{source}", token.trim())
}

impl Problem {
    fn new(
        text: &str,
        line: usize,
        column: usize,
        path: Option<YamlPath>,
        message: String,
        help: Option<String>,
    ) -> Self {
        let source_line = text.lines().nth(line.saturating_sub(1)).map(str::to_owned);
        Self {
            line,
            column,
            path,
            message,
            help,
            source_line,
        }
    }
}

impl fmt::Display for FileProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}:{}: ", self.file, problem.line, problem.column)?;
            if let Some(path) = problem.path.as_ref().filter(|p| !p.0.is_empty()) {
                write!(f, "{path}: ")?;
            }
            write!(f, "{}", problem.message)?;
            if let Some(source) = &problem.source_line {
                let gutter = problem.line.to_string();
                let pad = " ".repeat(gutter.len());
                let indent: String = source
                    .chars()
                    .take(problem.column.saturating_sub(1))
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                write!(f, "\n {gutter} | {source}\n {pad} | {indent}^")?;
            }
            if let Some(help) = &problem.help {
                write!(f, "\n  help: {help}")?;
            }
        }
        Ok(())
    }
}
