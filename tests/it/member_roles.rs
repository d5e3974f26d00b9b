//! `--member-role`: each member account read and written with a session of
//! its own, at its own quotas, through the emulator's STS and Account API
//! (quotas kept per calling account, as AWS keeps them); the accounts
//! without the role through the caller, named once.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::emulator::{Emulator, Faults, MemberRoles, Quota, Quotas, organization};
use crate::loop_scenarios::{contacts, member};
use crate::support::{assert_valid, json, stderr, stdout};

const CALLER: &str = "999999999999";
const ROLE: &str = "altcontacts-member";

fn emulator(members: usize, roles: MemberRoles) -> Emulator {
    Emulator::start(
        CALLER,
        Some(organization(CALLER, members, 2)),
        Faults {
            quotas: Some(Quotas::aws_scaled(1.0)),
            member_roles: Some(MemberRoles {
                name: ROLE.to_owned(),
                ..roles
            }),
            ..Faults::default()
        },
    )
}

/// The file the tests apply: SECURITY and BILLING everywhere, at AWS's
/// default rates (the emulator's quotas).
fn file() -> String {
    contacts("security@example.com", &[])
        .replace("rate: { get: 1000, put: 1000, delete: 1000 }\n", "")
}

fn run(aws: &Emulator, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let output = aws.command(dir, args).output().expect("run altcontacts");
    assert!(
        output.status.code().is_some(),
        "killed: {}",
        stderr(&output)
    );
    output
}

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), file()).unwrap();
    dir
}

