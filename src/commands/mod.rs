//! One module per command; this one holds what they share: the run's
//! settings, opening the backend, and reading and planning (`pipeline`).

mod apply;
mod audit;
mod export;
mod github;
mod guardrail;
mod pipeline;
mod plan;
mod validate;

use std::io::IsTerminal;

use crate::backend::aws::{Aws, AwsOptions};
use crate::backend::sandbox::Sandbox;
use crate::backend::throttle::{Limits, RetryPolicy, Throttled};
use crate::backend::{Backend, Identity, Target};
use crate::cli::{Cli, ColorChoice, Command, GlobalArgs, SafetyArgs};
use crate::config::{LoadedConfig, RateSpec};
use crate::error::{EXIT_OK, Error};
use crate::interrupt::Interrupts;
use crate::model::{AccountId, Desired, Live, SkipReason, Slot, count};
use crate::plan::{Action, Plan};
use crate::progress::{Progress, Ui, Verbosity};
use crate::render::{Header, Paint};
use crate::safety::SafetyLimits;
use pipeline::Scope;

/// Settings of this run that every command reads.
pub struct Context<'a> {
    pub global: &'a GlobalArgs,
    pub ui: Ui,
    pub paint: Paint,
    /// SIGINT and SIGTERM, listened for from the start of the run.
    pub interrupts: std::sync::Arc<Interrupts>,
}

pub async fn run(cli: &Cli) -> Result<u8, Error> {
    let verbosity = match (cli.global.quiet, cli.global.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        (false, _) => Verbosity::Verbose,
    };
    let ui = Ui::new(verbosity);
    let context = Context {
        global: &cli.global,
        ui,
        paint: Paint(color_enabled(cli.global.color)),
        interrupts: Interrupts::listen(ui),
    };
    match &cli.command {
        Command::Validate(args) => validate::run(&context, args),
        Command::Schema => {
            print!("{}", crate::config::file::json_schema());
            Ok(EXIT_OK)
        }
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut command, "altcontacts", &mut std::io::stdout());
            Ok(EXIT_OK)
        }
        Command::Manpage => {
            let page = clap_mangen::Man::new(<Cli as clap::CommandFactory>::command());
            match page.render(&mut std::io::stdout()) {
                // `altcontacts manpage | head` closes the pipe early: not an error.
                Err(source) if source.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(Error::Write {
                        path: "standard output".to_owned(),
                        source,
                    })
                }
                _ => Ok(EXIT_OK),
            }
        }
        Command::Plan(args) => plan::run(&context, args).await,
        Command::Apply(args) => apply::run(&context, args).await,
        Command::Export(args) => export::run(&context, args).await,
        Command::Audit(args) => audit::run(&context, args).await,
        Command::Guardrail(args) => guardrail::run(args),
        Command::Github(command) => github::run(&context, command).await,
    }
}

/// Loads a contacts file. With `annotate`, its problems are also printed on
/// stdout as GitHub Actions annotations, so each shows on its line of the
/// pull request.
pub fn load_config(path: &std::path::Path, annotate: bool) -> Result<LoadedConfig, Error> {
    LoadedConfig::load(path).map_err(|error| {
        if let (true, crate::config::ConfigError::Problems(problems)) = (annotate, &error) {
            print!("{}", crate::render::annotations::github(problems));
        }
        error.into()
    })
}

/// Whether this run is a step of a GitHub Actions workflow.
pub fn in_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|value| value == "true")
}

/// Colors for stdout: `--color`, else only on a terminal and without NO_COLOR.
fn color_enabled(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
                && std::env::var("TERM").map_or(true, |term| term != "dumb")
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
        }
    }
}

/// What `--base` or `--base-ref` plans against.
pub enum Base {
    File(Box<LoadedConfig>),
    /// The base has no contacts file (the pull request that adds it): no
    /// slot is the same as in the base, so every slot is read.
    Absent {
        described: String,
    },
}

