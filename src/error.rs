//! Every way altcontacts can fail, as data: each error knows its exit code,
//! where it happened and what to do next. `main` prints it once.

pub use crate::backend::error::{BackendError, Located, Operation, distinct_help};
use crate::backend::error::{SYSTEMIC_DENIAL_HELP, SandboxError};
use crate::config::ConfigError;
use crate::model::{AccountId, count};

/// Exit codes of DESIGN §2.
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

    #[error("cannot read {path}: {source}{}", help_suffix(.help))]
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
    GitHub(#[from] crate::github::GitHubError),

    #[error(transparent)]
    WorkflowFile(#[from] crate::github::workflow::WorkflowFileError),

    #[error("{} failed:\n{}", count(.0.len(), "request"), list(.0))]
    Backends(Vec<Located>),

    /// Many member accounts denied access: one cause, so reading stopped.
    #[error(
        "access denied on {} member accounts ({}), so reading stopped there: {}\n  help: {}",
        .accounts.len(),
        list_ids(.accounts),
        .first.summary(),
        SYSTEMIC_DENIAL_HELP
    )]
    SystemicDenial {
        accounts: Vec<AccountId>,
        first: Box<Located>,
    },

    /// The apply was refused before anything was written (exit 3).
    #[error("{message}{}", help_suffix(.help))]
    Refused {
        message: String,
        help: Option<String>,
    },

    #[error("{message}{}", help_suffix(.help))]
    Usage {
        message: String,
        help: Option<String>,
    },

    #[error("{path} is not a plan file altcontacts can apply: {message}")]
    PlanFile { path: String, message: String },
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Refused { .. } => EXIT_REFUSED,
            _ => EXIT_ERROR,
        }
    }

    pub fn refused(message: impl Into<String>, help: impl Into<String>) -> Self {
        Error::Refused {
            message: message.into(),
            help: Some(help.into()),
        }
    }

    pub fn usage(message: impl Into<String>, help: Option<String>) -> Self {
        Error::Usage {
            message: message.into(),
            help,
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

fn help_suffix(help: &Option<String>) -> String {
    help.as_ref()
        .map_or_else(String::new, |help| format!("\n  help: {help}"))
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
    text.extend(
        distinct_help(errors)
            .into_iter()
            .map(|help| format!("  help: {help}")),
    );
    text.join("\n")
}
