//! The GitOps loop on GitLab, end to end: the docs' `.gitlab-ci.yml` and
//! the component, run as GitLab would run them (see `pipeline_runner`),
//! from the first merge request on.

use std::time::Duration;

use crate::emulator::{Contact, Emulator, Faults, organization};
use crate::git_remote::git;
use crate::gitlab_api::{DEVELOPER, GitLab, REPORTER};
use crate::loop_scenarios::{
    self, Forger, LoopWorld, Ran, SeenIssue, adopted, contacts, drift, member, merge_and_run,
    operations, wrote_nothing,
};
use crate::pipeline_runner::{Finished, Pipeline, ROLE_ACCOUNT, World};
use crate::support::http_status;
use crate::workflow_runner::wait_until;

const CALLER: &str = ROLE_ACCOUNT;
const PLAN: &str = "altcontacts-plan";
const APPLY: &str = "altcontacts-apply";
const NEW_ACCOUNTS: &str = "altcontacts-new-accounts";
/// The environment the applies of contacts.yaml are deployments to.
const FILE_ENVIRONMENT: &str = "altcontacts/contacts.yaml";
const DRIFT: &str = "altcontacts-drift";
const AUDIT: &str = "altcontacts-audit";

fn world(members: usize) -> World {
    World::new(
        GitLab::start(),
        Emulator::start(
            CALLER,
            Some(organization(CALLER, members, 1)),
            Faults::default(),
        ),
    )
}

loop_scenarios::every_forge!(world);

fn assert_ran(run: &Finished, job: &str) {
    assert!(run.succeeded(), "the pipeline failed:\n{}", run.log());
    assert!(run.ran(job), "{job} did not run:\n{}", run.log());
}

impl LoopWorld for World {
    type Push = Pipeline;
    type Ran = Finished;
    const FAILED_RECORD: [&'static str; 2] = ["running", "failed"];

    fn aws(&self) -> &Emulator {
        World::aws(self)
    }

    fn push_from(&self, before: &str) -> Pipeline {
        self.push_pipeline(before)
    }

    fn run(&self, push: &Pipeline) -> Finished {
        World::run(self, push)
    }

    fn assert_applied(&self, ran: &Finished) {
        assert_ran(ran, APPLY);
    }

    fn applied(&self) -> Vec<String> {
        self.gitlab
            .deployments()
            .into_iter()
            .filter(|d| d.environment == FILE_ENVIRONMENT)
            .filter(|d| d.status() == "success")
            .map(|d| d.sha)
            .collect()
    }

    const FORGE: &'static str = "gitlab";

    fn run_event(&self, body: &serde_json::Value) -> Finished {
        World::run(self, &self.trigger(body))
    }

    fn run_schedule(&self) -> Finished {
        World::run(self, &self.schedule("new-accounts"))
    }

    fn account_records(&self) -> Vec<(String, String)> {
        self.gitlab
            .deployments()
            .into_iter()
            .filter_map(|d| {
                let account = d
                    .environment
                    .strip_prefix(&format!("{FILE_ENVIRONMENT}/accounts/"))?
                    .to_owned();
                Some((account, d.status().to_owned()))
            })
            .collect()
    }

    fn last_record(&self) -> Vec<String> {
        self.gitlab.deployments().last().unwrap().statuses.clone()
    }

    fn run_drift(&self) -> Finished {
        let ran = World::run(self, &self.schedule("drift"));
        assert_ran(&ran, DRIFT);
        ran
    }

    fn issues(&self) -> Vec<SeenIssue> {
        self.gitlab
            .issues()
            .into_iter()
            .map(|issue| SeenIssue {
                state: match issue.state.as_str() {
                    "opened" => "open".to_owned(),
                    other => other.to_owned(),
                },
                comments: issue.notes.into_iter().map(|note| note.body).collect(),
                labels: issue.labels,
                title: issue.title,
                body: issue.description,
            })
            .collect()
    }

    const DRIFT_LABELS: &'static [&'static str] = &["altcontacts-drift"];
    const NOTES_PER_PAGE: usize = 100;

    fn open_review(&self, number: u64) {
        self.gitlab.open_merge_request(number);
    }

