//! Which records of applies the loop believes. A record says "this commit
//! was applied": believed blindly, anyone who can write one (a collaborator
//! with the forge's deployments, a branch's pipeline holding the token)
//! could make a merged change be skipped. The loop honours a record only
//! when the pipeline's own identity wrote it and its commit is on the
//! default branch; every other one is named, with its author and commit,
//! and passed over.

use hmac::{KeyInit, Mac};

use crate::error::Error;
use crate::forge::ForgeError;
use crate::git::Repository;
use crate::progress::Ui;
use crate::render::markdown::code;

pub use super::forge::Recorded;

/// What a record is weighed against: the repository's history, the
/// default branch's tip in it, and where to say why one is passed over.
pub struct Judge<'a> {
    repository: &'a Repository,
    /// The records passed over, for the run's summary: where a reviewer
    /// of the run sees them, not only its log.
    passed_over: std::sync::Mutex<Vec<String>>,
    /// `refs/remotes/origin/BRANCH` when the clone has it.
    default_tip: Option<String>,
    default_branch: String,
    ui: &'a Ui,
}

/// Why a record is passed over.
enum Doubt {
    NotThePipeline,
    OffTheDefaultBranch,
}

impl<'a> Judge<'a> {
    /// A judge of records against `repository`'s history, which must be
    /// whole: in a shallow clone an honest record looks like a stranger.
    pub fn new(
        repository: &'a Repository,
        default_branch: String,
        full_history: &str,
        ui: &'a Ui,
    ) -> Result<Self, Error> {
        if repository.is_shallow()? {
            return Err(Error::usage(
                "this clone holds part of the history only, so the record of the last apply cannot be checked against the default branch".to_owned(),
                Some(format!("check out the whole history ({full_history})")),
            ));
        }
        let default_tip = repository
            .commit(&format!("refs/remotes/origin/{default_branch}"))
            .ok();
        Ok(Self {
            repository,
            passed_over: std::sync::Mutex::default(),
            default_tip,
            default_branch,
            ui,
        })
    }

    /// Whether `recorded` is believed; when it is not, says so.
    pub fn honours(&self, recorded: &Recorded) -> bool {
        let doubt = if !recorded.by_pipeline {
            Some(Doubt::NotThePipeline)
        } else if !self.on_default_branch(&recorded.commit) {
            Some(Doubt::OffTheDefaultBranch)
        } else {
            None
        };
        let Some(doubt) = doubt else {
            return true;
        };
        let why = match doubt {
            Doubt::NotThePipeline => "it was not written by the pipeline's own identity".to_owned(),
            Doubt::OffTheDefaultBranch => format!(
                "its commit is not on the default branch ({})",
                self.default_branch
            ),
        };
        self.ui.note(&format!(
            "note: ignoring the apply recorded as {} by {} at {}: {why}.",
            recorded.name, recorded.author, recorded.commit
        ));
        self.passed_over
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(format!(
                "- {} by {} at {}: {why}\n",
                code(&recorded.name),
                code(&recorded.author),
                code(&recorded.commit)
            ));
        false
    }

    /// The records passed over so far, as a Markdown section; empty when
    /// every one read was believed.
    pub fn summary(&self) -> String {
        let passed_over = self.passed_over.lock().unwrap_or_else(|e| e.into_inner());
        if passed_over.is_empty() {
            return String::new();
        }
        format!(
            "### altcontacts: records of applies not believed\n\nOnly a record the pipeline wrote, of a commit on the default branch, is a base for the next apply; these were passed over:\n\n{}\n",
            passed_over.concat()
        )
    }

    /// Whether `commit` is in the default branch's history: an ancestor of
    /// its tip as fetched, or of the commit this run is for (which the
    /// pipeline runs for the default branch only).
    fn on_default_branch(&self, commit: &str) -> bool {
        let Ok(commit) = self.repository.commit(commit) else {
            return false;
        };
        let reaches = |tip: &str| self.repository.is_ancestor(&commit, tip).unwrap_or(false);
        self.default_tip.as_deref().is_some_and(reaches) || reaches("HEAD")
    }
}

