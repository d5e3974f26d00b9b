//! The repository's issues, as the loop's drift issue reads and writes
//! them (`gitops::remarks` decides which one is the drift issue).

use hyper::Method;
use serde_json::json;

use super::{Call, GitHub, Permission, whose};
use crate::error::Error;
use crate::forge::ForgeError;
use crate::forge::http::encode;
use crate::gitops::forge::Remark;

/// The open issues labelled `label`, on every page; `None` when the
/// repository has its issues turned off (GitHub answers 410 Gone).
pub async fn list_open(github: &GitHub, label: &str) -> Result<Option<Vec<Remark>>, Error> {
    let author = github.author().await?;
    let path = github.repo_path(&format!("/issues?state=open&labels={}", encode(label)));
    let action = format!("list the open issues labelled `{label}`");
    let call = Call {
        method: &Method::GET,
        path: &path,
        action: &action,
        needs: Permission::IssuesWrite,
    };
    let issues = github
        .api
        .all_pages_if(call, |status, _| status == 410)
        .await?;
    Ok(issues.map(|issues| {
        issues
            .iter()
            // The issues API lists pull requests too.
            .filter(|issue| issue.get("pull_request").is_none())
            .filter_map(|issue| {
                Some(Remark {
                    id: issue["number"].as_u64()?,
                    whose: whose(issue, author),
                    text: issue["body"].as_str().unwrap_or_default().to_owned(),
                })
            })
            .collect()
    }))
}

pub async fn update(github: &GitHub, number: u64, title: &str, body: &str) -> Result<(), Error> {
    let action = format!("update the drift issue #{number}");
    github
        .api
        .json(
            Call {
                method: &Method::PATCH,
                path: &github.repo_path(&format!("/issues/{number}")),
                action: &action,
                needs: Permission::IssuesWrite,
            },
            Some(&json!({ "title": title, "body": body })),
        )
        .await?;
    Ok(())
}

/// Opens an issue labelled `label`; its number.
pub async fn create(github: &GitHub, label: &str, title: &str, body: &str) -> Result<u64, Error> {
    let action = "open the drift issue";
    let made = github
        .api
        .json(
            Call {
                method: &Method::POST,
                path: &github.repo_path("/issues"),
                action,
                needs: Permission::IssuesWrite,
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

pub async fn comment(github: &GitHub, number: u64, text: &str) -> Result<(), Error> {
    let action = format!("comment on the drift issue #{number}");
    github
        .api
        .json(
            Call {
                method: &Method::POST,
                path: &github.repo_path(&format!("/issues/{number}/comments")),
                action: &action,
                needs: Permission::IssuesWrite,
            },
            Some(&json!({ "body": text })),
        )
        .await?;
    Ok(())
}

/// Closes the issue as completed.
pub async fn close(github: &GitHub, number: u64) -> Result<(), Error> {
    let action = format!("close the drift issue #{number}");
    github
        .api
        .json(
            Call {
                method: &Method::PATCH,
                path: &github.repo_path(&format!("/issues/{number}")),
                action: &action,
                needs: Permission::IssuesWrite,
            },
            Some(&json!({ "state": "closed", "state_reason": "completed" })),
        )
        .await?;
    Ok(())
}
