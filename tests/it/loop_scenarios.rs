//! The loop's behaviour that is the same on every forge, written once:
//! the scenarios, what they plan (a contacts file of the emulator's
//! organization), and what they ask of a forge's world ([`LoopWorld`]).
//! Each forge's test file runs them on its world, beside the scenarios
//! only that forge has.

use std::ops::Deref;

use crate::emulator::Emulator;
use crate::git_remote::{Remote, git};

/// The scenarios every forge runs alike, one test each, named as the
/// scenario: a forge's test file says `every_forge!(world);`, where
/// `world(members)` makes its world with that many member accounts.
macro_rules! every_forge {
    ($world:ident) => {
        #[test]
        fn several_commits_and_a_run_that_never_happens_leave_nothing_unapplied() {
            $crate::loop_scenarios::several_commits_and_a_run_that_never_happens_leave_nothing_unapplied($world(6));
        }

        #[test]
        fn an_account_s_event_applies_that_account_only_and_the_schedule_does_not_do_it_again() {
            $crate::loop_scenarios::an_account_s_event_applies_that_account_only_and_the_schedule_does_not_do_it_again($world(4));
        }

        #[test]
        fn an_event_s_bad_account_is_refused_and_nothing_is_written() {
            $crate::loop_scenarios::an_event_s_bad_account_is_refused_and_nothing_is_written($world(3));
        }

        #[test]
        fn a_failed_write_leaves_the_record_and_the_next_run_writes_what_is_missing_once() {
            $crate::loop_scenarios::a_failed_write_leaves_the_record_and_the_next_run_writes_what_is_missing_once($world(4));
        }

        #[test]
        fn nightly_drift_is_one_issue_updated_while_it_lasts_and_closed_when_it_ends() {
            $crate::loop_scenarios::nightly_drift_is_one_issue_updated_while_it_lasts_and_closed_when_it_ends($world(3));
        }

        #[test]
        fn a_record_the_pipeline_did_not_write_or_off_the_default_branch_is_ignored_and_the_merge_applied() {
            $crate::loop_scenarios::a_record_the_pipeline_did_not_write_or_off_the_default_branch_is_ignored_and_the_merge_applied($world(3));
        }

        #[test]
        fn an_event_s_run_applies_a_merge_whose_run_never_happened_then_its_account() {
            $crate::loop_scenarios::an_event_s_run_applies_a_merge_whose_run_never_happened_then_its_account($world(3));
        }

        #[test]
        fn an_account_named_as_a_reference_or_a_mention_links_and_pings_nothing_in_the_review() {
            $crate::loop_scenarios::an_account_named_as_a_reference_or_a_mention_links_and_pings_nothing_in_the_review($world(2));
        }

        #[test]
        fn an_account_that_cannot_be_read_is_skipped_the_rest_applied_and_the_record_left_for_the_next_run() {
            $crate::loop_scenarios::an_account_that_cannot_be_read_is_skipped_the_rest_applied_and_the_record_left_for_the_next_run($world(4));
        }

        #[test]
        fn an_account_that_joins_between_two_scheduled_runs_gets_its_contacts_alone() {
            $crate::loop_scenarios::an_account_that_joins_between_two_scheduled_runs_gets_its_contacts_alone($world(5));
        }
    };
}
pub(crate) use every_forge;

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
    /// This forge, as `altcontacts events --forge` names it.
    const FORGE: &'static str;
    /// Runs the new-accounts job as the event rule's request (its `body`)
    /// starts it.
    fn run_event(&self, body: &serde_json::Value) -> Self::Ran;
    /// Runs the new-accounts job on its schedule.
    fn run_schedule(&self) -> Self::Ran;
    /// The accounts' own applies (an event's run): the account and the
    /// record's last status, oldest first.
    fn account_records(&self) -> Vec<(String, String)>;
    /// Runs the nightly drift job, which must run and succeed.
    fn run_drift(&self) -> Self::Ran;
    /// The repository's issues, oldest first, as the forge holds them.
    fn issues(&self) -> Vec<SeenIssue>;
    /// The labels the drift issue carries (Bitbucket's issues have none).
    const DRIFT_LABELS: &'static [&'static str];
    /// How many notes a page of the forge's fake server holds.
    const NOTES_PER_PAGE: usize;
    /// Opens review `number` from the developer's branch.
    fn open_review(&self, number: u64);
    /// Adds `count` notes to the review, by a reviewer: `body`, or filler
    /// when it is `None`.
    fn add_reviewer_notes(&self, number: u64, count: usize, body: Option<&str>);
    /// Runs the review's plan job, which must run and succeed.
    fn run_review(&self, number: u64) -> Self::Ran;
    /// The review's notes, oldest first: whether the token's own user
    /// wrote it, and its text.
    fn review_notes(&self, number: u64) -> Vec<(bool, String)>;
    /// How many pages of the review's notes the tool read.
    fn note_pages_read(&self, number: u64) -> usize;
    /// Records an apply of `commit` of contacts.yaml that fully succeeded,
    /// as `forger` can on this forge, through its API; whether the forge
    /// took the record (it may refuse what `forger` holds).
    fn forge_record(&self, commit: &str, forger: Forger) -> bool;
}

