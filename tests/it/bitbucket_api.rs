//! An in-process emulator of the part of Bitbucket Cloud's REST API (2.0)
//! the loop uses, with Bitbucket's rules: pull request comments and issues
//! of fewer than 32,768 characters, build statuses keyed per commit, the
//! repository's pipeline variables, Code Insights reports (a report
//! replaced drops its annotations; at most 100 annotations a request), an
//! issue tracker that may be off, lists in pages of `values` with the next
//! page's address in `next` (`pagelen` at most 100, 10 when not asked), and
//! repository access tokens with scopes: a call beyond them is refused as
//! Bitbucket refuses it (401 for an unknown token, 403 naming the scope).
//! It also serves release archives, for the pipeline's download.

#![allow(dead_code)] // each scenario uses a different part

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::http_query::{decode, query};
use crate::http_server::{HttpServer, Reply};

pub const WORKSPACE: &str = "acme";
pub const SLUG: &str = "aws-contacts";
/// Bitbucket's limit: "less than 32768 characters".
pub const TEXT_LIMIT: usize = 32_767;
/// What a repository access token of the loop holds.
pub const LOOP_SCOPES: [&str; 3] = ["pullrequest:write", "repository:write", "pipeline:variable"];

/// The scopes of an OAuth consumer's token that also keeps the drift issue
/// and says who it is.
pub const LOOP_AND_ISSUE_SCOPES: [&str; 5] = [
    "pullrequest:write",
    "repository:write",
    "pipeline:variable",
    "issue:write",
    "account",
];

/// The scopes Bitbucket lets a repository access token hold.
const REPOSITORY_TOKEN_SCOPES: [&str; 12] = [
    "repository",
    "repository:write",
    "repository:admin",
    "repository:delete",
    "pullrequest",
    "pullrequest:write",
    "webhook",
    "pipeline",
    "pipeline:write",
    "pipeline:variable",
    "runner",
    "runner:write",
];

#[derive(Clone, Debug)]
pub struct Comment {
    pub id: u64,
    pub author: String,
    pub text: String,
    pub deleted: bool,
}

#[derive(Clone, Debug)]
pub struct Issue {
    pub id: u64,
    pub reporter: String,
    pub title: String,
    pub text: String,
    /// `new`, `open`, `resolved`, ...
    pub state: String,
    pub comments: Vec<String>,
}

/// One build status as it was set: the commit, its key and its state, in
/// the order they were set.
#[derive(Clone, Debug)]
pub struct StatusSet {
    pub commit: String,
    pub key: String,
    pub state: String,
    pub description: String,
    /// When it was set (RFC 3339), as `updated_on` says.
    pub at: String,
}

/// A pipeline as Bitbucket keeps it: what it ran for, and its steps'
/// outcomes (`None` while a step runs).
#[derive(Clone, Debug, Default)]
pub struct PipelineRun {
    pub build_number: u64,
    pub branch: String,
    pub commit: String,
    /// What started it: `branches` (a push), `pullrequests`, or `custom`
    /// with its name.
    pub selector: (String, String),
    /// step UUID -> `SUCCESSFUL`, `FAILED`, `STOPPED`, or none yet.
    pub steps: BTreeMap<String, Option<String>>,
}

#[derive(Clone, Debug, Default)]
pub struct Report {
    pub body: Value,
    pub annotations: Vec<Value>,
}

#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub status: u16,
}

#[derive(Clone, Debug)]
struct Token {
    user: String,
    scopes: Vec<String>,
    /// A repository access token, which cannot ask who it is.
    repository_token: bool,
}

#[derive(Default)]
struct State {
    next_id: u64,
    tokens: BTreeMap<String, Token>,
    pull_requests: BTreeMap<u64, Vec<Comment>>,
    issue_tracker: bool,
    issues: BTreeMap<u64, Issue>,
    /// Every status set, oldest first; the latest per (commit, key) stands.
    statuses: Vec<StatusSet>,
    /// key -> (uuid, value)
    variables: BTreeMap<String, (String, String)>,
    /// The pipelines run, by UUID, as the runner reported them.
    pipelines: BTreeMap<String, PipelineRun>,
    /// (commit, report id) -> report
    reports: BTreeMap<(String, String), Report>,
    releases: BTreeMap<String, BTreeMap<String, Arc<Vec<u8>>>>,
    calls: Vec<Call>,
    refused_for_length: usize,
}

