//! The loop on GitHub: what a workflow run tells the tool (repository,
//! event, API address, token), and what the tool keeps on GitHub: one plan
//! comment per pull request, the record of the last applied commit as
//! deployments, and one issue while AWS drifts from the file.

mod comment;
mod issue;
mod kind;
mod record;
mod workflow;

use std::path::PathBuf;

use hyper::Method;
use serde_json::Value;

use crate::config::FileProblems;
use crate::config::reading::{Reading, read_text};
use crate::error::Error;
use crate::forge::ForgeError;
use crate::forge::api::{Api, Words};
use crate::forge::http::{Auth, Client, Failure, HeaderPaging};
use crate::git::Repository;
use crate::gitops::forge::{NoIssues, Remark, Whose};
use crate::gitops::record::Sealer;
use crate::gitops::{Applying, Ended, Forge, Honours, RecordKey, Recorded, Terms};
use crate::model::Warning;
pub(crate) use kind::KIND;

const TERMS: Terms = Terms {
    forge: "GitHub",
    review: "pull request",
    review_sign: "#",
    note: "comment",
    note_limit: 65_536,
    issue_limit: 65_536,
    run: "run",
    full_history: "actions/checkout with `fetch-depth: 0`",
    enable_issues: "turn Issues on (the repository's Settings > General > Features)",
};

/// GitHub's own API, where `GITHUB_API_URL` or `--api-url` names no other.
const API: &str = "https://api.github.com";

/// How the run's event (`GITHUB_EVENT_PATH`) is read: GitHub delivers no
/// payload over 25 MB.
const EVENT: Reading = Reading {
    limit: 32_000_000,
    sized: "GitHub delivers no event payload over 25 MB",
    pass: "leave GITHUB_EVENT_PATH as the runner sets it",
    in_repository: false,
};

/// GitHub's limit on one step's job summary, in bytes.
pub const SUMMARY_LIMIT: usize = 1024 * 1024;

/// A permission of the job's token that a call needs, as the workflow's
/// `permissions:` block writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[expect(
    clippy::enum_variant_names,
    reason = "each reads as the line of `permissions:` it stands for"
)]
pub enum Permission {
    PullRequestsWrite,
    IssuesWrite,
    DeploymentsWrite,
}

impl Permission {
    pub fn as_yaml(self) -> &'static str {
        match self {
            Self::PullRequestsWrite => "pull-requests: write",
            Self::IssuesWrite => "issues: write",
            Self::DeploymentsWrite => "deployments: write",
        }
    }
}

/// One call, and the permission it needs.
pub type Call<'a> = crate::forge::api::Call<'a, Permission>;

/// What GitHub's refusals mean, in the workflow's terms.
struct GitHubWords {
    api_url: String,
}

impl Words for GitHubWords {
    type Needs = Permission;

    fn forge(&self) -> &'static str {
        TERMS.forge
    }

    fn refused(&self, status: u16, _says: &str, permission: Permission) -> Option<String> {
        match status {
            401 => Some(
                "the token was refused: the action passes `github.token` unless its `token` input says otherwise".to_owned(),
            ),
            403 | 404 => Some(format!(
                "the job's token may lack a permission: give the job `permissions: {{ {} }}`",
                permission.as_yaml()
            )),
            _ => None,
        }
    }

    fn unreachable(&self) -> String {
        format!(
            "check GITHUB_API_URL ({}) and the runner's network",
            self.api_url
        )
    }
}

/// What the workflow run says about itself, from the variables GitHub's
/// runner sets in every step.
pub struct GitHub {
    server_url: String,
    /// `owner/name`.
    repository: String,
    event: Value,
    git_ref: String,
    run_id: Option<String>,
    step_summary: Option<PathBuf>,
    output: Option<PathBuf>,
    /// Where a run keeps files for later steps (`RUNNER_TEMP`).
    temp: PathBuf,
    api: Api<GitHubWords>,
    /// Who the token is, for finding the run's own comments and issues:
    /// learnt once, at the first call that needs it.
    author: tokio::sync::OnceCell<String>,
    /// What seals the records this run writes, and tells the pipeline's own.
    sealer: Sealer,
}

