//! SIGINT and SIGTERM are one interrupt: before any write it ends the run
//! at once; during an apply the first starts no new write and the report is
//! printed; a second prints the report as it stands and quits at once.

use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use crate::emulator::{Emulator, Faults, MemberRoles, organization};
use crate::support::{stderr, stdout};

const CALLER: &str = "999999999999";

const CONFIG: &str = r#"version: 1
contacts:
  sec: { name: Security, title: Team, email_address: security@example.com, phone_number: "+1 202 555 0100" }
  bill: { name: Billing, title: Team, email_address: billing@example.com, phone_number: "+1 202 555 0100" }
organization:
  defaults: { security: sec, billing: bill }
"#;

fn signal(child: &Child, signal: i32) {
    // SAFETY: kill() only sends a signal to the child this test spawned.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
}

/// Waits until `ready` holds, failing (and stopping the child) after a minute.
fn wait_for(child: &mut Child, what: &str, ready: impl Fn() -> bool) {
    let started = Instant::now();
    while !ready() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before {what}");
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("{what} did not happen within a minute");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn apply(emulator: &Emulator, dir: &tempfile::TempDir, rate: &str) -> Child {
    std::fs::write(dir.path().join("contacts.yaml"), CONFIG).unwrap();
    emulator
        .command(dir.path(), &["--rate", rate, "apply", "--auto-approve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The report's outcome lines: (account, slot, mark), mark being the line's
/// first character (✓ applied, ✗ failed, · not started, ? in flight).
fn outcome_lines(output: &Output) -> Vec<(String, String, char)> {
    stdout(output)
        .lines()
        .filter_map(|line| {
            let mark = line.chars().next()?;
            if !"✓✗·?".contains(mark) {
                return None;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let account = words
                .iter()
                .find(|w| w.len() == 12 && w.bytes().all(|b| b.is_ascii_digit()))?;
            let kind = words.iter().find(|w| {
                ["SECURITY", "BILLING", "OPERATIONS"].contains(&w.trim_end_matches(':'))
            })?;
            Some((
                account.to_string(),
                kind.trim_end_matches(':').to_owned(),
                mark,
            ))
        })
        .collect()
}

#[test]
fn sigterm_stops_an_apply_as_ctrl_c_does_and_the_report_is_printed() {
    // 42 creates at 4 writes a second: ten seconds of writing.
    sigterm_mid_apply(&[], "get=100,put=4", None);
}

#[test]
fn through_member_roles_sigterm_stops_the_apply_as_well() {
    // Each account writes its own two at one write in five seconds.
    let roles = MemberRoles {
        name: "altcontacts-member".to_owned(),
        ..MemberRoles::default()
    };
    sigterm_mid_apply(
        &["--member-role", "altcontacts-member"],
        "get=100,put=0.2",
        Some(roles),
    );
}

fn sigterm_mid_apply(flags: &[&str], rate: &str, member_roles: Option<MemberRoles>) {
    let faults = Faults {
        latency: Duration::from_millis(50),
        member_roles,
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 20, 1)), faults);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), CONFIG).unwrap();
    let mut child = emulator
        .command(
            dir.path(),
            &[&["--rate", rate, "apply", "--auto-approve"], flags].concat(),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&mut child, "three writes", || {
        emulator
            .log()
            .iter()
            .filter(|e| e.operation == "PutAlternateContact")
            .count()
            >= 3
    });
    let signalled = emulator.now();
    signal(&child, libc::SIGTERM);
    let output = child.wait_with_output().unwrap();

    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = stdout(&output);
    assert!(
        report
            .lines()
            .last()
            .unwrap()
            .starts_with("Apply interrupted: "),
        "{report}"
    );
    assert!(stderr(&output).contains("Interrupted: no new change will start"));
    let late: Vec<_> = emulator
        .log()
        .into_iter()
        .filter(|e| e.operation == "PutAlternateContact")
        .filter(|e| e.sent_at > signalled + Duration::from_millis(20))
        .collect();
    assert!(late.is_empty(), "writes sent after SIGTERM: {late:?}");
    let outcomes = outcome_lines(&output);
    assert_eq!(outcomes.len(), 42, "{report}");
    for (account, kind, mark) in &outcomes {
        let written = emulator.effective_writes(account, kind);
        assert_eq!(
            written,
            u32::from(*mark == '✓'),
            "{account} {kind} {mark}: {report}"
        );
    }
    assert!(outcomes.iter().any(|(_, _, mark)| *mark == '·'), "{report}");
}

/// Collects what the child says on stderr as it says it, so a test can wait
/// for a line instead of sleeping.
fn follow_stderr(child: &mut Child) -> std::sync::Arc<std::sync::Mutex<String>> {
    use std::io::Read as _;
    let said = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut pipe = child.stderr.take().expect("stderr is piped");
    let buffer = std::sync::Arc::clone(&said);
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = pipe.read(&mut chunk) {
            buffer
                .lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    });
    said
}

