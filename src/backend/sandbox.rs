//! A local YAML file standing in for AWS: an optional organization, its
//! accounts and their contacts. Every command reads it and `apply` writes it,
//! so plan → apply → plan can be tried without an AWS account.

use std::collections::{BTreeMap, BTreeSet};
use std::future::{Future, ready};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::error::{BackendError, Located, Operation, OrgOperation, SandboxError};
use super::members::Assumed;
use super::{Contacts, Discovery, Found, FoundSender, Identity, Listing, Policies, Via};
use crate::config::reading::{self, Reading, Unread};
use crate::config::{quoted, yaml};
use crate::model::notices::{HEALTH_BILLING, HEALTH_OPERATIONS, HEALTH_SECURITY};
use crate::model::{
    AccountId, AccountStatus, Contact, ContactType, Notice, OrgAccount, OrgUnit, Organization,
    PhoneVerification, PolicySummary, PrimaryContact, Slot, Timestamp, Topic, Value,
};
use crate::printable::printable;
use crate::settings::RoleName;

/// The sandbox a missing file starts as: a small organization that matches
/// `contacts.example.yaml`, with some contacts right, some stale, some missing.
const DEMO: &str = include_str!("sandbox_demo.yaml");

const HEADER: &str = "\
# altcontacts sandbox: a local stand-in for AWS, read and written by
# `altcontacts --sandbox FILE ...`. Edit it to try scenarios:
#   caller            the account the credentials belong to
#   organization      management_account, units (path from Root: OU id),
#                     policies (service control policies: document, and
#                     targets: Root, a unit path or an account id), deny
#                     (Organizations operations answered with AccessDenied)
#   accounts          name, status (ACTIVE | SUSPENDED | PENDING_CLOSURE),
#                     ou (a unit path), deny (operations answered with
#                     AccessDenied: get, put, delete, and assume, the
#                     member role of --member-role), contacts, primary
#                     (the primary contact, read by audit), joined (when it
#                     joined the organization: a time, or 2d back from now),
#                     email (the root user's address), subscriptions (AWS
#                     User Notifications: the contacts an AWS Health topic
#                     reaches, where not AWS's default), deny notices (its
#                     subscriptions answered with AccessDenied),
#                     phone_verification (VERIFIED, PENDING, UNVERIFIED,
#                     NOT_SUPPORTED: the primary phone's, as AWS says)
";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SandboxFile {
    caller: AccountId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    organization: Option<SandboxOrganization>,
    #[serde(default)]
    accounts: BTreeMap<AccountId, SandboxAccount>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SandboxOrganization {
    management_account: AccountId,
    #[serde(default = "default_root_id")]
    root_id: String,
    /// Unit path from the root (`Root/Workloads`) to its OU id.
    #[serde(default)]
    units: BTreeMap<String, String>,
    /// Service control policies by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    policies: BTreeMap<String, SandboxPolicy>,
    /// Organizations operations answered with AccessDenied, by name
    /// (`ListPolicies`, `ListTargetsForPolicy`, `DescribePolicy`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    deny: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SandboxPolicy {
    /// The policy's document: a mapping, or JSON text as Organizations holds it.
    document: serde_json::Value,
    /// Where it is attached: `Root`, a unit path, or an account id.
    #[serde(default)]
    targets: Vec<String>,
}

fn default_root_id() -> String {
    "r-sbox".to_owned()
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SandboxAccount {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default = "active", skip_serializing_if = "is_active")]
    status: AccountStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ou: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    deny: Vec<DeniedOperation>,
    /// When the account joined the organization: an RFC 3339 time, or a
    /// duration back from now (`30m`, `2d`) so a sandbox stays "recent".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    joined: Option<String>,
    #[serde(default)]
    contacts: SandboxContacts,
    /// The account's primary contact (read by `audit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    primary: Option<PrimaryContact>,
    /// Whether AWS verified the primary phone (VERIFIED, PENDING,
    /// UNVERIFIED, NOT_SUPPORTED), as GetContactInformation answers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone_verification: Option<PhoneVerification>,
    /// The root user's address, as ListAccounts answers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    /// AWS User Notifications: the contacts each AWS Health topic reaches,
    /// where they differ from AWS's defaults.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    subscriptions: BTreeMap<Topic, BTreeSet<ContactType>>,
}

fn active() -> AccountStatus {
    AccountStatus::Active
}

