//! Reading the live state of the managed slots, concurrently, as fast as
//! the slots to read become known.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use futures::{Stream, StreamExt};

use crate::backend::error::{BackendError, Located, Operation};
use crate::backend::{Gate, Paced};
use crate::error::Error;
pub use crate::model::Primaries;
use crate::model::{AccountId, ContactType, Live, Slot, Value};
use crate::progress::Progress;

/// Member accounts that answer AccessDenied before a read stops: past a
/// handful, one cause (trusted access off, a missing permission) explains
/// them all, and reading on would only repeat it thousands of times.
pub const SYSTEMIC_DENIALS: usize = 5;

/// What each slot read answered.
pub type Answers = BTreeMap<Slot, Result<Option<Value>, BackendError>>;

/// Reads every slot `slots` yields, starting each as soon as it arrives.
/// Stops early, with one error, once [`SYSTEMIC_DENIALS`] different member
/// accounts have answered AccessDenied or the credentials have expired:
/// reads still waiting for their turn then leave at once, unsent.
pub async fn read(
    api: &impl Paced,
    slots: impl Stream<Item = Slot>,
    caller: &AccountId,
    progress: &Progress,
) -> Result<Answers, Error> {
    let denied_accounts: Mutex<BTreeSet<AccountId>> = Mutex::default();
    let stopped = Gate::default();
    let (denied_accounts, stopped) = (&denied_accounts, &stopped);
    let mut answers: Answers = slots
        .take_while(|_| std::future::ready(stopped.is_open()))
        .map(|slot| async move {
            let result = api.get(&slot, stopped).await;
            progress.inc();
            match &result {
                // Expired session credentials fail every request after them.
                Err(BackendError::CredentialsExpired(_)) => stopped.close(),
                // A member account that denies its alternate contacts:
                // trusted access. A primary contact denied is the caller's
                // permission (account:GetContactInformation), which audit
                // and export do without.
                Err(BackendError::AccessDenied(_))
                    if slot.account != *caller && slot.kind != ContactType::Primary =>
                {
                    let mut denied = denied_accounts
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    denied.insert(slot.account.clone());
                    if denied.len() >= SYSTEMIC_DENIALS {
                        stopped.close();
                    }
                }
                _ => {}
            }
            (slot, result)
        })
        .buffer_unordered(api.in_flight())
        .collect()
        .await;
    if stopped.is_open() {
        return Ok(answers);
    }
    // Left unsent when the read stopped: not read, and not an answer.
    answers.retain(|_, result| !matches!(result, Err(BackendError::NotSent)));
    let located = |slot: &Slot, error: &BackendError| {
        Located::new(Operation::read(slot.kind), error.clone()).at(
            &slot.account,
            Some(slot.kind),
            slot.account == *caller,
        )
    };
    if let Some((slot, error)) = answers
        .iter()
        .find(|(_, result)| matches!(result, Err(BackendError::CredentialsExpired(_))))
        .and_then(|(slot, result)| Some((slot, result.as_ref().err()?)))
    {
        return Err(Error::Backend(located(slot, error)));
    }
    let denied = denied_accounts
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let first = answers.iter().find_map(|(slot, result)| match result {
        Err(error @ BackendError::AccessDenied(_)) if slot.account != *caller => {
            Some(located(slot, error))
        }
        _ => None,
    });
    match first {
        Some(first) => Err(Error::SystemicDenial {
            accounts: denied.iter().cloned().collect(),
            first: Box::new(first),
        }),
        None => Ok(answers),
    }
}

/// The live state of exactly `wanted` from `answers`. Any failure fails the
/// read as a whole: a plan built on part of the state could delete or
/// overwrite what it did not see. All failures are reported, each with its
/// account and slot.
pub fn collect(
    wanted: impl IntoIterator<Item = Slot>,
    answers: &mut Answers,
    caller: &AccountId,
) -> Result<Live, Error> {
    let mut live = Live::default();
    let mut failures = Vec::new();
    for slot in wanted {
        match answers.remove(&slot) {
            Some(Ok(contact)) => {
                live.slots.insert(slot, contact);
            }
            Some(Err(error)) => failures.push(Located::new(Operation::read(slot.kind), error).at(
                &slot.account,
                Some(slot.kind),
                slot.account == *caller,
            )),
            // Every slot asked for was answered unless the read stopped,
            // and a stopped read is an error; a plan must never be made on
            // a slot that was not read.
            None => failures.push(
                Located::new(
                    Operation::read(slot.kind),
                    BackendError::Other {
                        code: "NotRead".to_owned(),
                        message: "this contact was not read".to_owned(),
                    },
                )
                .at(&slot.account, Some(slot.kind), slot.account == *caller),
            ),
        }
    }
    failed(failures).map(|()| live)
}

/// Read failures as one error, each with its account and slot, in order.
fn failed(mut failures: Vec<Located>) -> Result<(), Error> {
    failures.sort_by(|a, b| (&a.account, a.slot).cmp(&(&b.account, b.slot)));
    match failures.len() {
        0 => Ok(()),
        1 => Err(Error::Backend(failures.remove(0))),
        _ => Err(Error::Backends(failures)),
    }
}

/// Reads every slot in `slots` (see [`read`] and [`collect`]).
pub async fn fetch(
    api: &impl Paced,
    slots: Vec<Slot>,
    caller: &AccountId,
    progress: &Progress,
) -> Result<Live, Error> {
    let mut answers = read(api, futures::stream::iter(slots.clone()), caller, progress).await?;
    collect(slots, &mut answers, caller)
}

/// The primary contacts of `accounts` from `answers`, for `audit` and
/// `export`: `None` when they cannot be read at all (denied, or not offered
/// by the endpoint), so the audit says which rule it could not check and
/// export leaves them out, instead of failing. Other failures fail the read.
pub fn primaries(
    accounts: impl IntoIterator<Item = AccountId>,
    answers: &mut Answers,
    caller: &AccountId,
) -> Result<Primaries, Error> {
    let mut primaries = BTreeMap::new();
    let mut failures = Vec::new();
    let mut unavailable = false;
    for account in accounts {
        let slot = Slot::new(account.clone(), ContactType::Primary);
        match answers.remove(&slot) {
            Some(Ok(value)) => {
                primaries.insert(account, value.and_then(|value| value.as_primary().cloned()));
            }
            // Denied, or not offered by this endpoint (moto has no such
            // call): the primary contacts are unavailable, not an outage.
            Some(Err(error)) if !error.is_retryable() => unavailable = true,
            Some(Err(error)) => failures.push(
                Located::new(Operation::read(ContactType::Primary), error).at(
                    &account,
                    None,
                    account == *caller,
                ),
            ),
            None => unavailable = true,
        }
    }
    if unavailable {
        return Ok(None);
    }
    failed(failures).map(|()| Some(primaries))
}