    fn add_reviewer_notes(&self, number: u64, count: usize, body: Option<&str>) {
        let reviewer = self.gitlab.token("reviewer", &["api"], DEVELOPER);
        let reviewer = self.gitlab.user_of(&reviewer);
        match body {
            Some(body) => (0..count).for_each(|_| self.gitlab.add_note(number, body, reviewer)),
            None => self.gitlab.add_notes(number, count, reviewer),
        }
    }

    fn run_review(&self, number: u64) -> Finished {
        let ran = World::run(self, &self.merge_request(number));
        assert_ran(&ran, PLAN);
        ran
    }

    /// A merge request's notes are written with the review token, the one
    /// its pipeline has.
    fn review_notes(&self, number: u64) -> Vec<(bool, String)> {
        let me = self.gitlab.user_of(self.review_token.as_deref().unwrap());
        self.gitlab
            .notes(number)
            .into_iter()
            .map(|note| (note.author == me, note.body))
            .collect()
    }

    fn note_pages_read(&self, number: u64) -> usize {
        let listing = format!("/merge_requests/{number}/notes");
        self.gitlab
            .calls()
            .iter()
            .filter(|call| call.method == "GET" && call.path.contains(&listing))
            .count()
    }

    /// A successful deployment to the file's environment: by a developer
    /// of the project with a token of their own, or by a branch's pipeline
    /// with the token it holds (the review token: the project's other
    /// token is a protected variable, which no branch's pipeline gets).
    fn forge_record(&self, commit: &str, forger: Forger) -> bool {
        let (token, git_ref) = match forger {
            Forger::Collaborator => (self.gitlab.token("mallory", &["api"], DEVELOPER), "main"),
            Forger::BranchPipeline => (self.review_token.clone().unwrap(), "forged"),
        };
        let status = http_status(
            "POST",
            &format!(
                "{}/projects/{}/deployments",
                self.gitlab.api_url(),
                crate::gitlab_api::PROJECT_ID
            ),
            &[("private-token", &token)],
            Some(
                &serde_json::json!({ "environment": FILE_ENVIRONMENT, "sha": commit,
                "ref": git_ref, "tag": false, "status": "success" }),
            ),
        );
        status == 201
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
fn the_first_merge_request_gets_its_plan_and_the_first_merge_applies_the_whole_file() {
    let world = world(4);
    let plan =
        loop_scenarios::the_first_review_gets_its_plan_and_the_first_merge_applies_the_whole_file(
            &world,
        );
    // The widget's report: counts, and nothing of the contacts.
    assert_eq!(
        plan.artifact(PLAN, "altcontacts-plan/plan.json").as_deref(),
        Some(r#"{"create":9,"delete":0,"update":1}"#)
    );
    assert!(
        plan.artifact(PLAN, "altcontacts-plan/plan.md").is_none(),
        "a plan that fits its note keeps no copy of the contacts"
    );
    // The plan role was assumed with the merge request's token.
    assert!(
        world
            .aws()
            .web_identities()
            .iter()
            .any(|(role, subject, admitted)| {
                role.ends_with("role/altcontacts-plan")
                    && subject.ends_with("ref:mr-1")
                    && *admitted
            }),
        "{:?}",
        world.aws().web_identities()
    );
    let deployment = world.gitlab.deployments().pop().unwrap();
    assert_eq!(deployment.environment, "altcontacts/contacts.yaml");
    assert_eq!(deployment.statuses, vec!["running", "success"]);
}

#[test]
fn pushes_to_a_merge_request_edit_one_note_whatever_the_pages_and_leave_others_alone() {
    loop_scenarios::pushes_to_a_review_edit_one_note_whatever_the_pages_and_leave_others_alone(
        world(3),
    );
}

#[test]
fn a_plan_of_9000_changes_fits_the_note_and_says_where_the_full_plan_is() {
    let world = world(2_999);
    git(&world.dev, &["checkout", "-q", "-b", "adopt"]);
    let file = contacts("security@example.com", &[]).replace(
        "defaults: { security: sec, billing: bill }",
        "defaults: { security: sec, billing: bill, operations: { name: Ops, title: On-Call, email_address: ops@example.com, phone_number: \"+1 202 555 0102\" } }",
    );
    world.commit(&[("contacts.yaml", &file)], "Adopt the organization");
    let run = world.run(&world.merge_request(3));
    assert_ran(&run, PLAN);
    assert_eq!(
        world.gitlab.refused_for_length(),
        0,
        "GitLab refused nothing"
    );
    let notes = world.gitlab.notes(3);
    assert_eq!(notes.len(), 1);
    let note = &notes[0].body;
    let full = run
        .artifact(PLAN, "altcontacts-plan/plan.md")
        .expect("the full plan is kept as an artifact");
    println!(
        "note: {} characters; full plan: {} characters; plan.json: {}",
        note.chars().count(),
        full.chars().count(),
        run.artifact(PLAN, "altcontacts-plan/plan.json").unwrap()
    );
    assert!(note.chars().count() <= 1_000_000);
    assert!(note.contains("**Plan: 9000 to create, 0 to update, 0 to delete, 0 unchanged.**"));
    assert!(
        note.contains("of 9000 changes are not shown here"),
        "{}",
        &note[..2000]
    );
    assert!(note.contains("altcontacts-plan/plan.md) in the artifacts of [this job]("));
    assert!(
        note.chars().count() > 900_000,
        "the note is filled, not emptied"
    );
    assert_eq!(full.matches("| 🟢 create |").count(), 9_000);
}

#[test]
fn a_cancelled_job_reports_what_it_did_leaves_the_record_and_the_next_pipeline_finishes_the_job() {
    let world = world(4);
    adopted(&world, &contacts("security@example.com", &[]));
    let recorded = world.applied();
    let entries: Vec<String> = (0..4)
        .map(|n| operations(&member(n), "ops@example.com"))
        .collect();
    let file = contacts("security@example.com", &entries).replace("put: 1000", "put: 1");
    world.commit(&[("contacts.yaml", &file)], "Operations everywhere");
    let before = git(&world.origin, &["rev-parse", "main"]);
    world.push_main();
    let running = world.start(&world.push_pipeline(&before));
    wait_until(Duration::from_secs(90), "the first write", || {
        world
            .aws()
            .log()
            .iter()
            .any(|e| e.operation == "PutAlternateContact")
            && running.altcontacts().is_some()
    });
    running.cancel();
    let cancelled = running.wait();
    assert!(!cancelled.succeeded());
    let log = cancelled.log();
    assert!(log.contains("Apply interrupted: "), "{log}");
    assert!(log.contains("not started"), "{log}");
    assert_eq!(world.applied(), recorded, "a cancelled apply is not a base");
    assert_eq!(
        world.gitlab.deployments().last().unwrap().statuses,
        vec!["running", "canceled"]
    );

    // The next pipeline is a scheduled one: it catches up on the merge.
    assert_ran(&world.run(&world.schedule("new-accounts")), NEW_ACCOUNTS);
    assert_eq!(
        drift(world.aws(), &file),
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
fn a_project_that_chooses_repair_gets_aws_written_back_and_the_issue_closed_with_what_it_did() {
    let world = world(3);
    let file = contacts("security@example.com", &[]);
    // The project sets the component's `drift` input to `repair`.
    let pipeline = world
        .pipeline_file()
        .replace("drift: report", "drift: repair");
    world.commit(&[(".gitlab-ci.yml", &pipeline)], "Repair drift");
    adopted(&world, &file);
    let recorded = world.applied().len();
    world.aws().set_contact(
        &member(1),
        "SECURITY",
        Contact::new("Intruder", "attacker@example.net"),
    );
    assert_ran(&world.run(&world.schedule("drift")), DRIFT);
    assert_eq!(
        drift(world.aws(), &file),
        "No changes. 8 contacts match the configuration."
    );
    let issues = world.gitlab.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].state, "closed");
    assert!(issues[0].description.contains("This job wrote them back."));
    assert!(
        issues[0].notes[0].body.contains("Repaired by [this job]("),
        "{}",
        issues[0].notes[0].body
    );
    assert_eq!(
        world.applied().len(),
        recorded + 1,
        "the repair is recorded"
    );
}

#[test]
fn an_invalid_file_gets_a_code_quality_report_and_a_note_that_says_why_there_is_no_plan() {
    let world = world(2);
    git(&world.dev, &["checkout", "-q", "-b", "typo"]);
    let file = contacts("security@example.com", &[]).replace("security: sec,", "security: secc,");
    world.commit(&[("contacts.yaml", &file)], "A typo");
    let run = world.run(&world.merge_request(4));
    assert!(!run.succeeded(), "an invalid file fails the job");
    let report: serde_json::Value = serde_json::from_str(
        &run.artifact(PLAN, "altcontacts-plan/codequality.json")
            .expect("the Code Quality report"),
    )
    .unwrap();
    let problem = &report[0];
    assert_eq!(problem["location"]["path"], "contacts.yaml");
    assert_eq!(problem["location"]["lines"]["begin"], 6);
    assert_eq!(problem["check_name"], "altcontacts.invalid_file");
    assert_eq!(problem["severity"], "major");
    assert!(
        problem["fingerprint"]
            .as_str()
            .is_some_and(|f| f.len() == 64)
    );
    assert!(
        problem["description"]
            .as_str()
            .unwrap()
            .contains("unknown contact `secc`"),
        "{problem}"
    );
    let notes = world.gitlab.notes(4);
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0]
            .body
            .contains("altcontacts could not make the plan of `contacts.yaml`.")
            && notes[0].body.contains("unknown contact `secc`"),
        "{}",
        notes[0].body
    );
    assert!(world.aws().log().is_empty(), "nothing was asked of AWS");
}

#[test]
fn a_merge_request_from_a_fork_gets_no_plan_job_no_token_and_no_role() {
    let world = world(2);
    git(&world.dev, &["checkout", "-q", "-b", "outside"]);
    world.commit(
        &[("contacts.yaml", &contacts("security@example.com", &[]))],
        "From a fork",
    );
    let Pipeline::MergeRequest {
        iid,
        head,
        diff_base,
        source_branch,
        ..
    } = world.merge_request(5)
    else {
        unreachable!()
    };
    let run = world.run(&Pipeline::MergeRequest {
        iid,
        head,
        diff_base,
        source_branch,
        fork: true,
    });
    assert!(!run.ran(PLAN), "{}", run.log());
    assert!(world.gitlab.notes(5).is_empty());
    assert!(
        world.aws().web_identities().is_empty(),
        "no role was asked for"
    );
}

/// A signed archive of another release verifies: the component refuses
/// it for its version, before the job's token goes anywhere.
#[test]
fn the_component_refuses_another_signed_release_in_the_pinned_one_s_place() {
    let world = world(1);
    world.gitlab.publish_release(
        &crate::release::release_tag(),
        crate::release::another_signed_release(),
    );
    git(&world.dev, &["checkout", "-q", "-b", "change"]);
    world.commit(
        &[("contacts.yaml", &contacts("security@example.com", &[]))],
        "A change",
    );
    let run = world.run(&world.merge_request(1));
    assert!(!run.succeeded());
    assert!(
        run.log().contains(
            "downloaded is another (altcontacts 0.0.9 (0123456789ab)): refusing to run it"
        ),
        "{}",
        run.log()
    );
    assert!(!run.log().contains("owned"), "the other release never ran");
    assert!(world.gitlab.notes(1).is_empty());
    assert!(world.aws().web_identities().is_empty());
}

/// Whoever holds the trigger token can start a pipeline of `main` and,
/// where the project has not restricted them, add pipeline variables,
/// which override GitLab's own. None of them steers the job: one that
/// would send the job's AWS credentials elsewhere, or change what it runs
/// and records, is refused before anything is downloaded or asked; GitLab's
/// address is its ID token's issuer, not `CI_API_V4_URL`; and an ID token
/// of another issuer is refused by AWS before GitLab is called. The
/// attacker's AWS and GitLab hear nothing; nothing is recorded.
#[test]
fn a_trigger_s_variables_steer_nothing_and_send_nothing_off() {
    use crate::events::{account_created, delivered};
    let world = world(2);
    adopted(&world, &contacts("security@example.com", &[]));
    let recorded = world.gitlab.deployments().len();
    let roles_asked = world.aws().web_identities().len();
    let attacker_aws = Emulator::start(CALLER, None, Faults::default());
    let attacker_gitlab = GitLab::start();
    let new = "200000000000";
    world.aws().join(new, "New Account", "r-emu1");
    let event = delivered("gitlab", &account_created(new));
    let with = |variables: serde_json::Value| {
        let mut body = event.clone();
        body["variables"] = variables;
        body
    };

    for variables in [
        serde_json::json!({ "AWS_ENDPOINT_URL": attacker_aws.endpoint }),
        serde_json::json!({ "AWS_ENDPOINT_URL_STS": attacker_aws.endpoint }),
        serde_json::json!({ "ALTCONTACTS_ARGS": "--sandbox elsewhere.yaml" }),
        serde_json::json!({ "AWS_ACCESS_KEY_ID": "AKIAATTACKER", "AWS_SECRET_ACCESS_KEY": "x" }),
    ] {
        let run = world.run(&world.trigger(&with(variables.clone())));
        assert!(!run.succeeded(), "{variables}: {}", run.log());
        let name = variables.as_object().unwrap().keys().next().unwrap();
        assert!(
            run.log().contains("altcontacts refuses to run") && run.log().contains(name.as_str()),
            "{variables}: {}",
            run.log()
        );
    }
    assert!(attacker_aws.log().is_empty() && attacker_aws.web_identities().is_empty());
    assert_eq!(
        world.gitlab.deployments().len(),
        recorded,
        "nothing recorded"
    );
    assert!(wrote_nothing(world.aws()));
    assert_eq!(
        world.aws().web_identities().len(),
        roles_asked,
        "no job got as far as asking for a role"
    );

    // GitLab's address is not a variable's: the job runs, for the event's
    // account, and the attacker's GitLab hears nothing.
    let attacker_api = attacker_gitlab.api_url();
    let run = world.run(&world.trigger(&with(serde_json::json!({
        "CI_API_V4_URL": attacker_api, "CI_SERVER_URL": attacker_gitlab.url,
        "CI_PROJECT_ID": "1" }))));
    assert_ran(&run, NEW_ACCOUNTS);
    assert!(
        attacker_gitlab.calls().is_empty(),
        "{:?}",
        attacker_gitlab.calls()
    );
    assert_eq!(world.aws().effective_writes(new, "SECURITY"), 1);

    // An ID token of the attacker's own issuer, in place of the job's:
    // AWS refuses it, and GitLab's address is never read from it.
    let forged = crate::pipeline_runner::unsigned_jwt(&serde_json::json!({
        "iss": attacker_gitlab.url, "aud": "sts.amazonaws.com",
        "sub": format!("project_path:{}:ref_type:branch:ref:main", crate::gitlab_api::PROJECT_PATH),
        "project_id": crate::gitlab_api::PROJECT_ID.to_string(), "ref": "main", "ref_type": "branch" }));
    let recorded = world.gitlab.deployments().len();
    let run = world.run(&world.trigger(&with(serde_json::json!({
        "ALTCONTACTS_ID_TOKEN": forged }))));
    assert!(!run.succeeded(), "{}", run.log());
    assert!(
        attacker_gitlab.calls().is_empty(),
        "{:?}",
        attacker_gitlab.calls()
    );
    assert_eq!(
        world.gitlab.deployments().len(),
        recorded,
        "nothing recorded"
    );
}

/// The loop believes what the job's ID token says (GitLab's address, the
/// project) only once AWS has taken that token as the job's role: with
/// credentials from elsewhere (keys in the environment), a token that
/// names another issuer is believed by no one, and nothing is sent there.
#[test]
fn an_id_token_aws_did_not_take_sends_nothing_to_its_issuer() {
    let world = world(1);
    let attacker = GitLab::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("contacts.yaml"),
        contacts("security@example.com", &[]),
    )
    .unwrap();
    let token = dir.path().join("token");
    std::fs::write(
        &token,
        crate::pipeline_runner::unsigned_jwt(&serde_json::json!({
            "iss": attacker.url, "aud": "sts.amazonaws.com", "project_id": "4242",
            "sub": "project_path:acme/aws-contacts:ref_type:branch:ref:main" })),
    )
    .unwrap();
    let output = world
        .aws()
        .command(dir.path(), &["gitlab", "plan", "--comment", "--full"])
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token)
        .env(
            "AWS_ROLE_ARN",
            format!("arn:aws:iam::{ROLE_ACCOUNT}:role/{APPLY}"),
        )
        .env("CI_MERGE_REQUEST_IID", "1")
        .env("GITLAB_TOKEN", "glpat-secret")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("not as the role") && said.contains("nothing the token says is believed"),
        "{said}"
    );
    assert!(attacker.calls().is_empty(), "{:?}", attacker.calls());
}

