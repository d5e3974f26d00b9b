//! The command line, as clap derive definitions.

use std::path::PathBuf;

use crate::model::{AccountId, Duration, Timestamp};
pub use crate::render::apply::ApplyFormat;
pub use crate::render::audit::AuditFormat;
pub use crate::render::{Compact, PlanFormat};
pub use crate::settings::SafetyArgs;
use crate::settings::{AccessArgs, RateArgs};
use clap::error::ErrorKind;
use clap::{ArgAction, ArgMatches, Args, FromArgMatches, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  altcontacts --sandbox demo-aws.yaml plan -f contacts.example.yaml
                                          try it without AWS (a local demo organization)
  altcontacts validate                    check ./contacts.yaml offline
  altcontacts plan --detailed-exitcode --format markdown --out plan.json
                                          in a pull request: exit 2 when something would change
  altcontacts apply plan.json             apply exactly the reviewed plan
  altcontacts apply --auto-approve        plan and apply in one step (CI on merge)
  altcontacts export --org -o contacts.yaml
                                          adopt an existing organization
  altcontacts audit --org                 is a SECURITY contact registered everywhere?
  altcontacts guardrail --allow-role arn:aws:iam::111111111111:role/altcontacts-apply
                                          the SCP that lets only the pipeline change contacts

Exit codes: 0 success or no changes, 1 error, 2 changes found (plan --detailed-exitcode)
or findings (audit), 3 apply refused (stale plan, safety limit, no approval).";

/// The version and the git commit the binary was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("ALTCONTACTS_GIT_COMMIT"),
    ")"
);

// `F` is the forges the loop runs on (`gitops::registry`): a parameter,
// not a list here, because the loop reads its arguments from this file and
// so stands above it. (Not a doc comment: those are the help.)

