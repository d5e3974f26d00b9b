//! Opening the backend a run talks to: the sandbox file, or AWS behind its
//! pacers, with each account through its member role when there is one.

use super::{Connection, Context, Session};
use crate::backend::attempts::RetryPolicy;
use crate::backend::aws::Aws;
use crate::backend::members::MemberAccess;
use crate::backend::quota::{ASSUME_ROLE, Limits, Quota};
use crate::backend::sandbox::Sandbox;
use crate::backend::throttle::Throttled;
use crate::backend::{Backend, Contacts, Identity, Target};
use crate::error::Error;
use crate::model::AccountId;
use crate::settings::{Access, AccessSpec, RateSpec, Rates};

/// What the contacts file says about how to connect: its `rate:` and its
/// `access:` (the defaults when there is no file).
#[derive(Clone, Copy, Debug, Default)]
pub struct FileConnection<'a> {
    pub rate: Option<&'a RateSpec>,
    pub access: Option<&'a AccessSpec>,
}

impl<'a> FileConnection<'a> {
    pub fn of(config: &'a crate::config::Config) -> Self {
        Self {
            rate: Some(&config.rate),
            access: Some(&config.access),
        }
    }
}

impl Context {
    /// Proves the run's AWS credentials before anything they vouch for is
    /// believed: STS accepts a CI's web identity token only once it has
    /// verified it against its issuer's keys, so after this the token's
    /// claims (GitLab's address, the project) are the forge's own. A
    /// sandbox run has no credentials to prove.
    pub async fn confirm_identity(&self) -> Result<(), Error> {
        if let Connection::Aws(options) = &self.connection {
            Aws::connect(options).await.partition().await?;
        }
        Ok(())
    }

    /// Opens the sandbox or AWS, without a request yet: the flags over the
    /// file's settings.
    pub(super) async fn connect(
        &self,
        file: FileConnection<'_>,
    ) -> Result<(Backend, Target, String), Error> {
        let rates = Rates::resolve(file.rate.unwrap_or(&RateSpec::default()), &self.rate_flags);
        let access = Access::resolve(
            file.access.unwrap_or(&AccessSpec::default()),
            &self.access_flags,
        );
        let rate = |rate: Option<crate::settings::Rate>| rate.map(|rate| rate.0);
        Ok(match &self.connection {
            Connection::Sandbox(path) => {
                let sandbox = Sandbox::open(path)?;
                // The file exists now: open() creates it when missing.
                let canonical = std::fs::canonicalize(path).map_err(|source| Error::Read {
                    path: path.display().to_string(),
                    source,
                    help: None,
                })?;
                let limits = Limits::sandbox(rate(rates.get), rate(rates.put), rate(rates.delete));
                let assume = rates.assume.map_or(Quota::UNLIMITED, |assume| {
                    Quota::scaled(ASSUME_ROLE, assume.0)
                });
                let paced = Throttled::new(sandbox, limits, RetryPolicy::default());
                (
                    Backend::Sandbox(Box::new(
                        self.with_members(paced, &access, limits, assume).await?,
                    )),
                    Target::Sandbox { path: canonical },
                    format!("sandbox {}", path.display()),
                )
            }
            Connection::Aws(options) => {
                let aws = Aws::connect(options).await;
                let partition = aws.partition().await?;
                let limits = Limits::aws(
                    partition,
                    rate(rates.get),
                    rate(rates.put),
                    rate(rates.delete),
                );
                let assume = rates
                    .assume
                    .map_or(ASSUME_ROLE, |assume| Quota::scaled(ASSUME_ROLE, assume.0));
                self.ui.verbose(&format!(
                    "rates{}: get {}/s (burst {}), put {}/s (burst {}), delete {}/s (burst {}), \
                     primary get {}/s, primary put {}/s",
                    match access.member_role {
                        Some(_) => format!(" per account, AssumeRole {}/s", assume.rate),
                        None => String::new(),
                    },
                    limits.get.rate,
                    limits.get.burst,
                    limits.put.rate,
                    limits.put.burst,
                    limits.delete.rate,
                    limits.delete.burst,
                    limits.primary_get.rate,
                    limits.primary_put.rate,
                ));
                let paced = Throttled::new(aws, limits, RetryPolicy::default());
                (
                    Backend::Aws(Box::new(
                        self.with_members(paced, &access, limits, assume).await?,
                    )),
                    Target::Aws,
                    Target::Aws.to_string(),
                )
            }
        })
    }

    /// With a member role, every account but the caller's own goes through
    /// it, each at `limits` of its own; `assume` paces AssumeRole.
    async fn with_members<A: Contacts + Identity>(
        &self,
        paced: Throttled<A>,
        access: &Access,
        limits: Limits,
        assume: Quota,
    ) -> Result<Throttled<A>, Error> {
        let Some(role) = &access.member_role else {
            return Ok(paced);
        };
        let caller = paced.caller().await?;
        Ok(paced.with_members(caller, MemberAccess::new(role.clone(), limits, assume)))
    }

    /// Opens the backend and learns the caller's account.
    pub async fn open(&self, file: FileConnection<'_>) -> Result<Session, Error> {
        let (api, target, label) = self.connect(file).await?;
        let caller = api.caller().await?;
        Ok(self.session(api, caller, target, label))
    }

    pub(super) fn session(
        &self,
        api: Backend,
        caller: AccountId,
        target: Target,
        label: String,
    ) -> Session {
        self.ui
            .verbose(&format!("connected to {label} as account {caller}"));
        Session {
            api,
            caller,
            target,
            label,
        }
    }
}
