//! Rate limits and retries in front of a [`ContactsApi`], so a run goes as
//! fast as the Account API's quotas allow and never fails because of them.
//!
//! Each operation has its own token bucket (AWS publishes a quota per
//! operation). A throttling answer lowers that bucket's rate for a while, so
//! a quota lower than the default converges instead of failing. Only
//! throttling, server errors and transport failures are retried.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::{ContactsApi, Gate};
use crate::error::{BackendError, Located};
use crate::model::{AccountId, Contact, Organization, Slot};

/// Requests per second and burst for one operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quota {
    pub rate: f64,
    pub burst: f64,
}

/// The Account API's published quotas (requests per second, burst).
pub const AWS_GET: Quota = Quota {
    rate: 10.0,
    burst: 15.0,
};
pub const AWS_PUT: Quota = Quota {
    rate: 5.0,
    burst: 8.0,
};
pub const AWS_DELETE: Quota = Quota {
    rate: 1.0,
    burst: 6.0,
};

impl Quota {
    /// A quota at `rate`, its burst scaled from `default` in proportion, so
    /// `get=100` keeps AWS's shape (15 / 10) at ten times the speed.
    pub fn scaled(default: Quota, rate: f64) -> Quota {
        Quota {
            rate,
            burst: (default.burst * rate / default.rate).max(1.0),
        }
    }
}

/// Requests a run keeps in flight at once. Enough that latency does not hold
/// throughput below the rate (at 100 requests/s and 500 ms, 50 are needed),
/// few enough that token reservations stay short.
pub const IN_FLIGHT: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    pub get: Quota,
    pub put: Quota,
    pub delete: Quota,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            get: AWS_GET,
            put: AWS_PUT,
            delete: AWS_DELETE,
        }
    }
}

