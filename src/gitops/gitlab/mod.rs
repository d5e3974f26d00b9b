//! The loop on GitLab: what a CI/CD job tells the tool (project, merge
//! request, API address), and what the tool keeps on GitLab: one plan note
//! per merge request, the record of the last applied commit as
//! deployments of an environment, and one issue while AWS drifts from the
//! file. The job's files are its artifacts: the full plan, the Terraform
//! report the merge request widget reads (counts only), and a Code Quality
//! report of an invalid file.
//!
//! The job token cannot write notes, so the API is reached with the token
//! in `GITLAB_TOKEN` (glab's convention): a project access token with the
//! `api` scope and the Developer role.

mod api;
mod kind;
mod reports;

use std::path::PathBuf;

use hyper::Method;
use serde_json::Value;

use crate::config::FileProblems;
use crate::config::reading::{Reading, Unread, read_text};
use crate::error::Error;
use crate::forge::ForgeError;
use crate::forge::api::{Api, Words};
use crate::forge::http::{Auth, Client, HeaderPaging};
use crate::git::Repository;
use crate::gitops::forge::{NoIssues, Remark, Whose};
use crate::gitops::{Applying, Ended, Forge, Honours, RecordKey, Recorded, Terms};
use crate::model::Warning;
pub(crate) use kind::KIND;

const TERMS: Terms = Terms {
    forge: "GitLab",
    review: "merge request",
    review_sign: "!",
    note: "note",
    note_limit: 1_000_000,
    issue_limit: 1_048_576,
    run: "job",
    full_history: "the job's variable `GIT_DEPTH: \"0\"`",
    enable_issues: "turn Issues on (the project's Settings > General > Visibility, project features, permissions)",
};

/// The variable the token is read from.
pub const TOKEN_VARIABLE: &str = "GITLAB_TOKEN";

/// The variable a merge request's pipeline reads its token from when it
/// has no `GITLAB_TOKEN`: a Reporter's, which can write notes and nothing
/// that records an apply. `GITLAB_TOKEN`, the Developer's that records
/// applies, is a protected variable, which no other branch's pipeline gets,
/// so no branch can record an apply as the pipeline.
pub const REVIEW_TOKEN_VARIABLE: &str = "GITLAB_REVIEW_TOKEN";

/// The least role in the project a call needs (with a token of the `api`
/// scope): what an error names when GitLab refuses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Reading, commenting on merge requests, and issues.
    Reporter,
    /// Deployments: the record of applies.
    Developer,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Self::Reporter => "Reporter",
            Self::Developer => "Developer",
        }
    }
}

/// One call, and the role it needs.
pub type Call<'a> = crate::forge::api::Call<'a, Role>;

/// What GitLab's refusals mean, in GitLab's terms: the variable, the
/// scope, and the role in the project.
struct GitLabWords {
    api_url: String,
    /// `group/project`, or the project's ID.
    project_name: String,
    /// The variable the token was read from; `None` when neither is set.
    token_variable: Option<&'static str>,
}

impl Words for GitLabWords {
    type Needs = Role;

    fn forge(&self) -> &'static str {
        TERMS.forge
    }

    fn refused(&self, status: u16, says: &str, role: Role) -> Option<String> {
        let variable = self.token_variable.unwrap_or(TOKEN_VARIABLE);
        if variable == REVIEW_TOKEN_VARIABLE
            && role == Role::Developer
            && matches!(status, 403 | 404)
        {
            return Some(format!(
                "this needs {TOKEN_VARIABLE}, which this pipeline does not have ({REVIEW_TOKEN_VARIABLE}, a merge request's, may not record applies): a project access token with the `api` scope and the Developer role, saved as a masked, protected CI/CD variable, which the default branch's pipelines get"
            ));
        }
        let remedy = format!(
            "{variable} must hold a token with the `api` scope and at least the {} role in {}: a project access token (Settings > Access tokens), saved as a masked CI/CD variable",
            role.name(),
            self.project_name
        );
        match status {
            401 => Some(format!(
                "{variable} was refused: it may have expired or been revoked. {remedy}"
            )),
            403 if says.contains("insufficient_scope") || says.contains("higher privileges") => {
                Some(format!(
                    "the token in {variable} lacks the `api` scope (a `read_api` token can only read). {remedy}"
                ))
            }
            403 | 404 => Some(format!(
                "the token in {variable} may lack the {} role in {} (GitLab answers 404 to a token that cannot see a project). {remedy}",
                role.name(),
                self.project_name
            )),
            _ => None,
        }
    }

    fn unreachable(&self) -> String {
        format!(
            "check the runner's network: GitLab's API is reached at {}, the issuer of the job's ID token",
            self.api_url
        )
    }

    fn no_token(&self) -> Option<(String, String)> {
        self.token_variable.is_none().then(|| {
            (
                format!("neither {TOKEN_VARIABLE} nor {REVIEW_TOKEN_VARIABLE} is set"),
                format!(
                    "the job token (CI_JOB_TOKEN) cannot write notes, issues or deployments: create a project access token with the `api` scope and the Developer role, saved as the masked, protected CI/CD variable {TOKEN_VARIABLE}; and for merge requests, one with the Reporter role, saved as the masked variable {REVIEW_TOKEN_VARIABLE}"
                ),
            )
        })
    }
}

