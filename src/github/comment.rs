//! One plan comment per pull request and contacts file, edited in place on
//! every push, found again by a marker whatever page it is on.

use hyper::Method;
use serde_json::{Value, json};

use super::client::Call;
use super::{GitHubError, Permission, Run};

/// The first line of the plan comment for `file`: how it is found again.
pub fn marker(file: &str) -> String {
    format!("<!-- altcontacts plan: {file} -->")
}

/// Whether the comment was made or edited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upserted {
    Created(u64),
    Updated(u64),
}

/// Posts `body` (which starts with `marker`) as the pull request's plan
/// comment: the earlier one is edited, or a first one made.
pub async fn upsert(
    run: &Run,
    pull_request: u64,
    marker: &str,
    body: &str,
) -> Result<Upserted, GitHubError> {
    let client = run.client()?;
    let list = format!("/issues/{pull_request}/comments");
    let action = format!("list the comments of pull request #{pull_request}");
    let comments = client
        .all_pages(Call {
            method: &Method::GET,
            path: &run.repo_path(&list),
            action: &action,
            permission: Permission::PullRequestsWrite,
        })
        .await?;
    let existing = comments.iter().find_map(|comment| {
        let starts = comment["body"]
            .as_str()
            .is_some_and(|text| text.trim_start().starts_with(marker));
        starts.then(|| comment["id"].as_u64()).flatten()
    });
    let content = json!({ "body": body });
    match existing {
        Some(id) => {
            let path = run.repo_path(&format!("/issues/comments/{id}"));
            let action = format!("update the plan comment on pull request #{pull_request}");
            client
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
            let made: Value = client
                .json(
                    Call {
                        method: &Method::POST,
                        path: &run.repo_path(&list),
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
