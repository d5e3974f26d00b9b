//! Shared fixtures: a scratch directory per test, the real binary run in it,
//! and a small sandbox organization with a contacts file for it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::assert::Assert;
use assert_cmd::prelude::*;

pub const BIN: &str = env!("CARGO_BIN_EXE_altcontacts");

/// A sandbox organization: 111 (management, stale SECURITY), 222 in
/// Root/Prod (a BILLING to delete, an unmanaged OPERATIONS), 333 in
/// Root/Prod/Data (nothing set), 444 suspended.
pub const ORG_SANDBOX: &str = r#"caller: "111111111111"
organization:
  management_account: "111111111111"
  root_id: r-test
  units:
    Root/Prod: ou-test-prod0001
    Root/Prod/Data: ou-test-data0001
  # `altcontacts guardrail`'s policy, on the root: only the pipeline
  # changes contacts.
  policies:
    altcontacts-guardrail:
      targets: [Root]
      document: '{"Version":"2012-10-17","Statement":[{"Sid":"AltcontactsOnlyThePipelineChangesContacts","Effect":"Deny","Action":["account:PutAlternateContact","account:DeleteAlternateContact","account:PutContactInformation","notifications:AssociateManagedNotificationAccountContact","notifications:DisassociateManagedNotificationAccountContact"],"Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::111111111111:role/altcontacts-apply"]}}}]}'
accounts:
  "111111111111":
    name: Management
    contacts:
      security:
        name: Security Team
        title: Security
        email_address: old-security@example.com
        phone_number: "+1 202 555 0100"
  "222222222222":
    name: Prod App
    ou: Root/Prod
    contacts:
      billing:
        name: Prod Finance
        title: Controller
        email_address: prod-finance@example.com
        phone_number: "+1 202 555 0101"
      operations:
        name: Legacy Ops
        title: Operations
        email_address: legacy-ops@example.com
        phone_number: "+1 202 555 0102"
  "333333333333":
    name: Data
    ou: Root/Prod/Data
  "444444444444":
    name: Closed
    status: SUSPENDED
    ou: Root/Prod
"#;

pub const ORG_CONFIG: &str = r#"version: 1
contacts:
  security-team:
    name: Security Team
    title: Security
    email_address: security@example.com
    phone_number: "+1 202 555 0100"
  finance:
    name: Finance
    title: Accounts Payable
    email_address: billing@example.com
    phone_number: "+1 202 555 0199"
organization:
  defaults:
    security: security-team
    billing: finance
  units:
    Root/Prod/Data:
      operations:
        name: Data On-Call
        title: Data Engineering
        email_address: data-oncall@example.com
        phone_number: "+1 202 555 0177"
accounts:
  "222222222222":
    billing: absent
"#;

/// A scratch directory; commands run inside it with relative paths, so
/// outputs do not depend on where the test runs.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// With `sandbox.yaml` and `contacts.yaml` from the organization fixtures.
    pub fn org() -> Self {
        let workspace = Self::new();
        workspace.write("sandbox.yaml", ORG_SANDBOX);
        workspace.write("contacts.yaml", ORG_CONFIG);
        workspace
    }

    /// With `contacts.yaml` as `contacts.example.yaml` writes it, for the
    /// demo sandbox (`sandbox.yaml`, made on the first run): the quick
    /// start. The example's text too, to find its lines.
    pub fn example() -> (Self, String) {
        let workspace = Self::new();
        let example = std::fs::read_to_string(repo_file("contacts.example.yaml"))
            .expect("contacts.example.yaml");
        workspace.write("contacts.yaml", &example);
        (workspace, example)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write a fixture");
        path
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path(name).exists()
    }

    /// The real binary, in this directory, with no AWS configuration from
    /// the environment that runs the tests.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command.current_dir(self.dir.path()).args(args);
        isolate(&mut command);
        command
    }

    /// The binary on `sandbox.yaml`.
    pub fn sandbox(&self, args: &[&str]) -> Command {
        let mut command = self.command(&["--sandbox", "sandbox.yaml"]);
        command.args(args);
        command
    }

    pub fn run(&self, args: &[&str]) -> Assert {
        self.sandbox(args).assert()
    }
}

/// Clears what could point the binary at a real AWS account, and the
/// color settings of the environment that runs the tests.
pub fn isolate(command: &mut Command) {
    crate::emulator::isolate_from_aws(command);
    // Annotations are printed in GitHub Actions; tests ask for them explicitly.
    command.env_remove("GITHUB_ACTIONS");
    command.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
    command.env_remove("ALTCONTACTS_PLAN_KEY");
}

/// `text` without the lines that stop and resume GitHub's workflow
/// commands around a run's output (`::stop-commands::altcontacts-…`,
/// `::altcontacts-…::`): what is left is what the run says.
pub fn without_stop_commands(text: &str) -> String {
    text.lines()
        .filter(|line| {
            let stops = line.starts_with("::stop-commands::altcontacts-");
            let resumes = line.starts_with("::altcontacts-") && line.ends_with("::");
            !(stops || resumes)
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The last lines of stderr, where a run says why it ended: a failing
/// test's message stays readable when the plan before them is thousands
/// of lines long.
pub fn stderr_tail(output: &Output, lines: usize) -> String {
    let text = stderr(output);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A plan's JSON output, parsed.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(output)))
}

/// Holds `document` against the committed JSON Schema `schema` (a path
/// under the repository): what a consumer of the output relies on.
pub fn assert_valid(document: &serde_json::Value, schema: &str) {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_file(schema)).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{document:#}");
}

/// Runs `command`, which must succeed: its output, else a failure with
/// what it printed.
pub fn run_checked(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A request to an emulator, as any client of the forge could send it
/// (curl, as the workflows' own steps do): its answer's JSON. A refused
/// request fails the test.
pub fn http_json(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&serde_json::Value>,
) -> serde_json::Value {
    let mut command = Command::new("curl");
    command.args(["--fail-with-body", "-sS", "-X", method, url]);
    for (name, value) in headers {
        command.arg("-H").arg(format!("{name}: {value}"));
    }
    if let Some(body) = body {
        command
            .args(["-H", "content-type: application/json", "--data-binary"])
            .arg(body.to_string());
    }
    let output = run_checked(&mut command);
    serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null)
}

/// The HTTP status a request to an emulator gets, refused or not (curl).
pub fn http_status(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&serde_json::Value>,
) -> u16 {
    let mut command = Command::new("curl");
    command.args([
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        method,
        url,
    ]);
    for (name, value) in headers {
        command.arg("-H").arg(format!("{name}: {value}"));
    }
    if let Some(body) = body {
        command
            .args(["-H", "content-type: application/json", "--data-binary"])
            .arg(body.to_string());
    }
    let output = run_checked(&mut command);
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}
