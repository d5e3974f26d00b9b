//! Scale benchmarks, run with `cargo bench --bench scale`.
//! `cargo bench --bench scale -- quick` runs the 60- and 1,000-account rows
//! only; `-- 60` (any number) runs that size at every latency; `-- own`
//! runs (c) only.
//!
//! (a) plan and apply over N accounts against the emulator enforcing AWS's
//!     Account API quotas (or ten times them), with jittered latency (a
//!     fixed part plus an exponential tail of mean 25 ms), reported as the
//!     ratio of elapsed time, from process start, to the quota bound:
//!     `(3N - burst) / rate` for the reads, plus `(W - burst) / rate` for
//!     the W writes of an apply. Target: <= 1.05. Beside each, the same
//!     job by a simple paced client (`reference_client.rs`) as a reference.
//!     One row runs against a server whose real quota is half the one the
//!     client is told: it must converge with every write applied.
//! (b) plan over N accounts with no quota and no latency, reported as CPU
//!     time per slot and peak memory; target under 100 MB at 10,000 accounts.
//! (c) the tool's own work with no AWS at all: a sandbox apply of 9,000
//!     changes (goal 5 s), validate on 5,000 problems and on 100,000 nested
//!     `[` (goal 1 s each), each beside what the run was seen to do.
//! (d) `--member-role` over 10,000 accounts (`-- members` runs these rows
//!     only; `-- members quick`, 1,000; `-- members plan audit`, the named
//!     jobs only): a full plan (with the subscriptions to AWS Health's
//!     topics, and `plan-without-notices` without them), an adoption apply of
//!     30,000 writes and `audit --org` with primary contacts, AssumeRole at
//!     100/s, each account at AWS's own quotas, jittered latency; as a
//!     ratio to the bound (see `MemberRow`), beside the central path's
//!     bound for the same job. Targets: ratio <= 1.15, the plan under
//!     120 s, peak memory under 300 MB.
//! (e) the HTML audit report of 10,000 accounts (`-- report`; `-- report
//!     quick`, 1,000): the audit that writes it, the file's size, and in
//!     headless Chromium (Playwright, from target/playwright) the time to
//!     open it and to filter it by severity. Targets: open + filter under
//!     2 s, size under 15 MB.
//! (g) validation of a file of 10,000, 100,000 and 1,000,000 problems
//!     (`-- validate`), from process start: the cost per problem must not
//!     grow with their number. Target: the 1,000,000 row within 1.5x the
//!     10,000 row's cost per problem.
//! (f) the event's run (`-- event`; `-- event quick`, 1,000): `apply
//!     --account` for one new account of 10,000, against the emulator at
//!     AWS's quotas with jittered latency, from process start. Target: well
//!     under a minute.

#[path = "../tests/it/bench_harness.rs"]
mod bench_harness;
#[path = "../tests/it/emulator.rs"]
mod emulator;
#[path = "../tests/it/http_server.rs"]
mod http_server;
mod reference_client;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use bench_harness::{Client, Job, Scenario, quota_bound, unlimited};
use emulator::{Emulator, Quotas, with_test_credentials};

const TAIL: Duration = Duration::from_millis(25);

fn reference(emulator: &Emulator, dir: &Path, job: Job, quotas: Quotas) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the bench binary"));
    command.current_dir(dir);
    with_test_credentials(&mut command);
    command
        .env(
            "ALTCONTACTS_REFERENCE_JOB",
            if job == Job::Apply { "apply" } else { "plan" },
        )
        .env("ALTCONTACTS_REFERENCE_ENDPOINT", &emulator.endpoint)
        .env("ALTCONTACTS_REFERENCE_GET", quotas.get.rate.to_string())
        .env("ALTCONTACTS_REFERENCE_PUT", quotas.put.rate.to_string());
    command
}

