//! `export`: a contacts file that describes the live state, so a team can
//! adopt the tool on existing accounts. Planning the exported file against
//! the same live state shows no changes.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::config::file::{
    ConfigFile, ContactSpec, OrganizationSpec, PrimarySpec, SlotSpec, SlotsSpec,
};
use crate::model::{AccountId, Contact, ContactType, Live, PrimaryContact, Slot, Value};

/// The contacts file for `accounts` as `live` shows them. With `org`, the
/// most common value of each slot becomes the organization default and only
/// the accounts that differ keep an entry.
pub fn build(live: &Live, accounts: &[AccountId], org: bool) -> ConfigFile {
    let value = |account: &AccountId, kind: ContactType| -> Option<Contact> {
        live.slots
            .get(&Slot::new(account.clone(), kind))
            .and_then(Option::as_ref)
            .and_then(Value::as_alternate)
            .cloned()
    };
    let mut defaults: BTreeMap<ContactType, Contact> = BTreeMap::new();
    if org {
        for kind in ContactType::ALTERNATES {
            if let Some(Some(common)) =
                most_common(accounts.iter().map(|account| value(account, kind)))
            {
                defaults.insert(kind, common);
            }
        }
    }

    // Where each contact goes: in the defaults, or in an account's entry
    // (`None` there means `absent`, overriding a default).
    let mut entries: BTreeMap<AccountId, BTreeMap<ContactType, Option<Contact>>> = BTreeMap::new();
    for account in accounts {
        let entry = entries.entry(account.clone()).or_default();
        for kind in ContactType::ALTERNATES {
            let current = value(account, kind);
            match defaults.get(&kind) {
                Some(default) if current.as_ref() == Some(default) => {}
                Some(_) => {
                    entry.insert(kind, current);
                }
                None => {
                    // Without a default an absent slot is simply left unmanaged.
                    if current.is_some() {
                        entry.insert(kind, current);
                    }
                }
            }
        }
    }
    if org {
        entries.retain(|_, entry| !entry.is_empty());
    }

    let mut uses: HashMap<&Contact, usize> = HashMap::new();
    for contact in defaults
        .values()
        .chain(entries.values().flat_map(|entry| entry.values().flatten()))
    {
        *uses.entry(contact).or_default() += 1;
    }
    let names = name_contacts(
        uses.iter()
            .filter(|(_, count)| **count > 1)
            .map(|(contact, _)| *contact),
    );
    let spec = |contact: &Contact| match names.get(contact) {
        Some(name) => SlotSpec::Named(name.clone()),
        None => SlotSpec::Inline(contact_spec(contact)),
    };
    let slots = |values: &mut dyn Iterator<Item = (ContactType, Option<&Contact>)>| {
        let mut slots = SlotsSpec::default();
        for (kind, contact) in values {
            slots
                .slots
                .insert(kind, contact.map_or(SlotSpec::Absent, spec));
        }
        slots
    };

    let mut file = ConfigFile {
        version: 1,
        primary_contacts: BTreeMap::new(),
        contacts: names
            .iter()
            .map(|(contact, name)| (name.clone(), contact_spec(contact)))
            .collect(),
        organization: org.then(|| OrganizationSpec {
            defaults: (!defaults.is_empty()).then(|| {
                slots(
                    &mut defaults
                        .iter()
                        .map(|(kind, contact)| (*kind, Some(contact))),
                )
            }),
            ..OrganizationSpec::default()
        }),
        accounts: entries
            .iter()
            .map(|(account, entry)| {
                (
                    account.to_string(),
                    slots(
                        &mut entry
                            .iter()
                            .map(|(kind, contact)| (*kind, contact.as_ref())),
                    ),
                )
            })
            .collect(),
        safety: None,
        rate: None,
        access: None,
        audit: None,
    };
    export_primaries(&mut file, live, accounts, org);
    file
}