/// Who writes a record of an apply that the loop did not make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forger {
    /// A collaborator, with a token of their own.
    Collaborator,
    /// A pipeline of another branch, with what the loop writes with (the
    /// job's token, the project's token, the repository's variables).
    BranchPipeline,
}

/// An issue as a reader sees it on any forge.
#[derive(Clone, Debug)]
pub struct SeenIssue {
    /// `open`, `closed` (as done); GitHub's other reasons are `closed (REASON)`.
    pub state: String,
    pub labels: Vec<String>,
    pub title: String,
    pub body: String,
    /// Its comments or notes, oldest first.
    pub comments: Vec<String>,
}

/// The first line of the plan note of `contacts.yaml`.
pub const PLAN_MARKER: &str = "<!-- altcontacts plan: contacts.yaml -->";

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

/// A record of an apply that the pipeline's own identity did not write,
/// or of a commit off the default branch, is named and passed over: the
/// merge it would have skipped is applied, once. A branch's pipeline
/// records a commit made on top of the merge (which once made the merge
/// look "older than what was applied"), then the merge itself, with what
/// it holds of the pipeline's (the job's token, the project's token, the
/// repository's variables); a collaborator records the merge too.
pub fn a_record_the_pipeline_did_not_write_or_off_the_default_branch_is_ignored_and_the_merge_applied<
    W: LoopWorld,
>(
    world: W,
) {
    adopted(&world, &contacts("security@example.com", &[]));
    let mut entries = Vec::new();
    for (n, forger, on_the_merge) in [
        (0, Forger::BranchPipeline, false),
        (1, Forger::BranchPipeline, true),
        (2, Forger::Collaborator, true),
    ] {
        let before = git(&world.origin, &["rev-parse", "main"]);
        entries.push(operations(&member(n), &format!("ops{n}@example.com")));
        world.commit(
            &[("contacts.yaml", &contacts("security@example.com", &entries))],
            &format!("Ops {n}"),
        );
        world.push_main();
        let merge = world.head();
        // The merge's run waits (queued, evicted) while the record is forged.
        let forged = match on_the_merge {
            true => merge.clone(),
            false => {
                let branch = format!("forged-{n}");
                git(&world.dev, &["checkout", "-q", "-b", &branch]);
                let commit = world.commit(&[("NOTES.md", "mine\n")], "A branch of its own");
                git(
                    &world.dev,
                    &["push", "-q", "origin", &format!("HEAD:refs/heads/{branch}")],
                );
                git(&world.dev, &["checkout", "-q", "main"]);
                commit
            }
        };
        let written = world.forge_record(&forged, forger);
        let ran = world.run(&world.push_from(&before));
        world.assert_applied(&ran);
        let log = ran.log();
        if written {
            assert!(
                log.lines()
                    .any(|line| line.contains(&forged) && line.contains("not")),
                "the forged record of {forged} ({forger:?}) is named, with why it is not believed:\n{log}"
            );
        }
        assert_eq!(
            world.aws().effective_writes(&member(n), "OPERATIONS"),
            1,
            "the merge is applied ({forger:?}, on the merge: {on_the_merge})\n{log}"
        );
        assert_eq!(world.applied().last(), Some(&merge));
    }
}

