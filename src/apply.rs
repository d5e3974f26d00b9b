//! Executes a plan's changes, and only those: one Put per create or update,
//! one Delete per delete. Each write is verified by reading it back, since
//! the Account API's reads are eventually consistent.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use futures::StreamExt;
use tokio::time::Instant;

use crate::backend::error::{BackendError, Located, Operation};
use crate::backend::{Gate, Paced};
use crate::model::{AccountId, Notice, Value};
use crate::plan::{Action, Change};
use crate::progress::Progress;
use crate::retry::Backoff;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// What went wrong, and the AWS error behind it when there is one (its
    /// hint is shown once per report, not once per change).
    Failed {
        reason: String,
        cause: Option<Located>,
    },
    /// Not attempted: the run was interrupted first.
    NotStarted,
    /// Sent, and the run was stopped before its answer or its read-back:
    /// it may or may not have been written. The next apply reads it again.
    InFlight,
}

#[derive(Clone, Debug)]
pub struct ChangeResult {
    pub change: Change,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, Default)]
pub struct Report {
    pub results: Vec<ChangeResult>,
    pub interrupted: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub subscribed: usize,
    pub failed: usize,
    pub not_started: usize,
    pub in_flight: usize,
}

impl Report {
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for result in &self.results {
            match (&result.outcome, &result.change.action) {
                (Outcome::Failed { .. }, _) => counts.failed += 1,
                (Outcome::NotStarted, _) => counts.not_started += 1,
                (Outcome::InFlight, _) => counts.in_flight += 1,
                (Outcome::Applied, Action::Create { .. }) => counts.created += 1,
                (Outcome::Applied, Action::Update { .. }) => counts.updated += 1,
                (Outcome::Applied, Action::Delete { .. }) => counts.deleted += 1,
                (Outcome::Applied, Action::Subscribe { .. }) => counts.subscribed += 1,
            }
        }
        counts
    }

    pub fn succeeded(&self) -> bool {
        let counts = self.counts();
        counts.failed == 0 && counts.not_started == 0 && counts.in_flight == 0
    }
}

/// Where each change of a running apply stands, so a report can be made at
/// any moment: what an interrupt that cannot wait prints.
#[derive(Debug)]
pub struct Ledger {
    changes: Vec<Change>,
    /// By change: `None` while not begun, `Some(InFlight)` while running.
    outcomes: Mutex<Vec<Option<Outcome>>>,
}

impl Ledger {
    pub fn new(changes: Vec<Change>) -> Self {
        let outcomes = Mutex::new(vec![None; changes.len()]);
        Self { changes, outcomes }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Option<Outcome>>> {
        self.outcomes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn set(&self, index: usize, outcome: Outcome) {
        self.lock()[index] = Some(outcome);
    }

    /// The report as it stands: what has not begun is not started, what is
    /// running is in flight.
    pub fn report(&self, interrupted: bool) -> Report {
        let outcomes = self.lock().clone();
        let mut results: Vec<ChangeResult> = self
            .changes
            .iter()
            .zip(outcomes)
            .map(|(change, outcome)| ChangeResult {
                change: change.clone(),
                outcome: outcome.unwrap_or(Outcome::NotStarted),
            })
            .collect();
        results.sort_by(|a, b| a.change.key().cmp(&b.change.key()));
        Report {
            results,
            interrupted,
        }
    }
}

/// How long a written slot is re-read before it counts as failed. The first
/// read-back goes out at once (it shares the Get schedule, idle while
/// writing); only a stale answer waits, longer each time (`backoff`).
#[derive(Clone, Copy, Debug)]
pub struct Verify {
    pub timeout: Duration,
    pub backoff: Backoff,
}

impl Default for Verify {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            backoff: Backoff {
                first: Duration::from_millis(250),
                max: Duration::from_secs(5),
                jitter: false,
            },
        }
    }
}

/// Applies the ledger's changes concurrently, recording each outcome in it:
/// the contacts first, then the subscriptions, so a contact the plan
/// creates exists before it is subscribed. Once `gate` closes no new write
/// is sent; writes in flight finish and are verified. Every change gets an
/// outcome.
pub async fn apply(
    api: &impl Paced,
    ledger: &Ledger,
    caller: &AccountId,
    gate: &Gate,
    verify: Verify,
    progress: &Progress,
) -> Report {
    // A write sent is read back even after `gate` closes: its outcome must
    // be known, so the read-backs pass a gate of their own that never closes.
    let reading_back = &Gate::default();
    for subscriptions in [false, true] {
        let phase = ledger
            .changes
            .iter()
            .enumerate()
            .filter(|(_, change)| change.action.topic().is_some() == subscriptions);
        futures::stream::iter(phase)
            .for_each_concurrent(api.in_flight(), |(index, change)| async move {
                ledger.set(index, Outcome::InFlight);
                let outcome = apply_one(api, change, caller, gate, reading_back, verify).await;
                ledger.set(index, outcome);
                progress.inc();
            })
            .await;
    }
    ledger.report(!gate.is_open())
}

