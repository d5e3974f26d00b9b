//! Turns the YAML tree into a validated [`Config`], collecting every problem
//! of the file with its path instead of stopping at the first.

use std::collections::{BTreeMap, BTreeSet};

use super::file::{
    ABSENT, AccessSpec, AuditSpec, ConfigFile, ContactSpec, MuteSpec, NO_NOTICES, NOTICES,
    NoticesSpec, OU_ID_PATTERN, OrganizationSpec, PrimarySpec, RateSpec, SafetySpec, SlotsSpec,
    keys,
};
use super::node::{Key, Node, Style, YamlPath};
use super::{
    Config, Layer, Mute, MuteScope, NamedContact, OrgLayers, SlotValue, UnitLayer, UnitSelector,
};
use crate::config::diagnostic::{Diagnostic, closest};
use crate::model::{
    AccountId, Check, Contact, ContactType, Date, PrimaryContact, Shape, Topic, Value, Wanted,
};
use crate::printable::printable;
use crate::printable::quoted;
use crate::settings::Section;
use schemars::JsonSchema;

/// A shape a slot holds, with where the file names its values and what
/// its messages say: the one description the validator walks both the
/// alternate and the primary contact by.
trait Slotted: Shape {
    /// The top-level section of named values.
    const SECTION: &'static str;
    /// Whether a slot of this shape may be `absent` (deleted).
    const DELETABLE: bool;
    const UNKNOWN: &'static str;
    const UNKNOWN_HELP: &'static str;
    /// What a slot of this shape must be, and a hint.
    const SLOT_MUST_BE: &'static str;
    const SLOT_HELP: Option<&'static str>;
    /// The keys a value allows: its fields, and `reviewed` for contacts.
    fn allowed_keys() -> &'static [String];
    fn named(walker: &Walker) -> &Named<Self>;
    fn named_mut(walker: &mut Walker) -> &mut Named<Self>;
    fn into_value(self) -> Value;
}

impl Slotted for Contact {
    const SECTION: &'static str = "contacts";
    const DELETABLE: bool = true;
    const UNKNOWN: &'static str = "unknown contact";
    const UNKNOWN_HELP: &'static str =
        "define it under `contacts:`, write an inline contact, or `absent` to delete the slot";
    const SLOT_MUST_BE: &'static str =
        "a slot must be a contact name, an inline contact or `absent`";
    const SLOT_HELP: Option<&'static str> = Some("to leave a slot unmanaged, remove the key");
    fn allowed_keys() -> &'static [String] {
        keys::<ContactSpec>()
    }
    fn named(walker: &Walker) -> &Named<Self> {
        &walker.contacts
    }
    fn named_mut(walker: &mut Walker) -> &mut Named<Self> {
        &mut walker.contacts
    }
    fn into_value(self) -> Value {
        Value::Alternate(self)
    }
}

impl Slotted for PrimaryContact {
    const SECTION: &'static str = "primary_contacts";
    const DELETABLE: bool = false;
    const UNKNOWN: &'static str = "unknown primary contact";
    const UNKNOWN_HELP: &'static str =
        "define it under `primary_contacts:`, or write the primary contact inline";
    const SLOT_MUST_BE: &'static str =
        "`primary` must be the name of a primary contact or one written out";
    const SLOT_HELP: Option<&'static str> = None;
    fn allowed_keys() -> &'static [String] {
        keys::<PrimarySpec>()
    }
    fn named(walker: &Walker) -> &Named<Self> {
        &walker.primaries
    }
    fn named_mut(walker: &mut Walker) -> &mut Named<Self> {
        &mut walker.primaries
    }
    fn into_value(self) -> Value {
        Value::Primary(Box::new(self))
    }
}

/// A section of named values: every name written (valid or not, so a
/// reference to a broken one is not reported again as unknown), and the
/// valid values with when they were reviewed.
struct Named<S> {
    names: BTreeSet<String>,
    values: BTreeMap<String, (S, Option<Date>)>,
}

impl<S> Default for Named<S> {
    fn default() -> Self {
        Self {
            names: BTreeSet::new(),
            values: BTreeMap::new(),
        }
    }
}

