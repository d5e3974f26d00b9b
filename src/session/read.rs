//! The one way every command reads AWS: scope, discovery and reading
//! overlap. Each account's slots are read as soon as Organizations lists
//! it, what to read being decided from the account alone (by the same rule
//! the whole organization is resolved by); then the whole organization is
//! resolved, which remains the authority, and any slot it needs that was
//! not read yet is read. plan, apply, audit, export, `--base` and the
//! GitHub steps all come through here.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;

use super::{Base, Context, Session, joined_since_needs_an_organization};
use crate::backend::{Discovery, Identity, Listing, Paced};
use crate::config::{AccountScope, LoadedConfig};
use crate::error::Error;
use crate::live::{Answers, Primaries};
use crate::model::{
    AccountId, ContactType, Desired, DesiredSlot, Found, JoinedWindow, Live, OrgAccount,
    Organization, Slot, Timestamp, Unreadable,
};
use crate::progress::Progress;

/// The accounts a run covers.
pub enum Scope<'a> {
    /// Those of a contacts file.
    File(&'a LoadedConfig),
    /// Every ACTIVE account of the organization (`--org`).
    WholeOrganization,
    /// The accounts named on the command line.
    Accounts(Vec<AccountId>),
    /// The caller's own account.
    Caller,
}

/// Which slots of the accounts in scope are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// The slots the file manages (plan, apply).
    Managed,
    /// Every alternate slot, managed or not, and the primary contact where
    /// it can be read (audit, export: what AWS holds).
    Every,
}

/// What a run reads.
pub struct Request<'a> {
    pub scope: Scope<'a>,
    /// With a base, only the managed slots whose desired value differs.
    pub base: Option<&'a Base>,
    /// Only the accounts that joined after this time are in scope.
    pub joined_since: Option<Timestamp>,
    /// With a base, also every managed slot of the accounts that joined
    /// after this time.
    pub new_accounts_since: Option<Timestamp>,
    /// With `new_accounts_since`, the accounts whose every managed slot was
    /// applied at this commit already (by an event's run): not new again.
    pub applied_by_events: Option<&'a BTreeSet<AccountId>>,
    /// Only this account is in scope (`--account`: the account an event
    /// names); no other is read.
    pub account: Option<AccountId>,
    pub reads: Reads,
    /// Every account's units are listed (the audit's guardrail check needs
    /// the policies above each account), whatever the file needs.
    pub ancestry: bool,
    /// What becomes of a member account that denies its reads while the
    /// others answer.
    pub unreadable: WhenUnreadable,
    /// Whether the contacts' subscriptions to AWS Health's topics are read
    /// (plan, apply, audit; not `export`, which writes contacts only).
    pub subscriptions: bool,
}

/// What a run does with a member account whose contacts it may not read
/// (AccessDenied there, while other member accounts answer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenUnreadable {
    /// The account is skipped, with why, and the rest of the scope goes
    /// on: plan and apply (nothing is written to it), audit (a finding).
    Skip,
    /// The run fails, as it does for any failed read: `export`, whose file
    /// would otherwise leave the account to the organization's defaults.
    Fail,
}

impl<'a> Request<'a> {
    /// Every account of `scope`, its slots read as `reads` says.
    pub fn new(scope: Scope<'a>, reads: Reads) -> Self {
        Self {
            scope,
            base: None,
            joined_since: None,
            new_accounts_since: None,
            applied_by_events: None,
            account: None,
            reads,
            ancestry: false,
            unreadable: WhenUnreadable::Skip,
            subscriptions: true,
        }
    }

    /// The managed slots of a file, every one read.
    pub fn managed(config: &'a LoadedConfig) -> Self {
        Self::new(Scope::File(config), Reads::Managed)
    }

    /// The managed slots of a file that the flags select (`--base`,
    /// `--base-ref`, `--joined-since`, `--account`), with the base those
    /// name, loaded before anything is asked of AWS
    /// ([`Base::selected`]).
    pub fn selected(
        config: &'a LoadedConfig,
        selection: &crate::cli::Selection,
        base: Option<&'a Base>,
    ) -> Self {
        Self {
            base,
            joined_since: selection.joined_since.joined_since,
            account: selection.one.account.clone(),
            ..Self::managed(config)
        }
    }
}

/// What a run read, and what it knows of the scope.
pub struct Reading {
    pub session: Session,
    /// Every account in scope and its managed slots, the skipped accounts,
    /// the file's warnings and the `--joined-since` window.
    pub desired: Desired,
    pub live: Live,
    /// With [`Reads::Every`]: the primary contacts, or `None` when they
    /// cannot be read.
    pub primaries: Primaries,
    /// The organization as discovery listed it, when the scope needed it.
    pub organization: Option<Organization>,
}

