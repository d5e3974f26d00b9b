//! The real binary against an AWS that misbehaves, as the in-process
//! emulator plays it: quotas below the rate, 429s, 500s and dropped
//! connections, denials, stale reads, expiring credentials, interrupts,
//! and `--base` reading only what a change touches.

use std::collections::BTreeSet;
use std::process::Output;
use std::time::Duration;

use crate::emulator::{Contact, Emulator, Faults, Logged, Quota, Quotas, organization};
use crate::support::{json, stderr, stderr_tail, stdout};

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

/// Every change of an `apply --format json` report: (account, slot, outcome).
fn outcomes(apply: &Output) -> Vec<(String, String, String)> {
    let report = json(apply);
    assert_eq!(report["format_version"], 1, "{report}");
    report["results"]
        .as_array()
        .unwrap_or_else(|| panic!("a report with results: {report}"))
        .iter()
        .map(|result| {
            let text = |field: &str| result[field].as_str().unwrap_or_default().to_owned();
            (text("account_id"), text("contact_type"), text("outcome"))
        })
        .collect()
}

/// Waits until the emulator has taken a first write, and interrupts the
/// apply then: the time of the signal, on the emulator's clock.
fn interrupt_once_writing(emulator: &Emulator, child: &mut std::process::Child) -> Duration {
    let waiting = std::time::Instant::now();
    while !emulator
        .log()
        .iter()
        .any(|e| e.operation == "PutAlternateContact")
    {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the apply ended before writing: {status}");
        }
        if waiting.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("no write started: {} requests", emulator.log().len());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: kill() only sends a signal to the child we spawned.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    emulator.now()
}

