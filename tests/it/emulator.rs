//! An in-process AWS emulator speaking the Account and User Notifications
//! (restJson1), Organizations (awsJson1.1) and STS (awsQuery) wire protocols to the real
//! SDK client, with injectable latency, quotas (token buckets answering
//! 429), server errors, dropped connections and stale reads.
//!
//! It follows AWS's rules where they matter to altcontacts: naming the
//! caller's own account is AccessDenied, unset slots are ResourceNotFound,
//! and accounts outside the organization are denied.
//!
//! Used by the integration tests and by `benches/scale.rs`.

#![allow(dead_code)] // each user (tests, benchmark) needs a different part

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::http_server::{HttpServer, Reply};

/// Requests per second and burst for one operation.
#[derive(Clone, Copy, Debug)]
pub struct Quota {
    pub rate: f64,
    pub burst: f64,
}

#[derive(Clone, Copy, Debug)]
pub struct Quotas {
    pub get: Quota,
    pub put: Quota,
    pub delete: Quota,
    /// User Notifications' ListManagedNotificationChannelAssociations and
    /// AssociateManagedNotificationAccountContact. AWS publishes no rate
    /// for them; these are the ones altcontacts paces at.
    pub notices_read: Quota,
    pub notices_write: Quota,
}

impl Quotas {
    /// AWS's published Account API quotas, multiplied by `factor`.
    pub fn aws_scaled(factor: f64) -> Self {
        Self {
            get: Quota {
                rate: 10.0 * factor,
                burst: 15.0 * factor,
            },
            put: Quota {
                rate: 5.0 * factor,
                burst: 8.0 * factor,
            },
            delete: Quota {
                rate: 1.0 * factor,
                burst: 6.0 * factor,
            },
            notices_read: Quota {
                rate: 5.0 * factor,
                burst: 10.0 * factor,
            },
            notices_write: Quota {
                rate: 2.0 * factor,
                burst: 4.0 * factor,
            },
        }
    }
}

/// What goes wrong, and how often. Latency applies to every request;
/// the other faults to Account API requests.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// The fixed part of every request's latency...
    pub latency: Duration,
    /// ...plus a random tail, exponential with this mean, as on a real
    /// network: answers arrive bunched and spread, never on a perfect clock.
    pub latency_tail: Duration,
    /// Extra latency of every write (Put and Delete), before it takes
    /// effect: writes that are still on the wire when a run is stopped.
    pub write_latency: Duration,
    /// Share of requests answered InternalServerException (before any effect).
    pub server_errors: f64,
    /// Share of requests whose connection is dropped without an answer
    /// (before any effect).
    pub dropped: f64,
    pub quotas: Option<Quotas>,
    /// Reads of a slot after a write that still return the old value.
    pub stale_reads: u32,
    /// Accounts answered AccessDenied on every Account API call.
    pub denied: BTreeSet<String>,
    /// Accounts whose writes (not reads) are denied, as an SCP would.
    pub denied_writes: BTreeSet<String>,
    /// Accounts whose writes are answered ValidationException (400).
    pub invalid_writes: BTreeSet<String>,
    /// An Organizations operation the caller is not allowed to call.
    pub organizations_denied: Option<&'static str>,
    /// The session's credentials expire after this many Account API
    /// requests: every later one is answered ExpiredTokenException (403),
    /// as AWS does once environment credentials run out mid-run.
    pub credentials_expire_after: Option<usize>,
    /// A role in the member accounts that the caller may assume
    /// (sts:AssumeRole), as a StackSet deploys it.
    pub member_roles: Option<MemberRoles>,
    /// The caller's partition, as its ARN says (default `aws`).
    pub partition: Option<&'static str>,
    /// Security Hub in the caller's account: off when `None`.
    pub security_hub: Option<Hub>,
    /// Organizations' account listings answer, on every page, the token of
    /// the second page: a listing that goes in a circle.
    pub circular_pages: bool,
    /// Accounts whose User Notifications calls are answered AccessDenied
    /// (a role made before altcontacts read subscriptions lacks them).
    pub notices_denied: BTreeSet<String>,
    /// Channel associations a page holds at most, whatever `maxResults`
    /// asks (AWS may answer fewer, and a client must follow `nextToken`);
    /// `None`: as many as asked.
    pub notices_page: Option<usize>,
}

/// Security Hub as the caller finds it.
#[derive(Clone, Debug, Default)]
pub struct Hub {
    /// The caller has no securityhub permission.
    pub denied: bool,
    /// BatchImportFindings fails this many findings (the first it is
    /// sent) with InternalException, as a partial failure.
    pub failing: usize,
}

/// One Security Hub call as the emulator answered it.
#[derive(Clone, Debug)]
pub struct HubCall {
    pub operation: &'static str,
    /// Findings in a BatchImportFindings call, and the body's size.
    pub findings: usize,
    pub bytes: usize,
    pub status: u16,
}

/// The member role of every account of the organization, and where it is
/// not as it should be.
#[derive(Clone, Debug, Default)]
pub struct MemberRoles {
    pub name: String,
    /// Accounts without it (the StackSet has not reached them yet).
    pub missing: BTreeSet<String>,
    /// Accounts whose role does not trust the caller.
    pub untrusting: BTreeSet<String>,
    /// AssumeRole's quota for the caller: throttled past it.
    pub quota: Option<Quota>,
    /// How long a session lasts, as its Expiration says (default an hour).
    pub lifetime: Option<Duration>,
    /// Sessions stop working this long after they were issued, whatever
    /// their Expiration says (revoked early).
    pub revoked_after: Option<Duration>,
}

/// One AssumeRole as the emulator answered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assumption {
    pub role_arn: String,
    pub session_name: String,
    /// 200, 400 (throttled) or 403 (no role, or its trust refuses).
    pub status: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    pub title: String,
    pub email: String,
    pub phone: String,
}

impl Contact {
    pub fn new(name: &str, email: &str) -> Self {
        Self {
            name: name.into(),
            title: "Team".into(),
            email: email.into(),
            phone: "+1 202 555 0100".into(),
        }
    }
}

/// An organization: units by id (name, parent id) and accounts.
#[derive(Clone, Debug, Default)]
pub struct Org {
    /// The management account; `None` means the caller is it. When it is
    /// another account, the caller is a delegated administrator: AWS lets it
    /// name member accounts only, so naming the management account is denied.
    pub management: Option<String>,
    pub root_id: String,
    pub units: Vec<(String, String, String)>,
    pub accounts: Vec<OrgAccount>,
    /// Service control policies besides FullAWSAccess, which AWS attaches
    /// to every root, unit and account and so does the emulator.
    pub policies: Vec<Scp>,
    /// Root emails by account; the others are `ID@root.corp.io`.
    pub root_emails: HashMap<String, String>,
}

/// A service control policy and the ids of the targets it is attached to.
#[derive(Clone, Debug)]
pub struct Scp {
    pub id: String,
    pub name: String,
    pub document: String,
    pub targets: Vec<String>,
}

pub const FULL_AWS_ACCESS: &str = "p-FullAWSAccess";

#[derive(Clone, Debug)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    pub status: String,
    pub parent: String,
    /// When it joined the organization (JoinedTimestamp), in seconds since
    /// the epoch.
    pub joined: f64,
}

/// A join time `seconds` ago, for [`OrgAccount::joined`].
pub fn joined_ago(seconds: u64) -> f64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs_f64();
    (now - seconds as f64).floor()
}

/// One Account API request as the emulator answered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    /// When the client sent the request (before its latency), from the
    /// emulator's start.
    pub sent_at: Duration,
    /// When the request reached the server (after its latency), from the
    /// emulator's start.
    pub at: Duration,
    pub operation: &'static str,
    /// The target account (the caller's when `AccountId` was omitted).
    pub account: String,
    /// The account whose credentials made the request.
    pub by: String,
    pub account_id_sent: bool,
    pub kind: String,
    pub status: u16,
}

