//! An in-process emulator of the part of GitHub's REST API the loop uses,
//! with GitHub's limits: issue and pull-request comments (at most 65,536
//! characters, listed in pages of at most 100 with `Link` headers),
//! issues, deployments and their statuses (the record of the last applied
//! commit), and releases with their assets (downloaded through a redirect,
//! as from github.com). Every token has the permissions of the job that
//! holds it, and a call beyond them is refused as GitHub refuses it.

#![allow(dead_code)] // each scenario uses a different part

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::http_query::query;
use crate::http_server::{HttpServer, Reply};

/// GitHub's limit on a comment's or an issue's body.
pub const BODY_LIMIT: usize = 65_536;

pub const REPOSITORY: &str = "acme/aws-contacts";
pub const ACTION_REPOSITORY: &str = "YOUR-ORG/altcontacts";

#[derive(Clone, Debug)]
pub struct Comment {
    pub id: u64,
    pub issue: u64,
    pub body: String,
    pub user: String,
}

#[derive(Clone, Debug)]
pub struct Issue {
    pub number: u64,
    pub user: String,
    pub title: String,
    pub body: String,
    pub state: String,
    pub state_reason: Option<String>,
    pub labels: Vec<String>,
    pub pull_request: bool,
}

#[derive(Clone, Debug)]
pub struct Deployment {
    pub id: u64,
    pub creator: String,
    pub sha: String,
    pub environment: String,
    pub task: String,
    pub payload: Value,
    /// Oldest first.
    pub statuses: Vec<String>,
}

/// One call as the emulator answered it.
/// A SARIF upload to code scanning, as GitHub received it.
#[derive(Clone, Debug)]
pub struct SarifUpload {
    pub commit_sha: String,
    pub git_ref: String,
    /// The log, gzipped then Base64-encoded, as the API takes it.
    pub sarif: String,
}

/// GitHub's limit on an upload's `sarif` field (gzipped, Base64-encoded).
pub const SARIF_UPLOAD_LIMIT: usize = 10 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// A token: its permissions (e.g. "pull-requests:write") and, for a
/// personal access token, its user's login. The workflow's own token has
/// no user: what it writes is `github-actions[bot]`'s.
#[derive(Clone, Debug)]
struct Token {
    permissions: BTreeSet<String>,
    user: Option<String>,
}

impl Token {
    fn author(&self) -> String {
        self.user.clone().unwrap_or_else(|| WORKFLOW_BOT.to_owned())
    }
}

/// Who the workflow's own token writes as.
pub const WORKFLOW_BOT: &str = "github-actions[bot]";

#[derive(Default)]
struct State {
    next_id: u64,
    /// The repository has its issues turned off.
    issues_off: bool,
    comments: Vec<Comment>,
    issues: BTreeMap<u64, Issue>,
    deployments: Vec<Deployment>,
    /// tag -> asset name -> bytes.
    releases: BTreeMap<String, BTreeMap<String, Arc<Vec<u8>>>>,
    latest: Option<String>,
    /// token -> what it may do.
    tokens: BTreeMap<String, Token>,
    calls: Vec<Call>,
    sarif_uploads: Vec<SarifUpload>,
    /// Comments refused for their length.
    refused_for_length: usize,
}

struct Shared {
    state: Mutex<State>,
    /// Pages are at most this long, whatever `per_page` asks (GitHub's
    /// pages may be shorter than asked for).
    page_cap: usize,
    /// The emulator's address, where release downloads redirect.
    address: Mutex<String>,
    /// The API's address as clients reach it: the emulator's own, or a
    /// proxy's in front of it. Links to next pages point there.
    api_address: Mutex<String>,
}

pub struct GitHub {
    pub url: String,
    shared: Arc<Shared>,
    server: HttpServer,
}

impl GitHub {
    pub fn start() -> Self {
        Self::with_page_cap(100)
    }

