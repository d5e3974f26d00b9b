//! What shipping needs: the version with its commit, completions, the man
//! page, GitHub annotations, and an action and release workflow that GitHub
//! will accept.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

/// cargo-deny, pinned: the dependencies held to deny.toml.
pub const CARGO_DENY_VERSION: &str = "0.20.2";

/// check-jsonschema, pinned: it carries the JSON Schemas of GitHub workflows
/// and actions (SchemaStore's), so the check needs no network.
pub const CHECK_JSONSCHEMA_VERSION: &str = "0.33.2";
/// zizmor, pinned: the static analyser for GitHub Actions' security.
pub const ZIZMOR_VERSION: &str = "1.32.0";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A pinned Python tool, installed once into target/VENV (`.ci/run` does it
/// first). A missing Python or a failed install fails the test, loudly.
pub fn pinned_tool(venv: &str, package: &str, version: &str, command: &str) -> PathBuf {
    let target = repo().join("target");
    std::fs::create_dir_all(&target).expect("a target folder");
    let venv_dir = target.join(venv);
    let bin = venv_dir.join("bin").join(command);
    let marker = venv_dir.join(format!(".{package}-{version}-installed"));
    let lock = File::create(target.join(format!("{venv}.lock"))).expect("a lock file");
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
            "{command:?} failed (install it with: python3 -m venv target/{venv} && target/{venv}/bin/pip install {package}=={version}): {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    run(Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv_dir));
    run(Command::new(venv_dir.join("bin").join("pip")).args([
        "install",
        "--quiet",
        &format!("{package}=={version}"),
    ]));
    File::create(&marker).expect("the marker");
    bin
}

/// Pinned npm packages, installed once into target/`dir` (`.ci/run`
/// does it first, with the same `marker`); returns that folder. A failed
/// install fails the test, loudly, with the command that installs them.
pub fn pinned_npm(dir: &str, marker: &str, packages: &[String]) -> PathBuf {
    let root = repo().join("target").join(dir);
    std::fs::create_dir_all(&root).expect("a folder under target/");
    let lock = File::create(root.with_extension("lock")).expect("a lock file");
    lock.lock().expect("the lock");
    if !root.join(marker).exists() {
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&root)
            .args(packages)
            .status()
            .expect("npm, from the machine's Node.js");
        assert!(
            status.success(),
            "{} are needed by the tests and could not be installed: npm install --prefix target/{dir} {}",
            packages.join(", "),
            packages.join(" ")
        );
        File::create(root.join(marker)).expect("the marker");
    }
    root
}

/// The example workflows, written where GitHub keeps them, beside a copy
/// of the action: what a user's repository holds.
fn users_repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a folder");
    let workflows = dir.path().join(".github").join("workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    let readme = crate::workflow_runner::example_workflows();
    assert_eq!(
        readme.keys().collect::<Vec<_>>(),
        vec![
            "alternate-contacts-audit.yml",
            "alternate-contacts-new-accounts.yml",
            "alternate-contacts-nightly.yml",
            "alternate-contacts.yml"
        ],
        "examples/github holds the loop's workflows"
    );
    for (name, text) in readme {
        std::fs::write(workflows.join(name), text).unwrap();
    }
    dir
}