/// Keeps AWS account alternate contacts (SECURITY, BILLING, OPERATIONS) and
/// the primary contact in the state a YAML file declares.
#[derive(Debug, Parser)]
#[command(name = "altcontacts", version = VERSION, after_help = EXAMPLES, max_term_width = 100)]
pub struct Cli<F: ForgeChoice> {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command<F>,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Use a local YAML file instead of AWS (created with a demo organization when missing)
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        help_heading = "AWS connection"
    )]
    pub sandbox: Option<PathBuf>,
    /// AWS profile to use (default: the standard AWS configuration chain)
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        help_heading = "AWS connection"
    )]
    pub profile: Option<String>,
    /// AWS region for the API calls (default: configured region, else us-east-1)
    #[arg(
        long,
        global = true,
        value_name = "REGION",
        help_heading = "AWS connection"
    )]
    pub region: Option<String>,
    /// Send every AWS request to this endpoint (also AWS_ENDPOINT_URL)
    #[arg(
        long,
        global = true,
        value_name = "URL",
        help_heading = "AWS connection"
    )]
    pub endpoint_url: Option<String>,
    #[command(flatten)]
    pub rate: RateArgs,
    #[command(flatten)]
    pub access: AccessArgs,
    /// When to color the output
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", help_heading = "Output")]
    pub color: ColorChoice,
    /// Say more on stderr (progress lines, retries)
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "quiet", help_heading = "Output")]
    pub verbose: u8,
    /// Say nothing on stderr but errors
    #[arg(short, long, global = true, help_heading = "Output")]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command<F: ForgeChoice> {
    /// Check a contacts file offline: format, AWS's field rules, references. No AWS call.
    Validate(ValidateArgs),
    /// Show what would change to make the live contacts match the file
    Plan(PlanArgs),
    /// Make the live contacts match the file, or apply a saved plan exactly
    Apply(ApplyArgs),
    /// Write a contacts file from the live contacts (to adopt existing accounts)
    Export(ExportArgs),
    /// Check every account has SECURITY, BILLING and OPERATIONS contacts that are current,
    /// distinct and deliverable, and that a service control policy keeps them from change
    Audit(AuditArgs),
    /// Print a saved plan (plan -o PLAN) in any format, as it will be applied. No AWS call.
    Show(ShowArgs),
    /// Print a service control policy that lets only the named roles change contacts
    Guardrail(GuardrailArgs),
    /// Print the CloudFormation template of the member role --member-role assumes, for a
    /// service-managed StackSet
    MemberRole(MemberRoleArgs),
    /// Print the CloudFormation template that starts the new-accounts
    /// pipeline when AWS says an account was created, joined or moved (for
    /// the management account, in us-east-1)
    Events(EventsArgs<F>),
    #[command(flatten)]
    Loop(ForgeStep<F>),
    /// Print the JSON Schema of the contacts file, or of the JSON a command prints
    Schema {
        #[arg(value_enum, default_value_t = SchemaOf::Contacts)]
        of: SchemaOf,
    },
    /// Print shell completions (bash, zsh, fish, powershell, elvish)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write every command's page to a folder
    Manpage {
        /// Write `altcontacts.1` and one page per command (`altcontacts-plan.1`,
        /// ..., the pages the main page refers to) into DIR
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// The commands that make no AWS call: the AWS connection flags are not
/// theirs to take.
pub const OFFLINE_COMMANDS: [&str; 8] = [
    "validate",
    "show",
    "schema",
    "completions",
    "manpage",
    "guardrail",
    "member-role",
    "events",
];

/// The help heading of the flags that say how AWS is reached.
const AWS_CONNECTION: &str = "AWS connection";

impl<F: ForgeChoice> Cli<F>
where
    Self: clap::CommandFactory + FromArgMatches,
{
    /// The command line as it is parsed, helped and documented: the
    /// derive's, with the AWS connection flags taken off the commands that
    /// make no AWS call. Given there anyway, such a flag is refused with
    /// what to do, not taken and ignored.
    pub fn described() -> clap::Command {
        let mut command = <Self as clap::CommandFactory>::command();
        let connection = connection_flags(&command);
        for name in OFFLINE_COMMANDS {
            // Its own, hidden: a global flag of the same name is then not
            // offered here (clap propagates none over it). Given, its value
            // still reaches the global one, which `parse_described` refuses.
            let refused: Vec<clap::Arg> = connection
                .iter()
                .map(|arg| arg.clone().global(false).hide(true))
                .collect();
            command = command.mut_subcommand(name, |sub| {
                // A command's own argument of the same name (guardrail's
                // member role) already keeps the global one off it.
                let own: Vec<clap::Arg> = refused
                    .into_iter()
                    .filter(|arg| {
                        sub.get_arguments()
                            .all(|mine| mine.get_id() != arg.get_id())
                    })
                    .collect();
                sub.args(own)
            });
        }
        command
    }

    /// Parses `args` (the program's name first) against
    /// [`Self::described`]. An AWS connection flag given before a command
    /// that makes no AWS call is refused here, as one given after it is.
    pub fn parse_described<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let mut command = Self::described();
        let matches = command.try_get_matches_from_mut(args)?;
        let cli = Self::from_arg_matches(&matches).map_err(|error| error.format(&mut command))?;
        let offline = matches
            .subcommand_name()
            .filter(|name| OFFLINE_COMMANDS.contains(name));
        // Given after the command too, a flag's value reaches the global
        // one: the command line's own matches say which were given.
        let given = connection_flags(&command).into_iter().find(|arg| {
            matches.value_source(arg.get_id().as_str())
                == Some(clap::parser::ValueSource::CommandLine)
        });
        if let (Some(name), Some(flag)) = (offline, given) {
            return Err(command.error(
                ErrorKind::ArgumentConflict,
                format!(
                    "`{name}` makes no AWS call: leave out --{}",
                    flag.get_long().unwrap_or_default()
                ),
            ));
        }
        Ok(cli)
    }
}

/// The flags that say how AWS is reached: the global ones under the
/// "AWS connection" heading.
fn connection_flags(command: &clap::Command) -> Vec<clap::Arg> {
    command
        .get_arguments()
        .filter(|arg| arg.is_global_set() && arg.get_help_heading() == Some(AWS_CONNECTION))
        .cloned()
        .collect()
}

/// The contacts file every command reads unless `-f` names another.
pub const DEFAULT_FILE: &str = "contacts.yaml";