/// A unit as the file names one: a path from the root or an OU id; `text`
/// is not one unless it was written as a string.
fn unit_named(text: &str, is_string: bool) -> Option<UnitSelector> {
    if !is_string {
        return None;
    }
    if OU_ID.is_match(text) {
        return Some(UnitSelector::Id(text.to_owned()));
    }
    let segments = super::unit_path_segments(text);
    let looks_like_id = text.starts_with("ou-");
    (!looks_like_id && segments.iter().all(|segment| !segment.trim().is_empty()))
        .then_some(UnitSelector::Path(segments))
}

fn not_a_unit(text: &str) -> String {
    format!("{} is neither an OU path nor an OU id", quoted(text))
}

const UNIT_HELP: &str =
    "write a path from the root, e.g. `Root/Workloads/Data`, or an id like `ou-ab12-cdef3456`";

/// The longest reason a mute may give.
pub const MAX_MUTE_REASON: usize = 1024;

/// Validates a mute file: `mute:` and nothing else. `Ok` only when it has
/// no problem at all.
pub fn validate_mute_file(root: &Node) -> Result<Vec<Mute>, Vec<Diagnostic>> {
    let mut walker = Walker::default();
    let path = YamlPath::root();
    let mutes = match walker.mapping(root, &path, "a mute file") {
        Some(entries) => {
            walker.known_keys(entries, &path, &["mute".to_owned()], "a mute file");
            match entry(entries, "mute") {
                Some(node) => walker.mutes(node, &path.key("mute")),
                None => {
                    walker.report(
                        Diagnostic::at(&path, "the mute file has no `mute:` list")
                            .help("write `mute:` and under it one entry a muted finding, as `audit.mute` in contacts.yaml takes them"),
                    );
                    Vec::new()
                }
            }
        }
        None => Vec::new(),
    };
    match walker.problems.is_empty() {
        true => Ok(mutes),
        false => Err(walker.problems),
    }
}

/// Validates a whole document. `Ok` only when the file has no problem at all.
pub fn validate(root: &Node) -> Result<Config, Vec<Diagnostic>> {
    let mut walker = Walker::default();
    let config = walker.config(root);
    match config {
        Some(config) if walker.problems.is_empty() => Ok(config),
        _ => Err(walker.problems),
    }
}

#[derive(Default)]
struct Walker {
    problems: Vec<Diagnostic>,
    contacts: Named<Contact>,
    primaries: Named<PrimaryContact>,
}

type Entries = [(Key, Node)];

static OU_ID: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(OU_ID_PATTERN).expect("the OU id pattern is valid")
});

fn entry<'n>(entries: &'n Entries, name: &str) -> Option<&'n Node> {
    entries
        .iter()
        .find(|(key, _)| key.as_str() == Some(name))
        .map(|(_, value)| value)
}

impl Walker {
    fn report(&mut self, diagnostic: Diagnostic) {
        self.problems.push(diagnostic);
    }

