//! `contacts.yaml`: reading, validation with located errors, and the
//! resolution of its layers into the desired state.
//!
//! This module is the only one that names the YAML crate; the sandbox and
//! `export` read and write YAML through [`yaml`].

mod diagnostic;
pub mod file;
mod layers;
mod locate;
mod node;
mod validate;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

pub use diagnostic::{Diagnostic, FileProblems, Problem};
pub use node::YamlPath;

use crate::error::Error;
use crate::model::{
    AccountId, Contact, ContactType, Date, Desired, Found, Organization, Slot, Wanted,
};

/// A validated configuration: every reference resolved, every field checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    pub contacts: BTreeMap<String, NamedContact>,
    pub organization: Option<OrgLayers>,
    pub accounts: BTreeMap<AccountId, Layer>,
    pub safety: SafetySettings,
    pub rate: RateSettings,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedContact {
    pub contact: Contact,
    pub reviewed: Option<Date>,
}

/// The slots one layer (defaults, a unit, an account) mentions.
pub type Layer = BTreeMap<ContactType, SlotValue>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotValue {
    pub wanted: Wanted,
    /// The named contact the value refers to, when it is a reference.
    pub contact_name: Option<String>,
    pub reviewed: Option<Date>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgLayers {
    pub defaults: Layer,
    pub units: Vec<UnitLayer>,
    /// In the order written, so a problem can point at its list item.
    pub exclude: Vec<AccountId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitLayer {
    /// The key as written, for provenance and error messages.
    pub key: String,
    pub selector: UnitSelector,
    pub layer: Layer,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnitSelector {
    /// Unit names from the root down: `["Root", "Workloads", "Data"]`.
    Path(Vec<String>),
    Id(String),
}

/// Apply limits as written in the file; flags may override them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SafetySettings {
    pub max_deletes: Option<u32>,
    pub max_updates: Option<u32>,
    pub max_update_percent: Option<u32>,
}

/// Request rates per second as written in the file; flags may override them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RateSettings {
    pub get: Option<f64>,
    pub put: Option<f64>,
    pub delete: Option<f64>,
}

/// A configuration together with the text it came from, so later checks
/// (against the organization) can still point at a line.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    pub file: String,
    pub text: String,
    pub config: Config,
}

impl LoadedConfig {
    pub fn load(path: &Path) -> Result<Self, Error> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: file.clone(),
            source,
            help: Some(format!(
                "pass the file with -f, or create {file} (see contacts.example.yaml)"
            )),
        })?;
        Self::parse(&file, text)
    }

    pub fn parse(file: &str, text: String) -> Result<Self, Error> {
        let root = node::parse(&text).map_err(|failure| {
            Error::Config(FileProblems::single(
                file,
                &text,
                failure.line,
                failure.column,
                failure.message,
            ))
        })?;
        match validate::validate(&root) {
            Ok(config) => Ok(Self {
                file: file.to_owned(),
                text,
                config,
            }),
            Err(diagnostics) => Err(Error::Config(FileProblems::locate(
                file,
                &text,
                diagnostics,
            ))),
        }
    }

    /// The SHA-256 of the file's bytes, recorded in saved plans.
    pub fn digest(&self) -> String {
        text_digest(&self.text)
    }

    /// The desired state: every managed slot of every account in scope.
    /// With an `organization` section, `org` must be the discovered organization.
    /// `caller` decides whether the management account is in scope (a
    /// delegated administrator cannot manage it).
    pub fn resolve(
        &self,
        org: Option<&Organization>,
        caller: &AccountId,
    ) -> Result<Desired, Error> {
        layers::resolve(&self.config, org, caller).map_err(|diagnostics| {
            Error::Config(FileProblems::locate(&self.file, &self.text, diagnostics))
        })
    }

    /// The slots this file manages for an account just discovered (see
    /// [`layers::slots_of`]).
    pub fn slots_of(&self, found: &Found, caller: &AccountId) -> Vec<Slot> {
        layers::slots_of(&self.config, found, caller)
    }
}

pub fn text_digest(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests;
