//! Rate limits and retries in front of a backend's [`Contacts`], so a run
//! goes as fast as the Account API's quotas allow and never fails because
//! of them: a pacer per operation (`pacer.rs`) at its quota (`quota.rs`),
//! the one retry loop (`attempts.rs`), and with a member role, each
//! account's own pacers and session (`members.rs`).

use std::future::Future;

use super::attempts::{Pacing, RetryPolicy, RetryStats};
use super::error::{BackendError, Located};
use super::members::{MemberAccess, Pacers, Route};
use super::pacer::Pacer;
use super::quota::{IN_FLIGHT, Limits, MEMBER_IN_FLIGHT};
use super::{Contacts, Discovery, FoundSender, Gate, Identity, Listing, Paced, Via};
use std::collections::BTreeSet;

use crate::model::{
    AccountId, ContactType, MemberRoleUse, Notice, Organization, PhoneVerification, Slot, Topic,
    Unchecked, Value,
};

/// A backend with a pacer per operation and retries in front of its
/// [`Contacts`]: the [`Paced`] interface every read and write goes through.
pub struct Throttled<A: Contacts> {
    inner: A,
    central: Pacers,
    /// With a member role: the caller's own account (always central), and
    /// the sessions and pacers of the others.
    members: Option<(AccountId, MemberAccess<A::Session>)>,
    policy: RetryPolicy,
    /// Requests worth keeping in flight: enough that latency does not hold
    /// throughput below the rate; without a limit, every request at once.
    in_flight: usize,
    pub stats: RetryStats,
}

impl<A: Contacts> Throttled<A> {
    pub fn new(inner: A, limits: Limits, policy: RetryPolicy) -> Self {
        let unlimited = !limits.get.rate.is_finite();
        Self {
            inner,
            central: Pacers::new(&limits),
            members: None,
            policy,
            in_flight: if unlimited {
                UNLIMITED_IN_FLIGHT
            } else {
                IN_FLIGHT
            },
            stats: RetryStats::default(),
        }
    }

    /// Each account but `caller`'s through its member role: many accounts,
    /// each at its own quota, so more requests are worth having in flight.
    pub fn with_members(mut self, caller: AccountId, members: MemberAccess<A::Session>) -> Self {
        self.in_flight = self.in_flight.max(MEMBER_IN_FLIGHT);
        self.members = Some((caller, members));
        self
    }

    /// The backend behind the pacing.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// No rate limit, the same gate and retries: for the sandbox, so it
    /// takes the same path as AWS.
    pub fn unlimited(inner: A) -> Self {
        Self::new(inner, Limits::unlimited(), RetryPolicy::default())
    }

    /// One request to `slot`'s account: through its session when the run
    /// has a member role and the role can be had, else through the caller;
    /// each way at its own pacer (`pacer` picks the operation's).
    async fn call<T, P, R, Fut>(
        &self,
        slot: &Slot,
        gate: &Gate,
        pacer: P,
        fallback: Fallback,
        request: R,
    ) -> Result<T, BackendError>
    where
        P: Fn(&Pacers) -> &Pacer,
        R: Fn(Via<A::Session>) -> Fut,
        Fut: Future<Output = Result<T, BackendError>>,
    {
        // Renewals of the session one request may need: one before it went
        // out (its turn came too late for the session it had), one after
        // (revoked early).
        let mut renewals = 0;
        loop {
            let route = match &self.members {
                Some((caller, members)) if slot.account != *caller => {
                    members
                        .route(&slot.account, gate, &self.policy, &self.stats, || {
                            self.inner.assume(&slot.account, members.role())
                        })
                        .await?
                }
                _ => Route::Central,
            };
            let (pacers, via) = match &route {
                Route::Central => (&self.central, Via::Caller),
                Route::Member(account, assumed, _) => {
                    (&account.pacers, Via::Member(assumed.session.clone()))
                }
            };
            let result = self
                .policy
                .run(
                    &self.stats,
                    Pacing::Paced {
                        pacer: pacer(pacers),
                        gate,
                    },
                    || {
                        // Checked when its turn comes, not when it queued.
                        let stale = route.stale();
                        let sent = request(via.clone());
                        async move {
                            match stale {
                                true => Err(BackendError::CredentialsExpired(
                                    "the member session is about to expire: not sent".to_owned(),
                                )),
                                false => sent.await,
                            }
                        }
                    },
                )
                .await;
            let Some((_, members)) = self
                .members
                .as_ref()
                .filter(|_| matches!(route, Route::Member(..)))
            else {
                return result;
            };
            match result {
                // A session that ran out: once more, with a new one.
                Err(error @ BackendError::CredentialsExpired(_)) if renewals < 2 => {
                    renewals += 1;
                    members.failed_with(&slot.account, &error).await;
                }
                // The role may not do this (its policy, an SCP on it): the
                // caller may, as without member roles. Nothing was written.
                Err(error @ BackendError::AccessDenied(_)) if fallback == Fallback::Caller => {
                    members.failed_with(&slot.account, &error).await;
                }
                result => return result,
            }
        }
    }
}

