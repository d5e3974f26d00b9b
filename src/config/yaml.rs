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

pub fn to_string<T: Serialize>(value: &T) -> String {
    serde_yaml::to_string(value).expect("plain data types serialize to YAML")
}

/// serde_yaml's messages carry " at line L column C" (libyaml's, more than
/// once); the position is shown apart, so they are removed.
fn strip_location(message: &str) -> String {
    static POSITION: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r" at line \d+ column \d+").expect("valid regex")
    });
    POSITION.replace_all(message, "").into_owned()
}