/// A role STS lets a web identity (a CI job's OIDC token) assume: its
/// trust, as an IAM trust policy would say it, and what it may do.
#[derive(Clone, Debug)]
pub struct Role {
    pub account: String,
    pub name: String,
    /// The token's `aud` the trust policy requires.
    pub audience: String,
    /// The token's `sub` the trust policy admits (`StringLike`: `*` is any run of characters).
    pub subjects: Vec<String>,
    /// The OIDC provider the trust policy names, by its issuer: AWS takes
    /// a token only from the provider whose keys signed it, so a token
    /// that names another issuer is refused. `None`: any.
    pub issuer: Option<String>,
    /// Whether the role may write contacts; every role may read.
    pub writes: bool,
}

impl Role {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:role/{}", self.account, self.name)
    }
}

/// Who a request's credentials are: an assumed role's session, else the
/// emulator's caller.
#[derive(Clone, Debug)]
struct Identity {
    account: String,
    arn: String,
    writes: bool,
    /// When the session stops working, from the emulator's start.
    expires_at: Option<Duration>,
}

#[derive(Default)]
struct State {
    next_key: u64,
    /// Sessions of assumed roles, by access key.
    sessions: HashMap<String, Identity>,
    roles: Vec<Role>,
    /// Web identity requests: (role ARN, the token's sub, whether admitted).
    web_identities: Vec<(String, String, bool)>,
    contacts: HashMap<(String, String), Contact>,
    /// Primary contacts by account, as GetContactInformation's JSON.
    primary: HashMap<String, Value>,
    /// The primary phone's verification status (`VERIFIED`, `PENDING`,
    /// `UNVERIFIED`, `NOT_SUPPORTED`) by account, where GetContactInformation
    /// answers one.
    phone_verification: HashMap<String, String>,
    /// The contacts a managed notification configuration reaches, by
    /// account and topic (`AWS-Health/Security`), where not AWS's default.
    subscriptions: HashMap<(String, String), BTreeSet<String>>,
    /// Slot -> (value reads still see, reads left before the write shows).
    stale: HashMap<(String, String), (Option<Contact>, u32)>,
    log: Vec<Logged>,
    /// Writes that took effect, per slot.
    effective_writes: BTreeMap<(String, String), u32>,
    /// Per calling account and operation, as AWS keys its quotas: tokens,
    /// and the whole refill ticks counted so far.
    buckets: HashMap<(String, &'static str), (f64, u64)>,
    assumptions: Vec<Assumption>,
    /// Security Hub's findings by Id, as imported, and its calls.
    hub_findings: BTreeMap<String, Value>,
    /// Findings failed on purpose so far (`Hub::failing`).
    hub_failures: usize,
    hub_calls: Vec<HubCall>,
    rng: u64,
    organizations_calls: u64,
    /// Organizations requests by operation.
    organizations_operations: BTreeMap<String, u64>,
    /// Organizations requests' bodies, by operation.
    organizations_bodies: BTreeMap<String, Vec<String>>,
    /// Account API requests that reached the server, by operation, counted
    /// on arrival (before any latency or effect).
    arrivals: HashMap<&'static str, usize>,
    /// Faults switched on and off while the emulator runs, beside `Faults`.
    denied_writes_now: BTreeSet<String>,
    /// Accounts answering AccessDenied to every call from now on, as a
    /// member account's admin can make them.
    denied_now: BTreeSet<String>,
    write_latency_now: Duration,
}

struct Shared {
    started: Instant,
    /// The server's buckets refill in whole tokens at ticks of their own,
    /// offset from the emulator's start by this share of a tick, and they
    /// are full from the emulator's start: never in step with the client.
    tick_phase: f64,
    caller: String,
    org: std::sync::RwLock<Option<Org>>,
    faults: Faults,
    state: Mutex<State>,
}

pub struct Emulator {
    pub endpoint: String,
    shared: Arc<Shared>,
    server: HttpServer,
}

impl Emulator {
    /// Starts the emulator on a free loopback port, on its own runtime
    /// thread, so a test can drive the real binary against it.
    pub fn start(caller: &str, org: Option<Org>, faults: Faults) -> Self {
        let shared = Arc::new(Shared {
            started: Instant::now(),
            tick_phase: 0.37,
            caller: caller.to_owned(),
            org: std::sync::RwLock::new(org),
            faults,
            state: Mutex::new(State {
                rng: 0x9E37_79B9_7F4A_7C15,
                ..State::default()
            }),
        });
        let server = HttpServer::start("AWS emulator", Arc::clone(&shared), handle);
        Self {
            endpoint: server.url.clone(),
            shared,
            server,
        }
    }

    /// Security Hub's findings, by Id.
    pub fn hub_findings(&self) -> BTreeMap<String, Value> {
        self.state().hub_findings.clone()
    }

    pub fn hub_calls(&self) -> Vec<HubCall> {
        self.state().hub_calls.clone()
    }

    /// Every AssumeRole, in order.
    pub fn assumptions(&self) -> Vec<Assumption> {
        self.state().assumptions.clone()
    }

    /// A role a web identity may assume (`AssumeRoleWithWebIdentity`).
    pub fn add_role(&self, role: Role) {
        self.state().roles.push(role);
    }

    /// Every `AssumeRoleWithWebIdentity`: the role, the token's `sub`, and
    /// whether the trust policy admitted it.
    pub fn web_identities(&self) -> Vec<(String, String, bool)> {
        self.state().web_identities.clone()
    }

    /// Denies (or allows again) every write to `account`, as an SCP would.
    pub fn deny_writes(&self, account: &str, denied: bool) {
        let mut state = self.state();
        if denied {
            state.denied_writes_now.insert(account.to_owned());
        } else {
            state.denied_writes_now.remove(account);
        }
    }

    /// Denies (or allows again) every call to `account`, reads too, as its
    /// own admin could.
    pub fn deny_everything(&self, account: &str, denied: bool) {
        let mut state = self.state();
        if denied {
            state.denied_now.insert(account.to_owned());
        } else {
            state.denied_now.remove(account);
        }
    }

    /// Every write from now on is on the wire this long before it takes effect.
    pub fn set_write_latency(&self, latency: Duration) {
        self.state().write_latency_now = latency;
    }

    /// An account joins the organization now, under `parent`.
    pub fn join(&self, id: &str, name: &str, parent: &str) {
        let mut org = self.shared.org.write().unwrap_or_else(|p| p.into_inner());
        let org = org.as_mut().expect("an organization to join");
        org.accounts.push(OrgAccount {
            id: id.to_owned(),
            name: name.to_owned(),
            status: "ACTIVE".into(),
            parent: parent.to_owned(),
            joined: joined_ago(0),
        });
    }

    /// An account's admin renames it (PutAccountName).
    pub fn rename_account(&self, id: &str, name: &str) {
        let mut org = self.shared.org.write().unwrap_or_else(|p| p.into_inner());
        let org = org.as_mut().expect("an organization");
        if let Some(account) = org.accounts.iter_mut().find(|account| account.id == id) {
            account.name = name.to_owned();
        }
    }

    /// An account moves to `parent` (MoveAccount), or changes status.
    pub fn update_account(&self, id: &str, parent: Option<&str>, status: Option<&str>) {
        let mut org = self.shared.org.write().unwrap_or_else(|p| p.into_inner());
        let org = org.as_mut().expect("an organization");
        let account = org
            .accounts
            .iter_mut()
            .find(|account| account.id == id)
            .expect("an account of the organization");
        if let Some(parent) = parent {
            account.parent = parent.to_owned();
        }
        if let Some(status) = status {
            account.status = status.to_owned();
        }
    }

    pub fn set_contact(&self, account: &str, kind: &str, contact: Contact) {
        self.state()
            .contacts
            .insert((account.to_owned(), kind.to_owned()), contact);
    }

    /// Sets an account's primary contact (full name and phone; the address
    /// is a fixed one).
    pub fn set_primary(&self, account: &str, full_name: &str, phone: &str) {
        self.state().primary.insert(
            account.to_owned(),
            json!({ "FullName": full_name, "PhoneNumber": phone, "AddressLine1": "1 Main St",
                "City": "Seattle", "StateOrRegion": "WA", "PostalCode": "98101", "CountryCode": "US" }),
        );
    }

