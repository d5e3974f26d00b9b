//! Limits on what a single apply may change, so a mistaken file (or a bug)
//! cannot wipe an organization's contacts in one merge.

use serde::Serialize;

use crate::plan::{Plan, Summary};
pub use crate::settings::Safety;
use crate::settings::{SafetyArgs, SafetySpec};

impl Safety {
    /// The limits in a sentence, for plan output.
    pub fn describe(&self) -> String {
        let mut parts = vec![match self.max_deletes {
            Some(max) => format!("at most {max} deletes"),
            None => "any number of deletes".to_owned(),
        }];
        parts.extend(self.max_updates.map(|max| format!("at most {max} updates")));
        parts.extend(
            self.max_update_percent
                .map(|percent| format!("updates to at most {percent} of the managed contacts")),
        );
        if self.max_updates.is_none() && self.max_update_percent.is_none() {
            parts.push("any number of updates".to_owned());
        }
        parts.join(", ")
    }
}

/// A safety setting, named as in `safety:` (and, with dashes, the flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[expect(
    clippy::enum_variant_names,
    reason = "each serializes as its key in `safety:`"
)]
pub enum Limit {
    MaxDeletes,
    MaxUpdates,
    MaxUpdatePercent,
}

impl Limit {
    pub fn key(self) -> &'static str {
        match self {
            Self::MaxDeletes => "max_deletes",
            Self::MaxUpdates => "max_updates",
            Self::MaxUpdatePercent => "max_update_percent",
        }
    }

    /// The flag that sets it: its key, with dashes.
    pub fn flag(self) -> String {
        format!("--{}", self.key().replace('_', "-"))
    }

    fn counts(self) -> &'static str {
        match self {
            Self::MaxDeletes => "deletes",
            Self::MaxUpdates | Self::MaxUpdatePercent => "updates",
        }
    }
}

/// A limit the plan goes over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Breach {
    pub limit: Limit,
    pub allowed: usize,
    pub planned: usize,
}

impl Breach {
    pub fn describe(&self) -> String {
        format!(
            "{} {} exceed the limit of {} (safety.{} / {})",
            self.planned,
            self.limit.counts(),
            self.allowed,
            self.limit.key(),
            self.limit.flag()
        )
    }
}

/// The limits a plan was checked against, and those it goes over.
#[derive(Clone, Debug, PartialEq)]
pub struct SafetyCheck {
    pub limits: Safety,
    pub breaches: Vec<Breach>,
}

/// Checks a plan against the limits of this run: the flags over the file
/// (its `safety:`, the one at hand for a saved plan) over the defaults.
pub fn check_plan(plan: &Plan, file: &SafetySpec, flags: &SafetyArgs) -> SafetyCheck {
    check(
        &plan.summary(),
        plan.managed_slots,
        &Safety::resolve(file, flags),
    )
}

/// Checks a plan against `limits`. `managed_slots` is the base of the
/// percentage limit.
pub fn check(summary: &Summary, managed_slots: usize, limits: &Safety) -> SafetyCheck {
    SafetyCheck {
        limits: limits.clone(),
        breaches: breaches(summary, managed_slots, limits),
    }
}

/// Every limit the plan would exceed.
fn breaches(summary: &Summary, managed_slots: usize, limits: &Safety) -> Vec<Breach> {
    let mut breaches = Vec::new();
    if let Some(max) = limits
        .max_deletes
        .filter(|max| summary.delete > max.0 as usize)
    {
        breaches.push(Breach {
            limit: Limit::MaxDeletes,
            allowed: max.0 as usize,
            planned: summary.delete,
        });
    }
    if let Some(max) = limits
        .max_updates
        .filter(|max| summary.update > max.0 as usize)
    {
        breaches.push(Breach {
            limit: Limit::MaxUpdates,
            allowed: max.0 as usize,
            planned: summary.update,
        });
    }
    if let Some(percent) = limits.max_update_percent {
        // Rounded down: 10% of 15 slots allows 1 update, not 2.
        let allowed = managed_slots * percent.0 as usize / 100;
        if summary.update > allowed {
            breaches.push(Breach {
                limit: Limit::MaxUpdatePercent,
                allowed,
                planned: summary.update,
            });
        }
    }
    breaches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Count, Percent};

    fn summary(update: usize, delete: usize) -> Summary {
        Summary {
            create: 0,
            update,
            delete,
            subscribe: 0,
            unchanged: 0,
        }
    }

    #[test]
    fn default_allows_ten_deletes_and_any_updates() {
        assert!(breaches(&summary(500, 10), 1000, &Safety::default()).is_empty());
        let found = breaches(&summary(0, 11), 1000, &Safety::default());
        assert_eq!(
            found,
            vec![Breach {
                limit: Limit::MaxDeletes,
                allowed: 10,
                planned: 11
            }]
        );
    }

    #[test]
    fn update_caps_by_count_and_percent() {
        let limits = Safety {
            max_deletes: Some(Count(10)),
            max_updates: Some(Count(5)),
            max_update_percent: Some(Percent(10)),
        };
        assert!(breaches(&summary(5, 0), 50, &limits).is_empty());
        let found = breaches(&summary(6, 0), 50, &limits);
        assert_eq!(
            found.iter().map(|b| b.limit).collect::<Vec<_>>(),
            vec![Limit::MaxUpdates, Limit::MaxUpdatePercent]
        );
        assert_eq!(found[1].allowed, 5);
    }
}
