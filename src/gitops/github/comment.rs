//! One plan comment per pull request and contacts file, edited in place on
//! every push, found again by its marker and its author whatever page it
//! is on.

use hyper::Method;
use serde_json::json;

use super::{Call, GitHub, Permission, written_by};
use crate::error::Error;
use crate::gitops::Upserted;

/// Posts `body` (which starts with `marker`) as the pull request's plan
/// comment: the earlier one the token's user wrote is edited, or a first
/// one made. A comment someone else starts with the marker is left alone.
pub async fn upsert(
    github: &GitHub,
    pull_request: u64,
    marker: &str,
    body: &str,
) -> Result<Upserted, Error> {
    let author = github.author().await?;
    let list = github.repo_path(&format!("/issues/{pull_request}/comments"));
    let action = format!("list the comments of pull request #{pull_request}");
    let comments = github
        .all_pages(Call {
            method: &Method::GET,
            path: &list,
            action: &action,
            permission: Permission::PullRequestsWrite,
        })
        .await?;
    let existing = comments
        .iter()
        .filter(|comment| written_by(comment, author))
        .find(|comment| {
            comment["body"]
                .as_str()
                .is_some_and(|text| text.trim_start().starts_with(marker))
        })
        .and_then(|comment| comment["id"].as_u64());
    let content = json!({ "body": body });
    match existing {
        Some(id) => {
            let path = github.repo_path(&format!("/issues/comments/{id}"));
            let action = format!("update the plan comment on pull request #{pull_request}");
            github
                .json(
                    Call {
                        method: &Method::PATCH,
                        path: &path,
                        action: &action,
                        permission: Permission::PullRequestsWrite,
                    },
                    Some(&content),
                )
                .await?;
            Ok(Upserted::Updated(id))
        }
        None => {
            let action = format!("comment the plan on pull request #{pull_request}");
            let made = github
                .json(
                    Call {
                        method: &Method::POST,
                        path: &list,
                        action: &action,
                        permission: Permission::PullRequestsWrite,
                    },
                    Some(&content),
                )
                .await?;
            Ok(Upserted::Created(made["id"].as_u64().unwrap_or_default()))
        }
    }
}
