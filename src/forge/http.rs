//! A small client for a forge's REST API: JSON in and out, every page of a
//! list, and the retries the forge asks for. It reaches the forge through
//! the address the CI gives, so it works the same on the public service,
//! on a self-managed one and against a test's emulator.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::retry::Backoff;

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// Attempts of a request that the forge answers with a server error or a
/// rate limit, before the error stands.
const ATTEMPTS: u32 = 4;
/// The wait between attempts when the forge does not say how long.
const BACKOFF: Backoff = Backoff {
    first: Duration::from_secs(1),
    max: Duration::from_secs(60),
    jitter: true,
};
/// Longest wait a forge's `retry-after` is followed for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
const TIMEOUT: Duration = Duration::from_secs(30);
/// The most of one answer that is read: a page of 100 GitHub comments at
/// their 65,536-character limit is under 30 MB, of 100 GitLab notes at
/// their 1,000,000 characters some 100 MB in plain text (more only if most
/// were written near the limit in characters of several bytes). An answer
/// past this is refused, not read into memory whole.
pub const BODY_LIMIT: usize = 128 * 1024 * 1024;

/// The most of one listing that is read, over all its pages: a run holds
/// what it lists.
pub const LISTING_LIMIT: usize = 4 * BODY_LIMIT;
/// The largest page GitHub, GitLab and Bitbucket serve.
pub const PER_PAGE: u32 = 100;

/// How a request proves who sends it: the header each request carries,
/// as the adapter's forge wants it (`authorization: Bearer …`, GitLab's
/// `private-token`, Bitbucket's `authorization: Basic …`).
#[derive(Clone)]
pub enum Auth {
    Header { name: &'static str, value: String },
    None,
}

impl Auth {
    /// `Authorization: Bearer TOKEN`.
    pub fn bearer(token: &str) -> Self {
        Self::Header {
            name: "authorization",
            value: format!("Bearer {token}"),
        }
    }
}

impl std::fmt::Debug for Auth {
    /// Never the token itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Header { name, .. } => write!(f, "{name}: (hidden)"),
            Auth::None => f.write_str("no token"),
        }
    }
}

/// How a forge hands out a list a page at a time: the adapter's, since
/// forges differ (a `Link` header, a page number, the next page's address
/// in the body, a continuation token).
pub trait Paging: Send + Sync {
    /// The address of the list's first page, asking for the largest page.
    fn first(&self, path: &str) -> String;
    /// One page's items, and the address of the next page if there is one.
    fn page(&self, answer: &Answer) -> Result<(Vec<Value>, Option<String>), Failure>;
}

/// GitHub's and GitLab's paging: `per_page=100`, the items as the body's
/// array, the next page in `Link: <…>; rel="next"`, else its number in
/// `X-Next-Page`.
pub struct HeaderPaging;

impl Paging for HeaderPaging {
    fn first(&self, path: &str) -> String {
        let separator = if path.contains('?') { '&' } else { '?' };
        format!("{path}{separator}per_page={PER_PAGE}")
    }

    fn page(&self, answer: &Answer) -> Result<(Vec<Value>, Option<String>), Failure> {
        let items = match answer.json()? {
            Value::Array(page) => page,
            // Lists wrapped in an object, e.g. `{"deployments": [...]}`.
            page @ Value::Object(_) => vec![page],
            _ => Vec::new(),
        };
        Ok((items, answer.next_page()))
    }
}

pub struct Client {
    http: HttpClient<Connector, Full<Bytes>>,
    api: String,
    auth: Auth,
    /// Headers the forge asks every request to carry.
    headers: &'static [(&'static str, &'static str)],
    paging: Box<dyn Paging>,
}

/// Why a call did not get a successful answer.
#[derive(Debug)]
pub enum Failure {
    /// The forge answered, outside 2xx.
    Refused(Box<Answer>),
    /// No answer: the address, and what went wrong.
    Unreachable { url: String, problem: String },
    /// An answer that is not the JSON asked for.
    NotJson { status: u16, problem: String },
    /// A list whose pages go in a circle or without end.
    Endless(crate::pages::Endless),
    /// An address (a next page's) away from the API's own origin: the
    /// token goes to the API's scheme, host and port only, and nothing
    /// else is followed.
    OffOrigin { url: String, api: String },
    /// An answer larger than [`BODY_LIMIT`].
    TooLarge { url: String },
}