/// Every write sent before `signal`, give or take the few milliseconds a
/// write granted its turn just before the signal needs to reach the wire.
fn no_write_sent_after(emulator: &Emulator, signal: Duration) {
    let slack = Duration::from_millis(50);
    let late: Vec<Duration> = emulator
        .log()
        .iter()
        .filter(|e| e.operation == "PutAlternateContact" && e.sent_at > signal + slack)
        .map(|e| e.sent_at)
        .collect();
    assert!(
        late.is_empty(),
        "writes sent after the interrupt at {signal:?}: {late:?}"
    );
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
            ..Quotas::aws_scaled(1.0)
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
        &[
            "--rate",
            FAST,
            "apply",
            "--auto-approve",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        apply.status.code(),
        Some(1),
        "one account denies writes:\n{}",
        stderr(&apply)
    );
    let report = json(&apply);
    assert_eq!(report["summary"]["created"], 24, "{report}");
    assert_eq!(report["summary"]["failed"], 2, "{report}");
    let outcomes = outcomes(&apply);
    assert_eq!(outcomes.len(), 26, "{report}");
    for (account, kind, outcome) in outcomes {
        let writes = emulator.effective_writes(&account, &kind);
        assert_eq!(
            (writes, outcome.as_str()),
            (
                u32::from(account != member(3)),
                if account == member(3) {
                    "failed"
                } else {
                    "applied"
                }
            ),
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
    // One member account of three denies its reads: skipped, with why.
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    assert!(
        stderr(&plan).contains(&format!(
            "{} (account:GetAlternateContact on slot SECURITY: access denied",
            member(0)
        )),
        "{}",
        stderr(&plan)
    );
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

/// The organization of the tests below: four member accounts, the second
/// of which denies every Account API call, as an admin of that account
/// (or a policy on the caller) can make it.
fn one_account_denied() -> Emulator {
    let faults = Faults {
        denied: [member(1)].into(),
        ..Faults::default()
    };
    Emulator::start(CALLER, Some(organization(CALLER, 4, 2)), faults)
}

const DENIED_LINE: &str = "Skipped 100000000001 (Account 1): its contacts could not be read: AccessDenied on account:GetAlternateContact (SECURITY); nothing is planned or written for it until they can be.";

#[test]
fn one_member_account_that_denies_its_reads_is_skipped_and_the_rest_is_planned() {
    let emulator = one_account_denied();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();

    let plan = run(&emulator, &dir, &["--rate", FAST, "plan"]);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let text = stdout(&plan);
    assert!(text.contains(DENIED_LINE), "{text}");
    assert!(
        text.contains(", 4 accounts in scope")
            && text.contains("Plan: 8 to create, 0 to update, 0 to delete, 0 unchanged."),
        "the caller and the three others, two slots each: {text}"
    );
    assert!(!text.contains("100000000001 SECURITY"), "{text}");
    let said = stderr(&plan);
    assert!(
        said.contains(&format!(
            "Skipped 1 member account whose contacts could not be read, and went on with the others: {} (account:GetAlternateContact on slot SECURITY: access denied (User: ",
            member(1)
        )),
        "AWS's answer is on stderr: {said}"
    );
    // One Get per managed slot of the denied account: a 403 is not retried.
    let reads_of_denied = emulator
        .log()
        .iter()
        .filter(|e| e.account == member(1))
        .count();
    assert_eq!(reads_of_denied, 2);

    let detailed = run(
        &emulator,
        &dir,
        &["--rate", FAST, "plan", "--detailed-exitcode"],
    );
    assert_eq!(detailed.status.code(), Some(2), "{}", stderr(&detailed));

    let plan = run(
        &emulator,
        &dir,
        &["--rate", FAST, "plan", "--format", "json"],
    );
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let plan = json(&plan);
    crate::support::assert_valid(&plan, "schema/plan.schema.json");
    assert_eq!(plan["accounts_in_scope"], 4, "{plan}");
    let skipped = plan["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{plan}");
    assert_eq!(skipped[0]["account_id"], member(1));
    assert_eq!(skipped[0]["account_name"], "Account 1");
    assert_eq!(skipped[0]["reason"], "unreadable");
    assert!(
        skipped[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("access denied (User: "),
        "{plan}"
    );
    assert!(
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|change| change["account_id"] != member(1)),
        "{plan}"
    );

    let markdown = run(
        &emulator,
        &dir,
        &["--rate", FAST, "plan", "--format", "markdown"],
    );
    assert_eq!(markdown.status.code(), Some(0), "{}", stderr(&markdown));
    let text = stdout(&markdown);
    assert!(
        text.contains(": its contacts could not be read: AccessDenied on account:GetAlternateContact (SECURITY)")
            && text.contains("100000000001"),
        "{text}"
    );
}

#[test]
fn apply_writes_the_others_and_nothing_to_the_account_it_could_not_read() {
    let emulator = one_account_denied();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();
    let apply = run(
        &emulator,
        &dir,
        &["--rate", FAST, "apply", "--auto-approve"],
    );
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    let text = stdout(&apply);
    assert!(text.contains(DENIED_LINE), "{text}");
    assert!(
        text.contains("Apply complete: 8 created, 0 updated, 0 deleted, 0 failed."),
        "{text}"
    );
    let log = emulator.log();
    assert!(
        log.iter()
            .filter(|e| e.account == member(1))
            .all(|e| e.operation == "GetAlternateContact"),
        "only reads went to the account that denied them: {log:?}"
    );
    for account in [CALLER.to_owned(), member(0), member(2), member(3)] {
        for kind in ["SECURITY", "BILLING"] {
            assert_eq!(
                emulator.effective_writes(&account, kind),
                1,
                "{account} {kind}"
            );
        }
    }
    for kind in ["SECURITY", "BILLING"] {
        assert_eq!(emulator.effective_writes(&member(1), kind), 0);
    }

    // The audit reports it, once, and audits the others.
    let workspace = tempfile::tempdir().unwrap();
    let audit = run(
        &emulator,
        &workspace,
        &[
            "--rate", FAST, "audit", "--org", "--no-dns", "--format", "json",
        ],
    );
    assert_eq!(audit.status.code(), Some(2), "{}", stderr(&audit));
    let report = json(&audit);
    let findings = report["findings"].as_array().unwrap();
    let unreadable: Vec<_> = findings
        .iter()
        .filter(|f| f["check"] == "account_unreadable")
        .collect();
    assert_eq!(unreadable.len(), 1, "{findings:?}");
    assert_eq!(unreadable[0]["account_id"], member(1));
    assert_eq!(unreadable[0]["severity"], "medium");
    assert!(
        unreadable[0]["controls"]
            .as_array()
            .unwrap()
            .contains(&"securityhub:Account.1".into()),
        "{unreadable:?}"
    );
    assert!(
        findings
            .iter()
            .filter(|f| f["account_id"] == member(1))
            .all(|f| f["check"] == "account_unreadable" || f["check"] == "contacts_unprotected"),
        "no finding claims what was not read: {findings:?}"
    );
    assert_eq!(report["accounts"].as_array().unwrap().len(), 4, "{report}");
    for format in ["human", "markdown", "csv", "sarif", "html", "ocsf"] {
        let output = run(
            &emulator,
            &workspace,
            &[
                "--rate", FAST, "audit", "--org", "--no-dns", "--format", format,
            ],
        );
        assert_eq!(
            output.status.code(),
            Some(2),
            "{format}: {}",
            stderr(&output)
        );
        let text = stdout(&output);
        assert!(
            text.contains("its contacts could not be read"),
            "{format}: {text}"
        );
    }
}

#[test]
fn when_every_member_account_denies_its_reads_nothing_is_skipped_and_the_plan_fails() {
    let faults = Faults {
        denied: (0..3).map(member).collect(),
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 3, 1)), faults);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();
    for command in [&["plan"][..], &["apply", "--auto-approve"]] {
        let output = run(&emulator, &dir, &[&["--rate", FAST][..], command].concat());
        assert_eq!(output.status.code(), Some(1), "{command:?}");
        let text = stderr(&output);
        assert!(text.starts_with("error: 6 requests failed:"), "{text}");
        assert!(
            text.contains("aws organizations enable-aws-service-access --service-principal account.amazonaws.com"),
            "{text}"
        );
        assert!(!text.contains("Skipped"), "{text}");
    }
    assert!(
        emulator
            .log()
            .iter()
            .all(|e| e.operation == "GetAlternateContact"),
        "nothing was written"
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
    let mut child = emulator
        .command(
            dir.path(),
            &[
                "--rate",
                "get=100,put=4",
                "apply",
                "--auto-approve",
                "--format",
                "json",
            ],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // 42 puts at 4/s take ten seconds: the interrupt comes early in them.
    let signal = interrupt_once_writing(&emulator, &mut child);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("Interrupted: no new change will start"));
    let report = json(&output);
    assert_eq!(report["interrupted"], true, "{report}");
    no_write_sent_after(&emulator, signal);
    let outcomes = outcomes(&output);
    assert_eq!(outcomes.len(), 42, "every change has an outcome");
    let applied = outcomes.iter().filter(|(_, _, o)| o == "applied").count();
    assert!(applied > 0 && applied < 42, "{applied} applied: {report}");
    for (account, kind, outcome) in &outcomes {
        let writes = emulator.effective_writes(account, kind);
        assert_eq!(
            writes,
            u32::from(outcome == "applied"),
            "{account} {kind} is reported {outcome} and was written {writes} times"
        );
    }
    assert_eq!(report["summary"]["not_started"], 42 - applied, "{report}");
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
    assert_eq!(human.status.code(), Some(0), "{}", stderr(&human));
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

#[test]
fn a_quota_at_half_the_configured_one_converges_with_every_write_applied() {
    // The client is told 40 reads and 20 writes a second; the server allows half.
    let faults = Faults {
        latency: Duration::from_millis(5),
        latency_tail: Duration::from_millis(10),
        quotas: Some(Quotas::aws_scaled(2.0)),
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 40, 2)), faults);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();
    let apply = run(
        &emulator,
        &dir,
        &[
            "--rate",
            "get=40,put=20,delete=4",
            "apply",
            "--auto-approve",
        ],
    );
    assert_eq!(
        apply.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&apply),
        stderr(&apply)
    );
    assert!(stdout(&apply).contains("Apply complete: 82 created, 0 updated, 0 deleted, 0 failed."));
    let log = emulator.log();
    assert!(
        log.iter().any(|entry| entry.status == 429),
        "the halved quota was hit"
    );
    for n in 0..40 {
        assert_eq!(emulator.effective_writes(&member(n), "SECURITY"), 1);
        assert_eq!(emulator.effective_writes(&member(n), "BILLING"), 1);
    }
}