    /// An emulator whose pages hold at most `page_cap` items.
    pub fn with_page_cap(page_cap: usize) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                next_id: 1000,
                ..State::default()
            }),
            page_cap,
            address: Mutex::new(String::new()),
            api_address: Mutex::new(String::new()),
        });
        let server = HttpServer::start("GitHub emulator", Arc::clone(&shared), handle);
        let url = server.url.clone();
        *shared.address.lock().unwrap() = url.clone();
        *shared.api_address.lock().unwrap() = url.clone();
        Self {
            url,
            shared,
            server,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Clients reach the API at `url` (a proxy in front of the emulator):
    /// the next pages' links point there.
    pub fn reached_at(&self, url: &str) {
        *self.shared.api_address.lock().unwrap() = url.to_owned();
    }

    /// A token with these permissions (as a job's `permissions:` writes
    /// them: `pull-requests: write` is "pull-requests:write").
    pub fn token(&self, permissions: &[&str]) -> String {
        self.add_token("ghs_emulated", permissions, None)
    }

    /// A personal access token of `login`, with these permissions.
    pub fn user_token(&self, login: &str, permissions: &[&str]) -> String {
        self.add_token("ghp_emulated", permissions, Some(login))
    }

    fn add_token(&self, prefix: &str, permissions: &[&str], user: Option<&str>) -> String {
        let mut state = self.state();
        state.next_id += 1;
        let token = format!("{prefix}{}", state.next_id);
        state.tokens.insert(
            token.clone(),
            Token {
                permissions: permissions.iter().map(|p| p.replace(' ', "")).collect(),
                user: user.map(str::to_owned),
            },
        );
        token
    }

    pub fn turn_issues_off(&self) {
        self.state().issues_off = true;
    }

    /// A pull request, as an issue number comments go to.
    pub fn open_pull_request(&self, number: u64) {
        self.state().issues.insert(
            number,
            Issue {
                number,
                user: "dev".into(),
                title: format!("Pull request {number}"),
                body: String::new(),
                state: "open".into(),
                state_reason: None,
                labels: Vec::new(),
                pull_request: true,
            },
        );
    }

    /// Comments by someone else, to fill pages before the plan's.
    pub fn add_comments(&self, issue: u64, count: usize, user: &str) {
        let mut state = self.state();
        for n in 0..count {
            state.next_id += 1;
            let id = state.next_id;
            state.comments.push(Comment {
                id,
                issue,
                body: format!("comment {n} by {user}"),
                user: user.into(),
            });
        }
    }

    /// One comment by `user`.
    pub fn add_comment(&self, issue: u64, body: &str, user: &str) {
        let mut state = self.state();
        state.next_id += 1;
        let id = state.next_id;
        state.comments.push(Comment {
            id,
            issue,
            body: body.into(),
            user: user.into(),
        });
    }

    pub fn comments(&self, issue: u64) -> Vec<Comment> {
        self.state()
            .comments
            .iter()
            .filter(|c| c.issue == issue)
            .cloned()
            .collect()
    }

    pub fn issues(&self) -> Vec<Issue> {
        self.state()
            .issues
            .values()
            .filter(|i| !i.pull_request)
            .cloned()
            .collect()
    }

    pub fn deployments(&self) -> Vec<Deployment> {
        self.state().deployments.clone()
    }

    pub fn sarif_uploads(&self) -> Vec<SarifUpload> {
        self.state().sarif_uploads.clone()
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    pub fn refused_for_length(&self) -> usize {
        self.state().refused_for_length
    }

    /// A release with its assets; the newest one added is `latest`.
    pub fn publish_release(&self, tag: &str, assets: Vec<(String, Arc<Vec<u8>>)>) {
        let mut state = self.state();
        state
            .releases
            .insert(tag.to_owned(), assets.into_iter().collect());
        state.latest = Some(tag.to_owned());
    }
}

/// When every resource of the emulator was made and last changed.
const MOMENT: &str = "2026-12-05T08:00:00Z";

/// A user as GitHub describes one everywhere (`simple-user`).
fn user_json(login: &str) -> Value {
    let api = "https://api.github.com/users";
    let id = login.bytes().map(u64::from).sum::<u64>();
    let kind = if login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    };
    // As GitHub writes a bot's login in its addresses.
    let login_in_url = login.replace('[', "%5B").replace(']', "%5D");
    let login = login_in_url.as_str();
    json!({
        "login": login.replace("%5B", "[").replace("%5D", "]"), "id": id, "node_id": format!("U_{id}"),
        "type": kind, "site_admin": false,
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}"), "gravatar_id": "",
        "url": format!("{api}/{login}"), "html_url": format!("https://github.com/{login}"),
        "events_url": format!("{api}/{login}/events{{/privacy}}"),
        "followers_url": format!("{api}/{login}/followers"),
        "following_url": format!("{api}/{login}/following{{/other_user}}"),
        "gists_url": format!("{api}/{login}/gists{{/gist_id}}"),
        "organizations_url": format!("{api}/{login}/orgs"),
        "received_events_url": format!("{api}/{login}/received_events"),
        "repos_url": format!("{api}/{login}/repos"),
        "starred_url": format!("{api}/{login}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/{login}/subscriptions"),
    })
}

