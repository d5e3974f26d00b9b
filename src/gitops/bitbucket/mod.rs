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
mod kind;

use std::path::PathBuf;
use std::sync::Mutex;

use hyper::Method;
use serde_json::Value;

use crate::error::Error;
use crate::forge::ForgeError;
use crate::forge::api::{Api, Call, Words};
use crate::forge::http::{Answer, Auth, Client, Failure, PER_PAGE, Paging, encode};
use crate::gitops::Terms;
use crate::model::Warning;
pub(crate) use kind::KIND;

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
/// The API's address: the public service's unless a proxy (or a test) says.
const API_URL_VARIABLE: &str = "BITBUCKET_API_URL";
/// The public service's API.
const API: &str = "https://api.bitbucket.org/2.0";
/// What the loop's token must hold: a repository access token can. The
/// drift issue needs `issue:write` besides, which only another kind of
/// token holds (`api::open_issues` says so when it is missing).
const SCOPES: &str = "pullrequest:write, repository:write and pipeline:variable";

/// The scope of a repository access token a call needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Comments on pull requests.
    PullRequestWrite,
    /// Build statuses and Code Insights reports of commits.
    RepositoryWrite,
    /// The repository variable that names the last applied commit.
    PipelineVariable,
    /// Reading pipelines and their steps: whose step wrote a record.
    Pipeline,
    /// Reading the repository: its main branch.
    Repository,
    IssueWrite,
    /// Who the token is (`/user`), which a repository access token cannot ask.
    Account,
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Self::PullRequestWrite => "pullrequest:write",
            Self::RepositoryWrite => "repository:write",
            Self::PipelineVariable => "pipeline:variable",
            Self::Pipeline => "pipeline",
            Self::Repository => "repository",
            Self::IssueWrite => "issue:write",
            Self::Account => "account",
        }
    }
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

/// What Bitbucket's refusals mean, for `workspace/slug`.
struct BitbucketWords {
    full_name: String,
    has_token: bool,
}

impl Words for BitbucketWords {
    type Needs = Scope;

    fn forge(&self) -> &'static str {
        TERMS.forge
    }

    fn refused(&self, status: u16, _says: &str, scope: Scope) -> Option<String> {
        let remedy = format!(
            "{TOKEN_VARIABLE} must hold a repository access token of {} with the scopes {SCOPES} (Repository settings > Security > Access tokens), saved as a secured repository variable",
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

    fn unreachable(&self) -> String {
        format!("check {API_URL_VARIABLE} (if set) and the step's network")
    }

    fn no_token(&self) -> Option<(String, String)> {
        (!self.has_token).then(|| {
            (
                format!("{TOKEN_VARIABLE} is not set"),
                format!(
                    "Pipelines gives a step no token for the API: create a repository access token with the scopes {SCOPES}, and save it as the secured repository variable {TOKEN_VARIABLE}"
                ),
            )
        })
    }
}

/// What the Pipelines step says about itself, from the variables Bitbucket
/// sets in every step.
pub struct Bitbucket {
    api: Api<BitbucketWords>,
    /// `/repositories/WORKSPACE/SLUG`.
    repository: String,
    pull_request: Option<u64>,
    destination_commit: Option<String>,
    destination_branch: Option<String>,
    /// The commit the step runs for, which Code Insights reports are of.
    commit: Option<String>,
    pipeline_url: Option<String>,
    /// Where the step's artifacts are collected from: the clone it runs in.
    clone_dir: PathBuf,
    /// The token's own user, for finding the step's own comments and
    /// issues, when Bitbucket says it.
    me: tokio::sync::OnceCell<Option<String>>,
    /// The file's warnings, annotated on the plan's report when it is made
    /// (a report replaced drops its annotations).
    warnings: Mutex<Vec<Warning>>,
    /// The commit being applied, whose build status the apply's end sets.
    applying: Mutex<Option<String>>,
    /// The pipeline and step this runs in, which the records it writes
    /// name (`BITBUCKET_PIPELINE_UUID`, `BITBUCKET_STEP_UUID`).
    step: Option<(String, String)>,
    /// The repository's main branch, read once.
    main_branch: tokio::sync::OnceCell<String>,
}

/// A call, for what `action` says, needing `needs`.
fn call<'a>(method: &'a Method, path: &'a str, action: &'a str, needs: Scope) -> Call<'a, Scope> {
    Call {
        method,
        path,
        action,
        needs,
    }
}

