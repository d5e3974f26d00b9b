//! Plain domain types shared by every stage of the pipeline.
//!
//! Nothing here knows about YAML, the AWS SDK or rendering: config produces
//! these, backends read and write them, the planner compares them.

pub mod access;
mod check;
pub mod domain;
pub mod notices;
mod shape;
pub mod time;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use access::{CentralAccount, MemberRoleUse};
pub use check::Check;
pub use domain::{DOMAIN_PATTERN, is_domain};
pub use notices::{Notice, Subscribed, Topic, Unchecked};
pub use shape::{
    ACCOUNT_ID_PATTERN, COUNTRY_PATTERN, Contact, ContactField, EMAIL_PATTERN, FieldRule,
    NotTheShape, PHONE_PATTERN, PRIMARY_PHONE_PATTERN, PrimaryContact, PrimaryField,
    STATE_REQUIRED_IN, Shape, keys_of, shape_from_entries, shape_properties, shape_schema,
};
pub use time::{Date, Duration, Timestamp};

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

    /// An account ID a person or an event gave, or what is wrong with it,
    /// the text shown escaped.
    pub fn given(text: &str) -> Result<Self, String> {
        Self::parse(text).ok_or_else(|| {
            format!(
                "{} is not an account ID: an account ID is 12 digits, e.g. 123456789012",
                crate::printable::quoted(text)
            )
        })
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

impl schemars::JsonSchema for AccountId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AccountId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A 12-digit AWS account ID.",
            "type": "string",
            "pattern": ACCOUNT_ID_PATTERN
        })
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A contact slot of an account: the three alternate contacts and the
/// primary contact, in the order plans list them.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
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
    pub const ALTERNATES: [ContactType; 3] = [Self::Security, Self::Billing, Self::Operations];
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

/// What a slot holds: an alternate contact, or the primary contact.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Alternate(Contact),
    /// Boxed: the primary contact is three times an alternate's size.
    Primary(Box<PrimaryContact>),
}

impl schemars::JsonSchema for Value {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Value".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A slot's value: an alternate contact, or the primary contact.",
            "anyOf": [
                shape_schema::<Contact>("An alternate contact."),
                shape_schema::<PrimaryContact>("The primary contact.")
            ]
        })
    }
}

impl Value {
    /// Every field, as (key, value), for diffs; optional fields left empty
    /// are `None`.
    pub fn fields(&self) -> Vec<(&'static str, Option<&str>)> {
        match self {
            Value::Alternate(contact) => contact.fields(),
            Value::Primary(primary) => primary.fields(),
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

impl std::str::FromStr for Source {
    type Err = ();

    /// A layer as [`fmt::Display`] writes it, back.
    fn from_str(text: &str) -> Result<Self, ()> {
        if text == "organization.defaults" {
            return Ok(Self::Defaults);
        }
        if let Some(key) = text
            .strip_prefix("units[\"")
            .and_then(|rest| rest.strip_suffix("\"]"))
        {
            return Ok(Self::Unit {
                key: key.to_owned(),
            });
        }
        let id = text
            .strip_prefix("accounts[\"")
            .and_then(|rest| rest.strip_suffix("\"]"))
            .and_then(AccountId::parse)
            .ok_or(())?;
        Ok(Self::Account { account_id: id })
    }
}

/// `111111111111 (Management)`, or the bare ID when the name is unknown.
pub fn account_label(id: &AccountId, name: Option<&str>) -> String {
    match name {
        Some(name) if name != id.as_str() => format!("{id} ({name})"),
        _ => id.to_string(),
    }
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
    /// The topics the file names for this contact's subscriptions, and the
    /// layer that names them; `None` keeps AWS's default topics.
    pub notices: Option<(std::collections::BTreeSet<Topic>, Source)>,
}

impl DesiredSlot {
    /// The topics the contact must stay subscribed to, and the layer that
    /// says so: none for a contact the file deletes, the file's own list
    /// where it names one, else the topics AWS subscribes it to by default.
    pub fn topics(&self, kind: ContactType) -> (std::collections::BTreeSet<Topic>, &Source) {
        match (&self.wanted, &self.notices) {
            (Wanted::Absent, _) => (Default::default(), &self.source),
            (_, Some((topics, source))) => (topics.clone(), source),
            (_, None) => (kind.default_topics(), &self.source),
        }
    }
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
    /// The root user's address, when the organization was listed.
    pub email: Option<String>,
}

/// An account of the organization that is out of scope, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedAccount {
    pub id: AccountId,
    pub name: Option<String>,
    pub status: AccountStatus,
    pub reason: SkipReason,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Suspended, closing, or otherwise not ACTIVE.
    NotActive,
    /// The management account, seen from a delegated administrator: AWS
    /// lets a delegated administrator name member accounts only.
    ManagementAccount,
    /// An account in scope whose contacts could not be read (AccessDenied
    /// in one member account, while the others answer): nothing is
    /// planned or written for it.
    Unreadable(Unreadable),
}

/// The read a member account denied, and what AWS answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// The IAM action denied: `account:GetAlternateContact`.
    pub action: String,
    /// The slot whose read was denied first.
    pub slot: ContactType,
    /// What AWS answered, as it said it: `access denied (User: …)`. Not
    /// in [`SkipReason::explain`], which renderers print as it is.
    pub answer: String,
}

/// `account:GetAlternateContact on slot SECURITY: access denied (…)`, as
/// the log and the audit's finding say which read was denied.
impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on slot {}: {}", self.action, self.slot, self.answer)
    }
}

