//! The GitOps loop on Bitbucket Cloud, end to end: the docs'
//! `bitbucket-pipelines.yml`, run as Pipelines would run it (see
//! `bitbucket_pipelines`), against the Bitbucket and AWS emulators.

use crate::bitbucket_api::{Bitbucket, LOOP_SCOPES, TEXT_LIMIT};
use crate::bitbucket_pipelines::{Finished, Pipeline, ROLE_ACCOUNT, World, example_pipeline};
use crate::emulator::{Emulator, Faults, organization};
use crate::git_remote::git;
use std::time::Duration;

use crate::loop_scenarios::{
    self, Forger, LoopWorld, Ran, SeenIssue, adopted, contacts, member, operations, wrote_nothing,
};
use crate::workflow_runner::wait_until;

const PLAN: &str = "altcontacts plan";
const APPLY: &str = "altcontacts apply";
const NEW_ACCOUNTS: &str = "altcontacts-new-accounts";
const DRIFT: &str = "altcontacts-drift";
const REPORT: &str = "altcontacts-plan";

fn world(members: usize) -> World {
    World::new(
        Bitbucket::start(),
        Emulator::start(
            ROLE_ACCOUNT,
            Some(organization(ROLE_ACCOUNT, members, 1)),
            Faults::default(),
        ),
    )
}

loop_scenarios::every_forge!(world);

fn assert_ran(run: &Finished, step: &str) {
    assert!(run.succeeded(), "the pipeline failed:\n{}", run.log());
    assert!(run.ran(step), "{step} did not run:\n{}", run.log());
}

/// The build status keys of the whole file's applies have no account
/// after the record's digest (`altcontacts-DIGEST`).
fn file_record(key: &str) -> bool {
    key.starts_with("altcontacts-") && key.matches('-').count() == 1
}

impl LoopWorld for World {
    type Push = Pipeline;
    type Ran = Finished;
    const FAILED_RECORD: [&'static str; 2] = ["INPROGRESS", "FAILED"];

    fn aws(&self) -> &Emulator {
        World::aws(self)
    }

    fn push_from(&self, _before: &str) -> Pipeline {
        self.push()
    }

    fn run(&self, push: &Pipeline) -> Finished {
        World::run(self, push)
    }

    fn assert_applied(&self, ran: &Finished) {
        assert_ran(ran, APPLY);
    }

    fn applied(&self) -> Vec<String> {
        self.bitbucket
            .statuses()
            .into_iter()
            .filter(|status| file_record(&status.key) && status.state == "SUCCESSFUL")
            .map(|status| status.commit)
            .collect()
    }

    fn last_record(&self) -> Vec<String> {
        let statuses = self.bitbucket.statuses();
        let last = statuses.last().expect("a record");
        statuses
            .iter()
            .filter(|status| status.commit == last.commit && status.key == last.key)
            .map(|status| status.state.clone())
            .collect()
    }

    const FORGE: &'static str = "bitbucket";

    fn run_event(&self, body: &serde_json::Value) -> Finished {
        World::run(self, &self.started_by(body))
    }

    fn run_schedule(&self) -> Finished {
        World::run(self, &self.custom(NEW_ACCOUNTS, &[]))
    }

    fn account_records(&self) -> Vec<(String, String)> {
        let mut records: Vec<(String, String)> = Vec::new();
        for status in self.bitbucket.statuses() {
            let Some(account) = status.key.rsplit_once('-').map(|(_, account)| account) else {
                continue;
            };
            if file_record(&status.key) {
                continue;
            }
            let state = match status.state.as_str() {
                "SUCCESSFUL" => "success".to_owned(),
                other => other.to_owned(),
            };
            match records.iter_mut().find(|(seen, _)| seen == account) {
                Some(record) => record.1 = state,
                None => records.push((account.to_owned(), state)),
            }
        }
        records
    }

    fn run_drift(&self) -> Finished {
        let ran = World::run(self, &self.custom(DRIFT, &[]));
        assert_ran(&ran, "altcontacts drift");
        ran
    }

    fn issues(&self) -> Vec<SeenIssue> {
        self.bitbucket
            .issues()
            .into_iter()
            .map(|issue| SeenIssue {
                state: match issue.state.as_str() {
                    "new" | "open" => "open".to_owned(),
                    "resolved" => "closed".to_owned(),
                    other => other.to_owned(),
                },
                labels: Vec::new(),
                title: issue.title,
                body: issue.text,
                comments: issue.comments,
            })
            .collect()
    }

    const DRIFT_LABELS: &'static [&'static str] = &[];

