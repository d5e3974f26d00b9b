//! YAML reading and writing for the other modules (the sandbox file, `export`),
//! so that only `config` names the YAML crate.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ConfigError;
use super::diagnostic::FileProblems;

/// Reads `text` into `T`, strictly; a problem is reported with its position.
pub fn from_str<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, ConfigError> {
    serde_yaml::from_str(text).map_err(|error| {
        let (line, column) = error
            .location()
            .map_or((1, 1), |loc| (loc.line(), loc.column()));
        ConfigError::Problems(FileProblems::single(
            file,
            text,
            (line, column),
            strip_location(&error.to_string()),
            "check the YAML and the field named here against the sandbox file's format (docs/sandbox.md)".to_owned(),
        ))
    })
}

/// `value` as YAML in which every string that holds a character a log or
/// a terminal would act on (a line break, a control character, a line or
/// paragraph separator, a direction mark) is one double-quoted scalar with
/// that character escaped: YAML's own choice for a string with a line
/// break is a block scalar, which prints each line as it is, and a line of
/// a name may start with `::`, which GitHub's runner obeys.
pub fn to_string<T: Serialize>(value: &T) -> String {
    let mut document = serde_yaml::to_value(value).expect("plain data types serialize to YAML");
    let nonce = format!("{:016x}", fastrand::u64(..));
    let mut escaped = Vec::new();
    set_aside(&mut document, &nonce, &mut escaped);
    let mut text = serde_yaml::to_string(&document).expect("plain data types serialize to YAML");
    // The newest first: `…_1` is the start of `…_10`.
    for (n, quoted) in escaped.iter().enumerate().rev() {
        text = text.replace(&placeholder(&nonce, n), quoted);
    }
    text
}

/// What stands in a document for its `n`th escaped string until it is
/// written: a plain scalar YAML writes as it is.
fn placeholder(nonce: &str, n: usize) -> String {
    format!("altcontacts_escaped_{nonce}_{n}")
}

/// Replaces each string (key or value) that needs escaping by a
/// placeholder, keeping its double-quoted form in `escaped`.
fn set_aside(value: &mut serde_yaml::Value, nonce: &str, escaped: &mut Vec<String>) {
    let mut aside = |text: &str| -> Option<serde_yaml::Value> {
        if !text.chars().any(crate::printable::needs_escape) {
            return None;
        }
        escaped.push(double_quoted(text));
        Some(serde_yaml::Value::String(placeholder(
            nonce,
            escaped.len() - 1,
        )))
    };
    match value {
        serde_yaml::Value::String(text) => {
            if let Some(replaced) = aside(text) {
                *value = replaced;
            }
        }
        serde_yaml::Value::Sequence(items) => {
            for item in items {
                set_aside(item, nonce, escaped);
            }
        }
        serde_yaml::Value::Mapping(map) => {
            let entries: Vec<(serde_yaml::Value, serde_yaml::Value)> =
                std::mem::take(map).into_iter().collect();
            for (mut key, mut item) in entries {
                set_aside(&mut key, nonce, escaped);
                set_aside(&mut item, nonce, escaped);
                map.insert(key, item);
            }
        }
        serde_yaml::Value::Tagged(tagged) => set_aside(&mut tagged.value, nonce, escaped),
        _ => {}
    }
}

/// `text` as a YAML double-quoted scalar, every character that needs it
/// escaped (`\n`, `\uXXXX`).
fn double_quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if crate::printable::needs_escape(c) => match u32::from(c) {
                code @ 0..=0xFFFF => out.push_str(&format!("\\u{code:04X}")),
                code => out.push_str(&format!("\\U{code:08X}")),
            },
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// serde_yaml's messages carry " at line L column C" (libyaml's, more than
/// once); the position is shown apart, so they are removed.
fn strip_location(message: &str) -> String {
    static POSITION: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r" at line \d+ column \d+").expect("valid regex")
    });
    POSITION.replace_all(message, "").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_that_a_log_would_act_on_is_one_escaped_double_quoted_line() {
        let value = std::collections::BTreeMap::from([
            ("name", "Ops\n::error::forged\u{2028}x \u{1b}[2J \"q\" \\"),
            ("plain", "Security Team"),
        ]);
        let text = to_string(&value);
        assert_eq!(
            text,
            "name: \"Ops\\n::error::forged\\u2028x \\u001B[2J \\\"q\\\" \\\\\"\nplain: Security Team\n"
        );
        let back: std::collections::BTreeMap<String, String> = serde_yaml::from_str(&text).unwrap();
        assert_eq!(back["name"], value["name"]);
    }
}
