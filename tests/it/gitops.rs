//! The GitOps loop, end to end: the example workflows and `action.yml`,
//! run as GitHub would run them (see `workflow_runner`), from the first
//! pull request on.

use std::time::Duration;

use crate::emulator::{Contact, Emulator, Faults, organization};
use crate::git_remote::git;
use crate::github_api::GitHub;
use crate::loop_scenarios::{
    self, Forger, LoopWorld, Ran, SeenIssue, adopted, contacts, drift, member, merge_and_run,
    operations,
};
use crate::support::http_json;
use crate::workflow_runner::{Event, Finished, World, wait_until};

const CALLER: &str = "999999999999";
const MAIN: &str = "alternate-contacts.yml";
const NEW_ACCOUNTS: &str = "alternate-contacts-new-accounts.yml";
const NIGHTLY: &str = "alternate-contacts-nightly.yml";
const AUDIT: &str = "alternate-contacts-audit.yml";

fn world(members: usize) -> World {
    World::new(
        GitHub::start(),
        Emulator::start(
            CALLER,
            Some(organization(CALLER, members, 1)),
            Faults::default(),
        ),
    )
}

loop_scenarios::every_forge!(world);

fn assert_ran(run: &Finished) {
    assert!(run.succeeded(), "the run failed:\n{}", run.log());
}

impl LoopWorld for World {
    type Push = Event;
    type Ran = Finished;
    const FAILED_RECORD: [&'static str; 2] = ["in_progress", "failure"];

    fn aws(&self) -> &Emulator {
        World::aws(self)
    }

    fn push_from(&self, before: &str) -> Event {
        self.push_event(before)
    }

    fn run(&self, push: &Event) -> Finished {
        World::run(self, MAIN, push)
    }

    fn assert_applied(&self, ran: &Finished) {
        assert_ran(ran);
    }

    fn applied(&self) -> Vec<String> {
        self.github
            .deployments()
            .into_iter()
            .filter(|d| d.task == "altcontacts:apply")
            .filter(|d| d.statuses.last().map(String::as_str) == Some("success"))
            .map(|d| d.sha)
            .collect()
    }

    fn last_record(&self) -> Vec<String> {
        self.github.deployments().last().unwrap().statuses.clone()
    }

    const FORGE: &'static str = "github";

    fn run_event(&self, body: &serde_json::Value) -> Finished {
        World::run(self, NEW_ACCOUNTS, &self.dispatch_event(body))
    }

    fn run_schedule(&self) -> Finished {
        World::run(self, NEW_ACCOUNTS, &self.schedule_event())
    }

    fn account_records(&self) -> Vec<(String, String)> {
        self.github
            .deployments()
            .into_iter()
            .filter(|d| d.task == "altcontacts:apply-account")
            .map(|d| {
                (
                    d.payload["account"].as_str().unwrap_or_default().to_owned(),
                    d.statuses.last().cloned().unwrap_or_default(),
                )
            })
            .collect()
    }

    fn run_drift(&self) -> Finished {
        let ran = World::run(self, NIGHTLY, &self.schedule_event());
        assert_ran(&ran);
        ran
    }

    fn issues(&self) -> Vec<SeenIssue> {
        self.github
            .issues()
            .into_iter()
            .map(|issue| SeenIssue {
                state: match (issue.state.as_str(), issue.state_reason.as_deref()) {
                    ("closed", Some("completed")) => "closed".to_owned(),
                    ("closed", reason) => format!("closed ({})", reason.unwrap_or("no reason")),
                    (state, _) => state.to_owned(),
                },
                comments: self
                    .github
                    .comments(issue.number)
                    .into_iter()
                    .map(|comment| comment.body)
                    .collect(),
                labels: issue.labels,
                title: issue.title,
                body: issue.body,
            })
            .collect()
    }

    const DRIFT_LABELS: &'static [&'static str] = &["altcontacts-drift"];
    const NOTES_PER_PAGE: usize = 30;

    fn open_review(&self, number: u64) {
        self.github.open_pull_request(number);
    }

    fn add_reviewer_notes(&self, number: u64, count: usize, body: Option<&str>) {
        match body {
            Some(body) => {
                (0..count).for_each(|_| self.github.add_comment(number, body, "reviewer"))
            }
            None => self.github.add_comments(number, count, "reviewer"),
        }
    }

    fn run_review(&self, number: u64) -> Finished {
        let ran = World::run(self, MAIN, &self.pull_request(number));
        assert_ran(&ran);
        ran
    }

