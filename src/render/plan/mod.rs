//! The plan, in every format it is shown in. A plan is turned once into a
//! [`PlanView`]; the human, JSON and Markdown renderers only lay that view
//! out, so they cannot disagree on what the plan says.

#[cfg(test)]
mod fixtures;
mod human;
mod json;
mod markdown;

use super::{Header, Paint};
use crate::model::{SkipReason, SkippedAccount};
use crate::plan::{Change, Plan, Summary};
use crate::safety::{Breach, Safety, SafetyCheck};

pub use json::{FORMAT_VERSION, schema};
pub use markdown::{Budget, plan_within as markdown_within};

/// How a plan is printed (`plan --format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
    Markdown,
}

impl PlanFormat {
    /// The plan in this format; colors only where a person reads it.
    pub fn render(self, view: &PlanView, paint: Paint) -> String {
        match self {
            PlanFormat::Human => human::plan(view, paint),
            PlanFormat::Json => json::plan(view),
            PlanFormat::Markdown => markdown::plan(view),
        }
    }
}

/// How the human plan lays out its changes (`--compact`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Compact {
    /// One line a change above [`COMPACT_ABOVE`] changes, else a block each
    #[default]
    Auto,
    /// One line a change
    Always,
    /// A block a change, field by field, however many
    Never,
}

/// Above this many changes a human plan is one line a change unless asked
/// otherwise: an adoption plan of tens of thousands of blocks is read by
/// nobody, and its summary scrolls out of the log.
pub const COMPACT_ABOVE: usize = 1000;

/// A plan with what it was checked against and where it was made: what
/// every format lays out. The changes are the plan's own; a renderer derives
/// what it shows of each (its field-by-field differences) from it.
#[derive(Clone, Debug)]
pub struct PlanView<'a> {
    pub plan: &'a Plan,
    pub header: Header,
    pub breaches: Vec<Breach>,
    /// The limits the plan was checked against.
    pub limits: Safety,
    pub layout: Compact,
}

impl<'a> PlanView<'a> {
    pub fn new(plan: &'a Plan, header: Header, safety: SafetyCheck) -> Self {
        Self {
            plan,
            header,
            breaches: safety.breaches,
            limits: safety.limits,
            layout: Compact::Auto,
        }
    }

    /// The same view, laid out as `layout` says.
    pub fn laid_out(self, layout: Compact) -> Self {
        Self { layout, ..self }
    }

    /// Whether the human plan is one line a change.
    pub fn is_compact(&self) -> bool {
        match self.layout {
            Compact::Auto => self.plan.changes.len() > COMPACT_ABOVE,
            Compact::Always => true,
            Compact::Never => false,
        }
    }

    pub fn changes(&self) -> &'a [Change] {
        &self.plan.changes
    }

    pub fn summary(&self) -> Summary {
        self.plan.summary()
    }

    pub fn accounts_in_scope(&self) -> usize {
        self.plan.accounts.len()
    }

    /// What `--joined-since` left unread, in a sentence.
    pub fn joined_since_line(&self) -> Option<String> {
        self.plan.joined_since.map(|window| {
            format!(
                "Only accounts that joined after {}: {} older accounts not read (a full plan covers them).",
                window.since.rfc3339(),
                window.older_accounts
            )
        })
    }

    /// The accounts whose subscriptions (AWS User Notifications) were not
    /// read, in a sentence: how many for want of a member role, and each
    /// whose read failed with what AWS answered.
    pub fn unchecked_line(&self) -> Option<String> {
        super::unchecked_line(&self.plan.unchecked)
    }

    /// Accounts skipped for not being ACTIVE, and the management account
    /// when a delegated administrator skipped it.
    pub fn skipped_by_reason(&self) -> (Vec<&'a SkippedAccount>, Vec<&'a SkippedAccount>) {
        self.plan
            .skipped
            .iter()
            .partition(|skipped| skipped.reason == SkipReason::NotActive)
    }

    /// The last line of every human plan.
    pub fn summary_line(&self) -> String {
        let s = self.summary();
        if s.changes() == 0 {
            let noun = if s.unchanged == 1 {
                "contact matches"
            } else {
                "contacts match"
            };
            format!("No changes. {} {noun} the configuration.", s.unchanged)
        } else {
            // Subscriptions are said only when there are some, so a plan
            // of contacts alone reads as it always has.
            let subscribe = match s.subscribe {
                0 => String::new(),
                n => format!(" {n} to subscribe,"),
            };
            format!(
                "Plan: {} to create, {} to update, {} to delete,{subscribe} {} unchanged.",
                s.create, s.update, s.delete, s.unchanged
            )
        }
    }
}