    /// The entries of a mapping; a null (an empty section) counts as empty.
    fn mapping<'n>(&mut self, node: &'n Node, path: &YamlPath, what: &str) -> Option<&'n Entries> {
        match node {
            Node::Map(entries) => Some(entries),
            Node::Null => Some(&[]),
            other => {
                self.report(Diagnostic::at(
                    path,
                    format!("{what} must be a mapping, found {}", other.kind()),
                ));
                None
            }
        }
    }

    fn known_keys(&mut self, entries: &Entries, path: &YamlPath, allowed: &[String], what: &str) {
        for (key, _) in entries {
            let known = key.as_str().is_some_and(|k| allowed.iter().any(|a| a == k));
            if !known {
                let text = key.text();
                let mut diagnostic = Diagnostic::at_key(
                    &path.key(text),
                    format!("unknown key {} in {what}", quoted(text)),
                );
                diagnostic = match closest(text, allowed.iter().map(String::as_str)) {
                    Some(near) => diagnostic.help(format!("did you mean {}?", quoted(near))),
                    None => diagnostic.help(format!("allowed keys: {}", allowed.join(", "))),
                };
                self.report(diagnostic);
            }
        }
    }

    fn string<'n>(&mut self, node: &'n Node, path: &YamlPath, what: &str) -> Option<&'n str> {
        match node {
            Node::Str(text, _) => Some(text),
            Node::Number(_) | Node::Bool(_) => {
                self.report(
                    Diagnostic::at(
                        path,
                        format!("{what} must be a string, found {}", node.kind()),
                    )
                    .help("quote it, e.g. \"{source}\""),
                );
                None
            }
            other => {
                self.report(Diagnostic::at(
                    path,
                    format!("{what} must be a string, found {}", other.kind()),
                ));
                None
            }
        }
    }

    fn config(&mut self, root: &Node) -> Option<Config> {
        let path = YamlPath::root();
        let entries = match root {
            Node::Map(entries) => entries,
            Node::Null => {
                self.report(
                    Diagnostic::at(&path, "the file is empty")
                        .help("start it with `version: 1`; see contacts.example.yaml"),
                );
                return None;
            }
            other => {
                self.report(Diagnostic::at(
                    &path,
                    format!("the file must be a mapping with `version`, `contacts`, `accounts`..., found {}", other.kind()),
                ));
                return None;
            }
        };
        self.known_keys(entries, &path, keys::<ConfigFile>(), "the top level");
        self.version(entry(entries, "version"), &path);

        self.named::<Contact>(entries, &path);
        self.named::<PrimaryContact>(entries, &path);
        let organization = entry(entries, "organization")
            .and_then(|node| self.organization(node, &path.key("organization")));
        let accounts = match entry(entries, "accounts") {
            Some(node) => self.accounts(node, &path.key("accounts")),
            None => BTreeMap::new(),
        };
        if let Some(org) = &organization {
            for id in accounts.keys().filter(|id| org.exclude.contains(id)) {
                self.report(
                    Diagnostic::at_key(&path.key("accounts").key(id.as_str()), format!("account {id} is listed here and also excluded in `organization.exclude`"))
                        .help("remove it from one of the two"),
                );
            }
        }
        if entry(entries, "organization").is_none() && entry(entries, "accounts").is_none() {
            self.report(
                Diagnostic::at(&path, "nothing is in scope: the file has neither `accounts` nor `organization`")
                    .help("list accounts under `accounts:`, or add `organization:` to cover every account of the organization"),
            );
        }
        let safety = entry(entries, "safety")
            .map(|node| self.section::<SafetySpec>(node, &path.key("safety")))
            .unwrap_or_default();
        let rate = entry(entries, "rate")
            .map(|node| self.section::<RateSpec>(node, &path.key("rate")))
            .unwrap_or_default();
        let access = entry(entries, "access")
            .map(|node| self.section::<AccessSpec>(node, &path.key("access")))
            .unwrap_or_default();
        let (email_domains, mutes) = entry(entries, "audit")
            .map(|node| self.audit(node, &path.key("audit")))
            .unwrap_or_default();

        let contacts = std::mem::take(&mut self.contacts.values)
            .into_iter()
            .map(|(name, (contact, reviewed))| (name, NamedContact { contact, reviewed }))
            .collect();
        Some(Config {
            contacts,
            organization,
            accounts,
            safety,
            rate,
            access,
            email_domains,
            mutes,
        })
    }

    fn version(&mut self, node: Option<&Node>, root: &YamlPath) {
        let path = root.key("version");
        match node {
            None => self.report(
                Diagnostic::at(root, "missing `version`").help("add `version: 1` at the top of the file"),
            ),
            Some(Node::Number(text)) if text == "1" => {}
            Some(Node::Number(text)) => self.report(
                Diagnostic::at(&path, format!("unsupported version {}: this altcontacts reads version 1", quoted(text)))
                    .help("write `version: 1`, or upgrade altcontacts if the file was written for a newer one"),
            ),
            Some(other) => self.report(
                Diagnostic::at(&path, format!("`version` must be the number 1, found {}", other.kind()))
                    .help("write `version: 1`, without quotes"),
            ),
        }
    }

    /// A section of named values (`contacts`, `primary_contacts`).
    fn named<S: Slotted>(&mut self, entries: &Entries, root: &YamlPath) {
        let Some(node) = entry(entries, S::SECTION) else {
            return;
        };
        let path = root.key(S::SECTION);
        let Some(entries) = self.mapping(node, &path, &format!("`{}`", S::SECTION)) else {
            return;
        };
        for (key, value) in entries {
            let name = key.text();
            let value_path = path.key(name);
            if key.as_str().is_none() || name.is_empty() {
                self.report(Diagnostic::at_key(
                    &value_path,
                    format!(
                        "{} name {} must be a non-empty string",
                        &S::NAME[2..],
                        quoted(name)
                    ),
                ));
                continue;
            }
            S::named_mut(self).names.insert(name.to_owned());
            if S::DELETABLE && name == ABSENT {
                self.report(
                    Diagnostic::at_key(&value_path, "a contact cannot be named `absent`: in a slot, `absent` means delete the contact")
                        .help("rename it, e.g. `absent-team`"),
                );
                continue;
            }
            if let Some(value) = self.shape::<S>(value, &value_path) {
                S::named_mut(self).values.insert(name.to_owned(), value);
            }
        }
    }

    /// A value of a shape written out, checked field by field against
    /// AWS's rules, with when it was reviewed (contacts only).
    fn shape<S: Slotted>(&mut self, node: &Node, path: &YamlPath) -> Option<(S, Option<Date>)> {
        let Node::Map(entries) = node else {
            self.report(Diagnostic::at(
                path,
                format!(
                    "{} must be a mapping with {}, found {}",
                    S::NAME,
                    S::required_list(),
                    node.kind()
                ),
            ));
            return None;
        };
        self.known_keys(entries, path, S::allowed_keys(), S::NAME);
        let before = self.problems.len();
        let mut values = Vec::with_capacity(S::RULES.len());
        for rule in S::RULES {
            let field_path = path.key(rule.key);
            let Some(value) = entry(entries, rule.key) else {
                if rule.required {
                    self.report(
                        Diagnostic::at(path, format!("missing `{}`", rule.key))
                            .help(format!("AWS requires {}", S::required_list())),
                    );
                }
                values.push(None);
                continue;
            };
            let text = self.string(value, &field_path, &format!("`{}`", rule.key));
            for message in text.map(|text| rule.problems(text)).unwrap_or_default() {
                self.report(Diagnostic::at(&field_path, message));
            }
            values.push(text.map(str::to_owned));
        }
        let reviewed = S::allowed_keys()
            .iter()
            .any(|key| key == "reviewed")
            .then(|| entry(entries, "reviewed"))
            .flatten()
            .and_then(|node| self.reviewed(node, &path.key("reviewed")));
        // Rules across fields hold even when a field breaks its own: every
        // problem is reported in one run.
        let value = S::from_values(values)?;
        for (index, message) in value.cross_field_problems() {
            // A missing key is the mapping's fault, not a value's.
            let key = S::RULES[index].key;
            let at = if entry(entries, key).is_some() {
                path.key(key)
            } else {
                path.clone()
            };
            self.report(Diagnostic::at(&at, message));
        }
        (self.problems.len() == before).then_some((value, reviewed))
    }

    fn reviewed(&mut self, node: &Node, path: &YamlPath) -> Option<Date> {
        self.date(node, path, "reviewed")
    }

    /// A date YYYY-MM-DD, the value of `key`.
    fn date(&mut self, node: &Node, path: &YamlPath, key: &str) -> Option<Date> {
        let text = match node {
            Node::Str(text, _) => text,
            other => {
                self.report(Diagnostic::at(
                    path,
                    format!("`{key}` must be a date YYYY-MM-DD, found {}", other.kind()),
                ));
                return None;
            }
        };
        let date = crate::model::time::parse_date(text);
        if date.is_none() {
            self.report(Diagnostic::at(
                path,
                format!(
                    "{} is not a date: write YYYY-MM-DD, e.g. 2026-01-31",
                    quoted(text)
                ),
            ));
        }
        date
    }

    fn layer(&mut self, node: &Node, path: &YamlPath, what: &str) -> Option<Layer> {
        let entries = self.mapping(node, path, what)?;
        self.known_keys(entries, path, keys::<SlotsSpec>(), what);
        let mut layer = Layer::default();
        for kind in ContactType::EVERY {
            let Some(value) = entry(entries, kind.config_key()) else {
                continue;
            };
            let slot_path = path.key(kind.config_key());
            let slot = match kind {
                ContactType::Primary => self.slot::<PrimaryContact>(value, &slot_path),
                _ => self.slot::<Contact>(value, &slot_path),
            };
            if let Some(slot) = slot {
                layer.slots.insert(kind, slot);
            }
        }
        if let Some(node) = entry(entries, NOTICES) {
            layer.notices = self.notices(node, &path.key(NOTICES));
        }
        Some(layer)
    }

    /// A layer's `notices`: `none`, or for each contact it names, a list of
    /// topics (CATEGORY/SUB-CATEGORY), each problem at its item.
    fn notices(&mut self, node: &Node, path: &YamlPath) -> BTreeMap<ContactType, BTreeSet<Topic>> {
        const HELP: &str = "write e.g. `notices: { security: [AWS-Health/Security] }`, `[]` to leave a contact's subscriptions unchecked, or `notices: none`";
        let entries = match node {
            Node::Str(text, _) if text == NO_NOTICES => {
                return NoticesSpec::None.topics();
            }
            Node::Map(entries) => entries,
            other => {
                let shown = match other {
                    Node::Str(text, _) => quoted(text),
                    other => other.kind().to_owned(),
                };
                self.report(
                    Diagnostic::at(
                        path,
                        format!("`notices` must be `{NO_NOTICES}` or a mapping of contacts to topics, found {shown}"),
                    )
                    .help(HELP),
                );
                return BTreeMap::new();
            }
        };
        let allowed: Vec<String> = ContactType::EVERY
            .into_iter()
            .map(|kind| kind.config_key().to_owned())
            .collect();
        self.known_keys(entries, path, &allowed, "`notices`");
        let mut notices = BTreeMap::new();
        for kind in ContactType::EVERY {
            let Some(node) = entry(entries, kind.config_key()) else {
                continue;
            };
            let list_path = path.key(kind.config_key());
            let items: &[Node] = match node {
                Node::Seq(items) => items,
                other => {
                    self.report(
                        Diagnostic::at(
                            &list_path,
                            format!("a contact's topics are a list, found {}", other.kind()),
                        )
                        .help(HELP),
                    );
                    continue;
                }
            };
            let mut topics = BTreeSet::new();
            for (index, item) in items.iter().enumerate() {
                let item_path = list_path.index(index);
                let topic = match item {
                    Node::Str(text, _) => Topic::try_from(text.clone()),
                    other => Err(format!("a topic is a string, found {}", other.kind())),
                };
                match topic {
                    Ok(topic) if !topics.insert(topic.clone()) => self.report(Diagnostic::at(
                        &item_path,
                        format!("{} is listed twice", quoted(topic.as_str())),
                    )),
                    Ok(_) => {}
                    Err(message) => self.report(Diagnostic::at(&item_path, message).help(HELP)),
                }
            }
            notices.insert(kind, topics);
        }
        notices
    }

    /// A slot: the name of a value of its section, one written out, or
    /// (where the shape can be deleted) `absent`.
    fn slot<S: Slotted>(&mut self, node: &Node, path: &YamlPath) -> Option<SlotValue> {
        match node {
            Node::Str(text, _) if text == ABSENT && S::DELETABLE => Some(SlotValue {
                wanted: Wanted::Absent,
                contact_name: None,
                reviewed: None,
            }),
            Node::Str(text, _) if text == ABSENT => {
                self.report(
                    Diagnostic::at(
                        path,
                        "the primary contact cannot be `absent`: AWS cannot delete it",
                    )
                    .help("to leave the primary contact unmanaged, remove the key"),
                );
                None
            }
            Node::Str(name, _) => {
                if let Some((value, reviewed)) = S::named(self).values.get(name) {
                    return Some(SlotValue {
                        wanted: Wanted::Present(value.clone().into_value()),
                        contact_name: Some(name.clone()),
                        reviewed: *reviewed,
                    });
                }
                if !S::named(self).names.contains(name) {
                    let diagnostic =
                        Diagnostic::at(path, format!("{} {}", S::UNKNOWN, quoted(name)));
                    let near = closest(name, S::named(self).names.iter().map(String::as_str))
                        .map(str::to_owned);
                    self.report(match near {
                        Some(near) => diagnostic.help(format!("did you mean {}?", quoted(&near))),
                        None => diagnostic.help(S::UNKNOWN_HELP),
                    });
                }
                None
            }
            Node::Map(_) => self
                .shape::<S>(node, path)
                .map(|(value, reviewed)| SlotValue {
                    wanted: Wanted::Present(value.into_value()),
                    contact_name: None,
                    reviewed,
                }),
            other => {
                let diagnostic =
                    Diagnostic::at(path, format!("{}, found {}", S::SLOT_MUST_BE, other.kind()));
                self.report(match S::SLOT_HELP {
                    Some(help) => diagnostic.help(help),
                    None => diagnostic,
                });
                None
            }
        }
    }

    /// An account ID written as a key or list item: quoted, exactly 12 digits.
    fn account_id(&mut self, key: &Key, path: &YamlPath, is_key: bool) -> Option<AccountId> {
        let at = |message: String| {
            if is_key {
                Diagnostic::at_key(path, message)
            } else {
                Diagnostic::at(path, message)
            }
        };
        match key {
            Key::Str(text, Style::Quoted) => {
                let id = AccountId::parse(text);
                if id.is_none() {
                    self.report(at(format!(
                        "{} is not an account ID: account IDs are exactly 12 digits",
                        quoted(text)
                    )));
                }
                id
            }
            Key::Str(text, Style::Plain) | Key::Number(text) => {
                self.report(
                    at(format!("account ID {} must be a quoted string", printable(text)))
                        .help("write it in quotes, e.g. \"{source}\": unquoted, YAML tools read it as a number and drop leading zeros"),
                );
                None
            }
            Key::Other(text) => {
                self.report(at(format!(
                    "{} is not an account ID: account IDs are exactly 12 digits",
                    quoted(text)
                )));
                None
            }
        }
    }

    fn accounts(&mut self, node: &Node, path: &YamlPath) -> BTreeMap<AccountId, Layer> {
        let mut accounts = BTreeMap::new();
        let Some(entries) = self.mapping(node, path, "`accounts`") else {
            return accounts;
        };
        for (key, value) in entries {
            let account_path = path.key(key.text());
            let id = self.account_id(key, &account_path, true);
            let layer = self.layer(value, &account_path, "an account entry");
            if let (Some(id), Some(layer)) = (id, layer) {
                accounts.insert(id, layer);
            }
        }
        accounts
    }

    fn organization(&mut self, node: &Node, path: &YamlPath) -> Option<OrgLayers> {
        let entries = self.mapping(node, path, "`organization`")?;
        self.known_keys(entries, path, keys::<OrganizationSpec>(), "`organization`");
        let defaults = entry(entries, "defaults")
            .and_then(|node| self.layer(node, &path.key("defaults"), "`organization.defaults`"))
            .unwrap_or_default();
        let mut units = Vec::new();
        if let Some(node) = entry(entries, "units") {
            let units_path = path.key("units");
            if let Some(unit_entries) = self.mapping(node, &units_path, "`organization.units`") {
                for (key, value) in unit_entries {
                    let unit_path = units_path.key(key.text());
                    let selector = self.unit_selector(key, &unit_path);
                    let layer = self.layer(value, &unit_path, "a unit entry");
                    if let (Some(selector), Some(layer)) = (selector, layer) {
                        units.push(UnitLayer {
                            key: key.text().to_owned(),
                            selector,
                            layer,
                        });
                    }
                }
            }
        }
        let mut exclude = Vec::new();
        if let Some(node) = entry(entries, "exclude") {
            let exclude_path = path.key("exclude");
            match node {
                Node::Seq(items) => {
                    for (index, item) in items.iter().enumerate() {
                        let item_path = exclude_path.index(index);
                        let key = match item {
                            Node::Str(text, style) => Key::Str(text.clone(), *style),
                            Node::Number(text) => Key::Number(text.clone()),
                            other => Key::Other(other.kind().to_owned()),
                        };
                        if let Some(id) = self.account_id(&key, &item_path, false) {
                            if exclude.contains(&id) {
                                self.report(Diagnostic::at(
                                    &item_path,
                                    format!("account {id} is excluded twice"),
                                ));
                            } else {
                                exclude.push(id);
                            }
                        }
                    }
                }
                Node::Null => {}
                other => self.report(Diagnostic::at(
                    &exclude_path,
                    format!(
                        "`exclude` must be a list of quoted account IDs, found {}",
                        other.kind()
                    ),
                )),
            }
        }
        Some(OrgLayers {
            defaults,
            units,
            exclude,
        })
    }

    fn unit_selector(&mut self, key: &Key, path: &YamlPath) -> Option<UnitSelector> {
        let unit = unit_named(key.text(), key.as_str().is_some());
        if unit.is_none() {
            self.report(Diagnostic::at_key(path, not_a_unit(key.text())).help(UNIT_HELP));
        }
        unit
    }

    /// A section of settings: each key's scalar read by its setting's rule
    /// (`settings.rs`), each problem at its key's value.
    fn section<S: Section + JsonSchema>(&mut self, node: &Node, path: &YamlPath) -> S {
        let mut section = S::default();
        let what = format!("`{}`", S::KEY);
        let Some(entries) = self.mapping(node, path, &what) else {
            return section;
        };
        self.known_keys(entries, path, keys::<S>(), &what);
        for (key, value) in entries {
            let Some(name) = key
                .as_str()
                .filter(|name| keys::<S>().iter().any(|k| k == name))
            else {
                continue;
            };
            let text = match value {
                Node::Number(text) => text.as_str(),
                _ => "",
            };
            if let Err(message) = section.set(name, text) {
                self.report(Diagnostic::at(&path.key(name), message));
            }
        }
        section
    }

    fn audit(&mut self, node: &Node, path: &YamlPath) -> (Vec<String>, Vec<Mute>) {
        let Some(entries) = self.mapping(node, path, "`audit`") else {
            return Default::default();
        };
        self.known_keys(entries, path, keys::<AuditSpec>(), "`audit`");
        let mutes = entry(entries, "mute")
            .map(|node| self.mutes(node, &path.key("mute")))
            .unwrap_or_default();
        let domains = entry(entries, "email_domains")
            .map(|node| self.email_domains(node, path))
            .unwrap_or_default();
        (domains, mutes)
    }

    /// A mute list: each entry a check, one of `account` or `unit`, a
    /// reason and the last day it mutes.
    fn mutes(&mut self, node: &Node, path: &YamlPath) -> Vec<Mute> {
        let Node::Seq(items) = node else {
            self.report(
                Diagnostic::at(path, format!("`mute` must be a list of mutes, found {}", node.kind()))
                    .help("write e.g. `mute: [{ check: shared_contact, account: \"111111111111\", reason: RISK-12, until: 2027-06-30 }]`"),
            );
            return Vec::new();
        };
        let mut mutes = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let item_path = path.index(index);
            if let Some(mute) = self.mute(item, &item_path) {
                mutes.push(mute);
            }
        }
        mutes
    }

    fn mute(&mut self, node: &Node, path: &YamlPath) -> Option<Mute> {
        let before = self.problems.len();
        let entries = self.mapping(node, path, "a mute")?;
        self.known_keys(entries, path, keys::<MuteSpec>(), "a mute");
        let text = |this: &mut Self, key: &str, help: &str| -> Option<String> {
            match entry(entries, key) {
                Some(Node::Str(text, _)) if !text.trim().is_empty() => Some(text.clone()),
                Some(Node::Str(..)) => {
                    this.report(
                        Diagnostic::at(&path.key(key), format!("`{key}` is empty")).help(help),
                    );
                    None
                }
                Some(other) => {
                    this.report(
                        Diagnostic::at(
                            &path.key(key),
                            format!("`{key}` must be text, found {}", other.kind()),
                        )
                        .help(help),
                    );
                    None
                }
                None => None,
            }
        };
        let check = match text(
            self,
            "check",
            "name the check by its code, e.g. `shared_contact`",
        ) {
            Some(code) => match Check::of_code(&code) {
                // What it would mute is a mute to renew or remove.
                Some(Check::MuteExpired) => {
                    self.report(
                        Diagnostic::at(&path.key("check"), "a mute cannot mute `mute_expired`")
                            .help("renew `until` of the mute that ended, or remove it"),
                    );
                    None
                }
                Some(check) => Some(check),
                None => {
                    let codes: Vec<String> = Check::ALL.into_iter().map(Check::code).collect();
                    let help = match closest(&code, codes.iter().map(String::as_str)) {
                        Some(near) => format!(
                            "did you mean `{near}`? The checks are the codes docs/audit.md lists"
                        ),
                        None => format!("the checks are {}", codes.join(", ")),
                    };
                    self.report(
                        Diagnostic::at(
                            &path.key("check"),
                            format!("{} is not a check of the audit", quoted(&code)),
                        )
                        .help(help),
                    );
                    None
                }
            },
            // Written but not text: said already.
            None if entry(entries, "check").is_some() => None,
            None => {
                self.report(
                    Diagnostic::at(path, "a mute names no `check`")
                        .help("add `check:` with the code of the check it mutes, e.g. `check: shared_contact`"),
                );
                None
            }
        };
        let account = text(
            self,
            "account",
            "write a 12-digit account ID in quotes, or \"*\" for every account",
        );
        let unit = text(
            self,
            "unit",
            "write a path from the root, e.g. `Root/Workloads`, or an OU id",
        );
        let scope = match (account, unit) {
            (Some(account), None) if account == "*" => Some(MuteScope::Every),
            (Some(account), None) => {
                match AccountId::parse(&account) {
                    Some(id) => Some(MuteScope::Account(id)),
                    None => {
                        self.report(
                        Diagnostic::at(&path.key("account"), format!("{} is not an account ID", quoted(&account)))
                            .help("write the 12-digit account ID in quotes, or \"*\" for every account"),
                    );
                        None
                    }
                }
            }
            (None, Some(unit)) => match unit_named(&unit, true) {
                Some(selector) => Some(MuteScope::Unit(selector)),
                None => {
                    self.report(
                        Diagnostic::at(&path.key("unit"), not_a_unit(&unit)).help(UNIT_HELP),
                    );
                    None
                }
            },
            (Some(_), Some(_)) => {
                self.report(
                    Diagnostic::at(&path.key("unit"), "a mute names both `account` and `unit`")
                        .help("a mute covers one account, every account (`account: \"*\"`) or one unit: write two mutes for two"),
                );
                None
            }
            (None, None)
                if entry(entries, "account").is_some() || entry(entries, "unit").is_some() =>
            {
                None
            }
            (None, None) => {
                self.report(
                    Diagnostic::at(path, "a mute names neither `account` nor `unit`")
                        .help("add `account: \"111111111111\"`, `account: \"*\"` for every account, or `unit: Root/Workloads`"),
                );
                None
            }
        };
        let reason = text(
            self,
            "reason",
            "say why the finding is accepted: a ticket, a decision, who took it",
        )
        .filter(|reason| {
            // Security Hub takes a finding's fields up to 2,048 characters.
            let long = reason.chars().count() > MAX_MUTE_REASON;
            if long {
                self.report(
                    Diagnostic::at(
                        &path.key("reason"),
                        format!("`reason` is over {MAX_MUTE_REASON} characters"),
                    )
                    .help("say it in a line, and link the ticket or document that says the rest"),
                );
            }
            !long
        });
        if reason.is_none() && entry(entries, "reason").is_none() {
            self.report(Diagnostic::at(path, "a mute gives no `reason`").help(
                "add `reason:`: why the finding is accepted, so the next reviewer can judge it",
            ));
        }
        let until = match entry(entries, "until") {
            Some(node) => self.date(node, &path.key("until"), "until"),
            None => {
                self.report(
                    Diagnostic::at(path, "a mute gives no `until` date")
                        .help("add `until: YYYY-MM-DD`, the last day it mutes: a mute that never ends is a finding forgotten"),
                );
                None
            }
        };
        if self.problems.len() != before {
            return None;
        }
        Some(Mute {
            check: check?,
            scope: scope?,
            reason: reason?,
            until: until?,
            path: path.clone(),
        })
    }

    fn email_domains(&mut self, node: &Node, path: &YamlPath) -> Vec<String> {
        let mut domains: Vec<String> = Vec::new();
        let list_path = path.key("email_domains");
        let Node::Seq(items) = node else {
            self.report(
                Diagnostic::at(
                    &list_path,
                    format!(
                        "`email_domains` must be a list of domains, found {}",
                        node.kind()
                    ),
                )
                .help("write e.g. `email_domains: [corp.example]`"),
            );
            return domains;
        };
        for (index, item) in items.iter().enumerate() {
            let item_path = list_path.index(index);
            match item {
                Node::Str(text, _) if crate::model::is_domain(text) => {
                    let domain = text.trim_end_matches('.').to_ascii_lowercase();
                    if domains.contains(&domain) {
                        self.report(Diagnostic::at(
                            &item_path,
                            format!("{} is listed twice", quoted(text)),
                        ));
                    } else {
                        domains.push(domain);
                    }
                }
                other => {
                    let shown = match other {
                        Node::Str(text, _) => quoted(text),
                        other => other.kind().to_owned(),
                    };
                    self.report(
                        Diagnostic::at(&item_path, format!("{shown} is not a domain"))
                            .help("write the part after the @, e.g. `corp.example` (its subdomains are allowed too)"),
                    );
                }
            }
        }
        domains
    }
}
