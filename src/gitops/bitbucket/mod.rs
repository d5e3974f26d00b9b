//! The loop on Bitbucket Cloud: what a Pipelines step tells the tool
//! (workspace, repository, pull request), and what the tool keeps on
//! Bitbucket: one plan comment per pull request, a Code Insights report of
//! the plan (its counts, and the file's problems as annotations on their
//! lines), the record of applies as build statuses of the applied commit
//! and a repository variable naming the last one that fully succeeded, and
//! one issue while AWS drifts from the file, where the issue tracker is on.
//!
//! Pipelines gives a step no token for the API, so the API is reached with
//! a repository access token in `BITBUCKET_ACCESS_TOKEN`.

mod api;

use std::path::PathBuf;
use std::sync::Mutex;

use hyper::Method;
use serde_json::Value;

use crate::config::FileProblems;
use crate::error::Error;
use crate::forge::ForgeError;
use crate::forge::http::{Answer, Auth, Client, Failure, PER_PAGE, Paging};
use crate::git::Repository;
use crate::gitops::forge::Remark;
use crate::gitops::{Applying, Ended, Forge, RecordKey, Terms};
use crate::model::{AccountId, Timestamp, Warning};

const TERMS: Terms = Terms {
    forge: "Bitbucket",
    review: "pull request",
    review_sign: "#",
    note: "comment",
    // Bitbucket refuses a comment of 32,768 characters or more ("less than
    // 32768 characters"), an issue's text too.
    note_limit: 32_767,
    issue_limit: 32_767,
    run: "pipeline",
    full_history: "the step's `clone: depth: full`",
    enable_issues: "turn the issue tracker on (Repository settings > Features > Issues)",
};

/// The variable the token is read from.
pub const TOKEN_VARIABLE: &str = "BITBUCKET_ACCESS_TOKEN";
/// The API's address: the public service's unless a test or a proxy says.
const API_URL_VARIABLE: &str = "BITBUCKET_API_URL";
const DEFAULT_API_URL: &str = "https://api.bitbucket.org/2.0";

/// The scope of a repository access token a call needs: what an error
/// names when Bitbucket refuses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Comments on pull requests.
    PullRequestWrite,
    /// Build statuses and Code Insights reports of commits.
    RepositoryWrite,
    /// The repository variable that names the last applied commit.
    PipelineVariable,
    IssueWrite,
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Self::PullRequestWrite => "pullrequest:write",
            Self::RepositoryWrite => "repository:write",
            Self::PipelineVariable => "pipeline:variable",
            Self::IssueWrite => "issue:write",
        }
    }
}

/// What one call is for, so an error can say what failed and what the
/// token needs.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    pub method: &'a Method,
    /// An API path (`/repositories/...`) or a full URL (the next page).
    pub path: &'a str,
    /// What it does, for errors: "list the comments of pull request #12".
    pub action: &'a str,
    pub scope: Scope,
}

/// Bitbucket's paging: `pagelen=100`, a page is an object whose `values`
/// are the items and whose `next` is the next page's address.
struct ValuesPaging;

impl Paging for ValuesPaging {
    fn first(&self, path: &str) -> String {
        let separator = if path.contains('?') { '&' } else { '?' };
        format!("{path}{separator}pagelen={PER_PAGE}")
    }

    fn page(&self, answer: &Answer) -> Result<(Vec<Value>, Option<String>), Failure> {
        let mut page = answer.json()?;
        let items = match page["values"].take() {
            Value::Array(items) => items,
            _ => Vec::new(),
        };
        Ok((items, page["next"].as_str().map(str::to_owned)))
    }
}

