//! Where live state comes from and goes to: AWS, or a local sandbox file.
//!
//! Both answer [`Identity`], [`Discovery`] and [`Contacts`] one request at a
//! time; [`throttle::Throttled`] puts pacing, retries and the gate in front
//! ([`Paced`]). Everything above this module is written against these
//! traits and never sees an SDK type.

mod address;
pub mod attempts;
pub mod aws;
pub mod error;
pub mod members;
pub mod pacer;
pub mod quota;
pub mod sandbox;
mod sdk_error;
pub mod security_hub;
pub mod throttle;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

pub use crate::model::Found;
use std::collections::BTreeSet;

use crate::model::{
    AccountId, ContactType, MemberRoleUse, Notice, Organization, PhoneVerification, PolicySummary,
    Slot, Topic, Unchecked, Value,
};
use crate::settings::RoleName;
use error::{BackendError, Located};

/// Who the credentials belong to, and who manages their organization.
pub trait Identity: Sync {
    /// The account the credentials belong to. Writes and reads for it omit
    /// `AccountId`, as AWS requires of the management account.
    fn caller(&self) -> impl Future<Output = Result<AccountId, Located>> + Send;

    /// The organization's management account, when the caller may ask:
    /// `None` outside an organization, or without the permission to ask.
    fn management_account(&self)
    -> impl Future<Output = Result<Option<AccountId>, Located>> + Send;
}

/// The organization, as Organizations lists it.
pub trait Discovery: Sync {
    /// The organization of the caller: its accounts, units and management
    /// account. Each account is also sent to `found` as soon as it is
    /// listed, so its contacts can be read while discovery goes on.
    fn organization(
        &self,
        listing: Listing,
        found: Option<&FoundSender>,
    ) -> impl Future<Output = Result<Organization, Located>> + Send;
}

/// Service control policies, as Organizations holds them.
pub trait Policies: Sync {
    /// Every service control policy of the organization (ListPolicies).
    fn service_control_policies(
        &self,
    ) -> impl Future<Output = Result<Vec<PolicySummary>, Located>> + Send;

    /// The roots, units and accounts the policy is attached to directly, by
    /// id (ListTargetsForPolicy).
    fn policy_targets(
        &self,
        policy: &PolicySummary,
    ) -> impl Future<Output = Result<Vec<String>, Located>> + Send;

    /// The policy's document, as JSON text.
    fn policy_document(
        &self,
        policy: &PolicySummary,
    ) -> impl Future<Output = Result<String, Located>> + Send;
}

/// One slot at a time, as the Account API works: there is no list call.
/// Each call is one request; pacing, retries and the gate are the
/// [`Paced`] layer's.
pub trait Contacts: Sync {
    /// Credentials in one member account (see [`members`]).
    type Session: Clone + Send + Sync + 'static;

    /// The slot's value (an alternate contact, or for PRIMARY the primary
    /// contact); `None` when none is set (AWS's ResourceNotFound).
    fn get(
        &self,
        slot: &Slot,
        via: Via<Self::Session>,
    ) -> impl Future<Output = Result<Option<Value>, BackendError>> + Send;

