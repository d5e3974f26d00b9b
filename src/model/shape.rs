//! The two shapes a slot's value takes, the alternate contact and the
//! primary contact, each described once, field by field, in the same kind
//! of table: its key in files and in JSON, its documentation, whether AWS
//! requires it, and AWS's rules for it. Everything else about a field (the
//! struct, the JSON Schema, the validator, plan diffs, saved plans, the
//! sandbox) is derived from the table, so adding a field to either shape is
//! one entry here, and the AWS call that carries it (the compiler points at
//! it: `backend/aws.rs` names every field in an exhaustive match).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub const EMAIL_PATTERN: &str = r"^[\s]*[\w+=.#|!&-]+@[\w.-]+\.[\w]+[\s]*$";
pub const PHONE_PATTERN: &str = r"^[\s0-9()+-]+$";
pub const PRIMARY_PHONE_PATTERN: &str = r"^[+][\s0-9()-]+$";
pub const COUNTRY_PATTERN: &str = r"^[A-Za-z]{2}$";
pub const ACCOUNT_ID_PATTERN: &str = r"^\d{12}$";

/// Countries whose addresses AWS requires a state or region for.
pub const STATE_REQUIRED_IN: [&str; 7] = ["US", "CA", "GB", "DE", "JP", "IN", "BR"];

/// One field of a shape, with AWS's rules for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldRule {
    pub key: &'static str,
    doc: &'static str,
    pub max: usize,
    pub required: bool,
    pub pattern: Option<&'static str>,
    /// What a value that does not match the pattern is not, and what is
    /// allowed.
    mismatch: (&'static str, &'static str),
}

// AWS validates with Java regexes, where \w and \s are ASCII-only; Rust's are
// Unicode-aware by default, which would accept addresses AWS rejects.
static PATTERNS: LazyLock<BTreeMap<&'static str, Regex>> = LazyLock::new(|| {
    [
        EMAIL_PATTERN,
        PHONE_PATTERN,
        PRIMARY_PHONE_PATTERN,
        COUNTRY_PATTERN,
    ]
    .into_iter()
    .map(|pattern| {
        let regex = RegexBuilder::new(pattern)
            .unicode(false)
            .build()
            .expect("AWS field patterns are valid regexes");
        (pattern, regex)
    })
    .collect()
});

impl FieldRule {
    /// What the field is for, as the schema documents it.
    pub fn doc(&self) -> &'static str {
        self.doc.trim()
    }

    /// Every way `value` breaks AWS's rules for the field; each message
    /// says what is wrong and what is allowed.
    pub fn problems(&self, value: &str) -> Vec<String> {
        let length = value.chars().count();
        if length == 0 {
            return vec![format!("{} must not be empty", self.key)];
        }
        let mut problems = Vec::new();
        if length > self.max {
            problems.push(format!(
                "{} is {length} characters long; AWS allows at most {}",
                self.key, self.max
            ));
        }
        if let Some(pattern) = self.pattern {
            let regex = &PATTERNS[pattern];
            if !value.is_ascii() || !regex.is_match(value) {
                let (what, hint) = self.mismatch;
                problems.push(format!("{value:?} is not {what} AWS accepts: {hint}"));
            }
        }
        problems
    }
}

/// The properties and required keys of a shape's JSON Schema, from its
/// table: what the contacts file's schema and the plan's and report's
/// schemas all say of a value.
pub fn shape_properties<S: Shape>() -> (BTreeMap<&'static str, serde_json::Value>, Vec<&'static str>)
{
    let properties = S::RULES
        .iter()
        .map(|rule| {
            let mut property = serde_json::json!({
                "description": rule.doc(),
                "type": "string",
                "maxLength": rule.max,
                "minLength": 1,
            });
            if let Some(pattern) = rule.pattern {
                property["pattern"] = pattern.into();
            }
            (rule.key, property)
        })
        .collect();
    let required = S::RULES
        .iter()
        .filter(|rule| rule.required)
        .map(|rule| rule.key)
        .collect();
    (properties, required)
}

/// A shape's JSON Schema: an object of its fields and nothing else.
pub fn shape_schema<S: Shape>(description: &str) -> schemars::Schema {
    let (properties, required) = shape_properties::<S>();
    schemars::json_schema!({
        "description": description,
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
        "required": required
    })
}