fn is_active(status: &AccountStatus) -> bool {
    *status == AccountStatus::Active
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum DeniedOperation {
    Get,
    Put,
    Delete,
    /// User Notifications' reads and writes of the account's subscriptions.
    Notices,
    /// sts:AssumeRole into the account's member role (`--member-role`):
    /// the role is missing, or its trust refuses the caller.
    Assume,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SandboxContacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    security: Option<Contact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    billing: Option<Contact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    operations: Option<Contact>,
}

/// The managed notification configurations every sandbox account has:
/// AWS Health's, as AWS makes them in a new account.
const TOPICS: [&str; 4] = [
    HEALTH_SECURITY,
    HEALTH_OPERATIONS,
    HEALTH_BILLING,
    "AWS-Health/Issue",
];

impl SandboxAccount {
    /// The contacts `topic` reaches: as the file says, else AWS's default;
    /// `None` for a configuration AWS does not make.
    fn subscribers(&self, topic: &Topic) -> Option<BTreeSet<ContactType>> {
        if let Some(set) = self.subscriptions.get(topic) {
            return Some(set.clone());
        }
        TOPICS.contains(&topic.as_str()).then(|| {
            ContactType::EVERY
                .into_iter()
                .filter(|kind| kind.default_topics().contains(topic))
                .collect()
        })
    }

    /// The slot's value, as the API would answer it.
    fn value(&self, kind: ContactType) -> Option<Value> {
        let alternate = |contact: &Option<Contact>| contact.clone().map(Value::Alternate);
        match kind {
            ContactType::Security => alternate(&self.contacts.security),
            ContactType::Billing => alternate(&self.contacts.billing),
            ContactType::Operations => alternate(&self.contacts.operations),
            ContactType::Primary => self
                .primary
                .clone()
                .map(|primary| Value::Primary(Box::new(primary))),
        }
    }

    /// Sets (or, with `None`, clears) the slot; a value of the wrong shape
    /// for the slot is refused, as AWS would.
    fn set(&mut self, kind: ContactType, value: Option<&Value>) -> Result<(), BackendError> {
        let alternate = match (kind, value) {
            (ContactType::Primary, Some(Value::Primary(primary))) => {
                self.primary = Some(PrimaryContact::clone(primary));
                return Ok(());
            }
            (ContactType::Primary, _) => {
                return Err(BackendError::Invalid(
                    "sandbox: the primary contact takes a primary contact and cannot be deleted"
                        .to_owned(),
                ));
            }
            (_, Some(Value::Alternate(contact))) => Some(contact.clone()),
            (_, None) => None,
            (_, Some(Value::Primary(_))) => {
                return Err(BackendError::Invalid(
                    "sandbox: an alternate slot takes an alternate contact".to_owned(),
                ));
            }
        };
        match kind {
            ContactType::Security => self.contacts.security = alternate,
            ContactType::Billing => self.contacts.billing = alternate,
            ContactType::Operations => self.contacts.operations = alternate,
            ContactType::Primary => {}
        }
        Ok(())
    }
}

/// The sandbox file, and the writes waiting to join it.
///
/// Writes are committed in groups, as a database commits transactions: a
/// write joins the queue, and the first of a group writes the file once for
/// everything queued by the time a turn of the scheduler adds no more. A
/// write is acknowledged only once its group is on disk, so reads (and an
/// apply's read-backs) see only what the file holds, a failed group leaves
/// memory and file as they were, and an interrupted run leaves the file as
/// of its last whole group. Rewriting the file per write made an apply of
/// 9,000 changes quadratic (295 s).
///
/// Another run may write the same file meanwhile: a group is committed
/// under a lock beside the file, onto the file as it is on disk then, so
/// two applies on one sandbox both keep every write they report.
pub struct Sandbox {
    path: PathBuf,
    /// Whether this run made the file, from the demo.
    created: bool,
    state: Mutex<Shared>,
    /// How many times the file was written: a mechanism the tests check.
    disk_writes: AtomicUsize,
}

struct Shared {
    /// As on disk.
    file: SandboxFile,
    queue: Vec<Queued>,
    /// Whether a write is leading a group: the next ones only queue.
    leading: bool,
}

struct Queued {
    slot: Slot,
    write: Write,
    done: oneshot::Sender<Result<(), BackendError>>,
}

/// What one queued write does to its slot.
enum Write {
    /// Sets the contact, or with `None` deletes it.
    Contact(Option<Value>),
    /// Subscribes the contact to the topic.
    Subscribe(Topic),
}

impl Write {
    fn onto(&self, account: &mut SandboxAccount, kind: ContactType) -> Result<(), BackendError> {
        match self {
            Self::Contact(value) => account.set(kind, value.as_ref()),
            Self::Subscribe(topic) => {
                let mut subscribers =
                    account
                        .subscribers(topic)
                        .ok_or_else(|| BackendError::Other {
                            code: "ResourceNotFoundException".to_owned(),
                            message: format!(
                                "sandbox: no managed notification configuration {topic}"
                            ),
                        })?;
                subscribers.insert(kind);
                account.subscriptions.insert(topic.clone(), subscribers);
                Ok(())
            }
        }
    }
}

/// Ends the lead of a group whose leader went away mid-way (its future
/// dropped): the writes still queued are answered, and the next write leads.
struct Lead<'a> {
    sandbox: &'a Sandbox,
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        let mut shared = self.sandbox.lock();
        if shared.leading {
            shared.leading = false;
            // Their senders dropped, those writes answer "not written".
            shared.queue.clear();
        }
    }
}