    /// An account's primary contact as AWS would answer it (full name, phone).
    pub fn primary(&self, account: &str) -> Option<(String, String)> {
        self.state().primary.get(account).map(|info| {
            (
                info["FullName"].as_str().unwrap_or_default().to_owned(),
                info["PhoneNumber"].as_str().unwrap_or_default().to_owned(),
            )
        })
    }

    /// What GetContactInformation answers of the primary phone's
    /// verification in `account`.
    pub fn set_phone_verification(&self, account: &str, status: &str) {
        self.state()
            .phone_verification
            .insert(account.to_owned(), status.to_owned());
    }

    /// Unsubscribes a contact (`ACCOUNT_ALTERNATE_SECURITY`) from a topic
    /// (`AWS-Health/Security`), as DisassociateManagedNotificationAccountContact.
    pub fn unsubscribe(&self, account: &str, topic: &str, contact: &str) {
        let mut subscribers = self.subscribers(account, topic);
        subscribers.remove(contact);
        self.state()
            .subscriptions
            .insert((account.to_owned(), topic.to_owned()), subscribers);
    }

    /// Subscribes a contact to a topic again, as the account's admin can.
    pub fn subscribe(&self, account: &str, topic: &str, contact: &str) {
        let mut subscribers = self.subscribers(account, topic);
        subscribers.insert(contact.to_owned());
        self.state()
            .subscriptions
            .insert((account.to_owned(), topic.to_owned()), subscribers);
    }

    /// The contacts a topic reaches in an account.
    pub fn subscribers(&self, account: &str, topic: &str) -> BTreeSet<String> {
        let state = self.state();
        state
            .subscriptions
            .get(&(account.to_owned(), topic.to_owned()))
            .cloned()
            .unwrap_or_else(|| {
                TOPICS
                    .iter()
                    .find(|(name, _)| *name == topic)
                    .map(|(_, defaults)| defaults.iter().map(|c| (*c).to_owned()).collect())
                    .unwrap_or_default()
            })
    }

    pub fn contact(&self, account: &str, kind: &str) -> Option<Contact> {
        self.state()
            .contacts
            .get(&(account.to_owned(), kind.to_owned()))
            .cloned()
    }

    /// The emulator's clock, as the log's times read it.
    pub fn now(&self) -> Duration {
        self.shared.started.elapsed()
    }

    pub fn log(&self) -> Vec<Logged> {
        self.state().log.clone()
    }

    pub fn clear_log(&self) {
        let mut state = self.state();
        state.log.clear();
        state.effective_writes.clear();
        state.arrivals.clear();
    }

    /// How many writes to the slot took effect.
    pub fn effective_writes(&self, account: &str, kind: &str) -> u32 {
        self.state()
            .effective_writes
            .get(&(account.to_owned(), kind.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Requests of `operation` that reached the server, answered or not yet.
    pub fn arrivals(&self, operation: &str) -> usize {
        self.state().arrivals.get(operation).copied().unwrap_or(0)
    }

    pub fn organizations_calls(&self) -> u64 {
        self.state().organizations_calls
    }

    /// The bodies of the Organizations requests of one operation.
    pub fn organizations_requests(&self, operation: &str) -> Vec<String> {
        self.state()
            .organizations_bodies
            .get(operation)
            .cloned()
            .unwrap_or_default()
    }

    /// Organizations requests of one operation (`ListTargetsForPolicy`).
    pub fn organizations_operation(&self, operation: &str) -> u64 {
        self.state()
            .organizations_operations
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The binary, pointed at the emulator with test credentials.
    pub fn command(&self, dir: &std::path::Path, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_altcontacts"));
        command.current_dir(dir);
        with_test_credentials(&mut command);
        command.args(["--endpoint-url", &self.endpoint]).args(args);
        command
    }
}

/// Isolates `command` from real AWS settings and gives it the emulator's
/// (fake) credentials and region.
pub fn with_test_credentials(command: &mut std::process::Command) {
    isolate_from_aws(command);
    command
        .env("AWS_ACCESS_KEY_ID", "emulator")
        .env("AWS_SECRET_ACCESS_KEY", "emulator")
        .env("AWS_REGION", "us-east-1");
}

/// Clears what could point `command` at a real AWS account: AWS_* from the
/// environment, the shared config and credentials files, instance metadata.
pub fn isolate_from_aws(command: &mut std::process::Command) {
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    command
        .env("AWS_CONFIG_FILE", "/nonexistent/altcontacts-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/altcontacts-test-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // The real DNS is never asked; the tests of the DNS check give their
        // own server.
        .env("ALTCONTACTS_NO_DNS", "1")
        .env_remove("ALTCONTACTS_DNS_SERVER");
}

fn reply(status: StatusCode, headers: &[(&str, &str)], body: String) -> Reply {
    let mut response = Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(*name, *value);
    }
    Ok(response
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response"))
}

/// A restJson1 error, as the Account API sends them.
fn account_error(status: u16, code: &str, message: &str) -> Reply {
    reply(
        StatusCode::from_u16(status).expect("a valid status"),
        &[
            ("content-type", "application/json"),
            ("x-amzn-errortype", code),
        ],
        json!({ "message": message }).to_string(),
    )
}

async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Reply {
    let sent_at = shared.started.elapsed();
    let latency = {
        let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
        let tail = shared.faults.latency_tail.as_secs_f64();
        // Exponential by inversion; 1 - u is in (0, 1], so ln is finite.
        let sample = -tail * (1.0 - chance(&mut state)).ln();
        shared.faults.latency + Duration::from_secs_f64(sample)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(form_of).unwrap_or_default();
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let identity = access_key(request.headers()).and_then(|key| {
        shared
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .sessions
            .get(&key)
            .cloned()
    });
    let identity = identity.unwrap_or_else(|| Identity {
        account: shared.caller.clone(),
        arn: format!(
            "arn:{}:iam::{}:user/emulator",
            shared.faults.partition.unwrap_or("aws"),
            shared.caller
        ),
        writes: true,
        expires_at: None,
    });
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    match (path.as_str(), target) {
        ("/getAlternateContact" | "/putAlternateContact" | "/deleteAlternateContact", _) => {
            account(shared, &identity, sent_at, &path, &body).await
        }
        ("/getContactInformation" | "/putContactInformation", _) => {
            contact_information(&shared, &identity, sent_at, &path, &body)
        }
        ("/channels/list-managed-notification-channel-associations", _) => {
            notifications(&shared, &identity, sent_at, &query, None, &body)
        }
        (p, _) if p.starts_with("/contacts/associate-managed-notification/") => notifications(
            &shared,
            &identity,
            sent_at,
            &query,
            Some(&url_decode(
                &p["/contacts/associate-managed-notification/".len()..],
            )),
            &body,
        ),
        ("/accounts" | "/findings" | "/findings/import" | "/findings/batchupdate", _) => {
            security_hub(&shared, &identity, &path, &body)
        }
        (_, Some(target)) => organizations(&shared, &target, &body),
        _ if String::from_utf8_lossy(&body).contains("Action=") => sts(&shared, &identity, &body),
        _ => reply(
            StatusCode::NOT_FOUND,
            &[],
            format!("the emulator does not know {path}"),
        ),
    }
}

/// A URL's query as a map, its values decoded.
fn form_of(query: &str) -> HashMap<String, String> {
    form(query.as_bytes())
}

/// The access key a request is signed with (SigV4's `Credential=`).
fn access_key(headers: &hyper::HeaderMap) -> Option<String> {
    let authorization = headers.get("authorization")?.to_str().ok()?;
    let credential = authorization.split("Credential=").nth(1)?;
    Some(credential.split('/').next()?.to_owned())
}

/// The fields of an awsQuery request body.
fn form(body: &[u8]) -> HashMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key.to_owned(), url_decode(value)))
        .collect()
}

fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An awsQuery error, as STS sends them.
fn sts_error(status: u16, code: &str, message: &str) -> Reply {
    reply(
        StatusCode::from_u16(status).expect("a valid status"),
        &[("content-type", "text/xml")],
        format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
             <Code>{code}</Code><Message>{message}</Message></Error><RequestId>emulator</RequestId></ErrorResponse>"
        ),
    )
}

/// Whether `text` matches `pattern`, where `*` is any run of characters
/// (IAM's `StringLike`).
pub fn string_like(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|at| tail.is_char_boundary(*at))
                .any(|at| string_like(rest, &tail[at..]))
        }
    }
}

