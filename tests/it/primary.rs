//! The primary contact as a fourth slot: planned, applied and re-planned
//! like the others, with AWS's rules checked offline.

use std::collections::BTreeSet;

use crate::emulator::{Emulator, Faults, organization};
use crate::support::*;

const HEADQUARTERS: &str = r#"  headquarters:
    full_name: Example Corp Cloud Team
    company_name: Example Corp
    address_line_1: 1 Main Street
    city: Seattle
    state_or_region: WA
    postal_code: "98101"
    country_code: US
    phone_number: "+1 206 555 0100"
"#;

fn config() -> String {
    format!(
        "version: 1\nprimary_contacts:\n{HEADQUARTERS}contacts:\n  sec: {{ name: Security, title: Team, email_address: security@example.com, phone_number: \"+1 202 555 0100\" }}\norganization:\n  defaults: {{ primary: headquarters, security: sec }}\n"
    )
}

#[test]
fn primary_defaults_plan_apply_and_replan_to_no_changes_on_the_sandbox() {
    let workspace = Workspace::org();
    // The management account has a primary contact already, in another city.
    let sandbox = ORG_SANDBOX.replacen(
        "    name: Management\n",
        "    name: Management\n    primary: { full_name: Example Corp Cloud Team, company_name: Example Corp, address_line_1: 1 Main Street, city: Tacoma, state_or_region: WA, postal_code: \"98101\", country_code: US, phone_number: \"+1 206 555 0100\" }\n",
        1,
    );
    workspace.write("sandbox.yaml", &sandbox);
    workspace.write("contacts.yaml", &config());

    let plan = workspace
        .sandbox(&["--color", "never", "plan"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let text = stdout(&plan);
    assert!(
        text.contains("~ update 111111111111 (Management) PRIMARY  (from organization.defaults)\n    city: \"Tacoma\" → \"Seattle\"\n"),
        "field-level diff: {text}"
    );
    assert!(
        text.contains("+ create 222222222222 (Prod App) PRIMARY"),
        "{text}"
    );

    let json = workspace
        .sandbox(&["plan", "--format", "json"])
        .output()
        .unwrap();
    let json = json_of(&json);
    let primary = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["contact_type"] == "PRIMARY" && c["action"] == "create")
        .unwrap();
    assert_eq!(primary["after"]["country_code"], "US");

    workspace.run(&["plan", "--out", "plan.json"]).code(0);
    workspace.run(&["apply", "plan.json"]).code(0);
    let again = workspace
        .sandbox(&["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    assert!(workspace.read("sandbox.yaml").contains("city: Seattle"));
}

fn json_of(output: &std::process::Output) -> serde_json::Value {
    json(output)
}

#[test]
fn aws_rules_for_the_primary_contact_are_checked_offline_with_their_place() {
    let workspace = Workspace::new();
    workspace.write(
        "contacts.yaml",
        r#"version: 1
primary_contacts:
  hq:
    full_name: Example Corp
    address_line_1: 1 Main Street
    city: Seattle
    postal_code: "98101"
    country_code: US
    phone_number: "206 555 0100"
accounts:
  "111111111111":
    primary: absent
  "222222222222":
    primary: hq
  "333333333333":
    primary: { full_name: "", address_line_1: x, city: y, postal_code: "1", country_code: USA, phone_number: "+1" }
"#,
    );
    let output = workspace.command(&["validate"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    for expected in [
        "contacts.yaml:4:5: primary_contacts.hq: AWS requires state_or_region for an address in US",
        "contacts.yaml:9:19: primary_contacts.hq.phone_number: \"206 555 0100\" is not a primary phone number AWS accepts",
        "contacts.yaml:12:14: accounts.\"111111111111\".primary: the primary contact cannot be `absent`: AWS cannot delete it",
        "full_name must not be empty",
        "\"USA\" is not a country code",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
}

#[test]
fn apply_writes_one_put_contact_information_per_account_and_names_no_management_account() {
    const CALLER: &str = "999999999999";
    let emulator = Emulator::start(CALLER, Some(organization(CALLER, 4, 1)), Faults::default());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contacts.yaml"), config()).unwrap();
    let apply = emulator
        .command(
            dir.path(),
            &["--rate", "get=100,put=50", "apply", "--auto-approve"],
        )
        .output()
        .unwrap();
    assert_eq!(
        apply.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&apply),
        stderr(&apply)
    );
    let log = emulator.log();
    let puts: Vec<_> = log
        .iter()
        .filter(|e| e.operation == "PutContactInformation")
        .collect();
    assert_eq!(puts.len(), 5, "one per account: {log:?}");
    let accounts: BTreeSet<&str> = puts.iter().map(|e| e.account.as_str()).collect();
    assert_eq!(accounts.len(), 5);
    assert!(
        puts.iter()
            .filter(|e| e.account == CALLER)
            .all(|e| !e.account_id_sent),
        "the management account omits AccountId for itself"
    );
    assert_eq!(
        emulator.primary("100000000003"),
        Some(("Example Corp Cloud Team".into(), "+1 206 555 0100".into()))
    );
    let again = emulator
        .command(
            dir.path(),
            &["--rate", "get=100,put=50", "plan", "--detailed-exitcode"],
        )
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));

    // Bad primary fields: a located error and no AWS call at all.
    std::fs::write(
        dir.path().join("contacts.yaml"),
        config().replace("country_code: US", "country_code: USA"),
    )
    .unwrap();
    emulator.clear_log();
    let organization_calls = emulator.organizations_calls();
    let bad = emulator.command(dir.path(), &["plan"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("\"USA\" is not a country code"),
        "{}",
        stderr(&bad)
    );
    assert!(emulator.log().is_empty(), "no contact read");
    assert_eq!(
        emulator.organizations_calls(),
        organization_calls,
        "no discovery"
    );
}

#[test]
fn export_writes_primary_contacts_that_plan_back_to_no_changes() {
    let workspace = Workspace::org();
    workspace.write("contacts.yaml", &config());
    workspace.run(&["apply", "--auto-approve"]).code(0);
    let export = workspace
        .sandbox(&["export", "--org", "-o", "exported.yaml"])
        .output()
        .unwrap();
    assert_eq!(export.status.code(), Some(0), "{}", stderr(&export));
    let exported = workspace.read("exported.yaml");
    assert!(
        exported.contains("primary_contacts:\n  example-corp-cloud-team:\n"),
        "{exported}"
    );
    assert!(
        exported.contains("primary: example-corp-cloud-team"),
        "{exported}"
    );
    let plan = workspace
        .sandbox(&["plan", "-f", "exported.yaml", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stdout(&plan));
}

#[test]
fn a_saved_plan_that_deletes_a_primary_contact_is_refused() {
    let workspace = Workspace::org();
    workspace.write("contacts.yaml", &config());
    workspace.run(&["plan", "--out", "plan.json"]).code(0);
    let mut plan: serde_json::Value = serde_json::from_str(&workspace.read("plan.json")).unwrap();
    let change = plan["changes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["contact_type"] == "PRIMARY")
        .unwrap();
    change["action"] = "delete".into();
    change["before"] = change["after"].clone();
    change["after"] = serde_json::Value::Null;
    workspace.write("plan.json", &plan.to_string());
    let before = workspace.read("sandbox.yaml");
    let output = workspace.sandbox(&["apply", "plan.json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(3), "an apply refused");
    assert!(
        stderr(&output).contains("the primary contact cannot be deleted"),
        "{}",
        stderr(&output)
    );
    assert_eq!(workspace.read("sandbox.yaml"), before);
}

#[test]
fn a_denied_primary_read_names_get_contact_information_and_its_permission() {
    let workspace = Workspace::org();
    let sandbox = ORG_SANDBOX.replacen(
        "    name: Prod App\n",
        "    name: Prod App\n    deny: [get]\n",
        1,
    );
    workspace.write("sandbox.yaml", &sandbox);
    workspace.write(
        "contacts.yaml",
        &format!("version: 1\nprimary_contacts:\n{HEADQUARTERS}accounts:\n  \"222222222222\": {{ primary: headquarters }}\n"),
    );
    let plan = workspace.sandbox(&["plan"]).output().unwrap();
    assert_eq!(plan.status.code(), Some(1));
    let text = stderr(&plan);
    assert!(
        text.contains(
            "account:GetContactInformation on account 222222222222 slot PRIMARY: access denied"
        ),
        "{text}"
    );
    assert!(
        text.contains("the caller needs account:GetContactInformation on this account"),
        "{text}"
    );
    assert!(!text.contains("GetAlternateContact"), "{text}");
}
