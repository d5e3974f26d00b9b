//! A YAML document as a plain tree, read once from its events, with where
//! every node is, so validation can walk all of it, report every problem
//! instead of stopping at the first, and locate each without reading the
//! text again.
//!
//! A duplicate key is an error located at the second key (serde_yaml's
//! `Value` would silently keep the last), merge keys (`<<`) are applied,
//! and plain scalars are resolved as serde_yaml resolves them.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::rc::Rc;

use super::events::{Event, Pos, Reader, ScalarStyle};
use crate::printable::quoted;

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    /// A number, kept as YAML resolved it (`012345678901` becomes `12345678901`).
    Number(String),
    Str(String, Style),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// How a string scalar was written. Account IDs must be quoted: other YAML
/// tools read a plain `012345678901` as a number and drop the zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Style {
    Plain,
    Quoted,
}

/// A mapping key: a scalar, with what kind of scalar it was.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Str(String, Style),
    Number(String),
    Other(String),
}

impl Key {
    /// The key as it is matched when a path is walked again to locate it.
    pub fn text(&self) -> &str {
        match self {
            Key::Str(text, _) | Key::Number(text) | Key::Other(text) => text,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Key::Str(text, _) => Some(text),
            _ => None,
        }
    }
}

impl Node {
    /// What kind of value this is, for messages ("expected a mapping, found a list").
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Null => "nothing (null)",
            Node::Bool(_) => "a boolean",
            Node::Number(_) => "a number",
            Node::Str(..) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The tree as plain data, for reading it into the typed format.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Node::Null => Value::Null,
            Node::Bool(value) => Value::Bool(*value),
            Node::Number(text) => text
                .parse::<u64>()
                .map(Value::from)
                .or_else(|_| text.parse::<i64>().map(Value::from))
                .ok()
                .or_else(|| text.parse::<f64>().ok().map(Value::from))
                .unwrap_or_else(|| Value::String(text.clone())),
            Node::Str(text, _) => Value::String(text.clone()),
            Node::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Node::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.text().to_owned(), value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// One step of the path from the document root to a node.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// The path to a node, printed the way a user would write it:
/// `accounts."111111111111".security.email_address`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YamlPath(pub Vec<Seg>);

impl YamlPath {
    pub fn root() -> Self {
        Self(Vec::new())
    }

    pub fn key(&self, key: &str) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_owned()));
        Self(segs)
    }

    pub fn index(&self, index: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        Self(segs)
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(document)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let plain = !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphabetic() || c == '_' || c == '-');
                    if plain {
                        f.write_str(key)?;
                    } else {
                        write!(f, "{key:?}")?;
                    }
                }
                Seg::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A YAML problem found while reading the tree, with its 1-based position.
#[derive(Debug)]
pub struct ParseFailure {
    pub message: String,
    pub line: usize,
    pub column: usize,
    /// What to do next: every problem of a file has one, the parser's too.
    pub help: String,
}

impl ParseFailure {
    fn at(pos: Pos, message: impl Into<String>, help: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            line: pos.line,
            column: pos.column,
            help: help.into(),
        }
    }
}

/// Collections nested deeper than this are refused, as serde_yaml refuses
/// them: no contacts file needs more than a handful of levels.
const MAX_DEPTH: usize = 128;

/// Aliases may repeat what an anchor holds; past this many nodes in all, a
/// document is refused (a "billion laughs" file would never end).
const MAX_NODES: usize = 1_000_000;

fn too_deep(pos: Pos) -> ParseFailure {
    ParseFailure::at(
        pos,
        "recursion limit exceeded",
        format!(
            "collections nest at most {MAX_DEPTH} levels deep, and a contacts file needs a handful: look for a `[` or `{{` opened here and never closed"
        ),
    )
}

fn too_many(pos: Pos) -> ParseFailure {
    ParseFailure::at(
        pos,
        "repetition limit exceeded",
        format!(
            "a document holds at most {} values, an alias (`*name`) counting as all it repeats: no contacts file needs as many, so check that -f names the contacts file, or repeat large anchors less",
            crate::printable::thousands(MAX_NODES)
        ),
    )
}

const SYNTAX_HELP: &str = "check the YAML here: a `: ` after each key, indentation by spaces, every quote and bracket closed";