fn sts(shared: &Shared, identity: &Identity, body: &[u8]) -> Reply {
    let fields = form(body);
    match fields.get("Action").map(String::as_str) {
        Some("GetCallerIdentity") => {
            let account = &identity.account;
            reply(
                StatusCode::OK,
                &[("content-type", "text/xml")],
                format!(
                    "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>\
                     <Arn>{}</Arn><UserId>AIDAEMULATOR</UserId><Account>{account}</Account>\
                     </GetCallerIdentityResult><ResponseMetadata><RequestId>emulator</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
                    identity.arn
                ),
            )
        }
        Some("AssumeRoleWithWebIdentity") => assume_role_with_web_identity(shared, &fields),
        Some("AssumeRole") => assume_role(shared, identity, &fields),
        other => sts_error(
            400,
            "InvalidAction",
            &format!("the emulator does not know {other:?}"),
        ),
    }
}

/// AssumeRole into a member account's role: granted when the role is
/// there and trusts the caller's account, throttled past its quota.
fn assume_role(shared: &Shared, identity: &Identity, fields: &HashMap<String, String>) -> Reply {
    let role_arn = fields.get("RoleArn").cloned().unwrap_or_default();
    let session_name = fields.get("RoleSessionName").cloned().unwrap_or_default();
    let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
    let log = |state: &mut State, status: u16| {
        state.assumptions.push(Assumption {
            role_arn: role_arn.clone(),
            session_name: session_name.clone(),
            status,
        });
    };
    let Some(roles) = &shared.faults.member_roles else {
        log(&mut state, 403);
        return sts_error(403, "AccessDenied", "no member roles in this emulator");
    };
    if let Some(quota) = roles.quota
        && !take_token(shared, &mut state, &identity.account, "AssumeRole", quota)
    {
        log(&mut state, 400);
        return sts_error(400, "Throttling", "Rate exceeded");
    }
    // arn:aws:iam::ACCOUNT:role/NAME
    let account = role_arn.split(':').nth(4).unwrap_or_default().to_owned();
    let name = role_arn.rsplit('/').next().unwrap_or_default();
    let org = shared.org.read().unwrap_or_else(|p| p.into_inner());
    let exists = name == roles.name
        && !roles.missing.contains(&account)
        && org
            .as_ref()
            .is_some_and(|org| org.accounts.iter().any(|a| a.id == account));
    // The role trusts the organization's pipeline account: the caller.
    let trusted = identity.account == shared.caller && !roles.untrusting.contains(&account);
    if !exists || !trusted {
        log(&mut state, 403);
        return sts_error(
            403,
            "AccessDenied",
            &format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                identity.arn
            ),
        );
    }
    log(&mut state, 200);
    state.next_key += 1;
    let key = format!("ASIAMEMBER{:010}", state.next_key);
    let now = shared.started.elapsed();
    let lifetime = roles.lifetime.unwrap_or(Duration::from_secs(3600));
    let arn = format!("arn:aws:sts::{account}:assumed-role/{name}/{session_name}");
    state.sessions.insert(
        key.clone(),
        Identity {
            account,
            arn: arn.clone(),
            writes: true,
            expires_at: Some(now + roles.revoked_after.unwrap_or(lifetime).min(lifetime)),
        },
    );
    let expiration = std::time::SystemTime::now() + lifetime;
    let expiration = altcontacts::model::Timestamp(
        expiration
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after the epoch")
            .as_secs() as i64,
    );
    reply(
        StatusCode::OK,
        &[("content-type", "text/xml")],
        format!(
            "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
             <Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>emulated</SecretAccessKey>\
             <SessionToken>emulated-member-session</SessionToken><Expiration>{}</Expiration></Credentials>\
             <AssumedRoleUser><Arn>{arn}</Arn><AssumedRoleId>AROAMEMBER:{session_name}</AssumedRoleId></AssumedRoleUser>\
             </AssumeRoleResult><ResponseMetadata><RequestId>emulator</RequestId></ResponseMetadata></AssumeRoleResponse>",
            expiration.rfc3339()
        ),
    )
}