/// `-f/--file`, as every command that reads a contacts file takes it.
#[derive(Debug, Args)]
pub struct FileArg {
    /// The contacts file [default: contacts.yaml]
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        help_heading = "What to read"
    )]
    pub file: Option<PathBuf>,
}

impl FileArg {
    /// The file named, or the default one.
    pub fn path(&self) -> PathBuf {
        self.file
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_FILE))
    }
}

/// `--base-ref REF`.
#[derive(Debug, Args)]
pub struct BaseRef {
    /// Read only the slots whose desired value differs from the file at git
    /// revision REF (e.g. origin/main), and accounts new to scope; a
    /// revision without the file has no slot: everything is new [in the
    /// loop's plan, the request's base: on GitHub the first parent of the
    /// merge commit it checks out, on GitLab CI_MERGE_REQUEST_DIFF_BASE_SHA,
    /// on Bitbucket BITBUCKET_PR_DESTINATION_COMMIT]
    #[arg(long, value_name = "REF", help_heading = "What to read")]
    pub base_ref: Option<String>,
}

/// `--joined-since TIME`.
#[derive(Debug, Args)]
pub struct JoinedSince {
    /// Only accounts that joined the organization after TIME (RFC 3339, or a
    /// duration back from now: 90m, 2h, 7d); no other account is read
    #[arg(long, value_name = "TIME", value_parser = parse_joined_since, help_heading = "What to read")]
    pub joined_since: Option<Timestamp>,
}

/// `--compact [WHEN]`: the human plan one line a change.
#[derive(Debug, Args)]
pub struct CompactArg {
    /// One line a change instead of a block of fields: `always` (the flag
    /// alone), `never`, or `auto` (above 1,000 changes)
    #[arg(long, value_enum, value_name = "WHEN", num_args = 0..=1, default_value_t = Compact::Auto, default_missing_value = "always", help_heading = "Output")]
    pub compact: Compact,
}

/// `altcontacts show PLAN`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A plan saved with `plan -o PLAN`
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value_t = PlanFormat::Human, help_heading = "Output")]
    pub format: PlanFormat,
    #[command(flatten)]
    pub compact: CompactArg,
}

/// `--detailed-exitcode`.
#[derive(Debug, Args)]
pub struct DetailedExitcode {
    /// Exit 2 when AWS differs from the file (there are changes to make), 0
    /// when it matches
    #[arg(long, help_heading = "Output")]
    pub detailed_exitcode: bool,
}

impl DetailedExitcode {
    /// The exit of a run that found AWS to differ from the file, or not.
    pub fn exit(&self, differs: bool) -> u8 {
        if self.detailed_exitcode && differs {
            crate::error::EXIT_CHANGES
        } else {
            crate::error::EXIT_OK
        }
    }
}

/// Which slots of the file's scope a plan reads: those a change touches
/// (`--base`, `--base-ref`), the accounts that joined lately, one account.
#[derive(Debug, Args)]
pub struct Selection {
    /// Read only the slots whose desired value differs from this older file
    /// (and accounts new to scope): a plan that costs what the change costs.
    /// A base that does not exist has no slot: every slot is read.
    #[arg(
        long,
        value_name = "OLD_FILE",
        conflicts_with = "base_ref",
        help_heading = "What to read"
    )]
    pub base: Option<PathBuf>,
    #[command(flatten)]
    pub base_ref: BaseRef,
    #[command(flatten)]
    pub joined_since: JoinedSince,
    #[command(flatten)]
    pub one: OneAccount,
}

/// Where the GitOps loop keeps the full plan when a note cannot hold it.
pub const DEFAULT_ARTIFACT: &str = "altcontacts-plan";

/// The steps of the GitOps loop, the same on every forge.
#[derive(Debug, Subcommand)]
pub enum LoopCommand {
    /// In a pull or merge request: plan the change against the request's
    /// base, show it in one comment (with --comment), edited on every push,
    /// and in the job summary where the CI has one
    Plan(ReviewPlanArgs),
    /// On the default branch: apply everything merged since the last apply
    /// that fully succeeded, and record this one when it does
    Apply(LoopApplyArgs),
    /// Nightly: plan every managed contact and keep one issue open while AWS
    /// differs from the file; with --mode repair, apply too
    Drift(LoopDriftArgs),
}

