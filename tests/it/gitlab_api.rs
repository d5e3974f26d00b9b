//! An in-process emulator of the part of GitLab's REST API (v4) the loop
//! uses, with GitLab's rules: merge request and issue notes (at most
//! 1,000,000 characters), issues (descriptions of at most 1,048,576),
//! deployments (the record of applies), lists in pages of at most 100 with
//! `X-Next-Page` and `Link` headers, and tokens sent as `PRIVATE-TOKEN` or
//! `Authorization: Bearer`, each with its scopes and its user's role in
//! the project: a call beyond them is refused as GitLab refuses it (401
//! for an unknown token, 403 for a missing scope or role). It also serves
//! release archives, for the component's download.

#![allow(dead_code)] // each scenario uses a different part

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::http_query::{decode, query};
use crate::http_server::{HttpServer, Reply};

/// GitLab's limits on a note and on an issue's description.
pub const NOTE_LIMIT: usize = 1_000_000;
pub const DESCRIPTION_LIMIT: usize = 1_048_576;

pub const PROJECT_ID: u64 = 4242;
pub const PROJECT_PATH: &str = "acme/aws-contacts";

/// Project roles, as GitLab's access levels.
pub const GUEST: u32 = 10;
pub const REPORTER: u32 = 20;
pub const DEVELOPER: u32 = 30;

#[derive(Clone, Debug)]
pub struct Note {
    pub id: u64,
    pub author: u64,
    pub body: String,
    pub system: bool,
}

#[derive(Clone, Debug)]
pub struct Issue {
    pub iid: u64,
    pub author: u64,
    pub title: String,
    pub description: String,
    pub state: String,
    pub labels: Vec<String>,
    pub notes: Vec<Note>,
}

#[derive(Clone, Debug)]
pub struct Deployment {
    pub id: u64,
    /// The user whose token made it.
    pub user: u64,
    pub environment: String,
    pub sha: String,
    pub git_ref: String,
    /// Oldest first.
    pub statuses: Vec<String>,
}

impl Deployment {
    pub fn status(&self) -> &str {
        self.statuses.last().map_or("", String::as_str)
    }
}

/// One call as the emulator answered it.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub status: u16,
}

#[derive(Clone, Debug)]
struct Token {
    user: u64,
    scopes: Vec<String>,
    level: u32,
}

#[derive(Default)]
struct State {
    next_id: u64,
    tokens: BTreeMap<String, Token>,
    /// user id -> username
    users: BTreeMap<u64, String>,
    /// merge request iid -> its notes
    merge_requests: BTreeMap<u64, Vec<Note>>,
    issues: BTreeMap<u64, Issue>,
    deployments: Vec<Deployment>,
    /// tag -> asset name -> bytes
    releases: BTreeMap<String, BTreeMap<String, Arc<Vec<u8>>>>,
    calls: Vec<Call>,
    refused_for_length: usize,
}

struct Shared {
    state: Mutex<State>,
    address: Mutex<String>,
}

pub struct GitLab {
    pub url: String,
    shared: Arc<Shared>,
    server: HttpServer,
}

