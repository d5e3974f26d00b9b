//! Input the way users really write it, and input that is wrong: every case
//! gets a clear answer and a non-zero exit, never a panic, and nothing is
//! asked of AWS.

use crate::support::*;

const CONTACT: &str =
    r#"{ name: Sec, title: Ops, email_address: sec@example.com, phone_number: "+1 202 555 0100" }"#;

fn config(extra: &str) -> String {
    format!("version: 1\naccounts:\n  \"111111111111\":\n    security: {CONTACT}\n{extra}")
}

#[test]
fn rates_outside_the_accepted_range_are_errors_that_name_their_place() {
    let workspace = Workspace::new();
    workspace.write("contacts.yaml", &config(""));
    for flag in ["get=1e-300", "put=0", "delete=20000", "get=NaN"] {
        let output = workspace
            .command(&["--rate", flag, "validate"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{flag}");
        let text = stderr(&output);
        assert!(text.contains("--rate"), "the flag is named: {text}");
        assert!(text.contains("from 0.01 to 10000"), "{text}");
        assert!(!text.contains("panicked"), "{text}");
    }
    workspace.write(
        "contacts.yaml",
        &config("rate: { put: 1e-300, get: 0.01, delete: 10001 }\n"),
    );
    let output = workspace.command(&["validate"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains("contacts.yaml:5:14"),
        "put is located: {text}"
    );
    assert!(
        text.contains("contacts.yaml:5:41"),
        "delete is located: {text}"
    );
    assert!(!text.contains(":5:27"), "0.01 is accepted: {text}");
}

#[test]
fn a_safety_value_beyond_the_integer_range_is_an_error_not_the_default() {
    let workspace = Workspace::new();
    workspace.write(
        "contacts.yaml",
        &config("safety: { max_deletes: 4294967296 }\n"),
    );
    let output = workspace.command(&["validate"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains("contacts.yaml:5:24")
            && text.contains("`max_deletes` must be a whole number from 0 to 4294967295"),
        "{text}"
    );
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_document() {
    let workspace = Workspace::new();
    workspace.write("contacts.yaml", &format!("\u{feff}{}", config("")));
    let output = workspace.command(&["validate"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // And a saved plan of it applies: its digest ignores the mark too.
    workspace.write(
        "sandbox.yaml",
        "caller: \"111111111111\"\naccounts:\n  \"111111111111\": {}\n",
    );
    workspace.run(&["plan", "--out", "plan.json"]).code(0);
    workspace.run(&["apply", "plan.json"]).code(0);
}

#[test]
fn merge_keys_work_and_problems_point_at_the_line_written() {
    let workspace = Workspace::new();
    let text = r#"version: 1
contacts:
  base: &base
    title: Security
    email_address: sec@example.com
    phone_number: "+1 202 555 0100"
  alice:
    <<: *base
    name: Alice
  bob:
    <<: *base
    name: Bob
    email_address: bob-at-example.com
accounts:
  "111111111111": { security: alice, billing: bob }
"#;
    workspace.write("contacts.yaml", text);
    let output = workspace.command(&["validate"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let errors = stderr(&output);
    // `base` has no name: that is its own problem, at its own line...
    assert!(errors.contains("contacts.yaml:3:"), "{errors}");
    // ...bob's own address wins over the merged one, and is located there.
    assert!(
        errors.contains("contacts.yaml:13:20") && errors.contains("bob-at-example.com"),
        "{errors}"
    );
    assert!(
        !errors.contains("contacts.yaml:7:"),
        "alice is whole: {errors}"
    );

    let fixed = text
        .replace("bob-at-example.com", "bob@example.com")
        .replace("  base: &base\n", "  base: &base\n    name: Base\n");
    workspace.write("contacts.yaml", &fixed);
    workspace.write(
        "sandbox.yaml",
        "caller: \"111111111111\"\naccounts:\n  \"111111111111\": {}\n",
    );
    let plan = workspace
        .sandbox(&["plan", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let plan = json(&plan);
    let after = |kind: &str| {
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|change| change["contact_type"] == kind)
            .map(|change| change["after"].clone())
            .unwrap()
    };
    assert_eq!(after("SECURITY")["name"], "Alice");
    assert_eq!(after("SECURITY")["title"], "Security", "merged from base");
    assert_eq!(after("BILLING")["email_address"], "bob@example.com");
}

#[test]
fn the_advice_fits_what_the_path_is() {
    let workspace = Workspace::new();
    std::fs::create_dir(workspace.path("conf")).unwrap();
    let output = workspace
        .command(&["validate", "-f", "conf"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("help: conf is a directory"), "{text}");
    assert!(!text.contains("create conf"), "{text}");

    std::fs::write(
        workspace.path("binary.yaml"),
        [0xff, 0xfe, 0x00, 0x80, 0x81],
    )
    .unwrap();
    let output = workspace
        .command(&["validate", "-f", "binary.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("is not a UTF-8 text file"), "{text}");
    assert!(!text.contains("create binary.yaml"), "{text}");
}

#[test]
fn the_parsers_own_errors_say_what_to_do_next_like_every_other() {
    let workspace = Workspace::new();
    // A billion laughs: nine levels of ten aliases each.
    let mut laughs =
        String::from("version: 1\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..9 {
        let previous = format!("*l{}", level - 1);
        let row = [previous.as_str(); 10].join(", ");
        laughs.push_str(&format!("l{level}: &l{level} [{row}]\n"));
    }
    let cases = [
        (
            "tabs",
            "version: 1\naccounts:\n\t\"111111111111\": {}\n".to_owned(),
            "contacts.yaml:3:1: found character that cannot start any token",
            "help: YAML indents with spaces, never tabs: replace the tab on line 3 with spaces",
        ),
        (
            "recursion",
            format!("version: 1\nx: {}\n", "[".repeat(200)),
            "recursion limit exceeded",
            "help: collections nest at most 128 levels deep",
        ),
        (
            "repetition",
            laughs,
            "repetition limit exceeded",
            "help: a document holds at most 1,000,000 values, an alias (`*name`) counting as all it repeats",
        ),
        (
            "a missing colon",
            "version: 1\naccounts:\n  \"111111111111\" {}\n".to_owned(),
            "contacts.yaml:3:",
            "help: check the YAML here: a `: ` after each key",
        ),
        (
            "two documents",
            format!("{}---\nversion: 1\n", config("")),
            "more than one document",
            "help: a contacts file is one document: remove this `---`",
        ),
    ];
    for (case, text, message, help) in cases {
        workspace.write("contacts.yaml", &text);
        for args in [&["validate"][..], &["--sandbox", "sandbox.yaml", "plan"]] {
            let output = workspace.command(args).output().unwrap();
            let said = stderr(&output);
            assert_eq!(output.status.code(), Some(1), "{case}, {args:?}: {said}");
            assert!(said.contains(message), "{case}, {args:?}: {said}");
            assert!(said.contains(help), "{case}, {args:?}: {said}");
        }
        assert!(
            !workspace.path("sandbox.yaml").exists(),
            "{case}: nothing was written"
        );
    }
}

/// A summary line a value could forge, written in YAML as a `\n` escape.
const FORGED: &str = r"\nPlan: 0 to create, 0 to update, 0 to delete, 3 unchanged.";

#[test]
fn a_line_break_escaped_in_a_value_stays_escaped_in_the_message_that_quotes_it() {
    let workspace = Workspace::org();
    let sandbox_before = workspace.read("sandbox.yaml");
    for (what, file, message) in [
        (
            "an unknown contact",
            format!("version: 1\naccounts:\n  \"111111111111\":\n    security: \"nob{FORGED}\"\n"),
            format!("unknown contact `nob{FORGED}`"),
        ),
        (
            "an unknown key",
            format!("version: 1\naccounts:\n  \"111111111111\":\n    \"nob{FORGED}\": {CONTACT}\n"),
            format!("unknown key `nob{FORGED}` in an account entry"),
        ),
        (
            "an account ID",
            format!("version: 1\naccounts:\n  \"nob{FORGED}\":\n    security: {CONTACT}\n"),
            format!("`nob{FORGED}` is not an account ID"),
        ),
    ] {
        workspace.write("contacts.yaml", &file);
        for args in [&["validate"][..], &["plan"], &["apply", "--auto-approve"]] {
            // `validate` makes no AWS call, and takes no sandbox.
            let output = match args {
                ["validate"] => workspace.command(args),
                _ => workspace.sandbox(args),
            }
            .output()
            .unwrap();
            let (said, printed) = (stderr(&output), stdout(&output));
            assert_eq!(output.status.code(), Some(1), "{what} {args:?}: {said}");
            assert!(said.contains(&message), "{what} {args:?}: {said}");
            let forged: Vec<&str> = said
                .lines()
                .chain(printed.lines())
                .filter(|line| line.trim_start().starts_with("Plan:"))
                .collect();
            assert!(
                forged.is_empty(),
                "{what} {args:?} forged {forged:?}: {said}"
            );
        }
        assert_eq!(
            workspace.read("sandbox.yaml"),
            sandbox_before,
            "{what}: nothing written"
        );
    }
}
