//! Every way altcontacts can fail, as data: each error knows its exit code,
//! where it happened and what to do next. `main` prints it once.

use crate::backend::Target;
pub use crate::backend::error::{Located, distinct_help};
use crate::backend::error::{SYSTEMIC_DENIAL_HELP, SandboxError};
use crate::config::ConfigError;
use crate::hint::{self, Hint};
use crate::model::{AccountId, Duration, Slot, count};
use crate::safety::Breach;

/// Exit codes, as the README lists them: the same for every command.
pub const EXIT_OK: u8 = 0;
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_CHANGES: u8 = 2;
pub const EXIT_REFUSED: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),

    #[error(transparent)]
    Sandbox(#[from] SandboxError),

    #[error("cannot read {path}: {source}{}", Hint::of(.help))]
    Read {
        path: String,
        source: std::io::Error,
        help: Option<String>,
    },

    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },

    #[error("{0}")]
    Backend(#[from] Located),

    #[error(transparent)]
    Git(#[from] crate::git::GitError),

    #[error(transparent)]
    GitFile(#[from] crate::git::FileAtError),

    #[error(transparent)]
    Guardrail(#[from] crate::guardrail::GuardrailError),

    #[error(transparent)]
    Forge(#[from] crate::forge::ForgeError),

    #[error(transparent)]
    CiFile(#[from] crate::forge::CiFileError),

    #[error("{} failed:\n{}", count(.0.len(), "request"), list(.0))]
    Backends(Vec<Located>),

    /// Many member accounts denied access: one cause, so reading stopped.
    #[error(
        "access denied on {} member accounts ({}), so reading stopped there: {}{}",
        .accounts.len(),
        list_ids(.accounts),
        .first.summary(),
        Hint(Some(SYSTEMIC_DENIAL_HELP))
    )]
    SystemicDenial {
        accounts: Vec<AccountId>,
        first: Box<Located>,
    },

    /// The apply was refused before anything was written (exit 3).
    #[error("{}{}", .0, Hint(Some(.0.help())))]
    Refused(Refusal),

    #[error("{message}{}", Hint::of(.help))]
    Usage {
        message: String,
        help: Option<String>,
    },

    /// `plan --out` with the key's variable set but empty (exit 1; at
    /// apply it is `Refusal::EmptyPlanKey`, exit 3).
    #[error(
        "{variable} is set but empty (a CI secret that did not resolve?), so no plan was made: an empty key is not taken for no key{}",
        Hint(Some(
            "set it to the plan key secret, or leave it unset to seal the plan with SHA-256 alone"
        ))
    )]
    EmptyPlanKey { variable: &'static str },

    #[error("{path} is not a plan file altcontacts can apply: {message}")]
    PlanFile { path: String, message: String },

    /// Findings Security Hub refused; the others were imported.
    #[error(
        "Security Hub refused {} of the findings sent: {}{}",
        .0.len(),
        .0.iter().take(5).map(|refused| format!("{} ({}: {})", refused.id, refused.code, refused.message)).collect::<Vec<_>>().join("; "),
        Hint(Some("the others were imported; the next audit sends these again (a passing failure such as InternalException clears then; a TooLarge finding never fits)"))
    )]
    SecurityHubRefused(Vec<crate::findings::asff::Refused>),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            // A plan file that is not a valid plan is an apply refused, as
            // a stale one is: nothing is written.
            Error::Refused(_) | Error::PlanFile { .. } => EXIT_REFUSED,
            _ => EXIT_ERROR,
        }
    }

    pub fn usage(message: impl Into<String>, help: Option<String>) -> Self {
        Error::Usage {
            message: message.into(),
            help,
        }
    }
}

/// Why an apply wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(
        "refusing the plan: {file} differs from the file the plan was made from ({planned_from}), so nothing was applied"
    )]
    FileChanged { file: String, planned_from: String },

    #[error(
        "refusing the plan: it was made on {planned_on} as account {planned_as}, but this run is on {running_on} as account {running_as}"
    )]
    OtherTarget {
        planned_on: Target,
        planned_as: AccountId,
        running_on: Target,
        running_as: AccountId,
    },

    #[error("refusing to apply, nothing was written: {}", .0.iter().map(Breach::describe).collect::<Vec<_>>().join("; "))]
    SafetyLimits(Vec<Breach>),

    #[error(
        "refusing the stale plan, nothing was written: {} changed since the plan was made:\n{}",
        count(.0.len(), "contact"),
        .0.iter().map(|drift| format!("  - {}: planned from {}, now {}", drift.slot, drift.planned_from, drift.now)).collect::<Vec<_>>().join("\n")
    )]
    Stale(Vec<Drift>),

    #[error(
        "refusing to apply without approval: there is no terminal to ask on, so nothing was written"
    )]
    NoTerminal,

    #[error("apply cancelled, nothing was written")]
    Cancelled,

    #[error(
        "refusing the plan, nothing was written: it is not what its contacts file yields against what it recorded: {reason}"
    )]
    Tampered { reason: String },

    #[error(
        "refusing the plan, nothing was written: it was edited after `plan --out` wrote it (its {} does not match its contents)",
        if *.keyed { "seal by the plan key" } else { "digest" }
    )]
    SealBroken { keyed: bool },

    /// `variable`: where a run finds the key (the saved plan's module names it).
    #[error(
        "refusing the plan, nothing was written: it is sealed with a plan key, and this run has none in {variable}"
    )]
    SealNeedsKey { variable: &'static str },

    #[error(
        "refusing the plan, nothing was written: this run has a plan key in {variable}, and the plan was not sealed with one"
    )]
    SealWithoutKey { variable: &'static str },

    /// A secret that did not resolve leaves its variable set and empty:
    /// taken for "no key", it would let an unkeyed plan through.
    #[error(
        "refusing the plan, nothing was written: {variable} is set but empty (a CI secret that did not resolve?), and an empty key is not taken for no key"
    )]
    EmptyPlanKey { variable: &'static str },

    #[error(
        "refusing the plan, nothing was written: --require-plan-key is given and this run has no plan key in {variable}, so it cannot tell the plan was sealed by the job that holds the key"
    )]
    PlanKeyRequired { variable: &'static str },

    #[error(
        "refusing the plan, nothing was written: it was made {age} ago ({made_at}), and apply takes plans up to {max_age} old (--max-plan-age)"
    )]
    TooOld {
        age: Duration,
        made_at: String,
        max_age: Duration,
    },

    #[error(
        "refusing the plan, nothing was written: it says it was made at {made_at}, {ahead} after this run's clock ({now}), more than the {skew} of clock skew allowed"
    )]
    FromTheFuture {
        made_at: String,
        ahead: Duration,
        now: String,
        skew: Duration,
    },

    #[error(
        "refusing the plan, nothing was written: it was made at commit {planned_at}, which is neither this checkout's HEAD ({head}) nor in its history, so what it applies was not merged here"
    )]
    CommitNotInHistory { planned_at: String, head: String },

    #[error(
        "refusing the plan, nothing was written: it was made at commit {planned_at}, which this clone does not have, so whether this checkout's HEAD ({head}) contains it cannot be told"
    )]
    CommitUnknown { planned_at: String, head: String },
}

