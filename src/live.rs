//! Reading the live state of the managed slots, concurrently.

use futures::StreamExt;

use crate::backend::ContactsApi;
use crate::backend::throttle::IN_FLIGHT;
use crate::error::{Error, Located, Operation};
use crate::model::{AccountId, Live, Slot};
use crate::progress::Progress;

/// Reads every slot in `slots`. Any failure fails the read as a whole: a plan
/// built on part of the state could delete or overwrite what it did not see.
/// All failures are reported, each with its account and slot.
pub async fn fetch<A: ContactsApi>(
    api: &A,
    slots: Vec<Slot>,
    caller: &AccountId,
    progress: &Progress,
) -> Result<Live, Error> {
    let results: Vec<_> = futures::stream::iter(slots)
        .map(|slot| async move {
            let result = api.get(&slot).await;
            progress.inc();
            (slot, result)
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let mut live = Live::default();
    let mut failures = Vec::new();
    for (slot, result) in results {
        match result {
            Ok(contact) => {
                live.slots.insert(slot, contact);
            }
            Err(error) => failures.push(Located::new(Operation::GetAlternateContact, error).at(
                &slot.account,
                Some(slot.kind),
                slot.account == *caller,
            )),
        }
    }
    failures.sort_by(|a, b| (&a.account, a.slot).cmp(&(&b.account, b.slot)));
    match failures.len() {
        0 => Ok(live),
        1 => Err(Error::Backend(failures.remove(0))),
        _ => Err(Error::Backends(failures)),
    }
}
