//! Contacts that still receive: AWS User Notifications' subscriptions of
//! the contacts to AWS Health's topics, read, planned, restored and
//! audited, on the sandbox (the quick start) and through the real SDK on
//! the emulator (member roles, pages, refusals, quotas).

use crate::emulator::{Emulator, Faults, MemberRoles, Quotas, organization};
use crate::loop_scenarios::{contacts, member};
use crate::support::{Workspace, assert_valid, json, stderr, stdout};

const CALLER: &str = "999999999999";
const ROLE: &str = "altcontacts-member";
const SECURITY_TOPIC: &str = "AWS-Health/Security";

fn emulator(members: usize, faults: Faults) -> Emulator {
    Emulator::start(
        CALLER,
        Some(organization(CALLER, members, 2)),
        Faults {
            quotas: Some(Quotas::aws_scaled(1.0)),
            // Two associations a page: every read follows `nextToken`.
            notices_page: Some(2),
            member_roles: Some(MemberRoles {
                name: ROLE.to_owned(),
                ..MemberRoles::default()
            }),
            ..faults
        },
    )
}

fn run(aws: &Emulator, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    aws.command(dir, args).output().expect("run altcontacts")
}

/// SECURITY and BILLING everywhere, at AWS's default rates (the
/// emulator's quotas).
fn file() -> String {
    contacts("security@example.com", &[])
        .replace("rate: { get: 1000, put: 1000, delete: 1000 }\n", "")
}

fn list_calls(aws: &Emulator) -> usize {
    aws.log()
        .iter()
        .filter(|entry| entry.operation == "ListManagedNotificationChannelAssociations")
        .count()
}

