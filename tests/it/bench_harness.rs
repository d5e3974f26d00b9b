//! The benchmark harness, shared by `benches/scale.rs` (the measurements)
//! and the smoke test that keeps it working in CI.
//!
//! Each run starts the emulator with an organization, points the real
//! binary at it, and reads the child's wall time, CPU time and peak memory
//! from `wait4`.

#![allow(dead_code)] // the smoke test and the benchmark use different parts

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::emulator::{Contact, Emulator, Faults, Quotas, organization};

const CALLER: &str = "999999999999";

/// Every account gets all three slots from the defaults: a plan reads 3N slots.
const CONFIG: &str = r#"version: 1
contacts:
  sec: { name: Security, title: Team, email_address: security@example.com, phone_number: "+1 202 555 0100" }
  bill: { name: Billing, title: Team, email_address: billing@example.com, phone_number: "+1 202 555 0101" }
  ops: { name: Operations, title: Team, email_address: ops@example.com, phone_number: "+1 202 555 0102" }
organization:
  defaults: { security: sec, billing: bill, operations: ops }
"#;

/// What one run of the binary cost.
#[derive(Clone, Debug)]
pub struct Run {
    pub elapsed: Duration,
    pub cpu: Duration,
    pub max_rss_bytes: u64,
    pub exit_code: i32,
    /// What it said, to show when a run fails.
    pub stderr: String,
}

/// Runs `command` to completion and reads its resource usage.
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which also reads its resource usage"
)]
pub fn measure(mut command: Command) -> Run {
    // A file, not a pipe: a pipe nobody reads would stall a talkative run.
    let mut said = tempfile::tempfile().expect("a file for stderr");
    command
        .stdout(std::process::Stdio::null())
        .stderr(said.try_clone().expect("the stderr file"));
    let started = Instant::now();
    let child = command.spawn().expect("start the binary");
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, writing into locals that outlive the call.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Run {
        elapsed,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        // Linux reports ru_maxrss in kilobytes.
        max_rss_bytes: usage.ru_maxrss as u64 * 1024,
        exit_code: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
        stderr: {
            use std::io::{Read as _, Seek as _};
            let mut text = String::new();
            let _ = said.rewind().and_then(|()| said.read_to_string(&mut text));
            text
        },
    }
}

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("contacts.yaml"), CONFIG).expect("write the config");
    dir
}

/// Spreads accounts over units as real organizations do (200 per unit), so
/// discovery lists units side by side.
fn units_for(accounts: usize) -> usize {
    accounts.div_ceil(200).max(1)
}

/// What is measured: a plan reads every slot; an apply reads them, then
/// writes the one slot in three that is missing on every account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    Plan,
    Apply,
}

/// Who does the job: altcontacts, or the reference client (a simple paced
/// client, given as the command that runs it against an endpoint).
pub enum Client<'a> {
    Altcontacts,
    Reference(&'a dyn Fn(&Emulator, &Path, Job, Quotas) -> Command),
}

/// One measured situation.
#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    pub accounts: usize,
    /// AWS's quotas times this, for the server and the client alike...
    pub factor: f64,
    /// ...except that the server enforces only this share of them (1.0, or
    /// 0.5 for a quota at half the default that the client must find).
    pub real_share: f64,
    pub latency: Duration,
    pub latency_tail: Duration,
    pub job: Job,
}

#[derive(Clone, Debug)]
pub struct QuotaBound {
    pub run: Run,
    /// Distinct slots the server answered a read of.
    pub slots_read: usize,
    /// Writes the server took.
    pub writes: usize,
    /// The least time the server's quotas allow: `(3N - burst) / rate` for
    /// the reads, plus `(W - burst) / rate` for the writes of an apply.
    pub bound: Duration,
    pub ratio: f64,
    pub throttled: usize,
    /// Requests that did not succeed in the end (the run's exit code says
    /// whether the tool noticed).
    pub slots_wrong_after: usize,
}

