//! A local YAML file standing in for AWS: an optional organization, its
//! accounts and their contacts. Every command reads it and `apply` writes it,
//! so plan → apply → plan can be tried without an AWS account.

use std::collections::BTreeMap;
use std::future::{Future, ready};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::error::{BackendError, Located, Operation, SandboxError};
use super::{Contacts, Discovery, Found, FoundSender, Identity, Listing};
use crate::config::yaml;
use crate::model::{
    AccountId, AccountStatus, Contact, ContactType, OrgAccount, OrgUnit, Organization,
    PrimaryContact, Slot, Timestamp, Value,
};

/// The sandbox a missing file starts as: a small organization that matches
/// `contacts.example.yaml`, with some contacts right, some stale, some missing.
const DEMO: &str = include_str!("sandbox_demo.yaml");

const HEADER: &str = "\
# altcontacts sandbox: a local stand-in for AWS, read and written by
# `altcontacts --sandbox FILE ...`. Edit it to try scenarios:
#   caller            the account the credentials belong to
#   organization      management_account and units (path from Root: OU id)
#   accounts          name, status (ACTIVE | SUSPENDED | PENDING_CLOSURE),
#                     ou (a unit path), deny (operations answered with
#                     AccessDenied: get, put, delete), contacts, primary
#                     (the primary contact, read by audit), joined (when it
#                     joined the organization: a time, or 2d back from now)
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

impl SandboxAccount {
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

pub struct Sandbox {
    path: PathBuf,
    state: Mutex<SandboxFile>,
}

impl Sandbox {
    /// Opens the sandbox at `path`, creating it from the demo organization
    /// when the file does not exist yet.
    pub fn open(path: &Path) -> Result<Self, SandboxError> {
        let display = path.display().to_string();
        let state: SandboxFile = match std::fs::read_to_string(path) {
            Ok(text) => yaml::from_str(&display, &text)?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let demo: SandboxFile = yaml::from_str("(built-in demo sandbox)", DEMO)?;
                write_file(path, &demo)?;
                demo
            }
            Err(source) => {
                return Err(SandboxError::Read {
                    path: display,
                    source,
                });
            }
        };
        check_consistency(&display, &state)?;
        Ok(Self {
            path: path.to_owned(),
            state: Mutex::new(state),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SandboxFile> {
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

    fn write(&self, slot: &Slot, value: Option<&Value>) -> Result<(), BackendError> {
        let mut state = self.lock();
        let operation = if value.is_some() {
            DeniedOperation::Put
        } else {
            DeniedOperation::Delete
        };
        Self::check_access(&state, &slot.account, operation)?;
        // The change is made to a copy and kept only once it is on disk, so
        // a failed write leaves memory and file as they were.
        let mut changed = state.clone();
        changed
            .accounts
            .entry(slot.account.clone())
            .or_default()
            .set(slot.kind, value)?;
        write_file(&self.path, &changed).map_err(|error| BackendError::Other {
            code: "SandboxWriteFailed".to_owned(),
            message: error.to_string(),
        })?;
        *state = changed;
        Ok(())
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
            return problem(format!("account {id}: joined: {message}"));
        }
    }
    let Some(org) = &state.organization else {
        return Ok(());
    };
    for path in org.units.keys() {
        let Some((parent, _)) = path.rsplit_once('/') else {
            return problem(format!(
                "unit `{path}` must be a path from the root, e.g. Root/{path}"
            ));
        };
        if parent != "Root" && !org.units.contains_key(parent) {
            return problem(format!(
                "unit `{path}` has no parent unit `{parent}` under organization.units"
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
                "account {id} is in unit `{ou}`, which is not under organization.units"
            ));
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
        ready(Ok(self.lock().caller.clone()))
    }

    fn management_account(
        &self,
    ) -> impl Future<Output = Result<Option<AccountId>, Located>> + Send {
        let state = self.lock();
        ready(Ok(state
            .organization
            .as_ref()
            .map(|org| org.management_account.clone())))
    }
}

impl Contacts for Sandbox {
    fn get(&self, slot: &Slot) -> impl Future<Output = Result<Option<Value>, BackendError>> + Send {
        let state = self.lock();
        let result = Self::check_access(&state, &slot.account, DeniedOperation::Get).map(|()| {
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
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        ready(self.write(slot, Some(value)))
    }

    fn delete(&self, slot: &Slot) -> impl Future<Output = Result<(), BackendError>> + Send {
        ready(self.write(slot, None))
    }
}

impl Discovery for Sandbox {
    fn organization(
        &self,
        _listing: Listing,
        found: Option<&FoundSender>,
    ) -> impl Future<Output = Result<Organization, Located>> + Send {
        let state = self.lock();
        let result = match &state.organization {
            None => Err(Located::new(
                Operation::Organizations("DescribeOrganization"),
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
                        }
                    })
                    .collect();
                let organization = Organization {
                    management_account: org.management_account.clone(),
                    root,
                    accounts,
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

    #[tokio::test]
    async fn a_write_that_cannot_reach_the_disk_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("gone");
        std::fs::create_dir(&folder).unwrap();
        let path = folder.join("sandbox.yaml");
        std::fs::write(&path, SMALL).unwrap();
        let sandbox = Sandbox::open(&path).unwrap();
        sandbox.put(&slot(), &contact("First")).await.unwrap();
        // As root, permissions do not stop a write; a missing folder does.
        std::fs::remove_dir_all(&folder).unwrap();
        let failed = sandbox.put(&slot(), &contact("Second")).await;
        assert!(
            matches!(&failed, Err(BackendError::Other { code, .. }) if code == "SandboxWriteFailed"),
            "{failed:?}"
        );
        assert_eq!(
            sandbox.get(&slot()).await.unwrap(),
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
        sandbox.put(&slot(), &contact("Written")).await.unwrap();
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
