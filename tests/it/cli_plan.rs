//! `validate`, `schema` and `plan` through the real binary on sandbox files.

use std::net::TcpListener;

use assert_cmd::prelude::*;

use crate::support::*;

#[test]
fn validate_accepts_the_example_and_says_what_it_covers() {
    let workspace = Workspace::new();
    let example = repo_file("contacts.example.yaml");
    let output = workspace
        .command(&["validate", "-f", example.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("is valid: 4 named contacts"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn validate_reports_every_problem_with_its_location() {
    let workspace = Workspace::new();
    workspace.write(
        "contacts.yaml",
        r#"version: 1
contacts:
  sec: { name: Sec, title: Ops, email_address: sec-at-example.com, phone_number: "+1 202 555 0100" }
accounts:
  012345678901:
    security: sec
  "111111111111":
    billing: finanse
    operation: absent
"#,
    );
    let output = workspace.command(&["validate"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("validate_errors", stderr(&output));
}

#[test]
fn a_missing_file_is_an_error_with_a_hint() {
    let workspace = Workspace::new();
    let output = workspace.command(&["validate"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.starts_with("error: cannot read contacts.yaml"),
        "{text}"
    );
    assert!(text.contains("help: pass the file with -f"), "{text}");
}

#[test]
fn usage_errors_exit_1_not_2_so_they_never_look_like_changes() {
    let workspace = Workspace::new();
    let output = workspace
        .command(&["plan", "--detailed-exitcod"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("--detailed-exitcode"),
        "clap suggests the flag"
    );
    let help = workspace.command(&["--help"]).output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("Examples:"));
    assert!(
        stdout(&help).starts_with("Keeps AWS account alternate contacts"),
        "--help opens with what the tool does: {}",
        stdout(&help)
    );
    let version = workspace.command(&["--version"]).output().unwrap();
    assert_eq!(version.status.code(), Some(0), "--version is not an error");
    assert!(
        stdout(&version).starts_with(&format!("altcontacts {} (", env!("CARGO_PKG_VERSION"))),
        "{}",
        stdout(&version)
    );
}

#[test]
fn schema_prints_the_committed_schemas() {
    let workspace = Workspace::new();
    for (of, file) in [
        ("contacts", "contacts.schema.json"),
        ("plan", "plan.schema.json"),
        ("apply-report", "apply-report.schema.json"),
    ] {
        let output = workspace.command(&["schema", of]).output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        let committed = std::fs::read_to_string(repo_file(&format!("schema/{file}"))).unwrap();
        assert!(
            stdout(&output) == committed,
            "schema/{file} is out of date: run `cargo run -- schema {of} > schema/{file}`"
        );
    }
    let default = workspace.command(&["schema"]).output().unwrap();
    assert_eq!(
        stdout(&default),
        std::fs::read_to_string(repo_file("schema/contacts.schema.json")).unwrap()
    );
}

#[test]
fn the_example_file_validates_against_the_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file("schema/contacts.schema.json")).unwrap(),
    )
    .unwrap();
    let example: serde_json::Value =
        serde_yaml::from_str(&std::fs::read_to_string(repo_file("contacts.example.yaml")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&example)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let text = std::fs::read_to_string(repo_file("contacts.example.yaml")).unwrap();
    assert!(text.starts_with("# yaml-language-server: $schema=./schema/contacts.schema.json"));

    // The schema is not a rubber stamp: it refuses what validate refuses.
    for bad in [
        serde_json::json!({ "version": 2, "accounts": {} }),
        serde_json::json!({ "version": 1, "accounts": { "123": {} } }),
        serde_json::json!({ "version": 1, "accounts": { "111111111111": { "security": { "name": "a", "title": "b", "email_address": "nope", "phone_number": "1" } } } }),
        serde_json::json!({ "version": 1, "contacts": { "absent": { "name": "a", "title": "b", "email_address": "a@b.co", "phone_number": "1" } } }),
        serde_json::json!({ "version": 1, "bogus": 1 }),
        // `security: ~` is no slot: validate refuses it, and so does the schema.
        serde_json::json!({ "version": 1, "accounts": { "111111111111": { "security": null } } }),
        serde_json::json!({ "version": 1, "contacts": { "sec": { "name": "a", "title": "b", "email_address": "a@b.co", "phone_number": "1", "reviewed": null } } }),
    ] {
        assert!(!validator.is_valid(&bad), "schema accepted {bad}");
    }
}

#[test]
fn plan_shows_every_kind_of_change_with_provenance() {
    let workspace = Workspace::org();
    let output = workspace.sandbox(&["plan"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    insta::assert_snapshot!("plan_human", text);
    assert!(text.ends_with("Plan: 5 to create, 1 to update, 1 to delete, 0 unchanged.\n"));
    assert!(
        !text.contains("Legacy Ops"),
        "an unmanaged slot never appears"
    );
}

#[test]
fn detailed_exitcode_is_2_with_changes_and_0_without() {
    let workspace = Workspace::org();
    workspace.run(&["plan", "--detailed-exitcode"]).code(2);
    workspace.run(&["apply", "--auto-approve"]).code(0);
    let output = workspace
        .sandbox(&["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stdout(&output).ends_with("No changes. 7 contacts match the configuration.\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn json_plan_is_versioned_and_lists_each_change() {
    let workspace = Workspace::org();
    let output = workspace
        .sandbox(&["plan", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let plan = json(&output);
    assert_valid(&plan, "schema/plan.schema.json");
    assert_eq!(plan["format_version"], 1);
    assert_eq!(
        plan["summary"],
        serde_json::json!({ "create": 5, "update": 1, "delete": 1, "subscribe": 0, "unchanged": 0 })
    );
    let update = &plan["changes"][0];
    assert_eq!(update["account_id"], "111111111111");
    assert_eq!(update["contact_type"], "SECURITY");
    assert_eq!(update["action"], "update");
    assert_eq!(update["source"], "organization.defaults");
    assert_eq!(
        update["before"]["email_address"],
        "old-security@example.com"
    );
    assert_eq!(update["after"]["email_address"], "security@example.com");
    let delete = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "delete")
        .unwrap();
    assert_eq!(delete["after"], serde_json::Value::Null);
    assert_eq!(plan["skipped"][0]["status"], "SUSPENDED");
    insta::assert_snapshot!("plan_json", stdout(&output));
}

#[test]
fn markdown_plan_is_ready_for_a_pull_request() {
    let workspace = Workspace::org();
    let output = workspace
        .sandbox(&["plan", "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!("plan_markdown", stdout(&output));
}

#[test]
fn large_markdown_plans_fold_the_table() {
    let workspace = Workspace::new();
    let mut sandbox = String::from("caller: \"100000000000\"\naccounts: {}\n");
    let mut config = String::from("version: 1\naccounts:\n");
    for n in 0..25 {
        config.push_str(&format!("  \"1000000000{n:02}\": {{ security: absent, billing: {{ name: B, title: T, email_address: b@example.com, phone_number: \"1\" }} }}\n"));
    }
    sandbox.push('\n');
    workspace.write("sandbox.yaml", &sandbox);
    workspace.write("contacts.yaml", &config);
    let output = workspace
        .sandbox(&["plan", "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("<details><summary>Show 25 changes</summary>"),
        "{text}"
    );
    assert!(
        text.contains("**Plan: 25 to create, 0 to update, 0 to delete, 25 unchanged.**"),
        "{text}"
    );
}

#[test]
fn color_is_off_off_a_terminal_and_on_when_asked() {
    let workspace = Workspace::org();
    // Each run plans successfully; what differs is only the color.
    let planned = |args: &[&str]| {
        let output = workspace.sandbox(args).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        stdout(&output)
    };
    let plain = planned(&["plan"]);
    assert!(
        !plain.contains('\u{1b}'),
        "no escape codes when stdout is not a terminal"
    );
    let colored = planned(&["--color", "always", "plan"]);
    assert!(colored.contains('\u{1b}'));
    // In-line differences: only the changed part of the address is marked.
    let update_line = colored
        .lines()
        .find(|line| line.contains("email_address") && line.contains('→'))
        .unwrap();
    assert!(
        update_line.contains("\u{1b}[") && update_line.contains("example.com"),
        "{update_line:?}"
    );
    let never = planned(&["--color", "never", "plan"]);
    assert_eq!(never, plain);
}

#[test]
fn an_invalid_config_makes_no_aws_call_and_touches_no_sandbox() {
    let workspace = Workspace::new();
    workspace.write(
        "contacts.yaml",
        "version: 1\naccounts:\n  \"111111111111\": { security: nobody }\n",
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let mut command = workspace.command(&["--endpoint-url", &endpoint, "plan"]);
    command
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing");
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("unknown contact `nobody`"));
    assert!(
        listener.accept().is_err(),
        "no connection may reach the endpoint"
    );

    workspace.sandbox(&["plan"]).assert().code(1);
    assert!(
        !workspace.exists("sandbox.yaml"),
        "the sandbox is not even created"
    );
}

#[test]
fn listed_accounts_are_exactly_the_scope() {
    let workspace = Workspace::new();
    workspace.write(
        "sandbox.yaml",
        "caller: \"111111111111\"\naccounts:\n  \"222222222222\":\n    contacts:\n      billing: { name: B, title: T, email_address: b@example.com, phone_number: \"1\" }\n",
    );
    workspace.write(
        "contacts.yaml",
        "version: 1\naccounts:\n  \"111111111111\":\n    security: { name: S, title: T, email_address: s@example.com, phone_number: \"1\" }\n  \"222222222222\":\n    billing: absent\n  \"555555555555\":\n    operations: absent\n",
    );
    let output = workspace
        .sandbox(&["plan", "--format", "json"])
        .output()
        .unwrap();
    let plan = json(&output);
    assert_eq!(plan["accounts_in_scope"], 3);
    assert_eq!(
        plan["summary"],
        serde_json::json!({ "create": 1, "update": 0, "delete": 1, "subscribe": 0, "unchanged": 1 })
    );
}

#[test]
fn access_denied_names_the_account_and_slot_and_how_to_enable_trusted_access() {
    let workspace = Workspace::org();
    // Every member account denies (one alone is skipped: cli_org.rs).
    let sandbox = ORG_SANDBOX
        .replace("    name: Data\n", "    name: Data\n    deny: [get]\n")
        .replace(
            "    name: Prod App\n",
            "    name: Prod App\n    deny: [get]\n",
        );
    workspace.write("sandbox.yaml", &sandbox);
    let output = workspace.sandbox(&["plan"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("plan_access_denied", stderr(&output));
}

#[test]
fn organization_mode_needs_an_organization() {
    let workspace = Workspace::new();
    workspace.write("sandbox.yaml", "caller: \"111111111111\"\naccounts: {}\n");
    workspace.write("contacts.yaml", ORG_CONFIG);
    let output = workspace.sandbox(&["plan"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains(
            "organizations:DescribeOrganization: the account is not a member of an organization"
        ),
        "{text}"
    );
    assert!(text.contains("help: remove `organization:`"), "{text}");
}

#[test]
fn names_missing_from_the_organization_are_located_errors() {
    let workspace = Workspace::org();
    workspace.write(
        "contacts.yaml",
        &ORG_CONFIG
            .replace("Root/Prod/Data:", "Root/Prod/Dta:")
            .replace("\"222222222222\":", "\"999999999999\":"),
    );
    let output = workspace.sandbox(&["plan"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("plan_unknown_names", stderr(&output));
}

#[test]
fn a_missing_sandbox_starts_as_the_demo_organization() {
    let workspace = Workspace::new();
    let example = repo_file("contacts.example.yaml");
    let output = workspace
        .sandbox(&["plan", "-f", example.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        workspace
            .read("sandbox.yaml")
            .starts_with("# altcontacts sandbox")
    );
    insta::assert_snapshot!("plan_demo", stdout(&output));
}

#[test]
fn a_broken_sandbox_file_is_a_located_error() {
    let workspace = Workspace::org();
    workspace.write("sandbox.yaml", "caller: \"111111111111\"\naccounts:\n  \"222222222222\":\n    contacts:\n      security: { name: only }\n");
    let output = workspace.sandbox(&["plan"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("sandbox.yaml:5:"), "{text}");
    assert!(text.contains("missing field `title`"), "{text}");
}

#[test]
fn verbose_off_a_terminal_prints_progress_lines_and_quiet_prints_none() {
    let workspace = Workspace::org();
    let verbose = workspace.sandbox(&["-v", "plan"]).output().unwrap();
    let text = stderr(&verbose);
    assert_eq!(verbose.status.code(), Some(0), "{text}");
    assert!(text.contains("reading contacts: 100% (7/7)"), "{text}");
    assert!(
        text.contains("connected to sandbox sandbox.yaml as account 111111111111"),
        "{text}"
    );
    let quiet = workspace
        .sandbox(&["-q", "plan", "--out", "plan.json"])
        .output()
        .unwrap();
    assert_eq!(stderr(&quiet), "");
    let normal = workspace.sandbox(&["plan"]).output().unwrap();
    assert_eq!(stderr(&normal), "", "no progress off a terminal without -v");
}

#[test]
fn no_credentials_is_one_clear_sentence() {
    let workspace = Workspace::org();
    let output = workspace.command(&["plan"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "error: sts:GetCallerIdentity: no AWS credentials were found\n  help: configure credentials (AWS_PROFILE or --profile, aws sso login, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or try the tool without AWS: --sandbox demo.yaml\n"
    );
}

#[test]
fn a_missing_profile_is_named() {
    let workspace = Workspace::org();
    let output = workspace
        .command(&["--profile", "nosuch", "plan"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with(
            "error: sts:GetCallerIdentity: no AWS credentials were found for profile `nosuch`\n"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_output_file_is_one_flag_spelt_alike_on_plan_export_and_audit() {
    let workspace = Workspace::org();
    for (command, flag) in [
        ("plan", "-o"),
        ("plan", "--output"),
        ("plan", "--out"),
        ("export", "-o"),
        ("export", "--output"),
        ("export", "--out"),
        ("audit", "-o"),
        ("audit", "--output"),
        ("audit", "--out"),
    ] {
        let name = format!("{command}{}.out", flag.trim_start_matches('-'));
        let mut args = vec![command, flag, name.as_str()];
        match command {
            "export" => args.push("--org"),
            "audit" => args.extend(["--no-dns", "--format", "json"]),
            _ => {}
        }
        let output = workspace.sandbox(&args).output().unwrap();
        assert!(
            [Some(0), Some(2)].contains(&output.status.code()),
            "{command} {flag}: {}",
            stderr(&output)
        );
        assert!(workspace.exists(&name), "{command} {flag} wrote {name}");
    }
}

#[test]
fn one_account_is_account_and_the_joined_window_joined_since_on_every_command() {
    let (workspace, _) = Workspace::example();
    // One account: plan, audit and export alike.
    let plan = workspace
        .sandbox(&["plan", "--account", "333333333333"])
        .output()
        .unwrap();
    assert!(
        stdout(&plan).contains("1 account in scope"),
        "{}",
        stdout(&plan)
    );
    let audit = workspace
        .sandbox(&["audit", "--account", "333333333333", "--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap();
    let rows: Vec<&str> = json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(rows, ["333333333333"], "{}", stderr(&audit));
    let export = workspace
        .sandbox(&["export", "--account", "333333333333"])
        .output()
        .unwrap();
    assert!(export.status.success(), "{}", stderr(&export));
    assert!(
        stdout(&export).contains("'333333333333':"),
        "{}",
        stdout(&export)
    );

    // The loop's window is the same flag; the old spelling still runs
    // the pipelines people copied.
    for forge in ["github", "gitlab", "bitbucket"] {
        let help = workspace
            .command(&[forge, "apply", "--help"])
            .output()
            .unwrap();
        let said = stdout(&help);
        assert!(said.contains("--joined-since <TIME>"), "{forge}: {said}");
        assert!(!said.contains("--new-accounts-since"), "{forge}: {said}");
    }
}

#[test]
fn commands_that_make_no_aws_call_neither_offer_nor_take_the_aws_flags() {
    let workspace = Workspace::org();
    for command in [
        "validate",
        "schema",
        "completions",
        "manpage",
        "guardrail",
        "member-role",
        "events",
    ] {
        let help = workspace.command(&[command, "--help"]).output().unwrap();
        let said = stdout(&help);
        assert!(help.status.success(), "{command}");
        for flag in [
            "--sandbox",
            "--profile",
            "--region",
            "--endpoint-url",
            "--rate",
        ] {
            assert!(
                !said.contains(flag),
                "{command} --help offers {flag}: {said}"
            );
        }
    }
    let plan = stdout(&workspace.command(&["plan", "--help"]).output().unwrap());
    assert!(plan.contains("AWS connection:") && plan.contains("--profile <NAME>"));

    // Given anyway, before the command or after it: refused, saying why.
    for args in [
        &["validate", "--profile", "prod"][..],
        &["--profile", "prod", "validate"][..],
        &["--sandbox", "sandbox.yaml", "schema"][..],
        &[
            "guardrail",
            "--allow-role",
            "arn:aws:iam::111111111111:role/ci",
            "--region",
            "eu-west-1",
        ][..],
    ] {
        let output = workspace.command(args).output().unwrap();
        let said = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {said}");
        assert!(
            said.contains("makes no AWS call: leave out --"),
            "{args:?}: {said}"
        );
    }
}

#[test]
fn show_prints_a_saved_plan_in_any_format_without_aws_and_refuses_an_edited_one() {
    let (workspace, _) = Workspace::example();
    let planned = workspace
        .sandbox(&["plan", "-o", "plan.json", "--format", "json"])
        .output()
        .unwrap();
    assert!(planned.status.success(), "{}", stderr(&planned));
    // No sandbox, no contacts file: the plan file is all it reads.
    std::fs::remove_file(workspace.path("contacts.yaml")).unwrap();
    let shown = workspace
        .command(&["show", "plan.json", "--format", "json"])
        .output()
        .unwrap();
    assert!(shown.status.success(), "{}", stderr(&shown));
    let (saved, printed): (serde_json::Value, serde_json::Value) = (
        serde_json::from_slice(&planned.stdout).unwrap(),
        serde_json::from_slice(&shown.stdout).unwrap(),
    );
    assert_eq!(printed["changes"], saved["changes"]);
    assert_eq!(printed["summary"], saved["summary"]);

    let human = stdout(&workspace.command(&["show", "plan.json"]).output().unwrap());
    assert!(human.starts_with("Saved plan plan.json: made "), "{human}");
    assert!(human.contains("    email_address: "), "{human}");
    assert!(
        human.trim_end().ends_with(
            "Plan: 13 to create, 3 to update, 1 to delete, 1 to subscribe, 3 unchanged."
        ),
        "{human}"
    );
    let compact = stdout(
        &workspace
            .command(&["show", "plan.json", "--compact"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        compact
            .lines()
            .filter(|line| line.contains("  (from "))
            .count(),
        18,
        "a line a change: {compact}"
    );
    assert!(!compact.contains("    email_address: "), "{compact}");
    let markdown = stdout(
        &workspace
            .command(&["show", "plan.json", "--format", "markdown"])
            .output()
            .unwrap(),
    );
    assert!(
        markdown.contains("| Action |") || markdown.contains("|---|"),
        "{markdown}"
    );

    // What is shown is what apply would take: an edited plan is refused.
    let edited =
        workspace
            .read("plan.json")
            .replacen("security@example.com", "attacker@evil.example", 1);
    workspace.write("plan.json", &edited);
    let refused = workspace.command(&["show", "plan.json"]).output().unwrap();
    assert_eq!(
        refused.status.code(),
        Some(3),
        "refused as apply refuses it: {}",
        stderr(&refused)
    );
    assert!(stdout(&refused).is_empty(), "{}", stdout(&refused));
}
