//! A YAML document as a plain tree, read once, so validation can walk all of
//! it and report every problem instead of stopping at the first.
//!
//! serde_yaml's own `Value` silently keeps the last of two equal keys (or
//! reports the duplicate at the mapping rather than at the key), so the tree
//! is built here: a duplicate key is an error located at the second key.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

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
pub struct ParseFailure {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

/// Reads `text` as one YAML document.
pub fn parse(text: &str) -> Result<Node, ParseFailure> {
    // Messages raised here travel through serde_yaml, which prefixes them with
    // its own path; the original text is kept aside to print it clean.
    let raised = RefCell::new(None);
    let seed = NodeSeed {
        raised: &raised,
        source: text,
    };
    match seed.deserialize(serde_yaml::Deserializer::from_str(text)) {
        Ok(node) => Ok(node),
        Err(error) => {
            let (line, column) = error
                .location()
                .map_or((1, 1), |loc| (loc.line(), loc.column()));
            let message = raised
                .into_inner()
                .unwrap_or_else(|| strip_location(&error.to_string()));
            Err(ParseFailure {
                message,
                line,
                column,
            })
        }
    }
}

/// serde_yaml's messages carry " at line L column C" (libyaml's, more than
/// once); the position is shown apart, so they are removed.
pub(super) fn strip_location(message: &str) -> String {
    static POSITION: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r" at line \d+ column \d+").expect("valid regex")
    });
    POSITION.replace_all(message, "").into_owned()
}

#[derive(Clone, Copy)]
struct NodeSeed<'a> {
    raised: &'a RefCell<Option<String>>,
    source: &'a str,
}

impl NodeSeed<'_> {
    /// serde_yaml lends out a plain or unescaped quoted string as a slice of
    /// the source; a quote just before it tells how it was written. A string
    /// that could not be lent had escapes or was a block scalar: not plain.
    fn style_of(&self, value: &str) -> Style {
        let start = self.source.as_ptr() as usize;
        let at = value.as_ptr() as usize;
        if at < start || at > start + self.source.len() {
            return Style::Quoted;
        }
        match self.source.as_bytes().get((at - start).wrapping_sub(1)) {
            Some(b'"' | b'\'') => Style::Quoted,
            _ => Style::Plain,
        }
    }

    fn raise<E: de::Error>(&self, message: String) -> E {
        let error = E::custom(&message);
        self.raised.borrow_mut().get_or_insert(message);
        error
    }
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Node;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Number(v.to_string()))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned(), self.style_of(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned(), Style::Quoted))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut seen = HashSet::new();
        let mut entries = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed {
            node: self,
            seen: &mut seen,
        })? {
            let value = map.next_value_seed(self)?;
            entries.push((key, value));
        }
        merge_keys(entries)
            .map(Node::Map)
            .map_err(|message| self.raise(message))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _data: A) -> Result<Node, A::Error> {
        Err(self.raise("YAML tags (`!tag`) are not supported here".to_owned()))
    }
}

/// Applies YAML merge keys (`<<: *base`, or `<<: [*a, *b]`): the merged
/// mappings' entries are added where the mapping has no key of its own of
/// that name, and of several merged mappings the first wins, as YAML 1.1
/// specifies. Positions of merged values are found again by
/// `locate`, which follows `<<` the same way.
fn merge_keys(entries: Vec<(Key, Node)>) -> Result<Vec<(Key, Node)>, String> {
    let is_merge = |key: &Key| matches!(key, Key::Str(text, Style::Plain) if text == "<<");
    if !entries.iter().any(|(key, _)| is_merge(key)) {
        return Ok(entries);
    }
    let mut own = Vec::new();
    let mut merged = Vec::new();
    for (key, value) in entries {
        if !is_merge(&key) {
            own.push((key, value));
            continue;
        }
        let sources = match value {
            Node::Map(map) => vec![map],
            Node::Seq(items) => items
                .into_iter()
                .map(|item| match item {
                    Node::Map(map) => Ok(map),
                    other => Err(format!(
                        "`<<` merges mappings, and this list holds {}",
                        other.kind()
                    )),
                })
                .collect::<Result<_, _>>()?,
            other => {
                return Err(format!(
                    "`<<` merges a mapping (`<<: *name`) or a list of them, not {}",
                    other.kind()
                ));
            }
        };
        merged.extend(sources.into_iter().flatten());
    }
    for (key, value) in merged {
        if !own
            .iter()
            .any(|(existing, _)| existing.text() == key.text())
        {
            own.push((key, value));
        }
    }
    Ok(own)
}

/// Reads one mapping key and refuses a repeat of an earlier key, so the error
/// carries the position of the repeated key.
struct KeySeed<'a, 'b> {
    node: NodeSeed<'a>,
    seen: &'b mut HashSet<Key>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl KeySeed<'_, '_> {
    fn accept<E: de::Error>(self, key: Key) -> Result<Key, E> {
        if self.seen.insert(key.clone()) {
            Ok(key)
        } else {
            Err(self.node.raise(format!(
                "duplicate key `{}`: each key may appear once in a mapping",
                key.text()
            )))
        }
    }
}

impl<'de> Visitor<'de> for KeySeed<'_, '_> {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scalar key")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key, E> {
        let style = self.node.style_of(v);
        self.accept(Key::Str(v.to_owned(), style))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        self.accept(Key::Str(v.to_owned(), Style::Quoted))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
        self.accept(Key::Number(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
        self.accept(Key::Number(v.to_string()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Key, E> {
        self.accept(Key::Number(v.to_string()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Key, E> {
        self.accept(Key::Number(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
        self.accept(Key::Number(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
        self.accept(Key::Other(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        self.accept(Key::Other("null".to_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Key, A::Error> {
        Err(self.node.raise("a list cannot be a mapping key".to_owned()))
    }
    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<Key, A::Error> {
        Err(self
            .node
            .raise("a mapping cannot be a mapping key".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keys_add_what_the_mapping_does_not_say_itself() {
        let text = "base: &base { a: 1, b: 2 }\nother: &other { c: 3, a: 9 }\nuse:\n  <<: [*base, *other]\n  b: 20\n";
        let Ok(Node::Map(entries)) = parse(text) else {
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
        let Ok(Node::Map(entries)) = parse(text) else {
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
        let Ok(Node::Map(entries)) = parse("a: [plain, 'single', \"double\", \"esc\\tape\"]\n")
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