/// The authenticated user (`private-user`), for a personal access token.
fn private_user_json(login: &str) -> Value {
    let mut user = user_json(login);
    for (key, value) in [
        ("bio", Value::Null),
        ("blog", json!("")),
        ("company", Value::Null),
        ("email", Value::Null),
        ("hireable", Value::Null),
        ("location", Value::Null),
        ("name", json!(login)),
        ("public_gists", json!(0)),
        ("public_repos", json!(0)),
        ("followers", json!(0)),
        ("following", json!(0)),
        ("created_at", json!(MOMENT)),
        ("updated_at", json!(MOMENT)),
        ("private_gists", json!(0)),
        ("total_private_repos", json!(0)),
        ("owned_private_repos", json!(0)),
        ("disk_usage", json!(0)),
        ("collaborators", json!(0)),
        ("two_factor_authentication", json!(true)),
    ] {
        user[key] = value;
    }
    user
}

fn repo_url() -> String {
    format!("https://api.github.com/repos/{REPOSITORY}")
}

fn comment_json(comment: &Comment) -> Value {
    let repo = repo_url();
    json!({
        "id": comment.id, "node_id": format!("IC_{}", comment.id), "body": comment.body,
        "url": format!("{repo}/issues/comments/{}", comment.id),
        "html_url": format!("https://github.com/{REPOSITORY}/issues/{}#issuecomment-{}", comment.issue, comment.id),
        "issue_url": format!("{repo}/issues/{}", comment.issue),
        "user": user_json(&comment.user), "author_association": "CONTRIBUTOR",
        "created_at": MOMENT, "updated_at": MOMENT,
    })
}

fn issue_json(issue: &Issue, comments: usize) -> Value {
    let repo = repo_url();
    let url = format!("{repo}/issues/{}", issue.number);
    let mut json = json!({
        "id": issue.number, "node_id": format!("I_{}", issue.number), "number": issue.number,
        "title": issue.title, "body": issue.body, "state": issue.state,
        "state_reason": issue.state_reason, "locked": false, "comments": comments,
        "url": url, "html_url": format!("https://github.com/{REPOSITORY}/issues/{}", issue.number),
        "repository_url": repo, "comments_url": format!("{url}/comments"),
        "events_url": format!("{url}/events"), "labels_url": format!("{url}/labels{{/name}}"),
        "labels": issue.labels.iter().enumerate().map(|(n, label)| json!({
            "id": n + 1, "node_id": format!("LA_{}", n + 1), "name": label, "description": null,
            "color": "ededed", "default": false, "url": format!("{repo}/labels/{label}") })).collect::<Vec<_>>(),
        "user": user_json(&issue.user), "assignee": null, "milestone": null,
        "closed_at": if issue.state == "closed" { json!(MOMENT) } else { Value::Null },
        "created_at": MOMENT, "updated_at": MOMENT, "author_association": "CONTRIBUTOR",
    });
    if issue.pull_request {
        json["pull_request"] = json!({ "url": format!("{repo}/pulls/{}", issue.number),
            "html_url": null, "diff_url": null, "patch_url": null });
    }
    json
}