/// One change: its write, then its read-back.
async fn apply_one(
    api: &impl Paced,
    change: &Change,
    caller: &AccountId,
    gate: &Gate,
    reading_back: &Gate,
    verify: Verify,
) -> Outcome {
    let slot = &change.slot;
    let located = |operation, error| {
        Located::new(operation, error).at(&slot.account, Some(slot.kind), slot.account == *caller)
    };
    let (operation, written) = match &change.action {
        Action::Create { after } | Action::Update { after, .. } => (
            Operation::write(slot.kind),
            api.put(slot, after, gate).await,
        ),
        Action::Delete { .. } => (
            Operation::DeleteAlternateContact,
            api.delete(slot, gate).await,
        ),
        Action::Subscribe { topic } => (
            Operation::AssociateManagedNotificationAccountContact,
            api.subscribe(
                &Notice {
                    slot: slot.clone(),
                    topic: topic.clone(),
                },
                gate,
            )
            .await,
        ),
    };
    if let Err(BackendError::NotSent) = written {
        return Outcome::NotStarted;
    }
    if let Err(BackendError::CredentialsExpired(_)) = written {
        // Every write after this one would fail the same way: start no more.
        gate.close();
    }
    if let Err(error) = written {
        return failed("", located(operation, error));
    }
    let checked = match &change.action {
        Action::Subscribe { topic } => read_back(
            || api.subscribers(&slot.account, topic, reading_back),
            |subscribers| subscribers.as_ref().is_some_and(|s| s.contains(&slot.kind)),
            gate,
            verify,
        )
        .await
        .map_err(|last| {
            last.map(|_| format!("{topic} still does not reach it"))
                .map_err(|error| {
                    located(Operation::ListManagedNotificationChannelAssociations, error)
                })
        }),
        _ => {
            let wanted = change.action.after();
            read_back(
                || api.get(slot, reading_back),
                |live| live.as_ref() == wanted,
                gate,
                verify,
            )
            .await
            .map_err(|last| {
                last.map(|live| format!("reading it back still gives {}", describe(live.as_ref())))
                    .map_err(|error| located(Operation::read(slot.kind), error))
            })
        }
    };
    match checked {
        Ok(()) => Outcome::Applied,
        Err(Ok(stale)) => Outcome::Failed {
            reason: format!("written, but {stale} after {} s", verify.timeout.as_secs()),
            cause: None,
        },
        Err(Err(cause)) => failed("written, but it could not be read back: ", cause),
    }
}

/// Reads a write back until `holds` says it shows, since AWS's reads are
/// eventually consistent: stale answers wait, longer each time; a read
/// that fails for good (403) is not waited on. The last answer when it
/// never showed.
async fn read_back<T, Fut>(
    read: impl Fn() -> Fut,
    holds: impl Fn(&T) -> bool,
    gate: &Gate,
    verify: Verify,
) -> Result<(), Result<T, BackendError>>
where
    Fut: Future<Output = Result<T, BackendError>>,
{
    let deadline = Instant::now() + verify.timeout;
    let mut stale_answers = 0;
    loop {
        let answer = read().await;
        if let Err(BackendError::CredentialsExpired(_)) = &answer {
            gate.close();
        }
        if matches!(&answer, Ok(value) if holds(value)) {
            return Ok(());
        }
        let hopeless = matches!(&answer, Err(error) if !error.is_retryable());
        if hopeless || Instant::now() >= deadline {
            return Err(answer);
        }
        stale_answers += 1;
        let delay = verify.backoff.delay(stale_answers);
        tokio::time::sleep(delay.min(deadline.saturating_duration_since(Instant::now()))).await;
    }
}

fn failed(prefix: &str, cause: Located) -> Outcome {
    Outcome::Failed {
        reason: format!("{prefix}{}", cause.summary()),
        cause: Some(cause),
    }
}

/// A slot's value in a sentence, or `no contact`.
pub fn describe(value: Option<&Value>) -> String {
    value.map_or_else(|| "no contact".to_owned(), Value::describe)
}
