//! The GitLab REST calls of the loop: the merge request's notes, the
//! deployments that record applies, and the issues (`gitops::remarks`
//! decides which note and which issue are the loop's).

use hyper::Method;
use serde_json::{Value, json};

use super::{Call, GitLab, Role, whose};
use crate::error::Error;
use crate::forge::ForgeError;
use crate::forge::http::encode;
use crate::gitops::forge::Remark;
use crate::gitops::{Applying, Ended, Honours, RecordKey, Recorded};
use crate::model::{AccountId, Timestamp};

/// The merge request's notes by people (not GitLab's system notes), on
/// every page, oldest first.
pub async fn notes(gitlab: &GitLab, merge_request: u64) -> Result<Vec<Remark>, Error> {
    let me = gitlab.me().await?;
    let list = gitlab.project_path(&format!(
        "/merge_requests/{merge_request}/notes?sort=asc&order_by=created_at"
    ));
    let action = format!("list the notes of merge request !{merge_request}");
    let notes = gitlab
        .api
        .all_pages(Call {
            method: &Method::GET,
            path: &list,
            action: &action,
            needs: Role::Reporter,
        })
        .await?;
    Ok(notes
        .iter()
        .filter(|note| !note["system"].as_bool().unwrap_or(false))
        .filter_map(|note| remark(note, "id", "body", me))
        .collect())
}

/// One note or issue as the loop reads it.
fn remark(item: &Value, id: &str, text: &str, me: u64) -> Option<Remark> {
    Some(Remark {
        id: item[id].as_u64()?,
        whose: whose(item, me),
        text: item[text].as_str().unwrap_or_default().to_owned(),
    })
}

pub async fn add_note(gitlab: &GitLab, merge_request: u64, body: &str) -> Result<u64, Error> {
    let action = format!("note the plan on merge request !{merge_request}");
    let made = gitlab
        .api
        .json(
            Call {
                method: &Method::POST,
                path: &gitlab.project_path(&format!("/merge_requests/{merge_request}/notes")),
                action: &action,
                needs: Role::Reporter,
            },
            Some(&json!({ "body": body })),
        )
        .await?;
    Ok(made["id"].as_u64().unwrap_or_default())
}

pub async fn edit_note(
    gitlab: &GitLab,
    merge_request: u64,
    id: u64,
    body: &str,
) -> Result<(), Error> {
    let action = format!("update the plan note on merge request !{merge_request}");
    gitlab
        .api
        .json(
            Call {
                method: &Method::PUT,
                path: &gitlab.project_path(&format!("/merge_requests/{merge_request}/notes/{id}")),
                action: &action,
                needs: Role::Reporter,
            },
            Some(&json!({ "body": body })),
        )
        .await?;
    Ok(())
}

/// A deployment as the loop weighs it: its commit, and whether the user
/// of the loop's own token made it.
async fn recorded(gitlab: &GitLab, deployment: &Value) -> Result<Recorded, Error> {
    let author = deployment["user"]["username"]
        .as_str()
        .map_or_else(|| "an unknown user".to_owned(), |name| format!("@{name}"));
    Ok(Recorded {
        name: format!("deployment {}", deployment["id"].as_u64().unwrap_or(0)),
        commit: deployment["sha"].as_str().unwrap_or_default().to_owned(),
        by_pipeline: deployment["user"]["id"].as_u64() == Some(gitlab.me().await?),
        author,
    })
}

/// The newest successful deployment to the record's environment that
/// `honours` accepts: the last apply that fully succeeded. Among the
/// newest hundred only: past them, the whole file is applied again, which
/// reads before it writes.
pub async fn last_applied(
    gitlab: &GitLab,
    record: &RecordKey,
    honours: Honours<'_>,
) -> Result<Option<Recorded>, Error> {
    let environment = GitLab::environment(record);
    let path = gitlab.project_path(&format!(
        "/deployments?environment={}&status=success&order_by=id&sort=desc&per_page=100",
        encode(&environment)
    ));
    let action = format!("read the applies recorded in the `{environment}` environment");
    let deployments = gitlab
        .api
        .json(
            Call {
                method: &Method::GET,
                path: &path,
                action: &action,
                needs: Role::Reporter,
            },
            None,
        )
        .await?;
    for deployment in deployments.as_array().into_iter().flatten() {
        let recorded = recorded(gitlab, deployment).await?;
        if honours(&recorded) {
            return Ok(Some(recorded));
        }
    }
    Ok(None)
}

