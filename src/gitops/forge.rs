//! What the loop asks of a forge, and what the rest of the tool does. The
//! loop decides (`gitops`); an adapter only speaks its forge's API and its
//! CI's files ([`Forge`]). Beside it, each forge's [`ForgeKind`] says how
//! the command line names it and how its CI, its loop and its event path
//! are set up; `registry` lists them. A fourth forge (Gitea, Azure DevOps)
//! is one more of each.

use std::future::Future;
use std::pin::Pin;

use crate::cli::{EventsArgs, EventsFlags, EventsTarget, LoopCommand};
use crate::config::FileProblems;
use crate::error::Error;
use crate::event_rule::Destination;
use crate::git::Repository;
use crate::model::{AccountId, Timestamp, Warning};
use crate::plan::Summary;
use crate::session::Context;

/// How a forge names things, and the sizes it accepts.
#[derive(Clone, Copy, Debug)]
pub struct Terms {
    /// "GitHub", "GitLab".
    pub forge: &'static str,
    /// What a proposed change is called: "pull request", "merge request".
    pub review: &'static str,
    /// How a review is referred to by number: `#` (GitHub), `!` (GitLab).
    pub review_sign: &'static str,
    /// What a remark on a review or an issue is called: "comment", "note".
    pub note: &'static str,
    /// The most characters a note may hold.
    pub note_limit: usize,
    /// The most characters an issue's text may hold.
    pub issue_limit: usize,
    /// What one execution of the CI is called: "run", "job".
    pub run: &'static str,
    /// How a job fetches the whole history, in its CI's words.
    pub full_history: &'static str,
    /// How a repository without issues gets them, in the forge's words.
    pub enable_issues: &'static str,
}

/// The record of applies of one contacts file: where an apply that fully
/// succeeded is kept, so the next one bases itself on it. With an account,
/// the record of that account's own applies (an event's run, `--account`),
/// which never stand for the whole file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordKey {
    /// The deployment environment (`--environment`).
    pub environment: String,
    /// The contacts file as the repository names it.
    pub file: String,
    pub account: Option<AccountId>,
}

impl RecordKey {
    /// The record of `account`'s own applies of the same file.
    pub fn of_account(&self, account: &AccountId) -> Self {
        Self {
            account: Some(account.clone()),
            ..self.clone()
        }
    }
}

/// An apply being recorded, by the forge's own identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applying(pub u64);

/// An apply the forge recorded as fully succeeded, as the loop weighs it
/// before basing itself on it (`gitops::record`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The record, in the forge's words: "deployment 17".
    pub name: String,
    pub commit: String,
    /// Who wrote it, in the forge's words.
    pub author: String,
    /// Whether that is the pipeline's own identity: the user the loop's
    /// token writes as, or the default branch's own pipeline.
    pub by_pipeline: bool,
}

/// Which records the loop believes: `gitops::record::Judge::honours`.
pub type Honours<'a> = &'a (dyn Fn(&Recorded) -> bool + Sync);

/// How an apply ended, as recorded: only `Succeeded` is a base for the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    Succeeded,
    Failed,
    /// Cancelled (SIGINT, SIGTERM) before it could finish.
    Interrupted,
}

/// A note on a review, or an issue, as the loop looks for its own: its
/// identifier (an issue's number), who wrote it, and its text (an issue's
/// description).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remark {
    pub id: u64,
    pub whose: Whose,
    pub text: String,
}

/// Who wrote a remark, as far as the loop can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whose {
    /// The token's own user.
    Mine,
    Others,
    /// The forge will not say who the token is (a Bitbucket repository
    /// access token cannot ask `/user`): only an edit can tell, since a
    /// forge lets a user edit their own notes alone.
    Unknown,
}

impl Whose {
    /// `Mine` or `Others`, by whether `author` is `me`; `Unknown` without `me`.
    pub fn of<T: PartialEq>(author: Option<T>, me: Option<T>) -> Self {
        match (author, me) {
            (_, None) => Self::Unknown,
            (Some(author), Some(me)) if author == me => Self::Mine,
            _ => Self::Others,
        }
    }
}

/// Why the drift issue cannot be kept here, and what would let it be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoIssues {
    pub why: String,
    pub remedy: String,
}