/// The contacts a finished apply leaves on every account.
fn wanted(kind: &str) -> Contact {
    let (name, email, phone) = match kind {
        "SECURITY" => ("Security", "security@example.com", "+1 202 555 0100"),
        "BILLING" => ("Billing", "billing@example.com", "+1 202 555 0101"),
        _ => ("Operations", "ops@example.com", "+1 202 555 0102"),
    };
    Contact {
        name: name.into(),
        title: "Team".into(),
        email: email.into(),
        phone: phone.into(),
    }
}

/// Runs `scenario` once with `client` against a fresh emulator.
pub fn quota_bound(scenario: Scenario, client: &Client) -> QuotaBound {
    let quotas = Quotas::aws_scaled(scenario.factor);
    let real = Quotas::aws_scaled(scenario.factor * scenario.real_share);
    let faults = Faults {
        latency: scenario.latency,
        latency_tail: scenario.latency_tail,
        quotas: Some(real),
        ..Faults::default()
    };
    let org = organization(CALLER, scenario.accounts - 1, units_for(scenario.accounts));
    let ids: Vec<String> = org.accounts.iter().map(|a| a.id.clone()).collect();
    let emulator = Emulator::start(CALLER, Some(org), faults);
    let writes = match scenario.job {
        Job::Plan => 0,
        Job::Apply => {
            for id in &ids {
                emulator.set_contact(id, "BILLING", wanted("BILLING"));
                emulator.set_contact(id, "OPERATIONS", wanted("OPERATIONS"));
            }
            ids.len()
        }
    };
    let dir = workspace();
    let command = match client {
        Client::Altcontacts => {
            let rate = format!(
                "get={},put={},delete={}",
                quotas.get.rate, quotas.put.rate, quotas.delete.rate
            );
            let job: &[&str] = match scenario.job {
                Job::Plan => &["plan"],
                Job::Apply => &["apply", "--auto-approve"],
            };
            let mut args = vec!["--rate", rate.as_str()];
            args.extend_from_slice(job);
            emulator.command(dir.path(), &args)
        }
        Client::Reference(command) => command(&emulator, dir.path(), scenario.job, quotas),
    };
    let run = measure(command);
    let slots = 3.0 * scenario.accounts as f64;
    let mut bound = (slots - real.get.burst).max(0.0) / real.get.rate;
    if writes > 0 {
        bound += (writes as f64 - real.put.burst).max(0.0) / real.put.rate;
    }
    let bound = Duration::from_secs_f64(bound);
    let log = emulator.log();
    let throttled = log.iter().filter(|entry| entry.status == 429).count();
    let (slots_read, writes) = served(&log);
    let slots_wrong_after = match scenario.job {
        Job::Plan => 0,
        Job::Apply => ids
            .iter()
            .filter(|id| emulator.contact(id, "SECURITY") != Some(wanted("SECURITY")))
            .count(),
    };
    QuotaBound {
        ratio: run.elapsed.as_secs_f64() / bound.as_secs_f64(),
        run,
        slots_read,
        writes,
        bound,
        throttled,
        slots_wrong_after,
    }
}

/// Distinct slots read and writes taken, as the server answered them.
fn served(log: &[crate::emulator::Logged]) -> (usize, usize) {
    let answered = |entry: &&crate::emulator::Logged| entry.status == 200 || entry.status == 404;
    let read: std::collections::BTreeSet<_> = log
        .iter()
        .filter(answered)
        .filter(|entry| entry.operation.starts_with("Get"))
        .map(|entry| (entry.account.clone(), entry.kind.clone()))
        .collect();
    // Reads of the subscriptions (List...) are reads, not writes.
    let writes = log
        .iter()
        .filter(answered)
        .filter(|entry| !entry.operation.starts_with("Get") && !entry.operation.starts_with("List"))
        .count();
    (read.len(), writes)
}

#[derive(Clone, Debug)]
pub struct Unlimited {
    pub accounts: usize,
    pub run: Run,
    pub slots_read: usize,
    pub cpu_per_slot: Duration,
}

