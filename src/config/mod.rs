//! `contacts.yaml`: reading, validation with located errors, and the
//! resolution of its layers into the desired state.
//!
//! This module is the only one that names the YAML crate; the sandbox and
//! `export` read and write YAML through [`yaml`].

mod diagnostic;
mod error;
mod events;
pub mod file;
mod layers;
mod node;
pub mod reading;
mod validate;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

pub use crate::printable::quoted;
pub use diagnostic::{Diagnostic, FileProblems, Problem};
pub use error::ConfigError;
pub use file::{AccessSpec, AuditSpec, RateSpec, SafetySpec};
pub use node::YamlPath;

pub use layers::{AccountScope, unit_depth};

use crate::model::{
    AccountId, Contact, ContactType, Date, Desired, Found, Organization, Value, Wanted, Warning,
};

/// A validated configuration: every reference resolved, every field checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    pub contacts: BTreeMap<String, NamedContact>,
    pub organization: Option<OrgLayers>,
    pub accounts: BTreeMap<AccountId, Layer>,
    pub safety: SafetySpec,
    pub rate: RateSpec,
    pub access: AccessSpec,
    /// The domains contact addresses and root emails must be on (`audit:
    /// email_domains`); empty, any domain.
    pub email_domains: Vec<String>,
    /// The findings the file accepts (`audit.mute`).
    pub mutes: Vec<Mute>,
}

/// A finding accepted for a reason until a date (`audit.mute`, or a mute
/// file beside the contacts file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mute {
    pub check: crate::model::Check,
    pub scope: MuteScope,
    pub reason: String,
    /// The last day it mutes.
    pub until: Date,
    /// Where it is written, to point at it.
    pub path: YamlPath,
}

/// The accounts a mute covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MuteScope {
    /// `account: "*"`: every account, and the findings about none.
    Every,
    Account(AccountId),
    Unit(UnitSelector),
}

impl std::fmt::Display for MuteScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MuteScope::Every => f.write_str("every account"),
            MuteScope::Account(id) => write!(f, "{id}"),
            MuteScope::Unit(unit) => write!(f, "the accounts of {unit}"),
        }
    }
}

impl UnitSelector {
    /// The unit of `units` (as [`Organization::units_with_paths`] lists
    /// them) this selects, if the organization has it.
    pub fn find_in<'o>(
        &self,
        units: &[(Vec<String>, &'o crate::model::OrgUnit)],
    ) -> Option<&'o crate::model::OrgUnit> {
        units
            .iter()
            .find(|(path, found)| match self {
                UnitSelector::Id(id) => &found.id == id,
                UnitSelector::Path(segments) => path == segments,
            })
            .map(|(_, found)| *found)
    }
}

/// As the file writes it: an OU id, or a path with `/` in a name escaped.
impl std::fmt::Display for UnitSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnitSelector::Id(id) => f.write_str(id),
            UnitSelector::Path(path) => f.write_str(&unit_path_key(path)),
        }
    }
}

/// A mute with the file and line that write it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlacedMute {
    pub mute: Mute,
    pub file: String,
    pub line: usize,
    pub column: usize,
}

/// The mutes of a file that holds only `mute:` (`audit --mute FILE`), read
/// and checked as the contacts file is.
pub fn load_mutes(path: &Path) -> Result<Vec<PlacedMute>, ConfigError> {
    let file = path.display().to_string();
    let text = reading::read_text(path, &reading::MUTES).map_err(|unread| match unread {
        reading::Unread::Io(source) if source.kind() == std::io::ErrorKind::NotFound => {
            ConfigError::Read {
                path: crate::printable::printable(&file),
                source,
                help: "check the path --mute names: a mute file holds `mute:` and a list of mutes, as docs/audit.md shows".to_owned(),
            }
        }
        unread => unread.error(path),
    })?;
    let node::Document { root, spots } = node::parse(&text).map_err(|failure| {
        ConfigError::Problems(FileProblems::single(
            &file,
            &text,
            (failure.line, failure.column),
            failure.message,
            failure.help,
        ))
    })?;
    let mutes = validate::validate_mute_file(&root).map_err(|diagnostics| {
        ConfigError::Problems(FileProblems::locate(&file, &text, &spots, diagnostics))
    })?;
    Ok(place_mutes(&file, &spots, mutes))
}

