//! Member roles: each member account read and written with a session of
//! its own (sts:AssumeRole into the role a StackSet puts in every account),
//! so each account's own Account API quotas apply and accounts run side by
//! side. Where the role cannot be had (not deployed yet, its trust or an
//! SCP refuses) that account goes through the caller, as without member
//! roles, and the run names it; when every AssumeRole is refused the run
//! stops asking after a handful and says so once.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use super::Gate;
use super::attempts::{Pacing, RetryPolicy, RetryStats};
use super::error::BackendError;
use super::pacer::Pacer;
use super::quota::{Limits, Quota};
use crate::model::{AccountId, CentralAccount, ContactType, MemberRoleUse};
use crate::settings::RoleName;

/// Refusals of AssumeRole, with none granted, after which the run stops
/// asking: one cause (the StackSet not deployed, the caller's own
/// permission, an SCP) explains them all.
pub const SYSTEMIC_REFUSALS: usize = 5;

/// A session is renewed once this little of its life is left, or a quarter
/// of it if that is less, so no request goes out on one about to expire.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// A session in a member account, and when it expires.
#[derive(Clone, Debug)]
pub struct Assumed<S> {
    pub session: S,
    pub expires: Option<SystemTime>,
}

/// One operation's pacer each: the central path's, or one account's.
pub struct Pacers {
    pub get: Pacer,
    pub primary_get: Pacer,
    pub put: Pacer,
    pub primary_put: Pacer,
    pub delete: Pacer,
    pub notices_read: Pacer,
    pub notices_write: Pacer,
}

impl Pacers {
    pub fn new(limits: &Limits) -> Self {
        Self {
            get: Pacer::new(limits.get),
            primary_get: Pacer::new(limits.primary_get),
            put: Pacer::new(limits.put),
            primary_put: Pacer::new(limits.primary_put),
            delete: Pacer::new(limits.delete),
            notices_read: Pacer::new(limits.notices_read),
            notices_write: Pacer::new(limits.notices_write),
        }
    }

    /// The primary contact's operations have quotas of their own.
    pub fn read(&self, kind: ContactType) -> &Pacer {
        match kind {
            ContactType::Primary => &self.primary_get,
            _ => &self.get,
        }
    }

    pub fn write(&self, kind: ContactType) -> &Pacer {
        match kind {
            ContactType::Primary => &self.primary_put,
            _ => &self.put,
        }
    }
}

/// How one request reaches its account.
pub enum Route<S> {
    /// Through the caller, at the central pacers.
    Central,
    /// Through the account's own session, at its own pacers.
    Member(Arc<MemberAccount<S>>, Assumed<S>, SystemTime),
}

impl<S> Route<S> {
    /// Whether the session would go out about to expire now: a request
    /// that waited for its turn longer than the session had left.
    pub fn stale(&self) -> bool {
        match self {
            Route::Central => false,
            Route::Member(_, assumed, at) => !fresh(assumed, *at, SystemTime::now()),
        }
    }
}

/// One member account: its pacers, and its session once asked for.
pub struct MemberAccount<S> {
    pub pacers: Pacers,
    session: tokio::sync::Mutex<SessionState<S>>,
}

enum SessionState<S> {
    NotAsked,
    Held {
        assumed: Assumed<S>,
        at: SystemTime,
    },
    /// The role could not be had: the account goes through the caller.
    Central,
}

/// The member role of a run: the sessions it holds, the pacer of its
/// AssumeRole calls, and which accounts went through the caller.
pub struct MemberAccess<S> {
    role: RoleName,
    limits: Limits,
    assume: Pacer,
    accounts: Mutex<HashMap<AccountId, Arc<MemberAccount<S>>>>,
    assumed: AtomicUsize,
    refused: AtomicUsize,
    central: Mutex<BTreeMap<AccountId, String>>,
    abandoned: OnceLock<String>,
    /// Until one AssumeRole is granted they go one at a time, so a role
    /// that is nowhere costs a handful of calls, not one per account in
    /// flight.
    probing: tokio::sync::Mutex<()>,
}

impl<S: Clone> MemberAccess<S> {
    /// `limits` are each account's own; `assume` paces AssumeRole.
    pub fn new(role: RoleName, limits: Limits, assume: Quota) -> Self {
        Self {
            role,
            limits,
            assume: Pacer::new(assume),
            accounts: Mutex::default(),
            assumed: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            central: Mutex::default(),
            abandoned: OnceLock::new(),
            probing: tokio::sync::Mutex::new(()),
        }
    }

    pub fn role(&self) -> &RoleName {
        &self.role
    }

    fn account(&self, id: &AccountId) -> Arc<MemberAccount<S>> {
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(accounts.entry(id.clone()).or_insert_with(|| {
            Arc::new(MemberAccount {
                pacers: Pacers::new(&self.limits),
                session: tokio::sync::Mutex::new(SessionState::NotAsked),
            })
        }))
    }