fn scenarios(args: &[String]) -> Vec<Scenario> {
    let row = |accounts, factor, real_share, latency_ms, job| Scenario {
        accounts,
        factor,
        real_share,
        latency: Duration::from_millis(latency_ms),
        latency_tail: TAIL,
        job,
    };
    let sizes: Vec<usize> = args.iter().filter_map(|arg| arg.parse().ok()).collect();
    if !sizes.is_empty() {
        return sizes
            .iter()
            .flat_map(|&n| {
                let factor = if n < 1_000 { 1.0 } else { 10.0 };
                [Job::Plan, Job::Apply].map(|job| row(n, factor, 1.0, 50, job))
            })
            .collect();
    }
    let mut rows = Vec::new();
    for job in [Job::Plan, Job::Apply] {
        rows.push(row(60, 1.0, 1.0, 5, job));
        rows.push(row(60, 1.0, 1.0, 150, job));
        rows.push(row(1_000, 10.0, 1.0, 50, job));
        if !args.iter().any(|arg| arg == "quick") {
            rows.push(row(10_000, 10.0, 1.0, 50, job));
        }
    }
    rows.push(row(60, 1.0, 0.5, 50, Job::Apply));
    rows
}

fn main() {
    if let Some(code) = reference_client::main_from_env() {
        std::process::exit(code);
    }
    // cargo bench passes `--bench`; the rest choose the rows.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "own") {
        own_cost();
        return;
    }
    if args.iter().any(|arg| arg == "members") {
        member_roles(&args);
        return;
    }
    if args.iter().any(|arg| arg == "event") {
        event_run(&args);
        return;
    }
    if args.iter().any(|arg| arg == "report") {
        html_report(&args);
        return;
    }
    if args.iter().any(|arg| arg == "validate") {
        validation();
        return;
    }

    println!(
        "(a) against the emulator's quotas, latency = fixed + exponential tail (mean {} ms), from process start",
        TAIL.as_millis()
    );
    println!(
        "{:>5} {:>8} {:>6} {:>9} {:>8} | {:>9} {:>7} {:>5} | {:>9} {:>7} {:>5} {:>6}",
        "job",
        "accounts",
        "quota",
        "latency",
        "bound",
        "elapsed",
        "ratio",
        "429s",
        "reference",
        "ratio",
        "429s",
        "result"
    );
    for scenario in scenarios(&args) {
        let ours = quota_bound(scenario, &Client::Altcontacts);
        assert_eq!(ours.run.exit_code, 0, "altcontacts failed: {scenario:?}");
        assert_eq!(ours.slots_wrong_after, 0, "writes missing: {scenario:?}");
        let theirs = quota_bound(scenario, &Client::Reference(&reference));
        let quota = if scenario.real_share < 1.0 {
            format!("x{}/2", scenario.factor)
        } else {
            format!("x{}", scenario.factor)
        };
        println!(
            "{:>5} {:>8} {:>6} {:>6} ms {:>7.1}s | {:>8.1}s {:>7.3} {:>5} | {:>8.1}s {:>7.3} {:>5} {:>6}",
            if scenario.job == Job::Plan {
                "plan"
            } else {
                "apply"
            },
            scenario.accounts,
            quota,
            scenario.latency.as_millis(),
            ours.bound.as_secs_f64(),
            ours.run.elapsed.as_secs_f64(),
            ours.ratio,
            ours.throttled,
            theirs.run.elapsed.as_secs_f64(),
            theirs.ratio,
            theirs.throttled,
            // A request the reference gave up on makes its time meaningless.
            if theirs.run.exit_code == 0 && theirs.slots_wrong_after == 0 {
                "ok"
            } else {
                "failed"
            },
        );
    }
    println!("target: ratio <= 1.05 for altcontacts\n");

    println!("(b) plan with no quota and no latency");
    println!(
        "{:>8} {:>7} {:>10} {:>10} {:>12} {:>10}",
        "accounts", "slots", "elapsed", "cpu", "cpu/slot", "peak RSS"
    );
    let sizes = if args.iter().any(|arg| arg == "quick") {
        vec![1_000]
    } else {
        vec![1_000, 10_000]
    };
    for accounts in sizes {
        let result = unlimited(accounts);
        assert_eq!(result.run.exit_code, 0, "the plan failed");
        println!(
            "{:>8} {:>7} {:>9.2}s {:>9.2}s {:>10.1}µs {:>8.1}MB",
            accounts,
            3 * accounts,
            result.run.elapsed.as_secs_f64(),
            result.run.cpu.as_secs_f64(),
            result.cpu_per_slot.as_secs_f64() * 1e6,
            result.run.max_rss_bytes as f64 / 1_048_576.0
        );
    }
    println!("target: peak RSS under 100 MB at 10,000 accounts\n");

    own_cost();
    member_roles(&args);
}