use crate::settings::env_var as var;

fn take<T>(cell: &Mutex<T>) -> T
where
    T: Default,
{
    std::mem::take(&mut *cell.lock().unwrap_or_else(|e| e.into_inner()))
}

impl Bitbucket {
    pub fn from_env() -> Result<Self, ForgeError> {
        let setup = |action: &str, problem: String, help: Option<String>| {
            ForgeError::setup(TERMS.forge, action, problem, help)
        };
        let missing = |variable: &str| {
            let help =
                "run this inside a Bitbucket Pipelines step, which sets it (or set it yourself)";
            setup(
                "tell which repository this step belongs to",
                format!("{variable} is not set"),
                Some(help.to_owned()),
            )
        };
        let workspace = var("BITBUCKET_WORKSPACE").ok_or_else(|| missing("BITBUCKET_WORKSPACE"))?;
        let slug = var("BITBUCKET_REPO_SLUG").ok_or_else(|| missing("BITBUCKET_REPO_SLUG"))?;
        let token = var(TOKEN_VARIABLE);
        let client = Client::new(
            &var(API_URL_VARIABLE).unwrap_or_else(|| API.to_owned()),
            token.as_deref().map_or(Auth::None, Auth::bearer),
            &[("accept", "application/json")],
            ValuesPaging,
        )
        .map_err(|problem| setup("set up the connection to Bitbucket", problem, None))?;
        let pipeline_url = var("BITBUCKET_GIT_HTTP_ORIGIN")
            .zip(var("BITBUCKET_BUILD_NUMBER"))
            .map(|(origin, number)| format!("{origin}/pipelines/results/{number}"));
        Ok(Self {
            api: Api {
                client,
                words: BitbucketWords {
                    full_name: format!("{workspace}/{slug}"),
                    has_token: token.is_some(),
                },
            },
            repository: format!("/repositories/{}/{}", encode(&workspace), encode(&slug)),
            pull_request: var("BITBUCKET_PR_ID").and_then(|id| id.parse().ok()),
            destination_commit: var("BITBUCKET_PR_DESTINATION_COMMIT"),
            destination_branch: var("BITBUCKET_PR_DESTINATION_BRANCH"),
            commit: var("BITBUCKET_COMMIT"),
            pipeline_url,
            clone_dir: var("BITBUCKET_CLONE_DIR").map_or_else(|| PathBuf::from("."), PathBuf::from),
            me: tokio::sync::OnceCell::new(),
            warnings: Mutex::new(Vec::new()),
            applying: Mutex::new(None),
            step: var("BITBUCKET_PIPELINE_UUID").zip(var("BITBUCKET_STEP_UUID")),
            main_branch: tokio::sync::OnceCell::new(),
        })
    }

    fn repo_path(&self, path: &str) -> String {
        format!("{}{path}", self.repository)
    }

    /// The UUID of the token's user, when Bitbucket says it: a repository
    /// access token has a bot user of its own but cannot ask `/user`
    /// (which needs the `account` scope such a token cannot hold); then
    /// the loop knows its comments by whether it may edit them.
    async fn me(&self) -> Result<Option<&str>, Error> {
        self.me
            .get_or_try_init(|| async {
                let action = "learn which user the token belongs to";
                let call = call(&Method::GET, "/user", action, Scope::Account);
                let refused = |status, _: &str| matches!(status, 401 | 403);
                let Some(user) = self.api.json_if(call, refused).await? else {
                    return Ok(None);
                };
                let uuid = user["uuid"].as_str().map(str::to_owned);
                uuid.map(Some)
                    .ok_or_else(|| api::missing(action, "user uuid"))
            })
            .await
            .map(Option::as_deref)
    }
}