/// The variable the component gives the job's ID token's file in, for the
/// AWS SDK's web identity.
const ID_TOKEN_FILE_VARIABLE: &str = "AWS_WEB_IDENTITY_TOKEN_FILE";

/// How the ID token's file is read: a JWT of GitLab's claims is a couple
/// of kilobytes.
const ID_TOKEN: Reading = Reading {
    limit: 64 * 1024,
    sized: "a GitLab ID token is a couple of kilobytes",
    pass: "write the job's `id_tokens` entry to the file, as the component does",
    in_repository: false,
};

/// Where the job runs, as its ID token says: the GitLab instance (the
/// issuer) and the project. GitLab builds the claims from the pipeline
/// itself and signs them, and AWS has verified this very token before the
/// loop reads it (`Context::confirm_web_identity`), so neither can be steered
/// the way a pipeline variable steers `CI_API_V4_URL` or `CI_PROJECT_ID`:
/// the project's token is sent to this issuer's API and nowhere else.
struct JobToken {
    issuer: String,
    project_id: String,
    /// The branch or tag the job runs for (`ref`, `ref_type`).
    git_ref: String,
    ref_is_tag: bool,
}

impl JobToken {
    fn read() -> Result<Self, ForgeError> {
        let problem = |what: String| {
            ForgeError::setup(
                TERMS.forge,
                "tell which GitLab and project this job belongs to",
                what,
                Some(format!(
                    "GitLab's address and the project are read from the job's ID token, which a pipeline variable cannot change: declare an `id_tokens` entry and write it to the file {ID_TOKEN_FILE_VARIABLE} names, as the component does"
                )),
            )
        };
        let path = var(ID_TOKEN_FILE_VARIABLE)
            .ok_or_else(|| problem(format!("{ID_TOKEN_FILE_VARIABLE} is not set")))?;
        let text = read_text(std::path::Path::new(&path), &ID_TOKEN).map_err(|unread| {
            problem(match unread {
                Unread::Io(error) => format!("the ID token's file {path} cannot be read: {error}"),
                Unread::Refused { why, .. } => format!("the ID token's file {path}: {why}"),
            })
        })?;
        let claims = jwt_claims(text.trim())
            .ok_or_else(|| problem(format!("the file {path} holds no ID token")))?;
        let issuer = claims["iss"]
            .as_str()
            .filter(|iss| iss.starts_with("https://") || iss.starts_with("http://"))
            .ok_or_else(|| problem("the ID token names no issuer".to_owned()))?;
        let project_id = match &claims["project_id"] {
            Value::String(id) if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) => {
                id.clone()
            }
            Value::Number(id) => id.to_string(),
            _ => return Err(problem("the ID token names no project_id".to_owned())),
        };
        Ok(Self {
            issuer: issuer.to_owned(),
            project_id,
            git_ref: claims["ref"].as_str().unwrap_or_default().to_owned(),
            ref_is_tag: claims["ref_type"].as_str() == Some("tag"),
        })
    }
}

/// The role the job's ID token is for (`AWS_ROLE_ARN`, which the
/// component sets from its `role-arn` input).
pub(super) fn job_role() -> Result<String, ForgeError> {
    var("AWS_ROLE_ARN").ok_or_else(|| {
        ForgeError::setup(
            TERMS.forge,
            "tell which role the job's ID token is for",
            "AWS_ROLE_ARN is not set".to_owned(),
            Some(format!(
                "GitLab's address is read from the job's ID token once AWS has taken it as that role: set AWS_ROLE_ARN and {ID_TOKEN_FILE_VARIABLE}, as the component does"
            )),
        )
    })
}

