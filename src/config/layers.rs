//! Layer resolution: account entry > deepest matching unit > organization
//! defaults, slot by slot. A slot no layer mentions stays unmanaged.

use std::collections::{BTreeMap, BTreeSet};

use super::diagnostic::{Diagnostic, closest};
use super::node::YamlPath;
use super::{Config, Layer, OrgLayers, UnitSelector};
use crate::model::{
    AccountId, AccountInfo, AccountStatus, ContactType, Desired, DesiredSlot, Found, OrgAccount,
    Organization, SkipReason, SkippedAccount, Slot, Source,
};

/// The desired state, and warnings about the file that do not stop a run.
pub fn resolve(
    config: &Config,
    org: Option<&Organization>,
    caller: &AccountId,
) -> Result<(Desired, Vec<Diagnostic>), Vec<Diagnostic>> {
    match (&config.organization, org) {
        (Some(layers), Some(org)) => resolve_organization(config, layers, org, caller),
        (Some(_), None) => Err(vec![Diagnostic::at(
            &YamlPath::root().key("organization"),
            "the organization was not discovered, so `organization` cannot be resolved",
        )]),
        (None, _) => Ok((resolve_listed(config), Vec::new())),
    }
}

fn resolve_listed(config: &Config) -> Desired {
    let mut desired = Desired::default();
    for (id, layer) in &config.accounts {
        desired.accounts.insert(id.clone(), AccountInfo::default());
        apply_layer(
            &mut desired,
            id,
            layer,
            &Source::Account {
                account_id: id.clone(),
            },
        );
    }
    desired
}

fn apply_layer(desired: &mut Desired, id: &AccountId, layer: &Layer, source: &Source) {
    for (kind, value) in layer {
        desired.slots.insert(
            Slot::new(id.clone(), *kind),
            DesiredSlot {
                wanted: value.wanted.clone(),
                source: source.clone(),
                contact_name: value.contact_name.clone(),
                reviewed: value.reviewed,
            },
        );
    }
}

/// A unit of the configuration matched to the organization: its id and depth.
struct MatchedUnit<'c> {
    id: String,
    depth: usize,
    key: &'c str,
    layer: &'c Layer,
}

/// The slots the file manages for one account, decided from what discovery
/// knows of that account alone, so reading can start before the whole
/// organization is listed. [`resolve`] over the whole organization stays
/// the authority on what is planned.
pub fn slots_of(config: &Config, found: &Found, caller: &AccountId) -> Vec<Slot> {
    let Some(layers) = &config.organization else {
        return Vec::new();
    };
    let account = &found.account;
    let out_of_scope = account.status != AccountStatus::Active
        || layers.exclude.contains(&account.id)
        || (account.id == found.management_account && *caller != found.management_account);
    if out_of_scope {
        return Vec::new();
    }
    let mut kinds: BTreeSet<ContactType> = layers.defaults.keys().copied().collect();
    for unit in &layers.units {
        let matches = match &unit.selector {
            UnitSelector::Id(id) => account.parents.contains(id),
            UnitSelector::Path(segments) => found.path.starts_with(segments),
        };
        if matches {
            kinds.extend(unit.layer.keys().copied());
        }
    }
    if let Some(layer) = config.accounts.get(&account.id) {
        kinds.extend(layer.keys().copied());
    }
    kinds
        .into_iter()
        .map(|kind| Slot::new(account.id.clone(), kind))
        .collect()
}

/// From a delegated administrator, an `accounts:` entry for the management
/// account is an error: AWS lets it name member accounts only.
pub fn management_listed(
    config: &Config,
    management: &AccountId,
    caller: &AccountId,
) -> Option<Diagnostic> {
    (management != caller && config.accounts.contains_key(management)).then(|| {
        Diagnostic::at_key(
            &YamlPath::root().key("accounts").key(management.as_str()),
            format!(
                "account {management} is the organization's management account, which this caller ({caller}), a delegated administrator, cannot manage"
            ),
        )
        .help("AWS lets a delegated administrator name member accounts only: run from the management account, or remove this entry")
    })
}

