//! The planner: a pure function from desired and live state to a plan.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{
    AccountId, AccountInfo, AccountStatus, ContactType, Desired, JoinedWindow, Live, Notice,
    SkipReason, SkippedAccount, Slot, Source, Topic, Unchecked, Value, Wanted, Warning,
};

/// What happens to one managed slot that changes. A slot that already
/// matches is no change and is only listed ([`Plan::unchanged`]), so
/// nothing downstream (the applier, a saved plan) can meet one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Create {
        after: Value,
    },
    Update {
        before: Value,
        after: Value,
    },
    Delete {
        before: Value,
    },
    /// Subscribes the slot's contact to an AWS Health topic it no longer
    /// receives (AWS User Notifications); the contact itself is untouched.
    Subscribe {
        topic: Topic,
    },
}

/// The kind of a change, without its values: what renderers, reports and
/// saved plans switch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Create,
    Update,
    Delete,
    Subscribe,
}

impl ChangeKind {
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Create => "create",
            ChangeKind::Update => "update",
            ChangeKind::Delete => "delete",
            ChangeKind::Subscribe => "subscribe",
        }
    }

    pub fn past_tense(self) -> &'static str {
        match self {
            ChangeKind::Create => "created",
            ChangeKind::Update => "updated",
            ChangeKind::Delete => "deleted",
            ChangeKind::Subscribe => "subscribed",
        }
    }
}

impl Action {
    pub fn kind(&self) -> ChangeKind {
        match self {
            Action::Create { .. } => ChangeKind::Create,
            Action::Update { .. } => ChangeKind::Update,
            Action::Delete { .. } => ChangeKind::Delete,
            Action::Subscribe { .. } => ChangeKind::Subscribe,
        }
    }

    /// The slot's contact before the change (what a saved plan checks for
    /// staleness); none for a subscription, which leaves it as it is.
    pub fn before(&self) -> Option<&Value> {
        match self {
            Action::Create { .. } | Action::Subscribe { .. } => None,
            Action::Update { before, .. } | Action::Delete { before } => Some(before),
        }
    }

    /// The slot's contact after the change.
    pub fn after(&self) -> Option<&Value> {
        match self {
            Action::Create { after } | Action::Update { after, .. } => Some(after),
            Action::Delete { .. } | Action::Subscribe { .. } => None,
        }
    }

    /// The topic a subscription is to.
    pub fn topic(&self) -> Option<&Topic> {
        match self {
            Action::Subscribe { topic } => Some(topic),
            _ => None,
        }
    }

    /// The fields whose value differs, as (field key, before, after).
    pub fn field_changes(&self) -> Vec<(&'static str, Option<&str>, Option<&str>)> {
        let before = self.before().map(Value::fields).unwrap_or_default();
        let after = self.after().map(Value::fields).unwrap_or_default();
        fn value<'a>(fields: &[(&'static str, Option<&'a str>)], key: &str) -> Option<&'a str> {
            fields
                .iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, value)| *value)
        }
        let keys = if after.is_empty() { &before } else { &after };
        keys.iter()
            .map(|(key, _)| (*key, value(&before, key), value(&after, key)))
            .filter(|(_, before, after)| before != after)
            .collect()
    }
}

/// One change of the plan: the slot (and its account's name, for people),
/// where its value came from, and what happens to it. The one type of a
/// change: the renderers lay it out, the applier applies it, and its JSON
/// form (below) is both `plan --format json`'s and a saved plan's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub slot: Slot,
    pub account_name: Option<String>,
    pub source: Source,
    pub action: Action,
}

impl Change {
    /// `111111111111 (Management)`, or the bare ID when the name is unknown.
    pub fn account_label(&self) -> String {
        crate::model::account_label(&self.slot.account, self.account_name.as_deref())
    }

    /// What the change is to, unique in a plan: the slot, and for a
    /// subscription its topic (a slot can be updated and subscribed in one
    /// plan).
    pub fn key(&self) -> (&Slot, Option<&Topic>) {
        (&self.slot, self.action.topic())
    }

    /// What the change is to, for a person: `SECURITY`, or `SECURITY to
    /// AWS-Health/Security`.
    pub fn what(&self) -> String {
        match self.action.topic() {
            Some(topic) => format!("{} to {topic}", self.slot.kind),
            None => self.slot.kind.to_string(),
        }
    }

    /// The subscription a subscribe change makes.
    pub fn notice(&self) -> Option<Notice> {
        self.action.topic().map(|topic| Notice {
            slot: self.slot.clone(),
            topic: topic.clone(),
        })
    }
}

impl std::fmt::Display for ChangeKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.1 {
            Some(topic) => write!(f, "{} to {topic}", self.0.0),
            None => write!(f, "{}", self.0.0),
        }
    }
}

