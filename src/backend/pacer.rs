//! One operation's schedule: each request is given the next free moment at
//! the operation's quota (GCRA), and the rate adapts to throttling that
//! persists, down to what the server lets through and back up when it
//! clears.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::Gate;
use super::error::BackendError;
use super::quota::Quota;

/// Tokens of AWS's burst the pacer leaves unused, as time at the rate: the
/// server's bucket then keeps this much in hand, so answers that arrive
/// bunched by network jitter still find a token there.
const JITTER_ALLOWANCE: Duration = Duration::from_millis(100);

/// A waiter takes its slot only when the slot is at most this far ahead, so
/// a lower rate applies within a second and a closed gate leaves no long
/// queue of reservations behind.
const HORIZON: Duration = Duration::from_secs(1);

/// Throttling is judged over windows at least this long and of at least
/// this many answers, so a share means something at any rate.
const WINDOW: Duration = Duration::from_secs(1);
const WINDOW_ANSWERS: u32 = 10;

/// A window is "throttled" when at least this many answers were 429s and
/// they were at least this share of its answers. Fewer are timing noise,
/// absorbed by the retry.
const PERSISTENT_COUNT: u32 = 2;
const PERSISTENT_SHARE: f64 = 0.1;

/// After a throttled window the rate becomes the rate that succeeded in it,
/// times this, but never less than half nor more than nine tenths of the
/// rate before.
const MARGIN: f64 = 0.95;

/// After a clean window the rate climbs back: by half towards the last rate
/// that worked, then by a tenth per window towards the configured one.
const CLIMB_BACK: f64 = 1.5;
const PROBE: f64 = 1.1;

/// The lowest rate a pacer goes down to, as a share of the configured rate.
const FLOOR: f64 = 0.05;

/// One operation's schedule: each request is given the next free moment
/// (GCRA), so a request scheduled keeps its moment whatever happens later.
/// Changes of rate only move requests not yet scheduled, and a burst of
/// throttled answers caused by timing noise is retried without a pause.
pub struct Pacer {
    quota: Quota,
    /// Tokens of the burst this client may use (the rest is the allowance
    /// for jitter).
    client_burst: f64,
    state: Mutex<PacerState>,
}

struct PacerState {
    rate: f64,
    /// The theoretical arrival time of GCRA: one interval after the latest
    /// moment handed out, or earlier while burst is saved up.
    tat: Instant,
    /// The highest rate that had a window with no throttling, until a rate
    /// at or below it is throttled (0: none known).
    last_good: f64,
    window: Window,
}

struct Window {
    started: Instant,
    answers: u32,
    throttled: u32,
    succeeded: u32,
}

impl Window {
    fn new(now: Instant) -> Self {
        Self {
            started: now,
            answers: 0,
            throttled: 0,
            succeeded: 0,
        }
    }
}

/// What an answer tells the pacer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Succeeded,
    Throttled,
    /// Any other failure: says nothing about the rate.
    Failed,
}

impl Pacer {
    pub fn new(quota: Quota) -> Self {
        // Half a token more than the jitter allowance, for a server that
        // refills in whole tokens at ticks of its own.
        let allowance = (quota.rate * JITTER_ALLOWANCE.as_secs_f64() + 0.5).ceil();
        let now = Instant::now();
        Self {
            quota,
            client_burst: (quota.burst - allowance).max(1.0),
            state: Mutex::new(PacerState {
                rate: quota.rate,
                tat: now,
                last_good: 0.0,
                window: Window::new(now),
            }),
        }
    }

