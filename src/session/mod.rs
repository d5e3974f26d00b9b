//! What every command that reads or writes AWS shares: the run's context
//! (how it talks to the user, its interrupts), opening the backend, and
//! the one way to read (`read`), plan and write (`write`).

mod base;
mod connect;
pub mod read;
mod write;

use std::path::Path;

pub use base::Base;
pub use connect::FileConnection;
pub use read::{Reading, Reads, Request, Scope};
pub use write::{refuse_on_breaches, write};

use crate::backend::aws::AwsOptions;
use crate::backend::{Backend, Target};
use crate::cli::GlobalArgs;
use crate::config::LoadedConfig;
use crate::error::Error;
use crate::interrupt::Interrupts;
use crate::model::{AccountId, Desired, Live, Organization, SkipReason, Slot, count};
use crate::plan::{Action, Plan};
use crate::progress::{Progress, Ui};
use crate::render::{Header, Paint};

/// Settings of this run that every command reads, resolved once from the
/// flags and the environment (the file's settings join them where a
/// command loads the file).
pub struct Context {
    pub connection: Connection,
    /// `--rate`, which overrides the file's `rate:`.
    pub rate_flags: crate::settings::RateArgs,
    /// `--member-role`, which overrides the file's `access:`.
    pub access_flags: crate::settings::AccessArgs,
    pub ui: Ui,
    pub paint: Paint,
    /// SIGINT and SIGTERM, listened for from the start of the run.
    pub interrupts: std::sync::Arc<Interrupts>,
    /// The run is a step of a GitHub Actions workflow, which reads the
    /// file's problems and warnings from stdout as annotations on their
    /// lines (GITHUB_ACTIONS=true). Other forges' reports are the loop's.
    pub annotate: bool,
    /// The key that seals saved plans (ALTCONTACTS_PLAN_KEY): unset, set
    /// but empty (an error wherever a key is used), or a key.
    pub plan_key: crate::planfile::KeySetting,
}

/// The session name of this run's AssumeRole calls, as CloudTrail shows
/// them: the CI's run or job when there is one (`ci_run`, as its CI names
/// it), else the time and process.
fn session_name(ci_run: Option<String>) -> String {
    let ci_run =
        ci_run.filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()));
    let run = ci_run.unwrap_or_else(|| {
        format!(
            "{}-{}",
            crate::model::Timestamp::now().0,
            std::process::id()
        )
    });
    // RoleSessionName: at most 64 of [\w+=,.@-].
    format!("altcontacts-{run}").chars().take(64).collect()
}

/// What a run talks to.
#[derive(Clone, Debug)]
pub enum Connection {
    Sandbox(std::path::PathBuf),
    Aws(AwsOptions),
}

impl Context {
    /// Resolves the global flags once; commands read the result. `ci_run`
    /// is the run's ID in the CI that runs it, if one does.
    pub fn resolve(global: &GlobalArgs, paint: Paint, ci_run: Option<String>) -> Self {
        let verbosity = match (global.quiet, global.verbose) {
            (true, _) => crate::progress::Verbosity::Quiet,
            (false, 0) => crate::progress::Verbosity::Normal,
            (false, _) => crate::progress::Verbosity::Verbose,
        };
        let ui = Ui::new(verbosity);
        let connection = match &global.sandbox {
            Some(path) => Connection::Sandbox(path.clone()),
            None => Connection::Aws(AwsOptions {
                profile: global.profile.clone(),
                region: global.region.clone(),
                endpoint_url: global.endpoint_url.clone(),
                session_name: session_name(ci_run),
            }),
        };
        Self {
            connection,
            rate_flags: global.rate.clone(),
            access_flags: global.access.clone(),
            ui,
            paint,
            interrupts: Interrupts::listen(ui),
            annotate: std::env::var("GITHUB_ACTIONS").is_ok_and(|value| value == "true"),
            plan_key: crate::planfile::KeySetting::from_env(),
        }
    }
}

/// An open backend and who we are on it.
pub struct Session {
    pub api: Backend,
    pub caller: AccountId,
    pub target: Target,
    /// The target as the user named it, for headers.
    pub label: String,
}

impl Session {
    /// Whether this run talks to a sandbox file, whose addresses are
    /// make-believe, rather than AWS.
    pub fn on_sandbox(&self) -> bool {
        matches!(self.target, Target::Sandbox { .. })
    }