    /// Writes the slot's value.
    fn put(
        &self,
        slot: &Slot,
        value: &Value,
        via: Via<Self::Session>,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Deletes the slot's contact; deleting an absent contact succeeds.
    fn delete(
        &self,
        slot: &Slot,
        via: Via<Self::Session>,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// The contacts `topic` reaches in `account`
    /// (ListManagedNotificationChannelAssociations); `None` when the
    /// account has no such configuration. User Notifications answers an
    /// account only to itself: through the caller, only for its own.
    fn subscribers(
        &self,
        account: &AccountId,
        topic: &Topic,
        via: Via<Self::Session>,
    ) -> impl Future<Output = Result<Option<BTreeSet<ContactType>>, BackendError>> + Send;

    /// Subscribes the contact to the topic
    /// (AssociateManagedNotificationAccountContact); subscribing one that
    /// is subscribed succeeds.
    fn subscribe(
        &self,
        notice: &Notice,
        via: Via<Self::Session>,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// What the last read of `account`'s primary contact answered of its
    /// phone's verification (GetContactInformation answers both at once,
    /// so the audit needs no other call).
    fn phone_verification(&self, account: &AccountId) -> Option<PhoneVerification>;

    /// The caller's partition, when it has no managed notifications.
    fn notices_not_offered(&self) -> Option<String>;

    /// A session in `account` through its role `role` (sts:AssumeRole).
    fn assume(
        &self,
        account: &AccountId,
        role: &RoleName,
    ) -> impl Future<Output = Result<members::Assumed<Self::Session>, BackendError>> + Send;
}

/// Whose credentials make a request.
#[derive(Clone, Debug)]
pub enum Via<S> {
    /// The caller's, naming the account (`AccountId`) unless it is the
    /// caller's own.
    Caller,
    /// A session in the account itself, which names no account.
    Member(S),
}

/// Contacts behind a pacer per operation, retries and a gate: what every
/// read and write of a run goes through. A request whose turn to be sent
/// comes after `gate` closed is not sent ([`BackendError::NotSent`]);
/// retries of a write already sent go on, so its outcome is known.
pub trait Paced: Identity + Discovery {
    fn get(
        &self,
        slot: &Slot,
        gate: &Gate,
    ) -> impl Future<Output = Result<Option<Value>, BackendError>> + Send;

    fn put(
        &self,
        slot: &Slot,
        value: &Value,
        gate: &Gate,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    fn delete(
        &self,
        slot: &Slot,
        gate: &Gate,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    fn subscribers(
        &self,
        account: &AccountId,
        topic: &Topic,
        gate: &Gate,
    ) -> impl Future<Output = Result<Option<BTreeSet<ContactType>>, BackendError>> + Send;

    fn subscribe(
        &self,
        notice: &Notice,
        gate: &Gate,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// What the last read of `account`'s primary contact answered of its
    /// phone's verification.
    fn phone_verification(&self, account: &AccountId) -> Option<PhoneVerification>;

    /// Whether `account`'s subscriptions can be asked for, or why not: the
    /// caller's own account always, the others only through a member role,
    /// and none where the partition has no managed notifications.
    fn reaches_notices(&self, account: &AccountId, caller: &AccountId) -> Result<(), Unchecked>;

    /// How many requests are worth keeping in flight at once.
    fn in_flight(&self) -> usize;

    /// The member role's use so far, when the run has one.
    fn member_role(&self) -> Option<MemberRoleUse>;
}

/// How much of the organization's shape discovery needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listing {
    /// Every unit and the accounts under each: needed to match `units:`.
    Tree,
    /// The accounts only (ListAccounts), without their units: one call per
    /// 20 accounts and the first of them known after one round trip.
    Flat,
    /// One account and the units above it (DescribeAccount, ListParents,
    /// DescribeOrganizationalUnit): an event's run, a few round trips
    /// however large the organization.
    One(AccountId),
}

pub type FoundSender = tokio::sync::mpsc::UnboundedSender<Found>;

/// Whether new writes may still be sent. `apply` closes it on Ctrl-C; a
/// write waiting for its turn under the rate limit wakes as soon as it
/// closes and is not sent, so an interrupt never waits for a queue to drain.
#[derive(Debug, Default)]
pub struct Gate {
    closed: AtomicBool,
    wake: tokio::sync::Notify,
}

impl Gate {
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.wake.notify_waiters();
    }

    pub fn is_open(&self) -> bool {
        !self.closed.load(Ordering::SeqCst)
    }

    /// Resolves once the gate is closed (at once if it already is).
    pub async fn closed(&self) {
        loop {
            let notified = self.wake.notified();
            tokio::pin!(notified);
            // Registered before the check, so a close between the two is not missed.
            notified.as_mut().enable();
            if !self.is_open() {
                return;
            }
            notified.await;
        }
    }
}

/// Which backend a run talks to: a saved plan is applied only against the
/// one it was made on.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Target {
    Aws,
    /// A sandbox file by its canonical path: two names of one file are one
    /// target, and two files are never the same one.
    Sandbox {
        path: std::path::PathBuf,
    },
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Aws => f.write_str("AWS"),
            Target::Sandbox { path } => write!(f, "sandbox {}", path.display()),
        }
    }
}

/// The backend a run uses, as one concrete type so commands need no generics.
pub enum Backend {
    Aws(Box<throttle::Throttled<aws::Aws>>),
    Sandbox(Box<throttle::Throttled<sandbox::Sandbox>>),
}

impl Backend {
    /// Retries and pacing of this run, whichever the backend.
    pub fn stats(&self) -> &attempts::RetryStats {
        match self {
            Backend::Aws(api) => &api.stats,
            Backend::Sandbox(api) => &api.stats,
        }
    }
}

use futures::future::Either;

impl Identity for Backend {
    fn caller(&self) -> impl Future<Output = Result<AccountId, Located>> + Send {
        match self {
            Backend::Aws(api) => Either::Left(api.caller()),
            Backend::Sandbox(api) => Either::Right(api.caller()),
        }
    }