/// Security Hub: DescribeHub, GetFindings (ProductArn EQUALS and
/// GeneratorId PREFIX filters, pages of 100), BatchImportFindings, with
/// its limits (100 findings and 6 MB a call, 240 KB a finding, its
/// required fields, and who may import findings about which account), and
/// BatchUpdateFindings of the workflow. As AWS, an import keeps the
/// workflow of a finding it already has: only the first sets it.
fn security_hub(shared: &Shared, identity: &Identity, path: &str, body: &[u8]) -> Reply {
    let operation = match path {
        "/accounts" => "DescribeHub",
        "/findings" => "GetFindings",
        "/findings/batchupdate" => "BatchUpdateFindings",
        _ => "BatchImportFindings",
    };
    let input: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
    let call = HubCall {
        operation,
        findings: input["Findings"].as_array().map_or(0, Vec::len),
        bytes: body.len(),
        status: 200,
    };
    let refuse = |state: &mut State, mut call: HubCall, status: u16, code: &str, message: &str| {
        call.status = status;
        state.hub_calls.push(call);
        account_error(status, code, message)
    };
    let Some(hub) = &shared.faults.security_hub else {
        return refuse(
            &mut state,
            call,
            401,
            "InvalidAccessException",
            &format!(
                "Account {} is not subscribed to AWS Security Hub",
                identity.account
            ),
        );
    };
    if hub.denied {
        return refuse(
            &mut state,
            call,
            403,
            "AccessDeniedException",
            &format!(
                "User: {} is not authorized to perform: securityhub:{operation}",
                identity.arn
            ),
        );
    }
    let product = format!(
        "arn:aws:securityhub:us-east-1:{0}:product/{0}/default",
        identity.account
    );
    match operation {
        "DescribeHub" => {
            state.hub_calls.push(call);
            reply(
                StatusCode::OK,
                &[("content-type", "application/json")],
                json!({ "HubArn": format!("arn:aws:securityhub:us-east-1:{}:hub/default", identity.account),
                        "SubscribedAt": "2025-01-01T00:00:00.000Z" })
                .to_string(),
            )
        }
        "BatchUpdateFindings" => {
            let identifiers = input["FindingIdentifiers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if identifiers.is_empty() || identifiers.len() > 100 {
                return refuse(
                    &mut state,
                    call,
                    400,
                    "InvalidInputException",
                    "FindingIdentifiers must hold 1 to 100 identifiers",
                );
            }
            let status = input["Workflow"]["Status"].clone();
            let mut processed = Vec::new();
            let mut unprocessed = Vec::new();
            for identifier in identifiers {
                let id = identifier["Id"].as_str().unwrap_or_default();
                match state.hub_findings.get_mut(id) {
                    Some(finding) if identifier["ProductArn"] == finding["ProductArn"] => {
                        finding["Workflow"] = json!({ "Status": status });
                        processed.push(identifier);
                    }
                    _ => unprocessed.push(json!({ "FindingIdentifier": identifier,
                        "ErrorCode": "FindingNotFound", "ErrorMessage": "no such finding" })),
                }
            }
            state.hub_calls.push(call);
            reply(
                StatusCode::OK,
                &[("content-type", "application/json")],
                json!({ "ProcessedFindings": processed, "UnprocessedFindings": unprocessed })
                    .to_string(),
            )
        }
        "GetFindings" => {
            let equals = |field: &str| {
                input["Filters"][field][0]["Value"]
                    .as_str()
                    .map(str::to_owned)
            };
            let (product_arn, prefix) = (equals("ProductArn"), equals("GeneratorId"));
            let matching: Vec<Value> = state
                .hub_findings
                .values()
                .filter(|finding| {
                    product_arn
                        .as_deref()
                        .is_none_or(|arn| finding["ProductArn"] == arn)
                        && prefix.as_deref().is_none_or(|prefix| {
                            finding["GeneratorId"]
                                .as_str()
                                .is_some_and(|id| id.starts_with(prefix))
                        })
                })
                .cloned()
                .collect();
            let start: usize = input["NextToken"]
                .as_str()
                .and_then(|token| token.parse().ok())
                .unwrap_or(0);
            let size = input["MaxResults"].as_u64().unwrap_or(100).min(100) as usize;
            let page: Vec<Value> = matching.iter().skip(start).take(size).cloned().collect();
            let mut answer = json!({ "Findings": page });
            if start + size < matching.len() {
                answer["NextToken"] = json!((start + size).to_string());
            }
            state.hub_calls.push(call);
            reply(
                StatusCode::OK,
                &[("content-type", "application/json")],
                answer.to_string(),
            )
        }
        _ => {
            if body.len() > 6 * 1024 * 1024 {
                return refuse(
                    &mut state,
                    call,
                    413,
                    "InvalidInputException",
                    "request over 6 MB",
                );
            }
            let findings = input["Findings"].as_array().cloned().unwrap_or_default();
            if findings.is_empty() || findings.len() > 100 {
                return refuse(
                    &mut state,
                    call,
                    400,
                    "InvalidInputException",
                    "Findings must hold 1 to 100 findings",
                );
            }
            let required = [
                "SchemaVersion",
                "Id",
                "ProductArn",
                "GeneratorId",
                "AwsAccountId",
                "Types",
                "CreatedAt",
                "UpdatedAt",
                "Severity",
                "Title",
                "Description",
                "Resources",
            ];
            let mut failed = Vec::new();
            for finding in findings {
                let id = finding["Id"].as_str().unwrap_or_default().to_owned();
                let account = finding["AwsAccountId"].as_str().unwrap_or_default();
                let problem = if finding.to_string().len() > 240 * 1024 {
                    Some(("InvalidInput", "the finding is over 240 KB".to_owned()))
                } else if let Some(missing) = required.iter().find(|key| finding[**key].is_null()) {
                    Some(("InvalidInput", format!("{missing} is required")))
                } else if finding["ProductArn"] != product.as_str() {
                    Some((
                        "AccessDeniedException",
                        "not this account's product".to_owned(),
                    ))
                } else if account != identity.account {
                    // AWS's rule for the default product: only the account
                    // a finding names may import it, administrator or not.
                    Some((
                        "AccessDeniedException",
                        format!(
                            "account {} may not import findings with AwsAccountId {account}",
                            identity.account
                        ),
                    ))
                } else if state.hub_failures < hub.failing {
                    state.hub_failures += 1;
                    Some((
                        "InternalException",
                        "internal failure, try again".to_owned(),
                    ))
                } else {
                    None
                };
                match problem {
                    Some((code, message)) => {
                        failed.push(json!({ "Id": id, "ErrorCode": code, "ErrorMessage": message }))
                    }
                    None => {
                        let mut finding = finding;
                        if let Some(workflow) = state
                            .hub_findings
                            .get(&id)
                            .map(|kept| kept["Workflow"].clone())
                        {
                            finding["Workflow"] = workflow;
                        }
                        state.hub_findings.insert(id, finding);
                    }
                }
            }
            let success = call.findings - failed.len();
            state.hub_calls.push(call);
            reply(
                StatusCode::OK,
                &[("content-type", "application/json")],
                json!({ "FailedCount": failed.len(), "SuccessCount": success, "FailedFindings": failed })
                    .to_string(),
            )
        }
    }
}

/// The claims of a JWT (unverified: the emulator trusts the harness that
/// minted it, as AWS trusts the OIDC provider's signature).
fn claims(token: &str) -> Option<Value> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn assume_role_with_web_identity(shared: &Shared, fields: &HashMap<String, String>) -> Reply {
    let role_arn = fields.get("RoleArn").cloned().unwrap_or_default();
    let session = fields.get("RoleSessionName").cloned().unwrap_or_default();
    let Some(claims) = fields
        .get("WebIdentityToken")
        .and_then(|token| claims(token))
    else {
        return sts_error(
            400,
            "InvalidIdentityToken",
            "The web identity token is not a JWT",
        );
    };
    let subject = claims["sub"].as_str().unwrap_or_default().to_owned();
    let audience = claims["aud"].as_str().unwrap_or_default();
    let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
    let role = state
        .roles
        .iter()
        .find(|role| role.arn() == role_arn)
        .filter(|role| role.audience == audience)
        .filter(|role| {
            role.issuer
                .as_deref()
                .is_none_or(|issuer| claims["iss"].as_str() == Some(issuer))
        })
        .filter(|role| {
            role.subjects
                .iter()
                .any(|pattern| string_like(pattern, &subject))
        })
        .cloned();
    state
        .web_identities
        .push((role_arn.clone(), subject.clone(), role.is_some()));
    let Some(role) = role else {
        return sts_error(
            403,
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity",
        );
    };
    state.next_key += 1;
    let key = format!("ASIAEMULATOR{:08}", state.next_key);
    let arn = format!(
        "arn:aws:sts::{}:assumed-role/{}/{session}",
        role.account, role.name
    );
    state.sessions.insert(
        key.clone(),
        Identity {
            account: role.account.clone(),
            arn: arn.clone(),
            writes: role.writes,
            expires_at: None,
        },
    );
    let expiration = altcontacts::model::Timestamp(altcontacts::model::Timestamp::now().0 + 3600);
    reply(
        StatusCode::OK,
        &[("content-type", "text/xml")],
        format!(
            "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult>\
             <Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>emulated</SecretAccessKey>\
             <SessionToken>emulated-session</SessionToken><Expiration>{}</Expiration></Credentials>\
             <SubjectFromWebIdentityToken>{subject}</SubjectFromWebIdentityToken>\
             <AssumedRoleUser><Arn>{arn}</Arn><AssumedRoleId>AROAEMULATOR:{session}</AssumedRoleId></AssumedRoleUser>\
             <Audience>{audience}</Audience></AssumeRoleWithWebIdentityResult>\
             <ResponseMetadata><RequestId>emulator</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>",
            expiration.rfc3339()
        ),
    )
}

/// A next random number in [0, 1), deterministic per emulator.
fn chance(state: &mut State) -> f64 {
    state.rng ^= state.rng << 13;
    state.rng ^= state.rng >> 7;
    state.rng ^= state.rng << 17;
    (state.rng >> 11) as f64 / (1u64 << 53) as f64
}

/// Takes a token from the operation's bucket; false means throttled. The
/// bucket gains one whole token at each tick of its own clock.
fn take_token(
    shared: &Shared,
    state: &mut State,
    caller: &str,
    operation: &'static str,
    quota: Quota,
) -> bool {
    let ticks = (shared.started.elapsed().as_secs_f64() * quota.rate + shared.tick_phase) as u64;
    let (tokens, counted) = state
        .buckets
        .entry((caller.to_owned(), operation))
        .or_insert((quota.burst.floor(), 0));
    *tokens = (*tokens + (ticks - *counted) as f64).min(quota.burst.floor());
    *counted = ticks;
    if *tokens >= 1.0 {
        *tokens -= 1.0;
        true
    } else {
        false
    }
}

enum Fault {
    Drop,
    ServerError,
    Throttle,
}

