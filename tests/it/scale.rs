//! The real binary against the in-process emulator: retries, rate limits,
//! partial failure, eventual consistency, interruption and `--base`.

use std::collections::BTreeSet;
use std::process::Output;
use std::time::Duration;

use crate::emulator::{Contact, Emulator, Faults, Quota, Quotas, organization};
use crate::support::{stderr, stdout};

const CALLER: &str = "999999999999";

/// Client rates ten times AWS's, so tests take seconds, not minutes.
const FAST: &str = "get=100,put=50,delete=10";

fn config(extra: &str) -> String {
    format!(
        r#"version: 1
contacts:
  sec: {{ name: Security, title: Team, email_address: security@example.com, phone_number: "+1 202 555 0100" }}
  bill: {{ name: Billing, title: Team, email_address: billing@example.com, phone_number: "+1 202 555 0100" }}
organization:
  defaults: {{ security: sec, billing: bill }}
{extra}"#
    )
}

fn run(emulator: &Emulator, dir: &tempfile::TempDir, args: &[&str]) -> Output {
    emulator
        .command(dir.path(), args)
        .output()
        .expect("run the binary")
}

fn member(n: u64) -> String {
    (100_000_000_000 + n).to_string()
}

/// The outcome line of every change in an apply report: (account, slot, ok).
fn outcomes(report: &str) -> Vec<(String, String, bool)> {
    report
        .lines()
        .filter(|line| line.starts_with('✓') || line.starts_with('✗'))
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let id = words
                .iter()
                .find(|w| w.len() == 12 && w.bytes().all(|b| b.is_ascii_digit()))
                .unwrap()
                .to_string();
            let kind = words
                .iter()
                .find(|w| {
                    [
                        "SECURITY",
                        "BILLING",
                        "OPERATIONS",
                        "SECURITY:",
                        "BILLING:",
                        "OPERATIONS:",
                    ]
                    .contains(w)
                })
                .unwrap()
                .trim_end_matches(':')
                .to_owned();
            (id, kind, line.starts_with('✓'))
        })
        .collect()
}

#[test]
fn server_errors_and_a_quota_below_the_rate_still_converge() {
    let faults = Faults {
        server_errors: 0.2,
        quotas: Some(Quotas {
            get: Quota {
                rate: 40.0,
                burst: 10.0,
            },
            put: Quota {
                rate: 20.0,
                burst: 5.0,
            },
            delete: Quota {
                rate: 5.0,
                burst: 3.0,
            },
        }),
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 40, 4)), faults);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();

    let plan = run(
        &emulator,
        &dir,
        &["--rate", FAST, "plan", "--detailed-exitcode"],
    );
    assert_eq!(plan.status.code(), Some(2), "{}", stderr(&plan));
    assert!(
        stdout(&plan).ends_with("Plan: 82 to create, 0 to update, 0 to delete, 0 unchanged.\n"),
        "{}",
        stdout(&plan)
    );

    let apply = run(
        &emulator,
        &dir,
        &["-v", "--rate", FAST, "apply", "--auto-approve"],
    );
    assert_eq!(
        apply.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&apply),
        stderr(&apply)
    );
    assert!(stdout(&apply).contains("Apply complete: 82 created, 0 updated, 0 deleted, 0 failed."));
    for n in 0..40 {
        assert_eq!(
            emulator
                .contact(&member(n), "SECURITY")
                .map(|c| c.email)
                .as_deref(),
            Some("security@example.com")
        );
    }
    let log = emulator.log();
    assert!(
        log.iter().any(|entry| entry.status == 429),
        "the quota was hit"
    );
    assert!(
        log.iter().any(|entry| entry.status == 500),
        "server errors were injected"
    );
    assert!(
        log.iter()
            .filter(|e| e.account == CALLER)
            .all(|e| !e.account_id_sent),
        "the management account is never named (the emulator denies it like AWS)"
    );
    let again = run(
        &emulator,
        &dir,
        &["--rate", FAST, "plan", "--detailed-exitcode"],
    );
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
}

#[test]
fn under_faults_each_change_is_applied_once_or_reported_failed() {
    let denied: BTreeSet<String> = [member(3)].into();
    let faults = Faults {
        dropped: 0.15,
        server_errors: 0.1,
        denied_writes: denied,
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 12, 2)), faults);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();
    let apply = run(
        &emulator,
        &dir,
        &["--rate", FAST, "apply", "--auto-approve"],
    );
    assert_eq!(
        apply.status.code(),
        Some(1),
        "one account denies writes:\n{}",
        stderr(&apply)
    );
    let report = stdout(&apply);
    assert!(
        report.contains("Apply complete: 24 created, 0 updated, 0 deleted, 2 failed."),
        "{report}"
    );
    let outcomes = outcomes(&report);
    assert_eq!(outcomes.len(), 26, "{report}");
    for (account, kind, applied) in outcomes {
        let writes = emulator.effective_writes(&account, &kind);
        assert_eq!(
            writes,
            u32::from(applied),
            "{account} {kind}: {writes} writes took effect"
        );
    }
    assert!(
        emulator.log().iter().any(|e| e.status == 0),
        "connections were dropped"
    );
}

