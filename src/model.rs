//! Plain domain types shared by every stage of the pipeline.
//!
//! Nothing here knows about YAML, the AWS SDK or rendering: config produces
//! these, backends read and write them, the planner compares them.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

/// `n noun` with the noun in the plural when `n` is not 1: "1 account",
/// "3 accounts", "2 entries".
pub fn count(n: usize, noun: &str) -> String {
    match (n, noun.strip_suffix('y')) {
        (1, _) => format!("1 {noun}"),
        (_, Some(stem)) if !stem.ends_with(['a', 'e', 'o', 'u']) => format!("{n} {stem}ies"),
        _ => format!("{n} {noun}s"),
    }
}

/// A 12-digit AWS account ID. Kept as a string because leading zeros matter.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AccountId {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text).ok_or_else(|| format!("`{text}` is not a 12-digit account ID"))
    }
}

impl From<AccountId> for String {
    fn from(id: AccountId) -> String {
        id.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The three alternate-contact slots of an account, in the order plans list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ContactType {
    Security,
    Billing,
    Operations,
    /// The account's primary contact (GetContactInformation): another
    /// shape, and it cannot be deleted.
    Primary,
}

impl ContactType {
    /// The three alternate contacts.
    pub const ALL: [ContactType; 3] = [Self::Security, Self::Billing, Self::Operations];
    /// Every kind of slot a file can manage: the alternates and the primary.
    pub const EVERY: [ContactType; 4] = [
        Self::Security,
        Self::Billing,
        Self::Operations,
        Self::Primary,
    ];

    /// The name the Account API uses (`AlternateContactType`).
    pub fn api_name(self) -> &'static str {
        match self {
            Self::Security => "SECURITY",
            Self::Billing => "BILLING",
            Self::Operations => "OPERATIONS",
            Self::Primary => "PRIMARY",
        }
    }

    /// What AWS sends to this contact, as the schema documents the slot.
    pub fn doc(self) -> &'static str {
        match self {
            Self::Security => "Receives AWS security advisories and compromise notices.",
            Self::Billing => "Receives billing and invoice communications.",
            Self::Operations => "Receives operational notices (service events, maintenance).",
            Self::Primary => {
                "The account's primary contact: the company address, full name and phone AWS uses for the account. It cannot be deleted."
            }
        }
    }

    /// The key used in `contacts.yaml`.
    pub fn config_key(self) -> &'static str {
        match self {
            Self::Security => "security",
            Self::Billing => "billing",
            Self::Operations => "operations",
            Self::Primary => "primary",
        }
    }
}

impl fmt::Display for ContactType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

/// The fields of a contact, each once: its key in files and in JSON, its
/// documentation, and AWS's rules for it (PutAlternateContact). Everything
/// else about a contact field (the struct, the JSON Schema, the validator,
/// plan diffs, saved plans) is derived from this table, so adding a field
/// is one entry here (and the AWS call that carries it).
macro_rules! contact_fields {
    ($(
        $(#[doc = $doc:literal])+
        $variant:ident($field:ident), at most $max:literal characters
            $(, matching $pattern:ident or else $what:literal: $hint:literal)?;
    )+) => {
        /// One alternate contact, with the Account API's required fields.
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Contact {
            $($(#[doc = $doc])+ pub $field: String,)+
        }

        /// A field of a contact.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ContactField {
            $($variant,)+
        }

        impl ContactField {
            pub const ALL: [ContactField; [$(stringify!($variant)),+].len()] =
                [$(Self::$variant),+];

            pub fn key(self) -> &'static str {
                match self {
                    $(Self::$variant => stringify!($field),)+
                }
            }

            /// What the field is for, as the schema documents it.
            pub fn doc(self) -> &'static str {
                match self {
                    $(Self::$variant => concat!($($doc),+).trim(),)+
                }
            }

            pub fn max_len(self) -> usize {
                match self {
                    $(Self::$variant => $max,)+
                }
            }

            /// AWS's pattern for the field, when it has one.
            pub fn pattern(self) -> Option<&'static str> {
                match self {
                    $(Self::$variant => contact_fields!(@pattern $($pattern)?),)+
                }
            }

            /// What a value that does not match is not, and what is allowed.
            fn mismatch(self) -> (&'static str, &'static str) {
                match self {
                    $(Self::$variant => contact_fields!(@mismatch $($what, $hint)?),)+
                }
            }
        }

        impl Contact {
            pub fn field(&self, field: ContactField) -> &str {
                match field {
                    $(ContactField::$variant => &self.$field,)+
                }
            }

            /// A contact from its fields' values, in [`ContactField::ALL`] order.
            pub fn from_values(values: [String; ContactField::ALL.len()]) -> Self {
                let [$($field),+] = values;
                Self { $($field),+ }
            }
        }
    };
    (@pattern $pattern:ident) => { Some($pattern) };
    (@pattern) => { None };
    (@mismatch $what:literal, $hint:literal) => { ($what, $hint) };
    (@mismatch) => { ("", "") };
}