/// `altcontacts NAME plan|apply|drift`: a step of the loop on the forge
/// whose CI runs it.
#[derive(Debug)]
pub struct ForgeStep<F> {
    pub forge: F,
    pub command: LoopCommand,
}

impl<F: ForgeChoice> ForgeStep<F> {
    fn forge(name: &str) -> Option<F> {
        F::value_variants()
            .iter()
            .copied()
            .find(|forge| forge.name() == name)
    }
}

// By hand, because a derive wants a variant per forge. Each forge's
// subcommand is built as the derive builds `#[command(subcommand)]
// Name(LoopCommand)`, so its help and parsing are any subcommand's.
impl<F: ForgeChoice> Subcommand for ForgeStep<F> {
    fn augment_subcommands(command: clap::Command) -> clap::Command {
        F::value_variants().iter().fold(command, |command, forge| {
            let steps = clap::Command::new(forge.name())
                .subcommand_required(true)
                .arg_required_else_help(true);
            let steps = LoopCommand::augment_subcommands(steps);
            command.subcommand(steps.about(forge.about()).long_about(None))
        })
    }

    fn augment_subcommands_for_update(command: clap::Command) -> clap::Command {
        F::value_variants().iter().fold(command, |command, forge| {
            let steps =
                LoopCommand::augment_subcommands_for_update(clap::Command::new(forge.name()));
            command.subcommand(
                steps
                    .about(forge.about())
                    .long_about(None)
                    .subcommand_required(false)
                    .arg_required_else_help(false),
            )
        })
    }

    fn has_subcommand(name: &str) -> bool {
        Self::forge(name).is_some()
    }
}

impl<F: ForgeChoice> FromArgMatches for ForgeStep<F> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut matches.clone())
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        let Some((name, mut steps)) = matches.remove_subcommand() else {
            return Err(clap::Error::raw(
                ErrorKind::MissingSubcommand,
                "a subcommand is required but one was not provided",
            ));
        };
        let forge = Self::forge(&name).ok_or_else(|| {
            clap::Error::raw(
                ErrorKind::InvalidSubcommand,
                format!("the subcommand '{name}' wasn't recognized"),
            )
        })?;
        Ok(Self {
            forge,
            command: LoopCommand::from_arg_matches_mut(&mut steps)?,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

#[derive(Debug, Args)]
pub struct ReviewPlanArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub base_ref: BaseRef,
    /// Plan every managed contact, not only what the change touches (finds
    /// drift too, at 3 reads per account)
    #[arg(long, conflicts_with = "base_ref", help_heading = "What to read")]
    pub full: bool,
    /// Post the plan as one comment on the request, edited in place
    #[arg(long, help_heading = "Output")]
    pub comment: bool,
    /// Where the full plan is kept, named where a plan is too big to show
    /// whole: the artifact's name on GitHub, the folder of the job's
    /// artifacts on GitLab and of the step's on Bitbucket
    #[arg(long, value_name = "NAME", default_value = DEFAULT_ARTIFACT, help_heading = "Output")]
    pub artifact: String,
    #[command(flatten)]
    pub detailed: DetailedExitcode,
    #[command(flatten)]
    pub safety: SafetyArgs,
}

#[derive(Debug, Args)]
pub struct LoopApplyArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Apply every managed contact, not only what changed since the last
    /// recorded apply
    #[arg(long, conflicts_with = "account", help_heading = "What to read")]
    pub full: bool,
    /// Also every contact of the accounts that joined the organization
    /// after TIME (RFC 3339, or 90m, 2h, 7d back from now), beside what
    /// changed
    #[arg(long = "joined-since", alias = "new-accounts-since", value_name = "TIME", value_parser = parse_joined_since, conflicts_with_all = ["full", "account"], help_heading = "What to read")]
    pub new_accounts_since: Option<Timestamp>,
    /// The event's account: every contact of this account only, written and
    /// recorded, so the schedule does not do it again
    #[command(flatten)]
    pub new_account: OneAccount,
    /// The event's payload, a JSON file whose `account_id` names the
    /// account (GitLab's TRIGGER_PAYLOAD, from the webhook form of a
    /// pipeline trigger). Nothing else in it is read. Without an account,
    /// as --joined-since says
    #[arg(long, value_name = "FILE", conflicts_with_all = ["full", "account"], help_heading = "What to read")]
    pub event_payload: Option<std::path::PathBuf>,
    /// The deployment environment the applies are recorded in
    #[arg(long, value_name = "NAME", default_value = DEFAULT_ENVIRONMENT, help_heading = "Applying")]
    pub environment: String,
    /// Apply even when a safety limit is exceeded
    #[arg(long, help_heading = "Applying")]
    pub force: bool,
    #[command(flatten)]
    pub safety: SafetyArgs,
}