/// (d): `cargo bench --bench scale -- members` runs these rows only.
fn member_roles(args: &[String]) {
    use bench_harness::MemberJob;
    let accounts = if args.iter().any(|arg| arg == "quick") {
        1_000
    } else {
        10_000
    };
    let assume = emulator::Quota {
        rate: 100.0,
        burst: 20.0,
    };
    let latency = Duration::from_millis(50);
    println!(
        "(d) --member-role: AssumeRole at {}/s, each account at AWS's quotas, latency {} ms + tail {} ms, from process start",
        assume.rate,
        latency.as_millis(),
        TAIL.as_millis()
    );
    println!(
        "{:>6} {:>8} {:>8} {:>9} {:>7} {:>9} {:>9} {:>6} {:>9} | {:>13}",
        "job",
        "accounts",
        "bound",
        "elapsed",
        "ratio",
        "peak RSS",
        "sessions",
        "429s",
        "by member",
        "central bound"
    );
    // `-- members plan audit` runs the named jobs only.
    let every = [
        ("plan", MemberJob::Plan),
        ("plan-without-notices", MemberJob::PlanWithoutNotices),
        ("apply", MemberJob::Apply),
        ("audit", MemberJob::Audit),
    ];
    let named: Vec<(&str, MemberJob)> = every
        .into_iter()
        .filter(|(name, _)| args.iter().any(|arg| arg == name))
        .collect();
    let jobs = match named.is_empty() {
        true => every.to_vec(),
        false => named,
    };
    for (name, job) in jobs {
        let row = bench_harness::member_roles(accounts, job, latency, TAIL, assume);
        assert!(
            [0, 2].contains(&row.run.exit_code),
            "{job:?} failed: {}",
            row.run.stderr
        );
        assert_eq!(row.slots_wrong_after, 0, "writes missing: {job:?}");
        println!(
            "{:>6} {:>8} {:>7.1}s {:>8.1}s {:>7.3} {:>7.1}MB {:>9} {:>6} {:>9} | {:>12.0}s",
            name,
            accounts,
            row.bound.as_secs_f64(),
            row.run.elapsed.as_secs_f64(),
            row.ratio,
            row.run.max_rss_bytes as f64 / 1_048_576.0,
            row.assumed,
            row.throttled,
            row.by_members,
            row.central_bound.as_secs_f64()
        );
    }
    println!("targets: ratio <= 1.15, plan under 120 s, peak RSS under 300 MB\n");
}

/// (f): `cargo bench --bench scale -- event` runs this row only.
fn event_run(args: &[String]) {
    let accounts = if args.iter().any(|arg| arg == "quick") {
        1_000
    } else {
        10_000
    };
    let latency = Duration::from_millis(50);
    let row = bench_harness::event_over_the_network(accounts, latency, TAIL);
    assert_eq!(
        row.run.exit_code, 0,
        "the event's apply: {}",
        row.run.stderr
    );
    println!(
        "(f) the event's run, apply --account: AWS's Account API quotas, latency {} ms + tail {} ms, from process start",
        latency.as_millis(),
        TAIL.as_millis()
    );
    println!(
        "{:>8} {:>9} {:>13} {:>12} {:>8} {:>15}",
        "accounts", "elapsed", "Organizations", "Account API", "written", "written elsewhere"
    );
    println!(
        "{accounts:>8} {:>8.2}s {:>13} {:>12} {:>8} {:>15}",
        row.run.elapsed.as_secs_f64(),
        row.organizations_calls,
        row.account_calls,
        row.written,
        row.written_elsewhere
    );
    println!("target: well under a minute\n");
}