    fn management_account(
        &self,
    ) -> impl Future<Output = Result<Option<AccountId>, Located>> + Send {
        match self {
            Backend::Aws(api) => Either::Left(api.management_account()),
            Backend::Sandbox(api) => Either::Right(api.management_account()),
        }
    }
}

impl Discovery for Backend {
    fn organization(
        &self,
        listing: Listing,
        found: Option<&FoundSender>,
    ) -> impl Future<Output = Result<Organization, Located>> + Send {
        match self {
            Backend::Aws(api) => Either::Left(api.organization(listing, found)),
            Backend::Sandbox(api) => Either::Right(api.organization(listing, found)),
        }
    }
}

impl Policies for Backend {
    fn service_control_policies(
        &self,
    ) -> impl Future<Output = Result<Vec<PolicySummary>, Located>> + Send {
        match self {
            Backend::Aws(api) => Either::Left(api.inner().service_control_policies()),
            Backend::Sandbox(api) => Either::Right(api.inner().service_control_policies()),
        }
    }

    fn policy_targets(
        &self,
        policy: &PolicySummary,
    ) -> impl Future<Output = Result<Vec<String>, Located>> + Send {
        match self {
            Backend::Aws(api) => Either::Left(api.inner().policy_targets(policy)),
            Backend::Sandbox(api) => Either::Right(api.inner().policy_targets(policy)),
        }
    }

    fn policy_document(
        &self,
        policy: &PolicySummary,
    ) -> impl Future<Output = Result<String, Located>> + Send {
        match self {
            Backend::Aws(api) => Either::Left(api.inner().policy_document(policy)),
            Backend::Sandbox(api) => Either::Right(api.inner().policy_document(policy)),
        }
    }
}

impl Paced for Backend {
    fn get(
        &self,
        slot: &Slot,
        gate: &Gate,
    ) -> impl Future<Output = Result<Option<Value>, BackendError>> + Send {
        match self {
            Backend::Aws(api) => Either::Left(Paced::get(&**api, slot, gate)),
            Backend::Sandbox(api) => Either::Right(Paced::get(&**api, slot, gate)),
        }
    }

    fn put(
        &self,
        slot: &Slot,
        value: &Value,
        gate: &Gate,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        match self {
            Backend::Aws(api) => Either::Left(Paced::put(&**api, slot, value, gate)),
            Backend::Sandbox(api) => Either::Right(Paced::put(&**api, slot, value, gate)),
        }
    }

    fn delete(
        &self,
        slot: &Slot,
        gate: &Gate,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        match self {
            Backend::Aws(api) => Either::Left(Paced::delete(&**api, slot, gate)),
            Backend::Sandbox(api) => Either::Right(Paced::delete(&**api, slot, gate)),
        }
    }

    fn subscribers(
        &self,
        account: &AccountId,
        topic: &Topic,
        gate: &Gate,
    ) -> impl Future<Output = Result<Option<BTreeSet<ContactType>>, BackendError>> + Send {
        match self {
            Backend::Aws(api) => Either::Left(Paced::subscribers(&**api, account, topic, gate)),
            Backend::Sandbox(api) => {
                Either::Right(Paced::subscribers(&**api, account, topic, gate))
            }
        }
    }

    fn subscribe(
        &self,
        notice: &Notice,
        gate: &Gate,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        match self {
            Backend::Aws(api) => Either::Left(Paced::subscribe(&**api, notice, gate)),
            Backend::Sandbox(api) => Either::Right(Paced::subscribe(&**api, notice, gate)),
        }
    }

    fn phone_verification(&self, account: &AccountId) -> Option<PhoneVerification> {
        match self {
            Backend::Aws(api) => api.phone_verification(account),
            Backend::Sandbox(api) => api.phone_verification(account),
        }
    }

    fn reaches_notices(&self, account: &AccountId, caller: &AccountId) -> Result<(), Unchecked> {
        match self {
            Backend::Aws(api) => api.reaches_notices(account, caller),
            Backend::Sandbox(api) => api.reaches_notices(account, caller),
        }
    }

    fn in_flight(&self) -> usize {
        match self {
            Backend::Aws(api) => api.in_flight(),
            Backend::Sandbox(api) => api.in_flight(),
        }
    }

    fn member_role(&self) -> Option<MemberRoleUse> {
        match self {
            Backend::Aws(api) => api.member_role(),
            Backend::Sandbox(api) => api.member_role(),
        }
    }
}
