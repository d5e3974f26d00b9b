//! The guardrail: `altcontacts guardrail` prints the SCP, and `audit`
//! reports every ACTIVE member account no attached SCP protects, through
//! the emulator's Organizations (ListPolicies, DescribePolicy, ListTargetsForPolicy).

use std::process::Output;

use crate::emulator::{Emulator, Faults, Org, OrgAccount, Scp, joined_ago, organization};
use crate::support::{Workspace, json, stderr, stdout};

const CALLER: &str = "111111111111";
const APPLY_ROLE: &str = "arn:aws:iam::111111111111:role/altcontacts-apply";

/// Root r-emu1 with units A and B: two accounts in A, one in B, one under
/// the root, and a suspended one in B.
fn org(policies: Vec<Scp>) -> Org {
    let account = |id: &str, parent: &str, status: &str| OrgAccount {
        id: id.into(),
        name: format!("Account {id}"),
        status: status.into(),
        parent: parent.into(),
        joined: joined_ago(86_400),
    };
    Org {
        management: None,
        root_id: "r-emu1".into(),
        units: vec![
            ("ou-emu1-aaaaaaaa".into(), "A".into(), "r-emu1".into()),
            ("ou-emu1-bbbbbbbb".into(), "B".into(), "r-emu1".into()),
        ],
        accounts: vec![
            account(CALLER, "r-emu1", "ACTIVE"),
            account("200000000001", "ou-emu1-aaaaaaaa", "ACTIVE"),
            account("200000000002", "ou-emu1-aaaaaaaa", "ACTIVE"),
            account("200000000003", "ou-emu1-bbbbbbbb", "ACTIVE"),
            account("200000000004", "r-emu1", "ACTIVE"),
            account("200000000005", "ou-emu1-bbbbbbbb", "SUSPENDED"),
        ],
        policies,
        ..Org::default()
    }
}

fn printed_guardrail() -> String {
    let workspace = Workspace::new();
    let output = workspace
        .command(&["guardrail", "--allow-role", APPLY_ROLE])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output).trim().to_owned()
}

fn scp(id: &str, document: &str, targets: &[&str]) -> Scp {
    Scp {
        id: id.into(),
        name: format!("{id}-name"),
        document: document.into(),
        targets: targets.iter().map(|t| t.to_string()).collect(),
    }
}

fn audit(emulator: &Emulator, format: &str) -> Output {
    let workspace = Workspace::new();
    emulator
        .command(
            workspace.dir.path(),
            &["audit", "--org", "--format", format],
        )
        .output()
        .unwrap()
}