/// What the base says of one account, for choosing what to read.
#[derive(Clone, Copy)]
enum BaseView<'b> {
    /// No base: every managed slot is read.
    Absent,
    /// The base has no contacts file, or it does not resolve: no slot is
    /// known to be the same, so every managed slot is read.
    Unknown,
    /// The base's slots of the account (none: new to scope).
    Slots(Option<&'b BTreeMap<ContactType, DesiredSlot>>),
}

/// The choice of what to read, the same for an account just listed and for
/// the whole organization once resolved.
struct Choice<'a> {
    request: &'a Request<'a>,
}

impl Choice<'_> {
    fn slots(
        &self,
        id: &AccountId,
        current: &BTreeMap<ContactType, DesiredSlot>,
        base: BaseView<'_>,
        joined: Option<Timestamp>,
    ) -> Vec<Slot> {
        let slot = |kind| Slot::new(id.clone(), kind);
        if self.request.reads == Reads::Every {
            return ContactType::EVERY.into_iter().map(slot).collect();
        }
        let new_account = self
            .request
            .new_accounts_since
            .is_some_and(|since| joined.is_some_and(|joined| joined > since))
            && !self
                .request
                .applied_by_events
                .is_some_and(|applied| applied.contains(id));
        current
            .iter()
            .filter(|(kind, wanted)| match base {
                BaseView::Slots(Some(old)) if !new_account => old
                    .get(kind)
                    .is_none_or(|old| old.wanted != wanted.wanted || old.notices != wanted.notices),
                _ => true,
            })
            .map(|(kind, _)| slot(*kind))
            .collect()
    }
}

/// Whether an account is in a `--joined-since` window. An account whose
/// join time is unknown is not: only what is known to be new is read.
pub fn joined_after(account: &OrgAccount, since: Option<Timestamp>) -> bool {
    since.is_none_or(|since| account.joined.is_some_and(|joined| joined > since))
}

/// Narrows the desired state to the accounts that joined after `since`.
fn keep_joined_since(desired: &mut Desired, org: &Organization, since: Option<Timestamp>) {
    let Some(since) = since else {
        return;
    };
    let new: BTreeSet<&AccountId> = org
        .accounts
        .iter()
        .filter(|account| joined_after(account, Some(since)))
        .map(|account| &account.id)
        .collect();
    let older_accounts = desired.retain_accounts(|id| new.contains(id));
    desired.joined_since = Some(JoinedWindow {
        since,
        older_accounts,
    });
}

/// The topics whose subscriptions a run reads, by account: those the
/// user's file wants of each slot read; without one (`--org`, accounts
/// named), AWS's defaults of every slot.
fn wanted_topics(
    desired: &Desired,
    read: &[Slot],
    of_a_file: bool,
) -> BTreeMap<AccountId, BTreeSet<crate::model::Topic>> {
    let mut topics: BTreeMap<AccountId, BTreeSet<crate::model::Topic>> = BTreeMap::new();
    for slot in read {
        let wanted = match of_a_file {
            true => desired
                .topics_of(slot)
                .map(|(topics, _)| topics)
                .unwrap_or_default(),
            false => slot.kind.default_topics(),
        };
        if !wanted.is_empty() {
            topics
                .entry(slot.account.clone())
                .or_default()
                .extend(wanted);
        }
    }
    topics
}

/// The accounts discovery sends, as a stream that ends when discovery does.
fn stream_of<T>(
    mut receiver: tokio::sync::mpsc::UnboundedReceiver<T>,
) -> impl futures::Stream<Item = T> {
    futures::stream::poll_fn(move |context| receiver.poll_recv(context))
}

fn slots_by_account(desired: &Desired) -> BTreeMap<&AccountId, BTreeMap<ContactType, DesiredSlot>> {
    let mut by_account: BTreeMap<&AccountId, BTreeMap<ContactType, DesiredSlot>> = desired
        .accounts
        .keys()
        .map(|id| (id, BTreeMap::new()))
        .collect();
    for (slot, wanted) in &desired.slots {
        by_account
            .entry(&slot.account)
            .or_default()
            .insert(slot.kind, wanted.clone());
    }
    by_account
}