/// A syntax error of the reader, with what to do next: a tab in the
/// indentation is the mistake YAML's own message hides best.
fn syntax_failure(text: &str, pos: Pos, message: String) -> ParseFailure {
    let line = text
        .lines()
        .nth(pos.line.saturating_sub(1))
        .unwrap_or_default();
    let before: String = line.chars().take(pos.column).collect();
    let help = if before.contains('\t') {
        format!(
            "YAML indents with spaces, never tabs: replace the tab on line {} with spaces",
            pos.line
        )
    } else {
        SYNTAX_HELP.to_owned()
    };
    ParseFailure::at(pos, message, help)
}

/// Where each node of a document is, beside the [`Node`] tree: what every
/// problem is located by, its path walked once, in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spot {
    Leaf(Pos),
    Seq(Pos, Vec<Spot>),
    /// Each entry by its key as a path matches it (the first, if a key is
    /// repeated): the key's position, and the value's spot. Keyed, so that
    /// locating every problem of a file is linear in their number, not in
    /// their number times the mapping's size.
    Map(Pos, std::collections::BTreeMap<String, (Pos, Spot)>),
}

impl Spot {
    fn pos(&self) -> Pos {
        match self {
            Spot::Leaf(pos) | Spot::Seq(pos, _) | Spot::Map(pos, _) => *pos,
        }
    }

    /// The position of the node at `path`, or of the key that leads to it,
    /// if the path exists.
    pub fn find(&self, path: &[Seg], key: bool) -> Option<Pos> {
        let Some((first, rest)) = path.split_first() else {
            return Some(self.pos());
        };
        match (self, first) {
            (Spot::Seq(_, items), Seg::Index(index)) => items.get(*index)?.find(rest, key),
            (Spot::Map(_, entries), Seg::Key(wanted)) => {
                let (key_pos, value) = entries.get(wanted.as_str())?;
                if rest.is_empty() && key {
                    Some(*key_pos)
                } else {
                    value.find(rest, key)
                }
            }
            _ => None,
        }
    }
}

/// A parsed document: its tree, and where each of its nodes is.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub root: Node,
    pub spots: Spot,
}

/// A node as the events describe it, before scalars are resolved and merge
/// keys applied; an alias shares what its anchor holds.
enum Raw {
    Scalar {
        value: String,
        style: ScalarStyle,
        tag: Option<String>,
        pos: Pos,
    },
    Seq(Pos, Vec<Rc<Raw>>),
    Map(Pos, Vec<(Rc<Raw>, Rc<Raw>)>),
}

impl Raw {
    fn pos(&self) -> Pos {
        match self {
            Raw::Scalar { pos, .. } | Raw::Seq(pos, _) | Raw::Map(pos, _) => *pos,
        }
    }
}

/// Reads `text` as one YAML document, in one pass over its events.
pub fn parse(text: &str) -> Result<Document, ParseFailure> {
    let mut builder = Builder {
        reader: Reader::new(text),
        text,
        anchors: HashMap::new(),
    };
    let Some(raw) = builder.document()? else {
        return Ok(Document {
            root: Node::Null,
            spots: Spot::Leaf(Pos { line: 1, column: 1 }),
        });
    };
    let mut budget = MAX_NODES;
    let (root, spots) = convert(&raw, 0, &mut budget)?;
    Ok(Document { root, spots })
}

struct Builder<'t> {
    reader: Reader<'t>,
    text: &'t str,
    anchors: HashMap<String, Rc<Raw>>,
}

