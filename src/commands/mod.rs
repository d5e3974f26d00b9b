//! One module per command; this one holds what they share: the run's
//! settings, opening the backend, and the plan pipeline of DESIGN §3.

mod apply;
mod audit;
mod export;
mod github;
mod plan;
mod validate;

use std::io::IsTerminal;

use crate::backend::aws::{Aws, AwsOptions};
use crate::backend::sandbox::Sandbox;
use crate::backend::throttle::{
    AWS_DELETE, AWS_GET, AWS_PUT, Limits, Quota, RetryPolicy, Throttled,
};
use crate::backend::{Backend, ContactsApi, Listing, Target};
use crate::cli::{Cli, ColorChoice, Command, GlobalArgs, SafetyArgs};
use crate::config::{LoadedConfig, RateSpec};
use crate::error::{EXIT_OK, Error};
use crate::interrupt::Interrupts;
use crate::model::{
    AccountId, AccountStatus, Desired, JoinedWindow, Live, OrgAccount, Organization, SkipReason,
    Slot, Timestamp, count,
};
use crate::plan::Plan;
use crate::progress::{Progress, Ui, Verbosity};
use crate::render::{Header, Paint};
use crate::safety::SafetyLimits;
use futures::StreamExt;

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
    pub fn header(&self) -> Header {
        Header {
            target: self.label.clone(),
            caller: self.caller.clone(),
        }
    }

    pub async fn organization(&self) -> Result<Organization, Error> {
        Ok(self.api.organization(Listing::Flat, None).await?)
    }

    /// The organization's accounts this caller can read, for `audit --org`
    /// and `export --org`: the ACTIVE ones, less the management account
    /// when the caller is a delegated administrator. What is left out is
    /// said on stderr.
    pub async fn accounts_in_reach(&self, ui: &Ui) -> Result<Vec<OrgAccount>, Error> {
        let org = self.organization().await?;
        let inactive = org
            .accounts
            .iter()
            .filter(|account| account.status != AccountStatus::Active)
            .count();
        if inactive > 0 {
            ui.note(&format!(
                "{} not ACTIVE left out",
                count(inactive, "account")
            ));
        }
        let delegated = org.management_account != self.caller;
        if delegated {
            ui.note(&format!(
                "Skipped {}: {}.",
                org.management_account,
                SkipReason::ManagementAccount.explain()
            ));
        }
        Ok(org
            .accounts
            .into_iter()
            .filter(|account| account.status == AccountStatus::Active)
            .filter(|account| !(delegated && account.id == org.management_account))
            .collect())
    }
}

/// Which slots a plan reads.
#[derive(Clone, Copy, Default)]
pub struct Reading<'a> {
    /// Only the slots whose desired value differs from this base's.
    pub base: Option<&'a Base>,
    /// Only the accounts that joined after this time are in scope.
    pub joined_since: Option<Timestamp>,
    /// With a base: every slot of the accounts that joined after this time
    /// too (the GitHub loop's run for new accounts).
    pub new_accounts_since: Option<Timestamp>,
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

