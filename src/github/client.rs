//! A small client for GitHub's REST API: JSON in and out, every page of a
//! list, and the retries GitHub asks for. It reaches GitHub through the
//! address the runner gives (`GITHUB_API_URL`), so it works the same on
//! github.com, on GitHub Enterprise Server and against a test's emulator.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use super::{GitHubError, Permission};

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// Attempts of a request that GitHub answers with a server error or a
/// rate limit, before the error stands.
const ATTEMPTS: u32 = 4;
/// Longest wait GitHub's `retry-after` is followed for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
const TIMEOUT: Duration = Duration::from_secs(30);
/// The largest page GitHub serves.
pub const PER_PAGE: u32 = 100;

pub struct Client {
    http: HttpClient<Connector, Full<Bytes>>,
    api: String,
    token: Option<String>,
}

/// What one call is for, so an error can say what failed and what the
/// token needs.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    pub method: &'a Method,
    /// An API path (`/repos/...`) or a full URL (the next page).
    pub path: &'a str,
    /// What it does, for errors: "list the comments of pull request #12".
    pub action: &'a str,
    pub permission: Permission,
}

impl Client {
    pub fn new(api: &str, token: Option<String>) -> Result<Self, GitHubError> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(std::sync::Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .map_err(|error| GitHubError::setup(format!("no TLS root certificates: {error}")))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            http: HttpClient::builder(TokioExecutor::new()).build(connector),
            api: api.trim_end_matches('/').to_owned(),
            token,
        })
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.api)
        }
    }

    /// One call, retried on server errors and rate limits; any other
    /// answer outside 2xx is an error that says what to do.
    pub async fn send(&self, call: Call<'_>, body: Option<&Value>) -> Result<Answer, GitHubError> {
        let url = self.url(call.path);
        let mut attempt = 1;
        loop {
            let answer = self.once(call.method, &url, body).await;
            let wait = match &answer {
                Ok(answer) => answer.retry_after(attempt),
                Err(_) => Some(Duration::from_secs(u64::from(attempt))),
            };
            match (answer, wait) {
                (Ok(answer), _) if answer.status.is_success() => return Ok(answer),
                (answer, Some(wait)) if attempt < ATTEMPTS => {
                    let _ = answer;
                    tokio::time::sleep(wait.min(MAX_RETRY_AFTER)).await;
                    attempt += 1;
                }
                (Ok(answer), _) => return Err(GitHubError::answered(call, &answer)),
                (Err(problem), _) => return Err(GitHubError::unreachable(call, &url, problem)),
            }
        }
    }

    async fn once(
        &self,
        method: &Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Answer, String> {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(url)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .header(
                "user-agent",
                concat!("altcontacts/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let payload = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Bytes::from(body.to_string())
            }
            None => Bytes::new(),
        };
        let request = request
            .body(Full::new(payload))
            .map_err(|error| format!("bad request: {error}"))?;
        let response = tokio::time::timeout(TIMEOUT, self.http.request(request))
            .await
            .map_err(|_| format!("no answer within {} s", TIMEOUT.as_secs()))?
            .map_err(|error| error.to_string())?;
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let (link, retry_after, remaining) = (
            header("link"),
            header("retry-after"),
            header("x-ratelimit-remaining"),
        );
        let body = tokio::time::timeout(TIMEOUT, response.into_body().collect())
            .await
            .map_err(|_| "the answer did not arrive in time".to_owned())?
            .map_err(|error| error.to_string())?
            .to_bytes();
        Ok(Answer {
            status,
            link,
            retry_after,
            rate_limited: remaining.as_deref() == Some("0"),
            body,
        })
    }

    /// The answer's JSON.
    pub async fn json(&self, call: Call<'_>, body: Option<&Value>) -> Result<Value, GitHubError> {
        let answer = self.send(call, body).await?;
        if answer.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&answer.body).map_err(|error| GitHubError {
            action: call.action.to_owned(),
            status: Some(answer.status.as_u16()),
            problem: format!("the answer is not JSON: {error}"),
            help: None,
        })
    }

    /// Every item of a list, following the `next` links GitHub sends,
    /// whatever size its pages are.
    pub async fn all_pages(&self, call: Call<'_>) -> Result<Vec<Value>, GitHubError> {
        let separator = if call.path.contains('?') { '&' } else { '?' };
        let mut next = Some(format!("{}{separator}per_page={PER_PAGE}", call.path));
        let mut items = Vec::new();
        while let Some(path) = next.take() {
            let answer = self
                .send(
                    Call {
                        path: &path,
                        ..call
                    },
                    None,
                )
                .await?;
            let page: Value =
                serde_json::from_slice(&answer.body).map_err(|error| GitHubError {
                    action: call.action.to_owned(),
                    status: Some(answer.status.as_u16()),
                    problem: format!("the answer is not JSON: {error}"),
                    help: None,
                })?;
            match page {
                Value::Array(page) => items.extend(page),
                // Lists wrapped in an object, e.g. `{"deployments": [...]}`.
                Value::Object(_) => items.push(page),
                _ => {}
            }
            next = answer.next_page();
        }
        Ok(items)
    }
}

/// A GitHub answer: its status, its body and what its headers say about
/// pages and rate limits.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    link: Option<String>,
    retry_after: Option<String>,
    rate_limited: bool,
    pub body: Bytes,
}

impl Answer {
    /// The next page's address, from the `Link` header.
    pub fn next_page(&self) -> Option<String> {
        next_link(self.link.as_deref()?)
    }

    /// How long to wait before trying again, when GitHub says to: server
    /// errors, and rate limits (429, or 403 with `retry-after` or no
    /// requests left).
    fn retry_after(&self, attempt: u32) -> Option<Duration> {
        let told = self
            .retry_after
            .as_deref()
            .and_then(|seconds| seconds.trim().parse().ok())
            .map(Duration::from_secs);
        let limited = self.status == StatusCode::TOO_MANY_REQUESTS
            || (self.status == StatusCode::FORBIDDEN && (told.is_some() || self.rate_limited));
        if limited {
            return Some(told.unwrap_or(Duration::from_secs(u64::from(attempt) * 5)));
        }
        self.status
            .is_server_error()
            .then(|| Duration::from_secs(u64::from(attempt)))
    }

    /// GitHub's own account of an error: `message`, and the first of
    /// `errors` when there are any.
    pub fn message(&self) -> String {
        let json: Value = serde_json::from_slice(&self.body).unwrap_or(Value::Null);
        let message = json["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| {
                String::from_utf8_lossy(&self.body)
                    .chars()
                    .take(300)
                    .collect()
            });
        let detail = json["errors"][0]["message"]
            .as_str()
            .or_else(|| json["errors"][0]["code"].as_str());
        match detail {
            Some(detail) => format!("{message} ({detail})"),
            None => message,
        }
    }
}

/// The `rel="next"` address of a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (address, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|param| param.trim() == r#"rel="next""#)
            .then(|| {
                address
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_is_read_off_the_link_header() {
        let header = r#"<https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=3>; rel="last""#;
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=2")
        );
        assert_eq!(next_link(r#"<https://x/?page=1>; rel="prev""#), None);
    }
}
