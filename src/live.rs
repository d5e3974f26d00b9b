//! Reading the live state of the managed slots, concurrently, as fast as
//! the slots to read become known.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::{Stream, StreamExt};

use crate::backend::ContactsApi;
use crate::backend::throttle::IN_FLIGHT;
use crate::error::{BackendError, Error, Located, Operation};
use crate::model::{AccountId, Contact, Live, Slot};
use crate::progress::Progress;

/// Member accounts that answer AccessDenied before a read stops: past a
/// handful, one cause (trusted access off, a missing permission) explains
/// them all, and reading on would only repeat it thousands of times.
pub const SYSTEMIC_DENIALS: usize = 5;

/// What each slot read answered.
pub type Answers = BTreeMap<Slot, Result<Option<Contact>, BackendError>>;

/// Reads every slot `slots` yields, starting each as soon as it arrives.
/// Stops early, with one error, once [`SYSTEMIC_DENIALS`] different member
/// accounts have answered AccessDenied.
pub async fn read<A: ContactsApi>(
    api: &A,
    slots: impl Stream<Item = Slot>,
    caller: &AccountId,
    progress: &Progress,
) -> Result<Answers, Error> {
    let denied_accounts: Mutex<BTreeSet<AccountId>> = Mutex::default();
    let stopped = AtomicBool::new(false);
    let (denied_accounts, stopped) = (&denied_accounts, &stopped);
    let answers: Answers = slots
        .take_while(|_| std::future::ready(!stopped.load(Ordering::SeqCst)))
        .map(|slot| async move {
            let result = api.get(&slot).await;
            progress.inc();
            if matches!(result, Err(BackendError::AccessDenied(_))) && slot.account != *caller {
                let mut denied = denied_accounts
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                denied.insert(slot.account.clone());
                if denied.len() >= SYSTEMIC_DENIALS {
                    stopped.store(true, Ordering::SeqCst);
                }
            }
            (slot, result)
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    if stopped.load(Ordering::SeqCst) {
        let denied = denied_accounts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let sample = answers.iter().find_map(|(slot, result)| match result {
            Err(error @ BackendError::AccessDenied(_)) if slot.account != *caller => {
                Some((slot, error.clone()))
            }
            _ => None,
        });
        if let Some((slot, error)) = sample {
            return Err(Error::SystemicDenial {
                accounts: denied.iter().cloned().collect(),
                first: Box::new(Located::new(Operation::GetAlternateContact, error).at(
                    &slot.account,
                    Some(slot.kind),
                    false,
                )),
            });
        }
    }
    Ok(answers)
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
            Some(Err(error)) => {
                failures.push(Located::new(Operation::GetAlternateContact, error).at(
                    &slot.account,
                    Some(slot.kind),
                    slot.account == *caller,
                ))
            }
            None => {}
        }
    }
    failures.sort_by(|a, b| (&a.account, a.slot).cmp(&(&b.account, b.slot)));
    match failures.len() {
        0 => Ok(live),
        1 => Err(Error::Backend(failures.remove(0))),
        _ => Err(Error::Backends(failures)),
    }
}

/// Reads every slot in `slots` (see [`read`] and [`collect`]).
pub async fn fetch<A: ContactsApi>(
    api: &A,
    slots: Vec<Slot>,
    caller: &AccountId,
    progress: &Progress,
) -> Result<Live, Error> {
    let mut answers = read(api, futures::stream::iter(slots.clone()), caller, progress).await?;
    collect(slots, &mut answers, caller)
}
