//! Saved plans (`plan --out`): what was planned, against what, from which
//! file, with every change's before-value so `apply PLAN` can refuse a plan
//! whose slots changed since it was reviewed.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::backend::Target;
use crate::config::LoadedConfig;
use crate::error::Error;
use crate::model::{AccountId, AccountInfo, ContactType, Shape, Value};
use crate::plan::{Change, ChangeKind, Plan};

/// 2: `target` became a typed value, and the safety limits are no longer
/// carried (they are the applying run's). 3: each change is written as
/// `plan --format json` writes it.
pub const PLAN_FORMAT_VERSION: u32 = 3;

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
    pub changes: Vec<Change>,
}

impl PlanFile {
    pub fn new(plan: &Plan, config: &LoadedConfig, target: &Target, caller: &AccountId) -> Self {
        let changes = plan.changes.clone();
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
        plan.check().map_err(invalid)?;
        let accounts = plan
            .changes
            .iter()
            .map(|change| {
                (
                    change.slot.account.clone(),
                    AccountInfo {
                        name: change.account_name.clone(),
                        email: None,
                    },
                )
            })
            .collect();
        let planned = Plan {
            changes: plan.changes.clone(),
            accounts,
            managed_slots: plan.managed_slots,
            ..Plan::default()
        };
        Ok((plan, planned))
    }

    /// Refuses a change that AWS would refuse, or that a plan cannot hold
    /// (a slot twice, a value of the wrong shape, a primary contact
    /// deleted): a hand-edited plan is refused before anything is read or
    /// written. Each change's values fit its action already, or it would not
    /// have been read.
    fn check(&self) -> Result<(), String> {
        let mut seen = BTreeSet::new();
        for change in &self.changes {
            let slot = &change.slot;
            if !seen.insert(slot.clone()) {
                return Err(format!("{slot} appears twice"));
            }
            let fits = |value: &Value| {
                matches!(
                    (slot.kind, value),
                    (ContactType::Primary, Value::Primary(_))
                        | (
                            ContactType::Security | ContactType::Billing | ContactType::Operations,
                            Value::Alternate(_)
                        )
                )
            };
            let values = change
                .action
                .before()
                .into_iter()
                .chain(change.action.after());
            if !values.into_iter().all(fits) {
                return Err(format!("{slot}: a value does not fit this kind of slot"));
            }
            if slot.kind == ContactType::Primary && change.action.kind() == ChangeKind::Delete {
                return Err(format!("{slot}: the primary contact cannot be deleted"));
            }
            let problems = match change.action.after() {
                Some(Value::Alternate(after)) => after.problems(),
                Some(Value::Primary(after)) => after.problems(),
                None => Vec::new(),
            };
            if let Some((_, message)) = problems.into_iter().next() {
                return Err(format!("{slot}: {message}"));
            }
        }
        Ok(())
    }
}