/// Lists the organization and reads each account's slots as soon as it is
/// listed, what to read decided from the account alone (by the same rule
/// as [`chosen_slots`]).
async fn read_while_discovering(
    api: &crate::backend::Backend,
    scoped: &Scoped<'_>,
    request: &Request<'_>,
    progress: &Progress,
) -> Result<Discovered, Error> {
    let config = &*scoped.config;
    let choice = Choice { request };
    let (found, listed) = tokio::sync::mpsc::unbounded_channel();
    let discovery = async {
        let found = found;
        Ok::<_, Error>(
            api.organization(scoped.listing(request), Some(&found))
                .await?,
        )
    };
    let choice = &choice;
    let reads = async {
        let caller = api.caller().await?;
        // A file that names the management account from a delegated
        // administrator is refused once the whole organization is known;
        // until then nothing is read, as it would be for nothing.
        let refused = |found: &Found| config.names_beyond_reach(&found.management_account, &caller);
        // Once discovery has listed its last account and that account's
        // slots are counted, the total is the total.
        let listed_to_the_end = stream_of(listed).chain(futures::stream::poll_fn(|_| {
            progress.total_known();
            std::task::Poll::Ready(None)
        }));
        let slots = listed_to_the_end
            .take_while(|found| std::future::ready(!refused(found)))
            .filter(|found| {
                std::future::ready(
                    joined_after(&found.account, request.joined_since)
                        && request
                            .account
                            .as_ref()
                            .is_none_or(|only| *only == found.account.id),
                )
            })
            .flat_map(|found| {
                let slots = match config.account_scope(&found, &caller) {
                    AccountScope::In(current) => {
                        let old = scoped.base.map(|base| base.account_scope(&found, &caller));
                        let view = match (&request.base, &old) {
                            (None, _) => BaseView::Absent,
                            (Some(Base::Absent { .. }), _) => BaseView::Unknown,
                            (_, Some(AccountScope::In(old))) => BaseView::Slots(Some(old)),
                            _ => BaseView::Slots(None),
                        };
                        choice.slots(&found.account.id, &current, view, found.account.joined)
                    }
                    // Audited, never planned: what AWS holds, every slot.
                    AccountScope::Excluded
                        if request.reads == Reads::Every
                            && found.account.status == crate::model::AccountStatus::Active =>
                    {
                        choice.slots(
                            &found.account.id,
                            &BTreeMap::new(),
                            BaseView::Absent,
                            found.account.joined,
                        )
                    }
                    AccountScope::Excluded | AccountScope::NotListed | AccountScope::Skipped(_) => {
                        Vec::new()
                    }
                };
                progress.grow(slots.len() as u64);
                futures::stream::iter(slots)
            });
        let answers = crate::live::read(api, slots, &caller, progress).await?;
        Ok::<_, Error>((caller, answers))
    };
    let (organization, (caller, answers)) = futures::try_join!(discovery, reads)?;
    Ok(Discovered {
        caller,
        organization: Some(organization),
        answers,
    })
}

/// The slots the run reads, chosen on the resolved desired state: the
/// authority, whatever was read while discovery went on.
fn chosen_slots(
    request: &Request<'_>,
    desired: &Desired,
    old: Option<&Desired>,
    org: Option<&Organization>,
) -> Vec<Slot> {
    let choice = Choice { request };
    let old_slots = old.map(slots_by_account);
    let joined: BTreeMap<&AccountId, Timestamp> = org
        .iter()
        .flat_map(|org| &org.accounts)
        .filter_map(|account| Some((&account.id, account.joined?)))
        .collect();
    let mut chosen = Vec::new();
    for (id, current) in slots_by_account(desired) {
        let view = match (request.base, &old_slots) {
            (None, _) => BaseView::Absent,
            (Some(_), None) => BaseView::Unknown,
            (Some(_), Some(old)) => BaseView::Slots(old.get(id)),
        };
        chosen.extend(choice.slots(id, &current, view, joined.get(id).copied()));
    }
    if request.reads == Reads::Every {
        for id in desired.excluded.keys() {
            chosen.extend(choice.slots(
                id,
                &BTreeMap::new(),
                BaseView::Absent,
                joined.get(id).copied(),
            ));
        }
    }
    chosen
}

/// What a run reads from: the file of its scope (the one given, or one
/// made for `--org`, named accounts or the caller) and the base file, if any.
struct Scoped<'a> {
    config: std::borrow::Cow<'a, LoadedConfig>,
    base: Option<&'a LoadedConfig>,
}

impl<'a> Scoped<'a> {
    fn of(request: &'a Request<'a>) -> Self {
        let config = match &request.scope {
            Scope::File(config) => std::borrow::Cow::Borrowed(*config),
            Scope::WholeOrganization => std::borrow::Cow::Owned(LoadedConfig::whole_organization()),
            Scope::Accounts(accounts) => std::borrow::Cow::Owned(LoadedConfig::listing(accounts)),
            Scope::Caller => std::borrow::Cow::Owned(LoadedConfig::listing(&[])),
        };
        let base = match request.base {
            Some(Base::File(base)) => Some(&**base),
            _ => None,
        };
        Self { config, base }
    }