/// (b) A plan over `accounts` accounts with no quota and no latency: what
/// the tool itself costs in CPU and memory.
pub fn unlimited(accounts: usize) -> Unlimited {
    let emulator = Emulator::start(
        CALLER,
        Some(organization(CALLER, accounts - 1, units_for(accounts))),
        Faults::default(),
    );
    let dir = workspace();
    let run = measure(emulator.command(
        dir.path(),
        &["--rate", "get=10000,put=10000,delete=10000", "plan"],
    ));
    Unlimited {
        accounts,
        cpu_per_slot: run.cpu / (3 * accounts) as u32,
        run,
        slots_read: served(&emulator.log()).0,
    }
}

/// (c) What the tool costs on work that is its own (no AWS, no quota).
#[derive(Debug)]
pub struct OwnCost {
    pub run: Run,
    /// What the run was seen to do, beside its exit code: a run that is
    /// fast because it did nothing must not pass for a fast one.
    pub outcome: String,
}

fn binary(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_altcontacts"));
    command.current_dir(dir).args(args);
    command
}

/// What a plan of the sandbox in `dir` finds left to do, as JSON (null
/// when the plan printed none): what an apply was seen to do.
fn plan_after(dir: &Path) -> serde_json::Value {
    let replan = binary(
        dir,
        &["--sandbox", "sandbox.yaml", "plan", "--format", "json"],
    )
    .output()
    .expect("plan after the apply");
    serde_json::from_slice(&replan.stdout).unwrap_or(serde_json::Value::Null)
}

/// A sandbox of `accounts` accounts in one organization, every account
/// with SECURITY, BILLING and OPERATIONS managed, the first third with a
/// stale SECURITY contact: an apply creates 8 in 9 slots and updates 1 in 9
/// (8,000 and 1,000 at 3,000 accounts).
pub fn sandbox_apply(accounts: usize) -> OwnCost {
    use std::fmt::Write as _;
    let dir = workspace();
    let mut sandbox = String::from(
        "caller: \"100000000000\"\norganization:\n  management_account: \"100000000000\"\naccounts:\n",
    );
    for n in 0..accounts {
        let _ = writeln!(sandbox, "  \"{}\":", 100_000_000_000u64 + n as u64);
        if n < accounts / 3 {
            let _ = writeln!(
                sandbox,
                "    contacts:\n      security: {{ name: Old, title: Team, email_address: old@example.com, phone_number: \"+1 202 555 0199\" }}"
            );
        } else {
            let _ = writeln!(sandbox, "    contacts: {{}}");
        }
    }
    std::fs::write(dir.path().join("sandbox.yaml"), sandbox).expect("write the sandbox");
    let run = measure(binary(
        dir.path(),
        &[
            "--sandbox",
            "sandbox.yaml",
            "apply",
            "--auto-approve",
            "--max-updates",
            "1000000",
        ],
    ));
    let plan = plan_after(dir.path());
    OwnCost {
        run,
        outcome: format!(
            "{} changes left after it",
            ["create", "update", "delete"]
                .iter()
                .map(|kind| plan["summary"][kind].as_u64())
                .sum::<Option<u64>>()
                .map_or_else(|| "?".to_owned(), |total| total.to_string())
        ),
    }
}

