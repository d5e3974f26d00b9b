//! Reading the live state of the managed slots, concurrently, as fast as
//! the slots to read become known.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use futures::{Stream, StreamExt};

use crate::backend::error::{BackendError, Located, Operation};
use crate::backend::{Gate, Paced};
use crate::error::Error;
pub use crate::model::Primaries;
use crate::model::{
    AccountId, ContactType, Live, Slot, Subscribed, Topic, Unchecked, Unreadable, Value,
};
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

/// The member accounts of `wanted` that denied a read while others
/// answered, each with its first denied read: they are skipped (the plan
/// lists them, the audit reports them) and the rest of the scope goes on.
/// Denials by [`SYSTEMIC_DENIALS`] accounts or more are one cause (trusted
/// access off, the caller's own permission) and stop the run; so, as
/// today, does a denial by every member account read, which [`collect`]
/// then reports read by read: nothing is skipped. The caller's own
/// account is never skipped: a denial there is the caller's permission.
pub fn unreadable(
    wanted: &[Slot],
    answers: &Answers,
    caller: &AccountId,
) -> Result<BTreeMap<AccountId, Unreadable>, Error> {
    let mut members = BTreeSet::new();
    let mut denied: BTreeMap<&AccountId, (&Slot, &BackendError)> = BTreeMap::new();
    for slot in wanted.iter().filter(|slot| slot.account != *caller) {
        let Some(result) = answers.get(slot) else {
            continue;
        };
        if matches!(result, Err(BackendError::NotSent)) {
            continue;
        }
        members.insert(&slot.account);
        if let Err(error @ BackendError::AccessDenied(_)) = result {
            let first = denied.entry(&slot.account).or_insert((slot, error));
            if slot.kind < first.0.kind {
                *first = (slot, error);
            }
        }
    }
    if denied.len() >= SYSTEMIC_DENIALS {
        let (slot, error) = denied
            .values()
            .next()
            .copied()
            .expect("denials were counted");
        return Err(Error::SystemicDenial {
            accounts: denied.keys().map(|account| (*account).clone()).collect(),
            first: Box::new(Located::new(Operation::read(slot.kind), error.clone()).at(
                &slot.account,
                Some(slot.kind),
                false,
            )),
        });
    }
    if denied.len() == members.len() {
        return Ok(BTreeMap::new());
    }
    Ok(denied
        .into_iter()
        .map(|(account, (slot, error))| {
            (
                account.clone(),
                Unreadable {
                    action: Operation::read(slot.kind).to_string(),
                    slot: slot.kind,
                    answer: error.to_string(),
                },
            )
        })
        .collect())
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

/// Reads the subscriptions `wanted` names (the topics of each account),
/// concurrently: the accounts User Notifications does not answer for this
/// caller, and those whose reads fail, are unchecked, with why, and the
/// run goes on (a role made before subscriptions were read lacks the
/// permission; the contacts are still planned). Only expired credentials
/// fail the read.
pub async fn notices(
    api: &impl Paced,
    wanted: BTreeMap<AccountId, BTreeSet<Topic>>,
    caller: &AccountId,
    progress: &Progress,
) -> Result<
    (
        BTreeMap<AccountId, Subscribed>,
        BTreeMap<AccountId, Unchecked>,
    ),
    Error,
> {
    let mut unchecked = BTreeMap::new();
    let mut asked = Vec::new();
    for (account, topics) in wanted {
        match api.reaches_notices(&account, caller) {
            Ok(()) => asked.extend(topics.into_iter().map(|topic| (account.clone(), topic))),
            Err(why) => {
                unchecked.insert(account, why);
            }
        }
    }
    progress.grow(asked.len() as u64);
    let gate = &Gate::default();
    let answers: Vec<_> = futures::stream::iter(asked)
        .map(|(account, topic)| async move {
            let answer = api.subscribers(&account, &topic, gate).await;
            progress.inc();
            (account, topic, answer)
        })
        .buffer_unordered(api.in_flight())
        .collect()
        .await;
    let mut notices: BTreeMap<AccountId, Subscribed> = BTreeMap::new();
    for (account, topic, answer) in answers {
        match answer {
            Ok(Some(subscribers)) => {
                notices
                    .entry(account)
                    .or_default()
                    .insert(topic, subscribers);
            }
            // The account has no such configuration: nothing to hold.
            Ok(None) => {
                notices.entry(account).or_default();
            }
            Err(error) => {
                let expired = matches!(error, BackendError::CredentialsExpired(_));
                let located = Located::new(
                    Operation::ListManagedNotificationChannelAssociations,
                    error,
                )
                .at(&account, None, account == *caller);
                if expired {
                    return Err(Error::Backend(located));
                }
                unchecked
                    .entry(account)
                    .or_insert_with(|| Unchecked::Failed(located.summary()));
            }
        }
    }
    // Part of an account read is none of it: nothing is planned on half.
    notices.retain(|account, _| !unchecked.contains_key(account));
    Ok((notices, unchecked))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> AccountId {
        AccountId::parse(&format!("{:012}", 100_000_000_000 + n)).unwrap()
    }

    /// `members` member accounts with two slots each, those in `denied`
    /// denying both, and the caller's own account.
    fn answered(members: u64, denied: &[u64]) -> (Vec<Slot>, Answers) {
        let mut wanted = Vec::new();
        let mut answers = Answers::new();
        for n in 0..=members {
            for kind in [ContactType::Billing, ContactType::Security] {
                let slot = Slot::new(id(n), kind);
                let answer = match denied.contains(&n) {
                    true => Err(BackendError::AccessDenied(format!("no {n} {kind}"))),
                    false => Ok(None),
                };
                answers.insert(slot.clone(), answer);
                wanted.push(slot);
            }
        }
        (wanted, answers)
    }

    #[test]
    fn a_few_member_accounts_that_deny_their_reads_are_unreadable_the_others_not() {
        let caller = id(0);
        let (wanted, answers) = answered(6, &[2, 5]);
        let unreadable = unreadable(&wanted, &answers, &caller).unwrap();
        assert_eq!(
            unreadable.keys().cloned().collect::<Vec<_>>(),
            [id(2), id(5)]
        );
        let first = &unreadable[&id(2)];
        assert_eq!(
            (first.action.as_str(), first.slot),
            ("account:GetAlternateContact", ContactType::Security),
            "the first slot denied, in plan order"
        );
        assert_eq!(first.answer, "access denied (no 2 SECURITY)");
    }

    #[test]
    fn denials_by_a_handful_or_by_every_member_account_are_not_skipped() {
        let caller = id(0);
        let (wanted, answers) = answered(8, &[1, 2, 3, 4, 5]);
        assert!(matches!(
            unreadable(&wanted, &answers, &caller),
            Err(Error::SystemicDenial { accounts, .. }) if accounts.len() == SYSTEMIC_DENIALS
        ));
        // Every member account denied: nothing is skipped, and the read
        // fails whole, as it does today.
        let (wanted, mut answers) = answered(2, &[1, 2]);
        assert!(unreadable(&wanted, &answers, &caller).unwrap().is_empty());
        assert!(matches!(
            collect(wanted, &mut answers, &caller),
            Err(Error::Backends(failures)) if failures.len() == 4
        ));
        // The caller's own account is never skipped.
        let (wanted, answers) = answered(2, &[0]);
        assert!(unreadable(&wanted, &answers, &caller).unwrap().is_empty());
    }
}