/// How failed requests are retried: full-jitter exponential backoff.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1 << attempt.min(16))
            .min(self.max_delay);
        ceiling.mul_f64(fastrand::f64())
    }

    /// Runs `request` until it succeeds, fails for good, or runs out of attempts.
    pub async fn run<T, F, Fut>(
        &self,
        stats: &RetryStats,
        mut request: F,
    ) -> Result<T, BackendError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, BackendError>>,
    {
        let mut attempt = 1;
        loop {
            match request().await {
                Err(error) if error.is_retryable() && attempt < self.max_attempts => {
                    stats.record(&error);
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
}

/// Counts of retried answers, for `-v` and for tests.
#[derive(Debug, Default)]
pub struct RetryStats {
    pub throttled: AtomicU64,
    pub server_errors: AtomicU64,
    pub transport_errors: AtomicU64,
}

impl RetryStats {
    fn record(&self, error: &BackendError) {
        let counter = match error {
            BackendError::Throttled(_) => &self.throttled,
            BackendError::Server(_) => &self.server_errors,
            _ => &self.transport_errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn total(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
            + self.server_errors.load(Ordering::Relaxed)
            + self.transport_errors.load(Ordering::Relaxed)
    }
}

/// A token bucket that hands out reservations: a caller takes a token even
/// when the bucket is empty and sleeps until it would have been there, so
/// waiters are served in order instead of racing each time a token appears.
pub struct TokenBucket {
    quota: Quota,
    state: Mutex<BucketState>,
}

struct BucketState {
    tokens: f64,
    rate: f64,
    updated: Instant,
    last_throttled: Option<Instant>,
}

/// After a throttling answer the rate is multiplied by this...
const DECREASE: f64 = 0.7;
/// ...at most once per this window...
const DECREASE_WINDOW: Duration = Duration::from_millis(500);
/// ...never below this share of the configured rate...
const FLOOR: f64 = 0.05;
/// ...and grows back by this share of the configured rate per second
/// without throttling.
const RECOVERY_PER_SECOND: f64 = 0.1;

impl TokenBucket {
    pub fn new(quota: Quota) -> Self {
        let state = BucketState {
            tokens: quota.burst,
            rate: quota.rate,
            updated: Instant::now(),
            last_throttled: None,
        };
        Self {
            quota,
            state: Mutex::new(state),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BucketState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn refill(&self, state: &mut BucketState, now: Instant) {
        let elapsed = now.saturating_duration_since(state.updated).as_secs_f64();
        if state.rate < self.quota.rate {
            let calm = state
                .last_throttled
                .is_none_or(|at| now.saturating_duration_since(at) > Duration::from_secs(1));
            if calm {
                state.rate = (state.rate + self.quota.rate * RECOVERY_PER_SECOND * elapsed)
                    .min(self.quota.rate);
            }
        }
        state.tokens = (state.tokens + elapsed * state.rate).min(self.quota.burst);
        state.updated = now;
    }

    pub async fn acquire(&self) {
        let wait = {
            let mut state = self.lock();
            let now = Instant::now();
            self.refill(&mut state, now);
            state.tokens -= 1.0;
            if state.tokens >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-state.tokens / state.rate)
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// AWS said slow down: lower the rate and drop the tokens saved up.
    /// The requests in flight when the quota is hit all come back throttled;
    /// they are one signal, so the rate is lowered once per window.
    pub fn throttled(&self) {
        let mut state = self.lock();
        let now = Instant::now();
        self.refill(&mut state, now);
        let fresh = state
            .last_throttled
            .is_none_or(|at| now.saturating_duration_since(at) >= DECREASE_WINDOW);
        if fresh {
            state.rate = (state.rate * DECREASE).max(self.quota.rate * FLOOR);
            state.last_throttled = Some(now);
        }
        state.tokens = state.tokens.min(0.0);
    }

    pub fn current_rate(&self) -> f64 {
        self.lock().rate
    }
}

/// A [`ContactsApi`] with per-operation rate limits and retries. Callers
/// bound how many requests they start at once ([`IN_FLIGHT`]).
pub struct Throttled<A> {
    inner: A,
    get: TokenBucket,
    put: TokenBucket,
    delete: TokenBucket,
    policy: RetryPolicy,
    pub stats: RetryStats,
}

impl<A: ContactsApi> Throttled<A> {
    pub fn new(inner: A, limits: Limits, policy: RetryPolicy) -> Self {
        Self {
            inner,
            get: TokenBucket::new(limits.get),
            put: TokenBucket::new(limits.put),
            delete: TokenBucket::new(limits.delete),
            policy,
            stats: RetryStats::default(),
        }
    }

    /// One request with its retries. With a `gate`, the first attempt is
    /// not sent if the gate closed while it waited for its token.
    async fn call<T, F, Fut>(
        &self,
        bucket: &TokenBucket,
        gate: Option<&Gate>,
        request: F,
    ) -> Result<T, BackendError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, BackendError>>,
    {
        let request = &request;
        let sent = &AtomicBool::new(false);
        self.policy
            .run(&self.stats, move || async move {
                bucket.acquire().await;
                let first = !sent.swap(true, Ordering::SeqCst);
                if first && gate.is_some_and(|gate| !gate.is_open()) {
                    return Err(BackendError::NotSent);
                }
                let result = request().await;
                if matches!(result, Err(BackendError::Throttled(_))) {
                    bucket.throttled();
                }
                result
            })
            .await
    }
}

impl<A: ContactsApi> ContactsApi for Throttled<A> {
    fn caller(&self) -> impl Future<Output = Result<AccountId, Located>> + Send {
        self.inner.caller()
    }

    fn get(
        &self,
        slot: &Slot,
    ) -> impl Future<Output = Result<Option<Contact>, BackendError>> + Send {
        self.call(&self.get, None, move || self.inner.get(slot))
    }

    fn put(
        &self,
        slot: &Slot,
        contact: &Contact,
        gate: &Gate,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        self.call(&self.put, Some(gate), move || {
            self.inner.put(slot, contact, gate)
        })
    }

    fn delete(
        &self,
        slot: &Slot,
        gate: &Gate,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        self.call(&self.delete, Some(gate), move || {
            self.inner.delete(slot, gate)
        })
    }

    fn organization(&self) -> impl Future<Output = Result<Organization, Located>> + Send {
        self.inner.organization()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bucket_allows_the_burst_then_the_rate() {
        let bucket = TokenBucket::new(Quota {
            rate: 10.0,
            burst: 15.0,
        });
        let start = Instant::now();
        for _ in 0..15 {
            bucket.acquire().await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(1),
            "the burst is free"
        );
        for _ in 0..10 {
            bucket.acquire().await;
        }
        let elapsed = start.elapsed().as_secs_f64();
        assert!(
            (0.99..1.01).contains(&elapsed),
            "10 more at 10/s take a second, took {elapsed}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_lowers_the_rate_and_calm_restores_it() {
        let bucket = TokenBucket::new(Quota {
            rate: 10.0,
            burst: 1.0,
        });
        bucket.throttled();
        bucket.throttled();
        assert!(
            (bucket.current_rate() - 7.0).abs() < 1e-9,
            "one burst of 429s is one signal"
        );
        tokio::time::sleep(DECREASE_WINDOW).await;
        bucket.throttled();
        assert!((bucket.current_rate() - 4.9).abs() < 1e-9);
        tokio::time::sleep(Duration::from_secs(30)).await;
        bucket.acquire().await;
        assert!((bucket.current_rate() - 10.0).abs() < 1e-9);
    }

    #[test]
    fn scaled_quota_keeps_the_burst_ratio() {
        assert_eq!(
            Quota::scaled(AWS_GET, 100.0),
            Quota {
                rate: 100.0,
                burst: 150.0
            }
        );
        assert_eq!(
            Quota::scaled(AWS_DELETE, 0.5),
            Quota {
                rate: 0.5,
                burst: 3.0
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retries_only_what_can_succeed_later() {
        let policy = RetryPolicy::default();
        let stats = RetryStats::default();
        let mut calls = 0;
        let result: Result<(), _> = policy
            .run(&stats, || {
                calls += 1;
                std::future::ready(Err(BackendError::AccessDenied("no".into())))
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls, 1, "a 403 is never retried");

        let mut calls = 0;
        let result = policy
            .run(&stats, || {
                calls += 1;
                std::future::ready(if calls < 3 {
                    Err(BackendError::Server("500".into()))
                } else {
                    Ok(calls)
                })
            })
            .await;
        assert_eq!(result, Ok(3));
        assert_eq!(stats.server_errors.load(Ordering::Relaxed), 2);

        let mut calls = 0;
        let result: Result<(), _> = policy
            .run(&stats, || {
                calls += 1;
                std::future::ready(Err(BackendError::Throttled("429".into())))
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls, policy.max_attempts, "attempts are bounded");
    }
}
