//! Saved plans (`plan --out`): what was planned, against what, from which
//! file, with every change's before-value so `apply PLAN` can refuse a plan
//! whose slots changed since it was reviewed.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::backend::Target;
use crate::config::LoadedConfig;
use crate::error::Error;
use crate::model::{AccountId, AccountInfo, ContactType, Shape, Slot, Source, Value};
use crate::plan::{Action, ChangeKind, Plan, PlannedChange};

/// 2: `target` became a typed value, and the safety limits are no longer
/// carried (they are the applying run's).
pub const PLAN_FORMAT_VERSION: u32 = 2;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// Format version of this file; also marks it as an altcontacts plan.
    pub altcontacts_plan: u32,
    pub created_by: String,
    pub config_file: String,
    /// SHA-256 of the contacts file the plan was made from.
    pub config_digest: String,
    pub target: Target,
    pub caller_account: AccountId,
    pub managed_slots: usize,
    pub changes: Vec<SavedChange>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedChange {
    pub account_id: AccountId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    pub contact_type: ContactType,
    pub action: ChangeKind,
    pub source: Source,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl PlanFile {
    pub fn new(plan: &Plan, config: &LoadedConfig, target: &Target, caller: &AccountId) -> Self {
        let changes = plan
            .changes
            .iter()
            .map(|item| SavedChange {
                account_id: item.slot.account.clone(),
                account_name: plan
                    .accounts
                    .get(&item.slot.account)
                    .and_then(|info| info.name.clone()),
                contact_type: item.slot.kind,
                action: item.action.kind(),
                source: item.source.clone(),
                before: item.action.before().cloned(),
                after: item.action.after().cloned(),
            })
            .collect();
        Self {
            altcontacts_plan: PLAN_FORMAT_VERSION,
            created_by: format!("altcontacts {}", env!("CARGO_PKG_VERSION")),
            config_file: config.file.clone(),
            config_digest: config.digest(),
            target: target.clone(),
            caller_account: caller.clone(),
            managed_slots: plan.managed_slots,
            changes,
        }
    }

    pub fn write(&self, path: &Path) -> Result<(), Error> {
        let mut text = serde_json::to_string_pretty(self).expect("plain data serializes");
        text.push('\n');
        std::fs::write(path, text).map_err(|source| Error::Write {
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads and checks a plan file, and returns it with the plan it holds;
    /// a hand-edited plan with contradictory or invalid changes is refused
    /// before anything is read or written.
    pub fn read(path: &Path) -> Result<(Self, Plan), Error> {
        let display = path.display().to_string();
        let invalid = |message: String| Error::PlanFile {
            path: display.clone(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: display.clone(),
            source,
            help: Some("make a plan with `altcontacts plan --out FILE`".to_owned()),
        })?;
        let probe: serde_json::Value =
            serde_json::from_str(&text).map_err(|error| invalid(format!("not JSON: {error}")))?;
        match probe
            .get("altcontacts_plan")
            .and_then(serde_json::Value::as_u64)
        {
            Some(version) if version == u64::from(PLAN_FORMAT_VERSION) => {}
            Some(version) => {
                return Err(invalid(format!(
                    "plan format {version} is not supported; this altcontacts reads {PLAN_FORMAT_VERSION}"
                )));
            }
            None => {
                return Err(invalid(
                    "it has no `altcontacts_plan` version; was it made with `plan --out`?"
                        .to_owned(),
                ));
            }
        }
        let plan: PlanFile =
            serde_json::from_value(probe).map_err(|error| invalid(error.to_string()))?;
        let changes = plan.check().map_err(invalid)?;
        let accounts = plan
            .changes
            .iter()
            .map(|change| {
                (
                    change.account_id.clone(),
                    AccountInfo {
                        name: change.account_name.clone(),
                    },
                )
            })
            .collect();
        let planned = Plan {
            changes,
            accounts,
            managed_slots: plan.managed_slots,
            ..Plan::default()
        };
        Ok((plan, planned))
    }

    /// The changes as planned slots. Fails on a change whose values do not
    /// fit its action or that AWS would refuse: a hand-edited plan is
    /// refused before anything is read or written.
    fn check(&self) -> Result<Vec<PlannedChange>, String> {
        let mut seen = BTreeSet::new();
        let mut planned = Vec::with_capacity(self.changes.len());
        for change in &self.changes {
            let slot = Slot::new(change.account_id.clone(), change.contact_type);
            if !seen.insert(slot.clone()) {
                return Err(format!("{slot} appears twice"));
            }
            let action = match (change.action, &change.before, &change.after) {
                (ChangeKind::Create, None, Some(after)) => Action::Create {
                    after: after.clone(),
                },
                (ChangeKind::Update, Some(before), Some(after)) if before != after => {
                    Action::Update {
                        before: before.clone(),
                        after: after.clone(),
                    }
                }
                (ChangeKind::Delete, Some(before), None) => Action::Delete {
                    before: before.clone(),
                },
                (action, ..) => {
                    return Err(format!(
                        "{slot}: its before and after values do not fit the action {action:?}"
                    ));
                }
            };
            let fits = |value: &Value| {
                matches!(
                    (change.contact_type, value),
                    (ContactType::Primary, Value::Primary(_))
                        | (
                            ContactType::Security | ContactType::Billing | ContactType::Operations,
                            Value::Alternate(_)
                        )
                )
            };
            if !change.before.iter().chain(&change.after).all(fits) {
                return Err(format!("{slot}: a value does not fit this kind of slot"));
            }
            if change.contact_type == ContactType::Primary && change.action == ChangeKind::Delete {
                return Err(format!("{slot}: the primary contact cannot be deleted"));
            }
            let problems = match &change.after {
                Some(Value::Alternate(after)) => after.problems(),
                Some(Value::Primary(after)) => after.problems(),
                None => Vec::new(),
            };
            if let Some((_, message)) = problems.into_iter().next() {
                return Err(format!("{slot}: {message}"));
            }
            planned.push(PlannedChange {
                slot,
                source: change.source.clone(),
                action,
            });
        }
        Ok(planned)
    }
}