struct Shared {
    state: Mutex<State>,
    address: Mutex<String>,
}

pub struct Bitbucket {
    pub url: String,
    shared: Arc<Shared>,
    server: HttpServer,
}

impl Bitbucket {
    pub fn start() -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                next_id: 100,
                issue_tracker: true,
                ..State::default()
            }),
            address: Mutex::new(String::new()),
        });
        let server = HttpServer::start("Bitbucket emulator", Arc::clone(&shared), handle);
        let url = server.url.clone();
        *shared.address.lock().unwrap() = url.clone();
        Self {
            url,
            shared,
            server,
        }
    }

    /// The API's address, as `BITBUCKET_API_URL` gives it.
    pub fn api_url(&self) -> String {
        format!("{}/2.0", self.url)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A repository access token of a new bot user, with these scopes.
    /// Bitbucket makes one only with the scopes it offers such a token (no
    /// issue scope, no `account`), and it cannot ask `/user`.
    pub fn token(&self, bot: &str, scopes: &[&str]) -> String {
        for scope in scopes {
            assert!(
                REPOSITORY_TOKEN_SCOPES.contains(scope),
                "a repository access token cannot hold `{scope}`"
            );
        }
        self.add_token(bot, scopes, true)
    }

    /// An OAuth consumer's access token of `user`, with these scopes.
    pub fn oauth_token(&self, user: &str, scopes: &[&str]) -> String {
        self.add_token(user, scopes, false)
    }

    fn add_token(&self, user: &str, scopes: &[&str], repository_token: bool) -> String {
        let mut state = self.state();
        state.next_id += 1;
        let uuid = format!("{{{user}-{}}}", state.next_id);
        let token = match repository_token {
            true => format!("ATCTT-emulated{}", state.next_id),
            false => format!("oauth-emulated{}", state.next_id),
        };
        state.tokens.insert(
            token.clone(),
            Token {
                user: uuid,
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                repository_token,
            },
        );
        token
    }

    /// The user (UUID) a token belongs to.
    pub fn user_of(&self, token: &str) -> String {
        self.state().tokens[token].user.clone()
    }

    pub fn turn_issues_off(&self) {
        self.state().issue_tracker = false;
    }

    pub fn open_pull_request(&self, id: u64) {
        self.state().pull_requests.entry(id).or_default();
    }

    /// Comments by `author`: `text`, or filler (every tenth deleted) when
    /// it is `None`.
    pub fn add_comments(&self, id: u64, count: usize, author: &str, text: Option<&str>) {
        let mut state = self.state();
        for n in 0..count {
            state.next_id += 1;
            let comment = Comment {
                id: state.next_id,
                author: author.to_owned(),
                text: text.map_or_else(|| format!("comment {n}"), str::to_owned),
                deleted: text.is_none() && n % 10 == 9,
            };
            state.pull_requests.entry(id).or_default().push(comment);
        }
    }

    pub fn comments(&self, id: u64) -> Vec<Comment> {
        self.state()
            .pull_requests
            .get(&id)
            .cloned()
            .unwrap_or_default()
    }

    pub fn issues(&self) -> Vec<Issue> {
        self.state().issues.values().cloned().collect()
    }

    pub fn statuses(&self) -> Vec<StatusSet> {
        self.state().statuses.clone()
    }

    /// A pipeline starts (the runner tells Bitbucket, as Bitbucket itself
    /// knows it).
    pub fn pipeline_started(
        &self,
        uuid: &str,
        build_number: u64,
        branch: &str,
        commit: &str,
        selector: (&str, &str),
    ) {
        self.state().pipelines.insert(
            uuid.to_owned(),
            PipelineRun {
                build_number,
                branch: branch.to_owned(),
                commit: commit.to_owned(),
                selector: (selector.0.to_owned(), selector.1.to_owned()),
                steps: BTreeMap::new(),
            },
        );
    }

    /// A step of the pipeline runs, then ends with `result` (`None`: it runs).
    pub fn step_state(&self, pipeline: &str, step: &str, result: Option<&str>) {
        if let Some(run) = self.state().pipelines.get_mut(pipeline) {
            run.steps.insert(step.to_owned(), result.map(str::to_owned));
        }
    }

    /// Sets a repository variable, as an admin or a token with
    /// `pipeline:variable` can.
    pub fn set_variable(&self, key: &str, value: &str) {
        let mut state = self.state();
        state.next_id += 1;
        let uuid = format!("{{variable-{}}}", state.next_id);
        let entry = state
            .variables
            .entry(key.to_owned())
            .or_insert((uuid, String::new()));
        entry.1 = value.to_owned();
    }

    pub fn variable(&self, key: &str) -> Option<String> {
        self.state()
            .variables
            .get(key)
            .map(|(_, value)| value.clone())
    }

    /// Every pipeline variable, as a step sees it in its environment.
    pub fn variables(&self) -> Vec<(String, String)> {
        self.state()
            .variables
            .iter()
            .map(|(key, (_, value))| (key.clone(), value.clone()))
            .collect()
    }

    pub fn report(&self, commit: &str, id: &str) -> Option<Report> {
        self.state()
            .reports
            .get(&(commit.to_owned(), id.to_owned()))
            .cloned()
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    pub fn refused_for_length(&self) -> usize {
        self.state().refused_for_length
    }

    /// A release with its assets, served at `/releases/TAG/ASSET`.
    pub fn publish_release(&self, tag: &str, assets: Vec<(String, Arc<Vec<u8>>)>) {
        self.state()
            .releases
            .insert(tag.to_owned(), assets.into_iter().collect());
    }

    /// Where the pipeline downloads release archives from
    /// (`URL/vVERSION/ARCHIVE`).
    pub fn release_url(&self) -> String {
        format!("{}/releases", self.url)
    }
}

fn json_reply(status: StatusCode, value: &Value) -> Reply {
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(value.to_string())))
        .expect("a valid response"))
}