/// A value of one of the two shapes, read through its table.
pub trait Shape: Sized + Clone + PartialEq {
    /// What a value of this shape is called: "a contact".
    const NAME: &'static str;
    /// The fields, in the order AWS lists them.
    const RULES: &'static [FieldRule];

    /// The value of field `index` (of [`Shape::RULES`]), if set.
    fn value(&self, index: usize) -> Option<&str>;

    /// A value from each field's, in [`Shape::RULES`] order; `None` when a
    /// required one is missing.
    fn from_values(values: Vec<Option<String>>) -> Option<Self>;

    /// Rules between fields, as (field index, message).
    fn cross_field_problems(&self) -> Vec<(usize, String)> {
        Vec::new()
    }

    /// Every way the value breaks AWS's rules, as (field index, message).
    fn problems(&self) -> Vec<(usize, String)> {
        let mut problems: Vec<(usize, String)> = Self::RULES
            .iter()
            .enumerate()
            .filter_map(|(index, rule)| Some((index, rule, self.value(index)?)))
            .flat_map(|(index, rule, value)| {
                rule.problems(value)
                    .into_iter()
                    .map(move |message| (index, message))
            })
            .collect();
        problems.extend(self.cross_field_problems());
        problems
    }

    /// Every field, as (key, value), for diffs; optional fields left empty
    /// are `None`.
    fn fields(&self) -> Vec<(&'static str, Option<&str>)> {
        Self::RULES
            .iter()
            .enumerate()
            .map(|(index, rule)| (rule.key, self.value(index)))
            .collect()
    }

    /// The required fields' keys, in a sentence: "a, b and c".
    fn required_list() -> String {
        let keys: Vec<&str> = Self::RULES
            .iter()
            .filter(|rule| rule.required)
            .map(|rule| rule.key)
            .collect();
        match keys.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => keys.join(""),
        }
    }
}

/// A shape as a map of its set fields, in table order.
fn serialize_shape<S: Shape, T: Serializer>(value: &S, serializer: T) -> Result<T::Ok, T::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(None)?;
    for (index, rule) in S::RULES.iter().enumerate() {
        if let Some(field) = value.value(index) {
            map.serialize_entry(rule.key, field)?;
        }
    }
    map.end()
}

/// Why a map is not a value of a shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotTheShape {
    Missing(&'static str),
    Unknown(String),
}

/// A shape from the entries of a map, taking its fields out of `entries`
/// and leaving any other key there: every required field is needed.
pub fn shape_from_entries<S: Shape>(
    entries: &mut BTreeMap<String, Option<String>>,
) -> Result<S, NotTheShape> {
    let values: Vec<Option<String>> = S::RULES
        .iter()
        .map(|rule| entries.remove(rule.key).flatten())
        .collect();
    if let Some((rule, _)) = S::RULES
        .iter()
        .zip(&values)
        .find(|(rule, value)| rule.required && value.is_none())
    {
        return Err(NotTheShape::Missing(rule.key));
    }
    S::from_values(values).ok_or(NotTheShape::Missing(""))
}