impl NoIssues {
    /// The repository has its issues turned off.
    pub fn turned_off(terms: &Terms) -> Self {
        Self {
            why: "this repository keeps no issues".to_owned(),
            remedy: terms.enable_issues.to_owned(),
        }
    }
}

/// Whether the plan's note was made or edited, by its identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upserted {
    Created(u64),
    Updated(u64),
}

/// One forge and its CI: the API calls the loop needs, and the files a job
/// leaves for the CI to read.
pub trait Forge: Sync {
    fn terms(&self) -> &'static Terms;

    /// The review this run is for, if it is for one.
    fn review(&self) -> Option<u64>;

    /// The revision a review's plan is based on, as the CI tells it; `None`
    /// when it does not (every managed contact is then planned).
    fn review_base(&self, repository: &Repository) -> Result<Option<String>, Error>;

    /// A Markdown link to this run or job, where its log and files are.
    fn run_link(&self) -> String;

    /// The review's notes written by people (not the forge's own), on
    /// every page, oldest first.
    fn notes(&self, review: u64) -> impl Future<Output = Result<Vec<Remark>, Error>> + Send;

    /// Adds a note to the review; its identifier.
    fn add_note(&self, review: u64, body: &str) -> impl Future<Output = Result<u64, Error>> + Send;

