//! `apply` through the real binary on sandbox files: approval, saved plans,
//! staleness, safety limits, partial failure.

use crate::support::*;

/// The contacts of the sandbox file, as the tool reads them.
fn live(workspace: &Workspace) -> serde_json::Value {
    let text = workspace.read("sandbox.yaml");
    let sandbox: serde_json::Value = serde_yaml::from_str(&text).unwrap();
    sandbox["accounts"].clone()
}

#[test]
fn without_approval_off_a_terminal_nothing_is_written() {
    let workspace = Workspace::org();
    let before = workspace.read("sandbox.yaml");
    let output = workspace.sandbox(&["apply"]).output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stdout(&output).contains("Plan: 5 to create"),
        "the plan is shown first"
    );
    let text = stderr(&output);
    assert!(
        text.contains("refusing to apply without approval"),
        "{text}"
    );
    assert!(text.contains("--auto-approve"), "{text}");
    assert_eq!(workspace.read("sandbox.yaml"), before);
}

#[test]
fn auto_approve_applies_exactly_the_plan_and_a_rerun_has_nothing_to_do() {
    let workspace = Workspace::org();
    let output = workspace
        .sandbox(&["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    insta::assert_snapshot!("apply_report", stdout(&output));
    let accounts = live(&workspace);
    assert_eq!(
        accounts["111111111111"]["contacts"]["security"]["email_address"],
        "security@example.com"
    );
    assert_eq!(
        accounts["222222222222"]["contacts"]["billing"],
        serde_json::Value::Null
    );
    assert_eq!(
        accounts["222222222222"]["contacts"]["operations"]["email_address"],
        "legacy-ops@example.com",
        "the unmanaged slot is untouched"
    );
    assert_eq!(
        accounts["333333333333"]["contacts"]["operations"]["email_address"],
        "data-oncall@example.com"
    );
    assert_eq!(
        accounts["444444444444"]["contacts"],
        serde_json::json!({}),
        "the suspended account is untouched"
    );

    let again = workspace.sandbox(&["apply"]).output().unwrap();
    assert_eq!(again.status.code(), Some(0), "no changes needs no approval");
    assert!(stdout(&again).ends_with("No changes. 7 contacts match the configuration.\n"));
}

#[test]
fn a_saved_plan_is_applied_exactly_even_without_the_config() {
    let workspace = Workspace::org();
    let plan = workspace
        .sandbox(&["plan", "--out", "plan.json"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0));
    assert!(stderr(&plan).contains("altcontacts apply plan.json"));
    let saved: serde_json::Value = serde_json::from_str(&workspace.read("plan.json")).unwrap();
    assert_eq!(
        saved["altcontacts_plan"],
        altcontacts::planfile::PLAN_FORMAT_VERSION
    );
    // Made outside a repository: when, and at no commit.
    assert!(saved["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(saved["commit"], serde_json::Value::Null);
    assert!(
        saved["config_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(saved["caller_account"], "111111111111");
    assert_eq!(saved["changes"].as_array().unwrap().len(), 7);

    std::fs::remove_file(workspace.path("contacts.yaml")).unwrap();
    let output = workspace.sandbox(&["apply", "plan.json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("Apply complete: 5 created, 1 updated, 1 deleted, 0 failed."));
    assert_eq!(
        live(&workspace)["333333333333"]["contacts"]["billing"]["email_address"],
        "billing@example.com"
    );
}

#[test]
fn a_slot_changed_since_the_plan_makes_it_stale_and_nothing_is_written() {
    let workspace = Workspace::org();
    workspace.run(&["plan", "--out", "plan.json"]).code(0);
    // Someone fixes 333's SECURITY by hand: it was absent when planned.
    let edited = workspace.read("sandbox.yaml").replace(
        "  \"333333333333\":\n    name: Data\n",
        "  \"333333333333\":\n    name: Data\n    contacts:\n      security: { name: Hand, title: Made, email_address: hand@example.com, phone_number: \"1\" }\n",
    );
    assert_ne!(edited, workspace.read("sandbox.yaml"));
    workspace.write("sandbox.yaml", &edited);
    let output = workspace.sandbox(&["apply", "plan.json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    insta::assert_snapshot!("apply_stale", stderr(&output));
    assert_eq!(
        workspace.read("sandbox.yaml"),
        edited,
        "nothing was written"
    );
}

#[test]
fn a_config_changed_since_the_plan_is_refused() {
    let workspace = Workspace::org();
    workspace.run(&["plan", "--out", "plan.json"]).code(0);
    let before = workspace.read("sandbox.yaml");
    workspace.write(
        "contacts.yaml",
        &ORG_CONFIG.replace("billing: absent", "billing: finance"),
    );
    let output = workspace.sandbox(&["apply", "plan.json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("contacts.yaml differs from the file the plan was made from"),
        "{}",
        stderr(&output)
    );
    assert_eq!(workspace.read("sandbox.yaml"), before);

    // -f names the file to compare explicitly.
    workspace.write("other.yaml", ORG_CONFIG);
    workspace
        .run(&["apply", "-f", "other.yaml", "plan.json"])
        .code(0);
}

#[test]
fn a_plan_made_as_another_caller_is_refused() {
    let workspace = Workspace::org();
    workspace.run(&["plan", "--out", "plan.json"]).code(0);
    workspace.write(
        "sandbox.yaml",
        &ORG_SANDBOX.replacen("caller: \"111111111111\"", "caller: \"222222222222\"", 1),
    );
    let output = workspace.sandbox(&["apply", "plan.json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("sandbox.yaml as account 111111111111, but this run is on"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_plan_made_on_another_sandbox_file_is_refused() {
    let workspace = Workspace::org();
    workspace.run(&["plan", "--out", "plan.json"]).code(0);
    // The same organization in another file: same caller, other target.
    let copy = workspace.read("sandbox.yaml");
    workspace.write("sandbox-copy.yaml", &copy);
    let output = workspace
        .command(&["--sandbox", "sandbox-copy.yaml", "apply", "plan.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("refusing the plan"));
    assert_eq!(
        workspace.read("sandbox-copy.yaml"),
        copy,
        "nothing was written"
    );
    // The same file by another name is the same target.
    let output = workspace
        .command(&["--sandbox", "./sandbox.yaml", "apply", "plan.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn broken_plan_files_are_refused_with_exit_3_not_panics() {
    let workspace = Workspace::org();
    workspace.write("garbage.json", "{ not json");
    let output = workspace
        .sandbox(&["apply", "garbage.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "an apply refused");
    assert!(
        stderr(&output).contains("garbage.json is not a plan file altcontacts can apply: not JSON")
    );

    workspace.run(&["plan", "--out", "plan.json"]).code(0);
    let tampered =
        workspace
            .read("plan.json")
            .replacen("\"security@example.com\"", "\"not-an-email\"", 1);
    workspace.write("tampered.json", &tampered);
    let output = workspace
        .sandbox(&["apply", "tampered.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "an apply refused");
    assert!(
        stderr(&output).contains("\"not-an-email\" is not an email address AWS accepts"),
        "{}",
        stderr(&output)
    );

    let version = format!(
        "\"altcontacts_plan\": {}",
        altcontacts::planfile::PLAN_FORMAT_VERSION
    );
    let future = workspace
        .read("plan.json")
        .replacen(&version, "\"altcontacts_plan\": 99", 1);
    workspace.write("future.json", &future);
    let output = workspace
        .sandbox(&["apply", "future.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "an apply refused");
    assert!(
        stderr(&output).contains("plan format 99 is not supported"),
        "{}",
        stderr(&output)
    );

    // A plan of the format before, which records neither when nor at
    // which commit it was made, is made again.
    let older = workspace
        .read("plan.json")
        .replacen(&version, "\"altcontacts_plan\": 4", 1);
    workspace.write("older.json", &older);
    let before = workspace.read("sandbox.yaml");
    let output = workspace
        .sandbox(&["apply", "older.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "an apply refused");
    assert!(
        stderr(&output).contains(
            "plan format 4 is not supported: this altcontacts reads format 6, which records when and at which commit a plan was made, and the subscriptions it read; make the plan again (altcontacts plan --out FILE)"
        ),
        "{}",
        stderr(&output)
    );
    assert_eq!(workspace.read("sandbox.yaml"), before, "nothing written");
}

/// A sandbox and config where the config deletes `n` BILLING contacts.
fn many_deletes(workspace: &Workspace, n: usize) {
    let mut sandbox = String::from("caller: \"100000000000\"\naccounts:\n");
    let mut config = String::from("version: 1\naccounts:\n");
    for i in 0..n {
        sandbox.push_str(&format!(
            "  \"1000000000{i:02}\":\n    contacts:\n      billing: {{ name: B, title: T, email_address: b@example.com, phone_number: \"1\" }}\n"
        ));
        config.push_str(&format!("  \"1000000000{i:02}\": {{ billing: absent }}\n"));
    }
    workspace.write("sandbox.yaml", &sandbox);
    workspace.write("contacts.yaml", &config);
}

#[test]
fn more_than_ten_deletes_are_refused_unless_forced() {
    let workspace = Workspace::new();
    many_deletes(&workspace, 11);
    let plan = workspace.sandbox(&["plan"]).output().unwrap();
    assert_eq!(
        plan.status.code(),
        Some(0),
        "a plan shows the breach and succeeds"
    );
    assert!(
        stdout(&plan).contains("Safety limit: 11 deletes exceed the limit of 10 (safety.max_deletes / --max-deletes). apply will refuse this plan unless --force."),
        "{}",
        stdout(&plan)
    );
    let before = workspace.read("sandbox.yaml");
    let refused = workspace
        .sandbox(&["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(3));
    assert!(
        stderr(&refused)
            .contains("refusing to apply, nothing was written: 11 deletes exceed the limit of 10")
    );
    assert_eq!(workspace.read("sandbox.yaml"), before);

    workspace.run(&["plan", "--out", "plan.json"]).code(0);
    workspace.run(&["apply", "plan.json"]).code(3);
    workspace
        .run(&["apply", "--max-deletes", "11", "plan.json"])
        .code(0);
}

#[test]
fn force_overrides_the_limit_and_the_file_can_set_it() {
    let workspace = Workspace::new();
    many_deletes(&workspace, 3);
    let config = workspace.read("contacts.yaml");
    workspace.write(
        "contacts.yaml",
        &format!("{config}safety:\n  max_deletes: 2\n"),
    );
    workspace.run(&["apply", "--auto-approve"]).code(3);
    let output = workspace
        .sandbox(&["apply", "--auto-approve", "--force"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("Apply complete: 0 created, 0 updated, 3 deleted, 0 failed."));
}

#[test]
fn update_caps_by_count_and_by_percent() {
    let workspace = Workspace::org();
    // The fixture plans one update among 7 managed slots.
    workspace
        .run(&["apply", "--auto-approve", "--max-updates", "0"])
        .code(3);
    workspace
        .run(&["apply", "--auto-approve", "--max-update-percent", "10"])
        .code(3);
    let output = workspace
        .sandbox(&["plan", "--max-update-percent", "10"])
        .output()
        .unwrap();
    assert!(
        stdout(&output).contains("1 updates exceed the limit of 0 (safety.max_update_percent"),
        "{}",
        stdout(&output)
    );
    workspace
        .run(&["apply", "--auto-approve", "--max-update-percent", "15"])
        .code(0);
}

#[test]
fn a_failed_write_does_not_stop_the_others_and_a_rerun_converges() {
    let workspace = Workspace::org();
    // An SCP-like denial: 333 can be read but not written.
    let denied = ORG_SANDBOX.replace(
        "    name: Data\n",
        "    name: Data\n    deny: [put, delete]\n",
    );
    workspace.write("sandbox.yaml", &denied);
    let output = workspace
        .sandbox(&["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    insta::assert_snapshot!("apply_partial_failure", text);
    assert!(
        text.ends_with("Apply complete: 2 created, 1 updated, 1 deleted, 3 failed.\n"),
        "{text}"
    );
    assert_eq!(
        live(&workspace)["111111111111"]["contacts"]["billing"]["email_address"],
        "billing@example.com"
    );

    let mut sandbox: serde_yaml::Value =
        serde_yaml::from_str(&workspace.read("sandbox.yaml")).unwrap();
    let data = &mut sandbox["accounts"]["333333333333"];
    assert!(
        data.as_mapping_mut().unwrap().remove("deny").is_some(),
        "the denial was kept in the file"
    );
    workspace.write("sandbox.yaml", &serde_yaml::to_string(&sandbox).unwrap());
    let rerun = workspace
        .sandbox(&["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(rerun.status.code(), Some(0));
    assert!(
        stdout(&rerun).contains("Apply complete: 3 created, 0 updated, 0 deleted, 0 failed."),
        "{}",
        stdout(&rerun)
    );
    workspace.run(&["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn the_json_report_gives_every_outcome_and_each_failure_its_operation_and_help() {
    let workspace = Workspace::org();
    let denied = ORG_SANDBOX.replace(
        "    name: Data\n",
        "    name: Data\n    deny: [put, delete]\n",
    );
    workspace.write("sandbox.yaml", &denied);
    let output = workspace
        .sandbox(&["apply", "--auto-approve", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    // The plan is for the person reading the log; stdout is the report only.
    assert!(stderr(&output).contains("Plan: "), "{}", stderr(&output));
    let report = json(&output);
    assert_valid(&report, "schema/apply-report.schema.json");
    assert_eq!(report["format_version"], 1);
    assert_eq!(report["succeeded"], false);
    assert_eq!(report["interrupted"], false);
    let summary = &report["summary"];
    assert_eq!(
        (
            &summary["changes"],
            &summary["created"],
            &summary["updated"],
            &summary["deleted"],
            &summary["failed"]
        ),
        (&7.into(), &2.into(), &1.into(), &1.into(), &3.into()),
        "{summary}"
    );
    let results = report["results"].as_array().unwrap();
    let failed: Vec<_> = results
        .iter()
        .filter(|result| result["outcome"] == "failed")
        .collect();
    assert_eq!(failed.len(), 3);
    for result in failed {
        assert_eq!(result["account_id"], "333333333333", "{result}");
        let error = &result["error"];
        assert_eq!(error["code"], "access_denied", "{result}");
        let operation = if result["action"] == "delete" {
            "account:DeleteAlternateContact"
        } else {
            "account:PutAlternateContact"
        };
        assert_eq!(error["operation"], operation, "{result}");
        assert!(
            error["help"].as_str().unwrap().contains(operation),
            "the hint names the permission: {result}"
        );
    }
    let applied = results
        .iter()
        .filter(|result| result["outcome"] == "applied")
        .count();
    assert_eq!(applied, 4);
    assert!(
        results
            .iter()
            .all(|result| result["after"].is_object() || result["action"] == "delete"),
        "each result carries its change as plan --format json does"
    );

    // Nothing to do is a report too: no changes, success.
    workspace.write("sandbox.yaml", ORG_SANDBOX);
    workspace
        .sandbox(&["apply", "--auto-approve"])
        .output()
        .unwrap();
    let again = workspace
        .sandbox(&["apply", "--auto-approve", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let report = json(&again);
    assert_valid(&report, "schema/apply-report.schema.json");
    assert_eq!(report["succeeded"], true);
    assert_eq!(report["results"], serde_json::json!([]));
}

/// Runs the binary on a pseudo-terminal (util-linux `script`), typing `answer`.
fn on_a_terminal(workspace: &Workspace, args: &str, answer: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let command_line = format!("{BIN} --sandbox sandbox.yaml {args}");
    let mut command = Command::new("script");
    command
        .args(["-qec", &command_line, "/dev/null"])
        .current_dir(workspace.dir.path());
    isolate(&mut command);
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs the binary on a terminal");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn on_a_terminal_apply_asks_and_only_yes_applies() {
    let workspace = Workspace::org();
    let before = workspace.read("sandbox.yaml");
    let refused = on_a_terminal(&workspace, "apply", "no\n");
    assert_eq!(refused.status.code(), Some(3));
    let text = stdout(&refused);
    assert!(
        text.contains("Apply these 7 changes? Only 'yes' is accepted:"),
        "{text}"
    );
    assert!(
        text.contains("apply cancelled, nothing was written"),
        "{text}"
    );
    assert_eq!(workspace.read("sandbox.yaml"), before);

    let accepted = on_a_terminal(&workspace, "apply", "yes\n");
    assert_eq!(accepted.status.code(), Some(0), "{}", stdout(&accepted));
    assert!(
        stdout(&accepted).contains("Apply complete: 5 created, 1 updated, 1 deleted, 0 failed.")
    );
}

#[test]
fn a_saved_plan_is_checked_against_the_applying_runs_limits_not_the_planning_runs() {
    let workspace = Workspace::new();
    many_deletes(&workspace, 12);
    let plan = workspace
        .sandbox(&["plan", "--max-deletes", "5000", "--out", "plan.json"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0));
    assert!(
        stdout(&plan).contains("Safety limits: at most 5000 deletes, any number of updates."),
        "the plan says what it was checked against: {}",
        stdout(&plan)
    );
    let before = workspace.read("sandbox.yaml");
    let refused = workspace.sandbox(&["apply", "plan.json"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("12 deletes exceed the limit of 10"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(
        workspace.read("sandbox.yaml"),
        before,
        "nothing was deleted"
    );
    let applied = workspace
        .sandbox(&["apply", "--max-deletes", "12", "plan.json"])
        .output()
        .unwrap();
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
}