/// The accounts the JSON audit says are unprotected, and their messages.
/// The member accounts the audit found unprotected, from an audit that
/// made the check: an audit whose check was skipped (`guardrail_unchecked`)
/// proves nothing about protection, and fails here.
fn unprotected(output: &Output) -> Vec<(String, String)> {
    let report = json(output);
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings.iter().all(|f| f["check"] != "guardrail_unchecked"),
        "the guardrail check was not made: {findings:?}"
    );
    findings
        .iter()
        .filter(|f| f["check"] == "contacts_unprotected")
        .map(|f| {
            assert_eq!(f["controls"], serde_json::json!(["nist-800-53-r5:CM-5"]));
            assert_eq!(f["severity"], "medium");
            (
                f["account_id"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn ids(found: &[(String, String)]) -> Vec<&str> {
    found.iter().map(|(id, _)| id.as_str()).collect()
}

#[test]
fn the_printed_policy_is_minified_valid_json_that_denies_the_contact_and_subscription_writes_to_all_but_the_role()
 {
    let text = printed_guardrail();
    assert!(
        text.len() <= 5_120 && !text.contains(char::is_whitespace),
        "{text}"
    );
    let policy: serde_json::Value = serde_json::from_str(&text).unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(statement["Effect"], "Deny");
    assert_eq!(
        statement["Action"],
        serde_json::json!([
            "account:PutAlternateContact",
            "account:DeleteAlternateContact",
            "account:PutContactInformation",
            "notifications:AssociateManagedNotificationAccountContact",
            "notifications:DisassociateManagedNotificationAccountContact"
        ])
    );
    assert_eq!(statement["Resource"], "*");
    assert_eq!(
        statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
        serde_json::json!([APPLY_ROLE])
    );

    let workspace = Workspace::new();
    for (bad, said) in [
        ("arn:aws:iam::*:role/altcontacts-apply", "every account"),
        (
            "arn:aws:sts::111111111111:assumed-role/apply/ci",
            "role session",
        ),
        ("altcontacts-apply", "not an IAM role ARN"),
    ] {
        let output = workspace
            .command(&["guardrail", "--allow-role", bad])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{bad}");
        assert!(stderr(&output).contains(said), "{bad}: {}", stderr(&output));
        assert!(stdout(&output).is_empty(), "no policy is printed for {bad}");
    }
}

#[test]
fn the_audit_docs_show_the_policy_the_command_prints() {
    let readme = std::fs::read_to_string(crate::support::repo_file("docs/audit.md")).unwrap();
    assert!(
        readme.contains(&format!("```json\n{}\n```", printed_guardrail())),
        "the docs' guardrail section shows what `guardrail --allow-role {APPLY_ROLE}` prints"
    );
    assert!(
        readme.contains(&format!("altcontacts guardrail --allow-role {APPLY_ROLE}")),
        "and the command that prints it"
    );
}

#[test]
fn a_guardrail_made_before_subscriptions_were_guarded_is_reported_with_what_it_leaves_open() {
    // What `guardrail` printed before it denied User Notifications' writes.
    let contacts_only = printed_guardrail().replace(
        r#","notifications:AssociateManagedNotificationAccountContact","notifications:DisassociateManagedNotificationAccountContact""#,
        "",
    );
    assert!(!contacts_only.contains("notifications:"), "{contacts_only}");
    let emulator = Emulator::start(
        CALLER,
        Some(org(vec![scp("p-old", &contacts_only, &["r-emu1"])])),
        Faults::default(),
    );
    let found = unprotected(&audit(&emulator, "json"));
    assert_eq!(
        ids(&found),
        [
            "200000000001",
            "200000000002",
            "200000000003",
            "200000000004"
        ],
        "{found:?}"
    );
    assert!(
        found.iter().all(|(_, message)| message
            .contains("notifications:DisassociateManagedNotificationAccountContact")),
        "each says the unsubscribe is open: {found:?}"
    );
}

#[test]
fn the_guardrail_on_the_root_protects_every_member_account() {
    let emulator = Emulator::start(
        CALLER,
        Some(org(vec![scp("p-guard", &printed_guardrail(), &["r-emu1"])])),
        Faults::default(),
    );
    let output = audit(&emulator, "json");
    assert_eq!(unprotected(&output), Vec::new(), "{}", stdout(&output));
    // The policies listed once, each read once, and the targets listed of
    // the guardrail only: FullAWSAccess denies nothing, wherever it is.
    assert_eq!(emulator.organizations_operation("ListPolicies"), 1);
    assert_eq!(emulator.organizations_operation("DescribePolicy"), 2);
    assert_eq!(
        emulator.organizations_requests("ListTargetsForPolicy"),
        vec![r#"{"PolicyId":"p-guard"}"#.to_owned()]
    );
}

#[test]
fn the_member_role_form_protects_every_member_and_fits_the_limit() {
    let workspace = Workspace::new();
    let output = workspace
        .command(&[
            "guardrail",
            "--allow-role",
            APPLY_ROLE,
            "--allow-member-role",
            "altcontacts-member",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let policy = stdout(&output).trim().to_owned();
    assert!(policy.len() <= 5_120);
    let emulator = Emulator::start(
        CALLER,
        Some(org(vec![scp("p-guard", &policy, &["r-emu1"])])),
        Faults::default(),
    );
    let output = audit(&emulator, "json");
    assert_eq!(unprotected(&output), Vec::new(), "{}", stdout(&output));

    // An exemption of the role everywhere, without the statement that
    // keeps everyone but the StackSet from making it, protects no one.
    let document: serde_json::Value = serde_json::from_str(&policy).unwrap();
    let first_only = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [document["Statement"][0].clone()],
    });
    let emulator = Emulator::start(
        CALLER,
        Some(org(vec![scp(
            "p-guard",
            &first_only.to_string(),
            &["r-emu1"],
        )])),
        Faults::default(),
    );
    let found = unprotected(&audit(&emulator, "json"));
    assert_eq!(found.len(), 4, "{found:?}");
    assert!(
        found[0]
            .1
            .contains("arn:aws:iam::*:role/altcontacts-member"),
        "{found:?}"
    );
}

/// A member role an account's admin could change is one they could make
/// deny the plan its reads (and stop the plan of that account), or widen:
/// every role `member-role` makes, the read role too, is the StackSet's
/// to change and no one else's.
#[test]
fn the_member_role_form_keeps_every_role_the_template_makes_from_change() {
    let workspace = Workspace::new();
    let template = workspace
        .command(&[
            "member-role",
            "--name",
            "contacts-member",
            "--trust",
            APPLY_ROLE,
            "--trust-read",
            "arn:aws:iam::111111111111:role/altcontacts-plan",
        ])
        .output()
        .unwrap();
    assert_eq!(template.status.code(), Some(0), "{}", stderr(&template));
    let template: serde_json::Value = serde_json::from_str(&stdout(&template)).unwrap();
    let mut made: Vec<String> = template["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|resource| resource["Type"] == "AWS::IAM::Role")
        .map(|resource| {
            format!(
                "arn:aws:iam::*:role/{}",
                resource["Properties"]["RoleName"].as_str().unwrap()
            )
        })
        .collect();
    made.sort();
    assert_eq!(
        made,
        [
            "arn:aws:iam::*:role/contacts-member",
            "arn:aws:iam::*:role/contacts-member-read"
        ]
    );

    let output = workspace
        .command(&[
            "guardrail",
            "--allow-role",
            APPLY_ROLE,
            "--allow-member-role",
            "contacts-member",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let policy: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    let protection = &policy["Statement"][1];
    assert_eq!(protection["Effect"], "Deny");
    for action in [
        "iam:UpdateAssumeRolePolicy",
        "iam:AttachRolePolicy",
        "iam:PutRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:DeleteRole",
    ] {
        assert!(
            protection["Action"]
                .as_array()
                .unwrap()
                .contains(&action.into()),
            "{action}: {protection}"
        );
    }
    for role in &made {
        assert!(
            protection["Resource"]
                .as_array()
                .unwrap()
                .contains(&role.as_str().into()),
            "{role}: {protection}"
        );
    }
    assert_eq!(
        protection["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
        serde_json::json!(["arn:aws:iam::*:role/stacksets-exec-*"]),
        "only the StackSet that deploys them: {protection}"
    );
    // The read role may read only: it is not exempt from the writes.
    assert_eq!(
        policy["Statement"][0]["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
        serde_json::json!([APPLY_ROLE, "arn:aws:iam::*:role/contacts-member"])
    );
}

#[test]
fn a_guardrail_on_one_unit_only_leaves_the_accounts_outside_it_reported() {
    let emulator = Emulator::start(
        CALLER,
        Some(org(vec![scp(
            "p-guard",
            &printed_guardrail(),
            &["ou-emu1-aaaaaaaa"],
        )])),
        Faults::default(),
    );
    let output = audit(&emulator, "json");
    let found = unprotected(&output);
    assert_eq!(ids(&found), ["200000000003", "200000000004"]);
    assert!(
        found[0].1.contains("no service control policy"),
        "{found:?}"
    );
    assert!(found[0].1.contains("altcontacts guardrail"), "{found:?}");

    let human = stdout(&audit(&emulator, "human"));
    assert!(
        human.contains("200000000003 (Account 200000000003): no service control policy"),
        "{human}"
    );
    assert!(human.contains("NIST SP 800-53 r5 CM-5"), "{human}");
    let markdown = stdout(&audit(&emulator, "markdown"));
    assert!(
        markdown
            .contains("| Medium | 200000000004 (Account 200000000004) | no service control policy"),
        "{markdown}"
    );
}

#[test]
fn a_guardrail_attached_to_an_account_itself_protects_that_account() {
    let emulator = Emulator::start(
        CALLER,
        Some(org(vec![scp(
            "p-guard",
            &printed_guardrail(),
            &["200000000004", "ou-emu1-aaaaaaaa", "ou-emu1-bbbbbbbb"],
        )])),
        Faults::default(),
    );
    assert_eq!(unprotected(&audit(&emulator, "json")), Vec::new());
    // The guardrail's targets were listed: the account's protection
    // comes from being one of them.
    assert_eq!(emulator.organizations_operation("ListTargetsForPolicy"), 1);
}

#[test]
fn without_any_guardrail_every_active_member_is_reported_and_the_management_account_is_not() {
    let emulator = Emulator::start(CALLER, Some(org(Vec::new())), Faults::default());
    let output = audit(&emulator, "json");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        ids(&unprotected(&output)),
        [
            "200000000001",
            "200000000002",
            "200000000003",
            "200000000004"
        ],
        "FullAWSAccess allows everything; the suspended account and the management account are not members to protect"
    );
}

#[test]
fn a_policy_that_denies_too_little_or_lets_everyone_through_does_not_count() {
    let too_little = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"account:PutAlternateContact","Resource":"*"}]}"#;
    let wildcard = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":["account:Put*","account:Delete*"],"Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/admin"}}}}"#;
    let emulator = Emulator::start(
        CALLER,
        Some(org(vec![
            scp("p-little", too_little, &["ou-emu1-aaaaaaaa"]),
            scp("p-everyone", wildcard, &["ou-emu1-bbbbbbbb"]),
            scp(
                "p-wildcard",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["account:*","notifications:*ManagedNotificationAccountContact"],"Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::111111111111:role/altcontacts-*"]}}}]}"#,
                &["200000000004"],
            ),
        ])),
        Faults::default(),
    );
    let found = unprotected(&audit(&emulator, "json"));
    assert_eq!(
        ids(&found),
        ["200000000001", "200000000002", "200000000003"],
        "account:* with a role of the pipeline's account counts: {found:?}"
    );
    assert!(
        found[0].1.contains("deny only account:PutAlternateContact, not account:DeleteAlternateContact and account:PutContactInformation"),
        "{found:?}"
    );
    assert!(
        found[2].1.contains("p-everyone-name") && found[2].1.contains("any account could hold"),
        "{found:?}"
    );
}