    fn review_notes(&self, number: u64) -> Vec<(bool, String)> {
        self.github
            .comments(number)
            .into_iter()
            .map(|comment| {
                (
                    comment.user == crate::github_api::WORKFLOW_BOT,
                    comment.body,
                )
            })
            .collect()
    }

    fn note_pages_read(&self, number: u64) -> usize {
        let listing = format!("/issues/{number}/comments");
        self.github
            .calls()
            .iter()
            .filter(|call| call.method == "GET" && call.path.contains(&listing))
            .count()
    }

    /// A deployment of contacts.yaml's apply, marked successful: by a
    /// collaborator's own token, or by a branch's job token (which writes
    /// as `github-actions[bot]`, as the loop's does).
    fn forge_record(&self, commit: &str, forger: Forger) -> bool {
        let permissions = ["deployments:write", "deployments:read"];
        let token = match forger {
            Forger::Collaborator => self.github.user_token("mallory", &permissions),
            Forger::BranchPipeline => self.github.token(&permissions),
        };
        let auth = format!("Bearer {token}");
        let headers = [("authorization", auth.as_str())];
        let deployments = format!(
            "{}/repos/{}/deployments",
            self.github.url,
            crate::github_api::REPOSITORY
        );
        let made = http_json(
            "POST",
            &deployments,
            &headers,
            Some(
                &serde_json::json!({ "ref": commit, "task": "altcontacts:apply",
                "environment": "altcontacts", "payload": { "file": "contacts.yaml" },
                "auto_merge": false, "required_contexts": [] }),
            ),
        );
        let statuses = format!("{deployments}/{}/statuses", made["id"]);
        http_json(
            "POST",
            &statuses,
            &headers,
            Some(&serde_json::json!({ "state": "success" })),
        );
        true
    }
}

impl Ran for Finished {
    fn succeeded(&self) -> bool {
        Finished::succeeded(self)
    }

    /// The run's log and its job summary: GitHub shows the log of a step
    /// that failed, and what the tool says of a run that did not in the
    /// summary.
    fn log(&self) -> String {
        format!("{}{}", Finished::log(self), self.summary())
    }
}

#[test]
fn the_first_pull_request_gets_its_plan_and_the_first_merge_applies_the_whole_file() {
    let world = world(4);
    let plan =
        loop_scenarios::the_first_review_gets_its_plan_and_the_first_merge_applies_the_whole_file(
            &world,
        );
    assert!(
        plan.summary().contains("Plan: 9 to create, 1 to update"),
        "the job summary holds the plan: {}",
        plan.summary()
    );
}

#[test]
fn pushes_to_an_open_pull_request_edit_one_comment_whatever_the_pages() {
    // Pages of 30, whatever `per_page` asks: the plan comment is past the
    // fifth page of a long discussion.
    let world = World::new(
        GitHub::with_page_cap(30),
        Emulator::start(CALLER, Some(organization(CALLER, 3, 1)), Faults::default()),
    );
    loop_scenarios::pushes_to_a_review_edit_one_note_whatever_the_pages_and_leave_others_alone(
        world,
    );
}

#[test]
fn a_plan_of_9000_changes_fits_the_comment_and_the_summary_and_says_where_the_full_plan_is() {
    let world = world(2_999);
    git(&world.dev, &["checkout", "-q", "-b", "adopt"]);
    let mut file = contacts("security@example.com", &[]);
    file = file.replace(
        "defaults: { security: sec, billing: bill }",
        "defaults: { security: sec, billing: bill, operations: { name: Ops, title: On-Call, email_address: ops@example.com, phone_number: \"+1 202 555 0102\" } }",
    );
    world.commit(&[("contacts.yaml", &file)], "Adopt the organization");
    let run = world.run(MAIN, &world.pull_request(3));
    assert_ran(&run);

    assert_eq!(
        world.github.refused_for_length(),
        0,
        "GitHub refused nothing"
    );
    let comments = world.github.comments(3);
    assert_eq!(comments.len(), 1);
    let comment = &comments[0].body;
    let summary = run.summary();
    println!(
        "comment: {} characters; summary: {} bytes",
        comment.chars().count(),
        summary.len()
    );
    assert!(comment.chars().count() <= 65_536);
    assert!(summary.len() <= 1024 * 1024);
    for text in [comment, &summary] {
        assert!(text.contains("**Plan: 9000 to create, 0 to update, 0 to delete, 0 unchanged.**"));
        assert!(
            text.contains("of 9000 changes are not shown here"),
            "{}",
            &text[..2000.min(text.len())]
        );
        assert!(text.contains("`plan.md` in the `altcontacts-plan` artifact of [this run]("));
    }
    assert!(
        comment.chars().count() > 60_000,
        "the comment is filled, not emptied"
    );
    assert!(
        summary.len() > 900_000,
        "the summary is filled, not emptied"
    );
    let (files, retention) = run
        .artifact("altcontacts-plan")
        .expect("the full plan is kept");
    assert_eq!(retention, "1");
    let full = std::fs::read_to_string(&files[0]).unwrap();
    println!("full plan: {} characters", full.chars().count());
    assert_eq!(full.matches("| 🟢 create |").count(), 9_000);
}