impl GitHub {
    pub fn from_env() -> Result<Self, ForgeError> {
        let var = crate::settings::env_var;
        let repository = var("GITHUB_REPOSITORY").ok_or_else(|| {
            ForgeError::setup(
                TERMS.forge,
                "tell which repository this run belongs to",
                "GITHUB_REPOSITORY is not set".to_owned(),
                Some(
                    "run this inside a GitHub Actions job, which sets it (or set it yourself)"
                        .to_owned(),
                ),
            )
        })?;
        let event = var("GITHUB_EVENT_PATH")
            .and_then(|path| read_text(std::path::Path::new(&path), &EVENT).ok())
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null);
        let api_url = var("GITHUB_API_URL").unwrap_or_else(|| API.to_owned());
        let auth = var("GITHUB_TOKEN").map_or(Auth::None, |token| Auth::bearer(&token));
        let client = Client::new(
            &api_url,
            auth,
            &[
                ("accept", "application/vnd.github+json"),
                ("x-github-api-version", "2022-11-28"),
            ],
            HeaderPaging,
        )
        .map_err(|problem| {
            ForgeError::setup(
                TERMS.forge,
                "set up the connection to GitHub",
                problem,
                None,
            )
        })?;
        Ok(Self {
            server_url: var("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".to_owned()),
            repository,
            event,
            git_ref: var("GITHUB_REF").unwrap_or_default(),
            run_id: var("GITHUB_RUN_ID"),
            step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: var("GITHUB_OUTPUT").map(PathBuf::from),
            temp: var("RUNNER_TEMP").map_or_else(std::env::temp_dir, PathBuf::from),
            api: Api {
                client,
                words: GitHubWords { api_url },
            },
            author: tokio::sync::OnceCell::new(),
            sealer: Sealer::from_env(TERMS.forge)?,
        })
    }

    /// The address of this run's page, where its summary and artifacts are.
    fn run_url(&self) -> Option<String> {
        self.run_id.as_ref().map(|id| {
            format!(
                "{}/{}/actions/runs/{id}",
                self.server_url.trim_end_matches('/'),
                self.repository
            )
        })
    }

    /// `/repos/OWNER/NAME` followed by `path`.
    fn repo_path(&self, path: &str) -> String {
        format!("/repos/{}{path}", self.repository)
    }

    /// The login of the token's user. The job's own token belongs to no
    /// user (GitHub refuses it `/user`): what it writes is
    /// `github-actions[bot]`'s.
    async fn author(&self) -> Result<&str, Error> {
        self.author
            .get_or_try_init(|| async {
                match self.api.client.json(&Method::GET, "/user", None).await {
                    Ok(user) => Ok(user["login"].as_str().unwrap_or_default().to_owned()),
                    Err(Failure::Refused(answer))
                        if answer.status.as_u16() == 403
                            && answer.message().contains("not accessible by integration") =>
                    {
                        Ok(WORKFLOW_BOT.to_owned())
                    }
                    Err(failure) => Err(Error::from(self.api.error(
                        Call {
                            method: &Method::GET,
                            path: "/user",
                            action: "learn which user the token belongs to",
                            needs: Permission::PullRequestsWrite,
                        },
                        failure,
                    ))),
                }
            })
            .await
            .map(String::as_str)
    }
}

/// The user the workflow's own token (`github.token`) writes as.
pub const WORKFLOW_BOT: &str = "github-actions[bot]";

/// Who wrote an item (comment, issue): `author`, or someone else.
fn whose(item: &Value, author: &str) -> Whose {
    Whose::of(item["user"]["login"].as_str(), Some(author))
}

