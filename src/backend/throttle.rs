//! Rate limits and retries in front of a backend's [`Contacts`], so a run
//! goes as fast as the Account API's quotas allow and never fails because
//! of them: a pacer per operation (`pacer.rs`) at its quota (`quota.rs`),
//! and the one retry loop (`attempts.rs`).

use std::future::Future;

use super::attempts::{Pacing, RetryPolicy, RetryStats};
use super::error::{BackendError, Located};
use super::pacer::Pacer;
use super::quota::{IN_FLIGHT, Limits};
use super::{Contacts, Discovery, FoundSender, Gate, Identity, Listing, Paced};
use crate::model::{AccountId, ContactType, Organization, Slot, Value};

/// A backend with a pacer per operation and retries in front of its
/// [`Contacts`]: the [`Paced`] interface every read and write goes through.
pub struct Throttled<A> {
    inner: A,
    get: Pacer,
    primary_get: Pacer,
    put: Pacer,
    primary_put: Pacer,
    delete: Pacer,
    policy: RetryPolicy,
    /// Requests worth keeping in flight: enough that latency does not hold
    /// throughput below the rate; without a limit, every request at once.
    in_flight: usize,
    pub stats: RetryStats,
}

impl<A> Throttled<A> {
    pub fn new(inner: A, limits: Limits, policy: RetryPolicy) -> Self {
        let unlimited = !limits.get.rate.is_finite();
        Self {
            inner,
            get: Pacer::new(limits.get),
            primary_get: Pacer::new(limits.primary_get),
            put: Pacer::new(limits.put),
            primary_put: Pacer::new(limits.primary_put),
            delete: Pacer::new(limits.delete),
            policy,
            in_flight: if unlimited {
                UNLIMITED_IN_FLIGHT
            } else {
                IN_FLIGHT
            },
            stats: RetryStats::default(),
        }
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

    async fn call<T, F, Fut>(
        &self,
        pacer: &Pacer,
        gate: &Gate,
        request: F,
    ) -> Result<T, BackendError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, BackendError>>,
    {
        self.policy
            .run(&self.stats, Pacing::Paced { pacer, gate }, request)
            .await
    }
}

/// Requests in flight at once without a rate limit (the sandbox): as many
/// as there are, so its writes can be kept together on disk.
const UNLIMITED_IN_FLIGHT: usize = 100_000;

impl<A: Identity> Identity for Throttled<A> {
    fn caller(&self) -> impl Future<Output = Result<AccountId, Located>> + Send {
        self.inner.caller()
    }

    fn management_account(
        &self,
    ) -> impl Future<Output = Result<Option<AccountId>, Located>> + Send {
        self.inner.management_account()
    }
}

impl<A: Discovery> Discovery for Throttled<A> {
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
        // The primary contact's operations have quotas of their own.
        let pacer = match slot.kind {
            ContactType::Primary => &self.primary_get,
            _ => &self.get,
        };
        self.call(pacer, gate, move || self.inner.get(slot))
    }

    fn put(
        &self,
        slot: &Slot,
        value: &Value,
        gate: &Gate,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        let pacer = match slot.kind {
            ContactType::Primary => &self.primary_put,
            _ => &self.put,
        };
        self.call(pacer, gate, move || self.inner.put(slot, value))
    }

    fn delete(
        &self,
        slot: &Slot,
        gate: &Gate,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        self.call(&self.delete, gate, move || self.inner.delete(slot))
    }

    fn in_flight(&self) -> usize {
        self.in_flight
    }
}