#[test]
fn each_member_account_is_read_and_written_with_its_own_session_at_its_own_quotas() {
    let aws = emulator(12, MemberRoles::default());
    let dir = workspace();
    let output = run(
        &aws,
        dir.path(),
        &["apply", "--auto-approve", "--member-role", ROLE],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let text = stdout(&output);
    assert!(
        text.contains("Apply complete: 26 created, 0 updated, 0 deleted, 0 failed."),
        "{text}"
    );
    assert!(
        text.contains(&format!("member role {ROLE}: 12 accounts through it")),
        "{text}"
    );

    // Every request to a member account was its own, naming no account;
    // the caller's own account went through the caller.
    let log = aws.log();
    for entry in &log {
        match entry.account.as_str() {
            CALLER => assert_eq!(entry.by, CALLER, "{entry:?}"),
            member => {
                assert_eq!(entry.by, member, "{entry:?}");
                assert!(!entry.account_id_sent, "{entry:?}");
            }
        }
    }
    // One session per account, named for the run, in the caller's partition.
    let assumed: BTreeMap<String, usize> =
        aws.assumptions()
            .iter()
            .fold(BTreeMap::new(), |mut seen, assumption| {
                assert!(
                    assumption.session_name.starts_with("altcontacts-"),
                    "{assumption:?}"
                );
                *seen.entry(assumption.role_arn.clone()).or_default() += 1;
                seen
            });
    let expected: BTreeMap<String, usize> = (0..12)
        .map(|n| (format!("arn:aws:iam::{}:role/{ROLE}", member(n)), 1))
        .collect();
    assert_eq!(assumed, expected);
    // Written once each, and nothing is left to do, as the caller sees it.
    for n in 0..12 {
        assert_eq!(aws.effective_writes(&member(n), "SECURITY"), 1);
    }
    let plan = run(&aws, dir.path(), &["plan"]);
    assert!(
        stdout(&plan).contains("No changes. 26 contacts match the configuration."),
        "{}",
        stdout(&plan)
    );

    // Thirteen accounts at once, each at its own 5 writes a second: more
    // than the caller's single quota would have let through in the time.
    let puts: Vec<_> = log
        .iter()
        .filter(|entry| entry.operation == "PutAlternateContact" && entry.status == 200)
        .collect();
    let span = puts.last().unwrap().at - puts.first().unwrap().at;
    let central_bound = Duration::from_secs_f64((26.0 - 8.0) / 5.0);
    assert!(
        span < central_bound,
        "26 writes took {span:?}; through the caller alone they take at least {central_bound:?}"
    );
}

#[test]
fn accounts_whose_role_is_missing_or_refuses_go_through_the_caller_and_are_named_once() {
    let aws = emulator(
        6,
        MemberRoles {
            missing: BTreeSet::from([member(1)]),
            untrusting: BTreeSet::from([member(4)]),
            ..MemberRoles::default()
        },
    );
    let dir = workspace();
    let plan = json(&run(
        &aws,
        dir.path(),
        &["plan", "--format", "json", "--member-role", ROLE],
    ));
    assert_valid(&plan, "schema/plan.schema.json");
    let role = &plan["member_role"];
    assert_eq!(role["assumed"], 4, "{role}");
    let central: Vec<&str> = role["central"]
        .as_array()
        .unwrap()
        .iter()
        .map(|central| central["account"].as_str().unwrap())
        .collect();
    assert_eq!(central, [member(1), member(4)]);
    assert!(
        role["central"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("not authorized to perform: sts:AssumeRole"),
        "{role}"
    );
    for entry in aws.log() {
        if [member(1), member(4)].contains(&entry.account) {
            assert_eq!(entry.by, CALLER, "{entry:?}");
            assert!(entry.account_id_sent, "{entry:?}");
        }
    }
    // A person reads them once, in one line; the Markdown comment too.
    let human = run(&aws, dir.path(), &["plan", "--member-role", ROLE]);
    let text = stdout(&human);
    let line = format!(
        "member role {ROLE}: 4 accounts through it; 2 accounts through the caller: {} (AssumeRole",
        member(1)
    );
    let said: Vec<&str> = text
        .lines()
        .filter(|said| said.starts_with("member role"))
        .collect();
    assert_eq!(said.len(), 1, "{text}");
    assert!(said[0].starts_with(&line), "{text}");
    assert_eq!(
        said[0]
            .matches(&format!("{} (AssumeRole", member(4)))
            .count(),
        1,
        "{text}"
    );
    let markdown = run(
        &aws,
        dir.path(),
        &["plan", "--format", "markdown", "--member-role", ROLE],
    );
    assert!(
        stdout(&markdown).contains("2 accounts through the caller"),
        "{}",
        stdout(&markdown)
    );
}

#[test]
fn when_every_assume_role_is_refused_the_run_stops_asking_after_a_handful_and_says_so_once() {
    let members = 40;
    let aws = emulator(
        members,
        MemberRoles {
            missing: (0..members as u64).map(member).collect(),
            ..MemberRoles::default()
        },
    );
    let dir = workspace();
    let output = run(
        &aws,
        dir.path(),
        &["plan", "--format", "json", "--member-role", ROLE],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let plan = json(&output);
    assert_eq!(plan["summary"]["create"], 2 * (members + 1));
    assert_eq!(
        aws.assumptions().len(),
        5,
        "no storm: {:?}",
        aws.assumptions()
    );
    let role = &plan["member_role"];
    assert_eq!(role["assumed"], 0);
    assert_eq!(
        role["central"],
        serde_json::json!([]),
        "one message, no list"
    );
    assert!(
        role["abandoned"]
            .as_str()
            .unwrap()
            .contains("the first 5 AssumeRole calls were all refused"),
        "{role}"
    );
    let reads = aws
        .log()
        .into_iter()
        .filter(|entry| entry.operation == "GetAlternateContact")
        .collect::<Vec<_>>();
    assert_eq!(reads.len(), 2 * (members + 1));
    assert!(reads.iter().all(|entry| entry.by == CALLER));
}

#[test]
fn assume_role_is_paced_and_its_throttling_retried_not_taken_for_a_refusal() {
    let aws = emulator(
        30,
        MemberRoles {
            quota: Some(Quota {
                rate: 10.0,
                burst: 5.0,
            }),
            ..MemberRoles::default()
        },
    );
    let dir = workspace();
    let plan = json(&run(
        &aws,
        dir.path(),
        &[
            "plan",
            "--format",
            "json",
            "--member-role",
            ROLE,
            "--rate",
            "assume=20",
        ],
    ));
    assert_eq!(
        plan["member_role"]["assumed"], 30,
        "{}",
        plan["member_role"]
    );
    assert_eq!(plan["member_role"]["central"], serde_json::json!([]));
    let granted = aws
        .assumptions()
        .iter()
        .filter(|assumption| assumption.status == 200)
        .count();
    assert_eq!(granted, 30);
}

#[test]
fn sessions_are_renewed_before_they_expire_and_a_session_revoked_early_is_replaced() {
    // Sessions of 4 s, and writes paced at one every 2 s per account: the
    // apply of one account outlives its first session.
    let aws = emulator(
        1,
        MemberRoles {
            lifetime: Some(Duration::from_secs(4)),
            ..MemberRoles::default()
        },
    );
    let dir = workspace();
    let with_ops = contacts(
        "security@example.com",
        &[crate::loop_scenarios::operations(
            &member(0),
            "ops@example.com",
        )],
    )
    .replace("rate: { get: 1000, put: 1000, delete: 1000 }\n", "");
    std::fs::write(dir.path().join("contacts.yaml"), &with_ops).unwrap();
    let output = run(
        &aws,
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--member-role",
            ROLE,
            "--rate",
            "put=0.5",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let arn = format!("arn:aws:iam::{}:role/{ROLE}", member(0));
    let sessions = aws
        .assumptions()
        .iter()
        .filter(|assumption| assumption.role_arn == arn)
        .count();
    assert!(sessions >= 2, "renewed: {:?}", aws.assumptions());
    assert!(
        aws.log().iter().all(|entry| entry.status != 403),
        "no request went out on an expired session: {:?}",
        aws.log()
    );

    // A session that stops working long before its Expiration.
    let aws = emulator(
        3,
        MemberRoles {
            revoked_after: Some(Duration::from_secs(3)),
            ..MemberRoles::default()
        },
    );
    let output = run(
        &aws,
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--member-role",
            ROLE,
            "--rate",
            "put=0.5",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let expired = aws.log().iter().filter(|entry| entry.status == 403).count();
    assert!(expired > 0, "the test revoked no session in use");
    for n in 0..3 {
        for kind in ["SECURITY", "BILLING"] {
            assert_eq!(aws.effective_writes(&member(n), kind), 1, "{n} {kind}");
        }
    }
    assert_eq!(aws.effective_writes(&member(0), "OPERATIONS"), 1);
}

#[test]
fn in_aws_cn_the_defaults_are_chinas_quotas_and_a_partition_without_the_api_is_refused() {
    let china = Emulator::start(
        CALLER,
        Some(organization(CALLER, 1, 1)),
        Faults {
            partition: Some("aws-cn"),
            member_roles: Some(MemberRoles {
                name: ROLE.to_owned(),
                ..MemberRoles::default()
            }),
            ..Faults::default()
        },
    );
    let dir = workspace();
    let output = run(&china, dir.path(), &["plan", "-v", "--member-role", ROLE]);
    let text = stderr(&output);
    assert!(
        text.contains("get 3/s") && text.contains("put 1/s") && text.contains("primary put 1/s"),
        "{text}"
    );
    assert_eq!(
        china.assumptions()[0].role_arn,
        format!("arn:aws-cn:iam::{}:role/{ROLE}", member(0))
    );

    let gov = Emulator::start(
        CALLER,
        Some(organization(CALLER, 1, 1)),
        Faults {
            partition: Some("aws-us-gov"),
            ..Faults::default()
        },
    );
    let output = run(&gov, dir.path(), &["plan"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert_eq!(text.matches("error:").count(), 1, "{text}");
    assert!(
        text.contains(
            "partition aws-us-gov, where the AWS Account Management API is not available"
        ),
        "{text}"
    );
    assert!(text.contains("help: "), "{text}");
    assert!(gov.log().is_empty(), "no Account API call: {:?}", gov.log());
}

#[test]
fn the_saved_plans_staleness_check_and_the_safety_limits_hold_through_member_roles() {
    let aws = emulator(4, MemberRoles::default());
    let dir = workspace();
    let planned = run(
        &aws,
        dir.path(),
        &["plan", "--out", "plan.json", "--member-role", ROLE],
    );
    assert_eq!(planned.status.code(), Some(0), "{}", stderr(&planned));
    // Fixed by hand in one account after the plan: the plan is stale.
    aws.set_contact(
        &member(2),
        "SECURITY",
        crate::emulator::Contact::new("Hand", "hand@example.com"),
    );
    aws.clear_log();
    let stale = run(
        &aws,
        dir.path(),
        &["apply", "plan.json", "--member-role", ROLE],
    );
    assert_eq!(stale.status.code(), Some(3), "{}", stderr(&stale));
    assert!(
        stderr(&stale).contains(&format!(
            "{} SECURITY: planned from no contact, now \"Hand\" <hand@example.com>",
            member(2)
        )),
        "{}",
        stderr(&stale)
    );
    let writes = |aws: &Emulator| {
        aws.log()
            .iter()
            .filter(|entry| {
                ["Put", "Delete", "Associate"]
                    .iter()
                    .any(|verb| entry.operation.starts_with(verb))
            })
            .count()
    };
    assert_eq!(writes(&aws), 0, "nothing was written");

    // Beyond a safety limit, refused before any write.
    let output = run(
        &aws,
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--max-updates",
            "0",
            "--member-role",
            ROLE,
        ],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("1 updates exceed the limit of 0"),
        "{}",
        stderr(&output)
    );
    assert_eq!(writes(&aws), 0, "nothing was written");
}

/// cfn-lint, pinned (`.ci/run` installs it first).
pub const CFN_LINT_VERSION: &str = "1.58.0";

#[test]
fn the_member_role_template_passes_cfn_lint_and_holds_what_the_docs_say() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_altcontacts"))
        .args([
            "member-role",
            "--trust",
            "arn:aws:iam::111111111111:role/altcontacts-apply",
            "--trust-read",
            "arn:aws:iam::111111111111:role/altcontacts-plan",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let path = dir.path().join("member-role.json");
    std::fs::write(&path, stdout(&output)).unwrap();
    let cfn_lint =
        crate::ship::pinned_tool("cfn-lint-venv", "cfn-lint", CFN_LINT_VERSION, "cfn-lint");
    let lint = std::process::Command::new(cfn_lint)
        .args(["--include-checks", "I", "--"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "cfn-lint: {}{}",
        stdout(&lint),
        stderr(&lint)
    );
    let template: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let writer = &template["Resources"]["MemberRole"]["Properties"];
    assert_eq!(
        writer["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"],
        serde_json::json!([
            "account:GetAlternateContact",
            "account:GetContactInformation",
            "account:PutAlternateContact",
            "account:DeleteAlternateContact",
            "account:PutContactInformation"
        ])
    );

    // A pattern cannot be trusted: it is refused, with what to give instead.
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_altcontacts"))
        .args([
            "member-role",
            "--trust",
            "arn:aws:iam::111111111111:role/ci-*",
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("no `*` or `?`"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn a_member_account_that_denies_its_reads_is_skipped_and_the_others_are_applied_through_their_roles()
 {
    let aws = Emulator::start(
        CALLER,
        Some(organization(CALLER, 6, 2)),
        Faults {
            quotas: Some(Quotas::aws_scaled(1.0)),
            member_roles: Some(MemberRoles {
                name: ROLE.to_owned(),
                ..MemberRoles::default()
            }),
            // Its role's reads, and the caller's, are denied.
            denied: BTreeSet::from([member(2)]),
            ..Faults::default()
        },
    );
    let dir = workspace();
    let output = run(
        &aws,
        dir.path(),
        &["apply", "--auto-approve", "--member-role", ROLE],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains(&format!(
            "Skipped {} (Account 2): its contacts could not be read: AccessDenied on account:GetAlternateContact (SECURITY)",
            member(2)
        )),
        "{text}"
    );
    assert!(
        text.contains("Apply complete: 12 created, 0 updated, 0 deleted, 0 failed."),
        "{text}"
    );
    let log = aws.log();
    assert!(
        log.iter()
            .filter(|entry| entry.account == member(2))
            .all(|entry| entry.operation == "GetAlternateContact" && entry.status == 403),
        "nothing but the denied reads went to it: {log:?}"
    );
    for n in (0..6).filter(|n| *n != 2) {
        assert_eq!(aws.effective_writes(&member(n), "SECURITY"), 1, "{n}");
        assert!(
            log.iter()
                .filter(|entry| entry.account == member(n))
                .all(|entry| entry.by == member(n)),
            "{n} went through its role"
        );
    }
}