    /// How a request to `account` goes: through a session in it, assumed
    /// now if none is held or the one held is about to expire, else
    /// through the caller. `assume` is the backend's AssumeRole, paced
    /// here and retried like any request; a closed gate stops the wait.
    pub async fn route<F, Fut>(
        &self,
        id: &AccountId,
        gate: &Gate,
        policy: &RetryPolicy,
        stats: &RetryStats,
        assume: F,
    ) -> Result<Route<S>, BackendError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Assumed<S>, BackendError>>,
    {
        if self.abandoned.get().is_some() {
            return Ok(Route::Central);
        }
        let account = self.account(id);
        let mut state = account.session.lock().await;
        match &*state {
            SessionState::Central => return Ok(Route::Central),
            SessionState::Held { assumed, at } if fresh(assumed, *at, SystemTime::now()) => {
                let (assumed, at) = (assumed.clone(), *at);
                drop(state);
                return Ok(Route::Member(account, assumed, at));
            }
            _ => {}
        }
        let probe = match self.assumed.load(Ordering::Relaxed) {
            0 => Some(self.probing.lock().await),
            _ => None,
        };
        if self.abandoned.get().is_some() {
            return Ok(Route::Central);
        }
        let probe = probe.filter(|_| self.assumed.load(Ordering::Relaxed) == 0);
        let asked = policy
            .run(
                stats,
                Pacing::Paced {
                    pacer: &self.assume,
                    gate,
                },
                assume,
            )
            .await;
        match asked {
            Ok(assumed) => {
                self.assumed.fetch_add(1, Ordering::Relaxed);
                let at = SystemTime::now();
                *state = SessionState::Held {
                    assumed: assumed.clone(),
                    at,
                };
                drop(state);
                Ok(Route::Member(account, assumed, at))
            }
            // The run's own: not sent, or the caller's credentials ran out.
            Err(error @ (BackendError::NotSent | BackendError::CredentialsExpired(_))) => {
                Err(error)
            }
            Err(error) => {
                *state = SessionState::Central;
                drop(state);
                self.refuse(id, &error);
                drop(probe);
                Ok(Route::Central)
            }
        }
    }

    fn refuse(&self, id: &AccountId, error: &BackendError) {
        let refused = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
        if refused >= SYSTEMIC_REFUSALS && self.assumed.load(Ordering::Relaxed) == 0 {
            let _ = self.abandoned.set(format!(
                "the first {refused} AssumeRole calls were all refused, the first in account {id}: {error}"
            ));
        }
        self.central
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), format!("AssumeRole: {error}"));
    }

    /// After a request the session in it could not make (its credentials
    /// ran out early, or the role may not call the Account API): an expired
    /// session is dropped so the next request assumes a new one; a refused
    /// one sends the account through the caller from now on.
    pub async fn failed_with(&self, id: &AccountId, error: &BackendError) {
        let account = self.account(id);
        let mut state = account.session.lock().await;
        match error {
            BackendError::CredentialsExpired(_) => {
                if matches!(*state, SessionState::Held { .. }) {
                    *state = SessionState::NotAsked;
                }
            }
            _ => {
                *state = SessionState::Central;
                self.central
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(id.clone(), format!("the role's own call: {error}"));
            }
        }
    }

    /// What the run did with the role so far.
    pub fn usage(&self) -> MemberRoleUse {
        let central = self.central.lock().unwrap_or_else(|p| p.into_inner());
        MemberRoleUse {
            role: self.role.to_string(),
            assumed: self.assumed.load(Ordering::Relaxed),
            central: match self.abandoned.get() {
                Some(_) => Vec::new(),
                None => central
                    .iter()
                    .map(|(account, reason)| CentralAccount {
                        account: account.clone(),
                        reason: reason.clone(),
                    })
                    .collect(),
            },
            abandoned: self.abandoned.get().cloned(),
        }
    }
}

/// Whether a session taken `at` is still good for a request `now`.
fn fresh<S>(assumed: &Assumed<S>, at: SystemTime, now: SystemTime) -> bool {
    let Some(expires) = assumed.expires else {
        return true;
    };
    let life = expires.duration_since(at).unwrap_or_default();
    let margin = RENEW_BEFORE.min(life / 4);
    now + margin < expires
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assumed(life: Duration, at: SystemTime) -> Assumed<()> {
        Assumed {
            session: (),
            expires: Some(at + life),
        }
    }

    #[test]
    fn a_session_is_renewed_before_it_expires() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let hour = assumed(Duration::from_secs(3600), at);
        assert!(fresh(&hour, at, at + Duration::from_secs(3200)));
        assert!(!fresh(&hour, at, at + Duration::from_secs(3301)));
        // A short session is renewed with a quarter of its life left.
        let short = assumed(Duration::from_secs(8), at);
        assert!(fresh(&short, at, at + Duration::from_secs(5)));
        assert!(!fresh(&short, at, at + Duration::from_secs(7)));
    }

    #[tokio::test]
    async fn refusals_send_accounts_through_the_caller_and_a_handful_with_none_granted_stop_the_asking()
     {
        let access: MemberAccess<()> = MemberAccess::new(
            RoleName("member".to_owned()),
            Limits::unlimited(),
            Quota::UNLIMITED,
        );
        let gate = Gate::default();
        let stats = RetryStats::default();
        let asked = AtomicUsize::new(0);
        let refuse = || async {
            asked.fetch_add(1, Ordering::Relaxed);
            Err::<Assumed<()>, _>(BackendError::AccessDenied("no role".to_owned()))
        };
        for n in 0..20u64 {
            let id = AccountId::parse(&format!("{:012}", 100_000_000_000 + n)).unwrap();
            let route = access
                .route(&id, &gate, &RetryPolicy::default(), &stats, refuse)
                .await
                .unwrap();
            assert!(matches!(route, Route::Central));
        }
        assert_eq!(asked.load(Ordering::Relaxed), SYSTEMIC_REFUSALS);
        let usage = access.usage();
        assert!(usage.abandoned.is_some(), "{usage:?}");
        assert!(usage.central.is_empty(), "one message, not a list");
    }
}
