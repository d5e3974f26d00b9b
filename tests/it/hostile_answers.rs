//! Answers that loop, grow or lead elsewhere, from a forge or from AWS:
//! the run stops with an error that names the call, reads no page twice,
//! reads no answer whole past its limit, and sends the forge's token to
//! the API's own address only.

use std::sync::Arc;
use std::sync::Mutex;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};

use crate::emulator::{Emulator, Faults, organization};
use crate::http_server::{HttpServer, Reply};
use crate::support::{Workspace, stderr};

/// What a hostile forge answers a list with.
#[derive(Clone, Copy)]
enum Hostility {
    /// A `Link: rel="next"` to the page just read.
    Circle,
    /// A `Link: rel="next"` to another address (`elsewhere`).
    Elsewhere,
    /// A page larger than any a forge serves.
    Huge,
    /// A `Link: rel="next"` that is not an address, but text that moves
    /// the API's address once appended to it.
    Relative(&'static str),
}

/// A forge whose lists are hostile, and what it was asked.
struct Hostile {
    hostility: Hostility,
    elsewhere: String,
    /// Every request: its path, and whether it carried a token.
    requests: Mutex<Vec<(String, bool)>>,
}

async fn hostile(shared: Arc<Hostile>, request: Request<Incoming>) -> Reply {
    let path = request.uri().to_string();
    let authorized = request.headers().contains_key("authorization");
    shared
        .requests
        .lock()
        .unwrap()
        .push((path.clone(), authorized));
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json");
    let body = match shared.hostility {
        Hostility::Circle => {
            response = response.header("link", format!("<{path}>; rel=\"next\""));
            Bytes::from_static(b"[]")
        }
        Hostility::Elsewhere => {
            let next = format!("{}{path}&page=2", shared.elsewhere);
            response = response.header("link", format!("<{next}>; rel=\"next\""));
            Bytes::from_static(b"[]")
        }
        Hostility::Relative(next) => {
            response = response.header("link", format!("<{next}>; rel=\"next\""));
            Bytes::from_static(b"[]")
        }
        Hostility::Huge => {
            // A JSON array of 130 MiB of spaces.
            let mut body = vec![b' '; 130 * 1024 * 1024];
            body[0] = b'[';
            *body.last_mut().unwrap() = b']';
            Bytes::from(body)
        }
    };
    Ok(response.body(Full::new(body)).unwrap())
}

/// Runs the review's plan step of the GitHub loop against `forge` (on a
/// sandbox, so only the forge is asked anything): its output.
fn plan_on(forge: &str) -> std::process::Output {
    let workspace = Workspace::new();
    workspace.write(
        "contacts.yaml",
        "version: 1\naccounts:\n  \"111111111111\": { billing: absent }\n",
    );
    let event = workspace.write("event.json", r#"{"pull_request": {"number": 7}}"#);
    workspace
        .sandbox(&["github", "plan", "--comment", "--full"])
        .env("GITHUB_REPOSITORY", "acme/aws-contacts")
        .env("GITHUB_EVENT_PATH", event)
        .env("GITHUB_API_URL", forge)
        .env("GITHUB_TOKEN", "ghs_secret")
        .output()
        .unwrap()
}

fn start(hostility: Hostility, elsewhere: &str) -> (HttpServer, Arc<Hostile>) {
    let shared = Arc::new(Hostile {
        hostility,
        elsewhere: elsewhere.to_owned(),
        requests: Mutex::new(Vec::new()),
    });
    let server = HttpServer::start("hostile forge", Arc::clone(&shared), hostile);
    (server, shared)
}

#[test]
fn a_forge_whose_next_page_is_the_page_just_read_stops_the_run_at_once() {
    let (server, shared) = start(Hostility::Circle, "");
    let output = plan_on(&server.url);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(
        said.contains("GitHub: could not list the comments of pull request #7")
            && said.contains("a next page it had given already"),
        "{said}"
    );
    assert!(
        shared.requests.lock().unwrap().len() <= 2,
        "{:?}",
        shared.requests.lock().unwrap()
    );
}

#[test]
fn a_next_page_on_another_address_is_not_followed_and_gets_no_token() {
    let elsewhere = Arc::new(Hostile {
        hostility: Hostility::Circle,
        elsewhere: String::new(),
        requests: Mutex::new(Vec::new()),
    });
    let other = HttpServer::start("another host", Arc::clone(&elsewhere), hostile);
    // Another port of the same host is another origin too.
    let (server, shared) = start(Hostility::Elsewhere, &other.url);
    let output = plan_on(&server.url);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(
        said.contains("away from the API") && said.contains("nothing was sent there"),
        "{said}"
    );
    assert!(
        elsewhere.requests.lock().unwrap().is_empty(),
        "the other address heard nothing"
    );
    assert!(
        shared
            .requests
            .lock()
            .unwrap()
            .iter()
            .all(|(_, authorized)| *authorized),
        "the API itself got the token"
    );
    assert!(!said.contains("ghs_secret"), "{said}");
}

/// A next link that, appended to the API's address, would name another
/// host or port (`https://api.github.com` + `.evil.example/x`).
#[test]
fn a_next_link_that_would_move_the_address_once_appended_is_not_followed() {
    for next in [".evil.example/x", "@evil.example/x", ":8443/x"] {
        let (server, shared) = start(Hostility::Relative(next), "");
        let output = plan_on(&server.url);
        assert_eq!(output.status.code(), Some(1), "{next}: {}", stderr(&output));
        let said = stderr(&output);
        assert!(said.contains("away from the API"), "{next}: {said}");
        assert_eq!(
            shared.requests.lock().unwrap().len(),
            2,
            "{next}: /user and the first page, nothing after"
        );
    }
}

#[test]
fn an_answer_larger_than_any_page_is_refused_not_read_whole() {
    let (server, _shared) = start(Hostility::Huge, "");
    let output = plan_on(&server.url);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(said.contains("is larger than 128 MiB"), "{said}");
}

/// Organizations answering every page of ListAccounts with the token of
/// the second: the plan stops with an error that names the call, and no
/// account's contacts are read twice.
#[test]
fn an_organization_listing_that_goes_in_a_circle_stops_and_reads_nothing_twice() {
    let aws = Emulator::start(
        "111111111111",
        Some(organization("111111111111", 45, 0)),
        Faults {
            circular_pages: true,
            ..Faults::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("contacts.yaml"),
        "version: 1\ncontacts:\n  sec: { name: S, title: T, email_address: s@example.com, phone_number: \"+1 202 555 0100\" }\norganization:\n  defaults: { security: sec }\n",
    )
    .unwrap();
    let output = aws.command(dir.path(), &["plan"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(
        said.contains("Organizations ListAccounts")
            && said.contains("a next page it had given already"),
        "{said}"
    );
    let mut reads = std::collections::BTreeMap::<String, usize>::new();
    for entry in aws.log() {
        if entry.operation == "GetAlternateContact" {
            *reads.entry(entry.account.clone()).or_default() += 1;
        }
    }
    assert!(
        reads.values().all(|&n| n <= 1),
        "no slot is read twice: {reads:?}"
    );
}
