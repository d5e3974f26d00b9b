//! The Bitbucket Cloud REST calls of the loop, as its `Forge`: the pull
//! request's comments, the record of applies (build statuses, and a
//! repository variable), the issues, and the Code Insights report
//! (`gitops::remarks` decides which comment and which issue are the loop's).

use hyper::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Bitbucket, SCOPES, Scope, TERMS, TOKEN_VARIABLE, call, take};
use crate::config::FileProblems;
use crate::error::Error;
use crate::forge::ForgeError;
use crate::forge::http::encode;
use crate::git::Repository;
use crate::gitops::forge::{NoIssues, Remark, Whose};
use crate::gitops::on_lines::{self, OnLine};
use crate::gitops::{Applying, Ended, Forge, Honours, RecordKey, Recorded, Terms};
use crate::model::{AccountId, Timestamp, Warning};
use crate::plan::Summary;

/// An answer that lacks what the call made.
pub fn missing(action: &str, what: &str) -> Error {
    ForgeError::setup(
        TERMS.forge,
        action,
        format!("the answer has no {what}"),
        None,
    )
    .into()
}

/// One comment or issue as the loop reads it: by `user` (a comment) or
/// `reporter` (an issue), its text in `content.raw`.
fn remark(item: &Value, author: &str, me: Option<&str>) -> Option<Remark> {
    Some(Remark {
        id: item["id"].as_u64()?,
        whose: Whose::of(item[author]["uuid"].as_str(), me),
        text: item["content"]["raw"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    })
}

/// `{"content": {"raw": text}}`, as comments and issues take their text.
fn content(text: &str) -> Value {
    json!({ "content": { "raw": text } })
}

/// The record's build status key: the environment and the file, digested
/// to fit a key of 40 characters with an account, and a variable's name.
fn status_key(record: &RecordKey) -> String {
    let digest = Sha256::digest(format!("{}\0{}", record.environment, record.file).as_bytes());
    let digest = hex::encode(&digest[..6]);
    match &record.account {
        None => format!("altcontacts-{digest}"),
        Some(account) => format!("altcontacts-{digest}-{account}"),
    }
}

/// The repository variable that names the last commit whose apply of the
/// record's file fully succeeded.
fn variable_name(record: &RecordKey) -> String {
    let key = status_key(&RecordKey {
        account: None,
        ..record.clone()
    });
    key.replace("altcontacts-", "ALTCONTACTS_APPLIED_")
        .to_uppercase()
}

/// The most characters of a build status's description.
const DESCRIPTION_LIMIT: usize = 255;

/// How a record names the step that wrote it: ` [step PIPELINE/STEP]`.
const STEP_MARK: (&str, &str) = (" [step ", "]");

/// The pipeline and step a record names, if it names one.
fn named_step(text: &str) -> Option<(&str, &str)> {
    let (_, rest) = text.rsplit_once(STEP_MARK.0)?;
    rest.strip_suffix(STEP_MARK.1)?.split_once('/')
}

/// The most annotations one request may carry, and a report may hold, and
/// the most characters of an annotation's summary.
const ANNOTATIONS_PER_REQUEST: usize = 100;
const ANNOTATIONS_PER_REPORT: usize = 1000;
const SUMMARY_LIMIT: usize = 450;

impl Bitbucket {
    /// Sets the build status of the record's apply of `commit`; Bitbucket
    /// replaces a status of the same key.
    async fn set_status(
        &self,
        record: &RecordKey,
        commit: &str,
        state: &str,
        description: &str,
    ) -> Result<(), Error> {
        let name = match &record.account {
            None => format!(
                "altcontacts apply of {} ({})",
                record.file, record.environment
            ),
            Some(account) => format!("altcontacts apply of {} to account {account}", record.file),
        };
        let url = (self.pipeline_url.clone())
            .unwrap_or_else(|| format!("https://bitbucket.org/{}", self.api.words.full_name));
        let path = self.repo_path(&format!("/commit/{commit}/statuses/build"));
        let action = format!("record the apply of {commit} as {state}");
        // The step that wrote it ends the description, so that whoever
        // reads the status can ask Bitbucket whether that step was the
        // default branch's and succeeded.
        let step = self.step_mark().unwrap_or_default();
        let room = DESCRIPTION_LIMIT - step.chars().count();
        let body = json!({
            "key": status_key(record),
            "state": state,
            "name": name,
            "url": url,
            "description": format!("{}{step}", description.chars().take(room).collect::<String>()),
        });
        Ok(self
            .api
            .send(
                call(&Method::POST, &path, &action, Scope::RepositoryWrite),
                &body,
            )
            .await?)
    }

    /// ` [step PIPELINE/STEP]` of the step this runs in.
    fn step_mark(&self) -> Option<String> {
        let (pipeline, step) = self.step.as_ref()?;
        Some(format!("{}{pipeline}/{step}{}", STEP_MARK.0, STEP_MARK.1))
    }

    /// A record of `commit` that names the step which wrote it (`text`
    /// ends with its mark), as the loop weighs it: the pipeline's own only
    /// when Bitbucket says that step ran for the default branch, at that
    /// commit, and succeeded. Records carry no author on Bitbucket (build
    /// statuses and variables have none), and any pipeline holding the
    /// token can write them; a step's outcome only Bitbucket writes.
    async fn recorded(&self, name: String, commit: &str, text: &str) -> Result<Recorded, Error> {
        let stranger = |author: String| Recorded {
            name: name.clone(),
            commit: commit.to_owned(),
            author,
            by_pipeline: false,
        };
        let Some((pipeline, step)) = named_step(text) else {
            return Ok(stranger(
                "whoever wrote it, for it names no pipeline step".to_owned(),
            ));
        };
        let action = format!("check the pipeline {pipeline} that {name} names");
        let path = self.repo_path(&format!("/pipelines/{}", encode(pipeline)));
        let found = |status, _: &str| status == 404;
        let Some(ran) = (self.api)
            .json_if(call(&Method::GET, &path, &action, Scope::Pipeline), found)
            .await?
        else {
            return Ok(stranger(format!(
                "a pipeline Bitbucket does not know ({pipeline})"
            )));
        };
        let path = format!("{path}/steps/{}", encode(step));
        let Some(step) = (self.api)
            .json_if(call(&Method::GET, &path, &action, Scope::Pipeline), found)
            .await?
        else {
            return Ok(stranger(format!("a step Bitbucket does not know ({step})")));
        };
        let branch = ran["target"]["ref_name"].as_str().unwrap_or("no branch");
        let number = ran["build_number"].as_u64().unwrap_or(0);
        let succeeded = step["state"]["name"].as_str() == Some("COMPLETED")
            && step["state"]["result"]["name"].as_str() == Some("SUCCESSFUL");
        let at_commit = ran["target"]["commit"]["hash"].as_str() == Some(commit);
        // Only the pipelines that apply: a push's, and the event's custom
        // one. Any successful step of another (the audit's, a drift
        // report's) would vouch for a commit nothing applied.
        let selector = &ran["target"]["selector"];
        let applies = match (selector["type"].as_str(), selector["pattern"].as_str()) {
            (Some("branches"), _) => true,
            (Some("custom"), Some(pattern)) => pattern == super::kind::PIPELINE,
            _ => false,
        };
        let default = self.default_branch_name().await?;
        Ok(Recorded {
            name,
            commit: commit.to_owned(),
            author: format!(
                "a step of pipeline #{number} on {branch}{}{}{}",
                if applies {
                    ""
                } else {
                    ", which does not apply"
                },
                if at_commit { "" } else { " for another commit" },
                if succeeded {
                    ""
                } else {
                    " that did not succeed"
                }
            ),
            by_pipeline: branch == default && applies && at_commit && succeeded,
        })
    }

    /// The repository's main branch, as Bitbucket names it.
    pub(super) async fn default_branch_name(&self) -> Result<String, Error> {
        self.main_branch
            .get_or_try_init(|| async {
                let action = "read the repository's main branch";
                let path = self.repo_path("");
                let repository = (self.api)
                    .json(call(&Method::GET, &path, action, Scope::Repository), None)
                    .await?;
                repository["mainbranch"]["name"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| missing(action, "main branch"))
            })
            .await
            .cloned()
    }

    /// The repository variable of `name`: its UUID and value.
    async fn variable(&self, name: &str, action: &str) -> Result<Option<(String, String)>, Error> {
        let path = self.repo_path("/pipelines_config/variables");
        let variables = (self.api)
            .all_pages(call(&Method::GET, &path, action, Scope::PipelineVariable))
            .await?;
        Ok(variables
            .iter()
            .find(|variable| variable["key"].as_str() == Some(name))
            .map(|variable| {
                let text = |field: &str| variable[field].as_str().unwrap_or_default().to_owned();
                (text("uuid"), text("value"))
            }))
    }

    /// Changes the issue as `body` says (`verb`: what that is, for errors).
    async fn put_issue(&self, id: u64, verb: &str, body: Value) -> Result<(), Error> {
        let path = self.repo_path(&format!("/issues/{id}"));
        let action = format!("{verb} the drift issue #{id}");
        Ok(self
            .api
            .send(call(&Method::PUT, &path, &action, Scope::IssueWrite), &body)
            .await?)
    }

    /// The Code Insights report of the step's commit, replaced on every
    /// run: the plan's counts (`None`: the file is invalid, the report
    /// failed) and what is on the file's lines.
    async fn report(
        &self,
        details: &str,
        counts: Option<&Summary>,
        on_lines: &[OnLine],
    ) -> Result<(), Error> {
        let Some(commit) = &self.commit else {
            return Ok(());
        };
        let path = self.repo_path(&format!("/commit/{commit}/reports/altcontacts-plan"));
        let data: Vec<Value> = counts.map_or_else(Vec::new, |summary| {
            [
                ("To create", summary.create),
                ("To update", summary.update),
                ("To delete", summary.delete),
                ("To subscribe", summary.subscribe),
            ]
            .into_iter()
            .map(|(title, value)| json!({ "title": title, "type": "NUMBER", "value": value }))
            .collect()
        });
        let report = json!({
            "title": "altcontacts plan",
            "details": details,
            "report_type": "SECURITY",
            "reporter": "altcontacts",
            "result": if counts.is_some() { "PASSED" } else { "FAILED" },
            "data": data,
        });
        let action = "write the plan's Code Insights report";
        self.api
            .send(
                call(&Method::PUT, &path, action, Scope::RepositoryWrite),
                &report,
            )
            .await?;
        let annotations: Vec<Value> = (on_lines.iter().take(ANNOTATIONS_PER_REPORT))
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
        let path = format!("{path}/annotations");
        let action = "annotate the file's lines on the plan's report";
        for batch in annotations.chunks(ANNOTATIONS_PER_REQUEST) {
            let call = call(&Method::POST, &path, action, Scope::RepositoryWrite);
            self.api.send(call, &Value::Array(batch.to_vec())).await?;
        }
        Ok(())
    }
}

impl Forge for Bitbucket {
    fn terms(&self) -> &'static Terms {
        &TERMS
    }

    fn review(&self) -> Option<u64> {
        self.pull_request
    }

    /// The destination's commit as the pull request's pipeline saw it,
    /// else the destination branch as fetched.
    fn review_base(&self, _repository: &Repository) -> Result<Option<String>, Error> {
        let branch = || (self.destination_branch.as_ref()).map(|branch| format!("origin/{branch}"));
        Ok(self.destination_commit.clone().or_else(branch))
    }

    fn run_link(&self) -> String {
        match &self.pipeline_url {
            Some(url) => format!("[this pipeline]({url})"),
            None => "this pipeline".to_owned(),
        }
    }

    /// The pull request's comments that are still there, on every page.
    async fn notes(&self, review: u64) -> Result<Vec<Remark>, Error> {
        let me = self.me().await?;
        let path = self.repo_path(&format!("/pullrequests/{review}/comments?sort=created_on"));
        let action = format!("list the comments of pull request #{review}");
        let comments = (self.api)
            .all_pages(call(&Method::GET, &path, &action, Scope::PullRequestWrite))
            .await?;
        Ok(comments
            .iter()
            .filter(|comment| !comment["deleted"].as_bool().unwrap_or(false))
            .filter_map(|comment| remark(comment, "user", me))
            .collect())
    }

    async fn add_note(&self, review: u64, body: &str) -> Result<u64, Error> {
        let path = self.repo_path(&format!("/pullrequests/{review}/comments"));
        let action = format!("comment the plan on pull request #{review}");
        let call = call(&Method::POST, &path, &action, Scope::PullRequestWrite);
        let made = self.api.json(call, Some(&content(body))).await?;
        made["id"]
            .as_u64()
            .ok_or_else(|| missing(&action, "comment id"))
    }

    async fn edit_note(&self, review: u64, id: u64, body: &str) -> Result<(), Error> {
        let path = self.repo_path(&format!("/pullrequests/{review}/comments/{id}"));
        let action = format!("update the plan comment on pull request #{review}");
        let call = call(&Method::PUT, &path, &action, Scope::PullRequestWrite);
        Ok(self.api.send(call, &content(body)).await?)
    }

    async fn default_branch(&self) -> Result<String, Error> {
        self.default_branch_name().await
    }

    /// The commit the record's variable names, with the step that wrote
    /// it: `COMMIT [step PIPELINE/STEP]`.
    async fn last_applied(
        &self,
        record: &RecordKey,
        honours: Honours<'_>,
    ) -> Result<Option<Recorded>, Error> {
        let name = variable_name(record);
        let action = format!("read the last applied commit (the repository variable {name})");
        let Some((_, value)) = self.variable(&name, &action).await? else {
            return Ok(None);
        };
        let commit = value.split_whitespace().next().unwrap_or_default();
        let recorded =
            (self.recorded(format!("the repository variable {name}"), commit, &value)).await?;
        Ok(honours(&recorded).then_some(recorded))
    }

    /// The commit's successful build statuses of the record's accounts.
    async fn accounts_applied(
        &self,
        record: &RecordKey,
        commit: &str,
        since: Timestamp,
    ) -> Result<Vec<(AccountId, Recorded)>, Error> {
        let prefix = format!("{}-", status_key(record));
        let path = self.repo_path(&format!("/commit/{commit}/statuses"));
        let action = format!("read the accounts applied by events at {commit}");
        let statuses = (self.api)
            .all_pages(call(&Method::GET, &path, &action, Scope::RepositoryWrite))
            .await?;
        let recent = |status: &Value| {
            let updated = status["updated_on"]
                .as_str()
                .and_then(Timestamp::parse_rfc3339);
            updated.is_some_and(|updated| updated >= since)
        };
        let mut applied = Vec::new();
        for status in &statuses {
            let account = status["key"]
                .as_str()
                .and_then(|key| key.strip_prefix(prefix.as_str()))
                .and_then(AccountId::parse);
            let Some(account) = account else { continue };
            if status["state"].as_str() != Some("SUCCESSFUL") || !recent(status) {
                continue;
            }
            let name = format!(
                "the build status {}",
                status["key"].as_str().unwrap_or_default()
            );
            let description = status["description"].as_str().unwrap_or_default();
            applied.push((account, self.recorded(name, commit, description).await?));
        }
        Ok(applied)
    }

    async fn begin_apply(&self, record: &RecordKey, commit: &str) -> Result<Applying, Error> {
        self.set_status(record, commit, "INPROGRESS", "applying")
            .await?;
        *self.applying.lock().unwrap_or_else(|e| e.into_inner()) = Some(commit.to_owned());
        Ok(Applying(0))
    }

    /// The build status, and for the whole file's apply that fully
    /// succeeded, the variable the next apply bases itself on.
    async fn finish_apply(
        &self,
        record: &RecordKey,
        _: Applying,
        ended: Ended,
        description: &str,
    ) -> Result<(), Error> {
        let Some(commit) = take(&self.applying) else {
            return Ok(());
        };
        let state = match ended {
            Ended::Succeeded => "SUCCESSFUL",
            Ended::Failed => "FAILED",
            Ended::Interrupted => "STOPPED",
        };
        self.set_status(record, &commit, state, description).await?;
        if ended != Ended::Succeeded || record.account.is_some() {
            return Ok(());
        }
        let name = variable_name(record);
        let action =
            format!("record {commit} as the last applied (the repository variable {name})");
        let (method, path) = match self.variable(&name, &action).await? {
            Some((uuid, _)) => (
                Method::PUT,
                format!("/pipelines_config/variables/{}", encode(&uuid)),
            ),
            None => (Method::POST, "/pipelines_config/variables".to_owned()),
        };
        let path = self.repo_path(&path);
        let value = format!("{commit}{}", self.step_mark().unwrap_or_default());
        let body = json!({ "key": name, "value": value, "secured": false });
        Ok(self
            .api
            .send(
                call(&method, &path, &action, Scope::PipelineVariable),
                &body,
            )
            .await?)
    }

    /// The open issues (Bitbucket's `new` and `open`), or why there are
    /// none to keep: the issue tracker is off, or the token cannot hold an
    /// issue scope (a repository access token cannot). Bitbucket's issues
    /// have no labels: the loop knows its own by the marker and the
    /// reporter.
    async fn open_issues(&self, _label: &str) -> Result<Result<Vec<Remark>, NoIssues>, Error> {
        let me = self.me().await?;
        let query = encode(r#"state="new" OR state="open""#);
        let path = self.repo_path(&format!("/issues?q={query}&sort=id"));
        let call = call(
            &Method::GET,
            &path,
            "list the open issues",
            Scope::IssueWrite,
        );
        let tracker_off = |status, says: &str| status == 404 && says.contains("no issue tracker");
        let issues = match self.api.all_pages_if(call, tracker_off).await {
            Ok(Some(issues)) => issues,
            Ok(None) => return Ok(Err(NoIssues::turned_off(&TERMS))),
            Err(refused) if refused.status == Some(403) => {
                return Ok(Err(NoIssues {
                    why: format!(
                        "the token in {TOKEN_VARIABLE} may not keep issues (a repository access token cannot hold the `issue:write` scope)"
                    ),
                    remedy: format!(
                        "put a token that can in {TOKEN_VARIABLE}: an OAuth consumer's access token with the scopes {SCOPES}, `issue:write` and `account`"
                    ),
                }));
            }
            Err(refused) => return Err(refused.into()),
        };
        Ok(Ok((issues.iter())
            .filter_map(|i| remark(i, "reporter", me))
            .collect()))
    }

    async fn create_issue(&self, _label: &str, title: &str, body: &str) -> Result<u64, Error> {
        let action = "open the drift issue";
        let path = self.repo_path("/issues");
        let mut issue = content(body);
        issue["title"] = json!(title);
        issue["kind"] = json!("bug");
        let call = call(&Method::POST, &path, action, Scope::IssueWrite);
        let made = self.api.json(call, Some(&issue)).await?;
        made["id"]
            .as_u64()
            .ok_or_else(|| missing(action, "issue id"))
    }

    async fn update_issue(&self, number: u64, title: &str, body: &str) -> Result<(), Error> {
        let body = json!({ "title": title, "content": { "raw": body } });
        self.put_issue(number, "update", body).await
    }

    async fn comment_on_issue(&self, number: u64, text: &str) -> Result<(), Error> {
        let path = self.repo_path(&format!("/issues/{number}/comments"));
        let action = format!("comment on the drift issue #{number}");
        let call = call(&Method::POST, &path, &action, Scope::IssueWrite);
        Ok(self.api.send(call, &content(text)).await?)
    }

    /// Closes the issue as done: Bitbucket's `resolved`.
    async fn close_issue(&self, number: u64) -> Result<(), Error> {
        self.put_issue(number, "resolve", json!({ "state": "resolved" }))
            .await
    }

    fn full_plan_place(&self, artifact: &str) -> String {
        format!(
            "`{artifact}/plan.md` in the artifacts of {}",
            self.run_link()
        )
    }

    fn keep_full_plan(&self, artifact: &str, markdown: &str, cut: bool) -> Result<(), Error> {
        Ok(crate::forge::keep_in_artifacts(
            &self.clone_dir,
            artifact,
            markdown,
            cut,
        )?)
    }

    /// A failed Code Insights report of the commit, each problem annotated
    /// on its line of the pull request.
    async fn report_problems(
        &self,
        artifact: Option<&str>,
        problems: &FileProblems,
    ) -> Result<(), Error> {
        if artifact.is_none() {
            return Ok(());
        }
        let count = crate::model::count(problems.problems.len(), "problem");
        let details = format!(
            "{} is invalid: {count}, so there is no plan.",
            problems.file
        );
        self.report(&details, None, &on_lines::problems(problems))
            .await
    }

    /// Kept for the plan's report, which carries them.
    async fn report_warnings(
        &self,
        artifact: Option<&str>,
        warnings: &[Warning],
    ) -> Result<(), Error> {
        if artifact.is_some() {
            *self.warnings.lock().unwrap_or_else(|e| e.into_inner()) = warnings.to_vec();
        }
        Ok(())
    }

    /// The plan's report: its counts (nothing of the contacts), and the
    /// file's warnings on their lines.
    async fn report_counts(&self, _artifact: &str, summary: &Summary) -> Result<(), Error> {
        let warnings = on_lines::warnings(&take(&self.warnings));
        let details = "What merging this pull request changes in AWS.";
        self.report(details, Some(summary), &warnings).await
    }
}