fn place_mutes(file: &str, spots: &node::Spot, mutes: Vec<Mute>) -> Vec<PlacedMute> {
    mutes
        .into_iter()
        .map(|mute| {
            let pos = spots.find(&mute.path.0, false).unwrap_or_default();
            PlacedMute {
                file: file.to_owned(),
                line: pos.line.max(1),
                column: pos.column.max(1),
                mute,
            }
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedContact {
    pub contact: Contact,
    pub reviewed: Option<Date>,
}

/// The slots one layer (defaults, a unit, an account) mentions, and the
/// topics it names for its contacts' subscriptions (`notices`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layer {
    pub slots: BTreeMap<ContactType, SlotValue>,
    pub notices: BTreeMap<ContactType, std::collections::BTreeSet<crate::model::Topic>>,
}

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

/// An email address as the file writes it, with its 1-based position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenAddress {
    pub address: String,
    /// What writes it: "contact `secops`", or the slot's path.
    pub what: String,
    pub line: usize,
    pub column: usize,
}

/// A configuration together with the text it came from, so later checks
/// (against the organization) can still point at a line.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    pub file: String,
    pub text: String,
    pub config: Config,
    /// Where each node of the file is, for problems found later (against
    /// the organization).
    spots: node::Spot,
}

impl LoadedConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::parse(
            &path.display().to_string(),
            reading::read(path, &reading::CONTACTS)?,
        )
    }

    pub fn parse(file: &str, text: String) -> Result<Self, ConfigError> {
        // Editors on Windows may start a UTF-8 file with a byte-order mark;
        // it is not part of the document.
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_owned(),
            None => text,
        };
        let node::Document { root, spots } = node::parse(&text).map_err(|failure| {
            ConfigError::Problems(FileProblems::single(
                file,
                &text,
                (failure.line, failure.column),
                failure.message,
                failure.help,
            ))
        })?;
        match validate::validate(&root) {
            Ok(config) => {
                // The types are the format: a file the validator passed must
                // also read into them, or their disagreement is an error
                // here, never a value silently dropped.
                if let Err(error) = serde_json::from_value::<file::ConfigFile>(root.to_json()) {
                    return Err(ConfigError::Problems(FileProblems::single(
                        file,
                        &text,
                        (1, 1),
                        format!(
                            "the file does not fit the format's types: {}",
                            crate::printable::printable(&error.to_string())
                        ),
                        "the checks and the types of altcontacts disagree on this file: report it, with the file, as a bug".to_owned(),
                    )));
                }
                Ok(Self {
                    file: file.to_owned(),
                    text,
                    config,
                    spots,
                })
            }
            Err(diagnostics) => Err(ConfigError::Problems(FileProblems::locate(
                file,
                &text,
                &spots,
                diagnostics,
            ))),
        }
    }

    /// The file's mutes (`audit.mute`), each at its line.
    pub fn mutes(&self) -> Vec<PlacedMute> {
        place_mutes(&self.file, &self.spots, self.config.mutes.clone())
    }

    /// The SHA-256 of the file's bytes, recorded in saved plans.
    pub fn digest(&self) -> String {
        text_digest(&self.text)
    }

    /// The desired state: every managed slot of every account in scope,
    /// with the file's warnings located. With an `organization` section,
    /// `org` must be the discovered organization. `caller` decides whether
    /// the management account is in scope (a delegated administrator
    /// cannot manage it).
    pub fn resolve(
        &self,
        org: Option<&Organization>,
        caller: &AccountId,
    ) -> Result<Desired, ConfigError> {
        let (mut desired, warnings) =
            layers::resolve(&self.config, org, caller).map_err(|diagnostics| {
                ConfigError::Problems(FileProblems::locate(
                    &self.file,
                    &self.text,
                    &self.spots,
                    diagnostics,
                ))
            })?;
        desired.warnings = warnings
            .into_iter()
            .map(|(kind, path)| {
                let pos = self.spots.find(&path.0, false).unwrap_or_default();
                Warning {
                    kind,
                    file: self.file.clone(),
                    line: pos.line.max(1),
                    column: pos.column.max(1),
                }
            })
            .collect();
        Ok(desired)
    }

    /// Every email address the file writes, where it writes it: named
    /// contacts, and inline contacts of the defaults, units and accounts.
    pub fn written_addresses(&self) -> Vec<WrittenAddress> {
        let mut found = Vec::new();
        let mut note = |address: &str, what: String, path: YamlPath| {
            let pos = self
                .spots
                .find(&path.key("email_address").0, false)
                .unwrap_or_default();
            found.push(WrittenAddress {
                address: address.to_owned(),
                what,
                line: pos.line.max(1),
                column: pos.column.max(1),
            });
        };
        let root = YamlPath::root();
        for (name, named) in &self.config.contacts {
            note(
                &named.contact.email_address,
                format!("contact {}", quoted(name)),
                root.key("contacts").key(name),
            );
        }
        let mut layers: Vec<(&Layer, YamlPath)> = Vec::new();
        if let Some(org) = &self.config.organization {
            let org_path = root.key("organization");
            layers.push((&org.defaults, org_path.key("defaults")));
            for unit in &org.units {
                layers.push((&unit.layer, org_path.key("units").key(&unit.key)));
            }
        }
        for (id, layer) in &self.config.accounts {
            layers.push((layer, root.key("accounts").key(id.as_str())));
        }
        for (layer, path) in layers {
            for (kind, slot) in &layer.slots {
                if let (None, Wanted::Present(Value::Alternate(contact))) =
                    (&slot.contact_name, &slot.wanted)
                {
                    let slot_path = path.key(kind.config_key());
                    note(&contact.email_address, slot_path.to_string(), slot_path);
                }
            }
        }
        found
    }

    /// Where the file decides an account's contacts, as (line, column): its
    /// own entry under `accounts:`, else `organization.defaults`, else
    /// `organization`. Where a finding about the account is fixed.
    pub fn account_place(&self, account: &AccountId) -> Option<(usize, usize)> {
        let root = YamlPath::root();
        let organization = root.key("organization");
        [
            root.key("accounts").key(account.as_str()),
            organization.key("defaults"),
            organization,
        ]
        .iter()
        .find_map(|path| self.spots.find(&path.0, true))
        .map(|pos| (pos.line.max(1), pos.column.max(1)))
    }

    /// Where a layer sets a slot (`billing: absent` under an account's
    /// entry, a unit or the defaults), as (line, column).
    pub fn slot_place(
        &self,
        layer: &crate::model::Source,
        kind: ContactType,
    ) -> Option<(usize, usize)> {
        use crate::model::Source;
        let organization = YamlPath::root().key("organization");
        let path = match layer {
            Source::Defaults => organization.key("defaults"),
            Source::Unit { key } => organization.key("units").key(key),
            Source::Account { account_id } => {
                YamlPath::root().key("accounts").key(account_id.as_str())
            }
        }
        .key(kind.config_key());
        self.spots
            .find(&path.0, true)
            .map(|pos| (pos.line.max(1), pos.column.max(1)))
    }

    /// Where `organization.exclude` lists an account, as (line, column).
    pub fn exclusion_place(&self, account: &AccountId) -> Option<(usize, usize)> {
        let index = self
            .config
            .organization
            .as_ref()?
            .exclude
            .iter()
            .position(|id| id == account)?;
        let path = YamlPath::root()
            .key("organization")
            .key("exclude")
            .index(index);
        self.spots
            .find(&path.0, false)
            .map(|pos| (pos.line.max(1), pos.column.max(1)))
    }

    /// Where a named contact's `reviewed:` date is written (else the
    /// contact), as (line, column).
    pub fn contact_place(&self, name: &str) -> Option<(usize, usize)> {
        let contact = YamlPath::root().key("contacts").key(name);
        [contact.key("reviewed"), contact]
            .iter()
            .find_map(|path| self.spots.find(&path.0, true))
            .map(|pos| (pos.line.max(1), pos.column.max(1)))
    }

    /// A warning for each distinct address of `written` (about to be
    /// written) on a reserved domain (when `reserved_names`: real AWS, not
    /// the sandbox) or outside `audit.email_domains`, at the first place
    /// the file writes it.
    pub fn address_warnings<'a>(
        &self,
        written: impl IntoIterator<Item = &'a str>,
        reserved_names: bool,
    ) -> Vec<Warning> {
        use crate::model::WarningKind;
        use crate::model::domain::{address_key, domain_of, reserved, within};
        let places = self.written_addresses();
        let allowed = &self.config.email_domains;
        let mut seen = std::collections::BTreeSet::new();
        let mut warnings = Vec::new();
        for address in written {
            let key = address_key(address);
            let Some(domain) = domain_of(&key) else {
                continue;
            };
            let kind = match reserved(&domain).filter(|_| reserved_names) {
                Some(reason) => WarningKind::ReservedAddress {
                    address: address.trim().to_owned(),
                    reason,
                },
                None if !allowed.is_empty() && !within(&domain, allowed) => {
                    WarningKind::DomainNotAllowed {
                        address: address.trim().to_owned(),
                        allowed: allowed.join(", "),
                    }
                }
                None => continue,
            };
            if !seen.insert(key.clone()) {
                continue;
            }
            let place = places
                .iter()
                .find(|place| address_key(&place.address) == key);
            warnings.push(Warning {
                kind,
                file: self.file.clone(),
                line: place.map_or(1, |place| place.line),
                column: place.map_or(1, |place| place.column),
            });
        }
        warnings
    }

    /// Refuses a file that names the management account when the caller,
    /// a delegated administrator, cannot manage it.
    pub fn refuse_management_account(
        &self,
        management: &AccountId,
        caller: &AccountId,
    ) -> Result<(), ConfigError> {
        match layers::management_listed(&self.config, management, caller) {
            Some(problem) => Err(ConfigError::Problems(FileProblems::locate(
                &self.file,
                &self.text,
                &self.spots,
                vec![problem],
            ))),
            None => Ok(()),
        }
    }

    /// Whether the file names the management account while the caller, a
    /// delegated administrator, cannot manage it.
    pub fn names_beyond_reach(&self, management: &AccountId, caller: &AccountId) -> bool {
        layers::management_listed(&self.config, management, caller).is_some()
    }

    /// What the file says of one account discovery just listed (see
    /// [`layers::account_scope`]).
    pub fn account_scope(&self, found: &Found, caller: &AccountId) -> AccountScope {
        layers::account_scope(&self.config, found, caller)
    }

    /// Whether discovery must walk the units (to match `units:`), or may
    /// list the accounts flat.
    pub fn needs_units(&self) -> bool {
        self.config
            .organization
            .as_ref()
            .is_some_and(|layers| !layers.units.is_empty())
    }

    /// A file covering every ACTIVE account of the organization and managing
    /// no slot: the scope of `audit --org` and `export --org`.
    pub fn whole_organization() -> Self {
        Self::virtual_file(
            "(every account of the organization)",
            Config {
                organization: Some(OrgLayers::default()),
                ..Config::default()
            },
        )
    }

    /// A file listing `accounts` and managing no slot: the scope of
    /// `export ACCOUNT_ID...`.
    pub fn listing(accounts: &[AccountId]) -> Self {
        Self::virtual_file(
            "(the accounts named)",
            Config {
                accounts: accounts
                    .iter()
                    .map(|id| (id.clone(), Layer::default()))
                    .collect(),
                ..Config::default()
            },
        )
    }

    fn virtual_file(file: &str, config: Config) -> Self {
        Self {
            file: file.to_owned(),
            text: String::new(),
            config,
            spots: node::Spot::Leaf(Default::default()),
        }
    }
}