pub const EMAIL_PATTERN: &str = r"^[\s]*[\w+=.#|!&-]+@[\w.-]+\.[\w]+[\s]*$";
pub const PHONE_PATTERN: &str = r"^[\s0-9()+-]+$";
pub const ACCOUNT_ID_PATTERN: &str = r"^\d{12}$";

contact_fields! {
    /// Person or team name.
    Name(name), at most 64 characters;
    /// Role or department.
    Title(title), at most 50 characters;
    /// A monitored address, ideally a team distribution list.
    EmailAddress(email_address), at most 254 characters,
        matching EMAIL_PATTERN or else "an email address":
        "use local@domain.tld with letters, digits and + = . # | ! & - _ before the @";
    /// Digits, spaces and + - ( ) only. Quote it in YAML.
    PhoneNumber(phone_number), at most 25 characters,
        matching PHONE_PATTERN or else "a phone number":
        "only digits, spaces and + - ( ) are allowed";
}

// AWS validates with Java regexes, where \w and \s are ASCII-only; Rust's are
// Unicode-aware by default, which would accept addresses AWS rejects.
fn ascii_regex(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .unicode(false)
        .build()
        .expect("AWS field patterns are valid regexes")
}

static FIELD_PATTERNS: LazyLock<[Option<Regex>; ContactField::ALL.len()]> =
    LazyLock::new(|| ContactField::ALL.map(|field| field.pattern().map(ascii_regex)));

impl ContactField {
    /// Checks a value against AWS's rules; the error says what is wrong and
    /// what is allowed.
    pub fn check(self, value: &str) -> Result<(), String> {
        let length = value.chars().count();
        if length == 0 {
            return Err(format!("{} must not be empty", self.key()));
        }
        if length > self.max_len() {
            return Err(format!(
                "{} is {length} characters long; AWS allows at most {}",
                self.key(),
                self.max_len()
            ));
        }
        // Variants are numbered in table order, as ALL and the patterns are.
        match &FIELD_PATTERNS[self as usize] {
            Some(pattern) if !value.is_ascii() || !pattern.is_match(value) => {
                let (what, hint) = self.mismatch();
                Err(format!("{value:?} is not {what} AWS accepts: {hint}"))
            }
            _ => Ok(()),
        }
    }
}

/// An account's primary contact (GetContactInformation): the company
/// address, full name and phone AWS uses for the account itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrimaryContact {
    pub full_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    pub address_line_1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line_2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line_3: Option<String>,
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_or_region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district_or_county: Option<String>,
    pub postal_code: String,
    pub country_code: String,
    pub phone_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_url: Option<String>,
}

/// The rules for a primary contact field (PutContactInformation): its key,
/// how long it may be, and whether it is required.
pub struct PrimaryField {
    pub key: &'static str,
    pub max: usize,
    pub required: bool,
    get: fn(&PrimaryContact) -> Option<&str>,
}

impl PrimaryField {
    pub fn value<'a>(&self, contact: &'a PrimaryContact) -> Option<&'a str> {
        (self.get)(contact)
    }
}

