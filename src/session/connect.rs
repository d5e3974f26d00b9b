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
    /// Proves that AWS took the job's web identity token as `role` before
    /// anything that token says is believed: STS accepts a CI's token only
    /// once it has verified it against its issuer's keys, so after this
    /// its claims (GitLab's address, the project) are the forge's own. AWS
    /// answering as anyone else (keys from the environment, a profile, the
    /// runner's instance) vouches for nothing; nor does a sandbox.
    pub async fn confirm_web_identity(&self, role: &str) -> Result<(), Error> {
        let Connection::Aws(options) = &self.connection else {
            return Err(Error::usage(
                "the loop on GitLab runs against AWS: GitLab's address is read from the job's ID token, which only AWS can vouch for",
                Some("run it without --sandbox, as the component does".to_owned()),
            ));
        };
        let arn = Aws::connect(options).await.caller_arn().await?;
        let wanted = role.rsplit('/').next().unwrap_or(role);
        let assumed = arn
            .split(':')
            .nth(5)
            .and_then(|resource| resource.strip_prefix("assumed-role/"))
            .and_then(|rest| rest.split('/').next());
        if assumed != Some(wanted) {
            return Err(Error::usage(
                format!(
                    "AWS answered as {arn}, not as the role {role} the job's ID token is for: the credentials came from elsewhere, so nothing the token says is believed"
                ),
                Some(
                    "let the job's AWS credentials come from its ID token alone (no AWS_ACCESS_KEY_ID, profile or instance role), as the component sets it up"
                        .to_owned(),
                ),
            ));
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
                // A mistyped name would otherwise be a new organization, silently.
                if sandbox.created() {
                    self.ui.note(&format!(
                        "Created the sandbox {}: a demo organization that matches contacts.example.yaml, read and written by every --sandbox run (delete it to start again).",
                        crate::printable::printable(&path.display().to_string())
                    ));
                }
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