/// `--account`: one account only, as an event names it.
#[derive(Debug, Args)]
pub struct OneAccount {
    /// Only this account: its slots from the file's layers (its entry, the
    /// unit it is in now, the defaults), read and written, no other account
    /// read. It must be an ACTIVE account of the organization, or one the
    /// file lists
    #[arg(long = "account", value_name = "ACCOUNT_ID", value_parser = AccountId::given, help_heading = "What to read")]
    pub account: Option<AccountId>,
}

/// The deployment environment the loop records its applies in.
pub const DEFAULT_ENVIRONMENT: &str = "altcontacts";

#[derive(Debug, Args)]
pub struct LoopDriftArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// What to do when AWS differs from the file: `report` keeps one issue
    /// open while it does; `repair` also writes AWS back to the file (and
    /// records the apply), then closes the issue
    #[arg(long, value_enum, env = "ALTCONTACTS_DRIFT", default_value_t = DriftMode::Report, help_heading = "Drift")]
    pub mode: DriftMode,
    /// The label of the drift issue
    #[arg(
        long,
        value_name = "NAME",
        default_value = "altcontacts-drift",
        help_heading = "Drift"
    )]
    pub label: String,
    /// The deployment environment the applies are recorded in
    #[arg(long, value_name = "NAME", default_value = DEFAULT_ENVIRONMENT, help_heading = "Drift")]
    pub environment: String,
    #[command(flatten)]
    pub detailed: DetailedExitcode,
    /// With `--mode repair`: apply even when a safety limit is exceeded
    #[arg(long, help_heading = "Drift")]
    pub force: bool,
    #[command(flatten)]
    pub safety: SafetyArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DriftMode {
    /// Keep one issue open while AWS differs from the file
    Report,
    /// Write the file's contacts back to AWS, then close the issue
    Repair,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Output format: `github` prints one `::error file=…,line=…,col=…::`
    /// annotation per problem, `json` every problem as data
    #[arg(long, value_enum, default_value_t = ValidateFormat::Human, help_heading = "Output")]
    pub format: ValidateFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    Human,
    /// GitHub Actions workflow commands: each problem on its line of the pull request
    Github,
    /// Every problem with its line, column and path, as versioned JSON
    Json,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Save the plan, for `altcontacts apply PLAN` (`-o`, `--output` and
    /// `--out` are one flag, as on `export` and `audit`)
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "out",
        value_name = "PLAN",
        help_heading = "Output"
    )]
    pub out: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = PlanFormat::Human, help_heading = "Output")]
    pub format: PlanFormat,
    #[command(flatten)]
    pub compact: CompactArg,
    #[command(flatten)]
    pub detailed: DetailedExitcode,
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub safety: SafetyArgs,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub compact: CompactArg,
    /// Apply without asking for confirmation
    #[arg(long, help_heading = "Applying")]
    pub auto_approve: bool,
    /// Apply even when a safety limit is exceeded
    #[arg(long, help_heading = "Applying")]
    pub force: bool,
    #[command(flatten)]
    pub safety: SafetyArgs,
    #[command(flatten)]
    pub selection: Selection,
    /// A plan saved with `plan --out`: apply exactly its changes, or refuse if
    /// any of their slots changed since; `-f` is then only checked to be the
    /// file the plan was made from
    #[arg(value_name = "PLAN", help_heading = "Applying", conflicts_with_all = ["account", "base", "base_ref", "joined_since"])]
    pub plan: Option<PathBuf>,
    /// With PLAN: refuse a plan made longer ago than this (90m, 2h, 7d), or
    /// more than 5 minutes in this clock's future
    #[arg(long, value_name = "DURATION", value_parser = Duration::parse, default_value_t = crate::planfile::DEFAULT_MAX_AGE, requires = "plan", help_heading = "Applying")]
    pub max_plan_age: Duration,
    /// With PLAN: refuse to run without a plan key in ALTCONTACTS_PLAN_KEY,
    /// and so refuse a plan not sealed with it
    #[arg(long, requires = "plan", help_heading = "Applying")]
    pub require_plan_key: bool,
    /// Output format: `json` prints the plan to stderr and, on stdout, a
    /// versioned report of every change's outcome
    #[arg(long, value_enum, default_value_t = ApplyFormat::Human, help_heading = "Output")]
    pub format: ApplyFormat,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Export every ACTIVE account of the organization, with org-wide defaults
    #[arg(long, conflicts_with = "accounts", help_heading = "What to read")]
    pub org: bool,
    /// An account to export; given again for more [default: the caller's
    /// own account]
    #[arg(
        long = "account",
        value_name = "ACCOUNT_ID",
        help_heading = "What to read"
    )]
    pub accounts: Vec<String>,
    /// Accounts as older releases took them, without --account: refused
    /// with the spelling of today
    #[arg(value_name = "ACCOUNT_ID", hide = true, value_parser = account_without_flag)]
    pub without_flag: Vec<String>,
    /// Write to this file instead of stdout
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "out",
        value_name = "FILE",
        help_heading = "Output"
    )]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Audit every ACTIVE account of the organization, without a contacts file
    #[arg(long, conflicts_with = "file", help_heading = "What to read")]
    pub org: bool,
    #[command(flatten)]
    pub joined_since: JoinedSince,
    /// Only this account, of the file's scope or (with --org) of the
    /// organization; no other account is read
    #[arg(long = "account", value_name = "ACCOUNT_ID", value_parser = AccountId::given, conflicts_with = "joined_since", help_heading = "What to read")]
    pub account: Option<AccountId>,
    /// Output format [default: human, or each --output's by its name]: html
    /// is a report to read in a browser, csv one row per finding, ocsf is
    /// OCSF Detection Findings (class 2004), sarif is SARIF 2.1.0 for code
    /// scanning
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<AuditFormat>,
    /// Write the report to this file instead of stdout. Repeat for several
    /// formats from one audit, each by its name: `.html`, `.csv`, `.sarif`,
    /// `.ocsf.json`, `.json`, `.md`, `.txt`
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "out",
        value_name = "FILE",
        help_heading = "Output"
    )]
    pub output: Vec<PathBuf>,
    /// Also send the findings to AWS Security Hub (BatchImportFindings) in
    /// the run's region; findings fixed since the last run are resolved
    /// there, so it takes the whole scope, not one account or the newest
    #[arg(long, conflicts_with_all = ["account", "joined_since"], help_heading = "Output")]
    pub security_hub: bool,
    /// A domain every contact address and root email must be on (its
    /// subdomains too); repeat for several. Replaces the file's
    /// `audit.email_domains`
    #[arg(long = "email-domain", value_name = "DOMAIN", value_parser = parse_domain, help_heading = "Deliverability")]
    pub email_domains: Vec<String>,
    #[command(flatten)]
    pub dns: DnsArgs,
    /// The least severe finding that makes the exit code 2: `high` passes
    /// a run with medium and low findings (they are still reported)
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = FailOn::Low, help_heading = "Output")]
    pub fail_on: FailOn,
    /// A file of accepted findings (`mute:`, as `audit.mute` in the
    /// contacts file takes them), beside the contacts file's own
    #[arg(long, value_name = "FILE", help_heading = "What to read")]
    pub mute: Option<PathBuf>,
}

