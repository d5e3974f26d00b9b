//! The one retry loop of every AWS request: throttling, server errors and
//! transport failures are tried again, nothing else; a paced request waits
//! for its operation's next moment, an unpaced one backs off.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::Gate;
use super::error::BackendError;
use super::pacer::{Answer, Pacer};
use crate::retry::Backoff;

/// How failed requests are retried: full-jitter exponential backoff for
/// server and transport errors. Throttled requests are paced, not backed off
/// (see [`super::throttle::Throttled`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            backoff: Backoff {
                first: Duration::from_millis(200),
                max: Duration::from_secs(5),
                jitter: true,
            },
        }
    }
}

impl RetryPolicy {
    /// Runs `request` until it succeeds, fails for good, or runs out of
    /// attempts: the one retry loop of every request. Unpaced (STS,
    /// Organizations), a throttled answer backs off like any other; paced,
    /// it waits for its operation's next moment instead (see [`Pacer`]).
    pub async fn run<T, F, Fut>(
        &self,
        stats: &RetryStats,
        pacing: Pacing<'_>,
        request: F,
    ) -> Result<T, BackendError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, BackendError>>,
    {
        let mut attempt = 1;
        // Once an attempt may have taken effect (it was answered with a
        // server error, or not at all), the request is retried to the end
        // whatever the gate says, so its outcome is known.
        let mut maybe_effective = false;
        loop {
            if let Pacing::Paced { pacer, gate } = pacing {
                pacer.acquire((!maybe_effective).then_some(gate)).await?;
            }
            let result = request().await;
            if let Pacing::Paced { pacer, .. } = pacing {
                pacer.record(match &result {
                    Ok(_) => Answer::Succeeded,
                    Err(BackendError::Throttled(_)) => Answer::Throttled,
                    Err(_) => Answer::Failed,
                });
            }
            match result {
                Err(error) if error.is_retryable() && attempt < self.max_attempts => {
                    stats.record(&error);
                    let repaced = matches!(
                        (&error, pacing),
                        (BackendError::Throttled(_), Pacing::Paced { .. })
                    );
                    if !repaced {
                        maybe_effective = true;
                        tokio::time::sleep(self.backoff.delay(attempt)).await;
                    }
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
}

/// How a request is paced.
#[derive(Clone, Copy)]
pub enum Pacing<'a> {
    /// No pacer in front: STS and Organizations, a handful of calls a run.
    Unpaced,
    /// The operation's pacer gives each attempt its moment; none is taken
    /// once `gate` closes.
    Paced { pacer: &'a Pacer, gate: &'a Gate },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn retries_only_what_can_succeed_later() {
        let policy = RetryPolicy::default();
        let stats = RetryStats::default();
        let calls = std::cell::Cell::new(0);
        let result: Result<(), _> = policy
            .run(&stats, Pacing::Unpaced, || {
                calls.set(calls.get() + 1);
                std::future::ready(Err(BackendError::AccessDenied("no".into())))
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls.get(), 1, "a 403 is never retried");

        let calls = std::cell::Cell::new(0);
        let result = policy
            .run(&stats, Pacing::Unpaced, || {
                calls.set(calls.get() + 1);
                std::future::ready(if calls.get() < 3 {
                    Err(BackendError::Server("500".into()))
                } else {
                    Ok(calls.get())
                })
            })
            .await;
        assert_eq!(result, Ok(3));
        assert_eq!(stats.server_errors.load(Ordering::Relaxed), 2);

        let calls = std::cell::Cell::new(0);
        let result: Result<(), _> = policy
            .run(&stats, Pacing::Unpaced, || {
                calls.set(calls.get() + 1);
                std::future::ready(Err(BackendError::Throttled("429".into())))
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls.get(), policy.max_attempts, "attempts are bounded");
    }
}