/// An event's run while a merge is not applied yet (its own run waits,
/// or a dispatch displaced it from the CI's queue) applies that merge
/// first, recorded as the file's apply, then the event's account.
pub fn an_event_s_run_applies_a_merge_whose_run_never_happened_then_its_account<W: LoopWorld>(
    world: W,
) {
    use crate::events::{account_created, delivered};
    adopted(&world, &contacts("security@example.com", &[]));
    let entries = [operations(&member(0), "ops0@example.com")];
    let file = contacts("security@example.com", &entries);
    world.commit(&[("contacts.yaml", &file)], "Ops 0");
    world.push_main();
    let new = "200000000000";
    world.aws().join(new, "New Account", "r-emu1");

    let ran = world.run_event(&delivered(W::FORGE, &account_created(new)));
    assert!(ran.succeeded(), "{}", ran.log());
    assert_eq!(world.aws().effective_writes(&member(0), "OPERATIONS"), 1);
    assert_eq!(world.aws().effective_writes(new, "SECURITY"), 1);
    assert_eq!(
        world.applied().last(),
        Some(&world.head()),
        "the merge is recorded as applied"
    );
    assert!(drift(world.aws(), &file).starts_with("No changes."));
}

/// The references and mentions a forge would make of `markdown`: a sigil
/// followed by a word (`@team`, `#1`, `owner/repo#1`, GitLab's `!1`, `%m`,
/// `~l`, `$s`, `&e`) in its text, outside code, as GitHub-flavoured
/// Markdown parses it.
pub fn references_outside_code(markdown: &str) -> Vec<String> {
    use comrak::nodes::NodeValue;
    let arena = comrak::Arena::new();
    let mut options = comrak::Options::default();
    options.extension.table = true;
    options.extension.autolink = true;
    let root = comrak::parse_document(&arena, markdown, &options);
    let reference = regex::Regex::new(r"[@#!%~$&][A-Za-z0-9_]").unwrap();
    root.descendants()
        .filter_map(|node| match &node.data.borrow().value {
            NodeValue::Text(text) => Some(text.to_string()),
            _ => None,
        })
        .filter(|text| reference.is_match(text))
        .collect()
}

/// A member account's admin names it as references and mentions the
/// forges make (PutAccountName lets them): the review's plan shows the
/// name, and no forge links or pings from it.
pub fn an_account_named_as_a_reference_or_a_mention_links_and_pings_nothing_in_the_review<
    W: LoopWorld,
>(
    world: W,
) {
    let name = "#1 acme/aws-contacts#2 !3 %m ~l $s &e @platform-team";
    world.aws().rename_account(&member(0), name);
    adopted(&world, &contacts("security@example.com", &[]));
    git(&world.dev, &["checkout", "-q", "-b", "ops"]);
    world.commit(
        &[(
            "contacts.yaml",
            &contacts(
                "security@example.com",
                &[operations(&member(0), "ops@example.com")],
            ),
        )],
        "Operations for account 0",
    );
    world.open_review(9);
    world.run_review(9);
    let notes = world.review_notes(9);
    let (_, body) = notes.iter().find(|(mine, _)| *mine).expect("the plan note");
    assert!(
        body.replace('\u{2060}', "").contains("acme/aws-contacts#2"),
        "the name is shown: {body}"
    );
    let references = references_outside_code(body);
    assert!(references.is_empty(), "{references:?} in {body}");
}