/// `audit --fail-on`: the severity from which findings fail the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    High,
    Medium,
    Low,
}

impl FailOn {
    pub fn fails(self, severity: crate::audit::Severity) -> bool {
        use crate::audit::Severity;
        let threshold = match self {
            Self::High => Severity::High,
            Self::Medium => Severity::Medium,
            Self::Low => Severity::Low,
        };
        // High sorts first: a finding fails the run when it is at least as severe.
        severity <= threshold
    }
}

/// How the audit asks DNS whether each domain accepts mail.
#[derive(Debug, Args)]
pub struct DnsArgs {
    /// Do not ask DNS whether each domain accepts mail
    #[arg(long, env = "ALTCONTACTS_NO_DNS", value_parser = clap::builder::FalseyValueParser::new(), help_heading = "Deliverability")]
    pub no_dns: bool,
    /// The DNS server to ask (IP or IP:PORT) [default: the system's resolvers]
    #[arg(long, value_name = "ADDR", env = "ALTCONTACTS_DNS_SERVER", value_parser = parse_dns_server, help_heading = "Deliverability")]
    pub dns_server: Option<std::net::SocketAddr>,
    /// Seconds to wait for each DNS answer
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0, value_parser = parse_dns_timeout, help_heading = "Deliverability")]
    pub dns_timeout: f64,
}