/// The primary contact's fields, in AWS's order, with AWS's rules.
pub const PRIMARY_FIELDS: [PrimaryField; 12] = [
    PrimaryField {
        key: "full_name",
        max: 50,
        required: true,
        get: |c| Some(c.full_name.as_str()),
    },
    PrimaryField {
        key: "company_name",
        max: 50,
        required: false,
        get: |c| c.company_name.as_deref(),
    },
    PrimaryField {
        key: "address_line_1",
        max: 60,
        required: true,
        get: |c| Some(c.address_line_1.as_str()),
    },
    PrimaryField {
        key: "address_line_2",
        max: 60,
        required: false,
        get: |c| c.address_line_2.as_deref(),
    },
    PrimaryField {
        key: "address_line_3",
        max: 60,
        required: false,
        get: |c| c.address_line_3.as_deref(),
    },
    PrimaryField {
        key: "city",
        max: 50,
        required: true,
        get: |c| Some(c.city.as_str()),
    },
    PrimaryField {
        key: "state_or_region",
        max: 50,
        required: false,
        get: |c| c.state_or_region.as_deref(),
    },
    PrimaryField {
        key: "district_or_county",
        max: 50,
        required: false,
        get: |c| c.district_or_county.as_deref(),
    },
    PrimaryField {
        key: "postal_code",
        max: 20,
        required: true,
        get: |c| Some(c.postal_code.as_str()),
    },
    PrimaryField {
        key: "country_code",
        max: 2,
        required: true,
        get: |c| Some(c.country_code.as_str()),
    },
    PrimaryField {
        key: "phone_number",
        max: 20,
        required: true,
        get: |c| Some(c.phone_number.as_str()),
    },
    PrimaryField {
        key: "website_url",
        max: 256,
        required: false,
        get: |c| c.website_url.as_deref(),
    },
];

pub const PRIMARY_PHONE_PATTERN: &str = r"^[+][\s0-9()-]+$";

/// Countries whose addresses AWS requires a state or region for.
pub const STATE_REQUIRED_IN: [&str; 7] = ["US", "CA", "GB", "DE", "JP", "IN", "BR"];

static PRIMARY_PHONE: LazyLock<Regex> = LazyLock::new(|| ascii_regex(PRIMARY_PHONE_PATTERN));

impl PrimaryContact {
    /// Every way the contact breaks AWS's rules, as (field key, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        for field in &PRIMARY_FIELDS {
            let Some(value) = field.value(self) else {
                continue;
            };
            let length = value.chars().count();
            if length == 0 {
                problems.push((field.key, format!("{} must not be empty", field.key)));
            } else if length > field.max {
                problems.push((
                    field.key,
                    format!(
                        "{} is {length} characters long; AWS allows at most {}",
                        field.key, field.max
                    ),
                ));
            }
        }
        let country = &self.country_code;
        if country.chars().count() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
            problems.push((
                "country_code",
                format!(
                    "{country:?} is not a country code: use the two letters of ISO 3166, e.g. US"
                ),
            ));
        }
        let state_required = STATE_REQUIRED_IN.contains(&country.to_ascii_uppercase().as_str());
        if state_required && self.state_or_region.is_none() {
            problems.push((
                "state_or_region",
                format!("AWS requires state_or_region for an address in {country}"),
            ));
        }
        if !self.phone_number.is_ascii() || !PRIMARY_PHONE.is_match(&self.phone_number) {
            problems.push((
                "phone_number",
                format!(
                    "{:?} is not a primary phone number AWS accepts: start with + and use only digits, spaces and ( ) -",
                    self.phone_number
                ),
            ));
        }
        problems
    }
}

/// What a slot holds: an alternate contact, or the primary contact.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Alternate(Contact),
    /// Boxed: the primary contact is three times an alternate's size.
    Primary(Box<PrimaryContact>),
}

impl Value {
    /// Every field, as (key, value), for diffs; optional fields left empty
    /// are `None`.
    pub fn fields(&self) -> Vec<(&'static str, Option<&str>)> {
        match self {
            Value::Alternate(contact) => ContactField::ALL
                .into_iter()
                .map(|field| (field.key(), Some(contact.field(field))))
                .collect(),
            Value::Primary(primary) => PRIMARY_FIELDS
                .iter()
                .map(|field| (field.key, field.value(primary)))
                .collect(),
        }
    }

    /// The value in a sentence: `"Name" <email>`, or `"Full Name" (+1 ...)`.
    pub fn describe(&self) -> String {
        match self {
            Value::Alternate(contact) => {
                format!("\"{}\" <{}>", contact.name, contact.email_address)
            }
            Value::Primary(primary) => {
                format!("\"{}\" ({})", primary.full_name, primary.phone_number)
            }
        }
    }

    pub fn as_alternate(&self) -> Option<&Contact> {
        match self {
            Value::Alternate(contact) => Some(contact),
            Value::Primary(_) => None,
        }
    }

    pub fn as_primary(&self) -> Option<&PrimaryContact> {
        match self {
            Value::Primary(primary) => Some(primary),
            Value::Alternate(_) => None,
        }
    }
}

/// Request rates a user may set, per second: slower than one request in
/// 100 s is a mistake, and faster than 10,000/s is beyond any AWS quota.
pub const RATE_MIN: f64 = 0.01;
pub const RATE_MAX: f64 = 10_000.0;

