//! YAML reading and writing for the other modules (the sandbox file, `export`),
//! so that only `config` names the YAML crate.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ConfigError;
use super::diagnostic::FileProblems;
use super::node::strip_location;

/// Reads `text` into `T`, strictly; a problem is reported with its position.
pub fn from_str<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, ConfigError> {
    serde_yaml::from_str(text).map_err(|error| {
        let (line, column) = error
            .location()
            .map_or((1, 1), |loc| (loc.line(), loc.column()));
        ConfigError::Problems(FileProblems::single(
            file,
            text,
            line,
            column,
            strip_location(&error.to_string()),
        ))
    })
}

pub fn to_string<T: Serialize>(value: &T) -> String {
    serde_yaml::to_string(value).expect("plain data types serialize to YAML")
}