/// One member account's admin denies the pipeline its reads: the merge is
/// applied to every other account, nothing is written to that one, the run
/// fails and the record stays, so the next run, once the account answers
/// again, writes what it still lacks.
pub fn an_account_that_cannot_be_read_is_skipped_the_rest_applied_and_the_record_left_for_the_next_run<
    W: LoopWorld,
>(
    world: W,
) {
    adopted(&world, &contacts("security@example.com", &[]));
    let recorded = world.applied();
    world.aws().deny_everything(&member(1), true);
    let file = contacts("security-team@example.com", &[]);
    world.commit(&[("contacts.yaml", &file)], "A team address");
    let ran = merge_and_run(&world);
    assert!(!ran.succeeded(), "the run fails while an account is unread");
    assert!(
        ran.log().contains(&member(1)) && ran.log().contains("could not be read"),
        "{}",
        ran.log()
    );
    for n in [0, 2, 3] {
        assert_eq!(
            world.aws().effective_writes(&member(n), "SECURITY"),
            1,
            "account {n}"
        );
    }
    assert_eq!(world.aws().effective_writes(&member(1), "SECURITY"), 0);
    assert_eq!(world.applied(), recorded, "the record stays");

    world.aws().deny_everything(&member(1), false);
    world.aws().clear_log();
    let ran = world.run_schedule();
    assert!(ran.succeeded(), "{}", ran.log());
    assert_eq!(world.aws().effective_writes(&member(1), "SECURITY"), 1);
    for n in [0, 2, 3] {
        assert_eq!(
            world.aws().effective_writes(&member(n), "SECURITY"),
            0,
            "account {n} again"
        );
    }
    assert!(drift(world.aws(), &file).starts_with("No changes."));
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

/// No contact was written or deleted since the log was cleared.
pub fn wrote_nothing(aws: &Emulator) -> bool {
    aws.log().iter().all(|entry| {
        !["Put", "Delete", "Associate"]
            .iter()
            .any(|verb| entry.operation.starts_with(verb))
    })
}

/// The accounts whose contacts were read or written since the log was cleared.
fn touched(aws: &Emulator) -> std::collections::BTreeSet<String> {
    aws.log()
        .iter()
        .filter(|entry| entry.operation.contains("AlternateContact"))
        .map(|entry| entry.account.clone())
        .collect()
}

/// `file` with an OPERATIONS contact for the emulator's first unit.
fn with_unit_operations(file: &str) -> String {
    file.replacen(
        "  defaults: { security: sec, billing: bill }\n",
        "  defaults: { security: sec, billing: bill }\n  units:\n    Root/Unit0: { operations: { name: Unit Ops, title: On-Call, email_address: unit-ops@example.com, phone_number: \"+1 202 555 0103\" } }\n",
        1,
    )
}

/// A first review gets the plan of the whole file in one note, reads only
/// and records nothing; its merge applies the whole file and records it.
/// Returns the review's run, for what only its forge shows of it.
pub fn the_first_review_gets_its_plan_and_the_first_merge_applies_the_whole_file<W: LoopWorld>(
    world: &W,
) -> W::Ran {
    use crate::emulator::Contact;
    world.aws().set_contact(
        &member(0),
        "SECURITY",
        Contact::new("Old", "old@example.com"),
    );
    git(&world.dev, &["checkout", "-q", "-b", "add-contacts"]);
    let file = contacts("security@example.com", &[]);
    world.commit(&[("contacts.yaml", &file)], "Declare the contacts");

    world.open_review(1);
    let plan = world.run_review(1);
    let notes = world.review_notes(1);
    assert_eq!(notes.len(), 1, "{notes:?}");
    let (mine, body) = &notes[0];
    assert!(*mine && body.starts_with(PLAN_MARKER), "{body}");
    assert!(
        body.contains("**Plan: 9 to create, 1 to update, 0 to delete, 0 unchanged.**"),
        "{body}"
    );
    assert_eq!(
        world.applied(),
        Vec::<String>::new(),
        "a plan records nothing"
    );
    assert!(
        world
            .aws()
            .log()
            .iter()
            .all(|entry| entry.operation == "GetAlternateContact"
                || entry.operation == "ListManagedNotificationChannelAssociations"),
        "a plan only reads"
    );

    world.assert_applied(&merge_and_run(world));
    assert_eq!(
        drift(world.aws(), &file),
        "No changes. 10 contacts match the configuration."
    );
    assert_eq!(world.applied(), vec![world.head()]);
    plan
}

/// Every push to an open review edits its one plan note, found again by
/// its marker and its author on any page of a long discussion; a
/// reviewer's note that starts as the plan's does is left alone.
pub fn pushes_to_a_review_edit_one_note_whatever_the_pages_and_leave_others_alone<W: LoopWorld>(
    world: W,
) {
    adopted(&world, &contacts("security@example.com", &[]));
    git(&world.dev, &["checkout", "-q", "-b", "ops"]);
    world.commit(
        &[(
            "contacts.yaml",
            &contacts(
                "security@example.com",
                &[operations(&member(0), "ops@example.com")],
            ),
        )],
        "Operations for account 0",
    );
    world.open_review(7);
    let lookalike = format!(
        "{}\nI would rather keep ops@.",
        crate::loop_scenarios::PLAN_MARKER
    );
    world.add_reviewer_notes(7, 1, Some(&lookalike));
    world.add_reviewer_notes(7, 150, None);
    world.run_review(7);
    world.add_reviewer_notes(7, 20, None);
    world.commit(
        &[(
            "contacts.yaml",
            &contacts(
                "security@example.com",
                &[operations(&member(0), "ops-team@example.com")],
            ),
        )],
        "A team address",
    );
    world.run_review(7);

    let notes = world.review_notes(7);
    let plans: Vec<&String> = notes
        .iter()
        .filter(|(mine, _)| *mine)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(plans.len(), 1, "one plan note among {}", notes.len());
    assert_eq!(notes.len(), 172);
    assert!(
        notes.iter().any(|(mine, body)| !mine && *body == lookalike),
        "the reviewer's note is untouched"
    );
    assert!(plans[0].contains("ops-team@example.com"), "{}", plans[0]);
    assert!(!plans[0].contains("`ops@example.com`"), "{}", plans[0]);
    assert!(
        plans[0].contains("**Plan: 1 to create, 0 to update, 0 to delete, 0 unchanged.**"),
        "{}",
        plans[0]
    );
    // 151 notes, then 172: every page was read, each time.
    let pages = |notes: usize| notes.div_ceil(W::NOTES_PER_PAGE);
    assert_eq!(
        world.note_pages_read(7),
        pages(151) + pages(172),
        "page reads"
    );
}

/// Drift found by the nightly run is one labelled issue, updated while it
/// lasts (never repaired unless asked), closed with a comment once AWS
/// matches the file again.
pub fn nightly_drift_is_one_issue_updated_while_it_lasts_and_closed_when_it_ends<W: LoopWorld>(
    world: W,
) {
    use crate::emulator::Contact;
    let file = contacts("security@example.com", &[]);
    adopted(&world, &file);
    world.aws().set_contact(
        &member(1),
        "SECURITY",
        Contact::new("Intruder", "attacker@example.net"),
    );

    world.run_drift();
    let issues = world.issues();
    assert_eq!(issues.len(), 1, "{issues:?}");
    let issue = &issues[0];
    assert_eq!(issue.state, "open");
    assert_eq!(issue.labels, W::DRIFT_LABELS);
    assert!(
        issue
            .title
            .contains("1 contact in AWS differs from contacts.yaml"),
        "{}",
        issue.title
    );
    assert!(
        issue.body.contains(&member(1)) && issue.body.contains("attacker@example.net"),
        "{}",
        issue.body
    );

    world.aws().set_contact(
        &member(2),
        "BILLING",
        Contact::new("Someone", "someone@example.org"),
    );
    world.run_drift();
    let issues = world.issues();
    assert_eq!(issues.len(), 1, "the same issue, updated");
    assert!(
        issues[0].title.contains("2 contacts in AWS differ"),
        "{}",
        issues[0].title
    );
    assert!(issues[0].body.contains("someone@example.org"));
    assert!(wrote_nothing(world.aws()), "reported, not repaired");

    for (account, kind, name, email, phone) in [
        (
            1,
            "SECURITY",
            "Security",
            "security@example.com",
            "+1 202 555 0100",
        ),
        (
            2,
            "BILLING",
            "Billing",
            "billing@example.com",
            "+1 202 555 0101",
        ),
    ] {
        world.aws().set_contact(
            &member(account),
            kind,
            Contact {
                title: "Team".into(),
                phone: phone.into(),
                ..Contact::new(name, email)
            },
        );
    }
    world.run_drift();
    let issues = world.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].state, "closed");
    assert_eq!(issues[0].comments.len(), 1, "{:?}", issues[0].comments);
    assert!(
        issues[0].comments[0].contains("AWS matches `contacts.yaml` again, as checked by [this "),
        "{}",
        issues[0].comments[0]
    );
}