#[test]
fn the_quick_start_shows_a_silenced_security_contact_and_apply_subscribes_it_again() {
    let (workspace, _) = Workspace::example();

    // The audit finds it, high, with the remediation that fixes it.
    let audit = workspace
        .sandbox(&["audit", "--no-dns", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(audit.status.code(), Some(2), "{}", stderr(&audit));
    let findings = json(&audit)["findings"].as_array().unwrap().clone();
    let silenced: Vec<_> = findings
        .iter()
        .filter(|finding| finding["check"] == "contact_unsubscribed")
        .collect();
    assert_eq!(silenced.len(), 1, "{findings:#?}");
    assert_eq!(silenced[0]["severity"], "high");
    assert_eq!(silenced[0]["account_id"], "111111111111");
    assert_eq!(silenced[0]["subscription"]["topic"], SECURITY_TOPIC);
    assert_eq!(silenced[0]["subscription"]["contact_type"], "SECURITY");
    assert!(
        silenced[0]["controls"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("securityhub:Account.1")),
        "{:?}",
        silenced[0]["controls"]
    );

    // The plan shows the subscription, in each format.
    let plan = workspace.sandbox(&["plan"]).output().unwrap();
    let text = stdout(&plan);
    assert!(
        text.contains(
            "+ subscribe 111111111111 (Management) SECURITY to AWS-Health/Security  (from organization.defaults)"
        ),
        "{text}"
    );
    assert!(text.contains(", 1 to subscribe,"), "{text}");
    let markdown = workspace
        .sandbox(&["plan", "--format", "markdown"])
        .output()
        .unwrap();
    assert!(
        stdout(&markdown).contains(
            "| 🔵 subscribe | 111111111111 (Management) | SECURITY | subscribe to `AWS-Health/Security` | `organization.defaults` |"
        ),
        "{}",
        stdout(&markdown)
    );
    let planned = workspace
        .sandbox(&["plan", "--format", "json"])
        .output()
        .unwrap();
    let planned = json(&planned);
    assert_valid(&planned, "schema/plan.schema.json");
    assert_eq!(planned["summary"]["subscribe"], 1);
    let subscribe: Vec<_> = planned["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|change| change["action"] == "subscribe")
        .collect();
    assert_eq!(subscribe.len(), 1);
    assert_eq!(subscribe[0]["topic"], SECURITY_TOPIC);
    assert_eq!(subscribe[0]["before"], serde_json::Value::Null);

    // A saved plan carries it and applies it; then nothing is left.
    workspace.run(&["plan", "--out", "plan.json"]).success();
    let applied = workspace
        .sandbox(&["apply", "plan.json", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
    let report = stdout(&applied);
    assert!(
        report.contains("✓ subscribed 111111111111 (Management) SECURITY to AWS-Health/Security"),
        "{report}"
    );
    assert!(report.contains(" 1 subscribed, 0 failed."), "{report}");
    assert!(
        workspace.read("sandbox.yaml").contains("- SECURITY"),
        "the sandbox holds the subscription"
    );
    let again = workspace.sandbox(&["plan"]).output().unwrap();
    assert!(stdout(&again).contains("No changes."), "{}", stdout(&again));
    let audit = workspace
        .sandbox(&["audit", "--no-dns", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        !json(&audit)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|finding| finding["check"] == "contact_unsubscribed"),
        "restored"
    );
}

#[test]
fn a_member_accounts_contact_is_read_and_subscribed_through_its_member_role() {
    let aws = emulator(3, Faults::default());
    aws.unsubscribe(&member(1), SECURITY_TOPIC, "ACCOUNT_ALTERNATE_SECURITY");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), file()).unwrap();
    let adopted = run(
        &aws,
        dir.path(),
        &["apply", "--auto-approve", "--member-role", ROLE],
    );
    assert_eq!(adopted.status.code(), Some(0), "{}", stderr(&adopted));
    assert!(
        stdout(&adopted).lines().any(|line| line
            .starts_with(&format!("✓ subscribed {} (", member(1)))
            && line.ends_with(") SECURITY to AWS-Health/Security")),
        "{}",
        stdout(&adopted)
    );
    assert!(
        aws.subscribers(&member(1), SECURITY_TOPIC)
            .contains("ACCOUNT_ALTERNATE_SECURITY"),
        "AWS holds it again"
    );
    // Every User Notifications call went to the account it was about, as
    // that account: AWS answers an account's subscriptions only to itself.
    let notices: Vec<_> = aws
        .log()
        .into_iter()
        .filter(|entry| entry.operation.contains("ManagedNotification"))
        .collect();
    assert!(!notices.is_empty());
    for entry in &notices {
        assert_eq!(entry.by, entry.account, "{entry:?}");
        assert!(entry.status < 300, "{entry:?}");
    }
    let associations: Vec<_> = notices
        .iter()
        .filter(|entry| entry.operation == "AssociateManagedNotificationAccountContact")
        .collect();
    assert_eq!(associations.len(), 1, "only the one that was missing");
    assert_eq!(associations[0].kind, "ACCOUNT_ALTERNATE_SECURITY");

    let plan = run(&aws, dir.path(), &["plan", "--member-role", ROLE]);
    assert!(stdout(&plan).contains("No changes."), "{}", stdout(&plan));
}

#[test]
fn without_a_member_role_the_callers_own_account_is_checked_and_the_others_counted() {
    let aws = emulator(3, Faults::default());
    aws.unsubscribe(CALLER, SECURITY_TOPIC, "ACCOUNT_ALTERNATE_SECURITY");
    aws.unsubscribe(&member(0), SECURITY_TOPIC, "ACCOUNT_ALTERNATE_SECURITY");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), file()).unwrap();
    let plan = run(&aws, dir.path(), &["plan", "--format", "json"]);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let plan = json(&plan);
    let subscribes: Vec<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|change| change["action"] == "subscribe")
        .map(|change| change["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        subscribes,
        [CALLER],
        "a member account is not read through the caller"
    );
    let unchecked: Vec<&str> = plan["subscriptions_unchecked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            assert_eq!(entry["reason"], "no_member_role");
            entry["account_id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(unchecked, [member(0), member(1), member(2)]);
    assert!(
        aws.log()
            .iter()
            .filter(|entry| entry.operation.contains("ManagedNotification"))
            .all(|entry| entry.account == CALLER),
        "nothing was asked of a member account"
    );
}

#[test]
fn a_file_that_turns_the_default_off_reads_no_subscription() {
    let aws = emulator(2, Faults::default());
    aws.unsubscribe(&member(0), SECURITY_TOPIC, "ACCOUNT_ALTERNATE_SECURITY");
    let dir = tempfile::tempdir().unwrap();
    let file = file().replace(
        "defaults: { security: sec, billing: bill }",
        "defaults: { security: sec, billing: bill, notices: none }",
    );
    assert!(file.contains("notices: none"), "{file}");
    std::fs::write(dir.path().join("contacts.yaml"), &file).unwrap();
    let plan = run(
        &aws,
        dir.path(),
        &["plan", "--member-role", ROLE, "--format", "json"],
    );
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let plan = json(&plan);
    assert_eq!(plan["summary"]["subscribe"], 0);
    assert_eq!(list_calls(&aws), 0, "no subscription was read");

    // One contact's topics named in an account's entry: only those are read.
    let file = format!(
        "{file}accounts:\n  \"{}\": {{ notices: {{ security: [AWS-Health/Security] }} }}\n",
        member(0)
    );
    std::fs::write(dir.path().join("contacts.yaml"), &file).unwrap();
    let plan = run(
        &aws,
        dir.path(),
        &["plan", "--member-role", ROLE, "--format", "json"],
    );
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let plan = json(&plan);
    assert_eq!(plan["summary"]["subscribe"], 1, "{plan:#}");
    let subscribe = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|change| change["action"] == "subscribe")
        .unwrap();
    assert_eq!(subscribe["account_id"], member(0));
    assert_eq!(subscribe["source"], format!("accounts[\"{}\"]", member(0)));
    // One topic of one account: the emulator answers it in two pages.
    assert_eq!(list_calls(&aws), 2, "one topic of one account");
}

#[test]
fn an_account_that_refuses_its_subscriptions_is_said_unchecked_and_its_contacts_still_planned() {
    let aws = emulator(
        2,
        Faults {
            notices_denied: [member(1)].into_iter().collect(),
            ..Faults::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), file()).unwrap();
    let plan = run(
        &aws,
        dir.path(),
        &["plan", "--member-role", ROLE, "--format", "json"],
    );
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let plan = json(&plan);
    assert_eq!(
        plan["summary"]["create"], 6,
        "every contact is still planned"
    );
    let unchecked = plan["subscriptions_unchecked"].as_array().unwrap();
    assert_eq!(unchecked.len(), 1, "{unchecked:?}");
    assert_eq!(unchecked[0]["account_id"], member(1));
    assert_eq!(unchecked[0]["reason"], "not_read");
    let detail = unchecked[0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("notifications:ListManagedNotificationChannelAssociations")
            && detail.contains("access denied"),
        "{detail}"
    );
    let human = run(&aws, dir.path(), &["plan", "--member-role", ROLE]);
    assert!(
        stdout(&human).contains(&format!(
            "Subscriptions to AWS Health's notices: not read: {} (notifications:ListManagedNotificationChannelAssociations on account {}: access denied",
            member(1),
            member(1)
        )),
        "{}",
        stdout(&human)
    );
}

#[test]
fn the_audit_reports_an_unverified_primary_phone_from_the_same_read() {
    let aws = emulator(1, Faults::default());
    aws.set_primary(&member(0), "Member Zero", "+1 206 555 0101");
    aws.set_phone_verification(&member(0), "UNVERIFIED");
    aws.set_primary(CALLER, "Management", "+1 206 555 0100");
    aws.set_phone_verification(CALLER, "VERIFIED");
    let dir = tempfile::tempdir().unwrap();
    let audit = run(
        &aws,
        dir.path(),
        &["audit", "--org", "--no-dns", "--format", "json"],
    );
    assert_eq!(audit.status.code(), Some(2), "{}", stderr(&audit));
    let findings = json(&audit)["findings"].as_array().unwrap().clone();
    let phones: Vec<_> = findings
        .iter()
        .filter(|finding| finding["check"] == "unverified_phone")
        .map(|finding| finding["account_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(phones, [member(0)]);
    let reads = aws
        .log()
        .iter()
        .filter(|entry| entry.operation == "GetContactInformation")
        .count();
    assert_eq!(reads, 2, "one read of each primary contact, no more");
}

#[test]
fn two_silenced_contacts_of_one_account_are_two_records_where_security_teams_look() {
    let aws = emulator(1, Faults::default());
    aws.unsubscribe(CALLER, SECURITY_TOPIC, "ACCOUNT_ALTERNATE_SECURITY");
    aws.unsubscribe(CALLER, SECURITY_TOPIC, "ACCOUNT_ALTERNATE_OPERATIONS");
    for kind in ["SECURITY", "OPERATIONS"] {
        aws.set_contact(
            CALLER,
            kind,
            crate::emulator::Contact::new("Team", "team@example.com"),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let records = run(
        &aws,
        dir.path(),
        &["audit", "--org", "--no-dns", "--format", "ocsf"],
    );
    assert_eq!(records.status.code(), Some(2), "{}", stderr(&records));
    let records = json(&records);
    let silenced: Vec<&str> = records
        .as_array()
        .unwrap()
        .iter()
        .filter(|record| {
            record["finding_info"]["title"]
                .as_str()
                .is_some_and(|title| title.contains("AWS Health notices"))
        })
        .map(|record| record["finding_info"]["uid"].as_str().unwrap())
        .collect();
    assert_eq!(silenced.len(), 2, "{records:#}");
    assert_ne!(silenced[0], silenced[1], "each its own record");
}