/// The commit of the newest apply that fully succeeded and is believed.
pub async fn last_honoured<F: super::Forge>(
    forge: &F,
    record: &super::RecordKey,
    judge: &Judge<'_>,
) -> Result<Option<String>, Error> {
    let honours = |recorded: &Recorded| judge.honours(recorded);
    Ok(forge
        .last_applied(record, &honours)
        .await?
        .map(|recorded| recorded.commit))
}

/// The variable of the key the pipeline seals its records with: a secret
/// only the default branch's jobs hold (on GitHub, a secret of the
/// environment its apply jobs run in). Where the forge lets any branch's
/// job write a record as the pipeline (GitHub's job token), the seal is
/// what tells the pipeline's own.
pub const RECORD_KEY_VARIABLE: &str = "ALTCONTACTS_RECORD_KEY";

/// What seals a record, when the pipeline has a key. Never printed.
pub struct Sealer(Option<Vec<u8>>);

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Sealer(key)"
        } else {
            "Sealer(none)"
        })
    }
}

impl Sealer {
    /// The key in the environment: set but empty (a secret that did not
    /// resolve, e.g. a job outside the environment that holds it) is an
    /// error, not "no key".
    pub fn from_env(forge: &'static str) -> Result<Self, ForgeError> {
        match std::env::var_os(RECORD_KEY_VARIABLE) {
            None => Ok(Self(None)),
            Some(key) if key.is_empty() => Err(ForgeError::setup(
                forge,
                "seal the record of applies",
                format!("{RECORD_KEY_VARIABLE} is set but empty"),
                Some(format!(
                    "define the secret the workflow passes as {RECORD_KEY_VARIABLE} in the environment its job runs in (docs/iam.md)"
                )),
            )),
            Some(key) => Ok(Self(Some(key.as_encoded_bytes().to_vec()))),
        }
    }

    /// No key: every record goes unsealed, and none is asked for a seal.
    #[cfg(test)]
    pub fn none() -> Self {
        Self(None)
    }

    /// The seal of `record`'s apply of `commit`, when there is a key.
    pub fn seal(&self, record: &super::RecordKey, commit: &str) -> Option<String> {
        let mac = self.mac(record, commit)?;
        Some(hex::encode(mac.finalize().into_bytes()))
    }

    /// Whether `seal` is `record`'s at `commit`: always, without a key.
    pub fn holds(&self, record: &super::RecordKey, commit: &str, seal: Option<&str>) -> bool {
        let Some(mac) = self.mac(record, commit) else {
            return true;
        };
        seal.and_then(|seal| hex::decode(seal).ok())
            .is_some_and(|seal| mac.verify_slice(&seal).is_ok())
    }

    /// The MAC, keyed when there is a key, of what a seal binds: the record
    /// (environment, file, account) and the commit, so a seal is good for
    /// its own record only.
    fn mac(&self, record: &super::RecordKey, commit: &str) -> Option<hmac::Hmac<sha2::Sha256>> {
        let key = self.0.as_ref()?;
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes keys of any size");
        let account = record
            .account
            .as_ref()
            .map_or("", |account| account.as_str());
        mac.update(
            format!(
                "altcontacts record\n{}\n{}\n{account}\n{commit}",
                record.environment, record.file
            )
            .as_bytes(),
        );
        Some(mac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitops::RecordKey;

    #[test]
    fn a_seal_holds_for_its_own_record_and_commit_only() {
        let sealer = Sealer(Some(b"k".to_vec()));
        let record = RecordKey {
            environment: "altcontacts".into(),
            file: "contacts.yaml".into(),
            account: None,
        };
        let seal = sealer.seal(&record, "abc").unwrap();
        assert!(sealer.holds(&record, "abc", Some(&seal)));
        assert!(!sealer.holds(&record, "abd", Some(&seal)));
        assert!(!sealer.holds(&record, "abc", None));
        let other = RecordKey {
            file: "other.yaml".into(),
            ..record.clone()
        };
        assert!(!sealer.holds(&other, "abc", Some(&seal)));
        assert!(!Sealer(Some(b"j".to_vec())).holds(&record, "abc", Some(&seal)));
        assert!(
            Sealer(None).holds(&record, "abc", None),
            "no key, no seal asked"
        );
    }
}