    const NOTES_PER_PAGE: usize = 100;

    fn open_review(&self, number: u64) {
        self.bitbucket.open_pull_request(number);
    }

    fn add_reviewer_notes(&self, number: u64, count: usize, body: Option<&str>) {
        let reviewer = self.bitbucket.token("reviewer", &["pullrequest:write"]);
        let reviewer = self.bitbucket.user_of(&reviewer);
        self.bitbucket.add_comments(number, count, &reviewer, body);
    }

    fn run_review(&self, number: u64) -> Finished {
        let ran = World::run(self, &self.pull_request(number));
        assert_ran(&ran, PLAN);
        ran
    }

    fn review_notes(&self, number: u64) -> Vec<(bool, String)> {
        let me = self.bitbucket.user_of(&self.token);
        self.bitbucket
            .comments(number)
            .into_iter()
            .map(|comment| (comment.author == me, comment.text))
            .collect()
    }

    fn note_pages_read(&self, number: u64) -> usize {
        let listing = format!("/pullrequests/{number}/comments");
        self.bitbucket
            .calls()
            .iter()
            .filter(|call| call.method == "GET" && call.path.contains(&listing))
            .count()
    }

    /// The repository variable the next apply bases itself on, set to
    /// `commit`: by a collaborator, naming no step; or by a branch's
    /// pipeline (every step reads the token), naming a step that succeeded:
    /// its own, for a commit of its branch, or the daily audit's, which ran
    /// on `main` at the merge.
    fn forge_record(&self, commit: &str, forger: Forger) -> bool {
        let variables = self.bitbucket.variables();
        let (key, _) = variables
            .iter()
            .find(|(key, _)| key.starts_with("ALTCONTACTS_APPLIED_"))
            .expect("the record of the adoption");
        let value = match forger {
            Forger::Collaborator => commit.to_owned(),
            Forger::BranchPipeline => {
                let pipeline = format!("{{pipeline-forged-{commit}}}");
                let step = "{step-forged}";
                let on_main = git(&self.origin, &["rev-parse", "main"]) == commit;
                let (branch, selector) = match on_main {
                    true => ("main", ("custom", "altcontacts-audit")),
                    false => ("forged", ("branches", "forged")),
                };
                (self.bitbucket).pipeline_started(&pipeline, 900, branch, commit, selector);
                self.bitbucket
                    .step_state(&pipeline, step, Some("SUCCESSFUL"));
                format!("{commit} [step {pipeline}/{step}]")
            }
        };
        self.bitbucket.set_variable(key, &value);
        true
    }
}

impl Ran for Finished {
    fn succeeded(&self) -> bool {
        Finished::succeeded(self)
    }

    fn log(&self) -> String {
        Finished::log(self)
    }
}

#[test]
fn the_first_pull_request_gets_its_plan_and_report_and_the_first_merge_applies_the_whole_file() {
    let world = world(4);
    let plan =
        loop_scenarios::the_first_review_gets_its_plan_and_the_first_merge_applies_the_whole_file(
            &world,
        );
    assert!(
        plan.artifact("altcontacts-plan/plan.md").is_none(),
        "a plan that fits its comment keeps no copy of the contacts"
    );
    // The Code Insights report on the pull request's commit: the counts,
    // and nothing of the contacts.
    let reviewed = git(&world.origin, &["rev-parse", "pr-1"]);
    let report = world
        .bitbucket
        .report(&reviewed, REPORT)
        .expect("the plan's report");
    assert_eq!(report.body["result"], "PASSED");
    let counts: Vec<(String, u64)> = report.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["title"].as_str().unwrap().to_owned(),
                d["value"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("To create".to_owned(), 9),
            ("To update".to_owned(), 1),
            ("To delete".to_owned(), 0),
            ("To subscribe".to_owned(), 0)
        ]
    );
    assert!(
        !report.body.to_string().contains("@example.com"),
        "{}",
        report.body
    );
    // The plan step's OIDC token assumed the plan role; the apply step's,
    // in its deployment environment, the apply role.
    let identities = world.aws().web_identities();
    assert!(
        identities.iter().any(
            |(role, subject, admitted)| role.ends_with("role/altcontacts-plan")
                && !subject.contains("production")
                && *admitted
        ),
        "{identities:?}"
    );
    assert!(
        identities
            .iter()
            .any(|(role, _, admitted)| role.ends_with("role/altcontacts-apply") && *admitted),
        "{identities:?}"
    );
    // The record: the merge's build status, and the variable the next
    // apply bases itself on.
    let head = world.head();
    assert_eq!(world.last_record(), ["INPROGRESS", "SUCCESSFUL"]);
    let variables = world.bitbucket.variables();
    assert_eq!(variables.len(), 1, "{variables:?}");
    assert!(variables[0].0.starts_with("ALTCONTACTS_APPLIED_"));
    assert!(
        variables[0].1.starts_with(&format!("{head} [step ")),
        "the commit, and the step that applied it: {variables:?}"
    );
}