/// `altcontacts guardrail`.
#[derive(Debug, Args)]
pub struct GuardrailArgs {
    /// A role that may still change contacts: the pipeline's apply role
    /// (arn:aws:iam::ACCOUNT:role/NAME; `*` and `?` allowed in the name).
    /// Repeat for several
    #[arg(long = "allow-role", value_name = "ARN", required = true)]
    pub allow_roles: Vec<String>,
    /// The member role runs use (`--member-role`): it may change its own
    /// account's contacts, and only the StackSet may make, change or
    /// re-trust a role of that name in any account
    #[arg(id = "allow_member_role", long = "allow-member-role", value_name = "NAME", value_parser = crate::settings::parse_flag::<crate::settings::RoleName>)]
    pub member_role: Option<crate::settings::RoleName>,
}

/// `altcontacts events`. What each flag names, and for which forge, is
/// the forges' own (`ForgeChoice::events`).
#[derive(Debug, Args)]
pub struct EventsArgs<F: ForgeChoice> {
    /// The forge whose pipeline the events start
    #[arg(long, value_enum)]
    pub forge: F,
    #[arg(
        long,
        value_name = "OWNER/NAME",
        help = target_help::<F>(EventsTarget::Repository),
        required_if_eq_any(requiring::<F>(EventsTarget::Repository)),
        conflicts_with = "project"
    )]
    pub repository: Option<String>,
    #[arg(
        long,
        value_name = "ID",
        help = target_help::<F>(EventsTarget::Project),
        required_if_eq_any(requiring::<F>(EventsTarget::Project))
    )]
    pub project: Option<String>,
    #[arg(long = "ref", value_name = "BRANCH", default_value = "main", help = ref_help::<F>())]
    pub git_ref: String,
    #[arg(long, value_name = "URL", help = api_help::<F>())]
    pub api_url: Option<String>,
}

/// A forge the loop runs on, as the command line offers it: its steps are
/// `altcontacts NAME plan|apply|drift`, and `events --forge NAME` starts
/// its pipeline. `gitops::registry` lists them.
pub trait ForgeChoice: ValueEnum + Copy + std::fmt::Debug + Send + Sync + 'static {
    /// As the command line spells it.
    fn name(self) -> &'static str;
    /// As a sentence writes it: "GitHub".
    fn title(self) -> &'static str;
    /// What `altcontacts NAME` runs, in its CI's words.
    fn about(self) -> &'static str;
    /// How `events` names the pipeline an event starts; `None` where no
    /// call can start one (`--forge` then does not offer the forge).
    fn events(self) -> Option<&'static EventsFlags>;
}

/// What `events --forge NAME` needs to name the pipeline it starts.
#[derive(Debug)]
pub struct EventsFlags {
    /// The flag that names the repository or the project.
    pub target: EventsTarget,
    /// The target's form, as a message asks for it: `OWNER/NAME`.
    pub form: &'static str,
    /// What the target is, as `events --help` says it.
    pub help: &'static str,
    /// Whether the started pipeline runs on `--ref`.
    pub runs_on_ref: bool,
    /// The API the destination calls unless `--api-url` names another.
    pub api: &'static str,
    /// `--api-url` for an instance of one's own, as `events --help` says it.
    pub self_hosted: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventsTarget {
    Repository,
    Project,
}

impl EventsTarget {
    pub fn flag(self) -> &'static str {
        match self {
            Self::Repository => "--repository",
            Self::Project => "--project",
        }
    }
}