fn contact_spec(contact: &Contact) -> ContactSpec {
    ContactSpec {
        contact: contact.clone(),
        reviewed: None,
    }
}

/// The value seen most often; ties go to the smallest value, so the export
/// of the same state is always the same file.
fn most_common<T: Ord + Clone>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut counts: BTreeMap<T, usize> = BTreeMap::new();
    for value in values {
        *counts.entry(value).or_default() += 1;
    }
    let best = counts.values().copied().max()?;
    counts
        .into_iter()
        .find(|(_, count)| *count == best)
        .map(|(value, _)| value)
}

/// Readable, unique names for named contacts, from the contact's name:
/// "Security Operations Team" becomes `security-operations-team`.
fn name_contacts<'a>(contacts: impl Iterator<Item = &'a Contact>) -> BTreeMap<Contact, String> {
    let mut contacts: Vec<&Contact> = contacts.collect();
    contacts.sort();
    let names = unique_names(contacts.iter().map(|contact| contact.name.as_str()));
    contacts.into_iter().cloned().zip(names).collect()
}

/// Readable names from `labels`, in order and all different: "Security
/// Operations Team" becomes `security-operations-team`, a repeat gets `-2`.
fn unique_names<'a>(labels: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut taken: HashSet<String> = HashSet::new();
    labels
        .map(|label| {
            let mut slug: String = label
                .to_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect::<String>()
                .split('-')
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join("-");
            if slug.is_empty() || slug == crate::config::file::ABSENT {
                slug = format!("{slug}-contact").trim_start_matches('-').to_owned();
            }
            // A suffix can collide with another contact's own name ("Ops Team"
            // three times and "Ops Team 2"): take the first name nobody has.
            let mut name = slug.clone();
            let mut suffix = 1;
            while !taken.insert(name.clone()) {
                suffix += 1;
                name = format!("{slug}-{suffix}");
            }
            name
        })
        .collect()
}