#[test]
fn pushes_to_a_pull_request_edit_one_comment_whatever_the_pages_and_leave_others_alone() {
    loop_scenarios::pushes_to_a_review_edit_one_note_whatever_the_pages_and_leave_others_alone(
        world(3),
    );
}

#[test]
fn a_plan_of_9000_changes_fits_the_comment_and_says_where_the_full_plan_is() {
    let world = world(2_999);
    git(&world.dev, &["checkout", "-q", "-b", "adopt"]);
    let file = contacts("security@example.com", &[]).replace(
        "defaults: { security: sec, billing: bill }",
        "defaults: { security: sec, billing: bill, operations: { name: Ops, title: On-Call, email_address: ops@example.com, phone_number: \"+1 202 555 0102\" } }",
    );
    world.commit(&[("contacts.yaml", &file)], "Adopt the organization");
    let run = world.run(&world.pull_request(3));
    assert_ran(&run, PLAN);
    assert_eq!(
        world.bitbucket.refused_for_length(),
        0,
        "Bitbucket refused nothing"
    );
    let comments = world.bitbucket.comments(3);
    assert_eq!(comments.len(), 1);
    let comment = &comments[0].text;
    assert!(comment.chars().count() <= TEXT_LIMIT);
    assert!(comment.contains("**Plan: 9000 to create, 0 to update, 0 to delete, 0 unchanged.**"));
    assert!(
        comment.contains("of 9000 changes are not shown here"),
        "{}",
        &comment[..2000]
    );
    assert!(
        comment.contains("`altcontacts-plan/plan.md` in the artifacts of [this pipeline]("),
        "{comment}"
    );
    assert!(
        comment.chars().count() > 25_000,
        "the comment is filled, not emptied"
    );
    let full = run
        .artifact("altcontacts-plan/plan.md")
        .expect("the full plan is kept as an artifact");
    assert_eq!(full.matches("| 🟢 create |").count(), 9_000);
}

#[test]
fn an_invalid_file_gets_a_failed_report_with_its_problems_on_their_lines_and_a_comment_that_says_why()
 {
    let world = world(3);
    adopted(&world, &contacts("security@example.com", &[]));
    git(&world.dev, &["checkout", "-q", "-b", "typo"]);
    let file = contacts("security@example.com", &[]).replace("security: sec,", "security: secc,");
    world.commit(&[("contacts.yaml", &file)], "A typo");
    let run = world.run(&world.pull_request(4));
    assert!(!run.succeeded(), "an invalid file fails the step");
    assert!(run.ran(PLAN));
    let reviewed = git(&world.origin, &["rev-parse", "pr-4"]);
    let report = world
        .bitbucket
        .report(&reviewed, REPORT)
        .expect("the report");
    assert_eq!(report.body["result"], "FAILED");
    assert_eq!(report.annotations.len(), 1, "{:?}", report.annotations);
    let annotation = &report.annotations[0];
    assert_eq!(annotation["path"], "contacts.yaml");
    assert_eq!(annotation["line"], 6);
    assert_eq!(annotation["annotation_type"], "BUG");
    assert!(
        annotation["summary"].as_str().unwrap().contains("secc"),
        "{annotation}"
    );
    let comments = world.bitbucket.comments(4);
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0]
            .text
            .contains("could not make the plan of `contacts.yaml`"),
        "{}",
        comments[0].text
    );
    assert!(wrote_nothing(world.aws()));
}