/// Drift where the repository keeps no issues: the nightly run fails with
/// an error (its failure is what people are told of) that says the drift
/// and how to get an issue, and writes nothing.
pub fn drift_where_issues_are_off_fails_the_run_and_says_how_to_get_an_issue<W: LoopWorld>(
    world: &W,
    turn_issues_off: impl FnOnce(),
    nightly: impl Fn() -> W::Ran,
    why_none: &str,
    how_to_turn_them_on: &str,
) {
    use crate::emulator::Contact;
    adopted(world, &contacts("security@example.com", &[]));
    turn_issues_off();
    let quiet = nightly();
    assert!(quiet.succeeded(), "no drift, no failure: {}", quiet.log());

    world.aws().set_contact(
        &member(1),
        "SECURITY",
        Contact::new("Intruder", "attacker@example.net"),
    );
    let drifted = nightly();
    let log = drifted.log();
    assert!(!drifted.succeeded(), "{log}");
    assert!(
        log.contains("attacker@example.net"),
        "the drift is in the log: {log}"
    );
    assert!(
        log.contains(&format!(
            "could not keep the drift issue: 1 contact in AWS differs from the file, and {why_none}"
        )),
        "{log}"
    );
    assert!(log.contains(how_to_turn_them_on), "{log}");
    assert!(world.issues().is_empty());
    assert!(wrote_nothing(world.aws()), "reported, not repaired");
}