#[test]
fn answers_400_403_and_404_are_never_retried() {
    let faults = Faults {
        denied: [member(0)].into(),
        invalid_writes: [member(1)].into(),
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 3, 1)), faults);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("contacts.yaml"),
        config(&format!("  exclude: [\"{}\"]\n", member(0))),
    )
    .unwrap();
    let apply = run(
        &emulator,
        &dir,
        &["--rate", FAST, "apply", "--auto-approve"],
    );
    assert_eq!(apply.status.code(), Some(1));
    assert!(
        stdout(&apply).contains("rejected by AWS (invalid AlternateContactType)"),
        "{}",
        stdout(&apply)
    );
    let log = emulator.log();
    let puts_to_invalid = log
        .iter()
        .filter(|e| e.account == member(1) && e.operation == "PutAlternateContact")
        .count();
    assert_eq!(
        puts_to_invalid, 2,
        "one Put per slot, a 400 is not retried: {log:?}"
    );
    let not_found = log.iter().filter(|e| e.status == 404).count();
    assert_eq!(
        not_found, 6,
        "every unset slot is read once: 404 is not retried"
    );

    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();
    emulator.clear_log();
    let plan = run(&emulator, &dir, &["--rate", FAST, "plan"]);
    assert_eq!(plan.status.code(), Some(1));
    assert!(stderr(&plan).contains(&format!(
        "account:GetAlternateContact on account {} slot SECURITY: access denied",
        member(0)
    )));
    let reads_of_denied = emulator
        .log()
        .iter()
        .filter(|e| e.account == member(0))
        .count();
    assert_eq!(
        reads_of_denied, 2,
        "one Get per managed slot, a 403 is not retried"
    );
}

#[test]
fn writes_are_verified_through_stale_reads() {
    let faults = Faults {
        stale_reads: 2,
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 2, 1)), faults);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();
    emulator.set_contact(
        &member(0),
        "SECURITY",
        Contact::new("Old", "old@example.com"),
    );
    let apply = run(
        &emulator,
        &dir,
        &["--rate", FAST, "apply", "--auto-approve"],
    );
    assert_eq!(apply.status.code(), Some(0), "{}", stdout(&apply));
    let reads_after_write = emulator
        .log()
        .iter()
        .filter(|e| {
            e.account == member(0) && e.kind == "SECURITY" && e.operation == "GetAlternateContact"
        })
        .count();
    assert_eq!(
        reads_after_write,
        1 + 3,
        "the plan's read, then two stale reads and the good one"
    );
}

#[test]
fn ctrl_c_starts_no_new_write_and_reports_what_was_done() {
    let faults = Faults {
        latency: Duration::from_millis(200),
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 20, 1)), faults);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();
    let child = emulator
        .command(
            dir.path(),
            &["--rate", "get=100,put=4", "apply", "--auto-approve"],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Reading 63 slots takes under a second; 42 puts at 4/s take ten.
    std::thread::sleep(Duration::from_millis(3_000));
    // SAFETY: kill() only sends a signal to the child we spawned.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = stdout(&output);
    let summary = report.lines().last().unwrap();
    assert!(summary.starts_with("Apply interrupted: "), "{report}");
    assert!(stderr(&output).contains("Interrupted: no new change will start"));
    let outcomes = outcomes(&report);
    let applied = outcomes.iter().filter(|(_, _, ok)| *ok).count();
    assert!(applied > 0 && applied < 42, "{applied} applied: {report}");
    let written: u32 = outcomes
        .iter()
        .map(|(a, k, _)| emulator.effective_writes(a, k))
        .sum();
    assert_eq!(
        written as usize, applied,
        "every write that happened is reported, and only those"
    );
    assert!(
        summary.contains(&format!("{} not started.", 42 - applied)),
        "{summary}"
    );
}

#[test]
fn plan_with_base_reads_only_what_the_change_touches() {
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 50, 5)), Faults::default());
    let dir = tempfile::tempdir().unwrap();
    let base = config(&format!("  exclude: [\"{}\"]\n", member(9)));
    std::fs::write(dir.path().join("base.yaml"), &base).unwrap();
    let changed = config(&format!(
        "accounts:\n  \"{}\":\n    billing: absent\n",
        member(7)
    ));
    std::fs::write(dir.path().join("contacts.yaml"), changed).unwrap();

    let plan = run(
        &emulator,
        &dir,
        &[
            "--rate",
            FAST,
            "plan",
            "--base",
            "base.yaml",
            "--format",
            "json",
        ],
    );
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let json: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let reads: Vec<(String, String)> = emulator
        .log()
        .into_iter()
        .map(|e| (e.account, e.kind))
        .collect();
    let expected: BTreeSet<(String, String)> = [
        (member(7), "BILLING".to_owned()),
        (member(9), "SECURITY".to_owned()),
        (member(9), "BILLING".to_owned()),
    ]
    .into();
    assert_eq!(
        reads.iter().cloned().collect::<BTreeSet<_>>(),
        expected,
        "the changed slot and the account new to scope"
    );
    assert_eq!(reads.len(), 3);
    assert_eq!(
        json["not_read"], 99,
        "51 accounts, 2 managed slots each, 3 read"
    );
    assert_eq!(json["summary"]["create"], 2);

    let human = run(
        &emulator,
        &dir,
        &["--rate", FAST, "plan", "--base", "base.yaml"],
    );
    assert!(stdout(&human).contains(
        "99 managed contacts not read: their desired value is the same as in the base file"
    ));
}

#[test]
fn a_caller_without_organizations_access_is_told_which_permission_is_missing() {
    let faults = Faults {
        organizations_denied: Some("ListAccounts"),
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 3, 1)), faults);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();
    let plan = run(&emulator, &dir, &["plan"]);
    assert_eq!(plan.status.code(), Some(1));
    let text = stderr(&plan);
    assert!(
        text.starts_with("error: organizations:ListAccounts: access denied"),
        "{text}"
    );
    assert!(
        text.contains("help: the caller needs organizations:ListAccounts"),
        "{text}"
    );
    assert!(
        emulator.log().is_empty(),
        "no contact is read without the organization"
    );
}
