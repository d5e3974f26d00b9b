//! The GitLab REST calls of the loop: the merge request's plan note, the
//! deployments that record applies, and the drift issue.

use hyper::Method;
use serde_json::{Value, json};

use super::{Call, GitLab, Role, written_by};
use crate::error::Error;
use crate::forge::ForgeError;
use crate::forge::http::encode;
use crate::gitops::{Applying, Ended, RecordKey, Upserted};

/// Posts `body` (which starts with `marker`) as the merge request's plan
/// note: the earlier one the token's user wrote is edited, or a first one
/// made. Notes are read on every page, oldest first.
pub async fn upsert_note(
    gitlab: &GitLab,
    merge_request: u64,
    marker: &str,
    body: &str,
) -> Result<Upserted, Error> {
    let me = gitlab.me().await?;
    let notes_path = gitlab.project_path(&format!("/merge_requests/{merge_request}/notes"));
    let list = format!("{notes_path}?sort=asc&order_by=created_at");
    let action = format!("list the notes of merge request !{merge_request}");
    let notes = gitlab
        .all_pages(Call {
            method: &Method::GET,
            path: &list,
            action: &action,
            role: Role::Reporter,
        })
        .await?;
    let existing = notes
        .iter()
        .filter(|note| !note["system"].as_bool().unwrap_or(false))
        .filter(|note| written_by(note, me))
        .find(|note| {
            note["body"]
                .as_str()
                .is_some_and(|text| text.trim_start().starts_with(marker))
        })
        .and_then(|note| note["id"].as_u64());
    let content = json!({ "body": body });
    match existing {
        Some(id) => {
            let action = format!("update the plan note on merge request !{merge_request}");
            gitlab
                .json(
                    Call {
                        method: &Method::PUT,
                        path: &format!("{notes_path}/{id}"),
                        action: &action,
                        role: Role::Reporter,
                    },
                    Some(&content),
                )
                .await?;
            Ok(Upserted::Updated(id))
        }
        None => {
            let action = format!("note the plan on merge request !{merge_request}");
            let made = gitlab
                .json(
                    Call {
                        method: &Method::POST,
                        path: &notes_path,
                        action: &action,
                        role: Role::Reporter,
                    },
                    Some(&content),
                )
                .await?;
            Ok(Upserted::Created(made["id"].as_u64().unwrap_or_default()))
        }
    }
}

/// The commit of the newest successful deployment to the record's
/// environment: the last apply that fully succeeded.
pub async fn last_applied(gitlab: &GitLab, record: &RecordKey) -> Result<Option<String>, Error> {
    let environment = GitLab::environment(record);
    let path = gitlab.project_path(&format!(
        "/deployments?environment={}&status=success&order_by=id&sort=desc&per_page=1",
        encode(&environment)
    ));
    let action = format!("read the applies recorded in the `{environment}` environment");
    let deployments = gitlab
        .json(
            Call {
                method: &Method::GET,
                path: &path,
                action: &action,
                role: Role::Reporter,
            },
            None,
        )
        .await?;
    Ok(deployments[0]["sha"].as_str().map(str::to_owned))
}

/// Records that this job starts applying `commit`: a running deployment.
pub async fn begin_apply(
    gitlab: &GitLab,
    record: &RecordKey,
    commit: &str,
) -> Result<Applying, Error> {
    let environment = GitLab::environment(record);
    let action = format!("record the apply of {commit} in the `{environment}` environment");
    let made = gitlab
        .json(
            Call {
                method: &Method::POST,
                path: &gitlab.project_path("/deployments"),
                action: &action,
                role: Role::Developer,
            },
            Some(&json!({
                "environment": environment,
                "sha": commit,
                "ref": gitlab.git_ref,
                "tag": gitlab.ref_is_tag,
                "status": "running",
            })),
        )
        .await?;
    made["id"].as_u64().map(Applying).ok_or_else(|| {
        ForgeError::setup(
            "GitLab",
            &action,
            "the answer has no deployment id".to_owned(),
            None,
        )
        .into()
    })
}