/// The primary contacts, each named under `primary_contacts` and referenced
/// from the slots: by the defaults when every account has one and `org` is
/// asked, else by each account. An account without a primary contact is
/// left unmanaged there (AWS cannot delete one, so `absent` is no option).
fn export_primaries(file: &mut ConfigFile, live: &Live, accounts: &[AccountId], org: bool) {
    let primaries: Vec<(&AccountId, &PrimaryContact)> = accounts
        .iter()
        .filter_map(|account| {
            let value = live
                .slots
                .get(&Slot::new(account.clone(), ContactType::Primary))?;
            Some((account, value.as_ref()?.as_primary()?))
        })
        .collect();
    if primaries.is_empty() {
        return;
    }
    // The same file for the same state: values ordered by their content.
    let mut distinct: Vec<&PrimaryContact> = Vec::new();
    for (_, primary) in &primaries {
        if !distinct.contains(primary) {
            distinct.push(primary);
        }
    }
    distinct.sort_by_key(|primary| serde_json::to_string(primary).unwrap_or_default());
    let names = unique_names(distinct.iter().map(|primary| primary.full_name.as_str()));
    let name_of = |primary: &PrimaryContact| {
        let index = distinct.iter().position(|known| **known == *primary);
        index.map_or_else(String::new, |index| names[index].clone())
    };
    let default = (org && primaries.len() == accounts.len())
        .then(|| most_common(primaries.iter().map(|(_, primary)| name_of(primary))))
        .flatten();
    if let (Some(default), Some(organization)) = (&default, file.organization.as_mut()) {
        organization
            .defaults
            .get_or_insert_with(SlotsSpec::default)
            .slots
            .insert(ContactType::Primary, SlotSpec::Named(default.clone()));
    }
    for (account, primary) in &primaries {
        let name = name_of(primary);
        if default.as_ref() != Some(&name) {
            file.accounts
                .entry(account.to_string())
                .or_default()
                .slots
                .insert(ContactType::Primary, SlotSpec::Named(name));
        }
    }
    file.primary_contacts = distinct
        .into_iter()
        .zip(names)
        .map(|(primary, name)| (name, PrimarySpec(primary.clone())))
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(name: &str) -> Contact {
        Contact {
            name: name.into(),
            title: "T".into(),
            email_address: format!("{}@example.com", name.to_lowercase().replace(' ', ".")),
            phone_number: "+1 202 555 0100".into(),
        }
    }

    fn id(n: u8) -> AccountId {
        AccountId::parse(&format!("{n}").repeat(12)).unwrap()
    }

    #[test]
    fn org_export_uses_defaults_and_keeps_only_differences() {
        let sec = contact("Security Team");
        let other = contact("Other Team");
        let mut live = Live::default();
        for n in 1..=3 {
            live.slots.insert(
                Slot::new(id(n), ContactType::Security),
                Some(Value::Alternate(sec.clone())),
            );
            live.slots
                .insert(Slot::new(id(n), ContactType::Billing), None);
            live.slots
                .insert(Slot::new(id(n), ContactType::Operations), None);
        }
        live.slots
            .insert(Slot::new(id(3), ContactType::Security), None);
        live.slots.insert(
            Slot::new(id(2), ContactType::Operations),
            Some(Value::Alternate(other.clone())),
        );
        let file = build(&live, &[id(1), id(2), id(3)], true);
        let defaults = file.organization.unwrap().defaults.unwrap();
        assert_eq!(
            defaults.slots.get(&ContactType::Security).cloned(),
            Some(SlotSpec::Inline(contact_spec(&sec)))
        );
        assert_eq!(
            defaults.slots.get(&ContactType::Billing),
            None,
            "absent everywhere: no default"
        );
        assert!(!file.accounts.contains_key(id(1).as_str()));
        assert_eq!(
            file.accounts[id(3).as_str()]
                .slots
                .get(&ContactType::Security)
                .cloned(),
            Some(SlotSpec::Absent)
        );
        assert_eq!(
            file.accounts[id(2).as_str()]
                .slots
                .get(&ContactType::Operations)
                .cloned(),
            Some(SlotSpec::Inline(contact_spec(&other)))
        );
    }

    #[test]
    fn contacts_used_twice_are_named() {
        let sec = contact("Security Team");
        let mut live = Live::default();
        for n in 1..=2 {
            live.slots.insert(
                Slot::new(id(n), ContactType::Security),
                Some(Value::Alternate(sec.clone())),
            );
        }
        let file = build(&live, &[id(1), id(2)], false);
        assert_eq!(
            file.contacts.keys().collect::<Vec<_>>(),
            vec!["security-team"]
        );
        assert_eq!(
            file.accounts[id(1).as_str()]
                .slots
                .get(&ContactType::Security)
                .cloned(),
            Some(SlotSpec::Named("security-team".into()))
        );
    }

    #[test]
    fn names_are_unique_and_never_absent() {
        let names = name_contacts(
            [
                contact("Absent"),
                contact("Ops Team"),
                Contact {
                    email_address: "x@example.com".into(),
                    ..contact("Ops Team")
                },
            ]
            .iter(),
        );
        let mut values: Vec<&String> = names.values().collect();
        values.sort();
        assert_eq!(values, vec!["absent-contact", "ops-team", "ops-team-2"]);
    }

    #[test]
    fn a_numbered_name_never_collides_with_a_contact_named_so() {
        let ops = |email: &str| Contact {
            email_address: email.into(),
            ..contact("Ops Team")
        };
        let names = name_contacts(
            [
                ops("a@example.com"),
                ops("b@example.com"),
                ops("c@example.com"),
                contact("Ops Team 2"),
            ]
            .iter(),
        );
        let unique: HashSet<&String> = names.values().collect();
        assert_eq!(unique.len(), 4, "{names:?}");
    }
}