impl Forge for GitHub {
    fn terms(&self) -> &'static Terms {
        &TERMS
    }

    /// From the event, or from the ref GitHub checks out for a pull
    /// request (`refs/pull/N/merge`).
    fn review(&self) -> Option<u64> {
        self.event["pull_request"]["number"].as_u64().or_else(|| {
            self.git_ref
                .strip_prefix("refs/pull/")?
                .split('/')
                .next()?
                .parse()
                .ok()
        })
    }

    /// The first parent of the merge commit GitHub checks out for a pull
    /// request, else the base branch as fetched.
    fn review_base(&self, repository: &Repository) -> Result<Option<String>, Error> {
        let parents = repository.parents("HEAD")?;
        if parents.len() >= 2 {
            return Ok(Some(parents[0].clone()));
        }
        Ok(std::env::var("GITHUB_BASE_REF")
            .ok()
            .filter(|branch| !branch.is_empty())
            .map(|branch| format!("origin/{branch}")))
    }

    fn run_link(&self) -> String {
        match self.run_url() {
            Some(url) => format!("[this run]({url})"),
            None => "this run".to_owned(),
        }
    }

    async fn notes(&self, review: u64) -> Result<Vec<Remark>, Error> {
        comment::list(self, review).await
    }

    async fn add_note(&self, review: u64, body: &str) -> Result<u64, Error> {
        comment::add(self, review, body).await
    }

    async fn edit_note(&self, review: u64, id: u64, body: &str) -> Result<(), Error> {
        comment::edit(self, review, id, body).await
    }

    /// As the event that started the run names it: GitHub puts the
    /// repository, with its default branch, in the payload of every event
    /// that can start an apply (push, schedule, dispatch).
    async fn default_branch(&self) -> Result<String, Error> {
        self.event["repository"]["default_branch"]
            .as_str()
            .filter(|branch| !branch.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                ForgeError::setup(
                    TERMS.forge,
                    "tell the repository's default branch",
                    "the run's event (GITHUB_EVENT_PATH) names no `repository.default_branch`"
                        .to_owned(),
                    Some(
                        "run the apply from a push, schedule or repository_dispatch workflow, whose event carries it"
                            .to_owned(),
                    ),
                )
                .into()
            })
    }

    async fn last_applied(
        &self,
        record: &RecordKey,
        honours: Honours<'_>,
    ) -> Result<Option<Recorded>, Error> {
        record::last_applied(self, record, honours).await
    }

    async fn accounts_applied(
        &self,
        record: &RecordKey,
        commit: &str,
        _since: crate::model::Timestamp,
    ) -> Result<Vec<(crate::model::AccountId, Recorded)>, Error> {
        record::accounts_applied(self, record, commit).await
    }

    async fn begin_apply(&self, record: &RecordKey, commit: &str) -> Result<Applying, Error> {
        record::begin(self, record, commit).await
    }

    async fn finish_apply(
        &self,
        record: &RecordKey,
        applying: Applying,
        ended: Ended,
        description: &str,
    ) -> Result<(), Error> {
        record::finish(self, record, applying, ended, description).await
    }

    async fn open_issues(&self, label: &str) -> Result<Result<Vec<Remark>, NoIssues>, Error> {
        Ok(issue::list_open(self, label)
            .await?
            .ok_or_else(|| NoIssues::turned_off(&TERMS)))
    }

    async fn create_issue(&self, label: &str, title: &str, body: &str) -> Result<u64, Error> {
        issue::create(self, label, title, body).await
    }

    async fn update_issue(&self, number: u64, title: &str, body: &str) -> Result<(), Error> {
        issue::update(self, number, title, body).await
    }

    async fn comment_on_issue(&self, number: u64, text: &str) -> Result<(), Error> {
        issue::comment(self, number, text).await
    }

    async fn close_issue(&self, number: u64) -> Result<(), Error> {
        issue::close(self, number).await
    }

    fn full_plan_place(&self, artifact: &str) -> String {
        format!(
            "`plan.md` in the `{artifact}` artifact of {}",
            self.run_link()
        )
    }

    /// In `RUNNER_TEMP`, named in the `plan-file` output: the action
    /// uploads it as the artifact when the plan was cut.
    fn keep_full_plan(&self, _artifact: &str, markdown: &str, _cut: bool) -> Result<(), Error> {
        let plan_file = self.temp.join("altcontacts").join("plan.md");
        crate::forge::write(&plan_file, markdown)?;
        self.set_outputs(&[("plan-file", plan_file.display().to_string())])
    }

    /// As annotations: GitHub shows each on its line of the pull request.
    async fn report_problems(
        &self,
        _artifact: Option<&str>,
        problems: &FileProblems,
    ) -> Result<(), Error> {
        crate::render::annotations::print(&crate::render::annotations::github(problems));
        Ok(())
    }

    async fn report_warnings(
        &self,
        _artifact: Option<&str>,
        warnings: &[Warning],
    ) -> Result<(), Error> {
        crate::render::annotations::print(&crate::render::annotations::warnings(warnings));
        Ok(())
    }

    fn summary_room(&self) -> usize {
        workflow::summary_room(self.step_summary.as_deref())
    }

    fn add_to_summary(&self, text: &str) -> Result<(), Error> {
        match &self.step_summary {
            Some(path) => Ok(crate::forge::append(path, text)?),
            None => Ok(()),
        }
    }

    fn set_outputs(&self, outputs: &[(&str, String)]) -> Result<(), Error> {
        match &self.output {
            Some(path) => Ok(crate::forge::append(path, &workflow::outputs(outputs))?),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github(git_ref: &str, event: Value) -> GitHub {
        GitHub {
            server_url: "https://github.example".into(),
            repository: "acme/aws-contacts".into(),
            event,
            git_ref: git_ref.into(),
            run_id: Some("42".into()),
            step_summary: None,
            output: None,
            temp: std::env::temp_dir(),
            api: Api {
                client: Client::new("http://127.0.0.1:1", Auth::None, &[], HeaderPaging).unwrap(),
                words: GitHubWords {
                    api_url: "http://127.0.0.1:1".into(),
                },
            },
            author: tokio::sync::OnceCell::new(),
            sealer: Sealer::none(),
        }
    }

    #[test]
    fn the_pull_request_comes_from_the_event_or_the_merge_ref() {
        let from_event = github(
            "refs/heads/x",
            serde_json::json!({"pull_request": {"number": 7}}),
        );
        assert_eq!(from_event.review(), Some(7));
        assert_eq!(github("refs/pull/12/merge", Value::Null).review(), Some(12));
        assert_eq!(github("refs/heads/main", Value::Null).review(), None);
        assert_eq!(
            from_event.run_url().as_deref(),
            Some("https://github.example/acme/aws-contacts/actions/runs/42")
        );
    }
}