/// A change's key, said as a person reads it: `222222222222 SECURITY`, or
/// `222222222222 SECURITY to AWS-Health/Security`.
pub struct ChangeKey<'a>(pub (&'a Slot, Option<&'a Topic>));

/// A change as JSON: `account_id`, `account_name`, `contact_type`,
/// `action`, `source` (as the plan shows it), `before`, `after`.
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ChangeJson {
    account_id: AccountId,
    account_name: Option<String>,
    contact_type: ContactType,
    action: ChangeKind,
    /// Where the desired value comes from: `organization.defaults`,
    /// `units["Root/Workloads"]`, `accounts["111111111111"]`.
    source: String,
    /// The slot's value before the change; none for a create.
    before: Option<Value>,
    /// The slot's value after the change; none for a delete.
    after: Option<Value>,
    /// For a subscribe: the AWS Health topic (AWS User Notifications'
    /// managed notification configuration) the contact is subscribed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    topic: Option<Topic>,
}

impl schemars::JsonSchema for Change {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Change".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        ChangeJson::json_schema(generator)
    }
}

impl Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ChangeJson {
            account_id: self.slot.account.clone(),
            account_name: self.account_name.clone(),
            contact_type: self.slot.kind,
            action: self.action.kind(),
            source: self.source.to_string(),
            before: self.action.before().cloned(),
            after: self.action.after().cloned(),
            topic: self.action.topic().cloned(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Change {
    /// A change read back (from a saved plan): its values must fit its
    /// action and its kind of slot, or it is refused.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let json = ChangeJson::deserialize(deserializer)?;
        let slot = Slot::new(json.account_id, json.contact_type);
        let action = match (json.action, json.before, json.after, json.topic) {
            (ChangeKind::Create, None, Some(after), None) => Action::Create { after },
            (ChangeKind::Update, Some(before), Some(after), None) if before != after => {
                Action::Update { before, after }
            }
            (ChangeKind::Delete, Some(before), None, None) => Action::Delete { before },
            (ChangeKind::Subscribe, None, None, Some(topic)) => Action::Subscribe { topic },
            (action, ..) => {
                return Err(D::Error::custom(format!(
                    "{slot}: its before and after values do not fit the action {}",
                    action.name()
                )));
            }
        };
        let source = json.source.parse().map_err(|()| {
            D::Error::custom(format!(
                "{slot}: `{}` is not a layer of a contacts file",
                json.source
            ))
        })?;
        Ok(Self {
            slot,
            account_name: json.account_name,
            source,
            action,
        })
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub subscribe: usize,
    pub unchanged: usize,
}

impl Summary {
    pub fn changes(&self) -> usize {
        self.create + self.update + self.delete + self.subscribe
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The changes, in account then SECURITY, BILLING, OPERATIONS order.
    pub changes: Vec<Change>,
    /// Managed slots read that already match.
    pub unchanged: Vec<Slot>,
    pub accounts: BTreeMap<AccountId, AccountInfo>,
    pub skipped: Vec<SkippedAccount>,
    /// Managed slots in scope, read or not (the base of percentage limits).
    pub managed_slots: usize,
    /// Managed slots not read because `--base` showed they did not change.
    pub not_read: usize,
    /// With `--joined-since`, the cutoff and the older accounts not read.
    pub joined_since: Option<JoinedWindow>,
    /// What about the file deserves a look but does not stop the run.
    pub warnings: Vec<Warning>,
    /// Subscriptions read that already hold what the file wants.
    pub held: Vec<Notice>,
    /// The topics read of each account (what `held` and the subscribe
    /// changes were decided on).
    pub topics_read: BTreeMap<AccountId, std::collections::BTreeSet<Topic>>,
    /// The accounts whose subscriptions the file wants and that were not
    /// read, and why: nothing is planned for them.
    pub unchecked: BTreeMap<AccountId, Unchecked>,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut summary = Summary {
            unchanged: self.unchanged.len(),
            ..Summary::default()
        };
        for change in &self.changes {
            match change.action.kind() {
                ChangeKind::Create => summary.create += 1,
                ChangeKind::Update => summary.update += 1,
                ChangeKind::Delete => summary.delete += 1,
                ChangeKind::Subscribe => summary.subscribe += 1,
            }
        }
        summary
    }
}

/// Compares each managed slot with its live value: the whole plan, its
/// scope, skipped accounts, `--joined-since` window and warnings included.
/// Slots that were not read are counted as not read; unmanaged slots never
/// appear. An account whose contacts could not be read is skipped whole,
/// with why: no change is planned for it, so nothing is written to it.
pub fn diff(desired: &Desired, live: &Live) -> Plan {
    let mut changes = Vec::new();
    let mut unchanged = Vec::new();
    let mut not_read = 0;
    let mut managed_slots = 0;
    for (slot, wanted) in &desired.slots {
        if live.unreadable.contains_key(&slot.account) {
            continue;
        }
        managed_slots += 1;
        let Some(current) = live.slots.get(slot) else {
            not_read += 1;
            continue;
        };
        let action = match (&wanted.wanted, current) {
            (Wanted::Present(after), None) => Action::Create {
                after: after.clone(),
            },
            (Wanted::Present(after), Some(before)) if after != before => Action::Update {
                before: before.clone(),
                after: after.clone(),
            },
            (Wanted::Absent, Some(before)) => Action::Delete {
                before: before.clone(),
            },
            _ => {
                unchanged.push(slot.clone());
                continue;
            }
        };
        changes.push(change(desired, slot, &wanted.source, action));
    }
    let (subscribes, held) = subscriptions(desired, live);
    changes.extend(subscribes);
    changes.sort_by(|a, b| a.key().cmp(&b.key()));
    let mut accounts = desired.accounts.clone();
    let mut skipped = desired.skipped.clone();
    for (id, why) in &live.unreadable {
        skipped.push(SkippedAccount {
            id: id.clone(),
            name: accounts.remove(id).and_then(|info| info.name),
            status: AccountStatus::Active,
            reason: SkipReason::Unreadable(why.clone()),
        });
    }
    Plan {
        changes,
        unchanged,
        accounts,
        skipped,
        managed_slots,
        not_read,
        joined_since: desired.joined_since,
        warnings: desired.warnings.clone(),
        held,
        topics_read: live
            .notices
            .iter()
            .map(|(id, subscribed)| (id.clone(), subscribed.keys().cloned().collect()))
            .collect(),
        unchecked: live
            .unchecked
            .iter()
            .filter(|(id, _)| !live.unreadable.contains_key(*id))
            .map(|(id, why)| (id.clone(), why.clone()))
            .collect(),
    }
}

/// A change of `slot`, named as the account is in `desired`.
fn change(desired: &Desired, slot: &Slot, source: &Source, action: Action) -> Change {
    Change {
        slot: slot.clone(),
        account_name: desired
            .accounts
            .get(&slot.account)
            .and_then(|info| info.name.clone()),
        source: source.clone(),
        action,
    }
}

/// The subscriptions the file wants that AWS no longer makes, as changes,
/// and those that hold, for the accounts whose subscriptions were read. A
/// topic the account does not have is neither.
fn subscriptions(desired: &Desired, live: &Live) -> (Vec<Change>, Vec<Notice>) {
    let mut changes = Vec::new();
    let mut held = Vec::new();
    for (slot, wanted) in &desired.slots {
        let Some(subscribed) = live.notices.get(&slot.account) else {
            continue;
        };
        let (topics, source) = wanted.topics(slot.kind);
        for topic in topics {
            let Some(subscribers) = subscribed.get(&topic) else {
                continue;
            };
            if subscribers.contains(&slot.kind) {
                held.push(Notice {
                    slot: slot.clone(),
                    topic,
                });
                continue;
            }
            changes.push(change(desired, slot, source, Action::Subscribe { topic }));
        }
    }
    (changes, held)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Contact, ContactType, DesiredSlot, PrimaryContact};

    fn contact(email: &str) -> Value {
        Value::Alternate(Contact {
            name: "Team".into(),
            title: "Ops".into(),
            email_address: email.into(),
            phone_number: "+1 202 555 0100".into(),
        })
    }

    fn slot(account: &str, kind: ContactType) -> Slot {
        Slot::new(AccountId::parse(account).unwrap(), kind)
    }

    fn want(wanted: Wanted) -> DesiredSlot {
        DesiredSlot {
            wanted,
            source: Source::Defaults,
            contact_name: None,
            reviewed: None,
            notices: None,
        }
    }

    #[test]
    fn every_case_is_classified_and_ordered() {
        let mut desired = Desired::default();
        let mut live = Live::default();
        let a = "111111111111";
        let b = "222222222222";
        desired.slots.insert(
            slot(b, ContactType::Security),
            want(Wanted::Present(contact("s@example.com"))),
        );
        live.slots.insert(slot(b, ContactType::Security), None);
        desired
            .slots
            .insert(slot(a, ContactType::Operations), want(Wanted::Absent));
        live.slots.insert(
            slot(a, ContactType::Operations),
            Some(contact("old@example.com")),
        );
        desired.slots.insert(
            slot(a, ContactType::Security),
            want(Wanted::Present(contact("new@example.com"))),
        );
        live.slots.insert(
            slot(a, ContactType::Security),
            Some(contact("old@example.com")),
        );
        desired.slots.insert(
            slot(a, ContactType::Billing),
            want(Wanted::Present(contact("b@example.com"))),
        );
        live.slots.insert(
            slot(a, ContactType::Billing),
            Some(contact("b@example.com")),
        );
        desired
            .slots
            .insert(slot(b, ContactType::Billing), want(Wanted::Absent));
        live.slots.insert(slot(b, ContactType::Billing), None);

        let plan = diff(&desired, &live);
        let order: Vec<(String, ContactType, &str)> = plan
            .changes
            .iter()
            .map(|change| {
                (
                    change.slot.account.to_string(),
                    change.slot.kind,
                    change.action.kind().name(),
                )
            })
            .collect();
        assert_eq!(
            order,
            vec![
                (a.to_owned(), ContactType::Security, "update"),
                (a.to_owned(), ContactType::Operations, "delete"),
                (b.to_owned(), ContactType::Security, "create"),
            ]
        );
        assert_eq!(
            plan.summary(),
            Summary {
                create: 1,
                update: 1,
                delete: 1,
                subscribe: 0,
                unchanged: 2
            }
        );
    }

    #[test]
    fn update_lists_only_the_fields_that_differ() {
        let action = Action::Update {
            before: contact("old@example.com"),
            after: contact("new@example.com"),
        };
        assert_eq!(
            action.field_changes(),
            vec![(
                "email_address",
                Some("old@example.com"),
                Some("new@example.com")
            )]
        );
    }

    #[test]
    fn a_primary_contact_diffs_field_by_field_too() {
        let primary = |city: &str, state: Option<&str>| {
            Value::Primary(Box::new(PrimaryContact {
                full_name: "Example Corp".into(),
                address_line_1: "1 Main St".into(),
                city: city.into(),
                state_or_region: state.map(str::to_owned),
                postal_code: "98101".into(),
                country_code: "US".into(),
                phone_number: "+1 206 555 0100".into(),
                ..PrimaryContact::default()
            }))
        };
        let action = Action::Update {
            before: primary("Seattle", None),
            after: primary("Tacoma", Some("WA")),
        };
        assert_eq!(
            action.field_changes(),
            vec![
                ("city", Some("Seattle"), Some("Tacoma")),
                ("state_or_region", None, Some("WA")),
            ]
        );
    }

    #[test]
    fn an_account_that_could_not_be_read_is_skipped_whole_and_nothing_is_planned_for_it() {
        let (readable, denied) = ("111111111111", "222222222222");
        let mut desired = Desired::default();
        let mut live = Live::default();
        for account in [readable, denied] {
            let id = AccountId::parse(account).unwrap();
            desired.accounts.insert(
                id,
                AccountInfo {
                    name: Some(format!("Account {account}")),
                    email: None,
                },
            );
            for kind in [ContactType::Security, ContactType::Billing] {
                desired.slots.insert(
                    slot(account, kind),
                    want(Wanted::Present(contact("new@example.com"))),
                );
            }
        }
        live.slots
            .insert(slot(readable, ContactType::Security), None);
        live.slots
            .insert(slot(readable, ContactType::Billing), None);
        let why = crate::model::Unreadable {
            action: "account:GetAlternateContact".into(),
            slot: ContactType::Security,
            answer: "access denied (no)".into(),
        };
        live.unreadable
            .insert(AccountId::parse(denied).unwrap(), why.clone());

        let plan = diff(&desired, &live);
        assert!(
            plan.changes
                .iter()
                .all(|change| change.slot.account.as_str() == readable),
            "{:?}",
            plan.changes
        );
        assert_eq!(plan.summary().create, 2);
        assert_eq!(
            (plan.not_read, plan.managed_slots, plan.accounts.len()),
            (0, 2, 1),
            "its slots are neither unread nor in scope"
        );
        assert_eq!(
            plan.skipped,
            vec![SkippedAccount {
                id: AccountId::parse(denied).unwrap(),
                name: Some(format!("Account {denied}")),
                status: AccountStatus::Active,
                reason: SkipReason::Unreadable(why),
            }]
        );
        let reason = plan.skipped[0].reason.explain();
        assert!(
            reason.starts_with("its contacts could not be read: AccessDenied"),
            "{reason}"
        );
        assert!(
            !reason.contains("(no)"),
            "AWS's words are not in it: {reason}"
        );
    }

    #[test]
    fn slots_not_read_are_counted_not_planned() {
        let mut desired = Desired::default();
        desired.slots.insert(
            slot("111111111111", ContactType::Security),
            want(Wanted::Absent),
        );
        let plan = diff(&desired, &Live::default());
        assert!(plan.changes.is_empty() && plan.unchanged.is_empty());
        assert_eq!((plan.not_read, plan.managed_slots), (1, 1));
    }
}