    /// Whether the organization must be discovered: the file or its base
    /// covers it.
    fn organized(&self) -> bool {
        self.config.config.organization.is_some()
            || self
                .base
                .is_some_and(|base| base.config.organization.is_some())
    }

    /// How much of the organization discovery must list.
    fn listing(&self, request: &Request<'_>) -> Listing {
        if let Some(only) = &request.account {
            Listing::One(only.clone())
        } else if request.ancestry
            || self.config.needs_units()
            || self.base.is_some_and(LoadedConfig::needs_units)
        {
            Listing::Tree
        } else {
            Listing::Flat
        }
    }
}

/// What discovery found, and the answers of the reads made meanwhile.
struct Discovered {
    caller: AccountId,
    organization: Option<Organization>,
    answers: Answers,
}

impl Context {
    /// Reads what `request` asks for, as discovery lists the organization:
    /// each account's slots while discovery goes on, then whatever the
    /// resolved organization needs that was not read yet.
    pub async fn read_scope(&self, request: &Request<'_>) -> Result<Reading, Error> {
        let scoped = Scoped::of(request);
        let windowed = request.joined_since.is_some() || request.new_accounts_since.is_some();
        if windowed && scoped.config.config.organization.is_none() {
            return Err(joined_since_needs_an_organization());
        }
        let (api, target, label) = self
            .connect(super::FileConnection::of(&scoped.config.config))
            .await?;
        let started = std::time::Instant::now();
        let progress = Progress::start_growing(&self.ui, "reading contacts");
        let Discovered {
            caller,
            organization: org,
            mut answers,
        } = if scoped.organized() {
            read_while_discovering(&api, &scoped, request, &progress).await?
        } else {
            Discovered {
                caller: api.caller().await?,
                organization: None,
                answers: Answers::new(),
            }
        };
        progress.total_known();
        let session = self.session(api, caller, target, label);
        let caller_file;
        let config = match request.scope {
            Scope::Caller => {
                caller_file = LoadedConfig::listing(std::slice::from_ref(&session.caller));
                &caller_file
            }
            _ => &*scoped.config,
        };
        if org.is_none() {
            self.refuse_management_from_delegated(&session, config)
                .await?;
        }
        let mut desired = config.resolve(org.as_ref(), &session.caller)?;
        if let Some(org) = &org {
            keep_joined_since(&mut desired, org, request.joined_since);
        }
        if let Some(only) = &request.account {
            self.keep_only(&mut desired, org.as_ref(), only)?;
        }
        let old = self.resolve_base(request, scoped.base, org.as_ref(), &session.caller);
        let chosen = chosen_slots(request, &desired, old.as_ref(), org.as_ref());
        let unread: Vec<Slot> = chosen
            .iter()
            .filter(|slot| !answers.contains_key(*slot))
            .cloned()
            .collect();
        if !unread.is_empty() {
            progress.grow(unread.len() as u64);
            let more = crate::live::read(
                &session.api,
                futures::stream::iter(unread),
                &session.caller,
                &progress,
            )
            .await?;
            answers.extend(more);
        }
        self.report_reads(&session.api, chosen.len(), started);
        // Decided on the slots read, before they are sorted out below.
        let mut topics = match request.subscriptions {
            true => wanted_topics(&desired, &chosen, matches!(request.scope, Scope::File(_))),
            false => BTreeMap::new(),
        };

        let (mut alternates, mut primary): (Vec<Slot>, Vec<Slot>) = chosen
            .into_iter()
            .partition(|slot| slot.kind != ContactType::Primary || request.reads == Reads::Managed);
        let unreadable = match request.unreadable {
            WhenUnreadable::Skip => {
                crate::live::unreadable(&alternates, &answers, &session.caller)?
            }
            WhenUnreadable::Fail => BTreeMap::new(),
        };
        // Nothing of an unreadable account is taken from what was read.
        alternates.retain(|slot| !unreadable.contains_key(&slot.account));
        primary.retain(|slot| !unreadable.contains_key(&slot.account));
        self.note_unreadable(&unreadable);
        let primaries = match request.reads {
            Reads::Every => crate::live::primaries(
                primary.into_iter().map(|slot| slot.account),
                &mut answers,
                &session.caller,
            )?,
            Reads::Managed => None,
        };
        let mut live = crate::live::collect(alternates, &mut answers, &session.caller)?;
        // Answered with each primary contact read: no call of its own.
        live.phones = primaries
            .iter()
            .flat_map(|primaries| primaries.keys())
            .filter_map(|id| Some((id.clone(), session.api.phone_verification(id)?)))
            .collect();
        // Nothing of an unreadable account is read further.
        topics.retain(|account, _| !unreadable.contains_key(account));
        (live.notices, live.unchecked) =
            crate::live::notices(&session.api, topics, &session.caller, &progress).await?;
        progress.finish();
        live.unreadable = unreadable;
        Ok(Reading {
            session,
            desired,
            live,
            primaries,
            organization: org,
        })
    }