#[test]
fn the_apply_role_admits_only_the_default_branch() {
    let world = world(1);
    adopted(&world, &contacts("security@example.com", &[]));
    let (admitted, refused): (Vec<_>, Vec<_>) = world
        .aws()
        .web_identities()
        .into_iter()
        .partition(|(_, _, admitted)| *admitted);
    assert!(refused.is_empty(), "{refused:?}");
    assert!(
        admitted
            .iter()
            .all(|(role, subject, _)| role.ends_with("altcontacts-apply")
                && subject.ends_with(":ref:main"))
    );
    // A job of another branch with the apply role's trust: refused by STS.
    let file = world
        .pipeline_file()
        .replace("role/altcontacts-plan", "role/altcontacts-apply");
    git(&world.dev, &["checkout", "-q", "-b", "sneaky"]);
    world.commit(
        &[
            (".gitlab-ci.yml", &file),
            ("contacts.yaml", &contacts("security-team@example.com", &[])),
        ],
        "Plan with the apply role",
    );
    let run = world.run(&world.merge_request(6));
    assert!(!run.succeeded());
    assert!(
        world
            .aws()
            .web_identities()
            .iter()
            .any(
                |(role, subject, admitted)| role.ends_with("altcontacts-apply")
                    && subject.ends_with(":ref:mr-6")
                    && !admitted
            ),
        "{:?}",
        world.aws().web_identities()
    );
    assert!(
        world
            .aws()
            .log()
            .iter()
            .all(|e| e.operation == "GetAlternateContact"),
        "nothing was written"
    );
}

