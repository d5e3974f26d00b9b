//! Opening the backend a run talks to: the sandbox file, or AWS behind its
//! pacers.

use super::{Connection, Context, Session};
use crate::backend::attempts::RetryPolicy;
use crate::backend::aws::Aws;
use crate::backend::quota::Limits;
use crate::backend::sandbox::Sandbox;
use crate::backend::throttle::Throttled;
use crate::backend::{Backend, Identity, Target};
use crate::error::Error;
use crate::model::AccountId;
use crate::settings::{RateSpec, Rates};

impl Context {
    /// Opens the sandbox or AWS, without a request yet. `rate` comes from
    /// the contacts file; `--rate` overrides it per operation.
    pub(super) async fn connect(
        &self,
        rate: &RateSpec,
    ) -> Result<(Backend, Target, String), Error> {
        Ok(match &self.connection {
            Connection::Sandbox(path) => {
                let sandbox = Sandbox::open(path)?;
                // The file exists now: open() creates it when missing.
                let canonical = std::fs::canonicalize(path).map_err(|source| Error::Read {
                    path: path.display().to_string(),
                    source,
                    help: None,
                })?;
                let [get, put, delete] = self.rate(rate);
                let limits = Limits::sandbox(get, put, delete);
                (
                    Backend::Sandbox(Box::new(Throttled::new(
                        sandbox,
                        limits,
                        RetryPolicy::default(),
                    ))),
                    Target::Sandbox { path: canonical },
                    format!("sandbox {}", path.display()),
                )
            }
            Connection::Aws(options) => {
                let limits = self.limits(rate);
                self.ui.verbose(&format!(
                    "rates: get {}/s (burst {}), put {}/s (burst {}), delete {}/s (burst {}), \
                     primary get {}/s, primary put {}/s",
                    limits.get.rate,
                    limits.get.burst,
                    limits.put.rate,
                    limits.put.burst,
                    limits.delete.rate,
                    limits.delete.burst,
                    limits.primary_get.rate,
                    limits.primary_put.rate,
                ));
                let aws = Aws::connect(options).await;
                (
                    Backend::Aws(Box::new(Throttled::new(
                        aws,
                        limits,
                        RetryPolicy::default(),
                    ))),
                    Target::Aws,
                    Target::Aws.to_string(),
                )
            }
        })
    }

    /// Opens the backend and learns the caller's account.
    pub async fn open(&self, rate: &RateSpec) -> Result<Session, Error> {
        let (api, target, label) = self.connect(rate).await?;
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

    /// The rates of this run, per second: `--rate` over the file's `rate:`.
    fn rate(&self, file: &RateSpec) -> [Option<f64>; 3] {
        let rates = Rates::resolve(file, &self.rate_flags);
        [rates.get, rates.put, rates.delete].map(|rate| rate.map(|rate| rate.0))
    }

    fn limits(&self, file: &RateSpec) -> Limits {
        let [get, put, delete] = self.rate(file);
        Limits::aws(get, put, delete)
    }
}
