//! How long to wait before trying again: the one backoff of every retry
//! the tool makes (AWS requests, read-backs after a write, forge calls).

use std::time::Duration;

/// Exponential backoff: the ceiling doubles with each attempt, from
/// `first` up to `max`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The ceiling of the wait after the first attempt.
    pub first: Duration,
    pub max: Duration,
    /// Full jitter: a random wait up to the ceiling, so clients that failed
    /// together do not all come back at the same moment. Without it, the
    /// wait is the ceiling.
    pub jitter: bool,
}

impl Backoff {
    /// The wait after `attempt` attempts (1 after the first).
    pub fn delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(16);
        let ceiling = self.first.saturating_mul(1 << doublings).min(self.max);
        if self.jitter {
            ceiling.mul_f64(fastrand::f64())
        } else {
            ceiling
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_up_to_the_maximum() {
        let backoff = Backoff {
            first: Duration::from_millis(250),
            max: Duration::from_secs(5),
            jitter: false,
        };
        let waits: Vec<u128> = (1..=7).map(|n| backoff.delay(n).as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 5000, 5000]);
        assert_eq!(backoff.delay(u32::MAX), Duration::from_secs(5));
    }

    #[test]
    fn jitter_stays_under_the_ceiling() {
        let backoff = Backoff {
            first: Duration::from_millis(100),
            max: Duration::from_secs(5),
            jitter: true,
        };
        for attempt in 1..20 {
            assert!(backoff.delay(attempt) <= Duration::from_secs(5));
        }
        assert!(backoff.delay(1) <= Duration::from_millis(100));
    }
}
