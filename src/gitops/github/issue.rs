//! One issue while AWS differs from the contacts file: opened when the
//! nightly run finds drift, updated while it lasts, closed with a comment
//! once AWS matches again. Found again by its label, its marker and its
//! author.

use hyper::Method;
use serde_json::json;

use super::{Call, GitHub, Permission, written_by};
use crate::error::Error;
use crate::forge::ForgeError;
use crate::forge::http::encode;

/// The open drift issue's number, if there is one.
pub async fn find_open(github: &GitHub, label: &str, marker: &str) -> Result<Option<u64>, Error> {
    let author = github.author().await?;
    let path = github.repo_path(&format!("/issues?state=open&labels={}", encode(label)));
    let action = format!("list the open issues labelled `{label}`");
    let issues = github
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
        .filter(|issue| written_by(issue, author))
        .filter(|issue| {
            issue["body"]
                .as_str()
                .is_some_and(|body| body.trim_start().starts_with(marker))
        })
        .filter_map(|issue| issue["number"].as_u64())
        .min())
}

/// Opens the issue, or updates the open one, with `title` and `body`
/// (which starts with the marker). Returns its number.
pub async fn save(
    github: &GitHub,
    open: Option<u64>,
    label: &str,
    title: &str,
    body: &str,
) -> Result<u64, Error> {
    match open {
        Some(number) => {
            let action = format!("update the drift issue #{number}");
            github
                .json(
                    Call {
                        method: &Method::PATCH,
                        path: &github.repo_path(&format!("/issues/{number}")),
                        action: &action,
                        permission: Permission::IssuesWrite,
                    },
                    Some(&json!({ "title": title, "body": body })),
                )
                .await?;
            Ok(number)
        }
        None => {
            let action = "open the drift issue";
            let made = github
                .json(
                    Call {
                        method: &Method::POST,
                        path: &github.repo_path("/issues"),
                        action,
                        permission: Permission::IssuesWrite,
                    },
                    Some(&json!({ "title": title, "body": body, "labels": [label] })),
                )
                .await?;
            made["number"].as_u64().ok_or_else(|| {
                ForgeError::setup(
                    "GitHub",
                    action,
                    "the answer has no issue number".to_owned(),
                    None,
                )
                .into()
            })
        }
    }
}

/// Comments `why` on the issue and closes it as completed.
pub async fn close(github: &GitHub, number: u64, why: &str) -> Result<(), Error> {
    let action = format!("comment on the drift issue #{number}");
    github
        .json(
            Call {
                method: &Method::POST,
                path: &github.repo_path(&format!("/issues/{number}/comments")),
                action: &action,
                permission: Permission::IssuesWrite,
            },
            Some(&json!({ "body": why })),
        )
        .await?;
    let action = format!("close the drift issue #{number}");
    github
        .json(
            Call {
                method: &Method::PATCH,
                path: &github.repo_path(&format!("/issues/{number}")),
                action: &action,
                permission: Permission::IssuesWrite,
            },
            Some(&json!({ "state": "closed", "state_reason": "completed" })),
        )
        .await?;
    Ok(())
}