/// A slot that no longer holds what a saved plan started from.
#[derive(Debug)]
pub struct Drift {
    pub slot: Slot,
    /// The values, in a sentence each (`no contact`, or the contact).
    pub planned_from: String,
    pub now: String,
}

impl Refusal {
    pub fn help(&self) -> &'static str {
        match self {
            Refusal::FileChanged { .. } => {
                "make a new plan from the current file (altcontacts plan --out plan.json) and apply that"
            }
            Refusal::OtherTarget { .. } => {
                "apply it with the credentials (or --sandbox) it was made with"
            }
            Refusal::SafetyLimits(_) => {
                "check the plan; if the changes are intended, run again with --force or raise the limit"
            }
            Refusal::Stale(_) => {
                "make a new plan (altcontacts plan --out plan.json), review it, and apply that"
            }
            Refusal::Tampered { .. } | Refusal::SealBroken { .. } => {
                "a saved plan is applied only as `plan --out` wrote it: make a new plan (altcontacts plan --out plan.json), review it, and apply that; and find out who could change the plan file in between"
            }
            Refusal::SealNeedsKey { .. } | Refusal::SealWithoutKey { .. } => {
                "give the plan job and the apply job the same plan key secret, in the variable named above (or neither of them one), then make a new plan and apply that"
            }
            Refusal::EmptyPlanKey { .. } => {
                "give the apply job the plan key secret in the variable named above; an apply meant to run without a key must not have the variable at all"
            }
            Refusal::PlanKeyRequired { .. } => {
                "give the apply job the plan key secret the plan job seals with, in the variable named above"
            }
            Refusal::TooOld { .. } => {
                "make a new plan (altcontacts plan --out plan.json), review it, and apply that; if this plan is still the one to apply, raise the limit, e.g. --max-plan-age 7d"
            }
            Refusal::FromTheFuture { .. } => {
                "check the clocks of the machine that made the plan and of this one, then make a new plan and apply that"
            }
            Refusal::CommitNotInHistory { .. } => {
                "a plan made on a branch is applied only where that branch was merged: merge the change, make the plan on the merged checkout (altcontacts plan --out plan.json), review it, and apply that"
            }
            Refusal::CommitUnknown { .. } => {
                "fetch the history first (actions/checkout: fetch-depth: 0; GitLab: GIT_DEPTH: 0), or make the plan in this checkout and apply that"
            }
            Refusal::NoTerminal => {
                "review the plan above and pass --auto-approve, or apply a reviewed plan: altcontacts plan --out plan.json, then altcontacts apply plan.json"
            }
            Refusal::Cancelled => "answer `yes` to apply",
        }
    }
}

/// The first few account IDs; the count says how many there are.
fn list_ids(ids: &[AccountId]) -> String {
    const SHOWN: usize = 5;
    let mut shown: Vec<&str> = ids.iter().take(SHOWN).map(AccountId::as_str).collect();
    if ids.len() > SHOWN {
        shown.push("…");
    }
    shown.join(", ")
}

/// Failures across many slots are grouped: past this many, the rest is counted.
const LISTED_AT_MOST: usize = 20;

/// One line per failure, then each distinct hint once: twenty denied
/// accounts need the same advice, not twenty copies of it.
fn list(errors: &[Located]) -> String {
    let mut text: Vec<String> = errors
        .iter()
        .take(LISTED_AT_MOST)
        .map(|error| format!("  - {}", error.summary()))
        .collect();
    if errors.len() > LISTED_AT_MOST {
        text.push(format!("  ... and {} more", errors.len() - LISTED_AT_MOST));
    }
    text.extend(distinct_help(errors).iter().map(|help| hint::line(help)));
    text.join("\n")
}