/// The unit names of a path key: `Root/Workloads/Data`, where a `/` that
/// is part of a name is written `\/` (and a backslash `\\`).
pub fn unit_path_segments(key: &str) -> Vec<String> {
    let mut segments = vec![String::new()];
    let mut chars = key.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    segments.last_mut().expect("never empty").push(next);
                }
            }
            '/' => segments.push(String::new()),
            c => segments.last_mut().expect("never empty").push(c),
        }
    }
    segments
}

/// A unit path as written in the file: the inverse of [`unit_path_segments`].
pub fn unit_path_key(names: &[String]) -> String {
    names
        .iter()
        .map(|name| name.replace('\\', "\\\\").replace('/', "\\/"))
        .collect::<Vec<_>>()
        .join("/")
}

/// What to do about a contacts file that cannot be read, by why.
fn read_help(file: &str, path: &Path, error: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::NotFound => {
            format!(
                "pass the file with -f, or write one from what AWS holds: altcontacts export --org -o {file} (and altcontacts audit --org checks the organization with no file)"
            )
        }
        _ if path.is_dir() => {
            format!(
                "{file} is a directory: pass the contacts file itself, e.g. -f {file}/contacts.yaml"
            )
        }
        ErrorKind::InvalidData => format!(
            "{file} is not a UTF-8 text file: pass the contacts YAML file with -f (an editor can save it as UTF-8)"
        ),
        ErrorKind::PermissionDenied => format!("check that this user may read {file}"),
        _ => format!("check that {file} is a readable contacts YAML file"),
    }
}

/// The SHA-256 of a contacts file's text, without a byte-order mark.
pub fn text_digest(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())))
}

#[cfg(test)]
mod tests;