/// The keys of a shape, for serde's messages.
pub fn keys_of<S: Shape>() -> &'static [&'static str] {
    static KEYS: LazyLock<std::sync::Mutex<BTreeMap<&'static str, &'static [&'static str]>>> =
        LazyLock::new(Default::default);
    let mut keys = KEYS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    keys.entry(S::NAME).or_insert_with(|| {
        let list: Vec<&'static str> = S::RULES.iter().map(|rule| rule.key).collect();
        Box::leak(list.into_boxed_slice())
    })
}

/// A shape from a map: every required field, no unknown one.
fn deserialize_shape<'de, S: Shape, D: Deserializer<'de>>(deserializer: D) -> Result<S, D::Error> {
    use serde::de::Error;
    let mut entries = BTreeMap::<String, Option<String>>::deserialize(deserializer)?;
    let value = shape_from_entries::<S>(&mut entries).map_err(|problem| match problem {
        NotTheShape::Missing(key) => D::Error::missing_field(key),
        NotTheShape::Unknown(key) => D::Error::unknown_field(&key, keys_of::<S>()),
    })?;
    match entries.keys().next() {
        Some(unknown) => Err(D::Error::unknown_field(unknown, keys_of::<S>())),
        None => Ok(value),
    }
}

/// Declares a shape: its struct, its field enum and its table, from one
/// entry per field.
macro_rules! shape {
    (
        $(#[$meta:meta])*
        pub struct $name:ident, fields $fields:ident, called $called:literal
            $(, checked across fields by $cross:ident)? {
            $(
                $(#[doc = $doc:literal])+
                $variant:ident($field:ident): $presence:ident, at most $max:literal characters
                    $(, matching $pattern:ident or else $what:literal: $hint:literal)?;
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name {
            $($(#[doc = $doc])+ pub $field: shape!(@type $presence),)+
        }

        /// A field of the shape, in its table's order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $fields {
            $($variant,)+
        }

        impl $fields {
            pub const ALL: [$fields; [$(stringify!($variant)),+].len()] = [$(Self::$variant),+];

            pub fn rule(self) -> &'static FieldRule {
                &<$name as Shape>::RULES[self as usize]
            }

            pub fn key(self) -> &'static str {
                self.rule().key
            }
        }

        impl Shape for $name {
            const NAME: &'static str = $called;
            const RULES: &'static [FieldRule] = &[$(FieldRule {
                key: stringify!($field),
                doc: concat!($($doc),+),
                max: $max,
                required: shape!(@required $presence),
                pattern: shape!(@pattern $($pattern)?),
                mismatch: shape!(@mismatch $($what, $hint)?),
            },)+];

            fn value(&self, index: usize) -> Option<&str> {
                let values = [$(shape!(@get self.$field, $presence)),+];
                values.get(index).copied().flatten()
            }

            fn from_values(values: Vec<Option<String>>) -> Option<Self> {
                let mut values = values.into_iter();
                Some(Self {
                    $($field: shape!(@take values.next().flatten(), $presence),)+
                })
            }

            fn cross_field_problems(&self) -> Vec<(usize, String)> {
                shape!(@cross self $($cross)?)
            }
        }

        impl $name {
            /// The value of `field`, if set.
            pub fn get(&self, field: $fields) -> Option<&str> {
                self.value(field as usize)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serialize_shape(self, serializer)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserialize_shape(deserializer)
            }
        }
    };
    (@type required) => { String };
    (@type optional) => { Option<String> };
    (@required required) => { true };
    (@required optional) => { false };
    (@get $value:expr, required) => { Some($value.as_str()) };
    (@get $value:expr, optional) => { $value.as_deref() };
    (@take $value:expr, required) => { $value? };
    (@take $value:expr, optional) => { $value };
    (@pattern $pattern:ident) => { Some($pattern) };
    (@pattern) => { None };
    (@mismatch $what:literal, $hint:literal) => { ($what, $hint) };
    (@mismatch) => { ("", "") };
    (@cross $value:ident $cross:ident) => { $cross($value) };
    (@cross $value:ident) => { Vec::new() };
}

shape! {
    /// One alternate contact, with the Account API's required fields
    /// (PutAlternateContact).
    pub struct Contact, fields ContactField, called "a contact" {
        /// Person or team name.
        Name(name): required, at most 64 characters;
        /// Role or department.
        Title(title): required, at most 50 characters;
        /// A monitored address, ideally a team distribution list.
        EmailAddress(email_address): required, at most 254 characters,
            matching EMAIL_PATTERN or else "an email address":
            "use local@domain.tld with letters, digits and + = . # | ! & - _ before the @";
        /// Digits, spaces and + - ( ) only. Quote it in YAML.
        PhoneNumber(phone_number): required, at most 25 characters,
            matching PHONE_PATTERN or else "a phone number":
            "only digits, spaces and + - ( ) are allowed";
    }
}

shape! {
    /// An account's primary contact (PutContactInformation): the company
    /// address, full name and phone AWS uses for the account itself.
    pub struct PrimaryContact, fields PrimaryField, called "a primary contact",
        checked across fields by state_required {
        /// The account owner's full name.
        FullName(full_name): required, at most 50 characters;
        /// The company the account belongs to.
        CompanyName(company_name): optional, at most 50 characters;
        /// The first line of the address.
        AddressLine1(address_line_1): required, at most 60 characters;
        /// The second line of the address.
        AddressLine2(address_line_2): optional, at most 60 characters;
        /// The third line of the address.
        AddressLine3(address_line_3): optional, at most 60 characters;
        /// The city.
        City(city): required, at most 50 characters;
        /// The state or region; AWS requires it for US, CA, GB, DE, JP, IN and BR.
        StateOrRegion(state_or_region): optional, at most 50 characters;
        /// The district or county.
        DistrictOrCounty(district_or_county): optional, at most 50 characters;
        /// The postal code. Quote it in YAML.
        PostalCode(postal_code): required, at most 20 characters;
        /// The two letters of ISO 3166, e.g. US.
        CountryCode(country_code): required, at most 2 characters,
            matching COUNTRY_PATTERN or else "a country code":
            "use the two letters of ISO 3166, e.g. US";
        /// Starts with + and holds digits, spaces and ( ) -. Quote it in YAML.
        PhoneNumber(phone_number): required, at most 20 characters,
            matching PRIMARY_PHONE_PATTERN or else "a primary phone number":
            "start with + and use only digits, spaces and ( ) -";
        /// The company's website.
        WebsiteUrl(website_url): optional, at most 256 characters;
    }
}

impl Contact {
    pub fn field(&self, field: ContactField) -> &str {
        self.get(field).unwrap_or_default()
    }
}

impl PrimaryContact {
    /// Every way the contact breaks AWS's rules, as (field key, message).
    pub fn problems_by_key(&self) -> Vec<(&'static str, String)> {
        Shape::problems(self)
            .into_iter()
            .map(|(index, message)| (Self::RULES[index].key, message))
            .collect()
    }
}

/// AWS requires a state or region for addresses in some countries.
fn state_required(primary: &PrimaryContact) -> Vec<(usize, String)> {
    let country = &primary.country_code;
    let required = STATE_REQUIRED_IN.contains(&country.to_ascii_uppercase().as_str());
    if required && primary.state_or_region.is_none() {
        vec![(
            PrimaryField::StateOrRegion as usize,
            format!("AWS requires state_or_region for an address in {country}"),
        )]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(field: ContactField, value: &str) -> Result<(), Vec<String>> {
        let problems = field.rule().problems(value);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    #[test]
    fn field_rules_follow_aws() {
        assert!(check(ContactField::EmailAddress, "security@example.com").is_ok());
        assert!(check(ContactField::EmailAddress, " sec+alerts@mail.example.co ").is_ok());
        assert!(check(ContactField::EmailAddress, "no-at-sign.example.com").is_err());
        assert!(check(ContactField::EmailAddress, "sécurité@example.com").is_err());
        assert!(check(ContactField::EmailAddress, "a@b").is_err());
        assert!(check(ContactField::PhoneNumber, "+1 (202) 555-0100").is_ok());
        assert!(check(ContactField::PhoneNumber, "+1 202 555 0100 ext 4").is_err());
        assert!(check(ContactField::PhoneNumber, &"1".repeat(26)).is_err());
        assert!(check(ContactField::Name, &"n".repeat(64)).is_ok());
        assert!(check(ContactField::Name, &"n".repeat(65)).is_err());
        assert!(check(ContactField::Title, &"t".repeat(51)).is_err());
        assert!(check(ContactField::Title, "").is_err());
    }

    #[test]
    fn the_primary_contact_is_read_through_the_same_kind_of_table() {
        let primary = PrimaryContact {
            full_name: "Example Corp".into(),
            address_line_1: "1 Main St".into(),
            city: "Seattle".into(),
            postal_code: "98101".into(),
            country_code: "USA".into(),
            phone_number: "206 555 0100".into(),
            ..PrimaryContact::default()
        };
        let problems: Vec<String> = primary
            .problems_by_key()
            .into_iter()
            .map(|(key, message)| format!("{key}: {message}"))
            .collect();
        assert_eq!(
            problems,
            vec![
                "country_code: country_code is 3 characters long; AWS allows at most 2",
                "country_code: \"USA\" is not a country code AWS accepts: use the two letters of ISO 3166, e.g. US",
                "phone_number: \"206 555 0100\" is not a primary phone number AWS accepts: start with + and use only digits, spaces and ( ) -",
            ]
        );
        let json = serde_json::to_value(&primary).unwrap();
        assert_eq!(json["city"], "Seattle");
        assert!(
            json.get("company_name").is_none(),
            "an optional field left out is not written"
        );
        let back: PrimaryContact = serde_json::from_value(json).unwrap();
        assert_eq!(back, primary);
        let missing =
            serde_json::from_value::<PrimaryContact>(serde_json::json!({ "full_name": "x" }));
        assert!(
            missing
                .unwrap_err()
                .to_string()
                .contains("missing field `address_line_1`")
        );
        assert_eq!(
            PrimaryContact::required_list(),
            "full_name, address_line_1, city, postal_code, country_code and phone_number"
        );
    }
}