async fn account(
    shared: Arc<Shared>,
    identity: &Identity,
    sent_at: Duration,
    path: &str,
    body: &[u8],
) -> Reply {
    let faults = &shared.faults;
    let input: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let operation: &'static str = match path {
        "/getAlternateContact" => "GetAlternateContact",
        "/putAlternateContact" => "PutAlternateContact",
        _ => "DeleteAlternateContact",
    };
    let kind = input["AlternateContactType"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let sent = input["AccountId"].as_str().map(str::to_owned);
    let account = sent.clone().unwrap_or_else(|| identity.account.clone());
    *shared
        .state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .arrivals
        .entry(operation)
        .or_default() += 1;
    let write_latency = faults.write_latency.max(
        shared
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .write_latency_now,
    );
    if operation != "GetAlternateContact" && !write_latency.is_zero() {
        tokio::time::sleep(write_latency).await;
    }

    let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
    let log = |status: u16, state: &mut State| {
        state.log.push(Logged {
            sent_at,
            at: shared.started.elapsed(),
            operation,
            account: account.clone(),
            by: identity.account.clone(),
            account_id_sent: sent.is_some(),
            kind: kind.clone(),
            status,
        });
    };
    let expired = faults
        .credentials_expire_after
        .is_some_and(|after| state.log.len() >= after)
        || identity
            .expires_at
            .is_some_and(|expires| shared.started.elapsed() >= expires);
    if expired {
        log(403, &mut state);
        return account_error(
            403,
            "ExpiredTokenException",
            "The security token included in the request is expired",
        );
    }
    let fault = if chance(&mut state) < faults.dropped {
        Some(Fault::Drop)
    } else if chance(&mut state) < faults.server_errors {
        Some(Fault::ServerError)
    } else {
        faults.quotas.and_then(|quotas| {
            let quota = match operation {
                "GetAlternateContact" => quotas.get,
                "PutAlternateContact" => quotas.put,
                _ => quotas.delete,
            };
            (!take_token(&shared, &mut state, &identity.account, operation, quota))
                .then_some(Fault::Throttle)
        })
    };
    match fault {
        Some(Fault::Drop) => {
            log(0, &mut state);
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "emulated dropped connection",
            ));
        }
        Some(Fault::ServerError) => {
            log(500, &mut state);
            return account_error(500, "InternalServerException", "emulated internal error");
        }
        Some(Fault::Throttle) => {
            log(429, &mut state);
            return account_error(429, "TooManyRequestsException", "Rate exceeded");
        }
        None => {}
    }

    let org = shared.org.read().unwrap_or_else(|p| p.into_inner());
    let in_org = org
        .as_ref()
        .is_none_or(|org| org.accounts.iter().any(|a| a.id == account));
    let writing = operation != "GetAlternateContact";
    let management = org.as_ref().and_then(|org| org.management.as_deref());
    let denied = sent.as_deref() == Some(identity.account.as_str())
        || (sent.is_some() && sent.as_deref() == management)
        || !in_org
        || (writing && !identity.writes)
        || faults.denied.contains(&account)
        || state.denied_now.contains(&account)
        || (writing && faults.denied_writes.contains(&account))
        || (writing && state.denied_writes_now.contains(&account));
    if denied {
        log(403, &mut state);
        return account_error(
            403,
            "AccessDeniedException",
            &format!(
                "User: {} is not authorized to perform: account:{operation} on account {account}",
                identity.arn
            ),
        );
    }
    if !["SECURITY", "BILLING", "OPERATIONS"].contains(&kind.as_str())
        || (writing && faults.invalid_writes.contains(&account))
    {
        log(400, &mut state);
        return account_error(400, "ValidationException", "invalid AlternateContactType");
    }
    let slot = (account.clone(), kind.clone());
    match operation {
        "GetAlternateContact" => {
            let visible = match state.stale.get_mut(&slot) {
                Some((old, left)) if *left > 0 => {
                    *left -= 1;
                    old.clone()
                }
                _ => state.contacts.get(&slot).cloned(),
            };
            match visible {
                Some(contact) => {
                    log(200, &mut state);
                    reply(
                        StatusCode::OK,
                        &[("content-type", "application/json")],
                        json!({ "AlternateContact": {
                            "AlternateContactType": kind, "Name": contact.name, "Title": contact.title,
                            "EmailAddress": contact.email, "PhoneNumber": contact.phone } })
                        .to_string(),
                    )
                }
                None => {
                    log(404, &mut state);
                    account_error(
                        404,
                        "ResourceNotFoundException",
                        "No contact of the inputted alternate contact type found.",
                    )
                }
            }
        }
        _ => {
            let new = (operation == "PutAlternateContact").then(|| Contact {
                name: input["Name"].as_str().unwrap_or_default().into(),
                title: input["Title"].as_str().unwrap_or_default().into(),
                email: input["EmailAddress"].as_str().unwrap_or_default().into(),
                phone: input["PhoneNumber"].as_str().unwrap_or_default().into(),
            });
            if new.is_none() && !state.contacts.contains_key(&slot) {
                log(404, &mut state);
                return account_error(
                    404,
                    "ResourceNotFoundException",
                    "No contact of the inputted alternate contact type found.",
                );
            }
            if new.as_ref().is_some_and(|c| {
                [&c.name, &c.title, &c.email, &c.phone]
                    .iter()
                    .any(|f| f.is_empty())
            }) {
                log(400, &mut state);
                return account_error(400, "ValidationException", "every field is required");
            }
            let old = match &new {
                Some(contact) => state.contacts.insert(slot.clone(), contact.clone()),
                None => state.contacts.remove(&slot),
            };
            if faults.stale_reads > 0 {
                state.stale.insert(slot.clone(), (old, faults.stale_reads));
            }
            *state.effective_writes.entry(slot).or_default() += 1;
            log(200, &mut state);
            reply(
                StatusCode::OK,
                &[("content-type", "application/json")],
                "{}".to_owned(),
            )
        }
    }
}

/// The managed notification configurations every account has, and the
/// contacts AWS subscribes to each in a new account.
const TOPICS: [(&str, &[&str]); 4] = [
    (
        "AWS-Health/Security",
        &[
            "ACCOUNT_PRIMARY",
            "ACCOUNT_ALTERNATE_OPERATIONS",
            "ACCOUNT_ALTERNATE_SECURITY",
        ],
    ),
    (
        "AWS-Health/Operations",
        &["ACCOUNT_PRIMARY", "ACCOUNT_ALTERNATE_OPERATIONS"],
    ),
    (
        "AWS-Health/Billing",
        &[
            "ACCOUNT_PRIMARY",
            "ACCOUNT_ALTERNATE_OPERATIONS",
            "ACCOUNT_ALTERNATE_BILLING",
        ],
    ),
    ("AWS-Health/Issue", &[]),
];