/// The claims of a JWT (its second part, Base64url-encoded JSON).
fn jwt_claims(token: &str) -> Option<Value> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// What the CI/CD job says about itself, from the variables GitLab's
/// runner sets in every job.
pub struct GitLab {
    api: Api<GitLabWords>,
    /// The project's ID, as its job's ID token says.
    project: String,
    merge_request: Option<u64>,
    diff_base: Option<String>,
    target_branch: Option<String>,
    /// The branch or tag the pipeline runs for, as deployments record it.
    git_ref: String,
    ref_is_tag: bool,
    job_url: Option<String>,
    /// Where the job's artifacts are collected from: the working directory
    /// the job's script starts in (GitLab's `CI_PROJECT_DIR`).
    project_dir: PathBuf,
    /// The token's own user, for finding the job's own notes and issues.
    me: tokio::sync::OnceCell<u64>,
}

use crate::settings::env_var as var;

impl GitLab {
    pub fn from_env() -> Result<Self, ForgeError> {
        let job = JobToken::read()?;
        let api_url = format!("{}/api/v4", job.issuer.trim_end_matches('/'));
        let project_path = var("CI_PROJECT_PATH").unwrap_or_default();
        let project = job.project_id;
        let token = [TOKEN_VARIABLE, REVIEW_TOKEN_VARIABLE]
            .into_iter()
            .find_map(|name| var(name).map(|token| (name, token)));
        let token_variable = token.as_ref().map(|(name, _)| *name);
        let client = Client::new(
            &api_url,
            token.map_or(Auth::None, |(_, token)| Auth::Header {
                name: "private-token",
                value: token,
            }),
            &[("accept", "application/json")],
            HeaderPaging,
        )
        .map_err(|problem| {
            ForgeError::setup(
                TERMS.forge,
                "set up the connection to GitLab",
                problem,
                None,
            )
        })?;
        Ok(Self {
            api: Api {
                client,
                words: GitLabWords {
                    api_url,
                    project_name: if project_path.is_empty() {
                        project.clone()
                    } else {
                        project_path
                    },
                    token_variable,
                },
            },
            project,
            merge_request: var("CI_MERGE_REQUEST_IID").and_then(|iid| iid.parse().ok()),
            diff_base: var("CI_MERGE_REQUEST_DIFF_BASE_SHA"),
            target_branch: var("CI_MERGE_REQUEST_TARGET_BRANCH_NAME"),
            git_ref: job.git_ref,
            ref_is_tag: job.ref_is_tag,
            job_url: var("CI_JOB_URL"),
            project_dir: PathBuf::from("."),
            me: tokio::sync::OnceCell::new(),
        })
    }

    /// `/projects/ID` followed by `path`.
    fn project_path(&self, path: &str) -> String {
        format!("/projects/{}{path}", self.project)
    }

    /// The ID of the token's user (a project access token has a bot user
    /// of its own).
    async fn me(&self) -> Result<u64, Error> {
        self.me
            .get_or_try_init(|| async {
                let user = self
                    .api
                    .json(
                        Call {
                            method: &Method::GET,
                            path: "/user",
                            action: "learn which user the token belongs to",
                            needs: Role::Reporter,
                        },
                        None,
                    )
                    .await?;
                user["id"].as_u64().ok_or_else(|| {
                    ForgeError::setup(
                        TERMS.forge,
                        "learn which user the token belongs to",
                        "the answer has no user id".to_owned(),
                        None,
                    )
                    .into()
                })
            })
            .await
            .copied()
    }

    /// The environment an apply of `record` is a deployment to: one per
    /// contacts file, in a folder named by `--environment`; an account's
    /// own applies (an event's run), one per account beside it.
    fn environment(record: &RecordKey) -> String {
        match &record.account {
            None => format!("{}/{}", record.environment, record.file),
            Some(account) => format!("{}{account}", Self::accounts_folder(record)),
        }
    }

    /// What the environments of the accounts' own applies start with.
    fn accounts_folder(record: &RecordKey) -> String {
        format!("{}/{}/accounts/", record.environment, record.file)
    }

    fn artifacts(&self, artifact: &str) -> PathBuf {
        self.project_dir.join(artifact)
    }
}

/// Who wrote an item (note, issue): the user `me`, or someone else.
fn whose(item: &Value, me: u64) -> Whose {
    Whose::of(item["author"]["id"].as_u64(), Some(me))
}

