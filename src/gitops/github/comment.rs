//! A pull request's comments, as the loop's plan note reads and writes
//! them (`gitops::remarks` decides which one is the plan's).

use hyper::Method;
use serde_json::json;

use super::{Call, GitHub, Permission, whose};
use crate::error::Error;
use crate::gitops::forge::Remark;

/// Every comment of the pull request, on every page, oldest first.
pub async fn list(github: &GitHub, pull_request: u64) -> Result<Vec<Remark>, Error> {
    let author = github.author().await?;
    let action = format!("list the comments of pull request #{pull_request}");
    let comments = github
        .api
        .all_pages(Call {
            method: &Method::GET,
            path: &github.repo_path(&format!("/issues/{pull_request}/comments")),
            action: &action,
            needs: Permission::PullRequestsWrite,
        })
        .await?;
    Ok(comments
        .iter()
        .filter_map(|comment| {
            Some(Remark {
                id: comment["id"].as_u64()?,
                whose: whose(comment, author),
                text: comment["body"].as_str().unwrap_or_default().to_owned(),
            })
        })
        .collect())
}

pub async fn add(github: &GitHub, pull_request: u64, body: &str) -> Result<u64, Error> {
    let action = format!("comment the plan on pull request #{pull_request}");
    let made = github
        .api
        .json(
            Call {
                method: &Method::POST,
                path: &github.repo_path(&format!("/issues/{pull_request}/comments")),
                action: &action,
                needs: Permission::PullRequestsWrite,
            },
            Some(&json!({ "body": body })),
        )
        .await?;
    Ok(made["id"].as_u64().unwrap_or_default())
}

pub async fn edit(github: &GitHub, pull_request: u64, id: u64, body: &str) -> Result<(), Error> {
    let action = format!("update the plan comment on pull request #{pull_request}");
    github
        .api
        .json(
            Call {
                method: &Method::PATCH,
                path: &github.repo_path(&format!("/issues/comments/{id}")),
                action: &action,
                needs: Permission::PullRequestsWrite,
            },
            Some(&json!({ "body": body })),
        )
        .await?;
    Ok(())
}
