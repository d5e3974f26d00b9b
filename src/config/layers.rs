//! Scope and layers: which accounts a file covers, and what it wants in
//! each of their slots (account entry > deepest matching unit >
//! organization defaults, slot by slot; a slot no layer mentions stays
//! unmanaged).
//!
//! Both are decided one account at a time ([`account_scope`]), from what
//! discovery knows of that account alone, so reading can start as soon as
//! Organizations lists it; [`resolve`] applies the same rule to the whole
//! organization and adds what only the whole can tell (units that do not
//! exist, accounts that are not in it).

use std::collections::{BTreeMap, BTreeSet};

use super::diagnostic::{Diagnostic, closest};
use super::node::YamlPath;
use super::{Config, Layer, OrgLayers, UnitSelector};
use crate::model::{
    AccountId, AccountInfo, AccountStatus, ContactType, Desired, DesiredSlot, Found, OrgAccount,
    Organization, SkipReason, SkippedAccount, Slot, Source, Topic, WarningKind,
};
use crate::printable::printable;
use crate::printable::quoted;

/// What a file says of one account of the organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountScope {
    /// Left out by `organization.exclude`: never planned, still audited.
    Excluded,
    /// Not among the accounts a file without `organization` lists.
    NotListed,
    /// Out of scope, and listed as skipped with why.
    Skipped(SkipReason),
    /// In scope, with the slots the file manages for it.
    In(BTreeMap<ContactType, DesiredSlot>),
}

/// The management account, seen from a delegated administrator: AWS lets
/// a delegated administrator name member accounts only, so it is skipped,
/// and a file that names it is refused. The one place that rule is.
pub fn beyond_reach(account: &AccountId, management: &AccountId, caller: &AccountId) -> bool {
    account == management && caller != management
}

/// From a delegated administrator, an `accounts:` entry for the management
/// account is an error, located at the entry.
pub fn management_listed(
    config: &Config,
    management: &AccountId,
    caller: &AccountId,
) -> Option<Diagnostic> {
    (beyond_reach(management, management, caller) && config.accounts.contains_key(management))
        .then(|| {
            Diagnostic::at_key(
                &YamlPath::root().key("accounts").key(management.as_str()),
                format!(
                    "account {management} is the organization's management account, which this caller ({caller}), a delegated administrator, cannot manage"
                ),
            )
            .help("AWS lets a delegated administrator name member accounts only: run from the management account, or remove this entry")
        })
}

/// The slots an account gets, layer by layer, and the topics the layers
/// name for its contacts' subscriptions: those layer on their own, so a
/// unit can name topics for a contact the defaults set.
#[derive(Default)]
struct Resolving {
    slots: BTreeMap<ContactType, DesiredSlot>,
    notices: BTreeMap<ContactType, (BTreeSet<Topic>, Source)>,
}

impl Resolving {
    fn apply(&mut self, layer: &Layer, source: &Source) {
        for (kind, value) in &layer.slots {
            self.slots.insert(
                *kind,
                DesiredSlot {
                    wanted: value.wanted.clone(),
                    source: source.clone(),
                    contact_name: value.contact_name.clone(),
                    reviewed: value.reviewed,
                    notices: None,
                },
            );
        }
        for (kind, topics) in &layer.notices {
            self.notices.insert(*kind, (topics.clone(), source.clone()));
        }
    }

    /// The slots, each with the topics the layers name for it.
    fn finish(mut self) -> BTreeMap<ContactType, DesiredSlot> {
        for (kind, notices) in self.notices {
            if let Some(slot) = self.slots.get_mut(&kind) {
                slot.notices = Some(notices);
            }
        }
        self.slots
    }
}

/// How deep a unit of the file sits above `account`, if it contains it:
/// by id among the account's ancestors, or by path among the names of the
/// units from the root down to its parent.
pub fn unit_depth(selector: &UnitSelector, account: &OrgAccount, path: &[String]) -> Option<usize> {
    match selector {
        UnitSelector::Id(id) => account
            .parents
            .iter()
            .position(|parent| parent == id)
            .map(|index| index + 1),
        UnitSelector::Path(segments) => path.starts_with(segments).then_some(segments.len()),
    }
}

/// The scope rule, for one account as discovery lists it.
pub fn account_scope(config: &Config, found: &Found, caller: &AccountId) -> AccountScope {
    let account = &found.account;
    let Some(layers) = &config.organization else {
        return match config.accounts.get(&account.id) {
            Some(layer) => AccountScope::In(listed_slots(&account.id, layer)),
            None => AccountScope::NotListed,
        };
    };
    if layers.exclude.contains(&account.id) {
        return AccountScope::Excluded;
    }
    if account.status != AccountStatus::Active {
        return AccountScope::Skipped(SkipReason::NotActive);
    }
    if beyond_reach(&account.id, &found.management_account, caller) {
        return AccountScope::Skipped(SkipReason::ManagementAccount);
    }
    let mut slots = Resolving::default();
    slots.apply(&layers.defaults, &Source::Defaults);
    // Shallow units first, so deeper ones overwrite them slot by slot.
    let mut units: Vec<(usize, &super::UnitLayer)> = layers
        .units
        .iter()
        .filter_map(|unit| Some((unit_depth(&unit.selector, account, &found.path)?, unit)))
        .collect();
    units.sort_by_key(|(depth, _)| *depth);
    for (_, unit) in units {
        slots.apply(
            &unit.layer,
            &Source::Unit {
                key: unit.key.clone(),
            },
        );
    }
    if let Some(layer) = config.accounts.get(&account.id) {
        slots.apply(
            layer,
            &Source::Account {
                account_id: account.id.clone(),
            },
        );
    }
    AccountScope::In(slots.finish())
}