#[test]
fn a_token_without_the_scope_or_the_role_is_told_which_variable_scope_and_role_it_needs() {
    let mut world = world(1);
    adopted(&world, &contacts("security@example.com", &[]));
    world.commit(
        &[("contacts.yaml", &contacts("security-team@example.com", &[]))],
        "A team address",
    );
    world.token = Some(world.gitlab.token("reader", &["read_api"], DEVELOPER));
    let before = git(&world.origin, &["rev-parse", "main"]);
    world.push_main();
    let run = world.run(&world.push_pipeline(&before));
    assert!(!run.succeeded());
    let log = run.log();
    assert!(
        log.contains("the token in GITLAB_TOKEN lacks the `api` scope")
            && log.contains("at least the Developer role"),
        "{log}"
    );

    world.token = Some(world.gitlab.token("reporter", &["api"], REPORTER));
    let run = world.run(&world.push_pipeline(&before));
    assert!(!run.succeeded());
    let log = run.log();
    assert!(
        log.contains("could not record the apply")
            && log.contains("may lack the Developer role in acme/aws-contacts"),
        "{log}"
    );

    // Only the merge requests' token: not one that may record an apply.
    world.token = None;
    let run = world.run(&world.push_pipeline(&before));
    assert!(!run.succeeded());
    assert!(
        run.log()
            .contains("this needs GITLAB_TOKEN, which this pipeline does not have")
            && run.log().contains("protected CI/CD variable"),
        "{}",
        run.log()
    );

    world.review_token = None;
    let run = world.run(&world.push_pipeline(&before));
    assert!(!run.succeeded());
    assert!(
        run.log()
            .contains("neither GITLAB_TOKEN nor GITLAB_REVIEW_TOKEN is set")
            && run.log().contains("the `api` scope"),
        "{}",
        run.log()
    );
}

