//! Turns the YAML tree into a validated [`Config`], collecting every problem
//! of the file with its path instead of stopping at the first.

use std::collections::{BTreeMap, BTreeSet};

use super::file::{
    ABSENT, ConfigFile, ContactSpec, OU_ID_PATTERN, OrganizationSpec, PrimarySpec, RateSpec,
    SafetySpec, SlotsSpec, keys,
};
use super::node::{Key, Node, Style, YamlPath};
use super::{Config, Layer, NamedContact, OrgLayers, SlotValue, UnitLayer, UnitSelector};
use crate::config::diagnostic::{Diagnostic, closest};
use crate::model::{
    AccountId, Contact, ContactField, ContactType, Date, PRIMARY_FIELDS, PrimaryContact, RATE_MAX,
    RATE_MIN, Value, Wanted, rate_in_range,
};

/// The contact's fields in a sentence: "name, title, email_address and phone_number".
fn field_list() -> String {
    let keys: Vec<&str> = ContactField::ALL.iter().map(|field| field.key()).collect();
    match keys.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => keys.join(""),
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
    /// Every name under `contacts`, valid or not, so a reference to a broken
    /// contact is not reported a second time as unknown.
    contact_names: BTreeSet<String>,
    contacts: BTreeMap<String, NamedContact>,
    /// The same for `primary_contacts`.
    primary_names: BTreeSet<String>,
    primaries: BTreeMap<String, PrimaryContact>,
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
                let mut diagnostic =
                    Diagnostic::at_key(&path.key(text), format!("unknown key `{text}` in {what}"));
                diagnostic = match closest(text, allowed.iter().map(String::as_str)) {
                    Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
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

        if let Some(node) = entry(entries, "contacts") {
            self.named_contacts(node, &path.key("contacts"));
        }
        if let Some(node) = entry(entries, "primary_contacts") {
            self.named_primaries(node, &path.key("primary_contacts"));
        }
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
            .map(|node| self.safety(node, &path.key("safety")))
            .unwrap_or_default();
        let rate = entry(entries, "rate")
            .map(|node| self.rate(node, &path.key("rate")))
            .unwrap_or_default();

        Some(Config {
            contacts: std::mem::take(&mut self.contacts),
            organization,
            accounts,
            safety,
            rate,
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
                Diagnostic::at(&path, format!("unsupported version `{text}`: this altcontacts reads version 1"))
                    .help("write `version: 1`, or upgrade altcontacts if the file was written for a newer one"),
            ),
            Some(other) => self.report(
                Diagnostic::at(&path, format!("`version` must be the number 1, found {}", other.kind()))
                    .help("write `version: 1`, without quotes"),
            ),
        }
    }

    fn named_contacts(&mut self, node: &Node, path: &YamlPath) {
        let Some(entries) = self.mapping(node, path, "`contacts`") else {
            return;
        };
        for (key, value) in entries {
            let name = key.text();
            let contact_path = path.key(name);
            if key.as_str().is_none() || name.is_empty() {
                self.report(Diagnostic::at_key(
                    &contact_path,
                    format!("contact name `{name}` must be a non-empty string"),
                ));
                continue;
            }
            self.contact_names.insert(name.to_owned());
            if name == ABSENT {
                self.report(
                    Diagnostic::at_key(&contact_path, "a contact cannot be named `absent`: in a slot, `absent` means delete the contact")
                        .help("rename it, e.g. `absent-team`"),
                );
                continue;
            }
            if let Some(named) = self.contact(value, &contact_path) {
                self.contacts.insert(name.to_owned(), named);
            }
        }
    }

    fn contact(&mut self, node: &Node, path: &YamlPath) -> Option<NamedContact> {
        let Node::Map(entries) = node else {
            self.report(Diagnostic::at(
                path,
                format!(
                    "a contact must be a mapping with {}, found {}",
                    field_list(),
                    node.kind()
                ),
            ));
            return None;
        };
        self.known_keys(entries, path, keys::<ContactSpec>(), "a contact");
        let mut values = Vec::with_capacity(ContactField::ALL.len());
        for field in ContactField::ALL {
            let field_path = path.key(field.key());
            let Some(value) = entry(entries, field.key()) else {
                self.report(
                    Diagnostic::at(path, format!("missing `{}`", field.key()))
                        .help(format!("AWS requires all of {}", field_list())),
                );
                continue;
            };
            let Some(text) = self.string(value, &field_path, &format!("`{}`", field.key())) else {
                continue;
            };
            match field.check(text) {
                Ok(()) => values.push(text.to_owned()),
                Err(message) => self.report(Diagnostic::at(&field_path, message)),
            }
        }
        let reviewed = entry(entries, "reviewed").and_then(|node| {
            let review_path = path.key("reviewed");
            let text = match node {
                Node::Str(text, _) => text,
                other => {
                    self.report(Diagnostic::at(
                        &review_path,
                        format!(
                            "`reviewed` must be a date YYYY-MM-DD, found {}",
                            other.kind()
                        ),
                    ));
                    return None;
                }
            };
            let date = Date::parse(text);
            if date.is_none() {
                self.report(Diagnostic::at(
                    &review_path,
                    format!("`{text}` is not a date: write YYYY-MM-DD, e.g. 2026-01-31"),
                ));
            }
            date
        });
        Some(NamedContact {
            contact: Contact::from_values(values.try_into().ok()?),
            reviewed,
        })
    }

    fn layer(&mut self, node: &Node, path: &YamlPath, what: &str) -> Option<Layer> {
        let entries = self.mapping(node, path, what)?;
        self.known_keys(entries, path, keys::<SlotsSpec>(), what);
        let mut layer = Layer::new();
        for kind in ContactType::EVERY {
            let Some(value) = entry(entries, kind.config_key()) else {
                continue;
            };
            let slot_path = path.key(kind.config_key());
            let slot = match kind {
                ContactType::Primary => self.primary_slot(value, &slot_path),
                _ => self.slot(value, &slot_path),
            };
            if let Some(slot) = slot {
                layer.insert(kind, slot);
            }
        }
        Some(layer)
    }

    fn named_primaries(&mut self, node: &Node, path: &YamlPath) {
        let Some(entries) = self.mapping(node, path, "`primary_contacts`") else {
            return;
        };
        for (key, value) in entries {
            let name = key.text();
            let primary_path = path.key(name);
            if key.as_str().is_none() || name.is_empty() {
                self.report(Diagnostic::at_key(
                    &primary_path,
                    format!("primary contact name `{name}` must be a non-empty string"),
                ));
                continue;
            }
            self.primary_names.insert(name.to_owned());
            if let Some(primary) = self.primary(value, &primary_path) {
                self.primaries.insert(name.to_owned(), primary);
            }
        }
    }

    /// A primary contact written out, checked against AWS's rules.
    fn primary(&mut self, node: &Node, path: &YamlPath) -> Option<PrimaryContact> {
        let Node::Map(entries) = node else {
            self.report(Diagnostic::at(
                path,
                format!(
                    "a primary contact must be a mapping with full_name, address_line_1, city, postal_code, country_code and phone_number, found {}",
                    node.kind()
                ),
            ));
            return None;
        };
        self.known_keys(entries, path, keys::<PrimarySpec>(), "a primary contact");
        let mut values: BTreeMap<&'static str, String> = BTreeMap::new();
        let mut complete = true;
        for field in &PRIMARY_FIELDS {
            let field_path = path.key(field.key);
            match entry(entries, field.key) {
                None if field.required => {
                    self.report(Diagnostic::at(path, format!("missing `{}`", field.key)).help(
                        "AWS requires full_name, address_line_1, city, postal_code, country_code and phone_number",
                    ));
                    complete = false;
                }
                None => {}
                Some(value) => match self.string(value, &field_path, &format!("`{}`", field.key)) {
                    Some(text) => {
                        values.insert(field.key, text.to_owned());
                    }
                    None => complete = false,
                },
            }
        }
        if !complete {
            return None;
        }
        let mut take = |key: &str| values.remove(key);
        let primary = PrimaryContact {
            full_name: take("full_name").unwrap_or_default(),
            company_name: take("company_name"),
            address_line_1: take("address_line_1").unwrap_or_default(),
            address_line_2: take("address_line_2"),
            address_line_3: take("address_line_3"),
            city: take("city").unwrap_or_default(),
            state_or_region: take("state_or_region"),
            district_or_county: take("district_or_county"),
            postal_code: take("postal_code").unwrap_or_default(),
            country_code: take("country_code").unwrap_or_default(),
            phone_number: take("phone_number").unwrap_or_default(),
            website_url: take("website_url"),
        };
        let problems = primary.problems();
        for (key, message) in &problems {
            // A missing state is the mapping's fault, not a value's.
            let at = if entry(entries, key).is_some() {
                path.key(key)
            } else {
                path.clone()
            };
            self.report(Diagnostic::at(&at, message.clone()));
        }
        problems.is_empty().then_some(primary)
    }

    /// The `primary` slot: the name of a primary contact, or one written
    /// out. Never `absent`: AWS cannot delete the primary contact.
    fn primary_slot(&mut self, node: &Node, path: &YamlPath) -> Option<SlotValue> {
        match node {
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
                if let Some(primary) = self.primaries.get(name) {
                    return Some(SlotValue {
                        wanted: Wanted::Present(Value::Primary(Box::new(primary.clone()))),
                        contact_name: Some(name.clone()),
                        reviewed: None,
                    });
                }
                if !self.primary_names.contains(name) {
                    let diagnostic =
                        Diagnostic::at(path, format!("unknown primary contact `{name}`"));
                    let diagnostic = match closest(name, self.primary_names.iter().map(String::as_str)) {
                        Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
                        None => diagnostic.help(
                            "define it under `primary_contacts:`, or write the primary contact inline",
                        ),
                    };
                    self.report(diagnostic);
                }
                None
            }
            Node::Map(_) => self.primary(node, path).map(|primary| SlotValue {
                wanted: Wanted::Present(Value::Primary(Box::new(primary))),
                contact_name: None,
                reviewed: None,
            }),
            other => {
                self.report(Diagnostic::at(
                    path,
                    format!(
                        "`primary` must be the name of a primary contact or one written out, found {}",
                        other.kind()
                    ),
                ));
                None
            }
        }
    }

    fn slot(&mut self, node: &Node, path: &YamlPath) -> Option<SlotValue> {
        match node {
            Node::Str(text, _) if text == ABSENT => Some(SlotValue {
                wanted: Wanted::Absent,
                contact_name: None,
                reviewed: None,
            }),
            Node::Str(name, _) => {
                if let Some(named) = self.contacts.get(name) {
                    return Some(SlotValue {
                        wanted: Wanted::Present(Value::Alternate(named.contact.clone())),
                        contact_name: Some(name.clone()),
                        reviewed: named.reviewed,
                    });
                }
                if !self.contact_names.contains(name) {
                    let diagnostic = Diagnostic::at(path, format!("unknown contact `{name}`"));
                    let diagnostic = match closest(name, self.contact_names.iter().map(String::as_str)) {
                        Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
                        None => diagnostic.help(format!(
                            "define it under `contacts:`, write an inline contact, or `{ABSENT}` to delete the slot"
                        )),
                    };
                    self.report(diagnostic);
                }
                None
            }
            Node::Map(_) => self.contact(node, path).map(|named| SlotValue {
                wanted: Wanted::Present(Value::Alternate(named.contact)),
                contact_name: None,
                reviewed: named.reviewed,
            }),
            other => {
                self.report(
                    Diagnostic::at(path, format!("a slot must be a contact name, an inline contact or `{ABSENT}`, found {}", other.kind()))
                        .help("to leave a slot unmanaged, remove the key"),
                );
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
                        "`{text}` is not an account ID: account IDs are exactly 12 digits"
                    )));
                }
                id
            }
            Key::Str(text, Style::Plain) | Key::Number(text) => {
                self.report(
                    at(format!("account ID {text} must be a quoted string"))
                        .help("write it in quotes, e.g. \"{source}\": unquoted, YAML tools read it as a number and drop leading zeros"),
                );
                None
            }
            Key::Other(text) => {
                self.report(at(format!(
                    "`{text}` is not an account ID: account IDs are exactly 12 digits"
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
        let text = key.text();
        if key.as_str().is_some() {
            if OU_ID.is_match(text) {
                return Some(UnitSelector::Id(text.to_owned()));
            }
            let segments = super::unit_path_segments(text);
            let looks_like_id = text.starts_with("ou-");
            if !looks_like_id && segments.iter().all(|segment| !segment.trim().is_empty()) {
                return Some(UnitSelector::Path(segments));
            }
        }
        self.report(
            Diagnostic::at_key(path, format!("`{text}` is neither an OU path nor an OU id"))
                .help("write a path from the root, e.g. `Root/Workloads/Data`, or an id like `ou-ab12-cdef3456`"),
        );
        None
    }

    fn count(&mut self, node: &Node, path: &YamlPath, what: &str, max: Option<u64>) -> Option<u32> {
        let value = match node {
            Node::Number(text) => text.parse::<u64>().ok(),
            _ => None,
        };
        let max = max.unwrap_or(u64::from(u32::MAX));
        match value {
            Some(value) if value <= max => u32::try_from(value).ok(),
            _ => {
                let range = format!("a whole number from 0 to {max}");
                self.report(Diagnostic::at(path, format!("{what} must be {range}")));
                None
            }
        }
    }

    fn safety(&mut self, node: &Node, path: &YamlPath) -> SafetySpec {
        let mut settings = SafetySpec::default();
        let Some(entries) = self.mapping(node, path, "`safety`") else {
            return settings;
        };
        self.known_keys(entries, path, keys::<SafetySpec>(), "`safety`");
        if let Some(node) = entry(entries, "max_deletes") {
            settings.max_deletes =
                self.count(node, &path.key("max_deletes"), "`max_deletes`", None);
        }
        if let Some(node) = entry(entries, "max_updates") {
            settings.max_updates =
                self.count(node, &path.key("max_updates"), "`max_updates`", None);
        }
        if let Some(node) = entry(entries, "max_update_percent") {
            settings.max_update_percent = self.count(
                node,
                &path.key("max_update_percent"),
                "`max_update_percent`",
                Some(100),
            );
        }
        settings
    }

    fn rate(&mut self, node: &Node, path: &YamlPath) -> RateSpec {
        let mut settings = RateSpec::default();
        let Some(entries) = self.mapping(node, path, "`rate`") else {
            return settings;
        };
        self.known_keys(entries, path, keys::<RateSpec>(), "`rate`");
        for (key, slot) in [
            ("get", &mut settings.get),
            ("put", &mut settings.put),
            ("delete", &mut settings.delete),
        ] {
            let Some(node) = entry(entries, key) else {
                continue;
            };
            match node {
                Node::Number(text) if text.parse::<f64>().is_ok_and(rate_in_range) => {
                    *slot = text.parse().ok();
                }
                _ => self.problems.push(Diagnostic::at(
                    &path.key(key),
                    format!(
                        "`{key}` must be a number of requests per second from {RATE_MIN} to {RATE_MAX}"
                    ),
                )),
            }
        }
        settings
    }
}
