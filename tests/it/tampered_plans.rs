//! Saved plans edited between `plan --out` and `apply PLAN`, as whoever
//! can touch the plan artifact between two CI jobs would edit them: each
//! is refused with exit 3 and nothing is written.

use sha2::{Digest, Sha256};

use crate::support::*;

const ATTACKER: &str = "attacker@evil.example";
const KEY: &str = "a plan key both jobs hold";

fn saved(workspace: &Workspace) -> serde_json::Value {
    serde_json::from_str(&workspace.read("plan.json")).unwrap()
}

/// Seals an edited plan as `plan --out` seals one without a key: anyone can
/// compute this, so it stops careless edits, not deliberate ones.
fn reseal(mut plan: serde_json::Value) -> String {
    plan["seal"] = serde_json::Value::String(String::new());
    let digest = Sha256::digest(serde_json::to_vec(&plan).unwrap());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    plan["seal"] = serde_json::Value::String(format!("sha256:{hex}"));
    serde_json::to_string_pretty(&plan).unwrap()
}

/// The first change that writes an alternate contact, redirected.
fn redirect_first_write(plan: &mut serde_json::Value) {
    let change = plan["changes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|change| change["after"]["email_address"].is_string())
        .expect("the fixture's plan writes an alternate contact");
    change["after"]["email_address"] = ATTACKER.into();
}

/// Applies `plan` (written as tampered.json) and asserts it was refused
/// as edited, with `message`, and nothing was written.
fn refused(workspace: &Workspace, plan: &str, message: &str) {
    workspace.write("tampered.json", plan);
    let refusal = apply_refused(workspace, "tampered.json", None, message);
    assert!(
        refusal.contains("help: a saved plan is applied only as `plan --out` wrote it"),
        "{refusal}"
    );
    assert!(!workspace.read("sandbox.yaml").contains(ATTACKER));
}

/// Applies the plan file `name`, with `key` in ALTCONTACTS_PLAN_KEY if
/// given, asserts exit 3 with `message` and that nothing was written, and
/// returns stderr.
fn apply_refused(workspace: &Workspace, name: &str, key: Option<&str>, message: &str) -> String {
    let before = workspace.read("sandbox.yaml");
    let mut apply = workspace.sandbox(&["apply", name]);
    if let Some(key) = key {
        apply.env("ALTCONTACTS_PLAN_KEY", key);
    }
    let output = apply.output().unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains(message), "{}", stderr(&output));
    assert_eq!(
        workspace.read("sandbox.yaml"),
        before,
        "nothing was written"
    );
    stderr(&output)
}

#[test]
fn an_edited_plan_breaks_its_digest_with_or_without_the_file() {
    let workspace = Workspace::org();
    workspace.run(&["plan", "--out", "plan.json"]).code(0);
    let mut plan = saved(&workspace);
    redirect_first_write(&mut plan);
    let edited = serde_json::to_string_pretty(&plan).unwrap();
    refused(
        &workspace,
        &edited,
        "it was edited after `plan --out` wrote it",
    );
    std::fs::remove_file(workspace.path("contacts.yaml")).unwrap();
    refused(
        &workspace,
        &edited,
        "it was edited after `plan --out` wrote it",
    );
}

#[test]
fn a_resealed_redirect_is_not_what_the_file_yields() {
    let workspace = Workspace::org();
    workspace.run(&["plan", "--out", "plan.json"]).code(0);
    let mut plan = saved(&workspace);
    redirect_first_write(&mut plan);
    refused(
        &workspace,
        &reseal(plan),
        "it is not what its contacts file yields against what it recorded",
    );
}

#[test]
fn a_resealed_plan_missing_a_change_is_refused() {
    let workspace = Workspace::org();
    workspace.run(&["plan", "--out", "plan.json"]).code(0);
    let mut plan = saved(&workspace);
    plan["changes"].as_array_mut().unwrap().remove(0);
    refused(
        &workspace,
        &reseal(plan),
        "neither changed nor recorded as unchanged",
    );
}

#[test]
fn a_resealed_plan_with_more_managed_slots_is_refused() {
    // managed_slots is the base of the percentage limits: inflated, it
    // would let a mass delete through.
    let workspace = Workspace::org();
    workspace.run(&["plan", "--out", "plan.json"]).code(0);
    let mut plan = saved(&workspace);
    let managed = plan["managed_slots"].as_u64().unwrap();
    plan["managed_slots"] = (managed * 100).into();
    refused(
        &workspace,
        &reseal(plan),
        &format!(
            "it counts {} managed slots, the file yields {managed}",
            managed * 100
        ),
    );
}

#[test]
fn a_plan_sealed_with_a_key_is_applied_only_with_that_key() {
    let workspace = Workspace::org();
    let plan = workspace
        .sandbox(&["-vvv", "plan", "--out", "plan.json"])
        .env("ALTCONTACTS_PLAN_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    assert!(!stderr(&plan).contains(KEY) && !stdout(&plan).contains(KEY));
    let sealed = saved(&workspace);
    assert!(
        sealed["seal"].as_str().unwrap().starts_with("hmac-sha256:"),
        "{sealed}"
    );
    assert!(!workspace.read("plan.json").contains(KEY));

    // Resealed without the key, an edit is refused by a run that has it,
    // even without the contacts file to compute the changes from.
    std::fs::remove_file(workspace.path("contacts.yaml")).unwrap();
    let mut edited = sealed.clone();
    redirect_first_write(&mut edited);
    workspace.write("tampered.json", &reseal(edited));
    apply_refused(
        &workspace,
        "tampered.json",
        Some(KEY),
        "this run has a plan key in ALTCONTACTS_PLAN_KEY, and the plan was not sealed with one",
    );

    // Another key is a broken seal; no key at all is said as such.
    apply_refused(
        &workspace,
        "plan.json",
        Some("another key"),
        "its seal by the plan key does not match",
    );
    apply_refused(
        &workspace,
        "plan.json",
        None,
        "it is sealed with a plan key, and this run has none",
    );

    let output = workspace
        .sandbox(&["apply", "plan.json"])
        .env("ALTCONTACTS_PLAN_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("Apply complete: 5 created, 1 updated, 1 deleted, 0 failed."));
}