impl Forge for GitLab {
    fn terms(&self) -> &'static Terms {
        &TERMS
    }

    fn review(&self) -> Option<u64> {
        self.merge_request
    }

    /// The merge request's diff base (where its branch left the target),
    /// else the target branch as fetched.
    fn review_base(&self, _repository: &Repository) -> Result<Option<String>, Error> {
        Ok(self.diff_base.clone().or_else(|| {
            self.target_branch
                .as_ref()
                .map(|branch| format!("origin/{branch}"))
        }))
    }

    fn run_link(&self) -> String {
        match &self.job_url {
            Some(url) => format!("[this job]({url})"),
            None => "this job".to_owned(),
        }
    }

    async fn notes(&self, review: u64) -> Result<Vec<Remark>, Error> {
        api::notes(self, review).await
    }

    async fn add_note(&self, review: u64, body: &str) -> Result<u64, Error> {
        api::add_note(self, review, body).await
    }

    async fn edit_note(&self, review: u64, id: u64, body: &str) -> Result<(), Error> {
        api::edit_note(self, review, id, body).await
    }

    async fn default_branch(&self) -> Result<String, Error> {
        api::default_branch(self).await
    }

    async fn last_applied(
        &self,
        record: &RecordKey,
        honours: Honours<'_>,
    ) -> Result<Option<Recorded>, Error> {
        api::last_applied(self, record, honours).await
    }

    async fn accounts_applied(
        &self,
        record: &RecordKey,
        commit: &str,
        since: crate::model::Timestamp,
    ) -> Result<Vec<(crate::model::AccountId, Recorded)>, Error> {
        api::accounts_applied(self, record, commit, since).await
    }

    async fn begin_apply(&self, record: &RecordKey, commit: &str) -> Result<Applying, Error> {
        api::begin_apply(self, record, commit).await
    }

    async fn finish_apply(
        &self,
        record: &RecordKey,
        applying: Applying,
        ended: Ended,
        _description: &str,
    ) -> Result<(), Error> {
        api::finish_apply(self, record, applying, ended).await
    }

    async fn open_issues(&self, label: &str) -> Result<Result<Vec<Remark>, NoIssues>, Error> {
        api::open_issues(self, label).await.map(Ok)
    }

    async fn create_issue(&self, label: &str, title: &str, body: &str) -> Result<u64, Error> {
        api::create_issue(self, label, title, body).await
    }

    async fn update_issue(&self, number: u64, title: &str, body: &str) -> Result<(), Error> {
        api::update_issue(self, number, title, body).await
    }

    async fn comment_on_issue(&self, number: u64, text: &str) -> Result<(), Error> {
        api::note_on_issue(self, number, text).await
    }

    async fn close_issue(&self, number: u64) -> Result<(), Error> {
        api::close_issue(self, number).await
    }

    fn full_plan_place(&self, artifact: &str) -> String {
        match &self.job_url {
            Some(url) => format!(
                "[`plan.md`]({url}/artifacts/file/{artifact}/plan.md) in the artifacts of [this job]({url})"
            ),
            None => format!("`{artifact}/plan.md` in the artifacts of this job"),
        }
    }

    fn keep_full_plan(&self, artifact: &str, markdown: &str, cut: bool) -> Result<(), Error> {
        Ok(crate::forge::keep_in_artifacts(
            &self.project_dir,
            artifact,
            markdown,
            cut,
        )?)
    }

    /// As a Code Quality report, which GitLab shows on the merge request.
    async fn report_problems(
        &self,
        artifact: Option<&str>,
        problems: &FileProblems,
    ) -> Result<(), Error> {
        let Some(artifact) = artifact else {
            return Ok(());
        };
        let report = reports::code_quality_of_problems(problems);
        Ok(crate::forge::write(
            &self.artifacts(artifact).join(reports::CODE_QUALITY),
            &report,
        )?)
    }

    async fn report_warnings(
        &self,
        artifact: Option<&str>,
        warnings: &[Warning],
    ) -> Result<(), Error> {
        let Some(artifact) = artifact else {
            return Ok(());
        };
        let report = reports::code_quality_of_warnings(warnings);
        Ok(crate::forge::write(
            &self.artifacts(artifact).join(reports::CODE_QUALITY),
            &report,
        )?)
    }

    /// The Terraform report the merge request widget reads: the counts
    /// alone, since any project member (Guest included) can read artifacts.
    async fn report_counts(
        &self,
        artifact: &str,
        summary: &crate::plan::Summary,
    ) -> Result<(), Error> {
        Ok(crate::forge::write(
            &self.artifacts(artifact).join(reports::TERRAFORM),
            &reports::terraform(summary),
        )?)
    }
}