/// What the Pipelines step says about itself, from the variables Bitbucket
/// sets in every step.
pub struct Bitbucket {
    /// `/repositories/WORKSPACE/SLUG`.
    repository: String,
    /// `workspace/slug`, for messages.
    full_name: String,
    pull_request: Option<u64>,
    destination_commit: Option<String>,
    destination_branch: Option<String>,
    /// The commit the step runs for, which Code Insights reports are of.
    commit: Option<String>,
    pipeline_url: Option<String>,
    /// Where the step's artifacts are collected from: the clone it runs in.
    clone_dir: PathBuf,
    has_token: bool,
    client: Client,
    /// The token's own user, for finding the step's own comments and issues.
    me: tokio::sync::OnceCell<String>,
    /// The file's warnings, annotated on the plan's report when it is made
    /// (a report replaced drops its annotations).
    warnings: Mutex<Vec<Warning>>,
    /// The commit being applied, whose build status the apply's end sets.
    applying: Mutex<Option<String>>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

impl Bitbucket {
    pub fn from_env() -> Result<Self, ForgeError> {
        let missing = |variable: &str| {
            ForgeError::setup(
                TERMS.forge,
                "tell which repository this step belongs to",
                format!("{variable} is not set"),
                Some(
                    "run this inside a Bitbucket Pipelines step, which sets it (or set it yourself)"
                        .to_owned(),
                ),
            )
        };
        let workspace = var("BITBUCKET_WORKSPACE").ok_or_else(|| missing("BITBUCKET_WORKSPACE"))?;
        let slug = var("BITBUCKET_REPO_SLUG").ok_or_else(|| missing("BITBUCKET_REPO_SLUG"))?;
        let token = var(TOKEN_VARIABLE);
        let api_url = var(API_URL_VARIABLE).unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        let client = Client::new(
            &api_url,
            token.as_deref().map_or(Auth::None, Auth::bearer),
            &[("accept", "application/json")],
            ValuesPaging,
        )
        .map_err(|problem| {
            ForgeError::setup(
                TERMS.forge,
                "set up the connection to Bitbucket",
                problem,
                None,
            )
        })?;
        let pipeline_url = match (
            var("BITBUCKET_GIT_HTTP_ORIGIN"),
            var("BITBUCKET_BUILD_NUMBER"),
        ) {
            (Some(origin), Some(number)) => Some(format!("{origin}/pipelines/results/{number}")),
            _ => None,
        };
        Ok(Self {
            repository: format!(
                "/repositories/{}/{}",
                crate::forge::http::encode(&workspace),
                crate::forge::http::encode(&slug)
            ),
            full_name: format!("{workspace}/{slug}"),
            pull_request: var("BITBUCKET_PR_ID").and_then(|id| id.parse().ok()),
            destination_commit: var("BITBUCKET_PR_DESTINATION_COMMIT"),
            destination_branch: var("BITBUCKET_PR_DESTINATION_BRANCH"),
            commit: var("BITBUCKET_COMMIT"),
            pipeline_url,
            clone_dir: var("BITBUCKET_CLONE_DIR").map_or_else(|| PathBuf::from("."), PathBuf::from),
            has_token: token.is_some(),
            client,
            me: tokio::sync::OnceCell::new(),
            warnings: Mutex::new(Vec::new()),
            applying: Mutex::new(None),
        })
    }

    /// `/repositories/WORKSPACE/SLUG` followed by `path`.
    fn repo_path(&self, path: &str) -> String {
        format!("{}{path}", self.repository)
    }

    /// What to do about a token Bitbucket refused, in Bitbucket's terms.
    fn token_help(&self, status: u16, scope: Scope) -> Option<String> {
        let remedy = format!(
            "{TOKEN_VARIABLE} must hold a repository access token of {} with the scopes pullrequest:write, repository:write, pipeline:variable and issue:write (Repository settings > Security > Access tokens), saved as a secured repository variable",
            self.full_name
        );
        match status {
            401 => Some(format!(
                "{TOKEN_VARIABLE} was refused: it may have expired or been revoked. {remedy}"
            )),
            403 => Some(format!(
                "the token in {TOKEN_VARIABLE} lacks the `{}` scope. {remedy}",
                scope.name()
            )),
            404 => Some(format!(
                "the token in {TOKEN_VARIABLE} may not belong to {} (Bitbucket answers 404 to a token that cannot see a repository). {remedy}",
                self.full_name
            )),
            _ => None,
        }
    }

    fn error(&self, call: Call<'_>, failure: Failure) -> Error {
        ForgeError::failed(
            TERMS.forge,
            call.action,
            failure,
            |status| self.token_help(status, call.scope),
            &format!("check {API_URL_VARIABLE} (if set) and the step's network"),
        )
        .into()
    }

    /// Refuses a call without a token before it is sent, naming the variable.
    fn need_token(&self, call: Call<'_>) -> Result<(), Error> {
        if self.has_token {
            return Ok(());
        }
        Err(ForgeError::setup(
            TERMS.forge,
            call.action,
            format!("{TOKEN_VARIABLE} is not set"),
            Some(format!(
                "Pipelines gives a step no token for the API: create a repository access token with the scopes pullrequest:write, repository:write, pipeline:variable and issue:write, and save it as the secured repository variable {TOKEN_VARIABLE}"
            )),
        )
        .into())
    }

    /// One call's JSON.
    async fn json(&self, call: Call<'_>, body: Option<&Value>) -> Result<Value, Error> {
        self.need_token(call)?;
        self.client
            .json(call.method, call.path, body)
            .await
            .map_err(|failure| self.error(call, failure))
    }

    /// Every item of a list, on every page.
    async fn all_pages(&self, call: Call<'_>) -> Result<Vec<Value>, Error> {
        self.need_token(call)?;
        self.client
            .all_pages(call.path)
            .await
            .map_err(|failure| self.error(call, failure))
    }

    /// The UUID of the token's user (a repository access token has a bot
    /// user of its own).
    async fn me(&self) -> Result<&str, Error> {
        self.me
            .get_or_try_init(|| async {
                let call = Call {
                    method: &Method::GET,
                    path: "/user",
                    action: "learn which user the token belongs to",
                    scope: Scope::PullRequestWrite,
                };
                let user = self.json(call, None).await?;
                user["uuid"].as_str().map(str::to_owned).ok_or_else(|| {
                    ForgeError::setup(
                        TERMS.forge,
                        call.action,
                        "the answer has no user uuid".to_owned(),
                        None,
                    )
                    .into()
                })
            })
            .await
            .map(String::as_str)
    }