/// The accounts whose own apply of `commit` succeeded since `since`: the
/// successful deployments updated since then to an environment of the
/// record's accounts folder, at that commit. GitLab filters deployments
/// by one environment only, so the folder is matched here.
pub async fn accounts_applied(
    gitlab: &GitLab,
    record: &RecordKey,
    commit: &str,
    since: Timestamp,
) -> Result<Vec<(AccountId, Recorded)>, Error> {
    let folder = GitLab::accounts_folder(record);
    let path = gitlab.project_path(&format!(
        "/deployments?status=success&order_by=updated_at&sort=desc&updated_after={}",
        encode(&since.rfc3339())
    ));
    let action = format!("read the accounts applied by events in `{folder}*`");
    let deployments = gitlab
        .api
        .all_pages(Call {
            method: &Method::GET,
            path: &path,
            action: &action,
            needs: Role::Reporter,
        })
        .await?;
    let mut applied = Vec::new();
    for deployment in &deployments {
        let account = deployment["environment"]["name"]
            .as_str()
            .and_then(|name| name.strip_prefix(folder.as_str()))
            .and_then(AccountId::parse);
        if let Some(account) = account
            && deployment["sha"].as_str() == Some(commit)
        {
            applied.push((account, recorded(gitlab, deployment).await?));
        }
    }
    Ok(applied)
}

/// The project's default branch.
pub async fn default_branch(gitlab: &GitLab) -> Result<String, Error> {
    let action = "read the project's default branch";
    let project = gitlab
        .api
        .json(
            Call {
                method: &Method::GET,
                path: &gitlab.project_path(""),
                action,
                needs: Role::Reporter,
            },
            None,
        )
        .await?;
    project["default_branch"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| {
            ForgeError::setup(
                "GitLab",
                action,
                "the answer has no default branch".to_owned(),
                None,
            )
            .into()
        })
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
        .api
        .json(
            Call {
                method: &Method::POST,
                path: &gitlab.project_path("/deployments"),
                action: &action,
                needs: Role::Developer,
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
        .api
        .json(
            Call {
                method: &Method::PUT,
                path: &gitlab.project_path(&format!("/deployments/{}", applying.0)),
                action: &action,
                needs: Role::Developer,
            },
            Some(&json!({ "status": status })),
        )
        .await?;
    Ok(())
}

/// The open issues labelled `label`, by `iid`, on every page.
pub async fn open_issues(gitlab: &GitLab, label: &str) -> Result<Vec<Remark>, Error> {
    let me = gitlab.me().await?;
    let path = gitlab.project_path(&format!("/issues?state=opened&labels={}", encode(label)));
    let action = format!("list the open issues labelled `{label}`");
    let issues = gitlab
        .api
        .all_pages(Call {
            method: &Method::GET,
            path: &path,
            action: &action,
            needs: Role::Reporter,
        })
        .await?;
    Ok(issues
        .iter()
        .filter_map(|issue| remark(issue, "iid", "description", me))
        .collect())
}

pub async fn update_issue(
    gitlab: &GitLab,
    iid: u64,
    title: &str,
    description: &str,
) -> Result<(), Error> {
    let action = format!("update the drift issue #{iid}");
    gitlab
        .api
        .json(
            Call {
                method: &Method::PUT,
                path: &gitlab.project_path(&format!("/issues/{iid}")),
                action: &action,
                needs: Role::Reporter,
            },
            Some(&json!({ "title": title, "description": description })),
        )
        .await?;
    Ok(())
}

/// Opens an issue labelled `label`; its `iid`.
pub async fn create_issue(
    gitlab: &GitLab,
    label: &str,
    title: &str,
    description: &str,
) -> Result<u64, Error> {
    let action = "open the drift issue";
    let made: Value = gitlab
        .api
        .json(
            Call {
                method: &Method::POST,
                path: &gitlab.project_path("/issues"),
                action,
                needs: Role::Reporter,
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

pub async fn note_on_issue(gitlab: &GitLab, iid: u64, text: &str) -> Result<(), Error> {
    let action = format!("note on the drift issue #{iid}");
    gitlab
        .api
        .json(
            Call {
                method: &Method::POST,
                path: &gitlab.project_path(&format!("/issues/{iid}/notes")),
                action: &action,
                needs: Role::Reporter,
            },
            Some(&json!({ "body": text })),
        )
        .await?;
    Ok(())
}

pub async fn close_issue(gitlab: &GitLab, iid: u64) -> Result<(), Error> {
    let action = format!("close the drift issue #{iid}");
    gitlab
        .api
        .json(
            Call {
                method: &Method::PUT,
                path: &gitlab.project_path(&format!("/issues/{iid}")),
                action: &action,
                needs: Role::Reporter,
            },
            Some(&json!({ "state_event": "close" })),
        )
        .await?;
    Ok(())
}
