//! What shipping needs: the version with its commit, completions, the man
//! page, GitHub annotations, and an action and release workflow that GitHub
//! will accept.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

/// check-jsonschema, pinned: it carries the JSON Schemas of GitHub workflows
/// and actions (SchemaStore's), so the check needs no network.
pub const CHECK_JSONSCHEMA_VERSION: &str = "0.33.2";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Installs check-jsonschema once into target/schema-venv (`.ci/run` does it
/// first). A missing Python or a failed install fails the test, loudly.
fn check_jsonschema() -> PathBuf {
    let target = repo().join("target");
    std::fs::create_dir_all(&target).expect("a target folder");
    let venv = target.join("schema-venv");
    let bin = venv.join("bin").join("check-jsonschema");
    let marker = venv.join(format!(
        ".check-jsonschema-{CHECK_JSONSCHEMA_VERSION}-installed"
    ));
    let lock = File::create(target.join("schema-venv.lock")).expect("a lock file");
    lock.lock().expect("the lock");
    if marker.exists() {
        return bin;
    }
    let run = |command: &mut Command| {
        let output = command
            .output()
            .unwrap_or_else(|e| panic!("{command:?}: {e}"));
        assert!(
            output.status.success(),
            "{command:?} failed (install it with: python3 -m venv target/schema-venv && target/schema-venv/bin/pip install check-jsonschema=={CHECK_JSONSCHEMA_VERSION}): {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    run(Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv));
    run(Command::new(venv.join("bin").join("pip")).args([
        "install",
        "--quiet",
        &format!("check-jsonschema=={CHECK_JSONSCHEMA_VERSION}"),
    ]));
    File::create(&marker).expect("the marker");
    bin
}

#[test]
fn the_action_and_the_release_workflow_are_valid_for_github() {
    let checker = check_jsonschema();
    for (schema, file) in [
        ("vendor.github-actions", "action.yml"),
        ("vendor.github-workflows", ".github/workflows/release.yml"),
    ] {
        let output = Command::new(&checker)
            .args(["--builtin-schema", schema])
            .arg(repo().join(file))
            .output()
            .expect("run check-jsonschema");
        assert!(
            output.status.success(),
            "{file} against {schema}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn yaml(file: &str) -> serde_yaml::Value {
    let text = std::fs::read_to_string(repo().join(file)).expect("the file");
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn the_action_takes_the_documented_inputs_and_gives_the_outputs() {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"], "composite");
    for input in ["version", "command", "args", "working-directory", "comment"] {
        assert!(
            action["inputs"].get(input).is_some(),
            "input {input} is missing"
        );
    }
    for output in ["exit-code", "summary"] {
        assert!(action["outputs"].get(output).is_some(), "output {output}");
    }
    let steps = serde_yaml::to_string(&action["runs"]["steps"]).unwrap();
    assert!(steps.contains("sha256sum -c"), "the download is checked");
    assert!(
        steps.contains("<!-- altcontacts-plan -->"),
        "one comment, replaced"
    );

    let release = yaml(".github/workflows/release.yml");
    let targets: Vec<&str> = release["jobs"]["upload-binaries"]["strategy"]["matrix"]["include"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|entry| entry["target"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        vec![
            "x86_64-unknown-linux-musl",
            "aarch64-unknown-linux-musl",
            "aarch64-apple-darwin",
            "x86_64-apple-darwin"
        ]
    );
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let output = Workspace::new().command(&["--version"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    let version = format!("altcontacts {} (", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&version), "{text}");
    let commit = text
        .trim_end()
        .trim_start_matches(&version)
        .trim_end_matches(')');
    assert!(
        commit == "unknown commit"
            || (commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{text}"
    );
}

#[test]
fn completions_and_the_man_page_come_out_of_the_binary() {
    let workspace = Workspace::new();
    for (shell, marker) in [
        ("bash", "complete -F _altcontacts"),
        ("zsh", "#compdef altcontacts"),
        ("fish", "complete -c altcontacts"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let output = workspace.command(&["completions", shell]).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let text = stdout(&output);
        assert!(
            text.contains(marker),
            "{shell}: {}",
            &text[..text.len().min(200)]
        );
        assert!(text.contains("joined-since"), "{shell} knows the flags");
    }
    let man = workspace.command(&["manpage"]).output().unwrap();
    assert_eq!(man.status.code(), Some(0));
    let text = stdout(&man);
    assert!(text.contains(".TH altcontacts 1"), "{text}");
    assert!(text.contains("plan") && text.contains("audit"), "{text}");
}

const INVALID: &str = r#"version: 1
contacts:
  sec: { name: Sec, title: Ops, email_address: sec-at-example.com, phone_number: "+1 202 555 0100" }
accounts:
  012345678901:
    security: sec
"#;

#[test]
fn github_annotations_put_each_problem_on_its_line() {
    let workspace = Workspace::new();
    workspace.write("contacts.yaml", INVALID);
    let output = workspace
        .command(&["validate", "--format", "github"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "::error file=contacts.yaml,line=3,col=48,title=altcontacts%3A invalid contacts file::\"sec-at-example.com\" is not an email address AWS accepts: use local@domain.tld with letters, digits and + = . # | ! & - _ before the @\n\
         ::error file=contacts.yaml,line=5,col=3,title=altcontacts%3A invalid contacts file::account ID 012345678901 must be a quoted string%0Ahelp: write it in quotes, e.g. \"012345678901\": unquoted, YAML tools read it as a number and drop leading zeros\n"
    );
    // The error is still said once on stderr, for a person.
    assert!(stderr(&output).starts_with("error: contacts.yaml is not valid (2 problems)"));

    // In GitHub Actions, plan annotates too when the file is invalid.
    let plan = workspace
        .command(&["--sandbox", "sandbox.yaml", "plan"])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(1));
    assert_eq!(stdout(&plan), stdout(&output));
    assert!(!workspace.exists("sandbox.yaml"), "nothing was opened");

    workspace.write(
        "contacts.yaml",
        "version: 1\naccounts:\n  \"111111111111\": { billing: absent }\n",
    );
    let valid = workspace
        .command(&["validate", "--format", "github"])
        .output()
        .unwrap();
    assert_eq!(valid.status.code(), Some(0));
    assert_eq!(stdout(&valid), "", "a valid file has nothing to annotate");
}