#[test]
fn the_loop_speaks_aws_as_moto_does_through_the_jobs_oidc_roles() {
    use crate::moto::Moto;
    let moto = Moto::start();
    let world = World::on_endpoint(GitLab::start(), &moto.endpoint);
    let file = format!(
        r#"version: 1
contacts:
  sec: {{ name: Security, title: Team, email_address: security@example.com, phone_number: "+1 202 555 0100" }}
  bill: {{ name: Billing, title: Team, email_address: billing@example.com, phone_number: "+1 202 555 0101" }}
accounts:
  "{CALLER}": {{ security: sec, billing: bill }}
"#
    );
    git(&world.dev, &["checkout", "-q", "-b", "add-contacts"]);
    world.commit(&[("contacts.yaml", &file)], "Declare the contacts");
    assert_ran(&world.run(&world.merge_request(1)), PLAN);
    let notes = world.gitlab.notes(1);
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0]
            .body
            .contains("**Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged.**"),
        "{}",
        notes[0].body
    );
    assert!(moto.account_requests("putAlternateContact").is_empty());

    assert_ran(&merge_and_run(&world), APPLY);
    let writes = moto.account_requests("putAlternateContact");
    assert_eq!(writes.len(), 2);
    assert!(
        writes.iter().all(|write| write.account_id().is_none()),
        "the role's own account is written without AccountId"
    );
    assert_eq!(world.applied(), vec![world.head()]);
}