/// The event path's own work: `apply --account` for one account that has
/// just joined a unit of an organization of `accounts` accounts, on the
/// sandbox, from process start: its slots from the defaults and its unit,
/// written and read back.
pub fn event_apply(accounts: usize) -> OwnCost {
    use std::fmt::Write as _;
    let dir = workspace();
    let mut sandbox = String::from(
        "caller: \"100000000000\"\norganization:\n  management_account: \"100000000000\"\n  units:\n    Root/Prod: ou-bench-prod0001\n    Root/Dev: ou-bench-dev00001\naccounts:\n",
    );
    for n in 0..accounts {
        let unit = if n % 2 == 0 { "Root/Prod" } else { "Root/Dev" };
        let _ = writeln!(
            sandbox,
            "  \"{}\": {{ ou: {unit}, joined: 400d }}",
            100_000_000_000u64 + n as u64
        );
    }
    let new = 100_000_000_000u64 + accounts as u64;
    let _ = writeln!(sandbox, "  \"{new}\": {{ ou: Root/Prod, joined: 1m }}");
    std::fs::write(dir.path().join("sandbox.yaml"), sandbox).expect("write the sandbox");
    std::fs::write(
        dir.path().join("contacts.yaml"),
        "version: 1\ncontacts:\n  sec: { name: Security, title: Team, email_address: security@corp.example, phone_number: \"+1 202 555 0100\" }\n  bill: { name: Billing, title: Team, email_address: billing@corp.example, phone_number: \"+1 202 555 0101\" }\norganization:\n  defaults: { security: sec, billing: bill }\n  units:\n    Root/Prod: { operations: { name: Prod On-Call, title: SRE, email_address: oncall@corp.example, phone_number: \"+1 202 555 0102\" } }\n",
    )
    .expect("write the contacts file");
    let new = new.to_string();
    let run = measure(binary(
        dir.path(),
        &[
            "--sandbox",
            "sandbox.yaml",
            "apply",
            "--auto-approve",
            "--account",
            &new,
        ],
    ));
    let plan = plan_after(dir.path());
    let changes = plan["changes"].as_array().cloned().unwrap_or_default();
    let for_new = changes
        .iter()
        .filter(|c| c["account_id"] == new.as_str())
        .count();
    OwnCost {
        run,
        outcome: format!(
            "{for_new} changes left for the new account, {} for the {accounts} others",
            changes.len() - for_new
        ),
    }
}

/// The event's run as AWS would answer it: `apply --account` for the
/// newest of `accounts` accounts (200 to a unit), against the emulator at
/// AWS's Account API quotas with `latency` plus an exponential tail on
/// every request. What it costs beyond the tool's own work is finding the
/// account's place in the organization.
pub struct EventRun {
    pub run: Run,
    pub organizations_calls: u64,
    pub account_calls: usize,
    /// The new account's slots written, and any other account's.
    pub written: usize,
    pub written_elsewhere: usize,
}

pub fn event_over_the_network(
    accounts: usize,
    latency: Duration,
    latency_tail: Duration,
) -> EventRun {
    let faults = Faults {
        latency,
        latency_tail,
        quotas: Some(Quotas::aws_scaled(1.0)),
        ..Faults::default()
    };
    let org = organization(CALLER, accounts - 1, units_for(accounts));
    let ids: Vec<String> = org.accounts.iter().map(|a| a.id.clone()).collect();
    let new = ids.last().expect("a member account").clone();
    let emulator = Emulator::start(CALLER, Some(org), faults);
    let dir = workspace();
    let run =
        measure(emulator.command(dir.path(), &["apply", "--auto-approve", "--account", &new]));
    let slots = ["SECURITY", "BILLING", "OPERATIONS"];
    let set = |id: &String| {
        slots
            .iter()
            .filter(|kind| emulator.contact(id, kind).is_some())
            .count()
    };
    let log = emulator.log();
    EventRun {
        run,
        organizations_calls: emulator.organizations_calls(),
        account_calls: log.len(),
        written: set(&new),
        written_elsewhere: ids.iter().filter(|id| **id != new).map(set).sum(),
    }
}

/// Debian's Chromium (`apt-get install chromium`, as `.ci/run` does).
/// Debian keeps only the newest security build of it, so the version is
/// the distribution's, not a pin: Playwright drives any current Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// What a reader sees of the HTML `report` in Chromium, driven by the
/// Playwright in `playwright` (a folder holding node_modules/playwright-core),
/// after choosing `severity` in the severity filter: the JSON line
/// tests/it/report_in_browser.cjs prints.
pub fn open_in_browser(playwright: &Path, report: &Path, severity: &str) -> serde_json::Value {
    in_browser(
        playwright,
        "report_in_browser.cjs",
        &[report.as_os_str(), severity.as_ref()],
    )
}

/// What `script` (one of tests/it/*.cjs, run with the Playwright in
/// `playwright` and Chromium before `args`) prints, as JSON.
pub fn in_browser(playwright: &Path, script: &str, args: &[&std::ffi::OsStr]) -> serde_json::Value {
    assert!(
        Path::new(CHROMIUM).exists(),
        "the report needs Chromium at {CHROMIUM}: apt-get install chromium, as .ci/run does"
    );
    assert!(
        playwright.join("node_modules/playwright-core").exists(),
        "no Playwright in {}: .ci/run (or the report tests, cargo test audit_report) installs it",
        playwright.display()
    );
    let output = Command::new("node")
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/it")
                .join(script),
        )
        .arg(playwright)
        .arg(CHROMIUM)
        .args(args)
        .output()
        .expect("node, from the machine's Node.js");
    assert!(
        output.status.success(),
        "the browser could not run {script}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the browser's JSON")
}