fn resolve_organization(
    config: &Config,
    layers: &OrgLayers,
    org: &Organization,
    caller: &AccountId,
) -> Result<(Desired, Vec<Diagnostic>), Vec<Diagnostic>> {
    let delegated_administrator = *caller != org.management_account;
    let mut problems = Vec::new();
    let units_path = YamlPath::root().key("organization").key("units");
    let known_units = org.units_with_paths();

    let mut matched: Vec<MatchedUnit> = Vec::new();
    for unit in &layers.units {
        let found = known_units
            .iter()
            .find(|(path, found)| match &unit.selector {
                UnitSelector::Id(id) => &found.id == id,
                UnitSelector::Path(segments) => path == segments,
            });
        let Some((path, found)) = found else {
            let mut diagnostic = Diagnostic::at_key(
                &units_path.key(&unit.key),
                format!("unit `{}` does not exist in the organization", unit.key),
            );
            let keys: Vec<String> = known_units
                .iter()
                .map(|(path, _)| super::unit_path_key(path))
                .collect();
            diagnostic = match closest(&unit.key, keys.iter().map(String::as_str)) {
                Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
                None => diagnostic.help(format!(
                    "units are keyed by path from the root, e.g. `{}`, or by OU id (a `/` inside a name is written `\\/`)",
                    keys.first().map_or("Root", String::as_str)
                )),
            };
            problems.push(diagnostic);
            continue;
        };
        if let Some(earlier) = matched.iter().find(|m| m.id == found.id) {
            problems.push(
                Diagnostic::at_key(
                    &units_path.key(&unit.key),
                    format!(
                        "unit `{}` is the same OU as `{}` ({})",
                        unit.key, earlier.key, found.id
                    ),
                )
                .help("merge the two entries into one"),
            );
            continue;
        }
        matched.push(MatchedUnit {
            id: found.id.clone(),
            depth: path.len(),
            key: &unit.key,
            layer: &unit.layer,
        });
    }
    // Shallow units first, so deeper ones overwrite them slot by slot.
    matched.sort_by_key(|unit| unit.depth);

    let by_id: BTreeMap<&AccountId, &OrgAccount> = org
        .accounts
        .iter()
        .map(|account| (&account.id, account))
        .collect();
    for id in config.accounts.keys().filter(|id| !by_id.contains_key(id)) {
        problems.push(
            Diagnostic::at_key(&YamlPath::root().key("accounts").key(id.as_str()), format!("account {id} is not in the organization"))
                .help("check the ID, or remove the entry: with `organization`, the scope is the organization's accounts"),
        );
    }
    problems.extend(management_listed(config, &org.management_account, caller));
    let exclude_path = YamlPath::root().key("organization").key("exclude");
    // Closed accounts leave the organization 90 days after closing: an
    // exclusion that outlived its account is stale, not wrong.
    let mut warnings = Vec::new();
    for (index, id) in layers
        .exclude
        .iter()
        .enumerate()
        .filter(|(_, id)| !by_id.contains_key(id))
    {
        warnings.push(
            Diagnostic::at(
                &exclude_path.index(index),
                format!("excluded account {id} is not in the organization (any more)"),
            )
            .help("remove it from `exclude`"),
        );
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let excluded: BTreeSet<&AccountId> = layers.exclude.iter().collect();
    let mut desired = Desired::default();
    for account in &org.accounts {
        if excluded.contains(&account.id) {
            continue;
        }
        let reason = if account.status != AccountStatus::Active {
            Some(SkipReason::NotActive)
        } else if delegated_administrator && account.id == org.management_account {
            Some(SkipReason::ManagementAccount)
        } else {
            None
        };
        if let Some(reason) = reason {
            desired.skipped.push(SkippedAccount {
                id: account.id.clone(),
                name: Some(account.name.clone()),
                status: account.status.clone(),
                reason,
            });
            continue;
        }
        desired.accounts.insert(
            account.id.clone(),
            AccountInfo {
                name: Some(account.name.clone()),
            },
        );
        apply_layer(
            &mut desired,
            &account.id,
            &layers.defaults,
            &Source::Defaults,
        );
        for unit in matched
            .iter()
            .filter(|unit| account.parents.contains(&unit.id))
        {
            apply_layer(
                &mut desired,
                &account.id,
                unit.layer,
                &Source::Unit {
                    key: unit.key.to_owned(),
                },
            );
        }
        if let Some(layer) = config.accounts.get(&account.id) {
            apply_layer(
                &mut desired,
                &account.id,
                layer,
                &Source::Account {
                    account_id: account.id.clone(),
                },
            );
        }
    }
    Ok((desired, warnings))
}