/// The longest time between two successful reads, after the first second.
fn longest_pause(log: &[crate::emulator::Logged]) -> Duration {
    let mut times: Vec<Duration> = log
        .iter()
        .filter(|e| e.operation == "GetAlternateContact" && e.status != 429)
        .map(|e| e.at)
        .collect();
    times.sort();
    times
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .max()
        .unwrap_or_default()
}

#[test]
fn throttling_from_jitter_does_not_pause_the_reads() {
    // Answers arrive with a random tail at a server that enforces exactly
    // the rate the client uses: some 429s are bound to happen.
    let faults = Faults {
        latency: Duration::from_millis(5),
        latency_tail: Duration::from_millis(40),
        quotas: Some(Quotas::aws_scaled(4.0)),
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 120, 1)), faults);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();
    let plan = run(
        &emulator,
        &dir,
        &["--rate", "get=40,put=20,delete=4", "plan"],
    );
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let pause = longest_pause(&emulator.log());
    // At 40 reads a second the next read is due every 25 ms; a pacer that
    // re-priced its queue after a 429 paused for seconds.
    assert!(
        pause < Duration::from_millis(400),
        "reads paused for {pause:?}"
    );
}

#[test]
fn ctrl_c_with_thousands_of_writes_queued_leaves_at_once() {
    let faults = Faults {
        latency: Duration::from_millis(20),
        latency_tail: Duration::from_millis(10),
        quotas: Some(Quotas::aws_scaled(100.0)),
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 1_500, 8)), faults);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();
    // Reads at 1,000/s, writes at 5/s: 3,002 writes would take ten minutes.
    let mut child = emulator
        .command(
            dir.path(),
            &[
                "--rate",
                "get=1000,put=5",
                "apply",
                "--auto-approve",
                "--format",
                "json",
            ],
        )
        // The plan (on stderr) and the report of 3,002 changes are more
        // than a pipe holds.
        .stdout(std::fs::File::create(dir.path().join("stdout.txt")).unwrap())
        .stderr(std::fs::File::create(dir.path().join("stderr.txt")).unwrap())
        .spawn()
        .unwrap();
    let signal = interrupt_once_writing(&emulator, &mut child);
    let interrupted = std::time::Instant::now();
    let output = child.wait_with_output().unwrap();
    let took = interrupted.elapsed();
    let written = Output {
        stdout: std::fs::read(dir.path().join("stdout.txt")).unwrap(),
        stderr: std::fs::read(dir.path().join("stderr.txt")).unwrap(),
        ..output
    };
    assert_eq!(
        written.status.code(),
        Some(1),
        "{:?}, stderr ends:\n{}",
        written.status,
        stderr_tail(&written, 30)
    );
    let report = json(&written);
    assert_eq!(report["interrupted"], true);
    no_write_sent_after(&emulator, signal);
    let outcomes = outcomes(&written);
    assert_eq!(outcomes.len(), 3_002, "every change has an outcome");
    let applied = outcomes.iter().filter(|(_, _, o)| o == "applied").count();
    let puts = emulator
        .log()
        .iter()
        .filter(|e| e.operation == "PutAlternateContact")
        .count();
    assert_eq!(puts, applied, "every write sent was applied and reported");
    assert_eq!(report["summary"]["not_started"], 3_002 - applied);
    // The writes on the wire and their read-back take a round trip or two;
    // draining the queue at 5 writes a second would take ten minutes.
    assert!(
        took < Duration::from_secs(3),
        "exited {took:?} after Ctrl-C"
    );
}