#[test]
fn drift_where_the_issue_tracker_is_off_fails_the_pipeline_and_says_how_to_get_an_issue() {
    let world = world(3);
    loop_scenarios::drift_where_issues_are_off_fails_the_run_and_says_how_to_get_an_issue(
        &world,
        || world.bitbucket.turn_issues_off(),
        || World::run(&world, &world.custom(DRIFT, &[])),
        "this repository keeps no issues",
        "turn the issue tracker on (Repository settings > Features > Issues)",
    );
}

/// A world whose loop token is the repository access token docs/gitops.md
/// starts with: Bitbucket will not tell it who it is, and it cannot hold
/// an issue scope.
fn world_with_a_repository_access_token(members: usize) -> World {
    let mut world = world(members);
    world.token = world.bitbucket.token("aws-contacts-bot", &LOOP_SCOPES);
    world
}

/// A repository access token's plan comment is found again as the one it
/// may edit, a reviewer's lookalike left alone.
#[test]
fn with_a_repository_access_token_the_plan_comment_is_the_one_it_may_edit() {
    loop_scenarios::pushes_to_a_review_edit_one_note_whatever_the_pages_and_leave_others_alone(
        world_with_a_repository_access_token(3),
    );
}

/// With a repository access token there is no issue to keep: drift fails
/// the pipeline, and says why and which token would keep one.
#[test]
fn with_a_repository_access_token_drift_fails_the_pipeline_and_says_which_token_keeps_an_issue() {
    let world = world_with_a_repository_access_token(3);
    loop_scenarios::drift_where_issues_are_off_fails_the_run_and_says_how_to_get_an_issue(
        &world,
        || {},
        || World::run(&world, &world.custom(DRIFT, &[])),
        "the token in BITBUCKET_ACCESS_TOKEN may not keep issues (a repository access token cannot hold the `issue:write` scope)",
        "an OAuth consumer's access token",
    );
}

/// Whoever holds the event's token can start the custom pipeline with
/// variables of their own. None of them steers a step: one that would send
/// the step's OIDC token (which the apply role trusts) or the repository's
/// token elsewhere, or change what it runs, is refused before anything is
/// downloaded or asked, and the attacker's AWS hears nothing.
#[test]
fn a_custom_pipeline_s_variables_steer_nothing_and_send_nothing_off() {
    let world = world(2);
    adopted(&world, &contacts("security@example.com", &[]));
    let attacker = Emulator::start(ROLE_ACCOUNT, None, Faults::default());
    let roles_asked = world.aws().web_identities().len();
    for variables in [
        vec![("AWS_ENDPOINT_URL", attacker.endpoint.as_str())],
        vec![("BITBUCKET_API_URL", attacker.endpoint.as_str())],
        vec![("ALTCONTACTS_DRIFT", "repair")],
        vec![("AWS_ACCESS_KEY_ID", "AKIAATTACKER")],
    ] {
        let run = World::run(&world, &world.custom(NEW_ACCOUNTS, &variables));
        assert!(!run.succeeded(), "{variables:?}: {}", run.log());
        assert!(
            run.log().contains("altcontacts refuses to run") && run.log().contains(variables[0].0),
            "{variables:?}: {}",
            run.log()
        );
    }
    assert!(attacker.log().is_empty() && attacker.web_identities().is_empty());
    assert_eq!(world.aws().web_identities().len(), roles_asked);
    assert!(wrote_nothing(world.aws()));
}

/// A signed archive of another release verifies: the pipeline refuses it
/// for its version, before the step's token goes anywhere.
#[test]
fn the_pipeline_refuses_another_signed_release_in_the_pinned_one_s_place() {
    let world = world(1);
    world.bitbucket.publish_release(
        &crate::release::release_tag(),
        crate::release::another_signed_release(),
    );
    git(&world.dev, &["checkout", "-q", "-b", "change"]);
    world.commit(
        &[("contacts.yaml", &contacts("security@example.com", &[]))],
        "A change",
    );
    let run = world.run(&world.pull_request(1));
    assert!(!run.succeeded());
    assert!(
        run.log().contains(
            "downloaded is another (altcontacts 0.0.9 (0123456789ab)): refusing to run it"
        ),
        "{}",
        run.log()
    );
    assert!(!run.log().contains("owned"), "the other release never ran");
    assert!(world.bitbucket.comments(1).is_empty());
    assert!(world.aws().web_identities().is_empty());
}