impl Sandbox {
    /// Opens the sandbox at `path`, creating it from the demo organization
    /// when the file does not exist yet.
    pub fn open(path: &Path) -> Result<Self, SandboxError> {
        let mut created = false;
        let state = match read_file(path)? {
            Some(state) => state,
            None => {
                let demo: SandboxFile = yaml::from_str("(built-in demo sandbox)", DEMO)?;
                let _lock = FileLock::take(path)?;
                // Another run may have made it first.
                match read_file(path)? {
                    Some(state) => state,
                    None => {
                        write_file(path, &demo)?;
                        created = true;
                        demo
                    }
                }
            }
        };
        Ok(Self {
            path: path.to_owned(),
            created,
            state: Mutex::new(Shared {
                file: state,
                queue: Vec::new(),
                leading: false,
            }),
            disk_writes: AtomicUsize::new(0),
        })
    }

    /// Whether opening it made the file, from the demo organization.
    pub fn created(&self) -> bool {
        self.created
    }

    /// How many times this sandbox has written its file since it was opened.
    pub fn disk_writes(&self) -> usize {
        self.disk_writes.load(Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        // A poisoned lock only means another request panicked mid-way; the
        // state itself is plain data and still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn check_access(
        state: &SandboxFile,
        account: &AccountId,
        operation: DeniedOperation,
    ) -> Result<(), BackendError> {
        let entry = state.accounts.get(account);
        if entry.is_some_and(|entry| entry.deny.contains(&operation)) {
            return Err(BackendError::AccessDenied(format!(
                "sandbox: {operation:?} on account {account} is denied"
            )));
        }
        // Outside an organization any account may be named; inside one, AWS
        // refuses accounts that are not members, and so does the sandbox.
        let outsider = state.organization.is_some() && entry.is_none() && *account != state.caller;
        if outsider {
            return Err(BackendError::AccessDenied(format!(
                "sandbox: account {account} is not a member of the organization"
            )));
        }
        Ok(())
    }

    /// As AWS: User Notifications answers an account only to itself.
    fn notices_access(
        state: &SandboxFile,
        account: &AccountId,
        via: &Via<()>,
    ) -> Result<(), BackendError> {
        if matches!(via, Via::Caller) && *account != state.caller {
            return Err(BackendError::AccessDenied(format!(
                "sandbox: User Notifications answers account {account} only to itself"
            )));
        }
        Self::check_access(state, account, DeniedOperation::Notices)
    }

    async fn write(&self, slot: &Slot, write: Write) -> Result<(), BackendError> {
        let (done, written) = oneshot::channel();
        let leads = {
            let mut shared = self.lock();
            let operation = match &write {
                Write::Contact(Some(_)) => DeniedOperation::Put,
                Write::Contact(None) => DeniedOperation::Delete,
                Write::Subscribe(_) => DeniedOperation::Notices,
            };
            Self::check_access(&shared.file, &slot.account, operation)?;
            // What AWS would refuse is refused here, before it joins a group:
            // the file never holds a write AWS would not have made.
            let mut account = shared
                .file
                .accounts
                .get(&slot.account)
                .cloned()
                .unwrap_or_default();
            write.onto(&mut account, slot.kind)?;
            shared.queue.push(Queued {
                slot: slot.clone(),
                write,
                done,
            });
            !std::mem::replace(&mut shared.leading, true)
        };
        if leads {
            self.lead().await;
        }
        written.await.unwrap_or_else(|_| {
            Err(BackendError::Other {
                code: "SandboxWriteFailed".to_owned(),
                message: "the run stopped before this write reached the sandbox file".to_owned(),
            })
        })
    }

    /// Writes groups to disk until a turn passes with nothing queued.
    async fn lead(&self) {
        let _lead = Lead { sandbox: self };
        let mut queued = 0;
        loop {
            // Every write started in the same turn joins this group: the
            // group closes when a turn of the scheduler adds none.
            tokio::task::yield_now().await;
            let group = {
                let mut shared = self.lock();
                if shared.queue.len() > queued {
                    queued = shared.queue.len();
                    continue;
                }
                if shared.queue.is_empty() {
                    shared.leading = false;
                    return;
                }
                queued = 0;
                std::mem::take(&mut shared.queue)
            };
            self.disk_writes.fetch_add(1, Ordering::SeqCst);
            let outcome = match self.commit(&group) {
                Ok(committed) => {
                    self.lock().file = committed;
                    Ok(())
                }
                Err(error) => Err(BackendError::Other {
                    code: "SandboxWriteFailed".to_owned(),
                    message: error.to_string(),
                }),
            };
            for write in group {
                // A writer that went away needs no answer.
                let _ = write.done.send(outcome.clone());
            }
        }
    }
}

impl Sandbox {
    /// Writes `group` onto the file as it is on disk now, under the lock:
    /// what another run committed since this one read the file stays.
    fn commit(&self, group: &[Queued]) -> Result<SandboxFile, SandboxError> {
        let _lock = FileLock::take(&self.path)?;
        let mut staged = match read_file(&self.path)? {
            Some(state) => state,
            None => self.lock().file.clone(),
        };
        for write in group {
            // Checked when it was queued; the shape cannot change since.
            let account = staged
                .accounts
                .entry(write.slot.account.clone())
                .or_default();
            let _ = write.write.onto(account, write.slot.kind);
        }
        write_file(&self.path, &staged)?;
        Ok(staged)
    }
}

/// How the sandbox file is read: one of 10,000 accounts, each with its
/// four contacts, is about 9 MB (some 900 bytes an account).
const READING: Reading = Reading {
    limit: 64_000_000,
    sized: "a sandbox of 10,000 accounts with all their contacts is about 9 MB: check that --sandbox names the sandbox file",
    pass: "pass the sandbox YAML file itself with --sandbox (a missing one is created)",
    in_repository: false,
};

/// The sandbox file as it is on disk, checked; `None` when there is none.
fn read_file(path: &Path) -> Result<Option<SandboxFile>, SandboxError> {
    let display = printable(&path.display().to_string());
    let state: SandboxFile = match reading::read_text(path, &READING) {
        Ok(text) => yaml::from_str(&display, &text)?,
        Err(Unread::Io(error)) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(Unread::Io(source)) => {
            return Err(SandboxError::Read {
                path: display,
                source,
            });
        }
        Err(unread) => return Err(SandboxError::Invalid(unread.error(path))),
    };
    check_consistency(&display, &state)?;
    Ok(Some(state))
}

/// An exclusive lock on a file beside the sandbox (`.NAME.lock`), held
/// while a run commits to it; the sandbox file itself is replaced on every
/// commit, so it cannot carry the lock.
struct FileLock(std::fs::File);

impl FileLock {
    fn take(path: &Path) -> Result<Self, SandboxError> {
        let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        let name = target.file_name().map_or_else(
            || "sandbox".to_owned(),
            |name| name.to_string_lossy().into_owned(),
        );
        let lock_path = target.with_file_name(format!(".{name}.lock"));
        let error = |source| SandboxError::Write {
            path: lock_path.display().to_string(),
            source,
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(error)?;
        file.lock().map_err(error)?;
        Ok(Self(file))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// Writes the sandbox through a temporary file of its own in the same
/// folder, renamed over the file at once: an interrupted run never leaves
/// half a file, two runs never share a temporary name, and a sandbox that
/// is a symlink stays one (the file it points to is replaced).
fn write_file(path: &Path, state: &SandboxFile) -> Result<(), SandboxError> {
    use std::io::Write as _;
    let text = format!("{HEADER}{}", yaml::to_string(state));
    let error = |source| SandboxError::Write {
        path: path.display().to_string(),
        source,
    };
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let folder = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut temporary = tempfile::Builder::new()
        .prefix(".altcontacts-sandbox-")
        .suffix(".tmp")
        .tempfile_in(&folder)
        .map_err(error)?;
    temporary.write_all(text.as_bytes()).map_err(error)?;
    // The file keeps its mode (a temporary file is made 0600); a new one
    // is readable as a file the user made would be.
    let permissions = std::fs::metadata(&target).map_or_else(
        |_| std::os::unix::fs::PermissionsExt::from_mode(0o644),
        |metadata| metadata.permissions(),
    );
    temporary
        .as_file()
        .set_permissions(permissions)
        .map_err(error)?;
    temporary.as_file().sync_all().map_err(error)?;
    temporary
        .persist(&target)
        .map(drop)
        .map_err(|persist| error(persist.error))
}

fn check_consistency(file: &str, state: &SandboxFile) -> Result<(), SandboxError> {
    let problem = |message: String| {
        Err(SandboxError::Inconsistent {
            file: file.to_owned(),
            message,
        })
    };
    for (id, account) in &state.accounts {
        if let Some(Err(message)) = account
            .joined
            .as_deref()
            .map(|joined| Timestamp::parse_since(joined, Timestamp::now()))
        {
            return problem(format!("account {id}: joined: {}", printable(&message)));
        }
    }
    let Some(org) = &state.organization else {
        return Ok(());
    };
    for path in org.units.keys() {
        let Some((parent, _)) = path.rsplit_once('/') else {
            return problem(format!(
                "unit {} must be a path from the root, e.g. {}",
                quoted(path),
                quoted(&format!("Root/{path}"))
            ));
        };
        if parent != "Root" && !org.units.contains_key(parent) {
            return problem(format!(
                "unit {} has no parent unit {} under organization.units",
                quoted(path),
                quoted(parent)
            ));
        }
    }
    for (id, account) in &state.accounts {
        if let Some(ou) = account
            .ou
            .as_deref()
            .filter(|ou| *ou != "Root" && !org.units.contains_key(*ou))
        {
            return problem(format!(
                "account {id} is in unit {}, which is not under organization.units",
                quoted(ou)
            ));
        }
    }
    let deniable = OrgOperation::POLICIES.map(OrgOperation::name);
    if let Some(unknown) = org
        .deny
        .iter()
        .find(|denied| !deniable.contains(&denied.as_str()))
    {
        return problem(format!(
            "organization.deny: {} is not one of {}",
            quoted(unknown),
            deniable.join(", ")
        ));
    }
    for (name, policy) in &org.policies {
        for target in &policy.targets {
            if target_id(org, target).is_none() {
                return problem(format!(
                    "policy {} is attached to {}, which is neither Root, a unit under organization.units, nor an account id",
                    quoted(name),
                    quoted(target)
                ));
            }
        }
    }
    if !state.accounts.contains_key(&org.management_account) {
        return problem(format!(
            "the management account {} is not under accounts",
            org.management_account
        ));
    }
    Ok(())
}

/// The id of a policy's target, as Organizations names it.
fn target_id(org: &SandboxOrganization, target: &str) -> Option<String> {
    if target == "Root" {
        return Some(org.root_id.clone());
    }
    if let Some(id) = org.units.get(target) {
        return Some(id.clone());
    }
    AccountId::parse(target).map(String::from)
}

fn build_unit(name: &str, id: &str, path: &str, units: &BTreeMap<String, String>) -> OrgUnit {
    let children = units
        .iter()
        .filter(|(child, _)| {
            child
                .rsplit_once('/')
                .is_some_and(|(parent, _)| parent == path)
        })
        .map(|(child, child_id)| {
            let child_name = child
                .rsplit_once('/')
                .map_or(child.as_str(), |(_, name)| name);
            build_unit(child_name, child_id, child, units)
        })
        .collect();
    OrgUnit {
        id: id.to_owned(),
        name: name.to_owned(),
        children,
    }
}

impl Identity for Sandbox {
    fn caller(&self) -> impl Future<Output = Result<AccountId, Located>> + Send {
        ready(Ok(self.lock().file.caller.clone()))
    }

    fn management_account(
        &self,
    ) -> impl Future<Output = Result<Option<AccountId>, Located>> + Send {
        let state = &self.lock().file;
        ready(Ok(state
            .organization
            .as_ref()
            .map(|org| org.management_account.clone())))
    }
}

/// The sandbox is one file: a member session is the account itself.
impl Contacts for Sandbox {
    type Session = ();

    fn get(
        &self,
        slot: &Slot,
        _: Via<()>,
    ) -> impl Future<Output = Result<Option<Value>, BackendError>> + Send {
        let state = &self.lock().file;
        let result = Self::check_access(state, &slot.account, DeniedOperation::Get).map(|()| {
            state
                .accounts
                .get(&slot.account)
                .and_then(|account| account.value(slot.kind))
        });
        ready(result)
    }

    fn put(
        &self,
        slot: &Slot,
        value: &Value,
        _: Via<()>,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        self.write(slot, Write::Contact(Some(value.clone())))
    }

    fn delete(
        &self,
        slot: &Slot,
        _: Via<()>,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        self.write(slot, Write::Contact(None))
    }

    fn notices_not_offered(&self) -> Option<String> {
        None
    }

    fn phone_verification(&self, account: &AccountId) -> Option<PhoneVerification> {
        let state = &self.lock().file;
        state
            .accounts
            .get(account)
            .filter(|entry| entry.primary.is_some())
            .and_then(|entry| entry.phone_verification)
    }

    fn subscribers(
        &self,
        account: &AccountId,
        topic: &Topic,
        via: Via<()>,
    ) -> impl Future<Output = Result<Option<BTreeSet<ContactType>>, BackendError>> + Send {
        let state = &self.lock().file;
        let result = Self::notices_access(state, account, &via).map(|()| {
            match state.accounts.get(account) {
                Some(entry) => entry.subscribers(topic),
                None => SandboxAccount::default().subscribers(topic),
            }
        });
        ready(result)
    }

    async fn subscribe(&self, notice: &Notice, via: Via<()>) -> Result<(), BackendError> {
        {
            let state = &self.lock().file;
            Self::notices_access(state, &notice.slot.account, &via)?;
        }
        self.write(&notice.slot, Write::Subscribe(notice.topic.clone()))
            .await
    }

    fn assume(
        &self,
        account: &AccountId,
        _: &RoleName,
    ) -> impl Future<Output = Result<Assumed<()>, BackendError>> + Send {
        let state = &self.lock().file;
        ready(
            Self::check_access(state, account, DeniedOperation::Assume).map(|()| Assumed {
                session: (),
                expires: None,
            }),
        )
    }
}

impl Sandbox {
    fn policy_access(org: &SandboxOrganization, operation: OrgOperation) -> Result<(), Located> {
        match org.deny.iter().any(|denied| denied == operation.name()) {
            true => Err(Located::new(
                Operation::Organizations(operation),
                BackendError::AccessDenied(format!(
                    "sandbox: organizations:{} is denied",
                    operation.name()
                )),
            )),
            false => Ok(()),
        }
    }
}

impl Policies for Sandbox {
    fn service_control_policies(
        &self,
    ) -> impl Future<Output = Result<Vec<PolicySummary>, Located>> + Send {
        let state = &self.lock().file;
        let result = match &state.organization {
            None => Ok(Vec::new()),
            Some(org) => Self::policy_access(org, OrgOperation::ListPolicies).map(|()| {
                org.policies
                    .keys()
                    .map(|name| PolicySummary {
                        id: format!("p-{name}"),
                        name: name.clone(),
                    })
                    .collect()
            }),
        };
        ready(result)
    }

    fn policy_targets(
        &self,
        policy: &PolicySummary,
    ) -> impl Future<Output = Result<Vec<String>, Located>> + Send {
        let state = &self.lock().file;
        let result = match &state.organization {
            None => Ok(Vec::new()),
            Some(org) => Self::policy_access(org, OrgOperation::ListTargetsForPolicy).map(|()| {
                org.policies
                    .get(&policy.name)
                    .into_iter()
                    .flat_map(|policy| &policy.targets)
                    .filter_map(|attached| target_id(org, attached))
                    .collect()
            }),
        };
        ready(result)
    }

    fn policy_document(
        &self,
        policy: &PolicySummary,
    ) -> impl Future<Output = Result<String, Located>> + Send {
        let state = &self.lock().file;
        let result = match &state.organization {
            None => Ok(String::new()),
            Some(org) => Self::policy_access(org, OrgOperation::DescribePolicy).map(|()| match org
                .policies
                .get(&policy.name)
                .map(|policy| &policy.document)
            {
                Some(serde_json::Value::String(text)) => text.clone(),
                Some(document) => document.to_string(),
                None => String::new(),
            }),
        };
        ready(result)
    }
}

impl Discovery for Sandbox {
    fn organization(
        &self,
        listing: Listing,
        found: Option<&FoundSender>,
    ) -> impl Future<Output = Result<Organization, Located>> + Send {
        let state = &self.lock().file;
        let result = match &state.organization {
            None => Err(Located::new(
                Operation::Organizations(OrgOperation::DescribeOrganization),
                BackendError::NotInOrganization(
                    "the sandbox file has no `organization` section".to_owned(),
                ),
            )),
            Some(org) => {
                let root = build_unit("Root", &org.root_id, "Root", &org.units);
                let accounts = state
                    .accounts
                    .iter()
                    .map(|(id, account)| {
                        let ou = account.ou.as_deref().unwrap_or("Root");
                        let mut parents = vec![org.root_id.clone()];
                        let mut path = String::from("Root");
                        for segment in ou.split('/').skip(1) {
                            path = format!("{path}/{segment}");
                            parents.extend(org.units.get(&path).cloned());
                        }
                        OrgAccount {
                            id: id.clone(),
                            name: account.name.clone().unwrap_or_else(|| id.to_string()),
                            status: account.status.clone(),
                            parents,
                            // check_consistency refused a sandbox whose
                            // `joined` does not parse.
                            joined: account.joined.as_deref().and_then(|joined| {
                                Timestamp::parse_since(joined, Timestamp::now()).ok()
                            }),
                            email: account.email.clone(),
                        }
                    })
                    .collect();
                let organization = Organization {
                    management_account: org.management_account.clone(),
                    root,
                    accounts,
                    whole: true,
                };
                let organization = match listing {
                    Listing::One(id) => organization.only(&id),
                    _ => organization,
                };
                if let Some(found) = found {
                    for (account, path) in organization.accounts_with_paths() {
                        let _ = found.send(Found {
                            account: account.clone(),
                            path,
                            management_account: organization.management_account.clone(),
                        });
                    }
                }
                Ok(organization)
            }
        };
        ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_sandbox_is_consistent_and_describes_an_organization() {
        let demo: SandboxFile = yaml::from_str("demo", DEMO).expect("demo parses");
        check_consistency("demo", &demo).expect("demo is consistent");
        assert!(demo.organization.is_some());
    }

    const SMALL: &str = "caller: \"111111111111\"\naccounts:\n  \"111111111111\": {}\n";

    #[test]
    fn a_policy_attached_nowhere_known_or_a_denial_nothing_honours_is_refused() {
        let with = |organization: &str| {
            let text = format!(
                "caller: \"111111111111\"\norganization:\n  management_account: \"111111111111\"\n{organization}accounts:\n  \"111111111111\": {{}}\n"
            );
            let file: SandboxFile = yaml::from_str("t", &text).expect("parses");
            check_consistency("t", &file).map_err(|error| error.to_string())
        };
        let attached = with("  policies:\n    g: { document: {}, targets: [Root/Nowhere] }\n");
        assert!(attached.unwrap_err().contains("`Root/Nowhere`"));
        let denied = with("  deny: [ListPoliciesForTarget]\n");
        assert!(
            denied
                .unwrap_err()
                .contains("ListPolicies, DescribePolicy, ListTargetsForPolicy")
        );
        assert!(with("  deny: [DescribePolicy]\n  policies:\n    g: { document: {}, targets: [Root, \"111111111111\"] }\n").is_ok());
    }

    fn contact(name: &str) -> Value {
        Value::Alternate(Contact {
            name: name.into(),
            title: "T".into(),
            email_address: "a@example.com".into(),
            phone_number: "+1 202 555 0100".into(),
        })
    }

    fn slot() -> Slot {
        Slot::new(
            AccountId::parse("111111111111").unwrap(),
            ContactType::Security,
        )
    }

    /// 3,000 accounts in an organization, the first 1,000 with a stale
    /// SECURITY contact, and an apply of 8,000 creates and 1,000 updates.
    fn large_apply() -> (SandboxFile, Vec<crate::plan::Change>) {
        use crate::plan::{Action, Change};
        let id = |n: usize| AccountId::parse(&format!("{:012}", 100_000_000_000 + n)).unwrap();
        let mut file = SandboxFile {
            caller: id(0),
            organization: Some(SandboxOrganization {
                management_account: id(0),
                root_id: default_root_id(),
                units: BTreeMap::new(),
                policies: BTreeMap::new(),
                deny: Vec::new(),
            }),
            accounts: BTreeMap::new(),
        };
        let mut changes = Vec::new();
        for n in 0..3_000 {
            let mut account = SandboxAccount::default();
            for kind in [
                ContactType::Security,
                ContactType::Billing,
                ContactType::Operations,
            ] {
                let slot = Slot::new(id(n), kind);
                let after = contact("Current");
                let action = if n < 1_000 && kind == ContactType::Security {
                    let before = contact("Stale");
                    account.set(kind, Some(&before)).unwrap();
                    Action::Update { before, after }
                } else {
                    Action::Create { after }
                };
                changes.push(Change {
                    slot,
                    account_name: None,
                    source: crate::model::Source::Defaults,
                    action,
                });
            }
            file.accounts.insert(id(n), account);
        }
        (file, changes)
    }

    #[tokio::test]
    async fn an_apply_of_9000_changes_writes_the_file_a_handful_of_times_not_once_per_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sandbox.yaml");
        let (file, changes) = large_apply();
        write_file(&path, &file).unwrap();
        let api = super::super::throttle::Throttled::unlimited(Sandbox::open(&path).unwrap());
        let ledger = crate::apply::Ledger::new(changes);
        let ui = crate::progress::Ui::new(crate::progress::Verbosity::Quiet);
        let progress = crate::progress::Progress::start(&ui, "applying", 9_000);
        let report = crate::apply::apply(
            &api,
            &ledger,
            &file.caller,
            &super::super::Gate::default(),
            crate::apply::Verify::default(),
            &progress,
        )
        .await;
        let counts = report.counts();
        assert_eq!(
            (counts.created, counts.updated, counts.failed),
            (8_000, 1_000, 0)
        );
        let writes = api.inner().disk_writes();
        assert!(
            (1..=3).contains(&writes),
            "9,000 changes in {writes} writes of the file"
        );
        let on_disk = Sandbox::open(&path).unwrap();
        let current = on_disk.lock().file.accounts.values().all(|account| {
            [
                ContactType::Security,
                ContactType::Billing,
                ContactType::Operations,
            ]
            .into_iter()
            .all(|kind| account.value(kind) == Some(contact("Current")))
        });
        assert!(current, "every change is in the file");
    }

    #[tokio::test]
    async fn a_refused_write_never_joins_a_group_and_the_others_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sandbox.yaml");
        std::fs::write(
            &path,
            "caller: \"111111111111\"\naccounts:\n  \"111111111111\": {}\n  \"222222222222\": { deny: [put] }\n",
        )
        .unwrap();
        let sandbox = Sandbox::open(&path).unwrap();
        let denied = Slot::new(
            AccountId::parse("222222222222").unwrap(),
            ContactType::Billing,
        );
        let primary = Slot::new(
            AccountId::parse("111111111111").unwrap(),
            ContactType::Primary,
        );
        let (own, written, not_written) = (slot(), contact("Written"), contact("Refused"));
        let (allowed, refused, wrong_shape) = tokio::join!(
            sandbox.put(&own, &written, Via::Caller),
            sandbox.put(&denied, &not_written, Via::Caller),
            sandbox.delete(&primary, Via::Caller),
        );
        assert_eq!(allowed, Ok(()));
        assert!(
            matches!(refused, Err(BackendError::AccessDenied(_))),
            "{refused:?}"
        );
        assert!(
            matches!(wrong_shape, Err(BackendError::Invalid(_))),
            "{wrong_shape:?}"
        );
        assert_eq!(sandbox.disk_writes(), 1, "the three writes made one group");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("Written") && !text.contains("Refused"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_write_that_cannot_reach_the_disk_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("gone");
        std::fs::create_dir(&folder).unwrap();
        let path = folder.join("sandbox.yaml");
        std::fs::write(&path, SMALL).unwrap();
        let sandbox = Sandbox::open(&path).unwrap();
        sandbox
            .put(&slot(), &contact("First"), Via::Caller)
            .await
            .unwrap();
        // As root, permissions do not stop a write; a missing folder does.
        std::fs::remove_dir_all(&folder).unwrap();
        let failed = sandbox.put(&slot(), &contact("Second"), Via::Caller).await;
        assert!(
            matches!(&failed, Err(BackendError::Other { code, .. }) if code == "SandboxWriteFailed"),
            "{failed:?}"
        );
        assert_eq!(
            sandbox.get(&slot(), Via::Caller).await.unwrap(),
            Some(contact("First")),
            "memory keeps what the disk has"
        );
    }

    #[tokio::test]
    async fn a_sandbox_reached_through_a_symlink_stays_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real").join("sandbox.yaml");
        std::fs::create_dir(real.parent().unwrap()).unwrap();
        std::fs::write(&real, SMALL).unwrap();
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let sandbox = Sandbox::open(&link).unwrap();
        sandbox
            .put(&slot(), &contact("Written"), Via::Caller)
            .await
            .unwrap();
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
        assert!(std::fs::read_to_string(&real).unwrap().contains("Written"));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .chain(std::fs::read_dir(real.parent().unwrap()).unwrap())
            .map(|entry| entry.unwrap().file_name())
            .filter(|name| name.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
