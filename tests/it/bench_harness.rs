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
    let writes = log
        .iter()
        .filter(answered)
        .filter(|entry| !entry.operation.starts_with("Get"))
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
    let replan = binary(
        dir.path(),
        &["--sandbox", "sandbox.yaml", "plan", "--format", "json"],
    )
    .output()
    .expect("plan after the apply");
    let plan: serde_json::Value =
        serde_json::from_slice(&replan.stdout).unwrap_or(serde_json::Value::Null);
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
    /// A full plan: 3 reads per account.
    Plan,
    /// An adoption: every slot missing, 3 writes (and read-backs) per account.
    Apply,
    /// `audit --org`: every slot and the primary contact, and each target's
    /// service control policies.
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
    /// Organizations reads of each target's policies at their concurrency.
    pub bound: Duration,
    pub ratio: f64,
    /// The same job through the caller alone: 3N/10 s of reads, plus
    /// 3N/5 s of writes for an apply.
    pub central_bound: Duration,
    /// Sessions granted, and Account API requests made by member sessions.
    pub assumed: usize,
    pub by_members: usize,
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
    let args: &[&str] = match job {
        MemberJob::Plan => &["plan"],
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
    if job == MemberJob::Apply {
        // The writes follow the plan: three and their read-backs per
        // account, each account within its own burst.
        bound += in_flight(3.0 + 3.0);
    }
    if job == MemberJob::Audit {
        // The guardrail check reads each target's policies once the
        // organization's tree is known, after the contacts.
        let targets = n - 1.0 + units as f64 + 1.0;
        bound += targets * mean_latency / POLICY_READS_IN_FLIGHT;
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
/// Organizations reads of the targets' policies at once (`coverage.rs`).
const POLICY_READS_IN_FLIGHT: f64 = 4.0;