/// User Notifications' managed notification calls, as AWS answers them:
/// an account's configurations answer only that account (the ARN names it);
/// an unknown configuration is ResourceNotFound; errors carry
/// `x-amzn-errortype`. `contact` is the contact an Associate names.
fn notifications(
    shared: &Shared,
    identity: &Identity,
    sent_at: Duration,
    query: &HashMap<String, String>,
    contact: Option<&str>,
    body: &[u8],
) -> Reply {
    let operation: &'static str = match contact {
        None => "ListManagedNotificationChannelAssociations",
        Some(_) => "AssociateManagedNotificationAccountContact",
    };
    let input: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let arn = match contact {
        None => query.get("managedNotificationConfigurationArn").cloned(),
        Some(_) => input["managedNotificationConfigurationArn"]
            .as_str()
            .map(str::to_owned),
    }
    .unwrap_or_default();
    // arn:aws:notifications::ACCOUNT:managed-notification-configuration/category/C/sub-category/S
    let parsed = arn.split(':').nth(4).zip(
        arn.split_once(":managed-notification-configuration/category/")
            .and_then(|(_, rest)| rest.split_once("/sub-category/")),
    );
    let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
    *state.arrivals.entry(operation).or_default() += 1;
    let account = parsed.map_or_else(String::new, |(account, _)| account.to_owned());
    let log = |status: u16, state: &mut State| {
        state.log.push(Logged {
            sent_at,
            at: shared.started.elapsed(),
            operation,
            account: account.clone(),
            by: identity.account.clone(),
            account_id_sent: false,
            kind: contact.unwrap_or_default().to_owned(),
            status,
        });
    };
    if let Some(quotas) = shared.faults.quotas {
        let quota = match contact {
            None => quotas.notices_read,
            Some(_) => quotas.notices_write,
        };
        if !take_token(shared, &mut state, &identity.account, operation, quota) {
            log(429, &mut state);
            return account_error(429, "ThrottlingException", "Rate exceeded");
        }
    }
    let Some((account, (category, sub))) = parsed else {
        log(400, &mut state);
        return account_error(
            400,
            "ValidationException",
            "invalid managedNotificationConfigurationArn",
        );
    };
    if account != identity.account || shared.faults.notices_denied.contains(account) {
        log(403, &mut state);
        return account_error(
            403,
            "AccessDeniedException",
            &format!(
                "User: {} is not authorized to perform: notifications:{operation} on resource: {arn}",
                identity.arn
            ),
        );
    }
    let topic = format!("{category}/{sub}");
    let Some((_, defaults)) = TOPICS.iter().find(|(name, _)| *name == topic) else {
        log(404, &mut state);
        return account_error(
            404,
            "ResourceNotFoundException",
            &format!("ManagedNotificationConfiguration {arn} not found"),
        );
    };
    let key = (account.to_owned(), topic.clone());
    let current = state
        .subscriptions
        .get(&key)
        .cloned()
        .unwrap_or_else(|| defaults.iter().map(|c| (*c).to_owned()).collect());
    match contact {
        Some(contact) => {
            if !TOPICS[0].1.contains(&contact) && contact != "ACCOUNT_ALTERNATE_BILLING" {
                log(400, &mut state);
                return account_error(400, "ValidationException", "invalid contactIdentifier");
            }
            let mut subscribers = current;
            subscribers.insert(contact.to_owned());
            state.subscriptions.insert(key, subscribers);
            log(201, &mut state);
            reply(
                StatusCode::CREATED,
                &[("content-type", "application/json")],
                "{}".to_owned(),
            )
        }
        None => {
            // Another channel beside the contacts, as a console user adds
            // one: only ACCOUNT_CONTACT entries are contacts.
            let mut entries: Vec<Value> = vec![json!({
                "channelIdentifier": format!("arn:aws:chatbot::{account}:chat-configuration/slack-channel/ops"),
                "channelType": "CHATBOT",
            })];
            entries.extend(current.iter().map(|contact| {
                json!({
                    "channelIdentifier": contact,
                    "channelType": "ACCOUNT_CONTACT",
                    "overrideOption": "ENABLED",
                })
            }));
            let start: usize = query
                .get("nextToken")
                .and_then(|token| token.strip_prefix("page-"))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let asked: usize = query
                .get("maxResults")
                .and_then(|n| n.parse().ok())
                .unwrap_or(20);
            let page = shared
                .faults
                .notices_page
                .unwrap_or(asked)
                .min(asked)
                .max(1);
            let end = (start + page).min(entries.len());
            let mut page = json!({ "channelAssociations": entries[start.min(end)..end] });
            if end < entries.len() {
                page["nextToken"] = json!(format!("page-{end}"));
            }
            log(200, &mut state);
            reply(
                StatusCode::OK,
                &[("content-type", "application/json")],
                page.to_string(),
            )
        }
    }
}

/// GetContactInformation: the primary contact, with AWS's rules on who may
/// name which account.
fn contact_information(
    shared: &Shared,
    identity: &Identity,
    sent_at: Duration,
    path: &str,
    body: &[u8],
) -> Reply {
    let input: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let writing = path == "/putContactInformation";
    let sent = input["AccountId"].as_str().map(str::to_owned);
    let account = sent.clone().unwrap_or_else(|| identity.account.clone());
    let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
    let org = shared.org.read().unwrap_or_else(|p| p.into_inner());
    let management = org.as_ref().and_then(|org| org.management.as_deref());
    let denied = sent.as_deref() == Some(identity.account.as_str())
        || (sent.is_some() && sent.as_deref() == management)
        || (writing && !identity.writes)
        || shared.faults.denied.contains(&account)
        || state.denied_now.contains(&account);
    if identity
        .expires_at
        .is_some_and(|expires| shared.started.elapsed() >= expires)
    {
        return account_error(
            403,
            "ExpiredTokenException",
            "The security token included in the request is expired",
        );
    }
    let required = [
        "FullName",
        "AddressLine1",
        "City",
        "PostalCode",
        "CountryCode",
        "PhoneNumber",
    ];
    let status = if denied {
        403
    } else if writing {
        let information = &input["ContactInformation"];
        if required
            .iter()
            .all(|key| information[key].as_str().is_some_and(|v| !v.is_empty()))
        {
            state.primary.insert(account.clone(), information.clone());
            *state
                .effective_writes
                .entry((account.clone(), "PRIMARY".into()))
                .or_default() += 1;
            200
        } else {
            400
        }
    } else if state.primary.contains_key(&account) {
        200
    } else {
        404
    };
    state.log.push(Logged {
        sent_at,
        at: shared.started.elapsed(),
        operation: if writing {
            "PutContactInformation"
        } else {
            "GetContactInformation"
        },
        account: account.clone(),
        by: identity.account.clone(),
        account_id_sent: sent.is_some(),
        kind: "PRIMARY".into(),
        status,
    });
    match status {
        403 => account_error(
            403,
            "AccessDeniedException",
            "User is not authorized to perform: account:GetContactInformation",
        ),
        404 => account_error(
            404,
            "ResourceNotFoundException",
            "No contact information found.",
        ),
        _ => reply(StatusCode::OK, &[("content-type", "application/json")], {
            let mut answer = json!({ "ContactInformation": state.primary[&account] });
            if let Some(verification) = state.phone_verification.get(&account) {
                answer["VerificationStatus"] = json!(verification);
            }
            answer.to_string()
        }),
    }
}

/// An awsJson1.1 error, as Organizations sends them.
fn organizations_error(code: &str, message: &str) -> Reply {
    reply(
        StatusCode::BAD_REQUEST,
        &[("content-type", "application/x-amz-json-1.1")],
        json!({ "__type": code, "Message": message }).to_string(),
    )
}

/// Organizations pages hold at most 20 items, as AWS's do.
const PAGE: usize = 20;