fn listed_slots(id: &AccountId, layer: &Layer) -> BTreeMap<ContactType, DesiredSlot> {
    let mut slots = Resolving::default();
    slots.apply(
        layer,
        &Source::Account {
            account_id: id.clone(),
        },
    );
    slots.finish()
}

/// A warning about the file, at the path it is about.
pub type LocatedWarning = (WarningKind, YamlPath);

/// The desired state of every account in scope, and warnings about the
/// file that do not stop a run.
pub fn resolve(
    config: &Config,
    org: Option<&Organization>,
    caller: &AccountId,
) -> Result<(Desired, Vec<LocatedWarning>), Vec<Diagnostic>> {
    match (&config.organization, org) {
        (Some(layers), Some(org)) => resolve_organization(config, layers, org, caller),
        (Some(_), None) => Err(vec![Diagnostic::at(
            &YamlPath::root().key("organization"),
            "the organization was not discovered, so `organization` cannot be resolved",
        )]),
        (None, _) => {
            let mut desired = Desired::default();
            for (id, layer) in &config.accounts {
                desired.accounts.insert(id.clone(), AccountInfo::default());
                insert_slots(&mut desired, id, listed_slots(id, layer));
            }
            Ok((desired, Vec::new()))
        }
    }
}

fn insert_slots(desired: &mut Desired, id: &AccountId, slots: BTreeMap<ContactType, DesiredSlot>) {
    for (kind, slot) in slots {
        desired.slots.insert(Slot::new(id.clone(), kind), slot);
    }
}

/// Units of the file that name no unit of the organization, or the same
/// unit as another entry.
fn unit_problems(layers: &OrgLayers, org: &Organization) -> Vec<Diagnostic> {
    let units_path = YamlPath::root().key("organization").key("units");
    let known_units = org.units_with_paths();
    let mut problems = Vec::new();
    let mut matched: Vec<(&str, &str)> = Vec::new();
    for unit in &layers.units {
        let Some(found) = unit.selector.find_in(&known_units) else {
            // Looked up for one account, the organization holds only the
            // units above it: another unit is not missing, only not read.
            if !org.whole {
                continue;
            }
            let diagnostic = Diagnostic::at_key(
                &units_path.key(&unit.key),
                format!(
                    "unit {} does not exist in the organization",
                    quoted(&unit.key)
                ),
            );
            let keys: Vec<String> = known_units
                .iter()
                .map(|(path, _)| super::unit_path_key(path))
                .collect();
            problems.push(match closest(&unit.key, keys.iter().map(String::as_str)) {
                Some(near) => diagnostic.help(format!("did you mean {}?", quoted(near))),
                None => diagnostic.help(format!(
                    "units are keyed by path from the root, e.g. {}, or by OU id (a `/` inside a name is written `\\/`)",
                    quoted(keys.first().map_or("Root", String::as_str))
                )),
            });
            continue;
        };
        if let Some((earlier, _)) = matched.iter().find(|(_, id)| *id == found.id) {
            problems.push(
                Diagnostic::at_key(
                    &units_path.key(&unit.key),
                    format!(
                        "unit {} is the same OU as {} ({})",
                        quoted(&unit.key),
                        quoted(earlier),
                        printable(&found.id)
                    ),
                )
                .help("merge the two entries into one"),
            );
            continue;
        }
        matched.push((&unit.key, &found.id));
    }
    problems
}

fn resolve_organization(
    config: &Config,
    layers: &OrgLayers,
    org: &Organization,
    caller: &AccountId,
) -> Result<(Desired, Vec<LocatedWarning>), Vec<Diagnostic>> {
    let mut problems = unit_problems(layers, org);
    let in_org = |id: &AccountId| org.accounts.iter().any(|account| &account.id == id);
    for id in config.accounts.keys().filter(|id| org.whole && !in_org(id)) {
        problems.push(
            Diagnostic::at_key(&YamlPath::root().key("accounts").key(id.as_str()), format!("account {id} is not in the organization"))
                .help("check the ID, or remove the entry: with `organization`, the scope is the organization's accounts"),
        );
    }
    problems.extend(management_listed(config, &org.management_account, caller));
    if !problems.is_empty() {
        return Err(problems);
    }
    // Closed accounts leave the organization 90 days after closing: an
    // exclusion that outlived its account is stale, not wrong.
    let exclude_path = YamlPath::root().key("organization").key("exclude");
    let warnings = layers
        .exclude
        .iter()
        .enumerate()
        .filter(|(_, id)| org.whole && !in_org(id))
        .map(|(index, id)| {
            (
                WarningKind::StaleExclusion {
                    account: id.clone(),
                },
                exclude_path.index(index),
            )
        })
        .collect();

    let mut desired = Desired::default();
    for (account, path) in org.accounts_with_paths() {
        let found = Found {
            account: account.clone(),
            path,
            management_account: org.management_account.clone(),
        };
        match account_scope(config, &found, caller) {
            // Out of management, not of compliance: the audit checks it.
            AccountScope::Excluded if account.status == AccountStatus::Active => {
                desired.excluded.insert(
                    account.id.clone(),
                    AccountInfo {
                        name: Some(account.name.clone()),
                        email: account.email.clone(),
                    },
                );
            }
            AccountScope::Excluded | AccountScope::NotListed => {}
            AccountScope::Skipped(reason) => desired.skipped.push(SkippedAccount {
                id: account.id.clone(),
                name: Some(account.name.clone()),
                status: account.status.clone(),
                reason,
            }),
            AccountScope::In(slots) => {
                desired.accounts.insert(
                    account.id.clone(),
                    AccountInfo {
                        name: Some(account.name.clone()),
                        email: account.email.clone(),
                    },
                );
                insert_slots(&mut desired, &account.id, slots);
            }
        }
    }
    Ok((desired, warnings))
}