/// The safety net: an account that joined since the last apply gets its
/// contacts from the next scheduled run, and no older account is read.
pub fn an_account_that_joins_between_two_scheduled_runs_gets_its_contacts_alone<W: LoopWorld>(
    world: W,
) {
    let file = contacts("security@example.com", &[]);
    adopted(&world, &file);
    let new = "200000000000";
    world.aws().join(new, "New Account", "r-emu1");
    let ran = world.run_schedule();
    assert!(ran.succeeded(), "{}", ran.log());
    assert_eq!(
        touched(world.aws()),
        [new.to_owned()].into(),
        "only the new account is read and written: {}",
        ran.log()
    );
    assert_eq!(world.aws().effective_writes(new, "SECURITY"), 1);
    assert_eq!(
        drift(world.aws(), &file),
        "No changes. 14 contacts match the configuration."
    );
}

/// The event path: an account created gets its contacts from the run its
/// event starts, and no other account is read; moved into a unit, the
/// unit's contacts too; each run is recorded as that account's own, never
/// as the file's; and the schedule, the safety net, reads it no more.
pub fn an_account_s_event_applies_that_account_only_and_the_schedule_does_not_do_it_again<
    W: LoopWorld,
>(
    world: W,
) {
    use crate::events::{account_created, account_moved, delivered};
    let file = with_unit_operations(&contacts("security@example.com", &[]));
    adopted(&world, &file);
    let applied_before = world.applied();
    let new = "200000000000";
    world.aws().join(new, "New Account", "r-emu1");

    let ran = world.run_event(&delivered(W::FORGE, &account_created(new)));
    assert!(ran.succeeded(), "{}", ran.log());
    assert_eq!(
        touched(world.aws()),
        [new.to_owned()].into(),
        "{}",
        ran.log()
    );
    assert_eq!(world.aws().effective_writes(new, "SECURITY"), 1);
    assert_eq!(world.aws().effective_writes(new, "BILLING"), 1);
    assert_eq!(
        world.aws().contact(new, "OPERATIONS"),
        None,
        "not in the unit yet"
    );
    assert_eq!(
        world.account_records(),
        [(new.to_owned(), "success".to_owned())]
    );
    assert_eq!(world.applied(), applied_before, "not a record of the file");

    world.aws().clear_log();
    world
        .aws()
        .update_account(new, Some("ou-emu1-00000000"), None);
    let ran = world.run_event(&delivered(
        W::FORGE,
        &account_moved(new, "ou-emu1-00000000"),
    ));
    assert!(ran.succeeded(), "{}", ran.log());
    assert_eq!(touched(world.aws()), [new.to_owned()].into());
    assert_eq!(
        world.aws().effective_writes(new, "OPERATIONS"),
        1,
        "the unit it moved into gives it OPERATIONS"
    );
    assert_eq!(
        world.aws().effective_writes(new, "SECURITY"),
        0,
        "what it has already is not written again"
    );

    world.aws().clear_log();
    let ran = world.run_schedule();
    assert!(ran.succeeded(), "{}", ran.log());
    assert_eq!(
        touched(world.aws()),
        Default::default(),
        "the account joined within the schedule's window, and its event's run applied it at this commit: the schedule reads nothing"
    );
    assert!(drift(world.aws(), &file).starts_with("No changes."));
}

