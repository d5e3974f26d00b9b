//! The record of the last commit whose apply fully succeeded, kept as
//! GitHub deployments: each apply is a deployment of its commit to an
//! environment (default `altcontacts`), and only an apply that wrote and
//! verified every change marks its deployment `success`. The next apply
//! bases itself on the newest successful one, so a run that was evicted,
//! cancelled or failed leaves its changes to the next run, never to no one.
//!
//! Deployments need no write access to the repository's contents (only
//! `deployments: write`) and show in GitHub's UI as the history of applies.

use hyper::Method;
use serde_json::{Value, json};

use super::client::Call;
use super::{GitHubError, Permission, Run};

/// The deployment task of an altcontacts apply; other deployments to the
/// same environment are not records.
pub const TASK: &str = "altcontacts:apply";

/// Where the records of one contacts file are.
pub struct Record<'a> {
    run: &'a Run,
    pub environment: String,
    /// The contacts file, as the repository names it: two files in one
    /// repository have two records.
    file: String,
}

/// A deployment made for this run's apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deployment(pub u64);

impl<'a> Record<'a> {
    pub fn new(run: &'a Run, environment: &str, file: &str) -> Self {
        Self {
            run,
            environment: environment.to_owned(),
            file: file.to_owned(),
        }
    }

    fn ours(&self, deployment: &Value) -> bool {
        deployment["task"].as_str() == Some(TASK)
            && deployment["payload"]["file"].as_str() == Some(self.file.as_str())
    }

    /// The commit of the newest apply that fully succeeded, if any.
    pub async fn last_applied(&self) -> Result<Option<String>, GitHubError> {
        let client = self.run.client()?;
        let list = self.run.repo_path(&format!(
            "/deployments?environment={}&task={}",
            encode(&self.environment),
            encode(TASK)
        ));
        let action = format!(
            "read the applies recorded in the `{}` environment",
            self.environment
        );
        let deployments = client
            .all_pages(Call {
                method: &Method::GET,
                path: &list,
                action: &action,
                permission: Permission::DeploymentsWrite,
            })
            .await?;
        // Newest first, as GitHub lists them; sorted again so that no
        // page order can make an older apply look like the last.
        let mut ours: Vec<&Value> = deployments.iter().filter(|d| self.ours(d)).collect();
        ours.sort_by_key(|d| std::cmp::Reverse(d["id"].as_u64().unwrap_or(0)));
        for deployment in ours {
            let id = deployment["id"].as_u64().unwrap_or(0);
            let path = self
                .run
                .repo_path(&format!("/deployments/{id}/statuses?per_page=1"));
            let action = format!("read the outcome of the apply recorded as deployment {id}");
            let statuses = client
                .json(
                    Call {
                        method: &Method::GET,
                        path: &path,
                        action: &action,
                        permission: Permission::DeploymentsWrite,
                    },
                    None,
                )
                .await?;
            if statuses[0]["state"].as_str() == Some("success") {
                return Ok(deployment["sha"].as_str().map(str::to_owned));
            }
        }
        Ok(None)
    }

    /// Records that this run starts applying `commit`.
    pub async fn begin(&self, commit: &str) -> Result<Deployment, GitHubError> {
        let client = self.run.client()?;
        let action = format!(
            "record the apply of {commit} in the `{}` environment",
            self.environment
        );
        let made = client
            .json(
                Call {
                    method: &Method::POST,
                    path: &self.run.repo_path("/deployments"),
                    action: &action,
                    permission: Permission::DeploymentsWrite,
                },
                Some(&json!({
                    "ref": commit,
                    "task": TASK,
                    "environment": self.environment,
                    "auto_merge": false,
                    "required_contexts": [],
                    "payload": { "file": self.file },
                    "description": format!("altcontacts apply of {}", self.file),
                    "production_environment": true,
                })),
            )
            .await?;
        let deployment = Deployment(made["id"].as_u64().ok_or_else(|| GitHubError {
            action: action.clone(),
            status: None,
            problem: "the answer has no deployment id".to_owned(),
            help: None,
        })?);
        self.status(deployment, "in_progress", "applying").await?;
        Ok(deployment)
    }

    /// Records how the apply ended: only `success` makes it the base of
    /// the next one.
    pub async fn finish(
        &self,
        deployment: Deployment,
        succeeded: bool,
        description: &str,
    ) -> Result<(), GitHubError> {
        let state = if succeeded { "success" } else { "failure" };
        self.status(deployment, state, description).await
    }

    async fn status(
        &self,
        deployment: Deployment,
        state: &str,
        description: &str,
    ) -> Result<(), GitHubError> {
        let client = self.run.client()?;
        let path = self
            .run
            .repo_path(&format!("/deployments/{}/statuses", deployment.0));
        let action = format!("mark the apply (deployment {}) {state}", deployment.0);
        let mut body = json!({
            "state": state,
            "description": description.chars().take(140).collect::<String>(),
            "auto_inactive": false,
        });
        if let Some(url) = self.run.run_url() {
            body["log_url"] = Value::String(url);
        }
        client
            .json(
                Call {
                    method: &Method::POST,
                    path: &path,
                    action: &action,
                    permission: Permission::DeploymentsWrite,
                },
                Some(&body),
            )
            .await?;
        Ok(())
    }
}

/// A query value, percent-encoded.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
