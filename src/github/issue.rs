//! One issue while AWS differs from the contacts file: opened when the
//! nightly run finds drift, updated while it lasts, closed with a comment
//! once AWS matches again. Found again by a label and a marker.

use hyper::Method;
use serde_json::{Value, json};

use super::client::Call;
use super::record::encode;
use super::{GitHubError, Permission, Run};

/// The drift issue of one contacts file.
pub struct DriftIssue<'a> {
    run: &'a Run,
    label: String,
    marker: String,
}

impl<'a> DriftIssue<'a> {
    pub fn new(run: &'a Run, label: &str, file: &str) -> Self {
        Self {
            run,
            label: label.to_owned(),
            marker: format!("<!-- altcontacts drift: {file} -->"),
        }
    }

    /// The marker the issue's body starts with.
    pub fn marker(&self) -> &str {
        &self.marker
    }

    /// The open drift issue's number, if there is one.
    pub async fn find_open(&self) -> Result<Option<u64>, GitHubError> {
        let client = self.run.client()?;
        let path = self.run.repo_path(&format!(
            "/issues?state=open&labels={}",
            encode(&self.label)
        ));
        let action = format!("list the open issues labelled `{}`", self.label);
        let issues = client
            .all_pages(Call {
                method: &Method::GET,
                path: &path,
                action: &action,
                permission: Permission::IssuesWrite,
            })
            .await?;
        Ok(issues
            .iter()
            // The issues API lists pull requests too.
            .filter(|issue| issue.get("pull_request").is_none())
            .filter(|issue| {
                issue["body"]
                    .as_str()
                    .is_some_and(|body| body.trim_start().starts_with(&self.marker))
            })
            .filter_map(|issue| issue["number"].as_u64())
            .min())
    }

    /// Opens the issue, or updates the open one, with `title` and `body`
    /// (which starts with the marker). Returns its number.
    pub async fn open_or_update(
        &self,
        open: Option<u64>,
        title: &str,
        body: &str,
    ) -> Result<u64, GitHubError> {
        let client = self.run.client()?;
        match open {
            Some(number) => {
                let action = format!("update the drift issue #{number}");
                client
                    .json(
                        Call {
                            method: &Method::PATCH,
                            path: &self.run.repo_path(&format!("/issues/{number}")),
                            action: &action,
                            permission: Permission::IssuesWrite,
                        },
                        Some(&json!({ "title": title, "body": body })),
                    )
                    .await?;
                Ok(number)
            }
            None => {
                let made: Value = client
                    .json(
                        Call {
                            method: &Method::POST,
                            path: &self.run.repo_path("/issues"),
                            action: "open the drift issue",
                            permission: Permission::IssuesWrite,
                        },
                        Some(&json!({ "title": title, "body": body, "labels": [self.label] })),
                    )
                    .await?;
                made["number"].as_u64().ok_or_else(|| GitHubError {
                    action: "open the drift issue".to_owned(),
                    status: None,
                    problem: "the answer has no issue number".to_owned(),
                    help: None,
                })
            }
        }
    }

    /// Comments `why` on the issue and closes it as completed.
    pub async fn close(&self, number: u64, why: &str) -> Result<(), GitHubError> {
        let client = self.run.client()?;
        let action = format!("comment on the drift issue #{number}");
        client
            .json(
                Call {
                    method: &Method::POST,
                    path: &self.run.repo_path(&format!("/issues/{number}/comments")),
                    action: &action,
                    permission: Permission::IssuesWrite,
                },
                Some(&json!({ "body": why })),
            )
            .await?;
        let action = format!("close the drift issue #{number}");
        client
            .json(
                Call {
                    method: &Method::PATCH,
                    path: &self.run.repo_path(&format!("/issues/{number}")),
                    action: &action,
                    permission: Permission::IssuesWrite,
                },
                Some(&json!({ "state": "closed", "state_reason": "completed" })),
            )
            .await?;
        Ok(())
    }
}