#[test]
fn the_action_and_every_workflow_are_valid_for_github() {
    let checker = pinned_tool(
        "schema-venv",
        "check-jsonschema",
        CHECK_JSONSCHEMA_VERSION,
        "check-jsonschema",
    );
    let users = users_repository();
    let mut files = vec![
        ("vendor.github-actions", repo().join("action.yml")),
        (
            "vendor.github-workflows",
            repo().join(".github/workflows/release.yml"),
        ),
        (
            "vendor.github-workflows",
            repo().join(".github/workflows/deny.yml"),
        ),
    ];
    for entry in std::fs::read_dir(users.path().join(".github/workflows")).unwrap() {
        files.push(("vendor.github-workflows", entry.unwrap().path()));
    }
    for (schema, file) in files {
        let output = Command::new(&checker)
            .args(["--builtin-schema", schema])
            .arg(&file)
            .output()
            .expect("run check-jsonschema");
        assert!(
            output.status.success(),
            "{} against {schema}: {}{}",
            file.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// An editor's check of a contacts file (check-jsonschema against the
/// committed schema) agrees with `validate`, null slot included.
#[test]
fn the_committed_schema_refuses_what_validate_refuses_as_an_editor_reads_it() {
    let checker = pinned_tool(
        "schema-venv",
        "check-jsonschema",
        CHECK_JSONSCHEMA_VERSION,
        "check-jsonschema",
    );
    let workspace = Workspace::new();
    workspace.write(
        "good.yaml",
        "version: 1\naccounts:\n  \"111111111111\": { billing: absent }\n",
    );
    workspace.write(
        "null.yaml",
        "version: 1\naccounts:\n  \"111111111111\":\n    security: ~\n",
    );
    for (file, valid) in [("good.yaml", true), ("null.yaml", false)] {
        let schema = Command::new(&checker)
            .arg("--schemafile")
            .arg(repo().join("schema/contacts.schema.json"))
            .arg(workspace.path(file))
            .output()
            .expect("run check-jsonschema");
        let validate = workspace
            .command(&["validate", "-f", file])
            .output()
            .unwrap();
        assert_eq!(
            schema.status.success(),
            valid,
            "check-jsonschema on {file}: {}",
            stdout(&schema)
        );
        assert_eq!(
            validate.status.success(),
            valid,
            "validate on {file}: {}",
            stderr(&validate)
        );
    }
}

#[test]
fn zizmor_finds_nothing_in_the_action_the_release_workflow_or_the_example_workflows() {
    let zizmor = pinned_tool("zizmor-venv", "zizmor", ZIZMOR_VERSION, "zizmor");
    let users = users_repository();
    // The strictest persona: its findings include the ones the default hides.
    let output = Command::new(&zizmor)
        .args(["--offline", "--persona", "pedantic", "--no-progress"])
        .arg(repo().join("action.yml"))
        .arg(repo().join(".github/workflows/release.yml"))
        .arg(repo().join(".github/workflows/deny.yml"))
        .arg(users.path().join(".github/workflows"))
        .output()
        .expect("run zizmor");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "zizmor: {report}");
    assert!(report.contains("No findings to report"), "{report}");
    assert!(
        report.contains("alternate-contacts-nightly.yml"),
        "it read the example workflows: {report}"
    );
}

fn yaml(file: &str) -> serde_yaml::Value {
    let text = std::fs::read_to_string(repo().join(file)).expect("the file");
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn the_docs_document_the_actions_inputs_and_the_release_covers_every_target() {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"], "composite");
    let readme = std::fs::read_to_string(repo().join("docs/gitops.md")).unwrap();
    let inputs: Vec<&str> = action["inputs"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|key| key.as_str().unwrap())
        .collect();
    assert_eq!(
        inputs,
        vec![
            "version",
            "command",
            "args",
            "account",
            "new-accounts-since",
            "working-directory",
            "comment",
            "token"
        ]
    );
    for input in &inputs {
        assert!(
            readme.contains(&format!("| `{input}` |")),
            "the docs' table of the action's inputs lacks {input}"
        );
    }
    for output in ["exit-code", "summary", "truncated", "plan-file"] {
        assert!(action["outputs"].get(output).is_some(), "output {output}");
        assert!(
            readme.contains(&format!("`{output}`")),
            "the docs name output {output}"
        );
    }

    let release = yaml(".github/workflows/release.yml");
    let targets: Vec<&str> = release["jobs"]["build"]["strategy"]["matrix"]["include"]
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
    let publish = serde_yaml::to_string(&release["jobs"]["publish"]).unwrap();
    assert!(
        publish.contains("ssh-keygen -Y sign"),
        "releases are signed"
    );
    assert!(
        publish.contains("actions/attest-build-provenance@"),
        "releases are attested"
    );
}

/// The action refuses a binary whose signature does not verify against
/// the key in its own commit: a release whose files were swapped.
#[test]
fn the_action_refuses_a_binary_that_was_swapped_in_the_release() {
    let github = crate::github_api::GitHub::start();
    let aws = crate::emulator::Emulator::start("999999999999", None, Default::default());
    let world = crate::workflow_runner::World::new(github, aws);
    // Another key signs a tampered archive, and its signature replaces the release's.
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("attacker");
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(ok.success());
    let archive = format!(
        "altcontacts-{}.tar.gz",
        match std::env::consts::ARCH {
            "aarch64" => "aarch64-unknown-linux-musl",
            _ => "x86_64-unknown-linux-musl",
        }
    );
    std::fs::write(dir.path().join("altcontacts"), "#!/bin/sh\necho owned\n").unwrap();
    let tar = Command::new("tar")
        .current_dir(dir.path())
        .args(["-czf", &archive, "altcontacts"])
        .status()
        .unwrap();
    assert!(tar.success());
    let signed = Command::new("ssh-keygen")
        .current_dir(dir.path())
        .args([
            "-Y",
            "sign",
            "-q",
            "-f",
            "attacker",
            "-n",
            "altcontacts-release",
            &archive,
        ])
        .status()
        .unwrap();
    assert!(signed.success());
    let read = |name: &str| std::sync::Arc::new(std::fs::read(dir.path().join(name)).unwrap());
    world.github.publish_release(
        &crate::workflow_runner::release_tag(),
        vec![
            (archive.clone(), read(&archive)),
            (format!("{archive}.sig"), read(&format!("{archive}.sig"))),
        ],
    );
    crate::git_remote::git(&world.dev, &["checkout", "-q", "-b", "change"]);
    world.commit(
        &[(
            "contacts.yaml",
            "version: 1\naccounts:\n  \"999999999999\": { billing: absent }\n",
        )],
        "A change",
    );
    let run = world.run("alternate-contacts.yml", &world.pull_request(1));
    assert!(!run.succeeded());
    assert!(
        run.log().contains("does not verify: refusing to run it"),
        "{}",
        run.log()
    );
    assert!(!run.log().contains("owned"), "the swapped binary never ran");
    assert!(world.github.comments(1).is_empty());
}

/// A signed archive of another release (an older one, served in the
/// pinned tag's place) verifies: the action refuses it for its version.
#[test]
fn the_action_refuses_another_signed_release_in_the_pinned_one_s_place() {
    let github = crate::github_api::GitHub::start();
    let aws = crate::emulator::Emulator::start("999999999999", None, Default::default());
    let world = crate::workflow_runner::World::new(github, aws);
    world.github.publish_release(
        &crate::workflow_runner::release_tag(),
        crate::release::another_signed_release(),
    );
    crate::git_remote::git(&world.dev, &["checkout", "-q", "-b", "change"]);
    world.commit(
        &[(
            "contacts.yaml",
            "version: 1\naccounts:\n  \"999999999999\": { billing: absent }\n",
        )],
        "A change",
    );
    let run = world.run("alternate-contacts.yml", &world.pull_request(1));
    assert!(!run.succeeded());
    assert!(
        run.log().contains(
            "downloaded is another (altcontacts 0.0.9 (0123456789ab)): refusing to run it"
        ),
        "{}",
        run.log()
    );
    assert!(!run.log().contains("owned"), "the other release never ran");
    assert!(world.github.comments(1).is_empty());
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
    // Every page the main page refers to is one `manpage --dir` writes.
    let referred: std::collections::BTreeSet<String> = text
        .split("altcontacts\\-")
        .skip(1)
        .filter_map(|rest| {
            rest.split_once("(1)")
                .map(|(name, _)| name.replace("\\-", "-"))
        })
        .filter(|name| name.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .collect();
    assert!(
        referred.contains("plan") && referred.contains("member-role"),
        "{referred:?}"
    );
    let pages = workspace.path("man/man1");
    let written = workspace
        .command(&["manpage", "--dir", "man/man1"])
        .output()
        .unwrap();
    assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
    for name in &referred {
        let page = pages.join(format!("altcontacts-{name}.1"));
        let roff = std::fs::read_to_string(&page).unwrap_or_else(|_| panic!("no {page:?}"));
        assert!(
            roff.contains(&format!(".TH altcontacts-{name} 1")),
            "{roff}"
        );
    }
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
    assert_eq!(
        crate::support::without_stop_commands(&stdout(&plan)),
        stdout(&output)
    );
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

/// The component as GitLab expands it for one include: its header, and
/// its jobs with the include's inputs (or their defaults) in place.
fn expanded_component(inputs: &serde_yaml::Mapping) -> (String, String) {
    let component = crate::pipeline_runner::component();
    let (header, body) = component
        .split_once("\n---\n")
        .expect("a component has a spec header");
    let spec: serde_yaml::Value = serde_yaml::from_str(header).expect("the header is YAML");
    let mut values = std::collections::BTreeMap::new();
    for (name, input) in spec["spec"]["inputs"].as_mapping().expect("inputs") {
        let name = name.as_str().unwrap().to_owned();
        let given = inputs.get(name.as_str()).or_else(|| input.get("default"));
        let value = given
            .and_then(serde_yaml::Value::as_str)
            .unwrap_or_else(|| panic!("input {name} has no value"));
        if let Some(options) = input
            .get("options")
            .and_then(serde_yaml::Value::as_sequence)
        {
            assert!(
                options.iter().any(|option| option.as_str() == Some(value)),
                "{name}: {value} is not one of its options"
            );
        }
        values.insert(name, value.to_owned());
    }
    let pattern = regex::Regex::new(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]").unwrap();
    let body = pattern.replace_all(body, |captures: &regex::Captures| {
        values
            .get(&captures[1])
            .cloned()
            .unwrap_or_else(|| panic!("no input {}", &captures[1]))
    });
    (header.to_owned(), body.into_owned())
}

#[test]
fn the_component_and_the_docs_pipeline_pass_gitlabs_ci_schema_as_gitlab_expands_them() {
    let checker = pinned_tool(
        "schema-venv",
        "check-jsonschema",
        CHECK_JSONSCHEMA_VERSION,
        "check-jsonschema",
    );
    let dir = tempfile::tempdir().unwrap();
    let example = crate::pipeline_runner::example_pipeline();
    let mut files = vec![repo().join("examples/gitlab/.gitlab-ci.yml")];
    let pipeline: serde_yaml::Value = serde_yaml::from_str(&example).unwrap();
    let includes = pipeline["include"].as_sequence().unwrap();
    assert_eq!(
        includes.len(),
        5,
        "the docs include the component once per step"
    );
    for (n, include) in includes.iter().enumerate() {
        let inputs = include["inputs"].as_mapping().unwrap();
        let (header, body) = expanded_component(inputs);
        for (part, text) in [("header", header), ("jobs", body)] {
            let path = dir.path().join(format!("component-{n}-{part}.yml"));
            std::fs::write(&path, text).unwrap();
            files.push(path);
        }
    }
    let output = Command::new(&checker)
        .args(["--builtin-schema", "vendor.gitlab-ci"])
        .args(&files)
        .output()
        .expect("run check-jsonschema");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_component_verifies_against_the_release_key_of_its_own_commit_and_runs_its_own_version() {
    let component = crate::pipeline_runner::component();
    let keys = |lines: Vec<&str>| -> Vec<String> {
        lines
            .into_iter()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(str::to_owned)
            .collect()
    };
    let signers = std::fs::read_to_string(repo().join(".github/release-signers")).unwrap();
    assert_eq!(
        keys(crate::pipeline_runner::component_signers(&component)),
        keys(signers.lines().collect()),
        "the component's release key is .github/release-signers's"
    );
    let (header, _) = component.split_once("\n---\n").unwrap();
    let spec: serde_yaml::Value = serde_yaml::from_str(header).unwrap();
    assert_eq!(
        spec["spec"]["inputs"]["version"]["default"].as_str(),
        Some(env!("CARGO_PKG_VERSION")),
        "the component runs the release of its own version"
    );
}

/// The pinned cargo-deny, installed once into target/cargo-deny (`.ci/run`
/// does it first). A failed install fails the test, loudly.
fn cargo_deny() -> PathBuf {
    let root = repo().join("target").join("cargo-deny");
    let marker = root.join(format!(".cargo-deny-{CARGO_DENY_VERSION}-installed"));
    std::fs::create_dir_all(&root).expect("target/cargo-deny");
    let lock = File::create(root.with_extension("lock")).expect("a lock file");
    lock.lock().expect("the lock");
    if !marker.exists() {
        let status = Command::new("cargo")
            .args(["install", "cargo-deny", "--locked", "--debug", "--version"])
            .arg(CARGO_DENY_VERSION)
            .arg("--root")
            .arg(&root)
            .status()
            .expect("cargo install cargo-deny");
        assert!(
            status.success(),
            "cargo-deny {CARGO_DENY_VERSION} is needed to check the dependencies and could not be installed: \
             cargo install cargo-deny --locked --debug --version {CARGO_DENY_VERSION} --root target/cargo-deny"
        );
        File::create(&marker).expect("the marker");
    }
    root.join("bin").join("cargo-deny")
}

/// What works offline of deny.toml (the advisories need the RustSec
/// database, which deny.yml reads on GitHub every day): every dependency's
/// license allowed, no banned crate (the AWS crates' legacy HTTP and TLS
/// stack among them), every crate from crates.io.
#[test]
fn the_dependencies_pass_cargo_denys_license_ban_and_source_checks() {
    let cargo_deny = cargo_deny();
    // cargo-deny reads every platform's dependencies (the Windows ones
    // too), which a Linux build never downloads: fetched here, so the
    // offline check needs nothing a fresh machine lacks.
    let fetch = Command::new("cargo")
        .current_dir(repo())
        .args(["fetch", "--locked"])
        .output()
        .expect("run cargo fetch");
    assert!(
        fetch.status.success(),
        "cargo fetch --locked: {}",
        String::from_utf8_lossy(&fetch.stderr)
    );
    let output = Command::new(cargo_deny)
        .current_dir(repo())
        .args(["--offline", "check", "licenses", "bans", "sources"])
        .output()
        .expect("run cargo-deny");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{report}");
    assert!(
        report.contains("bans ok, licenses ok, sources ok"),
        "{report}"
    );
    let workflow = std::fs::read_to_string(repo().join(".github/workflows/deny.yml")).unwrap();
    assert!(
        workflow.contains(&format!("cargo-deny --version {CARGO_DENY_VERSION}")),
        "deny.yml runs the cargo-deny the tests pin"
    );
}