fn deployment_json(deployment: &Deployment) -> Value {
    let repo = repo_url();
    let url = format!("{repo}/deployments/{}", deployment.id);
    json!({
        "id": deployment.id, "node_id": format!("DE_{}", deployment.id), "sha": deployment.sha,
        "ref": deployment.sha, "task": deployment.task, "payload": deployment.payload,
        "environment": deployment.environment, "description": null,
        "creator": user_json(&deployment.creator), "url": url,
        "statuses_url": format!("{url}/statuses"), "repository_url": repo,
        "created_at": MOMENT, "updated_at": MOMENT,
    })
}

fn status_json(deployment: &Deployment, index: usize) -> Value {
    let repo = repo_url();
    let url = format!("{repo}/deployments/{}", deployment.id);
    let id = deployment.id * 100 + index as u64;
    json!({
        "id": id, "node_id": format!("DES_{id}"), "state": deployment.statuses[index],
        "creator": user_json(&deployment.creator), "description": "",
        "target_url": format!("https://github.com/{REPOSITORY}/actions"),
        "deployment_url": url, "repository_url": repo,
        "url": format!("{url}/statuses/{id}"), "created_at": MOMENT, "updated_at": MOMENT,
    })
}

fn reply(status: StatusCode, headers: &[(&str, String)], body: Vec<u8>) -> Reply {
    let mut response = Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(*name, value.as_str());
    }
    Ok(response
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response"))
}

fn json_reply(status: StatusCode, value: &Value) -> Reply {
    reply(
        status,
        &[("content-type", "application/json".to_owned())],
        value.to_string().into_bytes(),
    )
}

fn error(status: StatusCode, message: &str) -> Reply {
    json_reply(
        status,
        &json!({ "message": message, "documentation_url": "https://docs.github.com/rest" }),
    )
}

fn too_long(resource: &str) -> Reply {
    json_reply(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({ "message": "Validation Failed", "documentation_url": "https://docs.github.com/rest", "errors": [{
            "resource": resource, "code": "custom", "field": "body",
            "message": format!("body is too long (maximum is {BODY_LIMIT} characters)") }] }),
    )
}

/// One page of `items`, with a `Link` header to the next as GitHub sends it.
fn paged(
    shared: &Shared,
    path: &str,
    params: &BTreeMap<String, String>,
    items: Vec<Value>,
) -> Reply {
    let asked: usize = params
        .get("per_page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    let size = asked.clamp(1, 100).min(shared.page_cap);
    let page: usize = params
        .get("page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
        .max(1);
    let start = (page - 1) * size;
    let chunk: Vec<Value> = items.iter().skip(start).take(size).cloned().collect();
    let mut headers = vec![("content-type", "application/json".to_owned())];
    if start + size < items.len() {
        let mut next = params.clone();
        next.insert("page".into(), (page + 1).to_string());
        let query: Vec<String> = next.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let address = shared.api_address.lock().unwrap().clone();
        headers.push((
            "link",
            format!("<{address}{path}?{}>; rel=\"next\"", query.join("&")),
        ));
    }
    reply(
        StatusCode::OK,
        &headers,
        Value::Array(chunk).to_string().into_bytes(),
    )
}

fn has(permissions: &BTreeSet<String>, needed: &str) -> bool {
    let (scope, level) = needed.split_once(':').unwrap_or((needed, "read"));
    permissions.contains(&format!("{scope}:write"))
        || (level == "read" && permissions.contains(&format!("{scope}:read")))
}

async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Reply {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let path = uri.path().to_owned();
    let token = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("token "))
        })
        .map(str::to_owned);
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answer = route(&shared, &method, &uri, &path, token.as_deref(), &input);
    let status = answer.as_ref().map_or(0, |r| r.status().as_u16());
    shared
        .state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .calls
        .push(Call {
            method: method.to_string(),
            path: uri.to_string(),
            status,
        });
    answer
}