/// Starts the apply of a merge whose writes are slow (one a second), and
/// waits until the first is written while the others are still queued.
fn slow_apply(world: &World, accounts: usize) -> (crate::workflow_runner::Running, String) {
    adopted(world, &contacts("security@example.com", &[]));
    let entries: Vec<String> = (0..accounts as u64)
        .map(|n| operations(&member(n), "ops@example.com"))
        .collect();
    let file = contacts("security@example.com", &entries).replace("put: 1000", "put: 1");
    world.commit(&[("contacts.yaml", &file)], "Operations everywhere");
    let before = git(&world.origin, &["rev-parse", "main"]);
    world.push_main();
    let running = world.start(MAIN, &world.push_event(&before), &[]);
    wait_until(Duration::from_secs(60), "the first write", || {
        world
            .aws()
            .log()
            .iter()
            .any(|e| e.operation == "PutAlternateContact")
            && running.step_shell().is_some()
    });
    (running, file)
}

fn assert_next_run_finishes_the_job(world: &World, file: &str, accounts: u64) {
    let recorded_before = world.applied();
    world.aws().set_write_latency(Duration::ZERO);
    // The next run is a scheduled one: it too catches up on the merge.
    assert_ran(&world.run(NEW_ACCOUNTS, &world.schedule_event()));
    assert_eq!(
        drift(world.aws(), file),
        format!(
            "No changes. {} contacts match the configuration.",
            5 * 2 + accounts
        )
    );
    for n in 0..accounts {
        assert!(
            world.aws().effective_writes(&member(n), "OPERATIONS") <= 1,
            "account {n} written twice"
        );
    }
    assert_eq!(world.applied().len(), recorded_before.len() + 1);
    assert_eq!(world.applied().last(), Some(&world.head()));
}

#[test]
fn a_cancelled_apply_reports_what_it_did_and_the_next_run_finishes_the_job() {
    let world = world(4);
    let (running, file) = slow_apply(&world, 4);
    let recorded = world.applied();
    running.signal_step(libc::SIGINT);
    let cancelled = running.wait();
    assert!(!cancelled.succeeded());
    let log = cancelled.log();
    assert!(log.contains("Apply interrupted: "), "{log}");
    assert!(log.contains("not started"), "{log}");
    assert_eq!(world.applied(), recorded, "a cancelled apply is not a base");
    assert_next_run_finishes_the_job(&world, &file, 4);
}

#[test]
fn sigint_then_sigterm_as_the_runner_sends_them_still_prints_the_report() {
    let world = world(4);
    let (running, file) = {
        adopted(&world, &contacts("security@example.com", &[]));
        // Each write takes 20 s on the wire: they are still in flight when
        // the runner's SIGTERM comes, 7.5 s after its SIGINT.
        world.aws().set_write_latency(Duration::from_secs(20));
        let entries: Vec<String> = (0..4)
            .map(|n| operations(&member(n), "ops@example.com"))
            .collect();
        let file = contacts("security@example.com", &entries);
        world.commit(&[("contacts.yaml", &file)], "Operations everywhere");
        let before = git(&world.origin, &["rev-parse", "main"]);
        world.push_main();
        let running = world.start(MAIN, &world.push_event(&before), &[]);
        wait_until(Duration::from_secs(60), "writes on the wire", || {
            world.aws().arrivals("PutAlternateContact") >= 4 && running.step_shell().is_some()
        });
        (running, file)
    };
    let recorded = world.applied();
    running.signal_step(libc::SIGINT);
    std::thread::sleep(Duration::from_millis(7_500));
    running.signal_step(libc::SIGTERM);
    let stopped = std::time::Instant::now();
    let cancelled = running.wait();
    let took = stopped.elapsed();
    assert!(!cancelled.succeeded());
    let log = cancelled.log();
    assert!(
        took < Duration::from_secs(2),
        "stopped {took:?} after SIGTERM: {log}"
    );
    assert!(log.contains("Apply interrupted: 0 created"), "{log}");
    assert!(log.contains("4 in flight"), "{log}");
    assert_eq!(world.applied(), recorded);
    assert_next_run_finishes_the_job(&world, &file, 4);
}