/// The HTML report of an organization of `accounts` accounts, as an
/// audit writes it and a browser opens it.
pub struct ReportCost {
    /// The audit that wrote it (and its JSON twin), from process start.
    pub audit: Run,
    pub bytes: u64,
    pub findings: u64,
    /// From navigation to the table drawn, in the browser.
    pub opened: Duration,
    /// From choosing "high" to the table holding only high findings.
    pub filtered: Duration,
    /// Rows the filter kept, as the page counted them.
    pub shown: String,
}

/// `audit --org` over `accounts` accounts, written as HTML (and JSON, to
/// count), then opened and filtered in Chromium. A third of the accounts
/// have no contact at all, a third only a SECURITY contact, a third all
/// three, every address outside the one allowed domain, and no guardrail:
/// five findings per account (the management account is not unprotected),
/// a SECURITY contact missing in a third of them.
pub fn html_report(accounts: usize, playwright: &Path) -> ReportCost {
    use std::fmt::Write as _;
    let dir = workspace();
    let mut sandbox = String::from(
        "caller: \"100000000000\"\norganization:\n  management_account: \"100000000000\"\naccounts:\n",
    );
    let contact = |slot: &str, n: usize| {
        format!(
            "{slot}: {{ name: {slot} {n}, title: Team, email_address: {slot}-{n}@corp-{}.example.com, phone_number: \"+1 202 555 {:04}\" }}",
            n % 97,
            n % 10_000
        )
    };
    for n in 0..accounts {
        let _ = writeln!(
            sandbox,
            "  \"{}\":\n    name: Workload {n}",
            100_000_000_000u64 + n as u64
        );
        let contacts = match n % 3 {
            0 => "{}".to_owned(),
            1 => format!("{{ {} }}", contact("security", n)),
            _ => format!(
                "{{ {}, {}, {} }}",
                contact("security", n),
                contact("billing", n),
                contact("operations", n)
            ),
        };
        let _ = writeln!(sandbox, "    contacts: {contacts}");
    }
    std::fs::write(dir.path().join("sandbox.yaml"), sandbox).expect("write the sandbox");
    let audit = measure(binary(
        dir.path(),
        &[
            "--sandbox",
            "sandbox.yaml",
            "audit",
            "--org",
            "--email-domain",
            "example.org",
            "-o",
            "report.html",
            "-o",
            "report.json",
        ],
    ));
    assert_eq!(audit.exit_code, 2, "the audit: {}", audit.stderr);
    let report = dir.path().join("report.html");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("report.json")).expect("the JSON report"),
    )
    .expect("JSON");
    let seen = open_in_browser(playwright, &report, "high");
    let millis = |key: &str| Duration::from_millis(seen[key].as_u64().unwrap_or(u64::MAX));
    ReportCost {
        audit,
        bytes: std::fs::metadata(&report).expect("the report").len(),
        findings: json["findings"].as_array().map_or(0, |f| f.len() as u64),
        opened: millis("opened_ms"),
        filtered: millis("filtered_ms"),
        shown: seen["shown_text"].as_str().unwrap_or("?").to_owned(),
    }
}

/// `validate` on a file naming `accounts` accounts, each with one unknown
/// contact: as many problems, each to be located.
pub fn validate_problems(accounts: usize) -> OwnCost {
    use std::fmt::Write as _;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut config = String::from(
        "version: 1\ncontacts:\n  sec: { name: Security, title: Team, email_address: security@example.com, phone_number: \"+1 202 555 0100\" }\naccounts:\n",
    );
    for n in 0..accounts {
        let _ = writeln!(
            config,
            "  \"{}\": {{ security: missing{n} }}",
            100_000_000_000u64 + n as u64
        );
    }
    std::fs::write(dir.path().join("contacts.yaml"), config).expect("write the config");
    let run = measure(binary(dir.path(), &["validate", "--format", "json"]));
    let output = binary(dir.path(), &["validate", "--format", "json"])
        .output()
        .expect("validate");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    let problems = report["problems"].as_array().map_or(&[][..], Vec::as_slice);
    let located = problems
        .iter()
        .filter(|problem| problem["line"].as_u64() >= Some(1))
        .count();
    OwnCost {
        run,
        outcome: format!("{located} of {} problems located", problems.len()),
    }
}