/// Bitbucket's error shape.
fn error(status: StatusCode, message: &str) -> Reply {
    json_reply(
        status,
        &json!({ "type": "error", "error": { "message": message } }),
    )
}

/// One page of `items`, as Bitbucket pages: `pagelen` (10 unless asked,
/// at most 100), `page`, `size`, `values`, and `next` while there is more.
fn paged(
    shared: &Shared,
    path: &str,
    params: &BTreeMap<String, String>,
    items: Vec<Value>,
) -> Reply {
    let pagelen = params
        .get("pagelen")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let page = params
        .get("page")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let values: Vec<Value> = items
        .iter()
        .skip((page - 1) * pagelen)
        .take(pagelen)
        .cloned()
        .collect();
    let mut body =
        json!({ "pagelen": pagelen, "page": page, "size": items.len(), "values": values });
    if page * pagelen < items.len() {
        let mut next = params.clone();
        next.insert("page".into(), (page + 1).to_string());
        let query: Vec<String> = next
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encoded(v)))
            .collect();
        let address = shared.address.lock().unwrap().clone();
        body["next"] = json!(format!("{address}{path}?{}", query.join("&")));
    }
    json_reply(StatusCode::OK, &body)
}

async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Reply {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let token = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answer = route(&shared, &method, &uri, token.as_deref(), &input);
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

/// Whether a token's scope grants `needed`: Bitbucket's scopes imply the
/// lesser ones of their kind (`repository:write` reads too, and
/// `pipeline:variable` implies `pipeline:write`, which reads).
fn grants(scope: &str, needed: &str) -> bool {
    let implied: &[&str] = match scope {
        "repository:admin" => &["repository:write", "repository"],
        "repository:write" => &["repository"],
        "pullrequest:write" => &["pullrequest"],
        "pipeline:variable" => &["pipeline:write", "pipeline"],
        "pipeline:write" => &["pipeline"],
        "issue:write" => &["issue"],
        _ => &[],
    };
    scope == needed || implied.contains(&needed)
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

fn too_long(state: &mut State, text: &str) -> Option<Reply> {
    (text.chars().count() > TEXT_LIMIT).then(|| {
        state.refused_for_length += 1;
        error(
            StatusCode::BAD_REQUEST,
            "Please enter a non-empty value less than 32768 characters",
        )
    })
}

fn route(
    shared: &Shared,
    method: &Method,
    uri: &hyper::Uri,
    token: Option<&str>,
    input: &Value,
) -> Reply {
    let params = query(uri);
    let path = uri.path();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());

    if let ["releases", tag, asset] = segments.as_slice() {
        return match state.releases.get(*tag).and_then(|r| r.get(*asset)) {
            Some(bytes) => Ok(Response::builder()
                .status(StatusCode::OK)
                .body(Full::new(Bytes::from(bytes.to_vec())))
                .expect("a valid response")),
            None => error(StatusCode::NOT_FOUND, "Not found"),
        };
    }
    let Some(token) = token.and_then(|t| state.tokens.get(t)).cloned() else {
        return error(
            StatusCode::UNAUTHORIZED,
            "Token is invalid, expired, or not supported for this endpoint.",
        );
    };
    if segments == ["2.0", "user"] {
        // As Bitbucket answers a repository access token (BCLOUD-23528).
        if token.repository_token {
            return error(
                StatusCode::UNAUTHORIZED,
                "Token is invalid, expired, or not supported for this endpoint.",
            );
        }
        if !token.scopes.iter().any(|scope| scope == "account") {
            return json_reply(
                StatusCode::FORBIDDEN,
                &json!({ "type": "error", "error": {
                    "message": "Your credentials lack one or more required privilege scopes.",
                    "detail": { "granted": token.scopes, "required": ["account"] } } }),
            );
        }
        return json_reply(
            StatusCode::OK,
            &json!({ "type": "user", "uuid": token.user, "display_name": "aws-contacts bot" }),
        );
    }
    let rest: Vec<&str> = match segments.as_slice() {
        ["2.0", "repositories", workspace, slug, rest @ ..]
            if *workspace == WORKSPACE && *slug == SLUG =>
        {
            rest.to_vec()
        }
        ["2.0", "repositories", ..] => {
            return error(StatusCode::NOT_FOUND, "Repository not found");
        }
        _ => return error(StatusCode::NOT_FOUND, "Resource not found"),
    };
    let me = token.user.clone();
    macro_rules! need {
        ($scope:expr) => {
            if !token.scopes.iter().any(|s| grants(s, $scope)) {
                return json_reply(
                    StatusCode::FORBIDDEN,
                    &json!({ "type": "error", "error": {
                        "message": "Your credentials lack one or more required privilege scopes.",
                        "detail": { "granted": token.scopes, "required": [$scope] } } }),
                );
            }
        };
    }
    let raw = input["content"]["raw"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    match (method.clone(), rest.as_slice()) {
        (Method::GET, []) => {
            need!("repository");
            json_reply(
                StatusCode::OK,
                &json!({ "type": "repository", "full_name": format!("{WORKSPACE}/{SLUG}"),
                    "mainbranch": { "type": "branch", "name": "main" } }),
            )
        }
        (Method::GET, ["pipelines", uuid]) => {
            need!("pipeline");
            let Some(run) = state.pipelines.get(&decode(uuid)) else {
                return error(StatusCode::NOT_FOUND, "Pipeline not found");
            };
            let done = run.steps.values().all(Option::is_some);
            json_reply(
                StatusCode::OK,
                &json!({ "type": "pipeline", "uuid": decode(uuid), "build_number": run.build_number,
                    "target": { "type": "pipeline_ref_target", "ref_type": "branch", "ref_name": run.branch,
                        "commit": { "type": "commit", "hash": run.commit },
                        "selector": { "type": run.selector.0, "pattern": run.selector.1 } },
                    "state": { "name": if done { "COMPLETED" } else { "IN_PROGRESS" } } }),
            )
        }
        (Method::GET, ["pipelines", uuid, "steps", step]) => {
            need!("pipeline");
            let Some(result) = state
                .pipelines
                .get(&decode(uuid))
                .and_then(|run| run.steps.get(&decode(step)))
            else {
                return error(StatusCode::NOT_FOUND, "Step not found");
            };
            let step_state = match result {
                Some(result) => json!({ "name": "COMPLETED", "result": { "name": result } }),
                None => json!({ "name": "IN_PROGRESS" }),
            };
            json_reply(
                StatusCode::OK,
                &json!({ "type": "pipeline_step", "uuid": decode(step), "state": step_state }),
            )
        }
        (Method::GET, ["pullrequests", id, "comments"]) => {
            need!("pullrequest:write");
            let Some(comments) = id
                .parse()
                .ok()
                .and_then(|id: u64| state.pull_requests.get(&id))
            else {
                return error(StatusCode::NOT_FOUND, "Pull request not found");
            };
            let items = comments
                .iter()
                .map(|c| {
                    json!({ "id": c.id, "deleted": c.deleted, "content": { "raw": c.text },
                    "user": { "uuid": c.author, "type": "user" } })
                })
                .collect();
            paged(shared, path, &params, items)
        }
        (Method::POST, ["pullrequests", id, "comments"]) => {
            need!("pullrequest:write");
            if let Some(refusal) = too_long(&mut state, &raw) {
                return refusal;
            }
            state.next_id += 1;
            let comment = Comment {
                id: state.next_id,
                author: me,
                text: raw,
                deleted: false,
            };
            let Some(comments) = id
                .parse()
                .ok()
                .and_then(|id: u64| state.pull_requests.get_mut(&id))
            else {
                return error(StatusCode::NOT_FOUND, "Pull request not found");
            };
            comments.push(comment.clone());
            json_reply(
                StatusCode::CREATED,
                &json!({ "id": comment.id, "content": { "raw": comment.text } }),
            )
        }
        (Method::PUT, ["pullrequests", id, "comments", comment]) => {
            need!("pullrequest:write");
            if let Some(refusal) = too_long(&mut state, &raw) {
                return refusal;
            }
            let found = id
                .parse()
                .ok()
                .and_then(|id: u64| state.pull_requests.get_mut(&id))
                .and_then(|comments| comments.iter_mut().find(|c| c.id.to_string() == *comment));
            match found {
                // Only its author may edit a comment.
                Some(found) if found.author == me => {
                    found.text = raw;
                    json_reply(StatusCode::OK, &json!({ "id": found.id }))
                }
                Some(_) => error(
                    StatusCode::FORBIDDEN,
                    "You can only edit your own comments.",
                ),
                None => error(StatusCode::NOT_FOUND, "Comment not found"),
            }
        }
        (Method::POST, ["commit", commit, "statuses", "build"]) => {
            need!("repository:write");
            let (Some(key), Some(status)) = (input["key"].as_str(), input["state"].as_str()) else {
                return error(StatusCode::BAD_REQUEST, "key and state are required");
            };
            if key.len() > 40 || input["url"].as_str().is_none() {
                return error(
                    StatusCode::BAD_REQUEST,
                    "a key of at most 40 characters and a url are required",
                );
            }
            state.statuses.push(StatusSet {
                commit: (*commit).to_owned(),
                key: key.to_owned(),
                state: status.to_owned(),
                description: input["description"].as_str().unwrap_or_default().to_owned(),
                at: now(),
            });
            json_reply(StatusCode::CREATED, &json!({ "key": key, "state": status }))
        }
        (Method::GET, ["commit", commit, "statuses"]) => {
            need!("repository:write");
            let mut latest: BTreeMap<String, Value> = BTreeMap::new();
            for status in state.statuses.iter().filter(|s| s.commit == *commit) {
                latest.insert(
                    status.key.clone(),
                    json!({ "key": status.key, "state": status.state, "updated_on": status.at,
                        "description": status.description }),
                );
            }
            paged(shared, path, &params, latest.into_values().collect())
        }
        (Method::GET, ["pipelines_config", "variables"]) => {
            need!("pipeline:variable");
            let items = state
                .variables
                .iter()
                .map(|(key, (uuid, value))| json!({ "key": key, "uuid": uuid, "value": value, "secured": false }))
                .collect();
            paged(shared, path, &params, items)
        }
        (Method::POST, ["pipelines_config", "variables"]) => {
            need!("pipeline:variable");
            let (Some(key), Some(value)) = (input["key"].as_str(), input["value"].as_str()) else {
                return error(StatusCode::BAD_REQUEST, "key and value are required");
            };
            if state.variables.contains_key(key) {
                return error(
                    StatusCode::CONFLICT,
                    &format!("A variable with the key provided already exists: {key}"),
                );
            }
            state.next_id += 1;
            let uuid = format!("{{variable-{}}}", state.next_id);
            state
                .variables
                .insert(key.to_owned(), (uuid.clone(), value.to_owned()));
            json_reply(
                StatusCode::CREATED,
                &json!({ "key": key, "uuid": uuid, "value": value }),
            )
        }
        (Method::PUT, ["pipelines_config", "variables", uuid]) => {
            need!("pipeline:variable");
            let uuid = decode(uuid);
            let value = input["value"].as_str().unwrap_or_default().to_owned();
            match state.variables.values_mut().find(|(id, _)| *id == uuid) {
                Some(variable) => {
                    variable.1 = value;
                    json_reply(StatusCode::OK, &json!({ "uuid": uuid }))
                }
                None => error(StatusCode::NOT_FOUND, "Variable not found"),
            }
        }
        (Method::PUT, ["commit", commit, "reports", id]) => {
            need!("repository:write");
            let report = Report {
                body: input.clone(),
                annotations: Vec::new(),
            };
            state
                .reports
                .insert(((*commit).to_owned(), (*id).to_owned()), report);
            json_reply(StatusCode::OK, input)
        }
        (Method::POST, ["commit", commit, "reports", id, "annotations"]) => {
            need!("repository:write");
            let Some(annotations) = input.as_array() else {
                return error(StatusCode::BAD_REQUEST, "a list of annotations is required");
            };
            if annotations.len() > 100 {
                return error(
                    StatusCode::BAD_REQUEST,
                    "At most 100 annotations can be created at once.",
                );
            }
            if annotations.iter().any(|a| {
                a["summary"]
                    .as_str()
                    .is_none_or(|s| s.chars().count() > 450)
            }) {
                return error(StatusCode::BAD_REQUEST, "summary: at most 450 characters");
            }
            match state
                .reports
                .get_mut(&((*commit).to_owned(), (*id).to_owned()))
            {
                Some(report) => {
                    report.annotations.extend(annotations.iter().cloned());
                    json_reply(StatusCode::OK, input)
                }
                None => error(StatusCode::NOT_FOUND, "Report not found"),
            }
        }
        (_, ["issues", ..]) if !state.issue_tracker => {
            error(StatusCode::NOT_FOUND, "Repository has no issue tracker.")
        }
        (Method::GET, ["issues"]) => {
            need!("issue:write");
            let open_only = params
                .get("q")
                .is_some_and(|q| q.contains(r#"state="open""#));
            let items = state
                .issues
                .values()
                .filter(|i| !open_only || i.state == "new" || i.state == "open")
                .map(|i| {
                    json!({ "id": i.id, "title": i.title, "state": i.state,
                    "content": { "raw": i.text }, "reporter": { "uuid": i.reporter } })
                })
                .collect();
            paged(shared, path, &params, items)
        }
        (Method::POST, ["issues"]) => {
            need!("issue:write");
            if let Some(refusal) = too_long(&mut state, &raw) {
                return refusal;
            }
            state.next_id += 1;
            let id = state.issues.len() as u64 + 1;
            let issue = Issue {
                id,
                reporter: me,
                title: input["title"].as_str().unwrap_or_default().to_owned(),
                text: raw,
                state: "new".to_owned(),
                comments: Vec::new(),
            };
            state.issues.insert(id, issue);
            json_reply(StatusCode::CREATED, &json!({ "id": id }))
        }
        (Method::PUT, ["issues", id]) => {
            need!("issue:write");
            if let Some(refusal) = too_long(&mut state, &raw) {
                return refusal;
            }
            let Some(issue) = id
                .parse()
                .ok()
                .and_then(|id: u64| state.issues.get_mut(&id))
            else {
                return error(StatusCode::NOT_FOUND, "Issue not found");
            };
            if let Some(title) = input["title"].as_str() {
                issue.title = title.to_owned();
            }
            if input["content"]["raw"].is_string() {
                issue.text = raw;
            }
            if let Some(new_state) = input["state"].as_str() {
                issue.state = new_state.to_owned();
            }
            json_reply(StatusCode::OK, &json!({ "id": issue.id }))
        }
        (Method::POST, ["issues", id, "comments"]) => {
            need!("issue:write");
            let Some(issue) = id
                .parse()
                .ok()
                .and_then(|id: u64| state.issues.get_mut(&id))
            else {
                return error(StatusCode::NOT_FOUND, "Issue not found");
            };
            issue.comments.push(raw);
            json_reply(StatusCode::CREATED, &json!({ "id": 1 }))
        }
        _ => error(
            StatusCode::NOT_FOUND,
            &format!("{method} {path} is not emulated"),
        ),
    }
}

/// A query value as Bitbucket's own `next` links encode it.
fn percent_encoded(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