/// Whether `rate` requests per second is a rate a user may set.
pub fn rate_in_range(rate: f64) -> bool {
    (RATE_MIN..=RATE_MAX).contains(&rate)
}

/// One slot of one account: what plans, reads and writes are about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Slot {
    pub account: AccountId,
    pub kind: ContactType,
}

impl Slot {
    pub fn new(account: AccountId, kind: ContactType) -> Self {
        Self { account, kind }
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.account, self.kind)
    }
}

/// What the configuration wants in a managed slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wanted {
    Present(Value),
    Absent,
}

impl Wanted {
    pub fn contact(&self) -> Option<&Value> {
        match self {
            Self::Present(contact) => Some(contact),
            Self::Absent => None,
        }
    }
}

/// Which layer of the configuration a desired value came from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "layer", rename_all = "lowercase")]
pub enum Source {
    Defaults,
    Unit { key: String },
    Account { account_id: AccountId },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Defaults => f.write_str("organization.defaults"),
            Self::Unit { key } => write!(f, "units[\"{key}\"]"),
            Self::Account { account_id } => write!(f, "accounts[\"{account_id}\"]"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredSlot {
    pub wanted: Wanted,
    pub source: Source,
    /// The named contact this value came from, if any.
    pub contact_name: Option<String>,
    /// When the contact was last confirmed current, for `audit`.
    pub reviewed: Option<Date>,
}

/// Organization status of an account, as AWS Organizations reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    #[default]
    Active,
    Suspended,
    PendingClosure,
    #[serde(untagged)]
    Other(String),
}

impl AccountStatus {
    pub fn from_api(status: &str) -> Self {
        match status {
            "ACTIVE" => Self::Active,
            "SUSPENDED" => Self::Suspended,
            "PENDING_CLOSURE" => Self::PendingClosure,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for AccountStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Active => f.write_str("ACTIVE"),
            Self::Suspended => f.write_str("SUSPENDED"),
            Self::PendingClosure => f.write_str("PENDING_CLOSURE"),
            Self::Other(other) => f.write_str(other),
        }
    }
}

/// An account in scope, with what we know of it for display.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountInfo {
    pub name: Option<String>,
}

/// An account of the organization that is out of scope, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedAccount {
    pub id: AccountId,
    pub name: Option<String>,
    pub status: AccountStatus,
    pub reason: SkipReason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Suspended, closing, or otherwise not ACTIVE.
    NotActive,
    /// The management account, seen from a delegated administrator: AWS
    /// lets a delegated administrator name member accounts only.
    ManagementAccount,
}

impl SkipReason {
    /// What the reader can do about it.
    pub fn explain(self) -> &'static str {
        match self {
            Self::NotActive => "not ACTIVE",
            Self::ManagementAccount => {
                "the management account: a delegated administrator cannot read or write its contacts; run from the management account to cover it"
            }
        }
    }
}

/// The desired state: every managed slot of every account in scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Desired {
    pub accounts: BTreeMap<AccountId, AccountInfo>,
    pub slots: BTreeMap<Slot, DesiredSlot>,
    pub skipped: Vec<SkippedAccount>,
    /// What about the file deserves a look but does not stop the run,
    /// located and ready to print.
    pub warnings: Vec<String>,
}

impl Desired {
    /// Keeps only the accounts `keep` accepts, with their slots and skips;
    /// returns how many accounts in scope were left out.
    pub fn retain_accounts(&mut self, keep: impl Fn(&AccountId) -> bool) -> usize {
        let before = self.accounts.len();
        self.accounts.retain(|id, _| keep(id));
        self.slots.retain(|slot, _| keep(&slot.account));
        self.skipped.retain(|skipped| keep(&skipped.id));
        before - self.accounts.len()
    }
}

/// `--joined-since`: the cutoff, and how many accounts in scope joined
/// before it and were left unread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JoinedWindow {
    pub since: Timestamp,
    pub older_accounts: usize,
}

/// The live state of the slots that were read; `None` means no contact is set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Live {
    pub slots: BTreeMap<Slot, Option<Value>>,
}

/// An organization as discovered through AWS Organizations (or the sandbox).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organization {
    pub management_account: AccountId,
    pub root: OrgUnit,
    pub accounts: Vec<OrgAccount>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgUnit {
    pub id: String,
    pub name: String,
    pub children: Vec<OrgUnit>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: AccountId,
    pub name: String,
    pub status: AccountStatus,
    /// The OU ids from the root down to the account's parent, root included.
    pub parents: Vec<String>,
    /// When the account joined the organization (Organizations'
    /// JoinedTimestamp), if known.
    pub joined: Option<Timestamp>,
}

