//! The loop's behaviour that is the same on every forge, written once:
//! the scenarios, what they plan (a contacts file of the emulator's
//! organization), and what they ask of a forge's world ([`LoopWorld`]).
//! Each forge's test file runs them on its world, beside the scenarios
//! only that forge has.

use std::ops::Deref;

use crate::emulator::Emulator;
use crate::git_remote::{Remote, git};

/// What a scenario does on a forge: push to `main`, run what the push
/// starts, and read the record of applies.
pub trait LoopWorld: Deref<Target = Remote> {
    /// What a push to `main` starts: a workflow run, a pipeline.
    type Push;
    type Ran: Ran;
    /// The statuses a failed apply leaves on its record, in the forge's words.
    const FAILED_RECORD: [&'static str; 2];

    fn aws(&self) -> &Emulator;
    /// What pushing `main` from `before` to its head starts.
    fn push_from(&self, before: &str) -> Self::Push;
    fn run(&self, push: &Self::Push) -> Self::Ran;
    /// The run succeeded and its apply ran.
    fn assert_applied(&self, ran: &Self::Ran);
    /// The commits whose apply fully succeeded, oldest first.
    fn applied(&self) -> Vec<String>;
    /// The statuses of the newest record, oldest first.
    fn last_record(&self) -> Vec<String>;
}

pub trait Ran {
    fn succeeded(&self) -> bool;
    fn log(&self) -> String;
}

/// Merges the developer's HEAD into main and runs the push's run.
pub fn merge_and_run<W: LoopWorld>(world: &W) -> W::Ran {
    let before = git(&world.origin, &["rev-parse", "main"]);
    world.push_main();
    world.run(&world.push_from(&before))
}

/// `contacts.yaml` on main, applied, with the record at that commit.
pub fn adopted<W: LoopWorld>(world: &W, file: &str) {
    world.commit(&[("contacts.yaml", file)], "Declare the contacts");
    world.assert_applied(&merge_and_run(world));
    assert_eq!(world.applied().last(), Some(&world.head()));
    world.aws().clear_log();
}

/// A push of several commits (a rebase merge) is one run, at the last;
/// and when a push's run never happens (evicted, never scheduled), the
/// next applies what it would have: each contact written once.
pub fn several_commits_and_a_run_that_never_happens_leave_nothing_unapplied<W: LoopWorld>(
    world: W,
) {
    adopted(&world, &contacts("security@example.com", &[]));

    let before = git(&world.origin, &["rev-parse", "main"]);
    let mut entries = Vec::new();
    for n in 0..3 {
        entries.push(operations(&member(n), &format!("ops{n}@example.com")));
        world.commit(
            &[("contacts.yaml", &contacts("security@example.com", &entries))],
            &format!("Ops {n}"),
        );
    }
    world.push_main();
    world.assert_applied(&world.run(&world.push_from(&before)));
    assert_eq!(
        drift(world.aws(), &contacts("security@example.com", &entries)),
        "No changes. 17 contacts match the configuration."
    );

    // Three merges; the second one's run never happens.
    let mut pushes = Vec::new();
    for n in 3..6 {
        let before = git(&world.origin, &["rev-parse", "main"]);
        entries.push(operations(&member(n), &format!("ops{n}@example.com")));
        world.commit(
            &[("contacts.yaml", &contacts("security@example.com", &entries))],
            &format!("Ops {n}"),
        );
        world.push_main();
        pushes.push(world.push_from(&before));
    }
    world.assert_applied(&world.run(&pushes[0]));
    world.assert_applied(&world.run(&pushes[2]));
    assert_eq!(
        drift(world.aws(), &contacts("security@example.com", &entries)),
        "No changes. 20 contacts match the configuration."
    );
    for n in 0..6 {
        assert_eq!(
            world.aws().effective_writes(&member(n), "OPERATIONS"),
            1,
            "account {n}"
        );
    }
    assert_eq!(world.applied().last(), Some(&world.head()));
}

/// A failed write leaves the record where it was; the next merge, of
/// another change, also writes what the failed apply did not, once.
pub fn a_failed_write_leaves_the_record_and_the_next_run_writes_what_is_missing_once<
    W: LoopWorld,
>(
    world: W,
) {
    adopted(&world, &contacts("security@example.com", &[]));
    let recorded = world.applied();
    world.aws().deny_writes(&member(2), true);
    let entries: Vec<String> = (0..4)
        .map(|n| operations(&member(n), "ops@example.com"))
        .collect();
    let file = contacts("security@example.com", &entries);
    world.commit(&[("contacts.yaml", &file)], "Operations everywhere");
    let failed = merge_and_run(&world);
    assert!(!failed.succeeded(), "{}", failed.log());
    assert!(
        failed
            .log()
            .contains("Apply complete: 3 created, 0 updated, 0 deleted, 1 failed."),
        "{}",
        failed.log()
    );
    assert_eq!(world.applied(), recorded, "a failed apply is not a base");
    assert_eq!(world.last_record(), W::FAILED_RECORD);

    world.aws().deny_writes(&member(2), false);
    let file = file.replace("billing@example.com", "accounts-payable@example.com");
    world.commit(&[("contacts.yaml", &file)], "A new billing address");
    world.assert_applied(&merge_and_run(&world));
    assert_eq!(
        drift(world.aws(), &file),
        "No changes. 14 contacts match the configuration."
    );
    for n in 0..4 {
        assert_eq!(
            world.aws().effective_writes(&member(n), "OPERATIONS"),
            1,
            "account {n}"
        );
    }
}

pub fn member(n: u64) -> String {
    (100_000_000_000 + n).to_string()
}

/// A contacts file: SECURITY and BILLING for every account, and the
/// entries given (each `"ID": { ... }` line under `accounts:`).
pub fn contacts(security_email: &str, accounts: &[String]) -> String {
    let mut text = format!(
        r#"version: 1
contacts:
  sec: {{ name: Security, title: Team, email_address: {security_email}, phone_number: "+1 202 555 0100" }}
  bill: {{ name: Billing, title: Team, email_address: billing@example.com, phone_number: "+1 202 555 0101" }}
organization:
  defaults: {{ security: sec, billing: bill }}
rate: {{ get: 1000, put: 1000, delete: 1000 }}
"#
    );
    if !accounts.is_empty() {
        text.push_str("accounts:\n");
        for entry in accounts {
            text.push_str(&format!("  {entry}\n"));
        }
    }
    text
}

pub fn operations(account: &str, email: &str) -> String {
    format!(
        r#""{account}": {{ operations: {{ name: Ops, title: On-Call, email_address: {email}, phone_number: "+1 202 555 0102" }} }}"#
    )
}

/// What AWS holds differs from `file` in this many slots: a full plan,
/// made by the binary against the emulator, outside the loop.
pub fn drift(aws: &Emulator, file: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), file).unwrap();
    let output = aws.command(dir.path(), &["plan"]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned()
}