impl SkipReason {
    /// What the reader can do about it. Only the tool's own words: AWS's
    /// answer is [`SkipReason::detail`].
    pub fn explain(&self) -> String {
        match self {
            Self::NotActive => "not ACTIVE".to_owned(),
            Self::ManagementAccount => {
                "the management account: a delegated administrator cannot read or write its contacts; run from the management account to cover it".to_owned()
            }
            Self::Unreadable(unreadable) => format!(
                "its contacts could not be read: AccessDenied on {} ({}); nothing is planned or written for it until they can be",
                unreadable.action, unreadable.slot
            ),
        }
    }

    /// A stable name, for machines: `not_active`, `management_account`,
    /// `unreadable`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotActive => "not_active",
            Self::ManagementAccount => "management_account",
            Self::Unreadable(_) => "unreadable",
        }
    }

    /// What AWS answered, when the reason is its answer.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::Unreadable(unreadable) => Some(&unreadable.answer),
            Self::NotActive | Self::ManagementAccount => None,
        }
    }
}

/// The desired state: every managed slot of every account in scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Desired {
    pub accounts: BTreeMap<AccountId, AccountInfo>,
    /// The ACTIVE accounts `organization.exclude` leaves out of
    /// management: no slot of theirs is planned, and the audit checks them.
    pub excluded: BTreeMap<AccountId, AccountInfo>,
    pub slots: BTreeMap<Slot, DesiredSlot>,
    pub skipped: Vec<SkippedAccount>,
    /// What about the file deserves a look but does not stop the run.
    pub warnings: Vec<Warning>,
    /// With `--joined-since`, the cutoff and the older accounts left out.
    pub joined_since: Option<JoinedWindow>,
}

/// Something about a contacts file that deserves a look but does not stop
/// a run, as data: each format words it (stderr, a GitHub annotation, JSON).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WarningKind {
    /// An excluded account that is no longer in the organization (closed
    /// accounts leave it 90 days after closing).
    StaleExclusion { account: AccountId },
    /// An address on a reserved domain (RFC 2606, RFC 6761) about to be
    /// written to AWS: AWS's notices to it would reach no one.
    ReservedAddress {
        address: String,
        reason: &'static str,
    },
    /// An address outside the file's `audit.email_domains` about to be
    /// written.
    DomainNotAllowed { address: String, allowed: String },
}

impl WarningKind {
    /// A stable name, for machines.
    pub fn code(&self) -> &'static str {
        match self {
            Self::StaleExclusion { .. } => "stale_exclusion",
            Self::ReservedAddress { .. } => "reserved_address",
            Self::DomainNotAllowed { .. } => "domain_not_allowed",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::StaleExclusion { account } => {
                format!("excluded account {account} is not in the organization (any more)")
            }
            Self::ReservedAddress { address, reason } => format!(
                "`{address}` is on a domain {reason}: AWS's notices to it would reach no one"
            ),
            Self::DomainNotAllowed { address, allowed } => format!(
                "`{address}` is outside `audit.email_domains` ({allowed}): `audit` will report it"
            ),
        }
    }

    pub fn help(&self) -> &'static str {
        match self {
            Self::StaleExclusion { .. } => "remove it from `exclude`",
            Self::ReservedAddress { .. } => {
                "write an address a team reads: AWS sends security advisories and compromise notices to the SECURITY contact"
            }
            Self::DomainNotAllowed { .. } => {
                "write an address on an allowed domain, or add its domain to `audit.email_domains`"
            }
        }
    }
}