impl<A: Contacts> Throttled<A> {
    /// A User Notifications request, which only the account itself may
    /// make: through the caller, for another account (its member role
    /// could not be had), it is not sent.
    async fn in_the_account<T, Fut>(
        &self,
        account: &AccountId,
        via: Via<A::Session>,
        request: impl FnOnce(Via<A::Session>) -> Fut,
    ) -> Result<T, BackendError>
    where
        Fut: Future<Output = Result<T, BackendError>>,
    {
        match (&via, &self.members) {
            (Via::Caller, Some((caller, _))) if caller != account => Err(BackendError::Other {
                code: "NotInTheAccount".to_owned(),
                message: "User Notifications answers an account only to itself, and its member role could not be had".to_owned(),
            }),
            _ => request(via).await,
        }
    }
}

/// What a request the member role is refused becomes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fallback {
    /// The account goes through the caller from then on, as without
    /// member roles: the Account API lets the caller name the account.
    Caller,
    /// The refusal is the answer: only the account itself may ask (User
    /// Notifications), and its other requests keep the role.
    None,
}

/// Requests in flight at once without a rate limit (the sandbox): as many
/// as there are, so its writes can be kept together on disk.
const UNLIMITED_IN_FLIGHT: usize = 100_000;

impl<A: Contacts + Identity> Identity for Throttled<A> {
    fn caller(&self) -> impl Future<Output = Result<AccountId, Located>> + Send {
        self.inner.caller()
    }

    fn management_account(
        &self,
    ) -> impl Future<Output = Result<Option<AccountId>, Located>> + Send {
        self.inner.management_account()
    }
}

impl<A: Contacts + Discovery> Discovery for Throttled<A> {
    fn organization(
        &self,
        listing: Listing,
        found: Option<&FoundSender>,
    ) -> impl Future<Output = Result<Organization, Located>> + Send {
        self.inner.organization(listing, found)
    }
}

impl<A: Contacts + Identity + Discovery> Paced for Throttled<A> {
    fn get(
        &self,
        slot: &Slot,
        gate: &Gate,
    ) -> impl Future<Output = Result<Option<Value>, BackendError>> + Send {
        self.call(
            slot,
            gate,
            |pacers| pacers.read(slot.kind),
            Fallback::Caller,
            move |via| self.inner.get(slot, via),
        )
    }

    fn put(
        &self,
        slot: &Slot,
        value: &Value,
        gate: &Gate,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        self.call(
            slot,
            gate,
            |pacers| pacers.write(slot.kind),
            Fallback::Caller,
            move |via| self.inner.put(slot, value, via),
        )
    }

    fn delete(
        &self,
        slot: &Slot,
        gate: &Gate,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        self.call(
            slot,
            gate,
            |pacers| &pacers.delete,
            Fallback::Caller,
            move |via| self.inner.delete(slot, via),
        )
    }

    fn subscribers(
        &self,
        account: &AccountId,
        topic: &Topic,
        gate: &Gate,
    ) -> impl Future<Output = Result<Option<BTreeSet<ContactType>>, BackendError>> + Send {
        // Any slot of the account routes the request to it.
        let slot = Slot::new(account.clone(), ContactType::Security);
        async move {
            self.call(
                &slot,
                gate,
                |pacers| &pacers.notices_read,
                Fallback::None,
                |via| {
                    self.in_the_account(account, via, |via| {
                        self.inner.subscribers(account, topic, via)
                    })
                },
            )
            .await
        }
    }

    fn subscribe(
        &self,
        notice: &Notice,
        gate: &Gate,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        self.call(
            &notice.slot,
            gate,
            |pacers| &pacers.notices_write,
            Fallback::None,
            move |via| {
                self.in_the_account(&notice.slot.account, via, |via| {
                    self.inner.subscribe(notice, via)
                })
            },
        )
    }

    fn phone_verification(&self, account: &AccountId) -> Option<PhoneVerification> {
        self.inner.phone_verification(account)
    }

    fn reaches_notices(&self, account: &AccountId, caller: &AccountId) -> Result<(), Unchecked> {
        if let Some(partition) = self.inner.notices_not_offered() {
            return Err(Unchecked::NotOffered { partition });
        }
        match account == caller || self.members.is_some() {
            true => Ok(()),
            false => Err(Unchecked::NoMemberRole),
        }
    }

    fn in_flight(&self) -> usize {
        self.in_flight
    }

    fn member_role(&self) -> Option<MemberRoleUse> {
        self.members.as_ref().map(|(_, members)| members.usage())
    }
}
