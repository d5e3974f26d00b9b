//! Limits on what a single apply may change, so a mistaken file (or a bug)
//! cannot wipe an organization's contacts in one merge.

use serde::{Deserialize, Serialize};

use crate::config::SafetySettings;
use crate::plan::Summary;

pub const DEFAULT_MAX_DELETES: u32 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

impl From<SafetySettings> for SafetyLimits {
    /// The file's settings, with the defaults for what it leaves out.
    fn from(file: SafetySettings) -> Self {
        Self {
            max_deletes: file.max_deletes.unwrap_or(DEFAULT_MAX_DELETES),
            max_updates: file.max_updates,
            max_update_percent: file.max_update_percent,
        }
    }
}

/// A limit the plan goes over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Breach {
    /// The setting's name, as in `safety:` and the flags.
    pub limit: &'static str,
    pub allowed: usize,
    pub planned: usize,
}

impl Breach {
    pub fn describe(&self) -> String {
        let what = if self.limit == "max_deletes" {
            "deletes"
        } else {
            "updates"
        };
        format!(
            "{} {what} exceed the limit of {} (safety.{} / --{})",
            self.planned,
            self.allowed,
            self.limit,
            self.limit.replace('_', "-")
        )
    }
}

/// Every limit the plan would exceed. `managed_slots` is the base of the
/// percentage limit.
pub fn check(summary: &Summary, managed_slots: usize, limits: &SafetyLimits) -> Vec<Breach> {
    let mut breaches = Vec::new();
    if summary.delete > limits.max_deletes as usize {
        breaches.push(Breach {
            limit: "max_deletes",
            allowed: limits.max_deletes as usize,
            planned: summary.delete,
        });
    }
    if let Some(max) = limits
        .max_updates
        .filter(|max| summary.update > *max as usize)
    {
        breaches.push(Breach {
            limit: "max_updates",
            allowed: max as usize,
            planned: summary.update,
        });
    }
    if let Some(percent) = limits.max_update_percent {
        // Rounded down: 10% of 15 slots allows 1 update, not 2.
        let allowed = managed_slots * percent as usize / 100;
        if summary.update > allowed {
            breaches.push(Breach {
                limit: "max_update_percent",
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
        assert!(check(&summary(500, 10), 1000, &SafetyLimits::default()).is_empty());
        let breaches = check(&summary(0, 11), 1000, &SafetyLimits::default());
        assert_eq!(
            breaches,
            vec![Breach {
                limit: "max_deletes",
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
        assert!(check(&summary(5, 0), 50, &limits).is_empty());
        let breaches = check(&summary(6, 0), 50, &limits);
        assert_eq!(
            breaches.iter().map(|b| b.limit).collect::<Vec<_>>(),
            vec!["max_updates", "max_update_percent"]
        );
        assert_eq!(breaches[1].allowed, 5);
    }
}