    fn artifacts(&self, artifact: &str) -> PathBuf {
        self.clone_dir.join(artifact)
    }
}

impl Forge for Bitbucket {
    fn terms(&self) -> &'static Terms {
        &TERMS
    }

    fn review(&self) -> Option<u64> {
        self.pull_request
    }

    /// The destination's commit as the pull request's pipeline saw it,
    /// else the destination branch as fetched.
    fn review_base(&self, _repository: &Repository) -> Result<Option<String>, Error> {
        Ok(self.destination_commit.clone().or_else(|| {
            self.destination_branch
                .as_ref()
                .map(|branch| format!("origin/{branch}"))
        }))
    }

    fn run_link(&self) -> String {
        match &self.pipeline_url {
            Some(url) => format!("[this pipeline]({url})"),
            None => "this pipeline".to_owned(),
        }
    }

    async fn notes(&self, review: u64) -> Result<Vec<Remark>, Error> {
        api::comments(self, review).await
    }

    async fn add_note(&self, review: u64, body: &str) -> Result<u64, Error> {
        api::add_comment(self, review, body).await
    }

    async fn edit_note(&self, review: u64, id: u64, body: &str) -> Result<(), Error> {
        api::edit_comment(self, review, id, body).await
    }

    async fn last_applied(&self, record: &RecordKey) -> Result<Option<String>, Error> {
        api::last_applied(self, record).await
    }

    async fn accounts_applied(
        &self,
        record: &RecordKey,
        commit: &str,
        since: Timestamp,
    ) -> Result<std::collections::BTreeSet<AccountId>, Error> {
        api::accounts_applied(self, record, commit, since).await
    }

    async fn begin_apply(&self, record: &RecordKey, commit: &str) -> Result<Applying, Error> {
        api::set_status(self, record, commit, "INPROGRESS", "applying").await?;
        *self.applying.lock().unwrap_or_else(|e| e.into_inner()) = Some(commit.to_owned());
        Ok(Applying(0))
    }

    async fn finish_apply(
        &self,
        record: &RecordKey,
        _applying: Applying,
        ended: Ended,
        description: &str,
    ) -> Result<(), Error> {
        let commit = self
            .applying
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some(commit) = commit else {
            return Ok(());
        };
        api::finish_apply(self, record, &commit, ended, description).await
    }

    async fn open_issues(&self, _label: &str) -> Result<Option<Vec<Remark>>, Error> {
        api::open_issues(self).await
    }

    async fn create_issue(&self, _label: &str, title: &str, body: &str) -> Result<u64, Error> {
        api::create_issue(self, title, body).await
    }

    async fn update_issue(&self, number: u64, title: &str, body: &str) -> Result<(), Error> {
        api::update_issue(self, number, title, body).await
    }

    async fn comment_on_issue(&self, number: u64, text: &str) -> Result<(), Error> {
        api::comment_on_issue(self, number, text).await
    }

    async fn close_issue(&self, number: u64) -> Result<(), Error> {
        api::resolve_issue(self, number).await
    }

    fn full_plan_place(&self, artifact: &str) -> String {
        format!(
            "`{artifact}/plan.md` in the artifacts of {}",
            self.run_link()
        )
    }

    /// Only when a comment left changes out: the artifact holds names,
    /// emails and phone numbers, kept no longer than it must be.
    fn keep_full_plan(&self, artifact: &str, markdown: &str, cut: bool) -> Result<(), Error> {
        if !cut {
            return Ok(());
        }
        Ok(crate::forge::write(
            &self.artifacts(artifact).join("plan.md"),
            markdown,
        )?)
    }

    /// A failed Code Insights report of the commit, each problem annotated
    /// on its line of the pull request.
    async fn report_problems(
        &self,
        artifact: Option<&str>,
        problems: &FileProblems,
    ) -> Result<(), Error> {
        if artifact.is_none() {
            return Ok(());
        }
        let details = format!(
            "{} is invalid: {}, so there is no plan.",
            problems.file,
            crate::model::count(problems.problems.len(), "problem")
        );
        api::report(self, &details, None, &super::on_lines::problems(problems)).await
    }

    /// Kept for the plan's report, which carries them.
    async fn report_warnings(
        &self,
        artifact: Option<&str>,
        warnings: &[Warning],
    ) -> Result<(), Error> {
        if artifact.is_some() {
            *self.warnings.lock().unwrap_or_else(|e| e.into_inner()) = warnings.to_vec();
        }
        Ok(())
    }

    /// The plan's Code Insights report: its counts (nothing of the
    /// contacts), and the file's warnings on their lines.
    async fn report_counts(
        &self,
        _artifact: &str,
        summary: &crate::plan::Summary,
    ) -> Result<(), Error> {
        let warnings =
            std::mem::take(&mut *self.warnings.lock().unwrap_or_else(|e| e.into_inner()));
        api::report(
            self,
            "What merging this pull request changes in AWS.",
            Some(summary),
            &super::on_lines::warnings(&warnings),
        )
        .await
    }
}