#[test]
fn nightly_repair_writes_aws_back_and_closes_the_issue_with_what_it_did() {
    let world = world(3);
    let file = contacts("security@example.com", &[]);
    adopted(&world, &file);
    let recorded = world.applied().len();
    world.aws().set_contact(
        &member(1),
        "SECURITY",
        Contact::new("Intruder", "attacker@example.net"),
    );

    let run = world.run_configured(
        NIGHTLY,
        &world.schedule_event(),
        &[("ALTCONTACTS_DRIFT", "repair")],
    );
    assert_ran(&run);
    assert_eq!(
        drift(world.aws(), &file),
        "No changes. 8 contacts match the configuration."
    );
    let issues = world.github.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].state, "closed");
    assert!(
        issues[0].body.contains("attacker@example.net")
            && issues[0].body.contains("This run wrote them back.")
    );
    let closing = world.github.comments(issues[0].number);
    assert!(
        closing[0].body.contains("Repaired by [this run]"),
        "{}",
        closing[0].body
    );
    assert_eq!(
        world.applied().len(),
        recorded + 1,
        "the repair is recorded as an apply"
    );
}

#[test]
fn a_contact_unsubscribed_from_security_notices_is_drift_until_it_is_subscribed_again() {
    let world = world(2);
    let file = contacts("security@example.com", &[]);
    adopted(&world, &file);
    // An admin of the management account silences its SECURITY contact.
    world
        .aws()
        .unsubscribe(CALLER, "AWS-Health/Security", "ACCOUNT_ALTERNATE_SECURITY");

    let run = world.run_configured(NIGHTLY, &world.schedule_event(), &[]);
    assert_ran(&run);
    let issues = world.github.issues();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].state, "open");
    assert!(
        issues[0].body.contains("subscribe")
            && issues[0].body.contains("AWS-Health/Security")
            && issues[0].body.contains(CALLER),
        "{}",
        issues[0].body
    );
    assert!(
        loop_scenarios::wrote_nothing(world.aws()),
        "reported, not repaired"
    );

    world
        .aws()
        .subscribe(CALLER, "AWS-Health/Security", "ACCOUNT_ALTERNATE_SECURITY");
    let run = world.run_configured(NIGHTLY, &world.schedule_event(), &[]);
    assert_ran(&run);
    let issues = world.github.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].state, "closed", "{issues:?}");
}

#[test]
fn drift_where_issues_are_off_fails_the_run_and_says_how_to_get_an_issue() {
    let world = world(3);
    loop_scenarios::drift_where_issues_are_off_fails_the_run_and_says_how_to_get_an_issue(
        &world,
        || world.github.turn_issues_off(),
        || World::run(&world, NIGHTLY, &world.schedule_event()),
        "this repository keeps no issues",
        "turn Issues on (the repository's Settings > General > Features)",
    );
}

#[test]
fn the_loop_speaks_aws_as_moto_does_from_the_first_pull_request_to_the_merge() {
    use crate::moto::{MOTO_CALLER, Moto};
    let moto = Moto::start();
    let world = World::on_endpoint(GitHub::start(), &moto.endpoint);
    let file = format!(
        r#"version: 1
contacts:
  sec: {{ name: Security, title: Team, email_address: security@example.com, phone_number: "+1 202 555 0100" }}
  bill: {{ name: Billing, title: Team, email_address: billing@example.com, phone_number: "+1 202 555 0101" }}
accounts:
  "{MOTO_CALLER}": {{ security: sec, billing: bill }}
"#
    );
    git(&world.dev, &["checkout", "-q", "-b", "add-contacts"]);
    world.commit(&[("contacts.yaml", &file)], "Declare the contacts");
    assert_ran(&world.run(MAIN, &world.pull_request(1)));
    let comments = world.github.comments(1);
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0]
            .body
            .contains("**Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged.**"),
        "{}",
        comments[0].body
    );
    assert!(moto.account_requests("putAlternateContact").is_empty());

    assert_ran(&merge_and_run(&world));
    assert_eq!(moto.account_requests("putAlternateContact").len(), 2);
    assert_eq!(world.applied(), vec![world.head()]);
    let workspace = crate::support::Workspace::new();
    workspace.write("contacts.yaml", &file);
    let replan = moto.command(&workspace, &["plan"]).output().unwrap();
    assert_eq!(
        replan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&replan.stderr)
    );
    assert!(
        String::from_utf8_lossy(&replan.stdout)
            .contains("No changes. 2 contacts match the configuration."),
        "{}",
        String::from_utf8_lossy(&replan.stdout)
    );
}

