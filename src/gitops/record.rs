//! Which records of applies the loop believes. A record says "this commit
//! was applied": believed blindly, anyone who can write one (a collaborator
//! with the forge's deployments, a branch's pipeline holding the token)
//! could make a merged change be skipped. The loop honours a record only
//! when the pipeline's own identity wrote it and its commit is on the
//! default branch; every other one is named, with its author and commit,
//! and passed over.

use crate::error::Error;
use crate::git::Repository;
use crate::progress::Ui;
use crate::render::markdown_code as code;

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