impl Builder<'_> {
    fn next(&mut self) -> Result<(Event, Pos), ParseFailure> {
        self.reader
            .next_event()
            .map_err(|error| syntax_failure(self.text, error.pos, error.message))
    }

    /// The stream's one document; `None` for an empty stream.
    fn document(&mut self) -> Result<Option<Rc<Raw>>, ParseFailure> {
        let mut root = None;
        loop {
            match self.next()? {
                (Event::StreamStart | Event::DocumentEnd, _) => {}
                (Event::DocumentStart, pos) => {
                    if root.is_some() {
                        return Err(ParseFailure::at(
                            pos,
                            "deserializing from YAML containing more than one document is not supported",
                            "a contacts file is one document: remove this `---` and what follows it, or merge it into the first",
                        ));
                    }
                    let (event, pos) = self.next()?;
                    root = Some(self.node(event, pos, 1)?);
                }
                (Event::StreamEnd, _) => return Ok(root),
                (_, pos) => {
                    return Err(ParseFailure::at(pos, "unexpected YAML event", SYNTAX_HELP));
                }
            }
        }
    }

    fn remember(&mut self, anchor: Option<String>, node: Raw) -> Rc<Raw> {
        let node = Rc::new(node);
        if let Some(anchor) = anchor {
            self.anchors.insert(anchor, Rc::clone(&node));
        }
        node
    }

    fn node(&mut self, event: Event, pos: Pos, depth: usize) -> Result<Rc<Raw>, ParseFailure> {
        let collection = |tag: &Option<String>, core: &str| {
            if depth > MAX_DEPTH {
                return Err(too_deep(pos));
            }
            match tag {
                Some(tag) if tag != core => Err(unsupported_tag(pos, tag)),
                _ => Ok(()),
            }
        };
        match event {
            Event::Alias { anchor } => self.anchors.get(&anchor).cloned().ok_or_else(|| {
                ParseFailure::at(
                    pos,
                    format!("unknown anchor {}", quoted(&format!("*{anchor}"))),
                    format!(
                        "mark a value {} before this alias, or write the value out",
                        quoted(&format!("&{anchor}"))
                    ),
                )
            }),
            Event::Scalar {
                anchor,
                tag,
                value,
                style,
            } => Ok(self.remember(
                anchor,
                Raw::Scalar {
                    value,
                    style,
                    tag,
                    pos,
                },
            )),
            Event::SequenceStart { anchor, tag } => {
                collection(&tag, "tag:yaml.org,2002:seq")?;
                let mut items = Vec::new();
                loop {
                    match self.next()? {
                        (Event::SequenceEnd, _) => break,
                        (event, at) => items.push(self.node(event, at, depth + 1)?),
                    }
                }
                Ok(self.remember(anchor, Raw::Seq(pos, items)))
            }
            Event::MappingStart { anchor, tag } => {
                collection(&tag, "tag:yaml.org,2002:map")?;
                let mut entries = Vec::new();
                loop {
                    let key = match self.next()? {
                        (Event::MappingEnd, _) => break,
                        (event, at) => self.node(event, at, depth + 1)?,
                    };
                    let (event, at) = self.next()?;
                    entries.push((key, self.node(event, at, depth + 1)?));
                }
                Ok(self.remember(anchor, Raw::Map(pos, entries)))
            }
            _ => Err(ParseFailure::at(pos, "unexpected YAML event", SYNTAX_HELP)),
        }
    }
}

/// The node and its spot, with scalars resolved and merge keys applied.
fn convert(raw: &Raw, depth: usize, budget: &mut usize) -> Result<(Node, Spot), ParseFailure> {
    if depth > MAX_DEPTH {
        return Err(too_deep(raw.pos()));
    }
    *budget = budget.checked_sub(1).ok_or_else(|| too_many(raw.pos()))?;
    match raw {
        Raw::Scalar {
            value,
            style,
            tag,
            pos,
        } => Ok((
            scalar(value, *style, tag.as_deref(), *pos)?,
            Spot::Leaf(*pos),
        )),
        Raw::Seq(pos, items) => {
            let (mut nodes, mut spots) = (
                Vec::with_capacity(items.len()),
                Vec::with_capacity(items.len()),
            );
            for item in items {
                let (node, spot) = convert(item, depth + 1, budget)?;
                nodes.push(node);
                spots.push(spot);
            }
            Ok((Node::Seq(nodes), Spot::Seq(*pos, spots)))
        }
        Raw::Map(pos, raw_entries) => {
            let entries = mapping(raw_entries, depth, budget)?;
            let mut spots = std::collections::BTreeMap::new();
            for entry in &entries {
                spots
                    .entry(entry.key.text().to_owned())
                    .or_insert_with(|| (entry.key_pos, entry.spot.clone()));
            }
            let nodes = entries
                .into_iter()
                .map(|entry| (entry.key, entry.value))
                .collect();
            Ok((Node::Map(nodes), Spot::Map(*pos, spots)))
        }
    }
}

struct Entry {
    key: Key,
    key_pos: Pos,
    value: Node,
    spot: Spot,
}