impl Client {
    pub fn new(
        api: &str,
        auth: Auth,
        headers: &'static [(&'static str, &'static str)],
        paging: impl Paging + 'static,
    ) -> Result<Self, String> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(std::sync::Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .map_err(|error| format!("no TLS root certificates: {error}"))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            http: HttpClient::builder(TokioExecutor::new()).build(connector),
            api: api.trim_end_matches('/').to_owned(),
            auth,
            headers,
            paging: Box::new(paging),
        })
    }

    /// The address of `path` (one of the API's, `/…`, or an absolute one, a
    /// next page's as the forge hands it out), only when it is of the API's
    /// own origin: the address is made first and its origin held to the
    /// API's, so no text (`.evil.example/x`, `@evil/x`, `:8443/x`) can move
    /// it once appended.
    fn url(&self, path: &str) -> Result<String, Failure> {
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else if path.starts_with('/') {
            format!("{}{path}", self.api)
        } else {
            return Err(self.off_origin(path));
        };
        match (origin(&url), origin(&self.api)) {
            (Some(there), Some(here)) if there == here => Ok(url),
            _ => Err(self.off_origin(&url)),
        }
    }

    fn off_origin(&self, url: &str) -> Failure {
        Failure::OffOrigin {
            url: url.to_owned(),
            api: self.api.clone(),
        }
    }

    /// One call, retried on server errors and rate limits; any other
    /// answer outside 2xx is a [`Failure::Refused`].
    pub async fn send(
        &self,
        method: &Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, Failure> {
        let url = self.url(path)?;
        let mut attempt = 1;
        loop {
            let answer = self.once(method, &url, body).await;
            let wait = match &answer {
                Ok(answer) => answer.retry_after(attempt),
                Err(_) => Some(BACKOFF.delay(attempt)),
            };
            match (answer, wait) {
                (Ok(answer), _) if answer.status.is_success() => return Ok(answer),
                (Err(Unanswered::TooLarge), _) => return Err(Failure::TooLarge { url }),
                (_, Some(wait)) if attempt < ATTEMPTS => {
                    tokio::time::sleep(wait.min(MAX_RETRY_AFTER)).await;
                    attempt += 1;
                }
                (Ok(answer), _) => return Err(Failure::Refused(Box::new(answer))),
                (Err(Unanswered::Problem(problem)), _) => {
                    return Err(Failure::Unreachable { url, problem });
                }
            }
        }
    }

    async fn once(
        &self,
        method: &Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Answer, Unanswered> {
        let mut request = Request::builder().method(method.clone()).uri(url).header(
            "user-agent",
            concat!("altcontacts/", env!("CARGO_PKG_VERSION")),
        );
        for (name, value) in self.headers {
            request = request.header(*name, *value);
        }
        if let Auth::Header { name, value } = &self.auth {
            request = request.header(*name, value.as_str());
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
            .map_err(|error| Unanswered::Problem(format!("bad request: {error}")))?;
        let response = tokio::time::timeout(TIMEOUT, self.http.request(request))
            .await
            .map_err(|_| Unanswered::Problem(format!("no answer within {} s", TIMEOUT.as_secs())))?
            .map_err(|error| Unanswered::Problem(error.to_string()))?;
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let headers = Headers {
            link: header("link"),
            retry_after: header("retry-after"),
            rate_limited: header("x-ratelimit-remaining").as_deref() == Some("0"),
            next_page: header("x-next-page").filter(|page| !page.is_empty()),
        };
        let limited = http_body_util::Limited::new(response.into_body(), BODY_LIMIT);
        let body = tokio::time::timeout(TIMEOUT, limited.collect())
            .await
            .map_err(|_| Unanswered::Problem("the answer did not arrive in time".to_owned()))?
            .map_err(
                |error| match error.downcast_ref::<http_body_util::LengthLimitError>() {
                    Some(_) => Unanswered::TooLarge,
                    None => Unanswered::Problem(error.to_string()),
                },
            )?
            .to_bytes();
        Ok(Answer {
            status,
            headers,
            url: url.to_owned(),
            body,
        })
    }

    /// The answer's JSON (`Null` for an empty body).
    pub async fn json(
        &self,
        method: &Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        let answer = self.send(method, path, body).await?;
        answer.json()
    }

    /// Every item of a list, on every page, as the forge's [`Paging`]
    /// hands them out, whatever size its pages are.
    pub async fn all_pages(&self, path: &str) -> Result<Vec<Value>, Failure> {
        let mut next = Some(self.paging.first(path));
        let mut pages = crate::pages::Pages::new("the list");
        let mut items = Vec::new();
        let mut read = 0;
        while let Some(path) = next.take() {
            // Each page by its whole address, the first among them: a next
            // page that is the first one again is a circle too.
            let url = self.url(&path)?;
            pages.next(&url).map_err(Failure::Endless)?;
            let answer = self.send(&Method::GET, &path, None).await?;
            read += answer.body.len();
            if read > LISTING_LIMIT {
                return Err(Failure::TooLarge { url });
            }
            let (page, after) = self.paging.page(&answer)?;
            items.extend(page);
            next = after;
        }
        Ok(items)
    }
}

/// Why one attempt got no answer to read.
enum Unanswered {
    Problem(String),
    TooLarge,
}

/// `scheme://host:port` of an address, the port made explicit, so that
/// `https://h` and `https://h:443` are one origin.
fn origin(url: &str) -> Option<(String, String, u16)> {
    let uri: hyper::Uri = url.parse().ok()?;
    // `user@host` names a host the way a reader of the address may not.
    if uri.authority()?.as_str().contains('@') {
        return None;
    }
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let host = uri.host()?.to_ascii_lowercase();
    let port = uri.port_u16().or(match scheme.as_str() {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    })?;
    Some((scheme, host, port))
}

/// What an answer's headers say about pages and rate limits.
#[derive(Debug, Default)]
struct Headers {
    link: Option<String>,
    retry_after: Option<String>,
    rate_limited: bool,
    next_page: Option<String>,
}

/// A forge's answer: its status, its body and what its headers say about
/// pages and rate limits.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    headers: Headers,
    /// The address asked, for the next page when only its number is given.
    url: String,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Result<Value, Failure> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body).map_err(|error| Failure::NotJson {
            status: self.status.as_u16(),
            problem: format!("the answer is not JSON: {error}"),
        })
    }

    /// The next page's address: from the `Link` header, else the page
    /// number of `X-Next-Page` in this address.
    pub fn next_page(&self) -> Option<String> {
        if let Some(next) = self.headers.link.as_deref().and_then(next_link) {
            return Some(next);
        }
        let page = self.headers.next_page.as_deref()?;
        Some(with_page(&self.url, page))
    }

    /// How long to wait before trying again, when the forge says to: server
    /// errors, and rate limits (429, or 403 with `retry-after` or no
    /// requests left).
    fn retry_after(&self, attempt: u32) -> Option<Duration> {
        let told = self
            .headers
            .retry_after
            .as_deref()
            .and_then(|seconds| seconds.trim().parse().ok())
            .map(Duration::from_secs);
        let limited = self.status == StatusCode::TOO_MANY_REQUESTS
            || (self.status == StatusCode::FORBIDDEN
                && (told.is_some() || self.headers.rate_limited));
        if limited {
            return Some(told.unwrap_or_else(|| BACKOFF.delay(attempt + 2)));
        }
        self.status
            .is_server_error()
            .then(|| BACKOFF.delay(attempt))
    }

    /// The forge's own account of an error: `message` (GitHub, GitLab),
    /// `error_description` (GitLab's scope errors), `error.message`
    /// (Bitbucket), and the first of `errors` when there are any.
    pub fn message(&self) -> String {
        let json: Value = serde_json::from_slice(&self.body).unwrap_or(Value::Null);
        let message = json["message"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| {
                json["message"]
                    .as_object()
                    .map(|_| json["message"].to_string())
            })
            .or_else(|| json["error_description"].as_str().map(str::to_owned))
            // Bitbucket: `{"type": "error", "error": {"message": …}}`.
            .or_else(|| json["error"]["message"].as_str().map(str::to_owned))
            .or_else(|| json["error"].as_str().map(str::to_owned))
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

/// `url` asking for page `page`.
fn with_page(url: &str, page: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|param| !param.is_empty() && !param.starts_with("page="))
        .collect();
    let page = format!("page={page}");
    params.push(&page);
    format!("{base}?{}", params.join("&"))
}

