//! The `contacts.yaml` format as serde + schemars types.
//!
//! These types are the single description of the format: the JSON Schema
//! and its documentation are generated from them, the keys each section
//! allows are read off that schema ([`keys`]), `export` writes through them,
//! and every file that passes validation is read into them, so a value the
//! validator let through that the types cannot hold is still an error.
//! `validate.rs` reports every problem with its position.

use std::borrow::Cow;
use std::collections::BTreeMap;

pub use crate::settings::{AccessSpec, RateSpec, SafetySpec};
use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::{
    ACCOUNT_ID_PATTERN, Contact, ContactType, NotTheShape, PrimaryContact, STATE_REQUIRED_IN,
    Shape, Topic, keys_of, shape_from_entries, shape_properties, shape_schema,
};

pub const ABSENT: &str = "absent";
pub const OU_ID_PATTERN: &str = r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$";
pub const DATE_PATTERN: &str = r"^\d{4}-\d{2}-\d{2}$";

/// Declares the AWS alternate contacts (SECURITY, BILLING, OPERATIONS) every
/// account must have. Read by `altcontacts validate | plan | apply | audit`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "altcontacts contacts.yaml")]
pub struct ConfigFile {
    /// Format version of this file. Must be 1.
    #[schemars(extend("const" = 1))]
    pub version: u32,
    /// Named contacts, referenced by name from any slot below.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "contact_names_schema")]
    pub contacts: BTreeMap<String, ContactSpec>,
    /// Named primary contacts (company address, full name, phone),
    /// referenced by name from any `primary` slot.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "primary_names_schema")]
    pub primary_contacts: BTreeMap<String, PrimarySpec>,
    /// Every ACTIVE account of the organization is in scope when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrganizationSpec>,
    /// Per-account slots. Keys are quoted 12-digit account IDs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "account_map_schema")]
    pub accounts: BTreeMap<String, SlotsSpec>,
    /// Limits on what a single `apply` may change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety: Option<SafetySpec>,
    /// Client-side request rates per second, for accounts whose Account API
    /// quotas differ from AWS's published defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<RateSpec>,
    /// How the run reaches each account's contacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessSpec>,
    /// What `audit` holds the contacts to, beyond AWS's own rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditSpec>,
}

/// The audit's policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditSpec {
    /// The domains (and their subdomains) every contact address and every
    /// account's root email must be on; others are findings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "email_domains_schema")]
    pub email_domains: Vec<String>,
    /// Findings accepted for a reason until a date, as Prowler's mute
    /// list has them: shown as muted in every format, and not failing
    /// the audit, until the date has passed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mute: Vec<MuteSpec>,
}

/// One accepted finding: a check, for one account, every account (`"*"`)
/// or the accounts of a unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MuteSpec {
    /// The check, by its code (`shared_contact`), as every output names it.
    #[schemars(schema_with = "check_schema")]
    pub check: String,
    /// The account it is muted for, or `"*"` for every account (and the
    /// findings about none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "mute_account_schema")]
    pub account: Option<String>,
    /// The unit whose accounts it is muted for, as `organization.units`
    /// names one: a path from the root or an OU id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Why the finding is accepted: a ticket, a decision, who took it.
    #[schemars(length(min = 1, max = 1024))]
    pub reason: String,
    /// The last day it is muted (YYYY-MM-DD); after it the finding is
    /// reported again, with the mute's expiry.
    #[schemars(schema_with = "date_schema")]
    pub until: String,
}

fn check_schema(_: &mut SchemaGenerator) -> Schema {
    let codes: Vec<String> = crate::model::Check::ALL
        .into_iter()
        .map(crate::model::Check::code)
        .collect();
    json_schema!({ "type": "string", "enum": codes })
}

fn mute_account_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "pattern": "^([0-9]{12}|\\*)$" })
}

fn date_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" })
}

fn email_domains_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": {
            "type": "string",
            "pattern": crate::model::DOMAIN_PATTERN,
            "description": "A domain, e.g. corp.example: its subdomains are allowed too."
        },
        "uniqueItems": true
    })
}

/// A contact as the file writes it: the contact's fields (described once,
/// in [`ContactField`]), and when it was last reviewed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactSpec {
    pub contact: Contact,
    /// When this contact was last confirmed current (YYYY-MM-DD).
    pub reviewed: Option<String>,
}

const REVIEWED: &str = "reviewed";
const REVIEWED_DOC: &str = "When this contact was last confirmed current (YYYY-MM-DD); `audit`\nwarns when it is over a year ago.";