/// A mapping's entries: its own, each key once, then what its merge keys
/// (`<<: *base`, or `<<: [*a, *b]`) add that it does not say itself, the
/// first merged mapping winning, as YAML 1.1 specifies. A merged value
/// keeps the position where it is written.
fn mapping(
    raw: &[(Rc<Raw>, Rc<Raw>)],
    depth: usize,
    budget: &mut usize,
) -> Result<Vec<Entry>, ParseFailure> {
    let mut own: Vec<Entry> = Vec::with_capacity(raw.len());
    let mut seen = HashSet::new();
    let mut merged: Vec<Entry> = Vec::new();
    for (raw_key, raw_value) in raw {
        let key = key(raw_key)?;
        if matches!(&key, Key::Str(text, Style::Plain) if text == "<<") {
            let sources: Vec<&Rc<Raw>> = match &**raw_value {
                Raw::Map(..) => vec![raw_value],
                Raw::Seq(_, items) => items.iter().collect(),
                other => {
                    let kind = convert(other, depth + 1, budget)?.0.kind();
                    return Err(ParseFailure::at(
                        other.pos(),
                        format!(
                            "`<<` merges a mapping (`<<: *name`) or a list of them, not {kind}"
                        ),
                        MERGE_HELP,
                    ));
                }
            };
            for source in sources {
                let Raw::Map(_, entries) = &**source else {
                    let kind = convert(source, depth + 1, budget)?.0.kind();
                    return Err(ParseFailure::at(
                        source.pos(),
                        format!("`<<` merges mappings, and this list holds {kind}"),
                        MERGE_HELP,
                    ));
                };
                merged.extend(mapping(entries, depth + 1, budget)?);
            }
            continue;
        }
        if !seen.insert(key.clone()) {
            return Err(ParseFailure::at(
                raw_key.pos(),
                format!(
                    "duplicate key {}: each key may appear once in a mapping",
                    quoted(key.text())
                ),
                "keep one of the two, merged: YAML readers disagree on which one wins",
            ));
        }
        let (value, spot) = convert(raw_value, depth + 1, budget)?;
        own.push(Entry {
            key,
            key_pos: raw_key.pos(),
            value,
            spot,
        });
    }
    for entry in merged {
        if !own
            .iter()
            .any(|existing| existing.key.text() == entry.key.text())
        {
            own.push(entry);
        }
    }
    Ok(own)
}

fn key(raw: &Raw) -> Result<Key, ParseFailure> {
    match raw {
        Raw::Scalar {
            value,
            style,
            tag,
            pos,
        } => Ok(match scalar(value, *style, tag.as_deref(), *pos)? {
            Node::Str(text, style) => Key::Str(text, style),
            Node::Number(text) => Key::Number(text),
            Node::Bool(value) => Key::Other(value.to_string()),
            _ => Key::Other("null".to_owned()),
        }),
        Raw::Seq(pos, _) => Err(ParseFailure::at(
            *pos,
            "a list cannot be a mapping key",
            KEY_HELP,
        )),
        Raw::Map(pos, _) => Err(ParseFailure::at(
            *pos,
            "a mapping cannot be a mapping key",
            KEY_HELP,
        )),
    }
}

/// A scalar as serde_yaml resolves it: a plain one may be null, a boolean
/// or a number; a quoted or block one is a string; the core tags (`!!str`,
/// `!!int`...) say which.
fn scalar(
    value: &str,
    style: ScalarStyle,
    tag: Option<&str>,
    pos: Pos,
) -> Result<Node, ParseFailure> {
    let not = |what: &str| {
        ParseFailure::at(
            pos,
            format!("{} is not {what}", quoted(value)),
            "remove the tag, or write a value of the type it names",
        )
    };
    match tag {
        None | Some("!") if style != ScalarStyle::Plain => {
            Ok(Node::Str(value.to_owned(), Style::Quoted))
        }
        None => Ok(resolve_plain(value)),
        Some("tag:yaml.org,2002:str") => Ok(Node::Str(value.to_owned(), Style::Quoted)),
        Some("tag:yaml.org,2002:null") => match resolve_plain(value) {
            Node::Null => Ok(Node::Null),
            _ => Err(not("null")),
        },
        Some("tag:yaml.org,2002:bool") => match resolve_plain(value) {
            node @ Node::Bool(_) => Ok(node),
            _ => Err(not("a boolean")),
        },
        Some("tag:yaml.org,2002:int" | "tag:yaml.org,2002:float") => match resolve_plain(value) {
            node @ Node::Number(_) => Ok(node),
            _ => Err(not("a number")),
        },
        Some(tag) => Err(unsupported_tag(pos, tag)),
    }
}

const MERGE_HELP: &str = "write `<<: *name`, where `&name` marks a mapping";

const KEY_HELP: &str =
    "a key is a name or a number: quote it if it holds brackets (`\"[a]\": ...`)";