fn route(
    shared: &Shared,
    method: &Method,
    uri: &hyper::Uri,
    path: &str,
    token: Option<&str>,
    input: &Value,
) -> Reply {
    let params = query(uri);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());

    // Release downloads, from the server's address as from github.com:
    // /OWNER/NAME/releases/download/TAG/ASSET (or latest/download/ASSET),
    // redirected to where the bytes are.
    match segments.as_slice() {
        [owner, name, "releases", "download", tag, asset] => {
            return release_redirect(shared, &state, owner, name, Some(tag), asset);
        }
        [owner, name, "releases", "latest", "download", asset] => {
            return release_redirect(shared, &state, owner, name, None, asset);
        }
        ["_objects", tag, asset] => {
            return match state.releases.get(*tag).and_then(|r| r.get(*asset)) {
                Some(bytes) => reply(
                    StatusCode::OK,
                    &[("content-type", "application/octet-stream".to_owned())],
                    bytes.to_vec(),
                ),
                None => error(StatusCode::NOT_FOUND, "Not Found"),
            };
        }
        _ => {}
    }

    let Some(token) = token.and_then(|t| state.tokens.get(t)).cloned() else {
        return error(StatusCode::UNAUTHORIZED, "Bad credentials");
    };
    if (method, path) == (&Method::GET, "/user") {
        // As GitHub answers an installation token, such as the workflow's.
        return match &token.user {
            Some(login) => json_reply(StatusCode::OK, &private_user_json(login)),
            None => error(
                StatusCode::FORBIDDEN,
                "Resource not accessible by integration",
            ),
        };
    }
    let Some(rest) = path.strip_prefix(&format!("/repos/{REPOSITORY}")) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let author = token.author();
    let permissions = token.permissions;
    let refuse = || {
        error(
            StatusCode::FORBIDDEN,
            "Resource not accessible by integration",
        )
    };
    let rest_segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let issue_writer = |state: &State, number: u64| {
        let is_pr = state.issues.get(&number).is_some_and(|i| i.pull_request);
        has(&permissions, "issues:write") || (is_pr && has(&permissions, "pull-requests:write"))
    };
    let issue_reader = |state: &State, number: u64| {
        let is_pr = state.issues.get(&number).is_some_and(|i| i.pull_request);
        has(&permissions, "issues:read") || (is_pr && has(&permissions, "pull-requests:read"))
    };
    match (method.clone(), rest_segments.as_slice()) {
        (Method::GET, ["issues", number, "comments"]) => {
            let number: u64 = number.parse().unwrap_or(0);
            if !issue_reader(&state, number) {
                return refuse();
            }
            let items = state
                .comments
                .iter()
                .filter(|c| c.issue == number)
                .map(comment_json)
                .collect();
            drop(state);
            paged(shared, path, &params, items)
        }
        (Method::POST, ["issues", number, "comments"]) => {
            let number: u64 = number.parse().unwrap_or(0);
            if !issue_writer(&state, number) {
                return refuse();
            }
            let body = input["body"].as_str().unwrap_or_default().to_owned();
            if body.chars().count() > BODY_LIMIT {
                state.refused_for_length += 1;
                return too_long("IssueComment");
            }
            state.next_id += 1;
            let id = state.next_id;
            let comment = Comment {
                id,
                issue: number,
                body,
                user: author.clone(),
            };
            let answer = comment_json(&comment);
            state.comments.push(comment);
            json_reply(StatusCode::CREATED, &answer)
        }
        (Method::PATCH, ["issues", "comments", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            let Some(issue) = state.comments.iter().find(|c| c.id == id).map(|c| c.issue) else {
                return error(StatusCode::NOT_FOUND, "Not Found");
            };
            if !issue_writer(&state, issue) {
                return refuse();
            }
            let body = input["body"].as_str().unwrap_or_default().to_owned();
            if body.chars().count() > BODY_LIMIT {
                state.refused_for_length += 1;
                return too_long("IssueComment");
            }
            let comment = state
                .comments
                .iter_mut()
                .find(|c| c.id == id)
                .expect("found above");
            // Only the author may edit a comment (an admin aside).
            if comment.user != author {
                return error(
                    StatusCode::FORBIDDEN,
                    "Must have admin rights to Repository.",
                );
            }
            comment.body = body;
            let answer = comment_json(comment);
            json_reply(StatusCode::OK, &answer)
        }
        (Method::GET, ["issues"]) => {
            if !has(&permissions, "issues:read") {
                return refuse();
            }
            if state.issues_off {
                return error(StatusCode::GONE, "Issues are disabled for this repo");
            }
            let wanted_state = params
                .get("state")
                .cloned()
                .unwrap_or_else(|| "open".into());
            let label = params.get("labels").cloned();
            let items = state
                .issues
                .values()
                .filter(|i| wanted_state == "all" || i.state == wanted_state)
                .filter(|i| label.as_ref().is_none_or(|l| i.labels.contains(l)))
                .map(|i| {
                    issue_json(
                        i,
                        state
                            .comments
                            .iter()
                            .filter(|c| c.issue == i.number)
                            .count(),
                    )
                })
                .collect();
            drop(state);
            paged(shared, path, &params, items)
        }
        (Method::POST, ["issues"]) => {
            if !has(&permissions, "issues:write") {
                return refuse();
            }
            let body = input["body"].as_str().unwrap_or_default().to_owned();
            if body.chars().count() > BODY_LIMIT {
                state.refused_for_length += 1;
                return too_long("Issue");
            }
            state.next_id += 1;
            let number = state.next_id;
            let labels = input["labels"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let issue = Issue {
                number,
                user: author.clone(),
                title: input["title"].as_str().unwrap_or_default().to_owned(),
                body,
                state: "open".into(),
                state_reason: None,
                labels,
                pull_request: false,
            };
            let answer = issue_json(&issue, 0);
            state.issues.insert(number, issue);
            json_reply(StatusCode::CREATED, &answer)
        }
        (Method::PATCH, ["issues", number]) => {
            let number: u64 = number.parse().unwrap_or(0);
            if !issue_writer(&state, number) {
                return refuse();
            }
            let Some(issue) = state.issues.get_mut(&number) else {
                return error(StatusCode::NOT_FOUND, "Not Found");
            };
            if let Some(body) = input["body"].as_str() {
                if body.chars().count() > BODY_LIMIT {
                    return too_long("Issue");
                }
                issue.body = body.to_owned();
            }
            if let Some(title) = input["title"].as_str() {
                issue.title = title.to_owned();
            }
            if let Some(new_state) = input["state"].as_str() {
                issue.state = new_state.to_owned();
                issue.state_reason = input["state_reason"].as_str().map(str::to_owned);
            }
            let issue = issue.clone();
            let comments = state.comments.iter().filter(|c| c.issue == number).count();
            json_reply(StatusCode::OK, &issue_json(&issue, comments))
        }
        (Method::GET, ["deployments"]) => {
            if !has(&permissions, "deployments:read") {
                return refuse();
            }
            let mut items: Vec<&Deployment> = state
                .deployments
                .iter()
                .filter(|d| {
                    params
                        .get("environment")
                        .is_none_or(|e| *e == d.environment)
                })
                .filter(|d| params.get("task").is_none_or(|t| *t == d.task))
                .filter(|d| params.get("sha").is_none_or(|s| *s == d.sha))
                .collect();
            // Newest first, as GitHub lists them.
            items.reverse();
            let items = items.into_iter().map(deployment_json).collect();
            drop(state);
            paged(shared, path, &params, items)
        }
        (Method::POST, ["deployments"]) => {
            if !has(&permissions, "deployments:write") {
                return refuse();
            }
            let sha = input["ref"].as_str().unwrap_or_default().to_owned();
            if sha.len() != 40 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                return json_reply(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &json!({ "message": format!("No ref found for: {sha}"),
                        "documentation_url": "https://docs.github.com/rest" }),
                );
            }
            state.next_id += 1;
            let id = state.next_id;
            let deployment = Deployment {
                id,
                creator: author.clone(),
                sha,
                environment: input["environment"]
                    .as_str()
                    .unwrap_or("production")
                    .to_owned(),
                task: input["task"].as_str().unwrap_or("deploy").to_owned(),
                payload: input["payload"].clone(),
                statuses: Vec::new(),
            };
            let answer = deployment_json(&deployment);
            state.deployments.push(deployment);
            json_reply(StatusCode::CREATED, &answer)
        }
        // POST /repos/{owner}/{repo}/code-scanning/sarifs, as upload-sarif
        // sends it: the job needs `security-events: write`.
        (Method::POST, ["code-scanning", "sarifs"]) => {
            if !has(&permissions, "security-events:write") {
                return refuse();
            }
            let field = |name: &str| input[name].as_str().unwrap_or_default().to_owned();
            let (commit_sha, git_ref, sarif) = (field("commit_sha"), field("ref"), field("sarif"));
            let invalid = |message: &str| {
                json_reply(
                    StatusCode::BAD_REQUEST,
                    &json!({ "message": message, "documentation_url": "https://docs.github.com/rest" }),
                )
            };
            if commit_sha.len() != 40 || !commit_sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                return invalid("commit_sha is not a commit SHA");
            }
            if !git_ref.starts_with("refs/") {
                return invalid(
                    "ref must be a full Git reference (refs/heads/..., refs/pull/.../merge)",
                );
            }
            if sarif.len() > SARIF_UPLOAD_LIMIT {
                return error(StatusCode::PAYLOAD_TOO_LARGE, "SARIF upload is too large");
            }
            use base64::Engine as _;
            if base64::engine::general_purpose::STANDARD
                .decode(&sarif)
                .is_err()
            {
                return invalid("sarif is not Base64");
            }
            state.next_id += 1;
            let id = format!("sarif-{}", state.next_id);
            state.sarif_uploads.push(SarifUpload {
                commit_sha,
                git_ref,
                sarif,
            });
            json_reply(
                StatusCode::ACCEPTED,
                &json!({ "id": id, "url": format!("/repos/{REPOSITORY}/code-scanning/sarifs/{id}") }),
            )
        }
        (Method::GET, ["deployments", id, "statuses"]) => {
            if !has(&permissions, "deployments:read") {
                return refuse();
            }
            let id: u64 = id.parse().unwrap_or(0);
            let Some(deployment) = state.deployments.iter().find(|d| d.id == id) else {
                return error(StatusCode::NOT_FOUND, "Not Found");
            };
            let items = (0..deployment.statuses.len())
                .rev()
                .map(|index| status_json(deployment, index))
                .collect();
            drop(state);
            paged(shared, path, &params, items)
        }
        (Method::POST, ["deployments", id, "statuses"]) => {
            if !has(&permissions, "deployments:write") {
                return refuse();
            }
            let id: u64 = id.parse().unwrap_or(0);
            let new_state = input["state"].as_str().unwrap_or_default().to_owned();
            let known = [
                "error",
                "failure",
                "inactive",
                "in_progress",
                "queued",
                "pending",
                "success",
            ];
            if !known.contains(&new_state.as_str()) {
                return json_reply(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &json!({ "message": "Validation Failed", "documentation_url": "https://docs.github.com/rest" }),
                );
            }
            let Some(deployment) = state.deployments.iter_mut().find(|d| d.id == id) else {
                return error(StatusCode::NOT_FOUND, "Not Found");
            };
            deployment.statuses.push(new_state);
            let answer = status_json(deployment, deployment.statuses.len() - 1);
            json_reply(StatusCode::CREATED, &answer)
        }
        _ => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

fn release_redirect(
    shared: &Shared,
    state: &State,
    owner: &str,
    name: &str,
    tag: Option<&str>,
    asset: &str,
) -> Reply {
    if format!("{owner}/{name}") != ACTION_REPOSITORY {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let Some(tag) = tag.map(str::to_owned).or_else(|| state.latest.clone()) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    if !state
        .releases
        .get(&tag)
        .is_some_and(|r| r.contains_key(asset))
    {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let address = shared.address.lock().unwrap().clone();
    reply(
        StatusCode::FOUND,
        &[("location", format!("{address}/_objects/{tag}/{asset}"))],
        Vec::new(),
    )
}
