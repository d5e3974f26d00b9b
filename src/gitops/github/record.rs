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

use super::{Call, GitHub, Permission};
use crate::error::Error;
use crate::forge::ForgeError;
use crate::forge::http::encode;
use crate::gitops::{Applying, Ended, Honours, RecordKey, Recorded};
use crate::model::AccountId;

/// The deployment task of an altcontacts apply; other deployments to the
/// same environment are not records.
pub const TASK: &str = "altcontacts:apply";

/// The task of one account's own apply (an event's run): never a base for
/// the file's next apply.
pub const ACCOUNT_TASK: &str = "altcontacts:apply-account";

fn task(record: &RecordKey) -> &'static str {
    match record.account {
        Some(_) => ACCOUNT_TASK,
        None => TASK,
    }
}

/// Whether a deployment is an apply of the record's file (and account):
/// two files in one repository have two records.
fn ours(record: &RecordKey, deployment: &Value) -> bool {
    deployment["task"].as_str() == Some(task(record))
        && deployment["payload"]["file"].as_str() == Some(record.file.as_str())
        && record.account.as_ref().is_none_or(|account| {
            deployment["payload"]["account"].as_str() == Some(account.as_str())
        })
}

/// Whether the deployment's newest status is `success`: its apply wrote
/// and verified every change.
async fn succeeded(github: &GitHub, id: u64) -> Result<bool, Error> {
    let path = github.repo_path(&format!("/deployments/{id}/statuses?per_page=1"));
    let action = format!("read the outcome of the apply recorded as deployment {id}");
    let statuses = github
        .api
        .json(
            Call {
                method: &Method::GET,
                path: &path,
                action: &action,
                needs: Permission::DeploymentsWrite,
            },
            None,
        )
        .await?;
    Ok(statuses[0]["state"].as_str() == Some("success"))
}

/// A deployment as the loop weighs it: its commit, and whether the
/// pipeline's own identity (the user the loop's token writes as) made it.
/// Any branch's job may hold the job's token and write as
/// `github-actions[bot]`: with the pipeline's key, only a record that
/// carries its seal is the pipeline's.
async fn recorded(
    github: &GitHub,
    record: &RecordKey,
    deployment: &Value,
) -> Result<Recorded, Error> {
    let login = deployment["creator"]["login"]
        .as_str()
        .unwrap_or("an unknown user")
        .to_owned();
    let commit = deployment["sha"].as_str().unwrap_or_default().to_owned();
    let sealed = github
        .sealer
        .holds(record, &commit, deployment["payload"]["seal"].as_str());
    Ok(Recorded {
        name: format!("deployment {}", deployment["id"].as_u64().unwrap_or(0)),
        by_pipeline: sealed && login == github.author().await?,
        author: match sealed {
            true => login,
            false => format!("{login}, without the pipeline's seal"),
        },
        commit,
    })
}

/// The accounts whose own apply of `commit` fully succeeded. Listed by
/// commit, so the list is as short as the events of one commit.
pub async fn accounts_applied(
    github: &GitHub,
    record: &RecordKey,
    commit: &str,
) -> Result<Vec<(AccountId, Recorded)>, Error> {
    let deployments = deployments(
        github,
        &format!(
            "environment={}&task={}&sha={}",
            encode(&record.environment),
            encode(ACCOUNT_TASK),
            encode(commit)
        ),
        &format!(
            "read the accounts applied by events in the `{}` environment",
            record.environment
        ),
    )
    .await?;
    let mut applied: Vec<(AccountId, Recorded)> = Vec::new();
    for deployment in &deployments {
        let Some(account) = deployment["payload"]["account"]
            .as_str()
            .and_then(AccountId::parse)
        else {
            continue;
        };
        if ours(&record.of_account(&account), deployment)
            && deployment["sha"].as_str() == Some(commit)
            && !applied.iter().any(|(known, _)| *known == account)
            && succeeded(github, deployment["id"].as_u64().unwrap_or(0)).await?
        {
            let of_account = record.of_account(&account);
            applied.push((account, recorded(github, &of_account, deployment).await?));
        }
    }
    Ok(applied)
}