/// An account as discovery lists it, with what deciding its slots needs
/// before the rest of the organization is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub account: OrgAccount,
    /// Unit names from the root down to the account's parent, matching
    /// `account.parents` (empty when the organization is listed flat).
    pub path: Vec<String>,
    pub management_account: AccountId,
}

impl Organization {
    /// Every unit with the names from the root down to it, root first. Kept
    /// as names, never joined: a unit's name may itself contain `/`.
    pub fn units_with_paths(&self) -> Vec<(Vec<String>, &OrgUnit)> {
        fn walk<'a>(
            unit: &'a OrgUnit,
            prefix: &[String],
            out: &mut Vec<(Vec<String>, &'a OrgUnit)>,
        ) {
            let mut path = prefix.to_vec();
            path.push(unit.name.clone());
            for child in &unit.children {
                walk(child, &path, out);
            }
            out.push((path, unit));
        }
        let mut out = Vec::new();
        walk(&self.root, &[], &mut out);
        out.sort_by_key(|(path, _)| path.len());
        out
    }

    /// Every account with the names of the units from the root down to its
    /// parent, as discovery would have streamed it.
    pub fn accounts_with_paths(&self) -> Vec<(&OrgAccount, Vec<String>)> {
        fn names(unit: &OrgUnit, ids: &[String]) -> Vec<String> {
            let mut names = Vec::new();
            let mut here = Some(unit);
            for id in ids {
                let Some(unit) = here.filter(|unit| &unit.id == id) else {
                    break;
                };
                names.push(unit.name.clone());
                here = ids
                    .get(names.len())
                    .and_then(|next| unit.children.iter().find(|child| &child.id == next));
            }
            names
        }
        self.accounts
            .iter()
            .map(|account| (account, names(&self.root, &account.parents)))
            .collect()
    }
}

/// A moment, in whole seconds since the Unix epoch (UTC): when an account
/// joined the organization, or the `--joined-since` cutoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs() as i64);
        Self(seconds)
    }

    /// `--joined-since`: an RFC 3339 time (`2026-11-29T08:00:00Z`,
    /// `2026-11-29T09:00:00+01:00`) or a duration back from `now` (`90m`,
    /// `2h`, `7d`; also `s` and `w`).
    pub fn parse_since(text: &str, now: Timestamp) -> Result<Self, String> {
        let text = text.trim();
        if let Some(seconds) = parse_duration(text) {
            return Ok(Self(now.0 - seconds));
        }
        parse_rfc3339(text).map(Self).ok_or_else(|| {
            format!("`{text}` is neither a time like 2026-11-29T08:00:00Z nor a duration like 90m, 2h or 7d")
        })
    }

    /// The time as RFC 3339, in UTC.
    pub fn rfc3339(self) -> String {
        let days = self.0.div_euclid(86_400);
        let seconds = self.0.rem_euclid(86_400);
        format!(
            "{}T{:02}:{:02}:{:02}Z",
            Date::from_days(days),
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )
    }
}

fn parse_duration(text: &str) -> Option<i64> {
    let unit = text.chars().last()?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return None,
    };
    let number: i64 = text[..text.len() - 1].parse().ok().filter(|n| *n >= 0)?;
    number.checked_mul(seconds)
}

fn parse_rfc3339(text: &str) -> Option<i64> {
    let date = Date::parse(text.get(..10)?)?;
    let rest = text.get(10..)?;
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = rest.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (hour, minute, second) = (number(0..2)?, number(3..5)?, number(6..8)?);
    let separators = (rest.get(2..3)?, rest.get(5..6)?);
    if separators != (":", ":") || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut zone = rest.get(8..)?;
    if let Some(fraction) = zone.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        zone = &fraction[digits..];
    }
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = match zone.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let part =
                |range: std::ops::Range<usize>| -> Option<i64> { zone.get(range)?.parse().ok() };
            if zone.len() != 6 || zone.get(3..4)? != ":" {
                return None;
            }
            sign * (part(1..3)? * 3_600 + part(4..6)? * 60)
        }
    };
    Some(date.days_since_epoch() * 86_400 + hour * 3_600 + minute * 60 + second - offset)
}

