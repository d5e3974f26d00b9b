//! Who can assume which role, as a table: every job of every shipped
//! pipeline (the GitHub workflows, the GitLab pipeline with the
//! component's jobs, the Bitbucket pipeline), the claims it presents on
//! its own triggers and on a branch's copy of it, held against the trust
//! policies docs/iam.md prints, with the answer the table expects. A
//! pipeline or a policy that lets a branch reach the apply role changes a
//! row, and the test says which.

use std::collections::BTreeMap;

use serde_json::Value;
use serde_yaml::Value as Yaml;

use crate::support::repo_file;

/// The trust policy docs/iam.md prints for `forge` and `role`: the JSON
/// block after its `<!-- trust: FORGE ROLE -->` line.
fn trust_policy(forge: &str, role: &str) -> Value {
    let docs = std::fs::read_to_string(repo_file("docs/iam.md")).expect("docs/iam.md");
    let marker = format!("<!-- trust: {forge} {role} -->");
    let after = docs
        .split_once(&marker)
        .unwrap_or_else(|| panic!("docs/iam.md prints no {marker}"))
        .1;
    let block = after
        .split_once("```json\n")
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .unwrap_or_else(|| panic!("a JSON block after {marker}"))
        .0;
    serde_json::from_str(block).unwrap_or_else(|e| panic!("{marker}: {e}\n{block}"))
}