#[test]
fn a_token_without_a_scope_is_told_which_variable_and_scope_it_needs() {
    let mut world = world(3);
    adopted(&world, &contacts("security@example.com", &[]));
    let scopes: Vec<&str> = LOOP_SCOPES
        .into_iter()
        .filter(|s| *s != "pullrequest:write")
        .collect();
    world.token = world.bitbucket.token("narrow", &scopes);
    git(&world.dev, &["checkout", "-q", "-b", "ops"]);
    world.commit(
        &[("contacts.yaml", &contacts("security-team@example.com", &[]))],
        "A team address",
    );
    let run = World::run(&world, &world.pull_request(5));
    assert!(!run.succeeded());
    let log = run.log();
    assert!(
        log.contains("Bitbucket: could not list the comments of pull request #5: 403"),
        "{log}"
    );
    assert!(
        log.contains("the token in BITBUCKET_ACCESS_TOKEN lacks the `pullrequest:write` scope"),
        "{log}"
    );
}

#[test]
fn a_stopped_pipeline_reports_what_it_did_leaves_the_record_and_the_next_finishes_the_job() {
    let world = world(4);
    adopted(&world, &contacts("security@example.com", &[]));
    let recorded = world.applied();
    let entries: Vec<String> = (0..4)
        .map(|n| operations(&member(n), "ops@example.com"))
        .collect();
    let file = contacts("security@example.com", &entries).replace("put: 1000", "put: 1");
    world.commit(&[("contacts.yaml", &file)], "Operations everywhere");
    world.push_main();
    let running = world.start(&world.push());
    wait_until(Duration::from_secs(90), "the first write", || {
        (world.aws().log().iter()).any(|e| e.operation == "PutAlternateContact")
    });
    // The step's script exec'd altcontacts: its process is the step's.
    let pid = i32::try_from(running.id()).unwrap();
    // SAFETY: kill() only sends a signal to a process this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let stopped = running.wait_with_output().unwrap();
    assert!(!stopped.status.success());
    let log = String::from_utf8_lossy(&stopped.stdout).into_owned()
        + &String::from_utf8_lossy(&stopped.stderr);
    assert!(log.contains("Apply interrupted: "), "{log}");
    assert!(log.contains("not started"), "{log}");
    assert_eq!(world.applied(), recorded, "a stopped apply is not a base");
    assert_eq!(world.last_record(), ["INPROGRESS", "STOPPED"]);

    // The next pipeline is the hourly schedule: it catches up on the merge.
    assert_ran(
        &World::run(&world, &world.custom(NEW_ACCOUNTS, &[])),
        "altcontacts new accounts",
    );
    assert_eq!(
        loop_scenarios::drift(world.aws(), &file),
        "No changes. 14 contacts match the configuration."
    );
    for n in 0..4 {
        assert!(
            world.aws().effective_writes(&member(n), "OPERATIONS") <= 1,
            "account {n} written twice"
        );
    }
    assert_eq!(world.applied().last(), Some(&world.head()));
}

#[test]
fn the_pipeline_file_passes_bitbucket_s_schema_and_runs_its_own_version() {
    let checker = crate::ship::pinned_tool(
        "schema-venv",
        "check-jsonschema",
        crate::ship::CHECK_JSONSCHEMA_VERSION,
        "check-jsonschema",
    );
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("bitbucket-pipelines.yml");
    let broken = dir.path().join("broken.yml");
    let pipeline = example_pipeline();
    std::fs::write(&good, &pipeline).unwrap();
    // The schema can fail: a clone depth Bitbucket does not know.
    std::fs::write(&broken, pipeline.replacen("depth: full", "depth: fully", 1)).unwrap();
    let check = |file: &std::path::Path| {
        std::process::Command::new(&checker)
            .args(["--builtin-schema", "vendor.bitbucket-pipelines"])
            .arg(file)
            .output()
            .expect("run check-jsonschema")
    };
    let output = check(&good);
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !check(&broken).status.success(),
        "the schema refuses a broken file"
    );
    assert!(
        pipeline.contains(&format!(
            "ALTCONTACTS_VERSION={}\n",
            env!("CARGO_PKG_VERSION")
        )),
        "the pipeline runs the release of its own version"
    );
}