#[test]
fn a_delegated_administrator_skips_the_management_account_without_calling_it() {
    const MANAGEMENT: &str = "900000000000";
    let delegated = member(0);
    let mut org = organization(MANAGEMENT, 3, 1);
    org.management = Some(MANAGEMENT.to_owned());
    let emulator = Emulator::start(&delegated, Some(org), Faults::default());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();

    for args in [
        vec!["--rate", FAST, "plan"],
        vec!["--rate", FAST, "apply", "--auto-approve"],
    ] {
        emulator.clear_log();
        let output = run(&emulator, &dir, &args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        let text = stdout(&output);
        assert!(
            text.contains(&format!(
                "Skipped {MANAGEMENT} (Management): the management account: a delegated administrator cannot read or write its contacts; run from the management account to cover it."
            )),
            "{text}"
        );
        let log = emulator.log();
        assert!(
            log.iter().all(|e| e.account != MANAGEMENT),
            "the management account is never called: {log:?}"
        );
        assert!(
            log.iter()
                .filter(|e| e.account == delegated)
                .all(|e| !e.account_id_sent),
            "the caller's own account is not named"
        );
    }
    assert!(emulator.contact(&member(2), "SECURITY").is_some());

    // The audit finds no OPERATIONS contact anywhere (exit 2); export succeeds.
    for (args, exit) in [
        (vec!["--rate", FAST, "audit", "--org"], 2),
        (vec!["--rate", FAST, "export", "--org"], 0),
    ] {
        emulator.clear_log();
        let output = run(&emulator, &dir, &args);
        assert_eq!(
            output.status.code(),
            Some(exit),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(&format!("Skipped {MANAGEMENT}: the management account")),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            emulator.log().iter().all(|e| e.account != MANAGEMENT),
            "{args:?} never calls the management account"
        );
    }

    let json = run(
        &emulator,
        &dir,
        &["--rate", FAST, "plan", "--format", "json"],
    );
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["skipped"][0]["account_id"], MANAGEMENT);
    assert_eq!(json["skipped"][0]["reason"], "management_account");

    // Naming the management account in the file is an error, before any read.
    std::fs::write(
        dir.path().join("contacts.yaml"),
        config(&format!(
            "accounts:\n  \"{MANAGEMENT}\":\n    billing: absent\n"
        )),
    )
    .unwrap();
    emulator.clear_log();
    let plan = run(&emulator, &dir, &["--rate", FAST, "plan"]);
    assert_eq!(plan.status.code(), Some(1));
    let text = stderr(&plan);
    assert!(
        text.contains(&format!("account {MANAGEMENT} is the organization's management account, which this caller ({delegated}), a delegated administrator, cannot manage")),
        "{text}"
    );
    assert!(text.contains("contacts.yaml:8:"), "located: {text}");
    assert!(
        emulator.log().is_empty(),
        "no contact was read: {:?}",
        emulator.log()
    );
}