impl Serialize for ContactSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in self.contact.fields() {
            map.serialize_entry(key, &value)?;
        }
        if let Some(reviewed) = &self.reviewed {
            map.serialize_entry(REVIEWED, reviewed)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ContactSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut entries = BTreeMap::<String, Option<String>>::deserialize(deserializer)?;
        let reviewed = entries.remove(REVIEWED).flatten();
        let contact =
            shape_from_entries::<Contact>(&mut entries).map_err(|problem| match problem {
                NotTheShape::Missing(key) => D::Error::missing_field(key),
                NotTheShape::Unknown(key) => D::Error::unknown_field(&key, keys_of::<Contact>()),
            })?;
        if let Some(unknown) = entries.keys().next() {
            return Err(D::Error::unknown_field(unknown, keys_of::<Contact>()));
        }
        Ok(Self { contact, reviewed })
    }
}

impl JsonSchema for ContactSpec {
    fn schema_name() -> Cow<'static, str> {
        "ContactSpec".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let (mut properties, required) = shape_properties::<Contact>();
        properties.insert(
            REVIEWED,
            serde_json::json!({
                "description": REVIEWED_DOC,
                "type": "string",
                "format": "date",
                "pattern": DATE_PATTERN,
            }),
        );
        json_schema!({
            "description": "One contact. Every field but `reviewed` is required by AWS.",
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
            "required": required
        })
    }
}

/// A primary contact as the file writes it. Its rules are AWS's, from its
/// table in `model`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PrimarySpec(pub PrimaryContact);

impl JsonSchema for PrimarySpec {
    fn schema_name() -> Cow<'static, str> {
        "PrimarySpec".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        shape_schema::<PrimaryContact>(&format!(
            "The account's primary contact. state_or_region is required for addresses in {}.",
            STATE_REQUIRED_IN.join(", ")
        ))
    }
}

/// The slots a layer sets, by contact type; a slot left out is not managed.
/// Its keys, documentation and schema come from [`ContactType`], so a new
/// kind of slot is described there once. `notices` says which AWS Health
/// topics the layer's contacts must stay subscribed to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlotsSpec {
    pub slots: BTreeMap<ContactType, SlotSpec>,
    pub notices: Option<NoticesSpec>,
}

/// The key of a layer's subscriptions.
pub const NOTICES: &str = "notices";
/// `notices: none`: no contact's subscriptions are checked.
pub const NO_NOTICES: &str = "none";

/// A layer's subscriptions (AWS User Notifications): for each contact it
/// names, the topics it must stay subscribed to (`[]`: not checked), or
/// `none` for every contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoticesSpec {
    None,
    Topics(BTreeMap<ContactType, Vec<Topic>>),
}

impl NoticesSpec {
    /// The topics each contact must keep, as the layer says.
    pub fn topics(&self) -> BTreeMap<ContactType, std::collections::BTreeSet<Topic>> {
        match self {
            Self::None => ContactType::EVERY
                .into_iter()
                .map(|kind| (kind, Default::default()))
                .collect(),
            Self::Topics(topics) => topics
                .iter()
                .map(|(kind, topics)| (*kind, topics.iter().cloned().collect()))
                .collect(),
        }
    }
}

impl Serialize for NoticesSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Self::None => serializer.serialize_str(NO_NOTICES),
            Self::Topics(topics) => {
                let mut map = serializer.serialize_map(Some(topics.len()))?;
                for (kind, topics) in topics {
                    map.serialize_entry(kind.config_key(), topics)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for NoticesSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Topics(BTreeMap<String, Vec<Topic>>),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Text(text) if text == NO_NOTICES => Ok(Self::None),
            Raw::Text(text) => Err(D::Error::custom(format!(
                "`notices` is `{NO_NOTICES}` or a mapping, not {text}"
            ))),
            Raw::Topics(entries) => entries
                .into_iter()
                .map(|(key, topics)| {
                    ContactType::EVERY
                        .into_iter()
                        .find(|kind| kind.config_key() == key)
                        .map(|kind| (kind, topics))
                        .ok_or_else(|| D::Error::unknown_field(&key, &[]))
                })
                .collect::<Result<_, _>>()
                .map(Self::Topics),
        }
    }
}