impl GitLab {
    pub fn start() -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                next_id: 5000,
                ..State::default()
            }),
            address: Mutex::new(String::new()),
        });
        let server = HttpServer::start("GitLab emulator", Arc::clone(&shared), handle);
        let url = server.url.clone();
        *shared.address.lock().unwrap() = url.clone();
        Self {
            url,
            shared,
            server,
        }
    }

    /// The API's address, as `CI_API_V4_URL` gives it.
    pub fn api_url(&self) -> String {
        format!("{}/api/v4", self.url)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A token of a new user named `username`, with these scopes and this
    /// role (access level) in the project.
    pub fn token(&self, username: &str, scopes: &[&str], level: u32) -> String {
        let mut state = self.state();
        state.next_id += 1;
        let user = state.next_id;
        state.users.insert(user, username.to_owned());
        let token = format!("glpat-emulated{user}");
        state.tokens.insert(
            token.clone(),
            Token {
                user,
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                level,
            },
        );
        token
    }

    /// The user id a token belongs to.
    pub fn user_of(&self, token: &str) -> u64 {
        self.state().tokens[token].user
    }

    pub fn open_merge_request(&self, iid: u64) {
        self.state().merge_requests.entry(iid).or_default();
    }

    /// Notes by someone else (system notes among them), to fill pages
    /// before the plan's.
    pub fn add_notes(&self, iid: u64, count: usize, author: u64) {
        let mut state = self.state();
        for n in 0..count {
            state.next_id += 1;
            let id = state.next_id;
            state.merge_requests.entry(iid).or_default().push(Note {
                id,
                author,
                body: format!("note {n}"),
                system: n % 10 == 0,
            });
        }
    }

    /// One note by `author`.
    pub fn add_note(&self, iid: u64, body: &str, author: u64) {
        let mut state = self.state();
        state.next_id += 1;
        let id = state.next_id;
        state.merge_requests.entry(iid).or_default().push(Note {
            id,
            author,
            body: body.into(),
            system: false,
        });
    }

    pub fn notes(&self, iid: u64) -> Vec<Note> {
        self.state()
            .merge_requests
            .get(&iid)
            .cloned()
            .unwrap_or_default()
    }

    pub fn issues(&self) -> Vec<Issue> {
        self.state().issues.values().cloned().collect()
    }

    pub fn deployments(&self) -> Vec<Deployment> {
        self.state().deployments.clone()
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    pub fn refused_for_length(&self) -> usize {
        self.state().refused_for_length
    }

    /// A release with its assets, served at `/-/releases/TAG/downloads/ASSET`.
    pub fn publish_release(&self, tag: &str, assets: Vec<(String, Arc<Vec<u8>>)>) {
        self.state()
            .releases
            .insert(tag.to_owned(), assets.into_iter().collect());
    }

    /// Where the component downloads release archives from: as its
    /// `release-url` input takes it (`URL/vVERSION/ARCHIVE`).
    pub fn release_url(&self) -> String {
        format!("{}/-/releases", self.url)
    }
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

fn message(status: StatusCode, text: &str) -> Reply {
    json_reply(status, &json!({ "message": text }))
}

fn too_long(field: &str, limit: usize) -> Reply {
    json_reply(
        StatusCode::BAD_REQUEST,
        &json!({ "message": { field: [format!("is too long (maximum is {limit} characters)")] } }),
    )
}

/// One page of `items`, with GitLab's pagination headers: `per_page` at
/// most 100 (20 when not asked), `X-Next-Page` and a `Link` to the next.
fn paged(
    shared: &Shared,
    path: &str,
    params: &BTreeMap<String, String>,
    items: Vec<Value>,
) -> Reply {
    let per_page = params
        .get("per_page")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(20)
        .clamp(1, 100);
    let page = params
        .get("page")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let start = (page - 1) * per_page;
    let chunk: Vec<Value> = items.iter().skip(start).take(per_page).cloned().collect();
    let total_pages = items.len().div_ceil(per_page).max(1);
    let mut headers = vec![
        ("content-type", "application/json".to_owned()),
        ("x-page", page.to_string()),
        ("x-per-page", per_page.to_string()),
        ("x-total", items.len().to_string()),
        ("x-total-pages", total_pages.to_string()),
    ];
    let address = shared.address.lock().unwrap().clone();
    let link_to = |n: usize| {
        let mut next = params.clone();
        next.insert("page".into(), n.to_string());
        next.insert("per_page".into(), per_page.to_string());
        let query: Vec<String> = next.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{address}{path}?{}", query.join("&"))
    };
    let mut links = vec![format!("<{}>; rel=\"first\"", link_to(1))];
    if page < total_pages {
        headers.push(("x-next-page", (page + 1).to_string()));
        links.push(format!("<{}>; rel=\"next\"", link_to(page + 1)));
    } else {
        headers.push(("x-next-page", String::new()));
    }
    links.push(format!("<{}>; rel=\"last\"", link_to(total_pages)));
    headers.push(("link", links.join(", ")));
    reply(
        StatusCode::OK,
        &headers,
        Value::Array(chunk).to_string().into_bytes(),
    )
}

async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Reply {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let path = uri.path().to_owned();
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let token = header("private-token").or_else(|| {
        header("authorization").and_then(|v| v.strip_prefix("Bearer ").map(str::to_owned))
    });
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    // GitLab takes JSON or a form; the tool sends JSON.
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

/// What a call needs of its token: the scope of its kind (`api` to write,
/// `read_api` enough to read) and a role; the refusal when it lacks them.
fn refused(token: &Token, method: &Method, level: u32) -> Option<Reply> {
    let reads = *method == Method::GET;
    let scoped = token.scopes.iter().any(|s| s == "api")
        || (reads && token.scopes.iter().any(|s| s == "read_api"));
    if !scoped {
        return Some(json_reply(
            StatusCode::FORBIDDEN,
            &json!({ "error": "insufficient_scope",
                "error_description": "The request requires higher privileges than provided by the access token.",
                "scope": if reads { "api read_api" } else { "api" } }),
        ));
    }
    if token.level < level {
        return Some(message(StatusCode::FORBIDDEN, "403 Forbidden"));
    }
    None
}

fn note_json(note: &Note, users: &BTreeMap<u64, String>) -> Value {
    json!({ "id": note.id, "body": note.body, "system": note.system,
        "author": { "id": note.author, "username": users.get(&note.author).cloned().unwrap_or_default() } })
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

    if let ["-", "releases", tag, asset] = segments.as_slice() {
        return match state.releases.get(*tag).and_then(|r| r.get(*asset)) {
            Some(bytes) => reply(
                StatusCode::OK,
                &[("content-type", "application/octet-stream".to_owned())],
                bytes.to_vec(),
            ),
            None => message(StatusCode::NOT_FOUND, "404 Not Found"),
        };
    }
    let Some(api) = path.strip_prefix("/api/v4") else {
        return message(StatusCode::NOT_FOUND, "404 Not Found");
    };
    let Some(token) = token.and_then(|t| state.tokens.get(t)).cloned() else {
        return message(StatusCode::UNAUTHORIZED, "401 Unauthorized");
    };
    if api == "/user" {
        if let Some(refusal) = refused(&token, method, 0) {
            return refusal;
        }
        let username = state.users.get(&token.user).cloned().unwrap_or_default();
        return json_reply(
            StatusCode::OK,
            &json!({ "id": token.user, "username": username, "bot": username.starts_with("project_") }),
        );
    }
    let api_segments: Vec<&str> = api.trim_matches('/').split('/').collect();
    let rest = match api_segments.as_slice() {
        ["projects", id, rest @ ..]
            if *id == PROJECT_ID.to_string() || decode(id) == PROJECT_PATH =>
        {
            rest.to_vec()
        }
        // A project the token cannot see is one GitLab does not admit to.
        ["projects", ..] => return message(StatusCode::NOT_FOUND, "404 Project Not Found"),
        _ => return message(StatusCode::NOT_FOUND, "404 Not Found"),
    };
    let users = state.users.clone();
    let author = token.user;
    macro_rules! need {
        ($level:expr) => {
            if let Some(refusal) = refused(&token, method, $level) {
                return refusal;
            }
        };
    }
    match (method.clone(), rest.as_slice()) {
        (Method::GET, []) => {
            need!(REPORTER);
            json_reply(
                StatusCode::OK,
                &json!({ "id": PROJECT_ID, "path_with_namespace": PROJECT_PATH, "default_branch": "main" }),
            )
        }
        (Method::GET, ["merge_requests", iid, "notes"]) => {
            need!(REPORTER);
            let Some(notes) = iid
                .parse()
                .ok()
                .and_then(|iid: u64| state.merge_requests.get(&iid))
            else {
                return message(StatusCode::NOT_FOUND, "404 Not found");
            };
            let mut notes = notes.clone();
            // Newest first unless asked otherwise, as GitLab lists them.
            if params.get("sort").map(String::as_str) != Some("asc") {
                notes.reverse();
            }
            let items = notes.iter().map(|n| note_json(n, &users)).collect();
            drop(state);
            paged(shared, path, &params, items)
        }
        (Method::POST, ["merge_requests", iid, "notes"]) => {
            need!(REPORTER);
            let body = input["body"].as_str().unwrap_or_default().to_owned();
            if body.chars().count() > NOTE_LIMIT {
                state.refused_for_length += 1;
                return too_long("note", NOTE_LIMIT);
            }
            state.next_id += 1;
            let id = state.next_id;
            let Some(notes) = iid
                .parse()
                .ok()
                .and_then(|iid: u64| state.merge_requests.get_mut(&iid))
            else {
                return message(StatusCode::NOT_FOUND, "404 Not found");
            };
            let note = Note {
                id,
                author,
                body,
                system: false,
            };
            let answer = note_json(&note, &users);
            notes.push(note);
            json_reply(StatusCode::CREATED, &answer)
        }
        (Method::PUT, ["merge_requests", iid, "notes", id]) => {
            need!(REPORTER);
            let body = input["body"].as_str().unwrap_or_default().to_owned();
            if body.chars().count() > NOTE_LIMIT {
                state.refused_for_length += 1;
                return too_long("note", NOTE_LIMIT);
            }
            let note = iid
                .parse()
                .ok()
                .and_then(|iid: u64| state.merge_requests.get_mut(&iid))
                .and_then(|notes| notes.iter_mut().find(|n| n.id.to_string() == *id));
            let Some(note) = note else {
                return message(StatusCode::NOT_FOUND, "404 Not found");
            };
            // Only its author edits a note (a maintainer aside).
            if note.author != author {
                return message(StatusCode::FORBIDDEN, "403 Forbidden");
            }
            note.body = body;
            let answer = note_json(note, &users);
            json_reply(StatusCode::OK, &answer)
        }
        (Method::GET, ["issues"]) => {
            need!(REPORTER);
            let wanted = params.get("state").cloned();
            let labels: Vec<String> = params
                .get("labels")
                .map(|l| l.split(',').map(str::to_owned).collect())
                .unwrap_or_default();
            let items = state
                .issues
                .values()
                .rev()
                .filter(|i| wanted.as_ref().is_none_or(|s| s == "all" || *s == i.state))
                .filter(|i| labels.iter().all(|l| i.labels.contains(l)))
                .map(|i| json!({ "iid": i.iid, "title": i.title, "description": i.description,
                    "state": i.state, "labels": i.labels,
                    "author": { "id": i.author, "username": users.get(&i.author).cloned().unwrap_or_default() } }))
                .collect();
            drop(state);
            paged(shared, path, &params, items)
        }
        (Method::POST, ["issues"]) => {
            need!(REPORTER);
            let description = input["description"].as_str().unwrap_or_default().to_owned();
            if description.chars().count() > DESCRIPTION_LIMIT {
                state.refused_for_length += 1;
                return too_long("description", DESCRIPTION_LIMIT);
            }
            let Some(title) = input["title"].as_str().filter(|t| !t.is_empty()) else {
                return json_reply(
                    StatusCode::BAD_REQUEST,
                    &json!({ "error": "title is missing" }),
                );
            };
            let iid = state.issues.len() as u64 + 1;
            let labels = input["labels"]
                .as_str()
                .map(|l| l.split(',').map(|s| s.trim().to_owned()).collect())
                .unwrap_or_default();
            state.issues.insert(
                iid,
                Issue {
                    iid,
                    author,
                    title: title.to_owned(),
                    description,
                    state: "opened".into(),
                    labels,
                    notes: Vec::new(),
                },
            );
            json_reply(
                StatusCode::CREATED,
                &json!({ "iid": iid, "state": "opened" }),
            )
        }
        (Method::PUT, ["issues", iid]) => {
            need!(REPORTER);
            let Some(issue) = iid
                .parse()
                .ok()
                .and_then(|iid: u64| state.issues.get_mut(&iid))
            else {
                return message(StatusCode::NOT_FOUND, "404 Not found");
            };
            if let Some(description) = input["description"].as_str() {
                if description.chars().count() > DESCRIPTION_LIMIT {
                    return too_long("description", DESCRIPTION_LIMIT);
                }
                issue.description = description.to_owned();
            }
            if let Some(title) = input["title"].as_str() {
                issue.title = title.to_owned();
            }
            match input["state_event"].as_str() {
                Some("close") => issue.state = "closed".into(),
                Some("reopen") => issue.state = "opened".into(),
                _ => {}
            }
            json_reply(
                StatusCode::OK,
                &json!({ "iid": issue.iid, "state": issue.state }),
            )
        }
        (Method::POST, ["issues", iid, "notes"]) => {
            need!(REPORTER);
            let body = input["body"].as_str().unwrap_or_default().to_owned();
            if body.chars().count() > NOTE_LIMIT {
                return too_long("note", NOTE_LIMIT);
            }
            state.next_id += 1;
            let id = state.next_id;
            let Some(issue) = iid
                .parse()
                .ok()
                .and_then(|iid: u64| state.issues.get_mut(&iid))
            else {
                return message(StatusCode::NOT_FOUND, "404 Not found");
            };
            issue.notes.push(Note {
                id,
                author,
                body,
                system: false,
            });
            json_reply(StatusCode::CREATED, &json!({ "id": id }))
        }
        (Method::GET, ["deployments"]) => {
            need!(REPORTER);
            let mut items: Vec<&Deployment> = state
                .deployments
                .iter()
                .filter(|d| {
                    params
                        .get("environment")
                        .is_none_or(|e| *e == d.environment)
                })
                .filter(|d| params.get("status").is_none_or(|s| s == d.status()))
                .collect();
            if params.contains_key("status")
                && !matches!(
                    params.get("order_by").map(String::as_str),
                    Some("id" | "updated_at")
                )
            {
                return json_reply(
                    StatusCode::BAD_REQUEST,
                    &json!({ "message": "`status` can only be used with `order_by` `id` or `updated_at`" }),
                );
            }
            if params.get("sort").map(String::as_str) == Some("desc") {
                items.reverse();
            }
            let items = items
                .into_iter()
                .map(|d| {
                    json!({ "id": d.id, "iid": d.id, "sha": d.sha, "ref": d.git_ref,
                    "status": d.status(), "environment": { "name": d.environment },
                    "user": { "id": d.user, "username": users.get(&d.user).cloned().unwrap_or_default() },
                    "deployable": null })
                })
                .collect();
            drop(state);
            paged(shared, path, &params, items)
        }
        (Method::POST, ["deployments"]) => {
            need!(DEVELOPER);
            let sha = input["sha"].as_str().unwrap_or_default().to_owned();
            let status = input["status"].as_str().unwrap_or_default().to_owned();
            let environment = input["environment"].as_str().unwrap_or_default().to_owned();
            let git_ref = input["ref"].as_str().unwrap_or_default().to_owned();
            let valid_name = !environment.is_empty()
                && environment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || " -_/${}.".contains(c));
            if sha.len() != 40
                || git_ref.is_empty()
                || !input["tag"].is_boolean()
                || !valid_name
                || !["running", "success", "failed", "canceled"].contains(&status.as_str())
            {
                return json_reply(
                    StatusCode::BAD_REQUEST,
                    &json!({ "message": "400 Bad request - environment, sha, ref, tag and status are required" }),
                );
            }
            state.next_id += 1;
            let id = state.next_id;
            state.deployments.push(Deployment {
                id,
                user: author,
                environment: environment.clone(),
                sha: sha.clone(),
                git_ref,
                statuses: vec![status.clone()],
            });
            json_reply(
                StatusCode::CREATED,
                &json!({ "id": id, "iid": id, "sha": sha, "status": status, "environment": { "name": environment } }),
            )
        }
        (Method::PUT, ["deployments", id]) => {
            need!(DEVELOPER);
            let status = input["status"].as_str().unwrap_or_default().to_owned();
            if !["running", "success", "failed", "canceled"].contains(&status.as_str()) {
                return json_reply(
                    StatusCode::BAD_REQUEST,
                    &json!({ "message": "status is invalid" }),
                );
            }
            let Some(deployment) = state
                .deployments
                .iter_mut()
                .find(|d| d.id.to_string() == *id)
            else {
                return message(StatusCode::NOT_FOUND, "404 Not found");
            };
            deployment.statuses.push(status.clone());
            json_reply(
                StatusCode::OK,
                &json!({ "id": deployment.id, "status": status }),
            )
        }
        _ => message(StatusCode::NOT_FOUND, "404 Not Found"),
    }
}