impl Base {
    /// The base from `--base FILE` or `--base-ref REF`, if either was given.
    /// A base file that does not exist, or is empty, and a revision without
    /// the contacts file, are a base with no slot, not an error.
    pub fn load(
        file: Option<&std::path::Path>,
        revision: Option<&str>,
        contacts: &std::path::Path,
    ) -> Result<Option<Base>, Error> {
        if let Some(revision) = revision {
            let label = format!("{}@{revision}", contacts.display());
            return Ok(Some(
                match crate::git::Repository::of(contacts).file_at(revision, contacts)? {
                    Some(text) => Base::File(Box::new(LoadedConfig::parse(&label, text)?)),
                    None => Base::Absent {
                        described: format!("{} does not exist at {revision}", contacts.display()),
                    },
                },
            ));
        }
        let Some(path) = file else {
            return Ok(None);
        };
        let missing = || Base::Absent {
            described: format!(
                "the base file {} does not exist or is empty",
                path.display()
            ),
        };
        match std::fs::read_to_string(path) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Some(missing())),
            Ok(text) if text.trim().is_empty() => Ok(Some(missing())),
            _ => Ok(Some(Base::File(Box::new(LoadedConfig::load(path)?)))),
        }
    }
}

impl Context<'_> {
    /// Opens the sandbox or AWS, without a request yet. `rate` comes from
    /// the contacts file; `--rate` overrides it per operation.
    async fn connect(&self, rate: RateSpec) -> Result<(Backend, Target, String), Error> {
        Ok(match &self.global.sandbox {
            Some(path) => {
                let sandbox = Sandbox::open(path)?;
                // The file exists now: open() creates it when missing.
                let canonical = std::fs::canonicalize(path).map_err(|source| Error::Read {
                    path: path.display().to_string(),
                    source,
                    help: None,
                })?;
                (
                    Backend::Sandbox(Box::new(Throttled::unlimited(sandbox))),
                    Target::Sandbox { path: canonical },
                    format!("sandbox {}", path.display()),
                )
            }
            None => {
                let options = AwsOptions {
                    profile: self.global.profile.clone(),
                    region: self.global.region.clone(),
                    endpoint_url: self.global.endpoint_url.clone(),
                };
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
                let aws = Aws::connect(&options).await;
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
    pub async fn open(&self, rate: RateSpec) -> Result<Session, Error> {
        let (api, target, label) = self.connect(rate).await?;
        let caller = api.caller().await?;
        Ok(self.session(api, caller, target, label))
    }

    fn session(&self, api: Backend, caller: AccountId, target: Target, label: String) -> Session {
        self.ui
            .verbose(&format!("connected to {label} as account {caller}"));
        Session {
            api,
            caller,
            target,
            label,
        }
    }

    fn limits(&self, file: RateSpec) -> Limits {
        let flag = self.global.rate.unwrap_or_default();
        Limits::aws(
            flag.get.or(file.get),
            flag.put.or(file.put),
            flag.delete.or(file.delete),
        )
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

    /// The plan of `request` against live state, the file's warnings shown.
    pub async fn plan(
        &self,
        request: &pipeline::Request<'_>,
        json: bool,
    ) -> Result<(Session, Plan), Error> {
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
                    Action::Delete { .. } => None,
                });
            // The sandbox's addresses are make-believe; AWS's reach someone or no one.
            let on_aws = !reading.session.on_sandbox();
            plan.warnings
                .extend(config.address_warnings(written, on_aws));
        }
        self.show_warnings(&plan.warnings, json);
        Ok((reading.session, plan))
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

    /// The file's warnings, on stderr for a person and, in GitHub Actions,
    /// as annotations on their lines (unless stdout carries JSON).
    pub fn show_warnings(&self, warnings: &[crate::model::Warning], json: bool) {
        for warning in warnings {
            self.ui.note(&warning.to_string());
        }
        if in_github_actions() && !json {
            print!("{}", crate::render::annotations::warnings(warnings));
        }
    }
}

pub fn joined_since_needs_an_organization() -> Error {
    Error::usage(
        "--joined-since needs an `organization:` section: the join times come from AWS Organizations",
        Some("add `organization:` to the file, or run without --joined-since".to_owned()),
    )
}

/// Safety limits with the flags given on the command line over `limits`
/// (the contacts file's, or those recorded in a saved plan).
fn with_flags(limits: SafetyLimits, flags: &SafetyArgs) -> SafetyLimits {
    SafetyLimits {
        max_deletes: flags.max_deletes.unwrap_or(limits.max_deletes),
        max_updates: flags.max_updates.or(limits.max_updates),
        max_update_percent: flags.max_update_percent.or(limits.max_update_percent),
    }
}