    /// A pacer that never waits (the sandbox).
    pub fn unlimited() -> Self {
        Self::new(Quota {
            rate: f64::INFINITY,
            burst: f64::INFINITY,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PacerState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn interval(rate: f64) -> Duration {
        if rate.is_finite() {
            Duration::from_secs_f64(1.0 / rate)
        } else {
            Duration::ZERO
        }
    }

    /// How far ahead of the latest slot a new request may go: the saved-up burst.
    fn tolerance(&self, rate: f64) -> Duration {
        Self::interval(rate).mul_f64(self.client_burst - 1.0)
    }

    /// Takes the next free slot, or says how long to wait before asking again.
    fn reserve(&self, now: Instant) -> Result<Instant, Instant> {
        let mut state = self.lock();
        if !state.rate.is_finite() {
            return Ok(now);
        }
        let earliest = state.tat.checked_sub(self.tolerance(state.rate));
        let at = earliest.map_or(now, |earliest| earliest.max(now));
        if at > now + HORIZON {
            return Err(at - HORIZON);
        }
        state.tat = state.tat.max(now) + Self::interval(state.rate);
        Ok(at)
    }

    /// Waits for this request's slot. With a gate, nothing is reserved once
    /// it is closed, and a wait in progress ends the moment it closes.
    pub async fn acquire(&self, gate: Option<&Gate>) -> Result<(), BackendError> {
        loop {
            if gate.is_some_and(|gate| !gate.is_open()) {
                return Err(BackendError::NotSent);
            }
            let (until, reserved) = match self.reserve(Instant::now()) {
                Ok(at) => (at, true),
                Err(ask_again) => (ask_again, false),
            };
            if until > Instant::now() {
                let sleep = tokio::time::sleep_until(until);
                match gate {
                    Some(gate) => {
                        tokio::select! {
                            () = sleep => {}
                            () = gate.closed() => return Err(BackendError::NotSent),
                        }
                    }
                    None => sleep.await,
                }
            }
            if reserved {
                return Ok(());
            }
        }
    }

    /// Records an answer; at the end of a window, adapts the rate.
    pub fn record(&self, answer: Answer) {
        let mut state = self.lock();
        if !state.rate.is_finite() {
            return;
        }
        let now = Instant::now();
        match answer {
            Answer::Succeeded => state.window.succeeded += 1,
            Answer::Throttled => {
                state.window.throttled += 1;
                // The server's bucket is empty: whatever burst we think is
                // saved up is not there.
                let no_burst = now + self.tolerance(state.rate);
                state.tat = state.tat.max(no_burst);
            }
            Answer::Failed => {}
        }
        state.window.answers += 1;
        let elapsed = now.saturating_duration_since(state.window.started);
        if elapsed < WINDOW || state.window.answers < WINDOW_ANSWERS {
            return;
        }
        let window = std::mem::replace(&mut state.window, Window::new(now));
        let throttled = window.throttled >= PERSISTENT_COUNT
            && f64::from(window.throttled) >= PERSISTENT_SHARE * f64::from(window.answers);
        let rate = state.rate;
        let new_rate = if throttled {
            let achieved = f64::from(window.succeeded) / elapsed.as_secs_f64();
            if rate <= state.last_good {
                // A rate that worked is throttled now: the quota went down,
                // and nothing above what succeeded is known to work.
                state.last_good = 0.0;
            }
            (achieved * MARGIN).clamp(rate * 0.5, rate * 0.9)
        } else if window.throttled == 0 && rate < self.quota.rate {
            if rate < state.last_good {
                (rate * CLIMB_BACK).min(state.last_good)
            } else {
                (rate * PROBE).min(self.quota.rate)
            }
        } else {
            rate
        };
        let new_rate = new_rate.max(self.quota.rate * FLOOR);
        if window.throttled == 0 {
            state.last_good = state.last_good.max(rate);
        }
        if new_rate != rate {
            self.set_rate(&mut state, new_rate, now);
        }
    }

    /// Moments already handed out stay; the next request goes no earlier
    /// than the next free moment at the old rate, and the ones after it are
    /// spaced at the new rate, with no burst.
    fn set_rate(&self, state: &mut PacerState, rate: f64, now: Instant) {
        let next = state
            .tat
            .checked_sub(self.tolerance(state.rate))
            .map_or(now, |next| next.max(now));
        state.rate = rate;
        state.tat = next + self.tolerance(rate);
    }

    pub fn current_rate(&self) -> f64 {
        self.lock().rate
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::backend::quota::AWS_GET;

    const TEN: Quota = Quota {
        rate: 10.0,
        burst: 15.0,
    };

    /// Ends the current window as one where every answer was throttled.
    fn end_window_throttled(pacer: &Pacer) {
        {
            let mut state = pacer.lock();
            state.window.started = Instant::now() - WINDOW;
            state.window.answers = 9;
            state.window.throttled = 9;
        }
        pacer.record(Answer::Throttled);
    }

    /// The moments `count` back-to-back acquisitions are granted, from the start.
    async fn grant_times(pacer: &Pacer, count: usize) -> Vec<f64> {
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..count {
            pacer.acquire(None).await.unwrap();
            times.push(start.elapsed().as_secs_f64());
        }
        times
    }

    #[tokio::test(start_paused = true)]
    async fn the_burst_less_the_jitter_allowance_then_the_rate() {
        let pacer = Pacer::new(TEN);
        let times = grant_times(&pacer, 23).await;
        // 15 burst - (1 token of jitter at 10/s + 1) = 13 at once.
        assert!(times[..13].iter().all(|&t| t < 1e-6), "{times:?}");
        assert!((times[13] - 0.1).abs() < 1e-6, "{times:?}");
        assert!((times[22] - 1.0).abs() < 1e-6, "{times:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_single_throttled_answer_does_not_stall_the_schedule() {
        let pacer = Pacer::new(TEN);
        grant_times(&pacer, 20).await;
        pacer.record(Answer::Throttled);
        assert_eq!(
            pacer.current_rate(),
            10.0,
            "one 429 is noise, not a lower quota"
        );
        // Timed from the 429: a schedule pushed ahead would show here first.
        let times = grant_times(&pacer, 20).await;
        assert!(
            times[0] <= 0.1 + 1e-6,
            "the next request goes within one interval of the 429: {times:?}"
        );
        let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps.iter().all(|gap| *gap <= 0.1 + 1e-6),
            "requests keep coming every 100 ms: {gaps:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn moments_handed_out_are_kept_when_the_rate_drops() {
        let pacer = Arc::new(Pacer::new(TEN));
        grant_times(&pacer, 13).await;
        // Five waiters take the next five moments: 0.1 .. 0.5 s.
        let start = Instant::now();
        let waiters: Vec<_> = (0..5)
            .map(|_| {
                let pacer = Arc::clone(&pacer);
                tokio::spawn(async move {
                    pacer.acquire(None).await.unwrap();
                    start.elapsed().as_secs_f64()
                })
            })
            .collect();
        tokio::task::yield_now().await;
        // A window of persistent throttling halves the rate.
        tokio::time::advance(Duration::from_millis(1)).await;
        end_window_throttled(&pacer);
        assert!((pacer.current_rate() - 5.0).abs() < 1e-9);
        let mut granted = Vec::new();
        for waiter in waiters {
            granted.push(waiter.await.unwrap());
        }
        granted.sort_by(f64::total_cmp);
        for (n, at) in granted.iter().enumerate() {
            let planned = 0.1 * (n + 1) as f64;
            assert!((at - planned).abs() < 1e-6, "{granted:?}");
        }
        // The next one after them is at the new pace, with no burst.
        let next = grant_times(&pacer, 2).await;
        assert!((next[1] - next[0] - 0.2).abs() < 1e-6, "{next:?}");
    }

    /// Drives a pacer against a server bucket whose real rate is `real`,
    /// retrying throttled requests, and returns the pacer's rate over time.
    async fn converge(configured: f64, real: f64, seconds: u64) -> (Vec<f64>, u32) {
        let pacer = Pacer::new(Quota {
            rate: configured,
            burst: configured * 1.5,
        });
        let mut tokens = real * 1.5;
        let mut last = Instant::now();
        let start = Instant::now();
        let mut rates = Vec::new();
        let mut throttled = 0;
        let mut next_report = 1;
        while start.elapsed() < Duration::from_secs(seconds) {
            pacer.acquire(None).await.unwrap();
            let now = Instant::now();
            tokens = (tokens + (now - last).as_secs_f64() * real).min(real * 1.5);
            last = now;
            if tokens >= 1.0 {
                tokens -= 1.0;
                pacer.record(Answer::Succeeded);
            } else {
                throttled += 1;
                pacer.record(Answer::Throttled);
            }
            if start.elapsed() >= Duration::from_secs(next_report) {
                rates.push(pacer.current_rate());
                next_report += 1;
            }
        }
        (rates, throttled)
    }

    #[tokio::test(start_paused = true)]
    async fn a_quota_at_half_the_default_converges_within_seconds() {
        let (rates, throttled) = converge(10.0, 5.0, 60).await;
        let settled = &rates[3..];
        assert!(
            settled.iter().all(|rate| (3.5..=7.0).contains(rate)),
            "the rate settles around the real quota: {rates:?}"
        );
        let mean = settled.iter().sum::<f64>() / settled.len() as f64;
        assert!((4.5..=5.8).contains(&mean), "{mean}: {rates:?}");
        // About 300 requests get through in a minute; probing above the
        // quota costs a few percent of them a retry.
        assert!(
            throttled < 40,
            "throttling stays occasional once converged: {throttled} 429s, {rates:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn after_throttling_ends_the_rate_climbs_back_in_seconds() {
        let pacer = Pacer::new(TEN);
        // Ten is known to work...
        for _ in 0..20 {
            pacer.acquire(None).await.unwrap();
            pacer.record(Answer::Succeeded);
        }
        // ...then something else uses the quota for a moment.
        end_window_throttled(&pacer);
        let lowered = pacer.current_rate();
        assert!(lowered <= 9.0, "{lowered}");
        let start = Instant::now();
        while pacer.current_rate() < 10.0 {
            pacer.acquire(None).await.unwrap();
            pacer.record(Answer::Succeeded);
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "still at {} after 5 s",
                pacer.current_rate()
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn no_slot_is_taken_after_the_gate_closes_and_waiters_leave_at_once() {
        let pacer = Arc::new(Pacer::new(Quota {
            rate: 1.0,
            burst: 3.0,
        }));
        let gate = Arc::new(Gate::default());
        let start = Instant::now();
        let waiters: Vec<_> = (0..200)
            .map(|_| {
                let (pacer, gate) = (Arc::clone(&pacer), Arc::clone(&gate));
                tokio::spawn(async move {
                    let result = pacer.acquire(Some(&gate)).await;
                    (result, start.elapsed())
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        gate.close();
        let tat_at_close = pacer.lock().tat;
        let mut sent = 0;
        for waiter in waiters {
            let (result, at) = waiter.await.unwrap();
            match result {
                Ok(()) => sent += 1,
                Err(error) => {
                    assert_eq!(error, BackendError::NotSent);
                    assert!(at <= Duration::from_millis(2_501), "left at {at:?}");
                }
            }
        }
        // 2 burst tokens (3 less the jitter allowance of 1) at 0 s, then 1/s.
        assert_eq!(sent, 4, "two at 0 s, then 1 s and 2 s");
        assert_eq!(
            pacer.lock().tat,
            tat_at_close,
            "nothing reserved after the close"
        );
        assert_eq!(pacer.acquire(Some(&gate)).await, Err(BackendError::NotSent));
    }

    #[tokio::test(start_paused = true)]
    async fn the_unlimited_pacer_never_waits() {
        let pacer = Pacer::unlimited();
        let start = Instant::now();
        for _ in 0..10_000 {
            pacer.acquire(None).await.unwrap();
            pacer.record(Answer::Throttled);
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Any rate the flags and the file accept gives a schedule that
        /// neither panics nor beats the rate.
        #[test]
        fn any_accepted_rate_paces_without_panicking(
            rate in 0.01f64..=10_000.0,
            burst_factor in 0.0f64..=3.0,
            throttled in proptest::collection::vec(proptest::bool::ANY, 1..40),
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .unwrap();
            runtime.block_on(async {
                let quota = Quota::scaled(AWS_GET, rate);
                let quota = Quota { burst: (quota.burst * burst_factor).max(1.0), ..quota };
                let pacer = Pacer::new(quota);
                let start = Instant::now();
                for (n, throttled) in throttled.iter().enumerate() {
                    pacer.acquire(None).await.unwrap();
                    pacer.record(if *throttled { Answer::Throttled } else { Answer::Succeeded });
                    let floor = (n as f64 + 1.0 - quota.burst) / rate;
                    assert!(pacer.current_rate() <= rate && pacer.current_rate() > 0.0);
                    // Never faster than the configured rate allows.
                    assert!(start.elapsed().as_secs_f64() >= floor - 1e-6);
                }
            });
        }
    }
}