/// The component refuses a binary whose signature does not verify against
/// the key in its own commit: a release whose files were swapped.
#[test]
fn the_component_refuses_a_binary_that_was_swapped_in_the_release() {
    let world = world(1);
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("attacker");
    let run = |command: &mut std::process::Command| {
        assert!(command.status().unwrap().success(), "{command:?}");
    };
    run(std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key));
    let archive = format!("altcontacts-{}.tar.gz", crate::release::target());
    std::fs::write(dir.path().join("altcontacts"), "#!/bin/sh\necho owned\n").unwrap();
    run(std::process::Command::new("tar")
        .current_dir(dir.path())
        .args(["-czf", &archive, "altcontacts"]));
    run(std::process::Command::new("ssh-keygen")
        .current_dir(dir.path())
        .args([
            "-Y",
            "sign",
            "-q",
            "-f",
            "attacker",
            "-n",
            "altcontacts-release",
            &archive,
        ]));
    let read = |name: &str| std::sync::Arc::new(std::fs::read(dir.path().join(name)).unwrap());
    world.gitlab.publish_release(
        &crate::release::release_tag(),
        vec![
            (archive.clone(), read(&archive)),
            (format!("{archive}.sig"), read(&format!("{archive}.sig"))),
        ],
    );
    git(&world.dev, &["checkout", "-q", "-b", "change"]);
    world.commit(
        &[("contacts.yaml", &contacts("security@example.com", &[]))],
        "A change",
    );
    let run = world.run(&world.merge_request(1));
    assert!(!run.succeeded());
    assert!(
        run.log().contains("does not verify: refusing to run it"),
        "{}",
        run.log()
    );
    assert!(!run.log().contains("owned"), "the swapped binary never ran");
    assert!(world.gitlab.notes(1).is_empty());
    assert!(
        world.aws().web_identities().is_empty(),
        "no role was asked for"
    );
}