/// A warning at its place in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub kind: WarningKind,
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "warning: {}:{}:{}: {}{}",
            self.file,
            self.line,
            self.column,
            self.kind.message(),
            crate::hint::Hint(Some(self.kind.help()))
        )
    }
}

impl Desired {
    /// The topics a managed slot's contact must stay subscribed to, and
    /// the layer that says so; `None` for a slot the file does not manage,
    /// which it keeps no subscription of.
    pub fn topics_of(&self, slot: &Slot) -> Option<(std::collections::BTreeSet<Topic>, &Source)> {
        self.slots.get(slot).map(|wanted| wanted.topics(slot.kind))
    }

    /// Keeps only the accounts `keep` accepts, with their slots and skips;
    /// returns how many accounts in scope were left out.
    pub fn retain_accounts(&mut self, keep: impl Fn(&AccountId) -> bool) -> usize {
        let before = self.accounts.len();
        self.accounts.retain(|id, _| keep(id));
        self.excluded.retain(|id, _| keep(id));
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

/// The primary contacts read for `audit` and `export`, by account; `None`
/// when they could not be read (the caller lacks
/// account:GetContactInformation, or the endpoint does not offer it).
pub type Primaries = Option<BTreeMap<AccountId, Option<PrimaryContact>>>;

/// Whether AWS has verified the primary contact's phone number
/// (GetContactInformation's `VerificationStatus`): verifying it takes a
/// code sent by SMS, so a person does it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PhoneVerification {
    Verified,
    /// A code was sent and awaits its answer.
    Pending,
    Unverified,
    /// Verification is not offered for this account.
    NotSupported,
}

impl PhoneVerification {
    pub fn of_api(status: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(status.to_owned())).ok()
    }
}

/// The live state of the slots that were read; `None` means no contact is set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Live {
    pub slots: BTreeMap<Slot, Option<Value>>,
    /// The accounts in scope whose contacts could not be read (a member
    /// account that denies them while the others answer), and why: none
    /// of their slots is in `slots`, the plan skips them and the audit
    /// reports them.
    pub unreadable: BTreeMap<AccountId, Unreadable>,
    /// The subscriptions of the accounts whose subscriptions were read.
    pub notices: BTreeMap<AccountId, Subscribed>,
    /// The accounts in scope whose subscriptions the file wants and that
    /// were not read, and why: no subscription is planned for them.
    pub unchecked: BTreeMap<AccountId, Unchecked>,
    /// What the primary contacts' reads answered of their phones'
    /// verification, where they answered it.
    pub phones: BTreeMap<AccountId, PhoneVerification>,
}

/// An organization as discovered through AWS Organizations (or the sandbox).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    pub management_account: AccountId,
    pub root: OrgUnit,
    pub accounts: Vec<OrgAccount>,
    /// False when one account was looked up, with the units above it (an
    /// event's run, [`Organization::only`]): the file's other units and
    /// accounts are then not known to be missing, only not looked up.
    pub whole: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgUnit {
    pub id: String,
    pub name: String,
    pub children: Vec<OrgUnit>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgAccount {
    pub id: AccountId,
    pub name: String,
    pub status: AccountStatus,
    /// The OU ids from the root down to the account's parent, root included.
    pub parents: Vec<String>,
    /// When the account joined the organization (Organizations'
    /// JoinedTimestamp), if known.
    pub joined: Option<Timestamp>,
    /// The root user's address (ListAccounts' Email): where AWS writes
    /// first, and where a password reset goes.
    pub email: Option<String>,
}

/// A service control policy attached to a root, a unit or an account.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolicySummary {
    pub id: String,
    pub name: String,
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
    /// What looking up one account yields: that account, if the
    /// organization has it, and the units from the root down to it.
    pub fn only(mut self, id: &AccountId) -> Self {
        self.accounts.retain(|account| account.id == *id);
        fn prune(unit: &mut OrgUnit, below: &[String]) {
            unit.children
                .retain(|child| below.first().is_some_and(|next| *next == child.id));
            if let Some(child) = unit.children.first_mut() {
                prune(child, &below[1..]);
            }
        }
        let parents = self
            .accounts
            .first()
            .map(|account| account.parents.clone())
            .unwrap_or_default();
        prune(&mut self.root, parents.get(1..).unwrap_or_default());
        self.whole = false;
        self
    }

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
