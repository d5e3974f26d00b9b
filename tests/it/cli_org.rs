//! Organizations through the real binary on sandbox files: export and audit.

use assert_cmd::prelude::*;

use crate::support::*;

#[test]
fn export_of_an_organization_plans_no_changes() {
    let workspace = Workspace::org();
    workspace.run(&["apply", "--auto-approve"]).code(0);
    let output = workspace
        .sandbox(&["export", "--org", "-o", "exported.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("1 account not ACTIVE left out"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("Wrote 3 accounts to exported.yaml"),
        "{}",
        stderr(&output)
    );
    let exported = workspace.read("exported.yaml");
    insta::assert_snapshot!("export_org", exported);
    workspace
        .command(&["validate", "-f", "exported.yaml"])
        .assert()
        .code(0);
    workspace
        .run(&["plan", "-f", "exported.yaml", "--detailed-exitcode"])
        .code(0);
}

#[test]
fn export_before_any_change_also_round_trips() {
    let workspace = Workspace::org();
    workspace
        .run(&["export", "--org", "-o", "exported.yaml"])
        .code(0);
    let output = workspace
        .sandbox(&["plan", "-f", "exported.yaml", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn export_of_listed_accounts_names_contacts_used_twice() {
    let workspace = Workspace::org();
    workspace.run(&["apply", "--auto-approve"]).code(0);
    let output = workspace
        .sandbox(&[
            "export",
            "--account",
            "111111111111",
            "--account",
            "333333333333",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let exported = stdout(&output);
    assert!(
        exported.starts_with("# yaml-language-server: $schema="),
        "{exported}"
    );
    assert!(!exported.contains("organization:"));
    assert!(
        exported.contains("contacts:\n  finance:\n"),
        "used by both accounts: {exported}"
    );
    assert!(exported.contains("security-team:"), "{exported}");
    assert!(!exported.contains("222222222222"));
    workspace.write("exported.yaml", &exported);
    workspace
        .run(&["plan", "-f", "exported.yaml", "--detailed-exitcode"])
        .code(0);
}

#[test]
fn export_without_accounts_is_the_callers_own_and_bad_ids_are_refused() {
    let workspace = Workspace::org();
    let output = workspace.sandbox(&["export"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stdout(&output).contains("'111111111111':"),
        "{}",
        stdout(&output)
    );
    let output = workspace
        .sandbox(&["export", "--account", "1234"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("`1234` is not an account ID"));
}

#[test]
fn audit_reports_missing_contacts_and_exits_2() {
    let workspace = Workspace::org();
    let output = workspace.sandbox(&["audit"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    insta::assert_snapshot!("audit_findings", stdout(&output));
}

/// Every account gets three different, current contacts.
const COMPLIANT: &str = r#"version: 1
contacts:
  sec: { name: Security, title: Sec, email_address: security@example.com, phone_number: "1", reviewed: REVIEWED }
  bill: { name: Billing, title: Bill, email_address: billing@example.com, phone_number: "2" }
  ops: { name: Operations, title: Ops, email_address: ops@example.com, phone_number: "3" }
organization:
  defaults: { security: sec, billing: bill, operations: ops }
"#;

fn compliant(reviewed: &str) -> String {
    COMPLIANT.replace("REVIEWED", reviewed)
}

/// The organization's sandbox with a primary contact on every account: a
/// name and phone of its own, as Prowler's four-contacts rule asks.
fn with_primaries(sandbox: &str) -> String {
    let mut out = String::new();
    for (n, line) in sandbox.lines().enumerate() {
        out.push_str(line);
        out.push('\n');
        if line.starts_with("    name: ") {
            out.push_str(&format!(
                "    primary: {{ full_name: Owner {n}, address_line_1: 1 Main St, city: Seattle, state_or_region: WA, postal_code: \"98101\", country_code: US, phone_number: \"+1 206 555 01{n:02}\" }}\n"
            ));
        }
    }
    out
}

fn days_ago(days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let date = altcontacts::model::time::date_from_days(now / 86_400 - days);
    date.to_string()
}

#[test]
fn a_compliant_organization_passes_the_audit() {
    let workspace = Workspace::org();
    workspace.write("sandbox.yaml", &with_primaries(ORG_SANDBOX));
    workspace.write("contacts.yaml", &compliant(&days_ago(30)));
    workspace.run(&["apply", "--auto-approve"]).code(0);
    let output = workspace.sandbox(&["audit"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).ends_with(
        "Audit passed: 3 accounts with distinct SECURITY, BILLING and OPERATIONS contacts.\n"
    ));
}

#[test]
fn audit_findings_name_the_controls_they_fail_in_json() {
    let workspace = Workspace::org();
    // The primary contact of the management account shares the SECURITY
    // contact's phone: Prowler's four-contacts rule fails there.
    let mut sandbox = with_primaries(ORG_SANDBOX);
    let at = sandbox.find("phone_number: \"+1 206 555 01").unwrap() + "phone_number: \"".len();
    let end = at + sandbox[at..].find('"').unwrap();
    sandbox.replace_range(at..end, "1");
    workspace.write("sandbox.yaml", &sandbox);
    workspace.write("contacts.yaml", &compliant(&days_ago(30)));
    workspace.run(&["apply", "--auto-approve"]).code(0);
    let output = workspace
        .sandbox(&["audit", "--org", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let audit = json(&output);
    let findings = audit["findings"].as_array().unwrap();
    let same = findings
        .iter()
        .find(|f| f["check"] == "same_contact_details")
        .unwrap_or_else(|| panic!("{audit}"));
    assert_eq!(same["account_id"], "111111111111");
    assert_eq!(
        same["controls"],
        serde_json::json!([
            "prowler:account_maintain_different_contact_details_to_security_billing_and_operations"
        ])
    );
    assert!(same["message"].as_str().unwrap().contains("phone numbers"));
    assert_eq!(
        findings.len(),
        1,
        "the other accounts pass every rule: {audit}"
    );
}

#[test]
fn a_contact_reviewed_over_a_year_ago_is_a_finding() {
    let workspace = Workspace::org();
    workspace.write("sandbox.yaml", &with_primaries(ORG_SANDBOX));
    workspace.write("contacts.yaml", &compliant(&days_ago(400)));
    workspace.run(&["apply", "--auto-approve"]).code(0);
    let output = workspace
        .sandbox(&["audit", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let audit = json(&output);
    assert_eq!(audit["compliant"], false);
    assert_eq!(audit["findings"].as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(audit["findings"][0]["check"], "stale_review");
    assert!(
        audit["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("contact `sec` (used in 3 slots)")
    );
}

#[test]
fn one_address_for_several_roles_is_a_finding() {
    let workspace = Workspace::org();
    let shared = compliant(&days_ago(1)).replace("billing@example.com", "security@example.com");
    workspace.write("contacts.yaml", &shared);
    workspace.run(&["apply", "--auto-approve"]).code(0);
    let output = workspace
        .sandbox(&["audit", "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    assert!(
        text.contains("SECURITY and BILLING share the address security\\@\u{2060}example\\.com"),
        "values are escaped as text, a mention broken: {text}"
    );
    insta::assert_snapshot!("audit_markdown", text);
}

#[test]
fn audit_of_the_whole_organization_needs_no_file() {
    let workspace = Workspace::new();
    workspace.write("sandbox.yaml", ORG_SANDBOX);
    let output = workspace
        .sandbox(&["audit", "--org", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let audit = json(&output);
    let accounts: Vec<&str> = audit["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        accounts,
        vec!["111111111111", "222222222222", "333333333333"],
        "the suspended account is out of scope"
    );
    let high: Vec<&serde_json::Value> = audit["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "high")
        .collect();
    assert_eq!(
        high.len(),
        2,
        "222 and 333 have no SECURITY contact: {audit}"
    );

    let both = workspace
        .sandbox(&["audit", "--org", "-f", "contacts.yaml"])
        .output()
        .unwrap();
    assert_eq!(
        both.status.code(),
        Some(1),
        "--org and -f exclude each other"
    );
    assert!(
        stderr(&both).contains("the argument '--org' cannot be used with '--file <FILE>'"),
        "{}",
        stderr(&both)
    );
    assert!(
        both.stdout.is_empty(),
        "no audit was run: {}",
        stdout(&both)
    );
}

#[test]
fn joined_since_narrows_plan_and_audit_to_new_accounts() {
    let workspace = Workspace::org();
    // Prod App joined half an hour ago; the others long before.
    let sandbox = ORG_SANDBOX
        .replace(
            "    name: Prod App\n",
            "    name: Prod App\n    joined: 30m\n",
        )
        .replace(
            "    name: Data\n",
            "    name: Data\n    joined: 2024-01-01T00:00:00Z\n",
        );
    workspace.write("sandbox.yaml", &sandbox);
    let plan = workspace
        .sandbox(&["plan", "--joined-since", "2h", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let plan = json(&plan);
    assert_eq!(plan["accounts_in_scope"], 1, "{plan}");
    assert_eq!(plan["changes"][0]["account_id"], "222222222222");
    assert_eq!(plan["joined_since"]["older_accounts_not_read"], 2);

    let audit = workspace
        .sandbox(&["audit", "--org", "--joined-since", "2h", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        audit.status.code(),
        Some(2),
        "Prod App has findings: {}",
        stderr(&audit)
    );
    let audit = json(&audit);
    let accounts: Vec<&str> = audit["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(accounts, vec!["222222222222"]);

    workspace.write(
        "contacts.yaml",
        "version: 1\naccounts:\n  \"111111111111\": { billing: absent }\n",
    );
    let listed = workspace
        .sandbox(&["plan", "--joined-since", "2h"])
        .output()
        .unwrap();
    assert_eq!(listed.status.code(), Some(1));
    assert!(
        stderr(&listed).contains("--joined-since needs an `organization:` section"),
        "{}",
        stderr(&listed)
    );
    let bad = workspace
        .sandbox(&["plan", "--joined-since", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("is neither a time like"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn a_stale_exclusion_is_a_warning_on_stderr_in_json_and_on_its_line_in_github() {
    let workspace = Workspace::org();
    workspace.write(
        "contacts.yaml",
        &ORG_CONFIG.replace(
            "organization:\n",
            "organization:\n  exclude: [\"555555555555\"]\n",
        ),
    );
    let human = workspace.sandbox(&["plan"]).output().unwrap();
    assert_eq!(human.status.code(), Some(0), "{}", stderr(&human));
    assert!(
        stderr(&human).contains("warning: contacts.yaml:14:13: excluded account 555555555555 is not in the organization (any more)\n  help: remove it from `exclude`"),
        "{}",
        stderr(&human)
    );

    let plan = workspace
        .sandbox(&["plan", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0));
    let plan = json(&plan);
    assert_eq!(
        plan["warnings"],
        serde_json::json!([{ "code": "stale_exclusion", "file": "contacts.yaml", "line": 14, "column": 13,
            "message": "excluded account 555555555555 is not in the organization (any more)",
            "help": "remove it from `exclude`" }])
    );

    let github = workspace
        .sandbox(&["plan"])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    assert_eq!(github.status.code(), Some(0));
    // The run's output is kept from the runner's commands but for its
    // annotations, which it resumes them for.
    let text = stdout(&github);
    let token = text
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("::stop-commands::"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        text.contains(&format!("::{token}::\n::warning file=contacts.yaml,line=14,col=13,title=altcontacts%3A stale exclusion::excluded account 555555555555 is not in the organization (any more)%0Ahelp: remove it from `exclude`\n::stop-commands::{token}\n")),
        "{text}"
    );
}

#[test]
fn account_plans_and_applies_one_account_from_every_layer_and_nothing_else() {
    let workspace = Workspace::org();
    let plan = workspace
        .sandbox(&["plan", "--account", "333333333333", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let plan = json(&plan);
    assert_eq!(plan["accounts_in_scope"], 1, "{plan}");
    let slots: Vec<(&str, &str)> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| {
            (
                change["account_id"].as_str().unwrap(),
                change["contact_type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        slots,
        [
            ("333333333333", "SECURITY"),
            ("333333333333", "BILLING"),
            ("333333333333", "OPERATIONS")
        ],
        "the defaults and the unit's OPERATIONS: {plan}"
    );

    let before = workspace.read("sandbox.yaml");
    workspace
        .run(&["apply", "--auto-approve", "--account", "333333333333"])
        .code(0);
    workspace
        .run(&["plan", "--account", "333333333333", "--detailed-exitcode"])
        .code(0);
    // The other accounts are as they were: their plan still has changes.
    let others = workspace
        .sandbox(&["plan", "--format", "json"])
        .output()
        .unwrap();
    let others = json(&others);
    assert!(
        others["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|change| change["account_id"] != "333333333333"),
        "{others}"
    );
    assert!(!others["changes"].as_array().unwrap().is_empty());
    assert_ne!(before, workspace.read("sandbox.yaml"));
}

#[test]
fn account_refuses_what_cannot_be_written_and_writes_nothing() {
    let workspace = Workspace::org();
    let before = workspace.read("sandbox.yaml");
    for (args, said) in [
        (
            vec!["apply", "--auto-approve", "--account", "33333333333"],
            "`33333333333` is not an account ID",
        ),
        (
            vec!["apply", "--auto-approve", "--account", "33333333333a"],
            "is not an account ID",
        ),
        (
            vec!["apply", "--auto-approve", "--account", "555555555555"],
            "account 555555555555 is not in the organization",
        ),
        (
            vec!["apply", "--auto-approve", "--account", "444444444444"],
            "account 444444444444 is SUSPENDED, not ACTIVE",
        ),
        (
            vec!["plan", "--account", "444444444444"],
            "is SUSPENDED, not ACTIVE",
        ),
    ] {
        let output = workspace.sandbox(&args).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(said),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_eq!(
            workspace.read("sandbox.yaml"),
            before,
            "{args:?} wrote nothing"
        );
    }
    // Without `organization:`, the account must be one the file lists.
    workspace.write(
        "listed.yaml",
        "version: 1\naccounts:\n  \"111111111111\": { billing: absent }\n",
    );
    let output = workspace
        .sandbox(&[
            "apply",
            "--auto-approve",
            "-f",
            "listed.yaml",
            "--account",
            "222222222222",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("account 222222222222 is not in the file's scope"),
        "{}",
        stderr(&output)
    );
    assert_eq!(workspace.read("sandbox.yaml"), before);
}

#[test]
fn an_excluded_account_is_said_and_nothing_is_read() {
    let workspace = Workspace::org();
    workspace.write(
        "contacts.yaml",
        &ORG_CONFIG.replace(
            "organization:\n",
            "organization:\n  exclude: [\"333333333333\"]\n",
        ),
    );
    let output = workspace
        .sandbox(&["plan", "--account", "333333333333"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "Account 333333333333 is excluded by the file (organization.exclude): nothing to do."
        ),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("No changes."),
        "{}",
        stdout(&output)
    );
}

/// The organization with its Data account (333333333333) denying every
/// read of its contacts, as its admin can make it.
fn data_denies_reads() -> Workspace {
    let workspace = Workspace::org();
    workspace.write(
        "sandbox.yaml",
        &ORG_SANDBOX.replace("    name: Data\n", "    name: Data\n    deny: [get]\n"),
    );
    workspace
}

const DATA_SKIPPED: &str = "Skipped 333333333333 (Data): its contacts could not be read: AccessDenied on account:GetAlternateContact (SECURITY); nothing is planned or written for it until they can be.";

#[test]
fn an_account_that_denies_its_reads_is_skipped_by_plan_and_apply_and_nothing_is_written_to_it() {
    let workspace = data_denies_reads();
    let plan = workspace.sandbox(&["plan"]).output().unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let text = stdout(&plan);
    assert!(text.contains(DATA_SKIPPED), "{text}");
    assert!(text.contains(", 2 accounts in scope"), "{text}");
    assert!(!text.contains("333333333333 OPERATIONS"), "{text}");
    assert!(
        stderr(&plan).contains(
            "Skipped 1 member account whose contacts could not be read, and went on with the others: 333333333333 (account:GetAlternateContact on slot SECURITY: access denied (sandbox: Get on account 333333333333 is denied))."
        ),
        "{}",
        stderr(&plan)
    );
    workspace.run(&["plan", "--detailed-exitcode"]).code(2);

    let before: serde_json::Value = serde_yaml::from_str(&workspace.read("sandbox.yaml")).unwrap();
    let apply = workspace
        .sandbox(&["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    assert!(stdout(&apply).contains(DATA_SKIPPED), "{}", stdout(&apply));
    assert!(
        stdout(&apply).contains("Apply complete: 2 created, 1 updated, 1 deleted, 0 failed."),
        "{}",
        stdout(&apply)
    );
    let after: serde_json::Value = serde_yaml::from_str(&workspace.read("sandbox.yaml")).unwrap();
    let contacts = |sandbox: &serde_json::Value| {
        sandbox["accounts"]["333333333333"]["contacts"]
            .as_object()
            .map_or(0, |contacts| contacts.len())
    };
    assert_eq!(
        (contacts(&before), contacts(&after)),
        (0, 0),
        "nothing was written to the account that was not read: {after}"
    );
    assert_ne!(
        after["accounts"]["111111111111"],
        before["accounts"]["111111111111"]
    );
}

#[test]
fn an_account_that_denies_its_reads_is_a_finding_of_the_audit_and_export_refuses_to_guess() {
    let workspace = data_denies_reads();
    let audit = workspace
        .sandbox(&["audit", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(audit.status.code(), Some(2), "{}", stderr(&audit));
    let report = json(&audit);
    let about_data: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["account_id"] == "333333333333")
        .collect();
    assert_eq!(about_data.len(), 1, "{about_data:?}");
    assert_eq!(about_data[0]["check"], "account_unreadable");
    assert_eq!(about_data[0]["severity"], "medium");
    assert!(
        about_data[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("its contacts could not be read (account:GetAlternateContact on slot SECURITY: access denied (sandbox: Get on account 333333333333 is denied))"),
        "{about_data:?}"
    );
    let rows: Vec<&str> = report["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        rows,
        ["111111111111", "222222222222"],
        "no row for what was not read"
    );

    let human = workspace.sandbox(&["audit", "--org"]).output().unwrap();
    assert_eq!(human.status.code(), Some(2), "{}", stderr(&human));
    assert!(
        stdout(&human).contains("MEDIUM 333333333333: its contacts could not be read"),
        "{}",
        stdout(&human)
    );

    // An export that left the account out would hand it to the defaults.
    let export = workspace.sandbox(&["export", "--org"]).output().unwrap();
    assert_eq!(export.status.code(), Some(1), "{}", stdout(&export));
    assert!(
        stderr(&export).contains(
            "account:GetAlternateContact on account 333333333333 slot SECURITY: access denied"
        ),
        "{}",
        stderr(&export)
    );
}

#[test]
fn an_account_the_file_excludes_is_audited_and_said_excluded_but_never_planned() {
    // The demo's break-glass account: excluded, and without any contact.
    let (workspace, example) = Workspace::example();
    let audit = workspace
        .sandbox(&["audit", "--no-dns", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(audit.status.code(), Some(2), "{}", stderr(&audit));
    let report = json(&audit);
    let row = report["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["account_id"] == "999999999999")
        .expect("the excluded account is a row of the audit");
    assert_eq!(row["excluded"], true);
    let high = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| {
            finding["account_id"] == "999999999999" && finding["check"] == "missing_security"
        })
        .expect("its missing SECURITY contact is found");
    assert_eq!(high["severity"], "high");
    assert_eq!(high["excluded"], true);

    // Its fix is not apply's, and the CSV says where the file excludes it.
    let csv = workspace
        .sandbox(&["audit", "--no-dns", "--format", "csv"])
        .output()
        .unwrap();
    let line = stdout(&csv)
        .lines()
        .find(|line| line.contains("missing_security") && line.contains("999999999999"))
        .unwrap()
        .to_owned();
    let exclude_line = example
        .lines()
        .position(|line| line.contains("\"999999999999\""))
        .unwrap()
        + 1;
    assert!(
        line.contains(&format!("contacts.yaml:{exclude_line}:"))
            && line.contains("the file excludes 999999999999"),
        "{line}"
    );

    let plan = workspace
        .sandbox(&["plan", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        !stdout(&plan).contains("999999999999"),
        "never planned: {}",
        stdout(&plan)
    );
}

#[test]
fn a_contact_the_file_declares_absent_is_reported_at_its_line_with_the_files_fix() {
    let (workspace, example) = Workspace::example();
    workspace.run(&["apply", "--auto-approve"]).success();
    let csv = workspace
        .sandbox(&["audit", "--no-dns", "--format", "csv"])
        .output()
        .unwrap();
    let absent_line = example
        .lines()
        .position(|line| line.trim_start().starts_with("billing: absent"))
        .unwrap()
        + 1;
    let text = stdout(&csv);
    let rows: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("444444444444"))
        .collect();
    assert!(!rows.is_empty(), "{text}");
    for row in &rows {
        assert!(
            row.contains(&format!("contacts.yaml:{absent_line}:"))
                && row.contains("the file declares BILLING absent for 444444444444")
                && !row.ends_with("\"altcontacts apply --account 444444444444\""),
            "{row}"
        );
    }
    // And apply, as the remediation says, has nothing to do for it.
    let plan = workspace
        .sandbox(&["plan", "--account", "444444444444"])
        .output()
        .unwrap();
    assert!(stdout(&plan).contains("No changes."), "{}", stdout(&plan));
}

#[test]
fn fail_on_sets_the_least_severe_finding_that_fails_the_audit() {
    // After the example is applied, what is left is medium and low: the
    // guardrail's gap and the declared absence, the unverified phone.
    let workspace = Workspace::new();
    let example = std::fs::read_to_string(repo_file("contacts.example.yaml"))
        .unwrap()
        .replace(
            "    - \"999999999999\"              # break-glass account, managed by hand\n",
            "",
        )
        .replace("  exclude:\n", "");
    workspace.write("contacts.yaml", &example);
    workspace.run(&["apply", "--auto-approve"]).success();
    let audit = |fail_on: Option<&str>| {
        let mut args = vec!["audit", "--no-dns", "--format", "json"];
        if let Some(fail_on) = fail_on {
            args.extend(["--fail-on", fail_on]);
        }
        let output = workspace.sandbox(&args).output().unwrap();
        let severities: Vec<String> = json(&output)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|finding| finding["severity"].as_str().unwrap().to_owned())
            .collect();
        (output.status.code(), severities)
    };
    let (code, severities) = audit(None);
    assert!(!severities.contains(&"high".to_owned()), "{severities:?}");
    assert!(severities.contains(&"medium".to_owned()), "{severities:?}");
    assert_eq!(code, Some(2), "any finding fails by default");
    let (code, reported) = audit(Some("high"));
    assert_eq!(code, Some(0), "no high finding");
    assert_eq!(reported, severities, "and every finding is still reported");
    assert_eq!(audit(Some("medium")).0, Some(2));
}