/// (e): `cargo bench --bench scale -- report` runs this row only.
fn html_report(args: &[String]) {
    let accounts = if args.iter().any(|arg| arg == "quick") {
        1_000
    } else {
        10_000
    };
    let playwright = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/playwright");
    let cost = bench_harness::html_report(accounts, &playwright);
    println!(
        "(e) the HTML audit report in headless Chromium (Playwright), sandbox, release binary"
    );
    println!(
        "{:>8} {:>8} {:>9} {:>9} {:>9} {:>9}  what the filter kept",
        "accounts", "findings", "audit", "size", "opened", "filtered"
    );
    println!(
        "{accounts:>8} {:>8} {:>8.2}s {:>7.1}MB {:>8.2}s {:>8.2}s  {}",
        cost.findings,
        cost.audit.elapsed.as_secs_f64(),
        cost.bytes as f64 / 1_048_576.0,
        cost.opened.as_secs_f64(),
        cost.filtered.as_secs_f64(),
        cost.shown
    );
    println!("targets: opened + filtered under 2 s, size under 15 MB\n");
}

/// (g): `cargo bench --bench scale -- validate`.
fn validation() {
    println!("(g) validate, four problems a line, from process start (release binary)");
    println!(
        "{:>10} {:>9} {:>13} {:>9} {:>5}  what it printed",
        "problems", "elapsed", "per problem", "peak", "exit"
    );
    let mut first = None;
    for problems in [10_000, 100_000, 1_000_000] {
        let cost = bench_harness::validate_many(problems);
        let per = cost.run.elapsed.as_secs_f64() / problems as f64;
        let base = *first.get_or_insert(per);
        println!(
            "{problems:>10} {:>8.2}s {:>10.2} us {:>6} MB {:>5}  {} (x{:.2} the first row's cost per problem)",
            cost.run.elapsed.as_secs_f64(),
            per * 1e6,
            cost.run.max_rss_bytes / 1_000_000,
            cost.run.exit_code,
            cost.outcome,
            per / base
        );
    }
    println!("target: the last row within 1.5x the first row's cost per problem\n");
}

/// (c): `cargo bench --bench scale -- own` runs these rows only.
fn own_cost() {
    println!("(c) the tool's own work, from process start (release binary)");
    println!(
        "{:<58} {:>8} {:>6} {:>4}  what it did",
        "case", "elapsed", "goal", "exit"
    );
    type Row = (&'static str, f64, fn() -> bench_harness::OwnCost);
    let rows: [Row; 4] = [
        (
            "sandbox apply: 8,000 creates + 1,000 updates, 3,000 accts",
            5.0,
            || bench_harness::sandbox_apply(3_000),
        ),
        (
            "event: apply --account, 1 new account of 10,001 (sandbox)",
            1.0,
            || bench_harness::event_apply(10_000),
        ),
        (
            "validate: 5,000 problems (an unknown contact per account)",
            1.0,
            || bench_harness::validate_problems(5_000),
        ),
        ("validate: 100,000 nested `[` (200 kB)", 1.0, || {
            bench_harness::validate_nested(100_000)
        }),
    ];
    for (case, goal, measure) in rows {
        let cost = measure();
        println!(
            "{case:<58} {:>7.2}s {goal:>5.0}s {:>4}  {}",
            cost.run.elapsed.as_secs_f64(),
            cost.run.exit_code,
            cost.outcome
        );
    }
}
