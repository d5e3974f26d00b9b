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

use crate::emulator::{Emulator, Faults, Quotas, organization};

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
#[derive(Clone, Copy, Debug)]
pub struct Run {
    pub elapsed: Duration,
    pub cpu: Duration,
    pub max_rss_bytes: u64,
    pub exit_code: i32,
}

/// Runs `command` to completion and reads its resource usage.
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which also reads its resource usage"
)]
pub fn measure(mut command: Command) -> Run {
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
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

fn plan(emulator: &Emulator, dir: &Path, rate: &str) -> Command {
    emulator.command(dir, &["--rate", rate, "plan"])
}

#[derive(Clone, Copy, Debug)]
pub struct QuotaBound {
    pub accounts: usize,
    pub run: Run,
    /// `(3N - burst) / rate`: the least time AWS's Get quota allows.
    pub bound: Duration,
    pub ratio: f64,
    pub throttled: usize,
}

/// (a) A plan over `accounts` accounts with the emulator enforcing AWS's
/// quotas times `factor`, at `latency` per request, and the client set to
/// the same rates.
pub fn quota_bound(accounts: usize, factor: f64, latency: Duration) -> QuotaBound {
    let quotas = Quotas::aws_scaled(factor);
    let faults = Faults {
        latency,
        quotas: Some(quotas),
        ..Faults::default()
    };
    let emulator = Emulator::start(
        CALLER,
        Some(organization(CALLER, accounts - 1, units_for(accounts))),
        faults,
    );
    let dir = workspace();
    let rate = format!(
        "get={},put={},delete={}",
        quotas.get.rate, quotas.put.rate, quotas.delete.rate
    );
    let run = measure(plan(&emulator, dir.path(), &rate));
    let slots = 3.0 * accounts as f64;
    let bound = Duration::from_secs_f64((slots - quotas.get.burst).max(0.0) / quotas.get.rate);
    let throttled = emulator
        .log()
        .iter()
        .filter(|entry| entry.status == 429)
        .count();
    QuotaBound {
        accounts,
        run,
        bound,
        ratio: run.elapsed.as_secs_f64() / bound.as_secs_f64(),
        throttled,
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Unlimited {
    pub accounts: usize,
    pub run: Run,
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
    let run = measure(plan(
        &emulator,
        dir.path(),
        "get=1000000,put=1000000,delete=1000000",
    ));
    Unlimited {
        accounts,
        run,
        cpu_per_slot: run.cpu / (3 * accounts) as u32,
    }
}