#[test]
fn a_pull_request_with_an_invalid_file_gets_the_errors_in_its_comment_and_on_its_lines() {
    let world = world(2);
    git(&world.dev, &["checkout", "-q", "-b", "typo"]);
    // A typo, and characters that would make the comment read otherwise
    // than it is: a line separator and a right-to-left override.
    let file = contacts("security@example.com", &[])
        .replace("security: sec,", "security: \"secc\u{2028}\u{202e}cces\",");
    world.commit(&[("contacts.yaml", &file)], "A typo");
    let run = world.run(MAIN, &world.pull_request(4));
    assert!(!run.succeeded(), "an invalid file fails the check");
    assert!(
        run.log().contains("::error file=contacts.yaml,line=6,"),
        "{}",
        run.log()
    );
    let comments = world.github.comments(4);
    assert_eq!(comments.len(), 1);
    for (shown, text) in [("the comment", &comments[0].body), ("the log", &run.log())] {
        assert!(
            !text.contains(['\u{2028}', '\u{202e}']) && text.contains("secc\\u{2028}\\u{202e}cces"),
            "{shown} shows the name escaped: {text}"
        );
    }
    assert!(
        comments[0]
            .body
            .contains("altcontacts could not make the plan of `contacts.yaml`."),
        "{}",
        comments[0].body
    );
    assert!(
        comments[0].body.contains("unknown contact `secc"),
        "{}",
        comments[0].body
    );
    assert!(world.aws().log().is_empty(), "nothing was asked of AWS");
}

#[test]
fn a_rerun_of_an_older_commit_after_a_newer_one_was_applied_applies_nothing() {
    let world = world(2);
    adopted(&world, &contacts("security@example.com", &[]));
    let older = world.push_event(&git(&world.origin, &["rev-parse", "main~1"]));
    world.commit(
        &[("contacts.yaml", &contacts("security-team@example.com", &[]))],
        "A team address",
    );
    assert_ran(&merge_and_run(&world));
    let deployments = world.github.deployments().len();
    world.aws().clear_log();

    // GitHub's "Re-run jobs" on the older push: its file is the older one.
    let rerun = world.run(MAIN, &older);
    assert_ran(&rerun);
    assert!(
        rerun
            .summary()
            .contains("was applied already (applying it would undo newer changes)"),
        "{}",
        rerun.summary()
    );
    assert!(
        world
            .aws()
            .log()
            .iter()
            .all(|e| e.operation == "GetAlternateContact"),
        "nothing written"
    );
    assert_eq!(
        world.github.deployments().len(),
        deployments,
        "nothing recorded"
    );
    assert_eq!(
        drift(world.aws(), &contacts("security-team@example.com", &[])),
        "No changes. 6 contacts match the configuration."
    );
}

#[test]
fn a_job_without_the_permission_to_record_is_told_which_one_it_needs() {
    let world = world(1);
    adopted(&world, &contacts("security@example.com", &[]));
    let token = world.github.token(&["contents:read"]);
    let summary = world.root.path().join("summary.md");
    let event = world.root.path().join("event.json");
    std::fs::write(
        &event,
        r#"{"repository": {"full_name": "acme/aws-contacts", "default_branch": "main"}}"#,
    )
    .unwrap();
    let output = world
        .aws()
        .command(&world.dev, &["github", "apply"])
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_REPOSITORY", crate::github_api::REPOSITORY)
        .env("GITHUB_API_URL", &world.github.url)
        .env("GITHUB_TOKEN", token)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("could not read the applies recorded in the `altcontacts` environment: 403 Resource not accessible by integration")
            && stderr.contains("give the job `permissions: { deployments: write }`"),
        "{stderr}"
    );
    assert!(
        world.aws().log().is_empty(),
        "nothing was read before the record"
    );
}