#[test]
fn the_daily_audit_keeps_its_findings_as_a_sarif_log_on_the_lines_they_come_from_and_an_html_report()
 {
    let world = world(3);
    // Its addresses are on example.com, reserved for documentation.
    let file = contacts("security@example.com", &[]);
    world.commit(&[("contacts.yaml", &file)], "Declare the contacts");
    world.push_main();
    let run = world.run(&world.schedule("audit"));
    assert_ran(&run, AUDIT);
    // The job exits 2 on findings: allowed, so it passes with a warning.
    assert!(
        run.log().lines().any(|line| line.starts_with(AUDIT)
            && line.contains("finished")
            && line.contains("WARN 2")),
        "findings pass with a warning, not as a clean job:\n{}",
        run.log()
    );
    let log = run
        .artifact(AUDIT, "altcontacts-audit/altcontacts.sarif")
        .expect("the SARIF log is kept with the job");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("altcontacts.sarif");
    std::fs::write(&path, &log).unwrap();
    crate::security_hub::assert_valid_sarif(&path);
    let sarif: serde_json::Value = serde_json::from_str(&log).unwrap();
    let reserved = crate::security_hub::lines_of_results(&sarif, "reserved_domain", &file);
    assert!(
        reserved
            .iter()
            .any(|line| line.contains("security@example.com")),
        "{reserved:?}"
    );
    let html = run
        .artifact(AUDIT, "altcontacts-audit/altcontacts-audit.html")
        .expect("the HTML report is kept with the job");
    crate::audit_report::assert_kept_report(&html, &sarif, "security@example.com");
    assert!(
        loop_scenarios::wrote_nothing(world.aws()),
        "the audit only reads"
    );
    assert!(
        !run.ran(DRIFT) && !run.ran(NEW_ACCOUNTS),
        "one schedule, one job"
    );
}