#[test]
fn trusted_access_off_stops_after_a_handful_of_denied_accounts() {
    let members: BTreeSet<String> = (0..300).map(member).collect();
    let faults = Faults {
        denied: members,
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 300, 3)), faults);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();
    let plan = run(&emulator, &dir, &["--rate", "get=200", "plan"]);
    assert_eq!(plan.status.code(), Some(1));
    let text = stderr(&plan);
    assert!(
        text.starts_with("error: access denied on ")
            && text.contains(" member accounts (100000000000, "),
        "{text}"
    );
    assert!(
        text.contains(
            "aws organizations enable-aws-service-access --service-principal account.amazonaws.com"
        ),
        "{text}"
    );
    assert_eq!(text.matches("help:").count(), 1, "said once: {text}");
    let reads = emulator.log().len();
    assert!(
        reads < 150,
        "stopped early: {reads} of 602 slots read before the error"
    );
}

/// When the read that ends a run's reading comes back, every later read
/// must still be unsent: waiting for its turn under the rate is not being
/// sent, and at 10 reads/s the reads queued behind the pacer would
/// otherwise trickle out for seconds after the error was known.
fn no_read_is_sent_after(
    emulator: &Emulator,
    last_answer_that_counts: impl Fn(&[Logged]) -> Duration,
) {
    let log = emulator.log();
    let stop = last_answer_that_counts(&log);
    // The answer's way back and the client noticing it.
    let slack = Duration::from_millis(20);
    let late: Vec<_> = log
        .iter()
        .filter(|request| request.sent_at > stop + slack)
        .collect();
    assert!(
        late.is_empty(),
        "{} reads sent after the stop at {stop:?}, the first at {:?}",
        late.len(),
        late.first().map(|request| request.sent_at)
    );
}

