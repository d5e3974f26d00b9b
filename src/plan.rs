//! The planner: a pure function from desired and live state to a plan.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{
    AccountId, AccountInfo, Contact, ContactField, Desired, Live, SkippedAccount, Slot, Source,
    Wanted,
};

/// What happens to one managed slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Create {
        after: Contact,
    },
    Update {
        before: Contact,
        after: Contact,
    },
    Delete {
        before: Contact,
    },
    /// The slot already matches; `current` is its contact, if any.
    Unchanged {
        current: Option<Contact>,
    },
}

/// The kind of a change, without its values: what renderers, reports and
/// saved plans switch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Create,
    Update,
    Delete,
}

impl ChangeKind {
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Create => "create",
            ChangeKind::Update => "update",
            ChangeKind::Delete => "delete",
        }
    }

    pub fn past_tense(self) -> &'static str {
        match self {
            ChangeKind::Create => "created",
            ChangeKind::Update => "updated",
            ChangeKind::Delete => "deleted",
        }
    }
}

impl Action {
    /// The kind of change; `None` when the slot is unchanged.
    pub fn kind(&self) -> Option<ChangeKind> {
        match self {
            Action::Create { .. } => Some(ChangeKind::Create),
            Action::Update { .. } => Some(ChangeKind::Update),
            Action::Delete { .. } => Some(ChangeKind::Delete),
            Action::Unchanged { .. } => None,
        }
    }

    pub fn is_change(&self) -> bool {
        self.kind().is_some()
    }

    /// The slot's contact before the change (what a saved plan checks for staleness).
    pub fn before(&self) -> Option<&Contact> {
        match self {
            Action::Create { .. } => None,
            Action::Update { before, .. } | Action::Delete { before } => Some(before),
            Action::Unchanged { current } => current.as_ref(),
        }
    }

    /// The slot's contact after the change.
    pub fn after(&self) -> Option<&Contact> {
        match self {
            Action::Create { after } | Action::Update { after, .. } => Some(after),
            Action::Delete { .. } => None,
            Action::Unchanged { current } => current.as_ref(),
        }
    }

    /// The fields whose value differs, as (field, before, after).
    pub fn field_changes(&self) -> Vec<(ContactField, Option<&str>, Option<&str>)> {
        let (before, after) = (self.before(), self.after());
        ContactField::ALL
            .into_iter()
            .map(|field| {
                (
                    field,
                    before.map(|c| c.field(field)),
                    after.map(|c| c.field(field)),
                )
            })
            .filter(|(_, before, after)| before != after)
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedSlot {
    pub slot: Slot,
    pub source: Source,
    pub action: Action,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub unchanged: usize,
}

impl Summary {
    pub fn changes(&self) -> usize {
        self.create + self.update + self.delete
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Every managed slot that was read, in account then SECURITY, BILLING,
    /// OPERATIONS order.
    pub items: Vec<PlannedSlot>,
    pub accounts: BTreeMap<AccountId, AccountInfo>,
    pub skipped: Vec<SkippedAccount>,
    /// Managed slots in scope, read or not (the base of percentage limits).
    pub managed_slots: usize,
    /// Managed slots not read because `--base` showed they did not change.
    pub not_read: usize,
}

impl Plan {
    pub fn changes(&self) -> impl Iterator<Item = &PlannedSlot> {
        self.items.iter().filter(|item| item.action.is_change())
    }

    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for item in &self.items {
            match item.action {
                Action::Create { .. } => summary.create += 1,
                Action::Update { .. } => summary.update += 1,
                Action::Delete { .. } => summary.delete += 1,
                Action::Unchanged { .. } => summary.unchanged += 1,
            }
        }
        summary
    }
}

/// Compares each managed slot with its live value. Slots that were not read
/// are counted as not read; unmanaged slots never appear.
pub fn diff(desired: &Desired, live: &Live) -> Plan {
    let mut items = Vec::new();
    let mut not_read = 0;
    for (slot, wanted) in &desired.slots {
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
            (_, current) => Action::Unchanged {
                current: current.clone(),
            },
        };
        items.push(PlannedSlot {
            slot: slot.clone(),
            source: wanted.source.clone(),
            action,
        });
    }
    Plan {
        items,
        accounts: desired.accounts.clone(),
        skipped: desired.skipped.clone(),
        managed_slots: desired.slots.len(),
        not_read,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContactType, DesiredSlot};

    fn contact(email: &str) -> Contact {
        Contact {
            name: "Team".into(),
            title: "Ops".into(),
            email_address: email.into(),
            phone_number: "+1 202 555 0100".into(),
        }
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
            .items
            .iter()
            .map(|item| {
                (
                    item.slot.account.to_string(),
                    item.slot.kind,
                    item.action.kind().map_or("unchanged", ChangeKind::name),
                )
            })
            .collect();
        assert_eq!(
            order,
            vec![
                (a.to_owned(), ContactType::Security, "update"),
                (a.to_owned(), ContactType::Billing, "unchanged"),
                (a.to_owned(), ContactType::Operations, "delete"),
                (b.to_owned(), ContactType::Security, "create"),
                (b.to_owned(), ContactType::Billing, "unchanged"),
            ]
        );
        assert_eq!(
            plan.summary(),
            Summary {
                create: 1,
                update: 1,
                delete: 1,
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
                ContactField::EmailAddress,
                Some("old@example.com"),
                Some("new@example.com")
            )]
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
        assert!(plan.items.is_empty());
        assert_eq!((plan.not_read, plan.managed_slots), (1, 1));
    }
}