impl JsonSchema for NoticesSpec {
    fn schema_name() -> Cow<'static, str> {
        "Notices".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let topics = serde_json::json!({
            "type": "array",
            "uniqueItems": true,
            "items": {
                "type": "string",
                "pattern": crate::model::notices::TOPIC_PATTERN,
                "description": "A managed notification configuration of AWS User Notifications, as CATEGORY/SUB-CATEGORY: AWS-Health/Security, AWS-Health/Operations, AWS-Health/Billing."
            }
        });
        let properties: BTreeMap<&str, serde_json::Value> = ContactType::EVERY
            .into_iter()
            .map(|kind| (kind.config_key(), topics.clone()))
            .collect();
        json_schema!({
            "description": "AWS User Notifications: the AWS Health topics each contact must stay subscribed to (an empty list: not checked). A contact left out keeps the topics AWS subscribes it to by default (SECURITY: AWS-Health/Security; OPERATIONS and PRIMARY: Security, Operations and Billing; BILLING: AWS-Health/Billing). `none`: no contact's subscriptions are checked.",
            "anyOf": [
                { "const": NO_NOTICES, "description": "Check no contact's subscriptions." },
                { "type": "object", "properties": properties, "additionalProperties": false }
            ]
        })
    }
}

impl Serialize for SlotsSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for (kind, slot) in &self.slots {
            map.serialize_entry(kind.config_key(), slot)?;
        }
        if let Some(notices) = &self.notices {
            map.serialize_entry(NOTICES, notices)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for SlotsSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let entries = BTreeMap::<String, Option<serde_json::Value>>::deserialize(deserializer)?;
        let mut spec = SlotsSpec::default();
        for (key, slot) in entries {
            if key == NOTICES {
                spec.notices = slot
                    .map(serde_json::from_value)
                    .transpose()
                    .map_err(D::Error::custom)?;
                continue;
            }
            let kind = ContactType::EVERY
                .into_iter()
                .find(|kind| kind.config_key() == key)
                .ok_or_else(|| D::Error::unknown_field(&key, &[]))?;
            let Some(slot) = slot else {
                continue;
            };
            let slot = match (kind, slot) {
                (_, serde_json::Value::String(text)) if text == ABSENT => SlotSpec::Absent,
                (_, serde_json::Value::String(name)) => SlotSpec::Named(name),
                (ContactType::Primary, value) => SlotSpec::InlinePrimary(
                    serde_json::from_value(value).map_err(D::Error::custom)?,
                ),
                (_, value) => {
                    SlotSpec::Inline(serde_json::from_value(value).map_err(D::Error::custom)?)
                }
            };
            spec.slots.insert(kind, slot);
        }
        Ok(spec)
    }
}

impl JsonSchema for SlotsSpec {
    fn schema_name() -> Cow<'static, str> {
        "SlotsSpec".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let slot = generator.subschema_for::<SlotSpec>();
        let primary = generator.subschema_for::<PrimarySpec>();
        let notices = generator.subschema_for::<NoticesSpec>();
        let mut properties: BTreeMap<&str, serde_json::Value> = ContactType::EVERY
            .into_iter()
            .map(|kind| {
                let value = match kind {
                    // No null: `security: ~` is refused by the validator
                    // (a slot left out is written by leaving the key out).
                    ContactType::Primary => serde_json::json!({
                        "description": kind.doc(),
                        "anyOf": [
                            { "type": "string", "minLength": 1, "not": { "const": ABSENT },
                              "description": "Name of a contact under `primary_contacts`." },
                            primary.clone()
                        ],
                    }),
                    _ => serde_json::json!({
                        "description": kind.doc(),
                        "allOf": [slot.clone()],
                    }),
                };
                (kind.config_key(), value)
            })
            .collect();
        properties.insert(
            NOTICES,
            serde_json::to_value(notices).expect("a schema is JSON"),
        );
        json_schema!({
            "description": "The three alternate-contact slots and the primary contact, and the AWS Health topics they must stay subscribed to. A slot left out is not managed.",
            "type": "object",
            "properties": properties,
            "additionalProperties": false
        })
    }
}

/// A slot's desired value: a named contact, an inline contact, or `absent`
/// (for `primary`: a named or inline primary contact).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlotSpec {
    Absent,
    Named(String),
    Inline(ContactSpec),
    InlinePrimary(PrimarySpec),
}

impl Serialize for SlotSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Absent => serializer.serialize_str(ABSENT),
            Self::Named(name) => serializer.serialize_str(name),
            Self::Inline(contact) => contact.serialize(serializer),
            Self::InlinePrimary(primary) => primary.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for SlotSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Inline(ContactSpec),
        }
        Ok(match Raw::deserialize(deserializer)? {
            Raw::Text(text) if text == ABSENT => Self::Absent,
            Raw::Text(name) => Self::Named(name),
            Raw::Inline(contact) => Self::Inline(contact),
        })
    }
}