#[test]
fn reads_queued_behind_the_rate_are_not_sent_once_denials_are_systemic() {
    let faults = Faults {
        denied: (0..300).map(member).collect(),
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 300, 3)), faults);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();
    let plan = run(&emulator, &dir, &["--rate", "get=10", "plan"]);
    assert_eq!(plan.status.code(), Some(1), "{}", stderr(&plan));
    no_read_is_sent_after(&emulator, |log| {
        let mut denied = BTreeSet::new();
        log.iter()
            .find(|request| {
                request.status == 403 && denied.insert(request.account.clone()) && denied.len() == 5
            })
            .expect("five member accounts were denied")
            .at
    });
}

#[test]
fn reads_queued_behind_the_rate_are_not_sent_once_credentials_expired() {
    let faults = Faults {
        credentials_expire_after: Some(20),
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 300, 3)), faults);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();
    let plan = run(&emulator, &dir, &["--rate", "get=10", "plan"]);
    assert_eq!(plan.status.code(), Some(1), "{}", stderr(&plan));
    assert!(
        stderr(&plan).contains("the AWS credentials expired during the run"),
        "{}",
        stderr(&plan)
    );
    no_read_is_sent_after(&emulator, |log| {
        log.iter()
            .filter(|request| request.status == 403)
            .map(|request| request.at)
            .min()
            .expect("a read was answered ExpiredTokenException")
    });
}

#[test]
fn credentials_that_expire_mid_run_stop_it_at_once_and_say_why() {
    let faults = Faults {
        credentials_expire_after: Some(40),
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 300, 3)), faults);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();
    let plan = run(&emulator, &dir, &["--rate", "get=200", "plan"]);
    assert_eq!(plan.status.code(), Some(1));
    let text = stderr(&plan);
    assert!(
        text.contains("the AWS credentials expired during the run"),
        "{text}"
    );
    assert!(text.contains("role-duration-seconds"), "{text}");
    let requests = emulator.log().len();
    assert!(
        requests < 40 + 2 * 64,
        "no read was started after the expiry was seen: {requests} of 602"
    );

    // An apply stops starting writes at the first expired one.
    let faults = Faults {
        credentials_expire_after: Some(70),
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 30, 1)), faults);
    let apply = run(
        &emulator,
        &dir,
        &[
            "--rate",
            "get=200,put=10",
            "apply",
            "--auto-approve",
            "--format",
            "json",
        ],
    );
    assert_eq!(apply.status.code(), Some(1), "{}", stderr(&apply));
    let report = json(&apply);
    assert!(
        report["summary"]["not_started"].as_u64() > Some(0),
        "{}",
        report["summary"]
    );
    let expired: Vec<_> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|result| result["outcome"] == "failed")
        .collect();
    assert!(
        !expired.is_empty()
            && expired
                .iter()
                .all(|result| result["error"]["code"] == "credentials_expired"),
        "{}",
        report["summary"]
    );
    let log = emulator.log();
    let first_expired = log
        .iter()
        .filter(|e| e.operation == "PutAlternateContact" && e.status == 403)
        .map(|e| e.at)
        .min()
        .expect("a write was answered ExpiredTokenException");
    let late = log
        .iter()
        .filter(|e| {
            e.operation == "PutAlternateContact"
                && e.sent_at > first_expired + Duration::from_millis(50)
        })
        .count();
    assert_eq!(late, 0, "writes stop once one comes back expired");
}