/// How much of the organization `config` needs: its tree only to match `units:`.
fn listing_for(config: &LoadedConfig) -> Listing {
    match &config.config.organization {
        Some(layers) if !layers.units.is_empty() => Listing::Tree,
        _ => Listing::Flat,
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
                    "rates: get {}/s (burst {}), put {}/s (burst {}), delete {}/s (burst {})",
                    limits.get.rate,
                    limits.get.burst,
                    limits.put.rate,
                    limits.put.burst,
                    limits.delete.rate,
                    limits.delete.burst
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
        let pick = |default: Quota, flag: Option<f64>, file: Option<f64>| match flag.or(file) {
            Some(rate) => Quota::scaled(default, rate),
            None => default,
        };
        Limits {
            get: pick(AWS_GET, flag.get, file.get),
            put: pick(AWS_PUT, flag.put, file.put),
            delete: pick(AWS_DELETE, flag.delete, file.delete),
        }
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

    fn warn(&self, desired: &Desired) {
        for warning in &desired.warnings {
            self.ui.note(warning);
        }
    }

    fn report_reads(&self, api: &Backend, count: usize, started: std::time::Instant) {
        self.ui.verbose(&format!(
            "read {count} contacts in {:.1} s",
            started.elapsed().as_secs_f64()
        ));
        self.ui
            .verbose(&format!("retried requests: {}", api.stats().total()));
    }

    /// The desired state of `config`, discovering the organization when the
    /// file has an `organization` section; the organization is returned too.
    pub async fn desired(
        &self,
        session: &Session,
        config: &LoadedConfig,
    ) -> Result<(Desired, Option<Organization>), Error> {
        let org = match config.config.organization {
            Some(_) => Some(session.api.organization(listing_for(config), None).await?),
            None => {
                self.refuse_management_from_delegated(session, config)
                    .await?;
                None
            }
        };
        let desired = config.resolve(org.as_ref(), &session.caller)?;
        self.warn(&desired);
        Ok((desired, org))
    }

    /// Opens the backend and makes the plan of `config` against live state.
    /// With `base`, only the slots whose desired value differs from the base
    /// file's are read; without it, an organization's accounts are read as
    /// discovery lists them.
    pub async fn open_and_plan(
        &self,
        config: &LoadedConfig,
        reading: &Reading<'_>,
    ) -> Result<(Session, Plan), Error> {
        let needs_org = reading.joined_since.is_some() || reading.new_accounts_since.is_some();
        if needs_org && config.config.organization.is_none() {
            return Err(joined_since_needs_an_organization());
        }
        let (api, target, label) = self.connect(config.config.rate).await?;
        if config.config.organization.is_some() && reading.base.is_none() {
            let (caller, plan) = self
                .plan_while_discovering(&api, config, reading.joined_since)
                .await?;
            return Ok((self.session(api, caller, target, label), plan));
        }
        let caller = api.caller().await?;
        let session = self.session(api, caller, target, label);
        let plan = self.plan(&session, config, reading).await?;
        Ok((session, plan))
    }

    /// Reads each account's slots as soon as discovery lists it, while the
    /// caller is still being looked up. What is read is decided from the
    /// account alone; the plan is made from the whole organization, as
    /// always, and any slot it needs that was not read yet is read then.
    async fn plan_while_discovering(
        &self,
        api: &Backend,
        config: &LoadedConfig,
        joined_since: Option<Timestamp>,
    ) -> Result<(AccountId, Plan), Error> {
        let started = std::time::Instant::now();
        let progress = Progress::start_growing(&self.ui, "reading contacts");
        let (found, listed) = tokio::sync::mpsc::unbounded_channel();
        let discovery = async move {
            let found = found;
            api.organization(listing_for(config), Some(&found)).await
        };
        let progress = &progress;
        let reads = async move {
            let caller = api.caller().await?;
            // A file that names the management account from a delegated
            // administrator is refused once the whole organization is known;
            // until then nothing is read, as it would be for nothing.
            let refused = |found: &crate::model::Found| {
                found.management_account != caller
                    && config
                        .config
                        .accounts
                        .contains_key(&found.management_account)
            };
            let slots = stream_of(listed)
                .take_while(|found| std::future::ready(!refused(found)))
                .filter(|found| std::future::ready(joined_after(&found.account, joined_since)))
                .flat_map(|found| {
                    let slots = config.slots_of(&found, &caller);
                    progress.grow(slots.len() as u64);
                    futures::stream::iter(slots)
                });
            let answers = crate::live::read(api, slots, &caller, progress).await?;
            Ok::<_, Error>((caller, answers))
        };
        let (org, (caller, mut answers)) =
            futures::try_join!(async { Ok::<_, Error>(discovery.await?) }, reads)?;
        let mut desired = config.resolve(Some(&org), &caller)?;
        self.warn(&desired);
        let window = keep_joined_since(&mut desired, &org, joined_since);
        let unread: Vec<Slot> = desired
            .slots
            .keys()
            .filter(|slot| !answers.contains_key(*slot))
            .cloned()
            .collect();
        if !unread.is_empty() {
            progress.grow(unread.len() as u64);
            let more =
                crate::live::read(api, futures::stream::iter(unread), &caller, progress).await?;
            answers.extend(more);
        }
        progress.finish();
        self.report_reads(api, desired.slots.len(), started);
        let live = crate::live::collect(desired.slots.keys().cloned(), &mut answers, &caller)?;
        let mut plan = crate::plan::diff(&desired, &live);
        plan.joined_since = window;
        Ok((caller, plan))
    }

    /// The plan of `config` against live state. With `base`, only the slots
    /// whose desired value differs from the base file's are read.
    pub async fn plan(
        &self,
        session: &Session,
        config: &LoadedConfig,
        reading: &Reading<'_>,
    ) -> Result<Plan, Error> {
        let (mut desired, mut org) = self.desired(session, config).await?;
        let window = match &org {
            Some(org) => keep_joined_since(&mut desired, org, reading.joined_since),
            None => None,
        };
        let mut slots: Vec<Slot> = match reading.base {
            None => desired.slots.keys().cloned().collect(),
            Some(Base::Absent { described }) => {
                self.ui.note(&format!(
                    "note: {described}, so every managed slot is read, as for a new file."
                ));
                desired.slots.keys().cloned().collect()
            }
            Some(Base::File(base)) => {
                if base.config.organization.is_some() && org.is_none() {
                    org = Some(session.api.organization(listing_for(base), None).await?);
                }
                match base.resolve(org.as_ref(), &session.caller) {
                    Ok(old) => changed_slots(&old, &desired),
                    Err(error) => {
                        self.ui.note(&format!(
                            "note: the base file {} does not resolve against the organization, so every slot is read:\n{error}",
                            base.file
                        ));
                        desired.slots.keys().cloned().collect()
                    }
                }
            }
        };
        if let (Some(since), Some(org)) = (reading.new_accounts_since, &org) {
            let new: std::collections::BTreeSet<&AccountId> = org
                .accounts
                .iter()
                .filter(|account| joined_after(account, Some(since)))
                .map(|account| &account.id)
                .collect();
            let chosen: std::collections::BTreeSet<Slot> = slots.into_iter().collect();
            slots = desired
                .slots
                .keys()
                .filter(|slot| chosen.contains(*slot) || new.contains(&slot.account))
                .cloned()
                .collect();
        }
        let live = self.read(session, slots).await?;
        let mut plan = crate::plan::diff(&desired, &live);
        plan.joined_since = window;
        Ok(plan)
    }
}

/// Whether an account is in a `--joined-since` window. An account whose
/// join time is unknown is not: only what is known to be new is read.
pub fn joined_after(account: &OrgAccount, since: Option<Timestamp>) -> bool {
    since.is_none_or(|since| account.joined.is_some_and(|joined| joined > since))
}

/// Narrows the desired state to the accounts that joined after `since`.
pub fn keep_joined_since(
    desired: &mut Desired,
    org: &Organization,
    since: Option<Timestamp>,
) -> Option<JoinedWindow> {
    let since = since?;
    let new: std::collections::BTreeSet<&AccountId> = org
        .accounts
        .iter()
        .filter(|account| joined_after(account, Some(since)))
        .map(|account| &account.id)
        .collect();
    let older_accounts = desired.retain_accounts(|id| new.contains(id));
    Some(JoinedWindow {
        since,
        older_accounts,
    })
}

pub fn joined_since_needs_an_organization() -> Error {
    Error::usage(
        "--joined-since needs an `organization:` section: the join times come from AWS Organizations",
        Some("add `organization:` to the file, or run without --joined-since".to_owned()),
    )
}

/// The accounts discovery sends, as a stream that ends when discovery does.
fn stream_of<T>(
    mut receiver: tokio::sync::mpsc::UnboundedReceiver<T>,
) -> impl futures::Stream<Item = T> {
    futures::stream::poll_fn(move |context| receiver.poll_recv(context))
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

/// Slots whose desired value is new or differs from the base's. Accounts
/// new to scope have no slot in the base, so all of theirs are included.
fn changed_slots(base: &Desired, current: &Desired) -> Vec<Slot> {
    current
        .slots
        .iter()
        .filter(|(slot, wanted)| {
            base.slots
                .get(*slot)
                .is_none_or(|old| old.wanted != wanted.wanted)
        })
        .map(|(slot, _)| slot.clone())
        .collect()
}