#[test]
fn a_caller_without_the_policy_permissions_gets_one_finding_that_the_check_was_not_made() {
    let emulator = Emulator::start(
        CALLER,
        Some(org(Vec::new())),
        Faults {
            organizations_denied: Some("ListPolicies"),
            ..Faults::default()
        },
    );
    let output = audit(&emulator, "json");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let report = json(&output);
    let findings = report["findings"].as_array().unwrap();
    let unchecked: Vec<_> = findings
        .iter()
        .filter(|f| f["check"] == "guardrail_unchecked")
        .collect();
    assert_eq!(unchecked.len(), 1, "{findings:?}");
    assert_eq!(unchecked[0]["severity"], "low");
    let message = unchecked[0]["message"].as_str().unwrap();
    assert!(
        message.contains("organizations:ListPolicies, organizations:DescribePolicy, organizations:ListTargetsForPolicy"),
        "{message}"
    );
    assert!(
        !findings
            .iter()
            .any(|f| f["check"] == "contacts_unprotected"),
        "nothing is called unprotected that was not checked"
    );
}

/// The guardrail check costs calls per policy, not per account: 1,000
/// accounts, each with FullAWSAccess as in AWS, cost one ListPolicies, one
/// DescribePolicy per policy and one ListTargetsForPolicy page per 20
/// targets of the guardrail alone.
#[test]
fn an_audit_of_1000_accounts_asks_per_policy_not_per_account() {
    let mut org = organization(CALLER, 1_000, 10);
    org.policies.push(scp(
        "p-guard",
        &printed_guardrail(),
        &[&org.root_id.clone()],
    ));
    let emulator = Emulator::start(CALLER, Some(org), Faults::default());
    let workspace = Workspace::new();
    // The alternate contacts as fast as the emulator answers; the primary
    // contacts at AWS's 10 per second make this a 100-second test.
    let output = emulator
        .command(
            workspace.dir.path(),
            &["--rate", "get=10000", "audit", "--org", "--format", "json"],
        )
        .output()
        .unwrap();
    assert_eq!(unprotected(&output), Vec::new());
    let calls: Vec<(&str, u64)> = ["ListPolicies", "DescribePolicy", "ListTargetsForPolicy"]
        .into_iter()
        .map(|operation| (operation, emulator.organizations_operation(operation)))
        .collect();
    assert_eq!(
        calls,
        [
            ("ListPolicies", 1),
            ("DescribePolicy", 2),
            ("ListTargetsForPolicy", 1)
        ]
    );
}