#[test]
fn a_credential_failure_names_the_provider_and_the_file() {
    let emulator = Emulator::start(CALLER, None, Faults::default());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("contacts.yaml"),
        "version: 1\naccounts:\n  \"999999999999\": { billing: absent }\n",
    )
    .unwrap();
    let output = emulator
        .command(dir.path(), &["plan"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env(
            "AWS_ROLE_ARN",
            "arn:aws:iam::999999999999:role/altcontacts-plan",
        )
        .env(
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "/nonexistent/altcontacts-test/web-identity-token",
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.starts_with("error: sts:GetCallerIdentity: AWS credentials could not be loaded from web identity (token file /nonexistent/altcontacts-test/web-identity-token, role arn:aws:iam::999999999999:role/altcontacts-plan): "),
        "the provider, its file and role, then the SDK's cause: {text}"
    );
    assert!(text.contains("No such file or directory"), "{text}");
    assert!(
        text.contains("/nonexistent/altcontacts-test/web-identity-token"),
        "the file that could not be used is named: {text}"
    );
    assert!(!text.contains("no AWS credentials were found"), "{text}");
    assert!(emulator.log().is_empty());
}

#[test]
fn a_unit_whose_name_holds_a_slash_is_not_split() {
    let mut org = organization(CALLER, 0, 1);
    org.units = vec![
        ("ou-emu1-slash001".into(), "Prod/EU".into(), "r-emu1".into()),
        ("ou-emu1-prod0001".into(), "Prod".into(), "r-emu1".into()),
        (
            "ou-emu1-eu000001".into(),
            "EU".into(),
            "ou-emu1-prod0001".into(),
        ),
    ];
    for (n, parent) in ["ou-emu1-slash001", "ou-emu1-eu000001"].iter().enumerate() {
        org.accounts.push(crate::emulator::OrgAccount {
            id: member(n as u64),
            name: format!("Account {n}"),
            status: "ACTIVE".into(),
            parent: (*parent).into(),
            joined: crate::emulator::joined_ago(86_400),
        });
    }
    let emulator = Emulator::start(CALLER, Some(org), Faults::default());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("contacts.yaml"),
        config(
            "  units:\n    Root/Prod\\/EU: { operations: sec }\n    Root/Prod/EU: { billing: absent }\n",
        ),
    )
    .unwrap();
    let plan = run(
        &emulator,
        &dir,
        &["--rate", FAST, "plan", "--format", "json"],
    );
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let json: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let changes: BTreeSet<(String, String, String)> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["account_id"].as_str().unwrap().to_owned(),
                c["contact_type"].as_str().unwrap().to_owned(),
                c["source"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        changes.contains(&(
            member(0),
            "OPERATIONS".into(),
            "units[\"Root/Prod\\/EU\"]".into()
        )),
        "the unit named Prod/EU: {changes:?}"
    );
    assert!(
        !changes
            .iter()
            .any(|(a, k, _)| *a == member(1) && k == "OPERATIONS"),
        "Prod > EU is another unit: {changes:?}"
    );
    assert!(
        changes.contains(&(member(0), "BILLING".into(), "organization.defaults".into())),
        "Root/Prod/EU is not the unit named Prod/EU: {changes:?}"
    );
    assert!(
        !changes
            .iter()
            .any(|(a, k, _)| *a == member(1) && k == "BILLING"),
        "Root/Prod/EU, the nested unit, has BILLING absent: {changes:?}"
    );
}

#[test]
fn joined_since_reads_and_writes_only_the_new_accounts() {
    let mut org = organization(CALLER, 30, 3);
    let new: Vec<String> = [4u64, 17, 29].map(member).to_vec();
    for account in &mut org.accounts {
        if new.contains(&account.id) {
            account.joined = crate::emulator::joined_ago(30 * 60);
        }
    }
    let emulator = Emulator::start(CALLER, Some(org), Faults::default());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();

    let plan = run(
        &emulator,
        &dir,
        &[
            "--rate",
            FAST,
            "plan",
            "--joined-since",
            "2h",
            "--format",
            "json",
        ],
    );
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let json: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(json["accounts_in_scope"], 3);
    assert_eq!(json["joined_since"]["older_accounts_not_read"], 28);
    assert_eq!(json["summary"]["create"], 6);

    emulator.clear_log();
    let apply = run(
        &emulator,
        &dir,
        &[
            "--rate",
            FAST,
            "apply",
            "--auto-approve",
            "--joined-since",
            "2h",
        ],
    );
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    let log = emulator.log();
    let touched: BTreeSet<String> = log.iter().map(|e| e.account.clone()).collect();
    assert_eq!(
        touched,
        new.iter().cloned().collect(),
        "no slot of an older account is read or written"
    );
    let count = |operation: &str| log.iter().filter(|e| e.operation == operation).count();
    assert_eq!(
        count("PutAlternateContact"),
        6,
        "SECURITY and BILLING of 3 accounts"
    );
    assert_eq!(
        count("GetAlternateContact"),
        12,
        "6 reads, then 6 read-backs"
    );
    assert!(stdout(&apply).contains("Only accounts that joined after "));
}