fn with_events<F: ForgeChoice>() -> impl Iterator<Item = (F, &'static EventsFlags)> {
    F::value_variants()
        .iter()
        .filter_map(|forge| Some((*forge, forge.events()?)))
}

/// "GitHub: the repository …; Bitbucket: the repository …".
fn target_help<F: ForgeChoice>(target: EventsTarget) -> String {
    with_events::<F>()
        .filter(|(_, flags)| flags.target == target)
        .map(|(forge, flags)| format!("{}: {}", forge.title(), flags.help))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The `--forge` values whose destination `target` names: clap asks for
/// the flag with them.
fn requiring<F: ForgeChoice>(target: EventsTarget) -> Vec<(&'static str, &'static str)> {
    with_events::<F>()
        .filter(|(_, flags)| flags.target == target)
        .map(|(forge, _)| ("forge", forge.name()))
        .collect()
}

fn ref_help<F: ForgeChoice>() -> String {
    let forges: Vec<&str> = with_events::<F>()
        .filter(|(_, flags)| flags.runs_on_ref)
        .map(|(forge, _)| forge.title())
        .collect();
    let forges = match forges.split_last() {
        Some((last, rest @ [_, ..])) => format!("{} and {last}", rest.join(", ")),
        _ => forges.concat(),
    };
    format!("{forges}: the branch the started pipeline runs on")
}

fn api_help<F: ForgeChoice>() -> String {
    let apis: Vec<&str> = with_events::<F>().map(|(_, flags)| flags.api).collect();
    let own: Vec<&str> = with_events::<F>()
        .filter_map(|(_, flags)| flags.self_hosted)
        .collect();
    format!(
        "The forge's API [default: {}]; {}",
        apis.join(", "),
        own.join(", ")
    )
}

#[derive(Debug, Args)]
pub struct MemberRoleArgs {
    /// A pipeline role that may assume the member role to read and write
    /// contacts: the apply role (its exact ARN). Repeat for several
    #[arg(long = "trust", value_name = "ARN", required = true)]
    pub trust: Vec<String>,
    /// A pipeline role that may assume a second, read-only member role
    /// (NAME-read): the plan and drift role. Repeat for several
    #[arg(long = "trust-read", value_name = "ARN")]
    pub trust_read: Vec<String>,
    /// The role's name in every account
    #[arg(long = "name", value_name = "NAME", default_value = "altcontacts-member", value_parser = crate::settings::parse_flag::<crate::settings::RoleName>)]
    pub name: crate::settings::RoleName,
}

fn parse_domain(text: &str) -> Result<String, String> {
    match crate::model::is_domain(text) {
        true => Ok(text.trim_end_matches('.').to_ascii_lowercase()),
        false => Err(format!(
            "`{text}` is not a domain: write the part after the @, e.g. corp.example"
        )),
    }
}

fn parse_dns_server(text: &str) -> Result<std::net::SocketAddr, String> {
    text.parse::<std::net::SocketAddr>()
        .or_else(|_| {
            text.parse::<std::net::IpAddr>()
                .map(|ip| std::net::SocketAddr::new(ip, 53))
        })
        .map_err(|_| format!("`{text}` is not an IP address, or IP:PORT"))
}

fn parse_dns_timeout(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if (0.01..=60.0).contains(&seconds) => Ok(seconds),
        _ => Err(format!(
            "`{text}` is not a number of seconds from 0.01 to 60"
        )),
    }
}

/// The documents altcontacts has a JSON Schema of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchemaOf {
    /// contacts.yaml (schema/contacts.schema.json)
    Contacts,
    /// `plan --format json` (schema/plan.schema.json)
    Plan,
    /// `apply --format json` (schema/apply-report.schema.json)
    ApplyReport,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `export 111111111111`: one spelling of one account, `--account`.
fn account_without_flag(text: &str) -> Result<String, String> {
    Err(format!(
        "export names each account with --account: write --account {text}"
    ))
}

fn parse_joined_since(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse_since(text, Timestamp::now())
}