#[test]
fn a_second_signal_quits_at_once_and_reports_the_writes_still_in_flight() {
    let faults = Faults {
        // Each write is on the wire for a minute: only a second signal ends
        // the run before they answer.
        write_latency: Duration::from_secs(60),
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 20, 1)), faults);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), CONFIG).unwrap();
    let mut child = emulator
        .command(
            dir.path(),
            &[
                "--rate",
                "get=100,put=2",
                "apply",
                "--auto-approve",
                "--format",
                "json",
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let said = follow_stderr(&mut child);
    wait_for(&mut child, "two writes on the wire", || {
        emulator.arrivals("PutAlternateContact") >= 2
    });
    signal(&child, libc::SIGINT);
    wait_for(&mut child, "the first signal taken", || {
        said.lock()
            .unwrap()
            .contains("Interrupted: no new change will start")
    });
    let written_before = emulator.arrivals("PutAlternateContact");
    signal(&child, libc::SIGTERM);
    let signalled = Instant::now();
    let output = child.wait_with_output().unwrap();
    let took = signalled.elapsed();

    assert_eq!(output.status.code(), Some(143), "{}", said.lock().unwrap());
    assert!(
        took < Duration::from_secs(2),
        "quit {took:?} after the second signal"
    );
    // The report as it stood, in the format asked for.
    let report = crate::support::json(&output);
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["summary"]["created"], 0, "{}", report["summary"]);
    assert_eq!(
        report["summary"]["in_flight"], written_before,
        "{}",
        report["summary"]
    );
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 42);
    let in_flight = results
        .iter()
        .filter(|result| result["outcome"] == "in_flight")
        .count();
    assert_eq!(in_flight, written_before);
    assert_eq!(emulator.arrivals("PutAlternateContact"), written_before);
}

#[test]
fn an_interrupt_before_any_write_ends_the_run_at_once_and_says_so() {
    let faults = Faults {
        latency: Duration::from_millis(100),
        ..Faults::default()
    };
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 200, 1)), faults);
    let dir = tempfile::tempdir().unwrap();
    // 402 reads at 20 a second: twenty seconds of reading.
    let mut child = apply(&emulator, &dir, "get=20");
    wait_for(&mut child, "the first reads", || {
        emulator.arrivals("GetAlternateContact") >= 5
    });
    signal(&child, libc::SIGTERM);
    let signalled = Instant::now();
    let output = child.wait_with_output().unwrap();

    assert_eq!(output.status.code(), Some(143), "{}", stderr(&output));
    assert!(signalled.elapsed() < Duration::from_secs(2));
    assert!(
        stderr(&output).contains("Interrupted before any write: nothing was written."),
        "{}",
        stderr(&output)
    );
    assert_eq!(emulator.arrivals("PutAlternateContact"), 0);
}

/// A sandbox of 3,000 accounts with nothing set, for 6,000 creates.
fn large_sandbox() -> String {
    use std::fmt::Write as _;
    let mut sandbox = String::from(
        "caller: \"999999999999\"\norganization:\n  management_account: \"999999999999\"\naccounts:\n  \"999999999999\": {}\n",
    );
    for n in 0..2_999u64 {
        let _ = writeln!(sandbox, "  \"{}\": {{}}", 100_000_000_000 + n);
    }
    sandbox
}

#[test]
fn an_interrupted_sandbox_apply_leaves_a_file_holding_exactly_the_writes_reported() {
    let workspace = crate::support::Workspace::new();
    workspace.write("contacts.yaml", CONFIG);
    workspace.write("sandbox.yaml", &large_sandbox());
    // Paced as AWS would be (the sandbox takes `--rate` then): 6,000
    // writes take seconds, so the interrupt lands while they go out.
    let mut child = workspace
        .sandbox(&[
            "--rate",
            "put=1000",
            "apply",
            "--auto-approve",
            "--format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let said = follow_stderr(&mut child);
    wait_for(&mut child, "the plan shown", || {
        said.lock().unwrap().contains("Plan: 6000 to create")
    });
    signal(&child, libc::SIGINT);
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "an interrupted apply fails: {}",
        said.lock().unwrap()
    );
    let report = crate::support::json(&output);
    crate::support::assert_valid(&report, "schema/apply-report.schema.json");
    assert_eq!(report["interrupted"], true, "{}", said.lock().unwrap());
    assert!(
        report["summary"]["not_started"].as_u64().unwrap() > 0,
        "the interrupt came while writes were still to start: {}",
        report["summary"]
    );
    let outcome_of: std::collections::BTreeMap<(String, String), String> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| {
            let text = |field: &str| result[field].as_str().unwrap().to_owned();
            ((text("account_id"), text("contact_type")), text("outcome"))
        })
        .collect();
    assert_eq!(outcome_of.len(), 6_000);

    // What the file holds now, as a new plan sees it.
    let replan = workspace
        .sandbox(&["plan", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        replan.status.code(),
        Some(0),
        "the file reads: {}",
        stderr(&replan)
    );
    let still_to_do: std::collections::BTreeSet<(String, String)> =
        crate::support::json(&replan)["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|change| {
                (
                    change["account_id"].as_str().unwrap().to_owned(),
                    change["contact_type"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
    for (slot, outcome) in &outcome_of {
        match outcome.as_str() {
            "applied" => assert!(
                !still_to_do.contains(slot),
                "{slot:?} reported applied, not in the file"
            ),
            "in_flight" => {}
            _ => assert!(
                still_to_do.contains(slot),
                "{slot:?} reported {outcome}, yet in the file"
            ),
        }
    }
}