/// What an event carries reaches the pipeline as the event's rule sends
/// it: an ID that is not 12 digits, one with more after it, an account
/// the organization does not have, or one that is suspended is refused
/// with what is wrong, and nothing is written.
pub fn an_event_s_bad_account_is_refused_and_nothing_is_written<W: LoopWorld>(world: W) {
    use crate::events::{account_created, delivered};
    adopted(&world, &contacts("security@example.com", &[]));
    let suspended = member(1);
    world
        .aws()
        .update_account(&suspended, None, Some("SUSPENDED"));
    for (account, said) in [
        ("12345", "`12345` is not an account ID"),
        ("100000000002 --full", "is not an account ID"),
        (
            "300000000000",
            "account 300000000000 is not in the organization",
        ),
        (suspended.as_str(), "is SUSPENDED, not ACTIVE"),
    ] {
        world.aws().clear_log();
        let ran = world.run_event(&delivered(W::FORGE, &account_created(account)));
        assert!(!ran.succeeded(), "{account}: {}", ran.log());
        assert!(ran.log().contains(said), "{account}: {}", ran.log());
        assert!(
            !world
                .aws()
                .log()
                .iter()
                .any(|entry| entry.operation.starts_with("Put")
                    || entry.operation.starts_with("Delete")),
            "{account}: nothing is written"
        );
    }
    assert!(
        world
            .account_records()
            .iter()
            .all(|(_, status)| status != "success"),
        "no account is recorded as applied: {:?}",
        world.account_records()
    );
}
