//! Limits on what a single apply may change, so a mistaken file (or a bug)
//! cannot wipe an organization's contacts in one merge.

use serde::{Deserialize, Serialize};

use crate::cli::SafetyArgs;
use crate::config::SafetySpec;
use crate::plan::Summary;

pub const DEFAULT_MAX_DELETES: u32 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SafetyLimits {
    pub max_deletes: u32,
    pub max_updates: Option<u32>,
    pub max_update_percent: Option<u32>,
}

impl Default for SafetyLimits {
    fn default() -> Self {
        Self {
            max_deletes: DEFAULT_MAX_DELETES,
            max_updates: None,
            max_update_percent: None,
        }
    }
}

impl From<SafetySpec> for SafetyLimits {
    /// The file's settings, with the defaults for what it leaves out.
    fn from(file: SafetySpec) -> Self {
        Self {
            max_deletes: file.max_deletes.unwrap_or(DEFAULT_MAX_DELETES),
            max_updates: file.max_updates,
            max_update_percent: file.max_update_percent,
        }
    }
}

impl SafetyLimits {
    /// These limits (the contacts file's, or those recorded in a saved
    /// plan) with the flags given on the command line over them: the one
    /// place a flag overrides the file.
    pub fn with_flags(self, flags: &SafetyArgs) -> Self {
        Self {
            max_deletes: flags.max_deletes.unwrap_or(self.max_deletes),
            max_updates: flags.max_updates.or(self.max_updates),
            max_update_percent: flags.max_update_percent.or(self.max_update_percent),
        }
    }

    /// The limits in a sentence, for plan output.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("at most {} deletes", self.max_deletes)];
        parts.extend(self.max_updates.map(|max| format!("at most {max} updates")));
        parts.extend(
            self.max_update_percent
                .map(|percent| format!("updates to at most {percent}% of the managed contacts")),
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

    pub fn flag(self) -> &'static str {
        match self {
            Self::MaxDeletes => "--max-deletes",
            Self::MaxUpdates => "--max-updates",
            Self::MaxUpdatePercent => "--max-update-percent",
        }
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafetyCheck {
    pub limits: SafetyLimits,
    pub breaches: Vec<Breach>,
}

/// Checks a plan against `limits`. `managed_slots` is the base of the
/// percentage limit.
pub fn check(summary: &Summary, managed_slots: usize, limits: &SafetyLimits) -> SafetyCheck {
    SafetyCheck {
        limits: *limits,
        breaches: breaches(summary, managed_slots, limits),
    }
}

/// Every limit the plan would exceed.
fn breaches(summary: &Summary, managed_slots: usize, limits: &SafetyLimits) -> Vec<Breach> {
    let mut breaches = Vec::new();
    if summary.delete > limits.max_deletes as usize {
        breaches.push(Breach {
            limit: Limit::MaxDeletes,
            allowed: limits.max_deletes as usize,
            planned: summary.delete,
        });
    }
    if let Some(max) = limits
        .max_updates
        .filter(|max| summary.update > *max as usize)
    {
        breaches.push(Breach {
            limit: Limit::MaxUpdates,
            allowed: max as usize,
            planned: summary.update,
        });
    }
    if let Some(percent) = limits.max_update_percent {
        // Rounded down: 10% of 15 slots allows 1 update, not 2.
        let allowed = managed_slots * percent as usize / 100;
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

    fn summary(update: usize, delete: usize) -> Summary {
        Summary {
            create: 0,
            update,
            delete,
            unchanged: 0,
        }
    }

    #[test]
    fn default_allows_ten_deletes_and_any_updates() {
        assert!(breaches(&summary(500, 10), 1000, &SafetyLimits::default()).is_empty());
        let found = breaches(&summary(0, 11), 1000, &SafetyLimits::default());
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
        let limits = SafetyLimits {
            max_deletes: 10,
            max_updates: Some(5),
            max_update_percent: Some(10),
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