    pub fn header(&self) -> Header {
        Header {
            target: self.label.clone(),
            caller: self.caller.clone(),
            member_role: crate::backend::Paced::member_role(&self.api),
        }
    }
}

/// Loads a contacts file. With `annotate`, its problems are also printed on
/// stdout as GitHub Actions annotations, so each shows on its line of the
/// pull request.
pub fn load_config(path: &Path, annotate: bool) -> Result<LoadedConfig, Error> {
    LoadedConfig::load(path).map_err(|error| {
        if let (true, crate::config::ConfigError::Problems(problems)) = (annotate, &error) {
            crate::render::annotations::print(&crate::render::annotations::github(problems));
        }
        error.into()
    })
}

impl Context {
    /// The contacts file, its problems annotated where the CI reads them.
    pub fn load_config(&self, path: &Path) -> Result<LoadedConfig, Error> {
        load_config(path, self.annotate)
    }

    /// Reads the slots with progress on stderr.
    pub async fn read(&self, session: &Session, slots: Vec<Slot>) -> Result<Live, Error> {
        let progress = Progress::start(&self.ui, "reading contacts", slots.len() as u64);
        let started = std::time::Instant::now();
        let count = slots.len();
        let live = crate::live::fetch(&session.api, slots, &session.caller, &progress).await;
        progress.finish();
        self.report_reads(&session.api, count, started);
        live
    }

    fn report_reads(&self, api: &Backend, count: usize, started: std::time::Instant) {
        self.ui.verbose(&format!(
            "read {count} contacts in {:.1} s",
            started.elapsed().as_secs_f64()
        ));
        self.ui
            .verbose(&format!("retried requests: {}", api.stats().total()));
    }

    /// The plan of `request` against live state, with the file's warnings
    /// (for the caller to show, as its output allows), and the organization
    /// as it was listed (which a saved plan records).
    pub async fn plan(
        &self,
        request: &Request<'_>,
    ) -> Result<(Session, Plan, Option<Organization>), Error> {
        let reading = self.read_scope(request).await?;
        let mut plan = crate::plan::diff(&reading.desired, &reading.live);
        if let Scope::File(config) = &request.scope {
            let written = plan
                .changes
                .iter()
                .filter_map(|change| match &change.action {
                    Action::Create { after } | Action::Update { after, .. } => after
                        .as_alternate()
                        .map(|contact| contact.email_address.as_str()),
                    Action::Delete { .. } | Action::Subscribe { .. } => None,
                });
            // The sandbox's addresses are make-believe; AWS's reach someone or no one.
            let on_aws = !reading.session.on_sandbox();
            plan.warnings
                .extend(config.address_warnings(written, on_aws));
        }
        Ok((reading.session, plan, reading.organization))
    }

    /// What `--org` leaves out of the organization, said on stderr: the
    /// accounts that are not ACTIVE, and the management account when the
    /// caller is a delegated administrator.
    pub fn note_left_out(&self, desired: &Desired) {
        let inactive = desired
            .skipped
            .iter()
            .filter(|skipped| skipped.reason == SkipReason::NotActive)
            .count();
        if inactive > 0 {
            self.ui.note(&format!(
                "{} not ACTIVE left out",
                count(inactive, "account")
            ));
        }
        for skipped in desired
            .skipped
            .iter()
            .filter(|skipped| skipped.reason == SkipReason::ManagementAccount)
        {
            self.ui.note(&format!(
                "Skipped {}: {}.",
                skipped.id,
                skipped.reason.explain()
            ));
        }
    }

    /// The file's warnings, on stderr for a person.
    pub fn note_warnings(&self, warnings: &[crate::model::Warning]) {
        for warning in warnings {
            self.ui.note(&warning.to_string());
        }
    }

    /// The file's warnings, on stderr for a person and, in GitHub Actions,
    /// as annotations on their lines (unless stdout carries JSON).
    pub fn show_warnings(&self, warnings: &[crate::model::Warning], json: bool) {
        self.note_warnings(warnings);
        if self.annotate && !json {
            crate::render::annotations::print(&crate::render::annotations::warnings(warnings));
        }
    }
}

pub fn joined_since_needs_an_organization() -> Error {
    Error::usage(
        "--joined-since needs an `organization:` section: the join times come from AWS Organizations",
        Some("add `organization:` to the file, or run without --joined-since".to_owned()),
    )
}