/// `validate` on a file that is `depth` nested `[`.
pub fn validate_nested(depth: usize) -> OwnCost {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        dir.path().join("contacts.yaml"),
        format!("version: 1\nx: {}", "[".repeat(depth)),
    )
    .expect("write the config");
    let run = measure(binary(dir.path(), &["validate"]));
    let output = binary(dir.path(), &["validate"])
        .output()
        .expect("validate");
    let stderr = String::from_utf8_lossy(&output.stderr);
    OwnCost {
        run,
        // The located line, `contacts.yaml:2:131: recursion limit exceeded`.
        outcome: stderr
            .lines()
            .find(|line| line.starts_with("contacts.yaml:"))
            .unwrap_or("not located")
            .to_owned(),
    }
}

/// What a run through member roles does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberJob {
    /// A full plan: 3 reads per account, and the contacts' 3 topics
    /// (AWS User Notifications).
    Plan,
    /// The same plan with `notices: none`: the contacts alone, to weigh
    /// what reading the subscriptions costs.
    PlanWithoutNotices,
    /// An adoption: every slot missing, 3 writes (and read-backs) per account.
    Apply,
    /// `audit --org`: every slot and the primary contact, and the service
    /// control policies.
    Audit,
}

/// (d) One run through `--member-role` against the emulator: AWS's Account
/// API quotas per account (as AWS keeps them), AssumeRole at `assume` for
/// the caller, jittered latency.
#[derive(Clone, Debug)]
pub struct MemberRow {
    pub run: Run,
    /// The least time possible: the slowest of AssumeRole's quota over the
    /// member accounts and the round trips of every read through the
    /// connections the tool keeps in flight; then, for an apply, the round
    /// trips of the writes and their read-backs, and for the audit, the
    /// Organizations reads of the policies (ListPolicies, then each policy).
    pub bound: Duration,
    pub ratio: f64,
    /// The same job through the caller alone: 3N/10 s of reads, plus
    /// 3N/5 s of writes for an apply.
    pub central_bound: Duration,
    /// Sessions granted, and Account API requests made by member sessions.
    pub assumed: usize,
    pub by_members: usize,
    /// Reads of the subscriptions (ListManagedNotificationChannelAssociations).
    pub notice_reads: usize,
    pub throttled: usize,
    pub slots_wrong_after: usize,
}

pub const MEMBER_ROLE: &str = "altcontacts-member";