/// Every deployment `query` selects, for what `action` says.
async fn deployments(github: &GitHub, query: &str, action: &str) -> Result<Vec<Value>, Error> {
    Ok(github
        .api
        .all_pages(Call {
            method: &Method::GET,
            path: &github.repo_path(&format!("/deployments?{query}")),
            action,
            needs: Permission::DeploymentsWrite,
        })
        .await?)
}

/// The newest apply that fully succeeded among those `honours` accepts.
pub async fn last_applied(
    github: &GitHub,
    record: &RecordKey,
    honours: Honours<'_>,
) -> Result<Option<Recorded>, Error> {
    let deployments = deployments(
        github,
        &format!(
            "environment={}&task={}",
            encode(&record.environment),
            encode(task(record))
        ),
        &format!(
            "read the applies recorded in the `{}` environment",
            record.environment
        ),
    )
    .await?;
    // Newest first, as GitHub lists them; sorted again so that no page
    // order can make an older apply look like the last.
    let mut ours: Vec<&Value> = deployments.iter().filter(|d| ours(record, d)).collect();
    ours.sort_by_key(|d| std::cmp::Reverse(d["id"].as_u64().unwrap_or(0)));
    for deployment in ours {
        // Who made it and where, before its outcome is asked for: a
        // stranger's record costs no call.
        let recorded = recorded(github, record, deployment).await?;
        if honours(&recorded) && succeeded(github, deployment["id"].as_u64().unwrap_or(0)).await? {
            return Ok(Some(recorded));
        }
    }
    Ok(None)
}

/// What a deployment of `record`'s apply of `commit` carries: the file, the
/// account, and the pipeline's seal when it has a key.
fn payload(github: &GitHub, record: &RecordKey, commit: &str) -> Value {
    let mut payload = json!({ "file": record.file });
    if let Some(account) = &record.account {
        payload["account"] = json!(account.as_str());
    }
    if let Some(seal) = github.sealer.seal(record, commit) {
        payload["seal"] = json!(seal);
    }
    payload
}

/// Records that this run starts applying `commit`.
pub async fn begin(github: &GitHub, record: &RecordKey, commit: &str) -> Result<Applying, Error> {
    let action = format!(
        "record the apply of {commit} in the `{}` environment",
        record.environment
    );
    let made = github
        .api
        .json(
            Call {
                method: &Method::POST,
                path: &github.repo_path("/deployments"),
                action: &action,
                needs: Permission::DeploymentsWrite,
            },
            Some(&json!({
                "ref": commit,
                "task": task(record),
                "environment": record.environment,
                "auto_merge": false,
                "required_contexts": [],
                "payload": payload(github, record, commit),
                "description": format!("altcontacts apply of {}", record.file),
                "production_environment": true,
            })),
        )
        .await?;
    let applying = Applying(made["id"].as_u64().ok_or_else(|| {
        ForgeError::setup(
            "GitHub",
            &action,
            "the answer has no deployment id".to_owned(),
            None,
        )
    })?);
    status(github, applying, "in_progress", "applying").await?;
    Ok(applying)
}

/// Records how the apply ended: only `success` makes it the base of the
/// next one. GitHub has no state for a cancelled deployment: an
/// interrupted apply is a `failure`.
pub async fn finish(
    github: &GitHub,
    _record: &RecordKey,
    applying: Applying,
    ended: Ended,
    description: &str,
) -> Result<(), Error> {
    let state = match ended {
        Ended::Succeeded => "success",
        Ended::Failed | Ended::Interrupted => "failure",
    };
    status(github, applying, state, description).await
}

async fn status(
    github: &GitHub,
    applying: Applying,
    state: &str,
    description: &str,
) -> Result<(), Error> {
    let path = github.repo_path(&format!("/deployments/{}/statuses", applying.0));
    let action = format!("mark the apply (deployment {}) {state}", applying.0);
    let mut body = json!({
        "state": state,
        "description": description.chars().take(140).collect::<String>(),
        "auto_inactive": false,
    });
    if let Some(url) = github.run_url() {
        body["log_url"] = Value::String(url);
    }
    github
        .api
        .json(
            Call {
                method: &Method::POST,
                path: &path,
                action: &action,
                needs: Permission::DeploymentsWrite,
            },
            Some(&body),
        )
        .await?;
    Ok(())
}