#[test]
fn apply_with_base_sends_one_write_for_a_one_slot_change() {
    let emulator = Emulator::start(
        CALLER,
        Some(organization(CALLER, 200, 4)),
        Faults::default(),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("base.yaml"), config("")).unwrap();
    std::fs::write(
        dir.path().join("contacts.yaml"),
        config(&format!(
            "accounts:\n  \"{}\":\n    billing: {{ name: Other, title: Team, email_address: other@example.com, phone_number: \"+1 202 555 0100\" }}\n",
            member(42)
        )),
    )
    .unwrap();
    let apply = run(
        &emulator,
        &dir,
        &[
            "--rate",
            FAST,
            "apply",
            "--auto-approve",
            "--base",
            "base.yaml",
        ],
    );
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    let log = emulator.log();
    assert_eq!(
        log.iter()
            .map(|e| (e.operation, e.account.as_str(), e.kind.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("GetAlternateContact", member(42).as_str(), "BILLING"),
            ("PutAlternateContact", member(42).as_str(), "BILLING"),
            ("GetAlternateContact", member(42).as_str(), "BILLING"),
        ],
        "the changed slot is read, written once and read back; nothing else"
    );
    assert_eq!(
        emulator.contact(&member(42), "BILLING").map(|c| c.email),
        Some("other@example.com".into())
    );
}

#[test]
fn on_a_terminal_the_progress_line_shows_a_whole_rate_and_no_eta_before_the_total_is_known() {
    let faults = Faults {
        latency: Duration::from_millis(30),
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 40, 2)), faults);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();
    let inner = emulator.command(dir.path(), &["--rate", "get=20", "plan"]);
    // The same run on a pseudo-terminal (util-linux `script`).
    let line = std::iter::once(inner.get_program())
        .chain(inner.get_args())
        .map(|part| format!("'{}'", part.to_str().unwrap()))
        .collect::<Vec<_>>()
        .join(" ");
    let mut command = std::process::Command::new("script");
    command
        .args(["-qec", &line, "/dev/null"])
        .current_dir(dir.path());
    for (name, value) in inner.get_envs() {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let output = command.output().unwrap();
    let seen = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{seen}");
    let frames: Vec<&str> = seen
        .split(['\r', '\n'])
        .filter(|frame| frame.contains(" slots, "))
        .collect();
    assert!(!frames.is_empty(), "a progress line was drawn: {seen:?}");
    for frame in &frames {
        let rate = frame
            .split(" slots, ")
            .nth(1)
            .and_then(|rest| rest.split("/s").next())
            .unwrap_or_default();
        assert!(
            !rate.is_empty() && rate.bytes().all(|b| b.is_ascii_digit()),
            "a whole rate: {frame:?}"
        );
        assert!(
            frame.contains("ETA ") || frame.contains("total still growing"),
            "{frame:?}"
        );
    }
    // While discovery lists accounts the total is a guess; once it is known
    // it stays known.
    let known = frames
        .iter()
        .position(|frame| frame.contains("ETA "))
        .expect("an ETA once the total was known");
    assert!(frames[0].contains("total still growing"), "{frames:?}");
    assert!(
        frames[known..].iter().all(|frame| frame.contains("ETA ")),
        "{frames:?}"
    );
}

#[test]
fn an_endpoint_that_does_not_answer_is_one_line_naming_its_address_and_the_cause() {
    // A port nothing listens on: bound, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config("")).unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_altcontacts"));
    command.current_dir(dir.path());
    crate::emulator::with_test_credentials(&mut command);
    let output = command
        .args(["--endpoint-url", &address, "plan"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{said}");
    let error: Vec<&str> = said
        .lines()
        .filter(|line| line.starts_with("error:"))
        .collect();
    assert_eq!(
        error,
        [format!(
            "error: sts:GetCallerIdentity: cannot reach {address}: tcp connect error: Connection refused (os error 111)"
        )],
        "{said}"
    );
    assert!(
        !said.contains("DispatchFailure") && !said.contains('{'),
        "{said}"
    );
}