pub fn member_roles(
    accounts: usize,
    job: MemberJob,
    latency: Duration,
    latency_tail: Duration,
    assume: crate::emulator::Quota,
) -> MemberRow {
    let faults = Faults {
        latency,
        latency_tail,
        quotas: Some(Quotas::aws_scaled(1.0)),
        member_roles: Some(crate::emulator::MemberRoles {
            name: MEMBER_ROLE.to_owned(),
            quota: Some(assume),
            ..Default::default()
        }),
        ..Faults::default()
    };
    let units = units_for(accounts);
    let org = organization(CALLER, accounts - 1, units);
    let ids: Vec<String> = org.accounts.iter().map(|a| a.id.clone()).collect();
    let emulator = Emulator::start(CALLER, Some(org), faults);
    if job != MemberJob::Apply {
        for id in &ids {
            for kind in ["SECURITY", "BILLING", "OPERATIONS"] {
                emulator.set_contact(id, kind, wanted(kind));
            }
            emulator.set_primary(id, "Acme Cloud Team", "+1 202 555 0100");
        }
    }
    let dir = workspace();
    if job == MemberJob::PlanWithoutNotices {
        std::fs::write(
            dir.path().join("contacts.yaml"),
            CONFIG.replace("operations: ops }", "operations: ops, notices: none }"),
        )
        .expect("write the config");
    }
    let args: &[&str] = match job {
        MemberJob::Plan | MemberJob::PlanWithoutNotices => &["plan"],
        MemberJob::Apply => &["apply", "--auto-approve"],
        MemberJob::Audit => &["audit", "--org"],
    };
    let run = measure(emulator.command(
        dir.path(),
        &[args, &["--member-role", MEMBER_ROLE]].concat(),
    ));
    let n = accounts as f64;
    let members = n - 1.0;
    let mean_latency = (latency + latency_tail).as_secs_f64();
    // Requests per account while reading: AssumeRole, then the reads.
    let reads = match job {
        MemberJob::Audit => 1.0 + 4.0,
        _ => 1.0 + 3.0,
    };
    let in_flight = |requests: f64| requests * n * mean_latency / MEMBER_IN_FLIGHT as f64;
    let mut bound = ((members - assume.burst).max(0.0) / assume.rate).max(in_flight(reads));
    if job != MemberJob::PlanWithoutNotices {
        // Then the subscriptions, once the contacts are read: one read per
        // AWS Health topic the contacts receive (Security, Operations,
        // Billing), each account within its own burst.
        bound += in_flight(3.0);
    }
    if job == MemberJob::Apply {
        // The writes follow the plan: three and their read-backs per
        // account, each account within its own burst.
        bound += in_flight(3.0 + 3.0);
    }
    if job == MemberJob::Audit {
        // The guardrail check, once the organization is known: one page of
        // policies, then FullAWSAccess read (it denies nothing, so its
        // targets are not listed).
        bound += 2.0 * mean_latency;
    }
    let bound = Duration::from_secs_f64(bound);
    let central_bound = Duration::from_secs_f64(match job {
        MemberJob::Apply => 3.0 * n / 10.0 + 3.0 * n / 5.0,
        _ => 3.0 * n / 10.0,
    });
    let log = emulator.log();
    MemberRow {
        ratio: run.elapsed.as_secs_f64() / bound.as_secs_f64(),
        run,
        bound,
        central_bound,
        assumed: emulator
            .assumptions()
            .iter()
            .filter(|assumption| assumption.status == 200)
            .count(),
        by_members: log.iter().filter(|entry| entry.by != CALLER).count(),
        notice_reads: log
            .iter()
            .filter(|entry| entry.operation == "ListManagedNotificationChannelAssociations")
            .count(),
        throttled: log.iter().filter(|entry| entry.status == 429).count()
            + emulator
                .assumptions()
                .iter()
                .filter(|assumption| assumption.status == 400)
                .count(),
        slots_wrong_after: match job {
            MemberJob::Apply => ids
                .iter()
                .flat_map(|id| ["SECURITY", "BILLING", "OPERATIONS"].map(|kind| (id, kind)))
                .filter(|(id, kind)| emulator.contact(id, kind) != Some(wanted(kind)))
                .count(),
            _ => 0,
        },
    }
}

/// Requests the tool keeps in flight with a member role (`quota.rs`).
const MEMBER_IN_FLIGHT: usize = 384;

/// `validate` on a file of `problems` problems, four a line (a contact
/// `{}` lacks each of the fields AWS requires), as a person sees it: the
/// header with the count, the first problems, and how many more there
/// are. Four a line keeps a million problems within the parser's budget of
/// a million values, so every row is the same file, only longer.
pub fn validate_many(problems: usize) -> OwnCost {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut config = String::from("version: 1\ncontacts:\n");
    for contact in 0..problems.div_ceil(4) {
        config.push_str(&format!("  c{contact}: {{}}\n"));
    }
    config.push_str("accounts: {}\n");
    std::fs::write(dir.path().join("contacts.yaml"), config).expect("write the config");
    let run = measure(binary(dir.path(), &["validate"]));
    let header = run.stderr.lines().next().unwrap_or_default().to_owned();
    let shown = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("contacts.yaml:"))
        .count();
    OwnCost {
        outcome: format!("{header:?}, {shown} shown"),
        run,
    }
}