/// IAM's `StringLike`: `*` any run of characters, `?` one.
fn like(pattern: &str, value: &str) -> bool {
    fn go(p: &[char], v: &[char]) -> bool {
        match (p.first(), v.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], v) || (!v.is_empty() && go(p, &v[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &v[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &v[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    go(&p, &v)
}

/// Whether `policy` lets a web identity token with `claims` (`aud`, `sub`)
/// assume the role: some Allow statement whose every condition holds,
/// each key's values any-of, as IAM evaluates them.
fn admits(policy: &Value, claims: &BTreeMap<&str, String>) -> bool {
    let statements = policy["Statement"].as_array().expect("statements");
    statements.iter().any(|statement| {
        statement["Effect"] == "Allow"
            && statement["Action"] == "sts:AssumeRoleWithWebIdentity"
            && statement["Condition"]
                .as_object()
                .expect("a condition")
                .iter()
                .all(|(operator, keys)| {
                    keys.as_object()
                        .expect("condition keys")
                        .iter()
                        .all(|(key, wanted)| {
                            let claim = key.rsplit_once(':').expect("PROVIDER:claim").1;
                            let Some(value) = claims.get(claim) else {
                                return false;
                            };
                            let wanted: Vec<&str> = match wanted {
                                Value::String(one) => vec![one.as_str()],
                                Value::Array(many) => {
                                    many.iter().filter_map(Value::as_str).collect()
                                }
                                other => panic!("a condition value {other}"),
                            };
                            wanted.iter().any(|wanted| match operator.as_str() {
                                "StringEquals" => wanted == value,
                                "StringLike" => like(wanted, value),
                                other => panic!("an operator the table does not know: {other}"),
                            })
                        })
                })
    })
}

/// One row: a job, how it ran, the role it asks for, and whether AWS
/// would let it in.
type Row = (String, String, String, bool);

fn row(job: &str, ran: &str, role: &str, admitted: bool) -> Row {
    (job.to_owned(), ran.to_owned(), role.to_owned(), admitted)
}

/// The role a step asks for, by the name at the end of its ARN.
fn role_name(arn: &str) -> String {
    arn.rsplit('/').next().expect("a role ARN").to_owned()
}

fn yaml(path: &str) -> Yaml {
    serde_yaml::from_str(&std::fs::read_to_string(repo_file(path)).expect(path)).expect(path)
}

const GITHUB_REPOSITORY: &str = "YOUR-ORG/aws-contacts";

/// What GitHub puts in `sub` for a job of `environment` (if any), run for
/// `event` on `branch`.
fn github_sub(environment: Option<&str>, event: &str, branch: &str) -> String {
    match (environment, event) {
        (Some(name), _) => format!("repo:{GITHUB_REPOSITORY}:environment:{name}"),
        (None, "pull_request") => format!("repo:{GITHUB_REPOSITORY}:pull_request"),
        (None, _) => format!("repo:{GITHUB_REPOSITORY}:ref:refs/heads/{branch}"),
    }
}

fn github_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    let workflows = crate::workflow_runner::example_workflows();
    for (file, text) in &workflows {
        let workflow: Yaml = serde_yaml::from_str(text).expect("a workflow");
        let events: Vec<String> = workflow["on"]
            .as_mapping()
            .expect("triggers")
            .keys()
            .filter_map(|key| key.as_str().map(str::to_owned))
            .collect();
        for (name, job) in workflow["jobs"].as_mapping().expect("jobs") {
            let name = format!("{file} {}", name.as_str().unwrap());
            let environment = job["environment"]
                .as_str()
                .or_else(|| job["environment"]["name"].as_str());
            let Some(arn) = job["steps"]
                .as_sequence()
                .into_iter()
                .flatten()
                .find_map(|step| step["with"]["role-to-assume"].as_str())
            else {
                continue;
            };
            let role = role_name(arn);
            let policy = trust_policy("github", &role);
            let claims = |sub: String| {
                BTreeMap::from([("aud", "sts.amazonaws.com".to_owned()), ("sub", sub)])
            };
            // Which of the workflow's triggers start this job.
            let condition = job["if"].as_str().unwrap_or("");
            for event in &events {
                if !condition.is_empty() && !condition.contains(&format!("'{event}'")) {
                    continue;
                }
                let sub = github_sub(environment, event, "main");
                rows.push(row(&name, event, &role, admits(&policy, &claims(sub))));
            }
            // The same job, copied onto a branch and run there (a push, or
            // a dispatch of the branch). A job in an environment whose
            // branch policy admits `main` only never reaches a runner, so
            // it holds no token at all: refused before AWS is asked.
            let admitted = match environment {
                Some(_) => false,
                None => admits(&policy, &claims(github_sub(None, "push", "feature"))),
            };
            rows.push(row(&name, "a branch's copy", &role, admitted));
        }
    }
    rows
}

const GITLAB_PROJECT: &str = "YOUR-GROUP/aws-contacts";

fn gitlab_rows() -> Vec<Row> {
    let pipeline = yaml("examples/gitlab/.gitlab-ci.yml");
    let mut rows = Vec::new();
    for include in pipeline["include"].as_sequence().expect("includes") {
        let command = include["inputs"]["command"].as_str().expect("a command");
        let role = role_name(include["inputs"]["role-arn"].as_str().expect("a role"));
        let policy = trust_policy("gitlab", &role);
        let claims = |branch: &str| {
            BTreeMap::from([
                ("aud", "sts.amazonaws.com".to_owned()),
                (
                    "sub",
                    format!("project_path:{GITLAB_PROJECT}:ref_type:branch:ref:{branch}"),
                ),
            ])
        };
        // Where the component runs each job: a review's branch, or the
        // default branch (a push, a schedule, a trigger).
        let (ran, branch) = match command {
            "plan" => ("a merge request's pipeline", "feature"),
            _ => ("a pipeline of main", "main"),
        };
        let name = format!("altcontacts-{command}");
        rows.push(row(&name, ran, &role, admits(&policy, &claims(branch))));
        rows.push(row(
            &name,
            "a branch's pipeline",
            &role,
            admits(&policy, &claims("feature")),
        ));
    }
    rows
}

const BITBUCKET_REPOSITORY: &str = "{REPOSITORY_UUID}";
const BITBUCKET_PRODUCTION: &str = "{PRODUCTION_UUID}";

fn bitbucket_rows() -> Vec<Row> {
    let pipeline = yaml("examples/bitbucket/bitbucket-pipelines.yml");
    let mut rows = Vec::new();
    for step in pipeline["definitions"]["steps"]
        .as_sequence()
        .expect("steps")
    {
        let step = &step["step"];
        let name = step["name"].as_str().expect("a step name").to_owned();
        let arn = step["script"]
            .as_sequence()
            .expect("a script")
            .iter()
            .filter_map(Yaml::as_str)
            .find_map(|line| line.strip_prefix("export ALTCONTACTS_ROLE_ARN="))
            .expect("the step's role");
        let role = role_name(arn);
        let policy = trust_policy("bitbucket", &role);
        let sub = match step["deployment"].as_str() {
            Some("production") => {
                format!("{BITBUCKET_REPOSITORY}:{BITBUCKET_PRODUCTION}:{{STEP_UUID}}")
            }
            Some(other) => panic!("a deployment the table does not know: {other}"),
            None => format!("{BITBUCKET_REPOSITORY}:{{STEP_UUID}}"),
        };
        let claims = BTreeMap::from([
            (
                "aud",
                "ari:cloud:bitbucket::workspace/WORKSPACE_UUID".to_owned(),
            ),
            ("sub", sub),
        ]);
        let admitted = admits(&policy, &claims);
        rows.push(row(&name, "its own pipeline", &role, admitted));
        // A branch's copy presents the very same claims: the environment
        // says nothing of the branch, and AWS reads no other claim.
        rows.push(row(&name, "a branch's copy", &role, admitted));
    }
    rows
}

#[test]
fn every_job_of_every_shipped_pipeline_reaches_only_the_role_the_docs_trust_it_with() {
    let expected: Vec<Row> = [
        // GitHub: the apply jobs are in the `altcontacts` environment,
        // which the apply role trusts and no other branch reaches.
        (
            "alternate-contacts-audit.yml audit",
            "schedule",
            "altcontacts-plan",
            true,
        ),
        (
            "alternate-contacts-audit.yml audit",
            "workflow_dispatch",
            "altcontacts-plan",
            true,
        ),
        (
            "alternate-contacts-audit.yml audit",
            "a branch's copy",
            "altcontacts-plan",
            false,
        ),
        (
            "alternate-contacts-new-accounts.yml new-accounts",
            "repository_dispatch",
            "altcontacts-apply",
            true,
        ),
        (
            "alternate-contacts-new-accounts.yml new-accounts",
            "schedule",
            "altcontacts-apply",
            true,
        ),
        (
            "alternate-contacts-new-accounts.yml new-accounts",
            "a branch's copy",
            "altcontacts-apply",
            false,
        ),
        (
            "alternate-contacts-nightly.yml drift",
            "schedule",
            "altcontacts-apply",
            true,
        ),
        (
            "alternate-contacts-nightly.yml drift",
            "workflow_dispatch",
            "altcontacts-apply",
            true,
        ),
        (
            "alternate-contacts-nightly.yml drift",
            "a branch's copy",
            "altcontacts-apply",
            false,
        ),
        (
            "alternate-contacts.yml plan",
            "pull_request",
            "altcontacts-plan",
            true,
        ),
        (
            "alternate-contacts.yml plan",
            "a branch's copy",
            "altcontacts-plan",
            false,
        ),
        (
            "alternate-contacts.yml apply",
            "push",
            "altcontacts-apply",
            true,
        ),
        (
            "alternate-contacts.yml apply",
            "a branch's copy",
            "altcontacts-apply",
            false,
        ),
        // GitLab: the default branch alone holds the apply role's `sub`.
        (
            "altcontacts-plan",
            "a merge request's pipeline",
            "altcontacts-plan",
            true,
        ),
        (
            "altcontacts-plan",
            "a branch's pipeline",
            "altcontacts-plan",
            true,
        ),
        (
            "altcontacts-apply",
            "a pipeline of main",
            "altcontacts-apply",
            true,
        ),
        (
            "altcontacts-apply",
            "a branch's pipeline",
            "altcontacts-apply",
            false,
        ),
        (
            "altcontacts-new-accounts",
            "a pipeline of main",
            "altcontacts-apply",
            true,
        ),
        (
            "altcontacts-new-accounts",
            "a branch's pipeline",
            "altcontacts-apply",
            false,
        ),
        (
            "altcontacts-drift",
            "a pipeline of main",
            "altcontacts-apply",
            true,
        ),
        (
            "altcontacts-drift",
            "a branch's pipeline",
            "altcontacts-apply",
            false,
        ),
        (
            "altcontacts-audit",
            "a pipeline of main",
            "altcontacts-plan",
            true,
        ),
        (
            "altcontacts-audit",
            "a branch's pipeline",
            "altcontacts-plan",
            true,
        ),
        // Bitbucket: a branch's copy of a production step is admitted,
        // as docs/iam.md says: only Premium's deployment permissions keep
        // `production` to `main`, and AWS cannot read the branch claim.
        (
            "altcontacts plan",
            "its own pipeline",
            "altcontacts-plan",
            true,
        ),
        (
            "altcontacts plan",
            "a branch's copy",
            "altcontacts-plan",
            true,
        ),
        (
            "altcontacts apply",
            "its own pipeline",
            "altcontacts-apply",
            true,
        ),
        (
            "altcontacts apply",
            "a branch's copy",
            "altcontacts-apply",
            true,
        ),
        (
            "altcontacts new accounts",
            "its own pipeline",
            "altcontacts-apply",
            true,
        ),
        (
            "altcontacts new accounts",
            "a branch's copy",
            "altcontacts-apply",
            true,
        ),
        (
            "altcontacts drift",
            "its own pipeline",
            "altcontacts-apply",
            true,
        ),
        (
            "altcontacts drift",
            "a branch's copy",
            "altcontacts-apply",
            true,
        ),
        (
            "altcontacts audit",
            "its own pipeline",
            "altcontacts-plan",
            true,
        ),
        (
            "altcontacts audit",
            "a branch's copy",
            "altcontacts-plan",
            true,
        ),
    ]
    .into_iter()
    .map(|(job, ran, role, admitted)| row(job, ran, role, admitted))
    .collect();
    let mut actual = github_rows();
    actual.extend(gitlab_rows());
    actual.extend(bitbucket_rows());
    let sorted = |mut rows: Vec<Row>| {
        rows.sort();
        rows
    };
    let (expected, actual) = (sorted(expected), sorted(actual));
    let differ: Vec<String> = actual
        .iter()
        .filter(|row| !expected.contains(row))
        .map(|row| format!("unexpected: {row:?}"))
        .chain(
            expected
                .iter()
                .filter(|row| !actual.contains(row))
                .map(|row| format!("missing: {row:?}")),
        )
        .collect();
    assert!(differ.is_empty(), "{differ:#?}");
}

#[test]
fn the_table_s_matching_is_iam_s() {
    assert!(like("repo:o/r:ref:*", "repo:o/r:ref:refs/heads/main"));
    assert!(!like(
        "repo:o/r:environment:altcontacts",
        "repo:o/r:environment:altcontacts-x"
    ));
    assert!(like("{R}:{P}:*", "{R}:{P}:{S}"));
    assert!(!like("{R}:{P}:*", "{R}:{S}"));
    let policy = trust_policy("github", "altcontacts-apply");
    let claims = |sub: &str| {
        BTreeMap::from([
            ("aud", "sts.amazonaws.com".to_owned()),
            ("sub", sub.to_owned()),
        ])
    };
    assert!(admits(
        &policy,
        &claims("repo:YOUR-ORG/aws-contacts:environment:altcontacts")
    ));
    assert!(!admits(
        &policy,
        &claims("repo:YOUR-ORG/aws-contacts:ref:refs/heads/main")
    ));
    let wrong_audience = BTreeMap::from([
        ("aud", "other".to_owned()),
        (
            "sub",
            "repo:YOUR-ORG/aws-contacts:environment:altcontacts".to_owned(),
        ),
    ]);
    assert!(!admits(&policy, &wrong_audience));
}