/// A calendar date (UTC), for `reviewed:` dates. Days are counted with the
/// proleptic Gregorian calendar, so no date crate is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// Parses `YYYY-MM-DD`, refusing days that do not exist (2025-02-29).
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        let shape_ok = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shape_ok {
            return None;
        }
        let date = Self {
            year: text[0..4].parse().ok()?,
            month: text[5..7].parse().ok()?,
            day: text[8..10].parse().ok()?,
        };
        (Self::from_days(date.days_since_epoch()) == date).then_some(date)
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    pub fn days_since_epoch(self) -> i64 {
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let month = i64::from(self.month);
        let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5
            + i64::from(self.day)
            - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    pub fn from_days(days: i64) -> Self {
        let days = days + 719_468;
        let era = days.div_euclid(146_097);
        let day_of_era = days - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
        let month = if month_index < 10 {
            month_index + 3
        } else {
            month_index - 9
        } as u32;
        let year = (year_of_era + era * 400 + i64::from(month <= 2)) as i32;
        Self { year, month, day }
    }

    pub fn today() -> Self {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        Self::from_days((seconds / 86_400) as i64)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_since_reads_times_and_durations() {
        let now = Timestamp(1_800_000_000);
        assert_eq!(
            Timestamp::parse_since("90m", now),
            Ok(Timestamp(now.0 - 5_400))
        );
        assert_eq!(
            Timestamp::parse_since("2h", now),
            Ok(Timestamp(now.0 - 7_200))
        );
        assert_eq!(
            Timestamp::parse_since("7d", now),
            Ok(Timestamp(now.0 - 604_800))
        );
        let utc = Timestamp::parse_since("2026-11-29T08:00:00Z", now).unwrap();
        assert_eq!(utc.rfc3339(), "2026-11-29T08:00:00Z");
        assert_eq!(
            Timestamp::parse_since("2026-11-29T09:00:00.250+01:00", now),
            Ok(utc)
        );
        for bad in [
            "",
            "2",
            "h",
            "-3h",
            "2026-11-29",
            "2026-11-29T25:00:00Z",
            "2026-11-29T08:00:00",
        ] {
            assert!(Timestamp::parse_since(bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn field_rules_follow_aws() {
        assert!(
            ContactField::EmailAddress
                .check("security@example.com")
                .is_ok()
        );
        assert!(
            ContactField::EmailAddress
                .check(" sec+alerts@mail.example.co ")
                .is_ok()
        );
        assert!(
            ContactField::EmailAddress
                .check("no-at-sign.example.com")
                .is_err()
        );
        assert!(
            ContactField::EmailAddress
                .check("sécurité@example.com")
                .is_err()
        );
        assert!(ContactField::EmailAddress.check("a@b").is_err());
        assert!(ContactField::PhoneNumber.check("+1 (202) 555-0100").is_ok());
        assert!(
            ContactField::PhoneNumber
                .check("+1 202 555 0100 ext 4")
                .is_err()
        );
        assert!(ContactField::PhoneNumber.check(&"1".repeat(26)).is_err());
        assert!(ContactField::Name.check(&"n".repeat(64)).is_ok());
        assert!(ContactField::Name.check(&"n".repeat(65)).is_err());
        assert!(ContactField::Title.check(&"t".repeat(51)).is_err());
        assert!(ContactField::Title.check("").is_err());
    }

    #[test]
    fn counts_read_naturally() {
        assert_eq!(count(1, "account"), "1 account");
        assert_eq!(count(0, "account"), "0 accounts");
        assert_eq!(count(2, "account entry"), "2 account entries");
        assert_eq!(count(3, "survey"), "3 surveys");
    }

    #[test]
    fn account_ids_are_exactly_twelve_digits() {
        assert!(AccountId::parse("012345678901").is_some());
        assert!(AccountId::parse("12345678901").is_none());
        assert!(AccountId::parse("01234567890a").is_none());
    }

    #[test]
    fn dates_round_trip_and_reject_impossible_days() {
        for text in ["1970-01-01", "2000-02-29", "2026-11-27", "1999-12-31"] {
            let date = Date::parse(text).unwrap();
            assert_eq!(date.to_string(), text);
            assert_eq!(Date::from_days(date.days_since_epoch()), date);
        }
        assert_eq!(Date::parse("1970-01-02").unwrap().days_since_epoch(), 1);
        assert!(Date::parse("2025-02-29").is_none());
        assert!(Date::parse("2025-13-01").is_none());
        assert!(Date::parse("2025-1-01").is_none());
    }
}