impl JsonSchema for SlotSpec {
    fn schema_name() -> Cow<'static, str> {
        "Slot".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let inline = generator.subschema_for::<ContactSpec>();
        json_schema!({
            "description": "`absent` deletes the contact; any other string names a contact of `contacts`; a mapping is an inline contact.",
            "anyOf": [
                { "const": ABSENT, "description": "Delete this contact." },
                { "type": "string", "minLength": 1, "description": "Name of a contact under `contacts`." },
                inline
            ]
        })
    }
}

/// Organization-wide layers: defaults, then OU overrides, then `accounts`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationSpec {
    /// Slots every ACTIVE account gets unless a unit or account says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<SlotsSpec>,
    /// OU overrides, keyed by path from the root (`Root/Workloads/Data`) or by
    /// OU id (`ou-xxxx-xxxxxxxx`). The deepest matching unit wins.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "unit_map_schema")]
    pub units: BTreeMap<String, SlotsSpec>,
    /// Accounts left out of scope entirely.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "account_list_schema")]
    pub exclude: Vec<String>,
}

fn primary_names_schema(generator: &mut SchemaGenerator) -> Schema {
    let primary = generator.subschema_for::<PrimarySpec>();
    json_schema!({
        "type": "object",
        "propertyNames": { "minLength": 1 },
        "additionalProperties": primary
    })
}

fn contact_names_schema(generator: &mut SchemaGenerator) -> Schema {
    let contact = generator.subschema_for::<ContactSpec>();
    json_schema!({
        "type": "object",
        "propertyNames": { "minLength": 1, "not": { "const": ABSENT } },
        "additionalProperties": contact
    })
}

fn account_map_schema(generator: &mut SchemaGenerator) -> Schema {
    let slots = generator.subschema_for::<SlotsSpec>();
    json_schema!({
        "type": "object",
        "patternProperties": { ACCOUNT_ID_PATTERN: slots },
        "additionalProperties": false
    })
}

fn unit_map_schema(generator: &mut SchemaGenerator) -> Schema {
    let slots = generator.subschema_for::<SlotsSpec>();
    json_schema!({
        "type": "object",
        "propertyNames": { "anyOf": [ { "pattern": "^[^/]+(/[^/]+)*$" }, { "pattern": OU_ID_PATTERN } ] },
        "additionalProperties": slots
    })
}

fn account_list_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": { "type": "string", "pattern": ACCOUNT_ID_PATTERN },
        "uniqueItems": true
    })
}

/// The keys a section of the file allows, as its type declares them. Read
/// off the generated schema (once), so they cannot drift from the types.
pub fn keys<T: JsonSchema>() -> &'static [String] {
    static KEYS: std::sync::LazyLock<BTreeMap<String, Vec<String>>> =
        std::sync::LazyLock::new(|| {
            let schema: serde_json::Value =
                serde_json::from_str(&json_schema()).expect("the schema is JSON");
            let names = |object: &serde_json::Value| -> Vec<String> {
                object["properties"]
                    .as_object()
                    .map(|properties| properties.keys().cloned().collect())
                    .unwrap_or_default()
            };
            let mut keys = BTreeMap::new();
            keys.insert(ConfigFile::schema_name().into_owned(), names(&schema));
            if let Some(definitions) = schema["definitions"].as_object() {
                for (name, definition) in definitions {
                    keys.insert(name.clone(), names(definition));
                }
            }
            keys
        });
    KEYS.get(T::schema_name().as_ref())
        .map_or(&[], Vec::as_slice)
}

/// The JSON Schema of `contacts.yaml`, as committed in `schema/`.
pub fn json_schema() -> String {
    let schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<ConfigFile>();
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes to JSON");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_section_allows_the_keys_its_type_declares() {
        assert_eq!(
            keys::<ConfigFile>(),
            [
                "access",
                "accounts",
                "audit",
                "contacts",
                "organization",
                "primary_contacts",
                "rate",
                "safety",
                "version"
            ]
        );
        assert_eq!(keys::<AuditSpec>(), ["email_domains", "mute"]);
        assert_eq!(
            keys::<ContactSpec>(),
            ["email_address", "name", "phone_number", "reviewed", "title"]
        );
        assert_eq!(
            keys::<SlotsSpec>(),
            ["billing", "notices", "operations", "primary", "security"]
        );
        assert_eq!(keys::<OrganizationSpec>(), ["defaults", "exclude", "units"]);
        assert_eq!(
            keys::<SafetySpec>(),
            ["max_deletes", "max_update_percent", "max_updates"]
        );
        assert_eq!(keys::<RateSpec>(), ["assume", "delete", "get", "put"]);
        assert_eq!(keys::<AccessSpec>(), ["member_role"]);
    }
}