/// A query value, percent-encoded.
pub fn encode(value: &str) -> String {
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

    #[test]
    fn without_a_link_the_next_page_is_its_number_in_the_same_address() {
        assert_eq!(
            with_page(
                "https://gitlab.example/api/v4/projects/1/issues?state=opened&per_page=100&page=2",
                "3"
            ),
            "https://gitlab.example/api/v4/projects/1/issues?state=opened&per_page=100&page=3"
        );
        assert_eq!(with_page("https://x/notes", "2"), "https://x/notes?page=2");
    }

    #[test]
    fn only_the_api_s_own_origin_is_followed() {
        let same = |a, b| origin(a).is_some() && origin(a) == origin(b);
        assert!(same(
            "https://api.github.com/x?page=2",
            "https://api.github.com"
        ));
        assert!(same(
            "https://API.github.com:443/x",
            "https://api.github.com"
        ));
        assert!(!same("http://api.github.com/x", "https://api.github.com"));
        assert!(!same(
            "https://api.github.com.evil.example/x",
            "https://api.github.com"
        ));
        assert!(!same(
            "https://api.github.com:8443/x",
            "https://api.github.com"
        ));
        assert!(!same("https://evil.example/x", "https://api.github.com"));
        assert!(!same(
            "https://api.github.com@evil.example/x",
            "https://api.github.com"
        ));
    }

    #[test]
    fn a_path_that_would_move_the_address_once_appended_is_refused() {
        let client = Client::new("https://api.github.com", Auth::None, &[], HeaderPaging).unwrap();
        assert_eq!(
            client.url("/repos/o/r?page=2").ok().as_deref(),
            Some("https://api.github.com/repos/o/r?page=2")
        );
        for path in [".evil.example/x", "@evil.example/x", ":8443/x", "evil"] {
            assert!(
                matches!(client.url(path), Err(Failure::OffOrigin { .. })),
                "{path}"
            );
        }
        let enterprise = Client::new(
            "https://github.example/api/v3",
            Auth::None,
            &[],
            HeaderPaging,
        )
        .unwrap();
        assert_eq!(
            enterprise
                .url("https://github.example/api/v3/x?page=2")
                .ok()
                .as_deref(),
            Some("https://github.example/api/v3/x?page=2")
        );
    }

    #[test]
    fn a_query_value_is_percent_encoded() {
        assert_eq!(
            encode("altcontacts/infra contacts.yaml"),
            "altcontacts%2Finfra%20contacts.yaml"
        );
    }
}