fn unsupported_tag(pos: Pos, tag: &str) -> ParseFailure {
    ParseFailure::at(
        pos,
        format!("YAML tags ({}) are not supported here", quoted(tag)),
        "remove the tag: each field's type is the format's, and quoting a value makes it text",
    )
}

fn resolve_plain(value: &str) -> Node {
    if matches!(value, "" | "~" | "null" | "Null" | "NULL") {
        return Node::Null;
    }
    match value {
        "true" | "True" | "TRUE" => return Node::Bool(true),
        "false" | "False" | "FALSE" => return Node::Bool(false),
        _ => {}
    }
    if let Some(number) = integer(value) {
        return Node::Number(number);
    }
    if let Some(float) = float(value).filter(|_| !digits_but_not_number(value)) {
        return Node::Number(float.to_string());
    }
    Node::Str(value.to_owned(), Style::Plain)
}

/// Leading zeros before digits make a string, not a number (YAML 1.2):
/// `012345678901` stays text.
fn digits_but_not_number(value: &str) -> bool {
    let value = value.strip_prefix(['-', '+']).unwrap_or(value);
    value.len() > 1 && value.starts_with('0') && value[1..].bytes().all(|b| b.is_ascii_digit())
}

/// An integer as serde_yaml reads one (decimal, or `0x`, `0o`, `0b`, with
/// a sign), written out in decimal.
fn integer(value: &str) -> Option<String> {
    let (negative, unsigned) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value.strip_prefix('+').unwrap_or(value)),
    };
    if unsigned.starts_with(['+', '-']) {
        return None;
    }
    let (digits, radix) = if let Some(rest) = unsigned.strip_prefix("0x") {
        (rest, 16)
    } else if let Some(rest) = unsigned.strip_prefix("0o") {
        (rest, 8)
    } else if let Some(rest) = unsigned.strip_prefix("0b") {
        (rest, 2)
    } else {
        if digits_but_not_number(value) {
            return None;
        }
        (unsigned, 10)
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    Some(if negative {
        let signed = i128::try_from(magnitude).ok()?.checked_neg()?;
        signed.to_string()
    } else {
        magnitude.to_string()
    })
}

