//! The Bitbucket Cloud REST calls of the loop: the pull request's
//! comments, the record of applies (build statuses, and a repository
//! variable), the issues, and the Code Insights report
//! (`gitops::remarks` decides which comment and which issue are the loop's).

use std::collections::BTreeSet;

use hyper::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Bitbucket, Call, Scope, TERMS};
use crate::error::Error;
use crate::forge::ForgeError;
use crate::forge::http::encode;
use crate::gitops::forge::Remark;
use crate::gitops::on_lines::OnLine;
use crate::gitops::{Ended, RecordKey};
use crate::model::{AccountId, Timestamp};
use crate::plan::Summary;

/// One comment or issue as the loop reads it: by `user` (a comment) or
/// `reporter` (an issue), its text in `content.raw`.
fn remark(item: &Value, author: &str, me: &str) -> Option<Remark> {
    Some(Remark {
        id: item["id"].as_u64()?,
        mine: item[author]["uuid"].as_str() == Some(me),
        text: item["content"]["raw"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    })
}

fn missing(action: &str, what: &str) -> Error {
    ForgeError::setup(
        TERMS.forge,
        action,
        format!("the answer has no {what}"),
        None,
    )
    .into()
}

/// The pull request's comments that are still there, on every page,
/// oldest first.
pub async fn comments(bitbucket: &Bitbucket, pull_request: u64) -> Result<Vec<Remark>, Error> {
    let me = bitbucket.me().await?;
    let path = bitbucket.repo_path(&format!(
        "/pullrequests/{pull_request}/comments?sort=created_on"
    ));
    let action = format!("list the comments of pull request #{pull_request}");
    let comments = bitbucket
        .all_pages(Call {
            method: &Method::GET,
            path: &path,
            action: &action,
            scope: Scope::PullRequestWrite,
        })
        .await?;
    Ok(comments
        .iter()
        .filter(|comment| !comment["deleted"].as_bool().unwrap_or(false))
        .filter_map(|comment| remark(comment, "user", me))
        .collect())
}

pub async fn add_comment(
    bitbucket: &Bitbucket,
    pull_request: u64,
    body: &str,
) -> Result<u64, Error> {
    let action = format!("comment the plan on pull request #{pull_request}");
    let made = bitbucket
        .json(
            Call {
                method: &Method::POST,
                path: &bitbucket.repo_path(&format!("/pullrequests/{pull_request}/comments")),
                action: &action,
                scope: Scope::PullRequestWrite,
            },
            Some(&json!({ "content": { "raw": body } })),
        )
        .await?;
    made["id"]
        .as_u64()
        .ok_or_else(|| missing(&action, "comment id"))
}

pub async fn edit_comment(
    bitbucket: &Bitbucket,
    pull_request: u64,
    id: u64,
    body: &str,
) -> Result<(), Error> {
    let action = format!("update the plan comment on pull request #{pull_request}");
    bitbucket
        .json(
            Call {
                method: &Method::PUT,
                path: &bitbucket.repo_path(&format!("/pullrequests/{pull_request}/comments/{id}")),
                action: &action,
                scope: Scope::PullRequestWrite,
            },
            Some(&json!({ "content": { "raw": body } })),
        )
        .await?;
    Ok(())
}

/// The record's short name: the environment and the file, digested to fit
/// a status key (at most 40 characters with an account) and a variable's
/// name.
fn record_digest(record: &RecordKey) -> String {
    let digest = Sha256::digest(format!("{}\0{}", record.environment, record.file).as_bytes());
    digest
        .iter()
        .take(6)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The build status key of an apply of the record.
fn status_key(record: &RecordKey) -> String {
    match &record.account {
        None => format!("altcontacts-{}", record_digest(record)),
        Some(account) => format!("altcontacts-{}-{account}", record_digest(record)),
    }
}

/// The repository variable that names the last commit whose apply of the
/// record's file fully succeeded.
fn variable_name(record: &RecordKey) -> String {
    format!(
        "ALTCONTACTS_APPLIED_{}",
        record_digest(record).to_uppercase()
    )
}

/// What the build status says an apply is, as people read it on the commit.
fn status_name(record: &RecordKey) -> String {
    match &record.account {
        None => format!(
            "altcontacts apply of {} ({})",
            record.file, record.environment
        ),
        Some(account) => format!(
            "altcontacts apply of {} to account {account} ({})",
            record.file, record.environment
        ),
    }
}

/// Sets the build status of the record's apply of `commit`; Bitbucket
/// replaces a status of the same key.
pub async fn set_status(
    bitbucket: &Bitbucket,
    record: &RecordKey,
    commit: &str,
    state: &str,
    description: &str,
) -> Result<(), Error> {
    let action = format!("record the apply of {commit} as {state}");
    let url = bitbucket
        .pipeline_url
        .clone()
        .unwrap_or_else(|| format!("https://bitbucket.org/{}", bitbucket.full_name));
    bitbucket
        .json(
            Call {
                method: &Method::POST,
                path: &bitbucket.repo_path(&format!("/commit/{commit}/statuses/build")),
                action: &action,
                scope: Scope::RepositoryWrite,
            },
            Some(&json!({
                "key": status_key(record),
                "state": state,
                "name": status_name(record),
                "url": url,
                "description": description.chars().take(255).collect::<String>(),
            })),
        )
        .await?;
    Ok(())
}

/// The repository's variables, on every page.
async fn variables(bitbucket: &Bitbucket, action: &str) -> Result<Vec<Value>, Error> {
    bitbucket
        .all_pages(Call {
            method: &Method::GET,
            path: &bitbucket.repo_path("/pipelines_config/variables"),
            action,
            scope: Scope::PipelineVariable,
        })
        .await
}

/// The commit the record's variable names.
pub async fn last_applied(
    bitbucket: &Bitbucket,
    record: &RecordKey,
) -> Result<Option<String>, Error> {
    let name = variable_name(record);
    let variables = variables(
        bitbucket,
        &format!("read the last applied commit (the repository variable {name})"),
    )
    .await?;
    Ok(variables
        .iter()
        .find(|variable| variable["key"].as_str() == Some(&name))
        .and_then(|variable| variable["value"].as_str())
        .map(str::to_owned))
}

/// Records how the apply ended: its build status, and for the whole file's
/// apply that fully succeeded, the variable the next apply bases itself on.
pub async fn finish_apply(
    bitbucket: &Bitbucket,
    record: &RecordKey,
    commit: &str,
    ended: Ended,
    description: &str,
) -> Result<(), Error> {
    let state = match ended {
        Ended::Succeeded => "SUCCESSFUL",
        Ended::Failed => "FAILED",
        Ended::Interrupted => "STOPPED",
    };
    set_status(bitbucket, record, commit, state, description).await?;
    if ended != Ended::Succeeded || record.account.is_some() {
        return Ok(());
    }
    let name = variable_name(record);
    let action = format!("record {commit} as the last applied (the repository variable {name})");
    let existing = variables(bitbucket, &action).await?;
    let uuid = existing
        .iter()
        .find(|variable| variable["key"].as_str() == Some(&name))
        .and_then(|variable| variable["uuid"].as_str());
    let (method, path) = match uuid {
        Some(uuid) => (
            Method::PUT,
            bitbucket.repo_path(&format!("/pipelines_config/variables/{}", encode(uuid))),
        ),
        None => (
            Method::POST,
            bitbucket.repo_path("/pipelines_config/variables"),
        ),
    };
    bitbucket
        .json(
            Call {
                method: &method,
                path: &path,
                action: &action,
                scope: Scope::PipelineVariable,
            },
            Some(&json!({ "key": name, "value": commit, "secured": false })),
        )
        .await?;
    Ok(())
}

/// The accounts whose own apply of `commit` succeeded since `since`: the
/// commit's successful build statuses of the record's accounts.
pub async fn accounts_applied(
    bitbucket: &Bitbucket,
    record: &RecordKey,
    commit: &str,
    since: Timestamp,
) -> Result<BTreeSet<AccountId>, Error> {
    let prefix = format!("{}-", status_key(record));
    let action = format!("read the accounts applied by events at {commit}");
    let statuses = bitbucket
        .all_pages(Call {
            method: &Method::GET,
            path: &bitbucket.repo_path(&format!("/commit/{commit}/statuses")),
            action: &action,
            scope: Scope::RepositoryWrite,
        })
        .await?;
    Ok(statuses
        .iter()
        .filter(|status| status["state"].as_str() == Some("SUCCESSFUL"))
        .filter(|status| {
            status["updated_on"]
                .as_str()
                .and_then(Timestamp::parse_rfc3339)
                .is_some_and(|updated| updated >= since)
        })
        .filter_map(|status| {
            status["key"]
                .as_str()?
                .strip_prefix(prefix.as_str())
                .and_then(AccountId::parse)
        })
        .collect())
}

/// The open issues (Bitbucket's `new` and `open`), on every page; `None`
/// when the repository's issue tracker is off.
pub async fn open_issues(bitbucket: &Bitbucket) -> Result<Option<Vec<Remark>>, Error> {
    let me = bitbucket.me().await?;
    let path = bitbucket.repo_path(&format!(
        "/issues?q={}&sort=id",
        encode(r#"state="new" OR state="open""#)
    ));
    let call = Call {
        method: &Method::GET,
        path: &path,
        action: "list the open issues",
        scope: Scope::IssueWrite,
    };
    bitbucket.need_token(call)?;
    let issues = match bitbucket.client.all_pages(call.path).await {
        Ok(issues) => issues,
        Err(crate::forge::http::Failure::Refused(answer))
            if answer.status == 404 && answer.message().contains("no issue tracker") =>
        {
            return Ok(None);
        }
        Err(failure) => return Err(bitbucket.error(call, failure)),
    };
    Ok(Some(
        issues
            .iter()
            .filter_map(|issue| remark(issue, "reporter", me))
            .collect(),
    ))
}

/// Opens an issue; its number. Bitbucket's issues have no labels: the
/// loop knows its own by the marker and the reporter.
pub async fn create_issue(bitbucket: &Bitbucket, title: &str, body: &str) -> Result<u64, Error> {
    let action = "open the drift issue";
    let made = bitbucket
        .json(
            Call {
                method: &Method::POST,
                path: &bitbucket.repo_path("/issues"),
                action,
                scope: Scope::IssueWrite,
            },
            Some(&json!({ "title": title, "content": { "raw": body }, "kind": "bug" })),
        )
        .await?;
    made["id"]
        .as_u64()
        .ok_or_else(|| missing(action, "issue id"))
}

async fn put_issue(bitbucket: &Bitbucket, id: u64, action: &str, body: Value) -> Result<(), Error> {
    bitbucket
        .json(
            Call {
                method: &Method::PUT,
                path: &bitbucket.repo_path(&format!("/issues/{id}")),
                action,
                scope: Scope::IssueWrite,
            },
            Some(&body),
        )
        .await?;
    Ok(())
}

pub async fn update_issue(
    bitbucket: &Bitbucket,
    id: u64,
    title: &str,
    body: &str,
) -> Result<(), Error> {
    let action = format!("update the drift issue #{id}");
    put_issue(
        bitbucket,
        id,
        &action,
        json!({ "title": title, "content": { "raw": body } }),
    )
    .await
}

/// Closes the issue as done: Bitbucket's `resolved`.
pub async fn resolve_issue(bitbucket: &Bitbucket, id: u64) -> Result<(), Error> {
    let action = format!("resolve the drift issue #{id}");
    put_issue(bitbucket, id, &action, json!({ "state": "resolved" })).await
}

pub async fn comment_on_issue(bitbucket: &Bitbucket, id: u64, text: &str) -> Result<(), Error> {
    let action = format!("comment on the drift issue #{id}");
    bitbucket
        .json(
            Call {
                method: &Method::POST,
                path: &bitbucket.repo_path(&format!("/issues/{id}/comments")),
                action: &action,
                scope: Scope::IssueWrite,
            },
            Some(&json!({ "content": { "raw": text } })),
        )
        .await?;
    Ok(())
}

/// The most annotations one request may carry, and a report may hold.
const ANNOTATIONS_PER_REQUEST: usize = 100;
const ANNOTATIONS_PER_REPORT: usize = 1000;
/// The most characters an annotation's summary holds.
const SUMMARY_LIMIT: usize = 450;

/// The Code Insights report of the step's commit, replaced on every run:
/// the plan's counts (`None`: the file is invalid, the report failed) and
/// what is on the file's lines.
pub async fn report(
    bitbucket: &Bitbucket,
    details: &str,
    counts: Option<&Summary>,
    on_lines: &[OnLine],
) -> Result<(), Error> {
    let Some(commit) = &bitbucket.commit else {
        return Ok(());
    };
    let key = "altcontacts-plan";
    let path = bitbucket.repo_path(&format!("/commit/{commit}/reports/{key}"));
    let data: Vec<Value> = counts.map_or_else(Vec::new, |summary| {
        [
            ("To create", summary.create),
            ("To update", summary.update),
            ("To delete", summary.delete),
        ]
        .into_iter()
        .map(|(title, value)| json!({ "title": title, "type": "NUMBER", "value": value }))
        .collect()
    });
    bitbucket
        .json(
            Call {
                method: &Method::PUT,
                path: &path,
                action: "write the plan's Code Insights report",
                scope: Scope::RepositoryWrite,
            },
            Some(&json!({
                "title": "altcontacts plan",
                "details": details,
                "report_type": "SECURITY",
                "reporter": "altcontacts",
                "result": if counts.is_some() { "PASSED" } else { "FAILED" },
                "data": data,
            })),
        )
        .await?;
    let annotations: Vec<Value> = on_lines
        .iter()
        .take(ANNOTATIONS_PER_REPORT)
        .map(|on_line| {
            json!({
                "external_id": on_line.fingerprint,
                "annotation_type": if on_line.invalid { "BUG" } else { "CODE_SMELL" },
                "summary": on_line.message.chars().take(SUMMARY_LIMIT).collect::<String>(),
                "details": on_line.message,
                "severity": if on_line.invalid { "HIGH" } else { "LOW" },
                "path": on_line.path,
                "line": on_line.line,
            })
        })
        .collect();
    for batch in annotations.chunks(ANNOTATIONS_PER_REQUEST) {
        bitbucket
            .json(
                Call {
                    method: &Method::POST,
                    path: &format!("{path}/annotations"),
                    action: "annotate the file's lines on the plan's report",
                    scope: Scope::RepositoryWrite,
                },
                Some(&Value::Array(batch.to_vec())),
            )
            .await?;
    }
    Ok(())
}
