//! altcontacts inside GitHub Actions: what a workflow run tells the tool
//! (repository, event, API address, token), and what the tool keeps on
//! GitHub: one plan comment per pull request, the record of the last
//! applied commit, and one issue while AWS drifts from the file.

pub mod client;
pub mod comment;
pub mod issue;
pub mod record;
pub mod workflow;

use std::path::PathBuf;

use serde_json::Value;

pub use client::Client;

/// GitHub's limit on a comment's or an issue's body, in characters.
pub const BODY_LIMIT: usize = 65_536;
/// GitHub's limit on one step's job summary, in bytes.
pub const SUMMARY_LIMIT: usize = 1024 * 1024;

/// A permission of the job's token that a call needs, as the workflow's
/// `permissions:` block writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// A GitHub call that failed, with what it was for and what to do.
#[derive(Debug, thiserror::Error)]
#[error("GitHub: could not {action}: {problem}{}", help.as_ref().map_or_else(String::new, |help| format!("\n  help: {help}")))]
pub struct GitHubError {
    pub action: String,
    pub status: Option<u16>,
    pub problem: String,
    pub help: Option<String>,
}

impl GitHubError {
    fn setup(problem: String) -> Self {
        Self {
            action: "set up the connection to GitHub".to_owned(),
            status: None,
            problem,
            help: None,
        }
    }

    /// What is missing from the run's environment.
    fn missing(variable: &str) -> Self {
        Self {
            action: "tell which repository this run belongs to".to_owned(),
            status: None,
            problem: format!("{variable} is not set"),
            help: Some(
                "run this inside a GitHub Actions job, which sets it (or set it yourself)"
                    .to_owned(),
            ),
        }
    }

    fn answered(call: client::Call<'_>, answer: &client::Answer) -> Self {
        let status = answer.status.as_u16();
        let help = match status {
            401 => Some(
                "the token was refused: the action passes `github.token` unless its `token` input says otherwise".to_owned(),
            ),
            403 | 404 => Some(format!(
                "the job's token may lack a permission: give the job `permissions: {{ {} }}`",
                call.permission.as_yaml()
            )),
            _ => None,
        };
        Self {
            action: call.action.to_owned(),
            status: Some(status),
            problem: format!("{} {}", status, answer.message()),
            help,
        }
    }

    fn unreachable(call: client::Call<'_>, url: &str, problem: String) -> Self {
        Self {
            action: call.action.to_owned(),
            status: None,
            problem: format!("{url}: {problem}"),
            help: Some("check GITHUB_API_URL and the runner's network".to_owned()),
        }
    }
}

/// What the workflow run says about itself, from the variables GitHub's
/// runner sets in every step.
#[derive(Clone, Debug)]
pub struct Run {
    pub api_url: String,
    pub server_url: String,
    /// `owner/name`.
    pub repository: String,
    pub token: Option<String>,
    pub event_name: String,
    /// The webhook payload (`GITHUB_EVENT_PATH`), `Null` without one.
    pub event: Value,
    pub git_ref: String,
    pub run_id: Option<String>,
    pub step_summary: Option<PathBuf>,
    pub output: Option<PathBuf>,
    /// Where a run keeps files for later steps (`RUNNER_TEMP`).
    pub temp: PathBuf,
}

impl Run {
    pub fn from_env() -> Result<Self, GitHubError> {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let repository =
            var("GITHUB_REPOSITORY").ok_or_else(|| GitHubError::missing("GITHUB_REPOSITORY"))?;
        let event = var("GITHUB_EVENT_PATH")
            .and_then(|path| std::fs::read_to_string(path).ok())
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null);
        Ok(Self {
            api_url: var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".to_owned()),
            server_url: var("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".to_owned()),
            repository,
            token: var("GITHUB_TOKEN"),
            event_name: var("GITHUB_EVENT_NAME").unwrap_or_default(),
            event,
            git_ref: var("GITHUB_REF").unwrap_or_default(),
            run_id: var("GITHUB_RUN_ID"),
            step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: var("GITHUB_OUTPUT").map(PathBuf::from),
            temp: var("RUNNER_TEMP").map_or_else(std::env::temp_dir, PathBuf::from),
        })
    }

    pub fn client(&self) -> Result<Client, GitHubError> {
        Client::new(&self.api_url, self.token.clone())
    }

    /// The pull request this run is for: from the event, or from the ref
    /// GitHub checks out for it (`refs/pull/N/merge`).
    pub fn pull_request(&self) -> Option<u64> {
        self.event["pull_request"]["number"].as_u64().or_else(|| {
            self.git_ref
                .strip_prefix("refs/pull/")?
                .split('/')
                .next()?
                .parse()
                .ok()
        })
    }

    /// The address of this run's page, where its summary and artifacts are.
    pub fn run_url(&self) -> Option<String> {
        self.run_id.as_ref().map(|id| {
            format!(
                "{}/{}/actions/runs/{id}",
                self.server_url.trim_end_matches('/'),
                self.repository
            )
        })
    }

    /// `[this run](…)`, or `this run` when its address is unknown.
    pub fn run_link(&self) -> String {
        match self.run_url() {
            Some(url) => format!("[this run]({url})"),
            None => "this run".to_owned(),
        }
    }

    /// `/repos/OWNER/NAME` followed by `path`.
    pub fn repo_path(&self, path: &str) -> String {
        format!("/repos/{}{path}", self.repository)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(git_ref: &str, event: Value) -> Run {
        Run {
            api_url: "http://127.0.0.1:1".into(),
            server_url: "https://github.example".into(),
            repository: "acme/aws-contacts".into(),
            token: None,
            event_name: "pull_request".into(),
            event,
            git_ref: git_ref.into(),
            run_id: Some("42".into()),
            step_summary: None,
            output: None,
            temp: std::env::temp_dir(),
        }
    }

    #[test]
    fn the_pull_request_comes_from_the_event_or_the_merge_ref() {
        let from_event = run(
            "refs/heads/x",
            serde_json::json!({"pull_request": {"number": 7}}),
        );
        assert_eq!(from_event.pull_request(), Some(7));
        assert_eq!(
            run("refs/pull/12/merge", Value::Null).pull_request(),
            Some(12)
        );
        assert_eq!(run("refs/heads/main", Value::Null).pull_request(), None);
        assert_eq!(
            from_event.run_url().as_deref(),
            Some("https://github.example/acme/aws-contacts/actions/runs/42")
        );
    }
}