fn float(value: &str) -> Option<f64> {
    let unsigned = match value.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => value,
    };
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    unsigned
        .parse::<f64>()
        .ok()
        .filter(|float| float.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keys_add_what_the_mapping_does_not_say_itself() {
        let text = "base: &base { a: 1, b: 2 }\nother: &other { c: 3, a: 9 }\nuse:\n  <<: [*base, *other]\n  b: 20\n";
        let Ok(Document {
            root: Node::Map(entries),
            ..
        }) = parse(text)
        else {
            panic!("expected a map")
        };
        let Node::Map(merged) = &entries[2].1 else {
            panic!("expected a map")
        };
        let pairs: Vec<(&str, &Node)> = merged.iter().map(|(k, v)| (k.text(), v)).collect();
        assert_eq!(
            pairs,
            vec![
                ("b", &Node::Number("20".into())),
                ("a", &Node::Number("1".into())),
                ("c", &Node::Number("3".into())),
            ]
        );
        let failure = parse("a: { <<: 3 }\n").expect_err("a merge of a number");
        assert!(
            failure.message.contains("`<<` merges a mapping"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn duplicate_key_is_located_at_the_second_occurrence() {
        let text = "a: 1\nb:\n  c: 2\n  c: 3\n";
        let failure = parse(text).expect_err("duplicate must fail");
        assert_eq!(
            failure.message,
            "duplicate key `c`: each key may appear once in a mapping"
        );
        assert_eq!((failure.line, failure.column), (4, 3));
    }

    #[test]
    fn keys_keep_how_they_were_written() {
        let text = "012345678901: x\n'012345678902': y\n\"012345678903\": z\n112345678904: w\n";
        let Ok(Document {
            root: Node::Map(entries),
            ..
        }) = parse(text)
        else {
            panic!("expected a map")
        };
        let keys: Vec<Key> = entries.into_iter().map(|(key, _)| key).collect();
        assert_eq!(
            keys,
            vec![
                Key::Str("012345678901".to_owned(), Style::Plain),
                Key::Str("012345678902".to_owned(), Style::Quoted),
                Key::Str("012345678903".to_owned(), Style::Quoted),
                Key::Number("112345678904".to_owned()),
            ]
        );
    }

    #[test]
    fn string_values_keep_how_they_were_written() {
        let Ok(Document {
            root: Node::Map(entries),
            ..
        }) = parse("a: [plain, 'single', \"double\", \"esc\\tape\"]\n")
        else {
            panic!()
        };
        let Node::Seq(items) = &entries[0].1 else {
            panic!("expected a list")
        };
        let styles: Vec<Option<Style>> = items
            .iter()
            .map(|item| {
                if let Node::Str(_, style) = item {
                    Some(*style)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(
            styles,
            vec![
                Some(Style::Plain),
                Some(Style::Quoted),
                Some(Style::Quoted),
                Some(Style::Quoted)
            ]
        );
    }

    #[test]
    fn syntax_error_has_position_and_clean_message() {
        let failure = parse("a: [1, 2\nb: 3\n").expect_err("must fail");
        assert!(
            !failure.message.contains(" at line "),
            "{}",
            failure.message
        );
        assert!(failure.line >= 1);
    }

    const DOC: &str = "\
version: 1
accounts:
  \"111111111111\":
    security:
      name: Sec
      email_address: bad
  012345678901:
    billing: absent
organization:
  exclude: [\"1\", \"999999999999\"]
";

    fn at(line: usize, column: usize) -> Option<Pos> {
        Some(Pos { line, column })
    }

    #[test]
    fn every_node_and_key_has_its_position() {
        let spots = parse(DOC).unwrap().spots;
        let path = |segs: &[&str]| -> Vec<Seg> {
            segs.iter()
                .map(|s| match s.parse::<usize>() {
                    Ok(i) if s.len() < 3 => Seg::Index(i),
                    _ => Seg::Key((*s).to_owned()),
                })
                .collect()
        };
        let email = path(&["accounts", "111111111111", "security", "email_address"]);
        assert_eq!(spots.find(&email, false), at(6, 22));
        assert_eq!(spots.find(&email, true), at(6, 7));
        assert_eq!(
            spots.find(&path(&["accounts", "012345678901"]), true),
            at(7, 3)
        );
        assert_eq!(
            spots.find(&path(&["organization", "exclude", "1"]), false),
            at(10, 18)
        );
        assert_eq!(spots.find(&path(&["version"]), false), at(1, 10));
        assert_eq!(spots.find(&path(&["accounts", "nope"]), false), None);
    }

    #[test]
    fn a_merged_value_is_where_it_is_written() {
        let text = "base: &base { a: 1 }\nuse:\n  <<: *base\n  b: 2\n";
        let document = parse(text).unwrap();
        let a = [Seg::Key("use".into()), Seg::Key("a".into())];
        assert_eq!(document.spots.find(&a, false), at(1, 18));
        assert_eq!(
            document
                .spots
                .find(&[Seg::Key("use".into()), Seg::Key("b".into())], false),
            at(4, 6)
        );
    }

    #[test]
    fn deep_nesting_is_refused_at_once_and_located() {
        let text = "[".repeat(100_000);
        let started = std::time::Instant::now();
        let failure = parse(&text).expect_err("too deep");
        assert_eq!(failure.message, "recursion limit exceeded");
        assert_eq!((failure.line, failure.column), (1, 129));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn scalars_resolve_as_serde_yaml_resolves_them() {
        let Ok(Document {
            root: Node::Seq(items),
            ..
        }) = parse("[~, null, '', true, FALSE, 12, -3, 0x1f, +5, 1.5, 1e3, .inf, 012, '12', abc]")
        else {
            panic!("a list")
        };
        let number = |text: &str| Node::Number(text.to_owned());
        assert_eq!(
            items,
            vec![
                Node::Null,
                Node::Null,
                Node::Str(String::new(), Style::Quoted),
                Node::Bool(true),
                Node::Bool(false),
                number("12"),
                number("-3"),
                number("31"),
                number("5"),
                number("1.5"),
                number("1000"),
                number("inf"),
                Node::Str("012".into(), Style::Plain),
                Node::Str("12".into(), Style::Quoted),
                Node::Str("abc".into(), Style::Plain),
            ]
        );
        let Ok(Document {
            root: Node::Map(entries),
            ..
        }) = parse("a: |\n  block\n")
        else {
            panic!("a mapping")
        };
        assert_eq!(
            entries[0].1,
            Node::Str("block\n".into(), Style::Quoted),
            "a block is not plain"
        );
    }

    #[test]
    fn path_display_quotes_what_needs_quoting() {
        let path = YamlPath::root()
            .key("accounts")
            .key("111111111111")
            .key("security")
            .index(2);
        assert_eq!(path.to_string(), "accounts.\"111111111111\".security[2]");
    }
}