    /// Replaces the text of the review's note `id`.
    fn edit_note(
        &self,
        review: u64,
        id: u64,
        body: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// The repository's default branch, as the forge names it: records of
    /// commits outside its history are not believed.
    fn default_branch(&self) -> impl Future<Output = Result<String, Error>> + Send;

    /// The newest apply that fully succeeded among those `honours` accepts,
    /// the records read newest first.
    fn last_applied(
        &self,
        record: &RecordKey,
        honours: Honours<'_>,
    ) -> impl Future<Output = Result<Option<Recorded>, Error>> + Send;

    /// The accounts whose own apply of `commit` (an event's run, recorded
    /// under [`RecordKey::of_account`]) fully succeeded after `since`, each
    /// with its record.
    fn accounts_applied(
        &self,
        record: &RecordKey,
        commit: &str,
        since: Timestamp,
    ) -> impl Future<Output = Result<Vec<(AccountId, Recorded)>, Error>> + Send;

    /// Records that this job starts applying `commit`.
    fn begin_apply(
        &self,
        record: &RecordKey,
        commit: &str,
    ) -> impl Future<Output = Result<Applying, Error>> + Send;

    /// Records how the apply ended.
    fn finish_apply(
        &self,
        record: &RecordKey,
        applying: Applying,
        ended: Ended,
        description: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// The open issues labelled `label` (not reviews), on every page; or
    /// why none can be kept (issues turned off, a token that cannot hold
    /// the scope).
    fn open_issues(
        &self,
        label: &str,
    ) -> impl Future<Output = Result<Result<Vec<Remark>, NoIssues>, Error>> + Send;

    /// Opens an issue labelled `label`; its number.
    fn create_issue(
        &self,
        label: &str,
        title: &str,
        body: &str,
    ) -> impl Future<Output = Result<u64, Error>> + Send;

    /// Replaces the issue's title and text.
    fn update_issue(
        &self,
        number: u64,
        title: &str,
        body: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Adds a note to the issue.
    fn comment_on_issue(
        &self,
        number: u64,
        text: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Closes the issue, as done.
    fn close_issue(&self, number: u64) -> impl Future<Output = Result<(), Error>> + Send;

    /// Where the full plan is kept when a note cannot hold it, in Markdown.
    fn full_plan_place(&self, artifact: &str) -> String;

    /// Keeps the full plan for the CI to store (`cut`: a note or a summary
    /// left changes out).
    fn keep_full_plan(&self, artifact: &str, markdown: &str, cut: bool) -> Result<(), Error>;

    /// The problems of an invalid contacts file, on their lines of the
    /// review; `artifact` is where a review's files are kept (`None` outside
    /// a review).
    fn report_problems(
        &self,
        artifact: Option<&str>,
        problems: &FileProblems,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// The file's warnings, on their lines of the review.
    fn report_warnings(
        &self,
        artifact: Option<&str>,
        warnings: &[Warning],
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// The plan's counts, for a CI that shows them beside the review.
    fn report_counts(
        &self,
        _artifact: &str,
        _summary: &Summary,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        async { Ok(()) }
    }

    /// Bytes the job's summary page can still take; 0 for a CI without one.
    fn summary_room(&self) -> usize {
        0
    }

    /// Adds to the job's summary page; `text` fits [`Forge::summary_room`].
    fn add_to_summary(&self, _text: &str) -> Result<(), Error> {
        Ok(())
    }

    /// Sets the step's outputs, for a CI whose later steps read them.
    fn set_outputs(&self, _outputs: &[(&str, String)]) -> Result<(), Error> {
        Ok(())
    }
}

/// What a forge is to the rest of the tool.
#[derive(Debug)]
pub struct ForgeKind {
    /// As the command line spells it: `altcontacts NAME plan`,
    /// `events --forge NAME`.
    pub name: &'static str,
    /// As a sentence writes it: "GitHub".
    pub title: &'static str,
    /// What `altcontacts NAME` runs, in its CI's words.
    pub about: &'static str,
    /// The variables its CI names a run or job by: the AWS session's name
    /// carries it, so CloudTrail ties each write to its run.
    pub run_ids: &'static [&'static str],
    /// How an event starts its pipeline, where a call can.
    pub events: Option<Events>,
    /// One step of the loop, the forge read from its CI's environment.
    pub run: for<'a> fn(&'a Context, &'a LoopCommand) -> Running<'a>,
}

/// A step of the loop under way; its exit code.
pub type Running<'a> = Pin<Box<dyn Future<Output = Result<u8, Error>> + 'a>>;

/// How `altcontacts events` starts a forge's pipeline.
#[derive(Debug)]
pub struct Events {
    pub flags: EventsFlags,
    /// The destination the flags name, each checked.
    pub destination: fn(&Named) -> Result<Box<dyn Destination>, Error>,
}

/// What `events`' flags name.
pub struct Named<'a> {
    /// `--api-url`, if given.
    pub api: Option<&'a str>,
    /// The repository or the project, as [`EventsFlags::target`] says.
    pub target: &'a str,
    /// `--ref`.
    pub git_ref: &'a str,
}

impl ForgeKind {
    /// The destination `events`' flags name for this forge.
    pub fn destination(
        &self,
        args: &EventsArgs<&'static ForgeKind>,
    ) -> Result<Box<dyn Destination>, Error> {
        let Some(events) = &self.events else {
            return Err(Error::usage(
                format!("--forge {}: no call starts its pipelines", self.name),
                None,
            ));
        };
        let target = match events.flags.target {
            EventsTarget::Repository => &args.repository,
            EventsTarget::Project => &args.project,
        };
        let Some(target) = target else {
            return Err(Error::usage(
                format!(
                    "--forge {} needs {} {}",
                    self.name,
                    events.flags.target.flag(),
                    events.flags.form
                ),
                None,
            ));
        };
        (events.destination)(&Named {
            api: args.api_url.as_deref(),
            target,
            git_ref: &args.git_ref,
        })
    }
}

/// What every forge's destination tests ask of it: the destination of what
/// a user names, its template, and what a rule of it sends.
#[cfg(test)]
pub(crate) mod destination_tests {
    use serde_json::Value;

    use super::Named;
    use crate::error::Error;
    use crate::event_rule::{Destination, template};

    /// The account the rules' bodies are read with.
    pub const ACCOUNT: &str = "123456789012";

    /// `make`'s destination for the `--api-url`, the target and `--ref` given.
    pub fn named(
        make: fn(&Named) -> Result<Box<dyn Destination>, Error>,
        api: Option<&str>,
        target: &str,
        git_ref: &str,
    ) -> Result<Box<dyn Destination>, Error> {
        make(&Named {
            api,
            target,
            git_ref,
        })
    }

    /// The destination's template, parsed.
    pub fn parsed(destination: &dyn Destination) -> Value {
        serde_json::from_str(&template(destination)).expect("the template is JSON")
    }

    /// The body `rule` sends for an event of [`ACCOUNT`], its input
    /// template filled as EventBridge fills it.
    pub fn body(template: &Value, rule: &str) -> Value {
        let transformer =
            &template["Resources"][rule]["Properties"]["Targets"][0]["InputTransformer"];
        let text = transformer["InputTemplate"]
            .as_str()
            .expect("an input template")
            .replace("<account>", ACCOUNT);
        serde_json::from_str(&text).expect("the body is JSON")
    }
}
