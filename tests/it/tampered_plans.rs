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
    run_refused(workspace, &["apply", name], key, message)
}

/// Runs `args` on the sandbox, with `key` in ALTCONTACTS_PLAN_KEY if
/// given, asserts exit 3 with `message` and that the sandbox file is
/// byte for byte as it was, and returns stderr.
fn run_refused(workspace: &Workspace, args: &[&str], key: Option<&str>, message: &str) -> String {
    let before = workspace.read("sandbox.yaml");
    let mut apply = workspace.sandbox(args);
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

/// Seals an edited plan as `plan --out` seals one with `key`: the test
/// holds the key, so what it reseals is a plan the key's holder made.
fn reseal_with_key(mut plan: serde_json::Value, key: &str) -> String {
    use hmac::{KeyInit, Mac};
    plan["seal"] = serde_json::Value::String(String::new());
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(&serde_json::to_vec(&plan).unwrap());
    let hex = hex::encode(mac.finalize().into_bytes());
    plan["seal"] = serde_json::Value::String(format!("hmac-sha256:{hex}"));
    serde_json::to_string_pretty(&plan).unwrap()
}

/// A plan made with `KEY`, as `plan --out` wrote it.
fn keyed_plan(workspace: &Workspace) -> serde_json::Value {
    let plan = workspace
        .sandbox(&["plan", "--out", "plan.json"])
        .env("ALTCONTACTS_PLAN_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    saved(workspace)
}

/// `plan`, made `seconds` earlier than it says (later, when negative)
/// and sealed again with `KEY`.
fn made_earlier(mut plan: serde_json::Value, seconds: i64) -> String {
    use altcontacts::model::Timestamp;
    let made = Timestamp::parse_rfc3339(plan["created_at"].as_str().unwrap()).unwrap();
    plan["created_at"] = Timestamp(made.0 - seconds).rfc3339().into();
    reseal_with_key(plan, KEY)
}

fn applied(workspace: &Workspace, args: &[&str], key: Option<&str>) {
    let mut apply = workspace.sandbox(args);
    if let Some(key) = key {
        apply.env("ALTCONTACTS_PLAN_KEY", key);
    }
    let output = apply.output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("Apply complete: 5 created, 1 updated, 1 deleted, 0 failed."),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_plan_older_than_the_max_plan_age_is_refused_and_a_larger_one_takes_it() {
    let workspace = Workspace::org();
    let plan = keyed_plan(&workspace);
    // Made by the key's holder 25 hours ago: the default takes a day.
    workspace.write("old.json", &made_earlier(plan.clone(), 25 * 3_600));
    let refusal = run_refused(
        &workspace,
        &["apply", "old.json"],
        Some(KEY),
        "refusing the plan, nothing was written: it was made 25h ago (",
    );
    assert!(
        refusal.contains("and apply takes plans up to 24h old (--max-plan-age)")
            && refusal.contains("help: make a new plan (altcontacts plan --out plan.json), review it, and apply that; if this plan is still the one to apply, raise the limit, e.g. --max-plan-age 7d"),
        "{refusal}"
    );
    run_refused(
        &workspace,
        &["apply", "--max-plan-age", "90m", "old.json"],
        Some(KEY),
        "and apply takes plans up to 1h 30m old",
    );
    // The limit is the apply's to set, however small.
    run_refused(
        &workspace,
        &["apply", "--max-plan-age", "0s", "old.json"],
        Some(KEY),
        "up to 0s old",
    );
    applied(
        &workspace,
        &["apply", "--max-plan-age", "2d", "old.json"],
        Some(KEY),
    );
}

#[test]
fn a_plan_from_the_future_is_refused_past_a_few_minutes_of_clock_skew() {
    let workspace = Workspace::org();
    let plan = keyed_plan(&workspace);
    workspace.write("future.json", &made_earlier(plan.clone(), -3_600));
    let refusal = run_refused(
        &workspace,
        &["apply", "--max-plan-age", "7d", "future.json"],
        Some(KEY),
        "after this run's clock (",
    );
    assert!(
        refusal.contains("more than the 5m of clock skew allowed")
            && refusal.contains("help: check the clocks"),
        "{refusal}"
    );
    // A minute ahead is a clock a little off, not a plan from the future.
    workspace.write("skewed.json", &made_earlier(plan, -60));
    applied(&workspace, &["apply", "skewed.json"], Some(KEY));
}

#[test]
fn a_plan_made_at_a_commit_head_has_not_merged_is_refused() {
    use crate::git_remote::git;
    let workspace = Workspace::org();
    let dir = workspace.path("");
    git(&dir, &["init", "-q", "-b", "main"]);
    git(&dir, &["add", "contacts.yaml"]);
    git(&dir, &["commit", "-q", "-m", "contacts"]);
    let main = git(&dir, &["rev-parse", "HEAD"]);
    // An unreviewed branch: the contacts file is the same, the commit not.
    git(&dir, &["checkout", "-q", "-b", "unreviewed"]);
    workspace.write("README.md", "a change under review\n");
    git(&dir, &["add", "README.md"]);
    git(&dir, &["commit", "-q", "-m", "unreviewed"]);
    let branch = git(&dir, &["rev-parse", "HEAD"]);
    let plan = keyed_plan(&workspace);
    assert_eq!(plan["commit"], branch.as_str(), "the plan records HEAD");

    git(&dir, &["checkout", "-q", "main"]);
    let refusal = run_refused(
        &workspace,
        &["apply", "plan.json"],
        Some(KEY),
        &format!(
            "refusing the plan, nothing was written: it was made at commit {branch}, which is neither this checkout's HEAD ({main}) nor in its history"
        ),
    );
    assert!(
        refusal
            .contains("help: a plan made on a branch is applied only where that branch was merged"),
        "{refusal}"
    );

    // A commit this clone has never seen cannot be told merged either.
    let mut unknown = plan.clone();
    unknown["commit"] = "0123456789abcdef0123456789abcdef01234567".into();
    workspace.write("unknown.json", &reseal_with_key(unknown, KEY));
    run_refused(
        &workspace,
        &["apply", "unknown.json"],
        Some(KEY),
        &format!(
            "it was made at commit 0123456789abcdef0123456789abcdef01234567, which this clone does not have, so whether this checkout's HEAD ({main}) contains it cannot be told"
        ),
    );

    // Merged (and main moved on since), the same plan is applied.
    git(
        &dir,
        &["merge", "-q", "--no-ff", "-m", "merge", "unreviewed"],
    );
    applied(&workspace, &["apply", "plan.json"], Some(KEY));
}

#[test]
fn an_empty_plan_key_is_an_error_not_no_key() {
    let workspace = Workspace::org();
    let output = workspace
        .sandbox(&["plan", "--out", "plan.json"])
        .env("ALTCONTACTS_PLAN_KEY", "")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "ALTCONTACTS_PLAN_KEY is set but empty (a CI secret that did not resolve?), so no plan was made"
        ),
        "{}",
        stderr(&output)
    );
    assert!(!workspace.exists("plan.json"));
    // Without --out, the key is not used: an empty one is no matter.
    let output = workspace
        .sandbox(&["plan"])
        .env("ALTCONTACTS_PLAN_KEY", "")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    // An unkeyed plan, applied where the key's secret did not resolve.
    workspace.run(&["plan", "--out", "plan.json"]).code(0);
    let refusal = apply_refused(
        &workspace,
        "plan.json",
        Some(""),
        "refusing the plan, nothing was written: ALTCONTACTS_PLAN_KEY is set but empty",
    );
    assert!(
        refusal.contains("help: give the apply job the plan key secret"),
        "{refusal}"
    );
}

#[test]
fn require_plan_key_refuses_an_unkeyed_plan_and_takes_a_keyed_one() {
    let workspace = Workspace::org();
    workspace.run(&["plan", "--out", "unkeyed.json"]).code(0);
    run_refused(
        &workspace,
        &["apply", "--require-plan-key", "unkeyed.json"],
        None,
        "--require-plan-key is given and this run has no plan key in ALTCONTACTS_PLAN_KEY",
    );
    run_refused(
        &workspace,
        &["apply", "--require-plan-key", "unkeyed.json"],
        Some(KEY),
        "this run has a plan key in ALTCONTACTS_PLAN_KEY, and the plan was not sealed with one",
    );
    keyed_plan(&workspace);
    run_refused(
        &workspace,
        &["apply", "--require-plan-key", "plan.json"],
        None,
        "--require-plan-key is given",
    );
    applied(
        &workspace,
        &["apply", "--require-plan-key", "plan.json"],
        Some(KEY),
    );
}

#[test]
fn a_resealed_plan_that_drops_or_moves_a_subscription_is_refused() {
    // The demo: the management account's SECURITY contact is unsubscribed
    // from AWS-Health/Security.
    let (workspace, _) = Workspace::example();
    workspace.run(&["plan", "--out", "plan.json"]).code(0);
    let plan = saved(&workspace);
    let position = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .position(|change| change["action"] == "subscribe")
        .expect("the demo plans a subscription");

    let mut dropped = plan.clone();
    dropped["changes"].as_array_mut().unwrap().remove(position);
    refused(
        &workspace,
        &reseal(dropped),
        "it leaves out the change of 111111111111 SECURITY to AWS-Health/Security the file yields",
    );

    let mut moved = plan;
    moved["changes"][position]["topic"] = "AWS-Health/Issue".into();
    refused(
        &workspace,
        &reseal(moved),
        "it changes 111111111111 SECURITY to AWS-Health/Issue, which the file leaves as it is",
    );
}