    /// The member accounts that could not be read, said on stderr with
    /// what AWS answered (the plan and the audit name them too).
    fn note_unreadable(&self, unreadable: &BTreeMap<AccountId, Unreadable>) {
        if unreadable.is_empty() {
            return;
        }
        let each: Vec<String> = unreadable
            .iter()
            .map(|(account, why)| format!("{account} ({why})"))
            .collect();
        self.ui.note(&format!(
            "Skipped {} whose contacts could not be read, and went on with the others: {}.",
            crate::model::count(unreadable.len(), "member account"),
            each.join("; ")
        ));
    }

    /// Narrows the desired state to `only`, which must be an account the
    /// run can write: an ACTIVE account of the organization, or without
    /// one, an account the file lists. An account the file excludes, or
    /// the management account seen from a delegated administrator, is in
    /// scope of nothing: said, and nothing is read.
    fn keep_only(
        &self,
        desired: &mut Desired,
        org: Option<&Organization>,
        only: &AccountId,
    ) -> Result<(), Error> {
        match org.map(|org| org.accounts.iter().find(|account| account.id == *only)) {
            Some(None) => {
                return Err(Error::usage(
                    format!("account {only} is not in the organization"),
                    Some("check the account ID (--account, or the one the event carries): Organizations lists no such account (an account that left, or was closed 90 days ago, is gone)".to_owned()),
                ));
            }
            Some(Some(account)) if account.status != crate::model::AccountStatus::Active => {
                return Err(Error::usage(
                    format!(
                        "account {only} is {}, not ACTIVE: its contacts are not written",
                        account.status
                    ),
                    Some(
                        "a suspended or closing account gets no contacts; nothing was written"
                            .to_owned(),
                    ),
                ));
            }
            None if !desired.accounts.contains_key(only) => {
                return Err(Error::usage(
                    format!("account {only} is not in the file's scope"),
                    Some("without `organization:`, the scope is the accounts under `accounts:`: list it there".to_owned()),
                ));
            }
            _ => {}
        }
        if !desired.accounts.contains_key(only)
            && !desired.skipped.iter().any(|skipped| skipped.id == *only)
        {
            self.ui.note(&format!(
                "Account {only} is excluded by the file (organization.exclude): nothing to do."
            ));
        }
        desired.retain_accounts(|id| id == only);
        Ok(())
    }

    /// The base's desired state against the organization, when there is a
    /// base file that resolves; a base that does not is said, and every
    /// slot is then read.
    fn resolve_base(
        &self,
        request: &Request<'_>,
        base: Option<&LoadedConfig>,
        org: Option<&Organization>,
        caller: &AccountId,
    ) -> Option<Desired> {
        match (request.base, base) {
            (Some(Base::File(_)), Some(base)) => match base.resolve(org, caller) {
                Ok(old) => Some(old),
                Err(error) => {
                    self.ui.note(&format!(
                        "note: the base file {} does not resolve against the organization, so every slot is read:\n{error}",
                        base.file
                    ));
                    None
                }
            },
            (Some(Base::Absent { described }), _) => {
                self.ui.note(&format!(
                    "note: {described}, so every managed slot is read, as for a new file."
                ));
                None
            }
            _ => None,
        }
    }

    /// A file that lists accounts names the management account: from a
    /// delegated administrator that is refused before any contact is read.
    /// Which account is the management account is asked of Organizations
    /// only when the file names an account other than the caller's; a
    /// caller that may not ask is left to AWS's own answer.
    async fn refuse_management_from_delegated(
        &self,
        session: &Session,
        config: &LoadedConfig,
    ) -> Result<(), Error> {
        if config
            .config
            .accounts
            .keys()
            .all(|id| *id == session.caller)
        {
            return Ok(());
        }
        if let Some(management) = session.api.management_account().await? {
            config.refuse_management_account(&management, &session.caller)?;
        }
        Ok(())
    }
}