/// Records how the apply ended: only `success` makes it the base of the
/// next one; a cancelled job's apply is `canceled`.
pub async fn finish_apply(
    gitlab: &GitLab,
    record: &RecordKey,
    applying: Applying,
    ended: Ended,
) -> Result<(), Error> {
    let status = match ended {
        Ended::Succeeded => "success",
        Ended::Failed => "failed",
        Ended::Interrupted => "canceled",
    };
    let action = format!(
        "mark the apply (deployment {} to `{}`) {status}",
        applying.0,
        GitLab::environment(record)
    );
    gitlab
        .json(
            Call {
                method: &Method::PUT,
                path: &gitlab.project_path(&format!("/deployments/{}", applying.0)),
                action: &action,
                role: Role::Developer,
            },
            Some(&json!({ "status": status })),
        )
        .await?;
    Ok(())
}

/// The open drift issue's number (its `iid`), if there is one.
pub async fn find_issue(gitlab: &GitLab, label: &str, marker: &str) -> Result<Option<u64>, Error> {
    let me = gitlab.me().await?;
    let path = gitlab.project_path(&format!("/issues?state=opened&labels={}", encode(label)));
    let action = format!("list the open issues labelled `{label}`");
    let issues = gitlab
        .all_pages(Call {
            method: &Method::GET,
            path: &path,
            action: &action,
            role: Role::Reporter,
        })
        .await?;
    Ok(issues
        .iter()
        .filter(|issue| written_by(issue, me))
        .filter(|issue| {
            issue["description"]
                .as_str()
                .is_some_and(|text| text.trim_start().starts_with(marker))
        })
        .filter_map(|issue| issue["iid"].as_u64())
        .min())
}

/// Opens the issue, or updates the open one. Returns its number.
pub async fn save_issue(
    gitlab: &GitLab,
    open: Option<u64>,
    label: &str,
    title: &str,
    description: &str,
) -> Result<u64, Error> {
    match open {
        Some(iid) => {
            let action = format!("update the drift issue #{iid}");
            gitlab
                .json(
                    Call {
                        method: &Method::PUT,
                        path: &gitlab.project_path(&format!("/issues/{iid}")),
                        action: &action,
                        role: Role::Reporter,
                    },
                    Some(&json!({ "title": title, "description": description })),
                )
                .await?;
            Ok(iid)
        }
        None => {
            let action = "open the drift issue";
            let made: Value = gitlab
                .json(
                    Call {
                        method: &Method::POST,
                        path: &gitlab.project_path("/issues"),
                        action,
                        role: Role::Reporter,
                    },
                    Some(&json!({ "title": title, "description": description, "labels": label })),
                )
                .await?;
            made["iid"].as_u64().ok_or_else(|| {
                ForgeError::setup(
                    "GitLab",
                    action,
                    "the answer has no issue number".to_owned(),
                    None,
                )
                .into()
            })
        }
    }
}

/// Notes `why` on the issue and closes it.
pub async fn close_issue(gitlab: &GitLab, iid: u64, why: &str) -> Result<(), Error> {
    let action = format!("note on the drift issue #{iid}");
    gitlab
        .json(
            Call {
                method: &Method::POST,
                path: &gitlab.project_path(&format!("/issues/{iid}/notes")),
                action: &action,
                role: Role::Reporter,
            },
            Some(&json!({ "body": why })),
        )
        .await?;
    let action = format!("close the drift issue #{iid}");
    gitlab
        .json(
            Call {
                method: &Method::PUT,
                path: &gitlab.project_path(&format!("/issues/{iid}")),
                action: &action,
                role: Role::Reporter,
            },
            Some(&json!({ "state_event": "close" })),
        )
        .await?;
    Ok(())
}