fn page<T: Clone>(items: &[T], input: &Value) -> (Vec<T>, Option<String>) {
    let start: usize = input["NextToken"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let size = input["MaxResults"]
        .as_u64()
        .map_or(PAGE, |n| (n as usize).clamp(1, PAGE));
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    (items.get(start..end).unwrap_or_default().to_vec(), next)
}

fn organizations(shared: &Shared, target: &str, body: &[u8]) -> Reply {
    {
        let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
        state.organizations_calls += 1;
        let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
        *state
            .organizations_operations
            .entry(operation.clone())
            .or_default() += 1;
        state
            .organizations_bodies
            .entry(operation)
            .or_default()
            .push(String::from_utf8_lossy(body).into_owned());
    }
    let org = shared.org.read().unwrap_or_else(|p| p.into_inner());
    let Some(org) = org.as_ref() else {
        return organizations_error(
            "AWSOrganizationsNotInUseException",
            "Your account is not a member of an organization.",
        );
    };
    let operation = target.rsplit('.').next().unwrap_or_default();
    if shared.faults.organizations_denied == Some(operation) {
        return organizations_error(
            "AccessDeniedException",
            &format!("You don't have permissions to access this resource ({operation})."),
        );
    }
    let input: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let parent = input["ParentId"].as_str().unwrap_or_default();
    let ok = |value: Value| {
        reply(
            StatusCode::OK,
            &[("content-type", "application/x-amz-json-1.1")],
            value.to_string(),
        )
    };
    match operation {
        "DescribeOrganization" => ok(json!({ "Organization": {
            "Id": "o-emulator01", "Arn": "arn:aws:organizations::000000000000:organization/o-emulator01",
            "FeatureSet": "ALL", "MasterAccountId": org.management.as_deref().unwrap_or(&shared.caller),
            "MasterAccountArn": format!("arn:aws:organizations::{0}:account/o-emulator01/{0}", shared.caller),
            "MasterAccountEmail": "management@example.com" } })),
        "ListRoots" => ok(json!({ "Roots": [{ "Id": org.root_id, "Name": "Root",
            "Arn": format!("arn:aws:organizations::{}:root/o-emulator01/{}", shared.caller, org.root_id), "PolicyTypes": [] }] })),
        "ListOrganizationalUnitsForParent" => {
            let units: Vec<Value> = org
                .units
                .iter()
                .filter(|(_, _, unit_parent)| unit_parent == parent)
                .map(|(id, name, _)| json!({ "Id": id, "Name": name, "Arn": format!("arn:aws:organizations::{}:ou/o-emulator01/{id}", shared.caller) }))
                .collect();
            let (items, next) = page(&units, &input);
            ok(json!({ "OrganizationalUnits": items, "NextToken": next }))
        }
        "ListAccountsForParent" | "ListAccounts" => {
            let accounts: Vec<Value> = org
                .accounts
                .iter()
                .filter(|account| operation == "ListAccounts" || account.parent == parent)
                .map(|account| account_json(org, &shared.caller, account))
                .collect();
            let (items, next) = page(&accounts, &input);
            let next = match shared.faults.circular_pages {
                true => Some(PAGE.to_string()),
                false => next,
            };
            ok(json!({ "Accounts": items, "NextToken": next }))
        }
        "DescribeAccount" => {
            let id = input["AccountId"].as_str().unwrap_or_default();
            match org.accounts.iter().find(|account| account.id == id) {
                Some(account) => {
                    ok(json!({ "Account": account_json(org, &shared.caller, account) }))
                }
                None => organizations_error(
                    "AccountNotFoundException",
                    "You specified an account that doesn't exist.",
                ),
            }
        }
        "ListParents" => {
            let child = input["ChildId"].as_str().unwrap_or_default();
            let parent = org
                .accounts
                .iter()
                .find(|account| account.id == child)
                .map(|account| account.parent.clone())
                .or_else(|| {
                    org.units
                        .iter()
                        .find(|(id, ..)| id == child)
                        .map(|(_, _, parent)| parent.clone())
                });
            match parent {
                Some(parent) => {
                    let kind = if parent == org.root_id {
                        "ROOT"
                    } else {
                        "ORGANIZATIONAL_UNIT"
                    };
                    ok(json!({ "Parents": [{ "Id": parent, "Type": kind }] }))
                }
                None => organizations_error(
                    "ChildNotFoundException",
                    "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.",
                ),
            }
        }
        "DescribeOrganizationalUnit" => {
            let id = input["OrganizationalUnitId"].as_str().unwrap_or_default();
            match org.units.iter().find(|(unit, ..)| unit == id) {
                Some((id, name, _)) => ok(json!({ "OrganizationalUnit": { "Id": id, "Name": name,
                    "Arn": format!("arn:aws:organizations::{}:ou/o-emulator01/{id}", shared.caller) } })),
                None => organizations_error(
                    "OrganizationalUnitNotFoundException",
                    "We can't find an OU with the OrganizationalUnitId that you specified.",
                ),
            }
        }
        "ListPolicies" => {
            if input["Filter"] != "SERVICE_CONTROL_POLICY" {
                return organizations_error("InvalidInputException", "Filter must be given");
            }
            let summary = |id: &str, name: &str| {
                json!({ "Id": id, "Name": name, "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": id == FULL_AWS_ACCESS,
                "Arn": format!("arn:aws:organizations::aws:policy/service_control_policy/{id}") })
            };
            let policies: Vec<Value> = std::iter::once(summary(FULL_AWS_ACCESS, "FullAWSAccess"))
                .chain(
                    org.policies
                        .iter()
                        .map(|policy| summary(&policy.id, &policy.name)),
                )
                .collect();
            let (items, next) = page(&policies, &input);
            ok(json!({ "Policies": items, "NextToken": next }))
        }
        "ListTargetsForPolicy" => {
            let id = input["PolicyId"].as_str().unwrap_or_default();
            let target = |id: &str, kind: &str| {
                json!({ "TargetId": id, "Name": id, "Type": kind,
                "Arn": format!("arn:aws:organizations::{}:{}/o-emulator01/{id}", shared.caller, kind.to_lowercase()) })
            };
            let kind_of = |target_id: &str| match target_id {
                id if id == org.root_id => "ROOT",
                id if id.starts_with("ou-") => "ORGANIZATIONAL_UNIT",
                _ => "ACCOUNT",
            };
            // FullAWSAccess is attached to every root, unit and account, as AWS does.
            let targets: Vec<Value> = if id == FULL_AWS_ACCESS {
                std::iter::once(org.root_id.as_str())
                    .chain(org.units.iter().map(|(id, ..)| id.as_str()))
                    .chain(org.accounts.iter().map(|account| account.id.as_str()))
                    .map(|id| target(id, kind_of(id)))
                    .collect()
            } else {
                match org.policies.iter().find(|policy| policy.id == id) {
                    Some(policy) => policy
                        .targets
                        .iter()
                        .map(|id| target(id, kind_of(id)))
                        .collect(),
                    None => {
                        return organizations_error("PolicyNotFoundException", "no such policy");
                    }
                }
            };
            let (items, next) = page(&targets, &input);
            ok(json!({ "Targets": items, "NextToken": next }))
        }
        "DescribePolicy" => {
            let id = input["PolicyId"].as_str().unwrap_or_default();
            let found = if id == FULL_AWS_ACCESS {
                Some(("FullAWSAccess", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#.to_owned()))
            } else {
                org.policies
                    .iter()
                    .find(|policy| policy.id == id)
                    .map(|policy| (policy.name.as_str(), policy.document.clone()))
            };
            match found {
                Some((name, content)) => ok(json!({ "Policy": {
                    "PolicySummary": { "Id": id, "Name": name, "Type": "SERVICE_CONTROL_POLICY" },
                    "Content": content } })),
                None => organizations_error("PolicyNotFoundException", "no such policy"),
            }
        }
        other => organizations_error(
            "InvalidInputException",
            &format!("the emulator does not implement {other}"),
        ),
    }
}

/// An organization of `accounts` member accounts (plus the caller as
/// management account) spread over `units` units under the root, with
/// account ids 100000000000 and up.
/// An account as ListAccounts and DescribeAccount answer it.
fn account_json(org: &Org, caller: &str, account: &OrgAccount) -> Value {
    json!({ "Id": account.id, "Name": account.name, "Status": account.status,
        "Email": org.root_emails.get(&account.id).cloned().unwrap_or_else(|| format!("{}@root.corp.io", account.id)), "JoinedMethod": "CREATED",
        "JoinedTimestamp": account.joined,
        "Arn": format!("arn:aws:organizations::{caller}:account/o-emulator01/{}", account.id) })
}

pub fn organization(caller: &str, accounts: usize, units: usize) -> Org {
    let root = "r-emu1".to_owned();
    let unit_ids: Vec<String> = (0..units.max(1))
        .map(|n| format!("ou-emu1-{n:08}"))
        .collect();
    let mut org = Org {
        management: None,
        root_id: root.clone(),
        units: unit_ids
            .iter()
            .enumerate()
            .map(|(n, id)| (id.clone(), format!("Unit{n}"), root.clone()))
            .collect(),
        accounts: vec![OrgAccount {
            id: caller.to_owned(),
            name: "Management".into(),
            status: "ACTIVE".into(),
            parent: root,
            joined: joined_ago(3 * 365 * 86_400),
        }],
        policies: Vec::new(),
        root_emails: HashMap::new(),
    };
    for n in 0..accounts {
        org.accounts.push(OrgAccount {
            id: format!("{}", 100_000_000_000u64 + n as u64),
            name: format!("Account {n}"),
            status: "ACTIVE".into(),
            parent: unit_ids[n % unit_ids.len()].clone(),
            joined: joined_ago(400 * 86_400),
        });
    }
    org
}