#[test]
fn every_request_to_github_and_every_answer_holds_against_githubs_api_description() {
    let mut world = world(3);
    let prism = crate::api_description::Prism::github(&world.github.url);
    world.reach_api_at(&prism.url);
    let file = contacts("security@example.com", &[]);
    git(&world.dev, &["checkout", "-q", "-b", "add-contacts"]);
    world.commit(&[("contacts.yaml", &file)], "Declare the contacts");
    // A comment made, then edited; pages of comments read.
    world.github.open_pull_request(1);
    world.github.add_comments(1, 120, "reviewer");
    assert_ran(&world.run(MAIN, &world.pull_request(1)));
    world.commit(
        &[("contacts.yaml", &contacts("security-team@example.com", &[]))],
        "A team address",
    );
    assert_ran(&world.run(MAIN, &world.pull_request(1)));
    // The record: deployments read, made and marked.
    assert_ran(&merge_and_run(&world));
    // The drift issue: opened, then commented on and closed.
    world.aws().set_contact(
        &member(1),
        "SECURITY",
        Contact::new("Intruder", "attacker@example.net"),
    );
    assert_ran(&world.run(NIGHTLY, &world.schedule_event()));
    world.aws().set_contact(
        &member(1),
        "SECURITY",
        Contact {
            title: "Team".into(),
            phone: "+1 202 555 0100".into(),
            ..Contact::new("Security", "security-team@example.com")
        },
    );
    assert_ran(&world.run(NIGHTLY, &world.schedule_event()));
    assert_eq!(world.github.issues()[0].state, "closed");

    let violations = prism.violations();
    assert!(violations.is_empty(), "{violations:#?}");
    let through = prism.requests();
    let api_calls = world
        .github
        .calls()
        .iter()
        .filter(|call| call.path.starts_with("/repos/") || call.path == "/user")
        .count();
    println!(
        "{through} requests held against GitHub's description, {api_calls} reached the emulator"
    );
    assert!(
        through >= 15,
        "the loop's requests went through Prism: {through}"
    );
    assert_eq!(through, api_calls, "every API request went through Prism");
}

#[test]
fn the_daily_audit_puts_its_findings_in_code_scanning_on_the_lines_they_come_from_and_keeps_an_html_report()
 {
    let world = world(3);
    // Its addresses are on example.com, reserved for documentation.
    let file = contacts("security@example.com", &[]);
    world.commit(&[("contacts.yaml", &file)], "Declare the contacts");
    world.push_main();
    // The runner has no route to DNS; the audit's other checks all run.
    let run = world.run_configured(
        AUDIT,
        &world.schedule_event(),
        &[("ALTCONTACTS_NO_DNS", "true")],
    );
    assert_ran(&run);
    let uploads = world.github.sarif_uploads();
    assert_eq!(uploads.len(), 1, "{}", run.log());
    let upload = &uploads[0];
    assert_eq!(
        upload.commit_sha,
        git(&world.origin, &["rev-parse", "main"])
    );
    assert_eq!(upload.git_ref, "refs/heads/main");

    // What code scanning received, as it decodes it.
    use base64::Engine as _;
    let gzipped = base64::engine::general_purpose::STANDARD
        .decode(&upload.sarif)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("received.sarif");
    std::fs::write(dir.path().join("received.sarif.gz"), gzipped).unwrap();
    let gunzip = std::process::Command::new("gzip")
        .arg("-d")
        .arg(dir.path().join("received.sarif.gz"))
        .status()
        .expect("gzip");
    assert!(gunzip.success());
    crate::security_hub::assert_valid_sarif(&log);
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let reserved = crate::security_hub::lines_of_results(&sarif, "reserved_domain", &file);
    assert!(
        reserved
            .iter()
            .any(|line| line.contains("security@example.com")),
        "the SECURITY address on a reserved domain, at its line: {reserved:?}"
    );
    assert!(
        results
            .iter()
            .any(|result| result["ruleId"] == "contacts_unprotected"
                && result["locations"][0]["logicalLocations"][0]["name"] == member(1).as_str()),
        "findings about accounts too"
    );
    let (files, retention) = run
        .artifact("altcontacts-audit")
        .expect("the HTML report is kept as an artifact");
    assert_eq!(retention, "30");
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with("altcontacts-audit.html"), "{files:?}");
    let html = std::fs::read_to_string(&files[0]).unwrap();
    crate::audit_report::assert_kept_report(&html, &sarif, "security@example.com");
    assert!(
        world
            .aws()
            .log()
            .iter()
            .all(|entry| entry.operation.starts_with("Get")
                || entry.operation.starts_with("List")
                || entry.operation.starts_with("Describe")),
        "the audit only reads"
    );
}
