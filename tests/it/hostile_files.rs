//! The contacts file as a hostile contributor commits it: a link to the
//! job's environment, a device, a huge file, a file of control bytes.
//! Each is refused with what it is, quotes none of what it points at, and
//! nothing is asked of AWS or written.

use crate::support::*;

/// The workspace as a repository (the link rule is the repository's), its
/// sandbox, and a secret outside it that a link points at.
fn repository_with_a_secret_outside() -> (Workspace, tempfile::TempDir) {
    let workspace = Workspace::org();
    run_checked(
        std::process::Command::new("git")
            .args(["init", "-q"])
            .arg(workspace.path("")),
    );
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("environ"),
        "version: 1\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI-the-secret\n",
    )
    .unwrap();
    (workspace, outside)
}

#[test]
fn a_contacts_file_linked_out_of_the_repository_is_refused_and_not_quoted() {
    let (workspace, outside) = repository_with_a_secret_outside();
    let sandbox_before = workspace.read("sandbox.yaml");
    std::fs::remove_file(workspace.path("contacts.yaml")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("environ"),
        workspace.path("contacts.yaml"),
    )
    .unwrap();
    for command in [
        &["plan"][..],
        &["apply", "--auto-approve"],
        &["validate"],
        &["audit"],
    ] {
        // `validate` makes no AWS call, and takes no sandbox.
        let output = match command {
            ["validate"] => workspace.command(command),
            _ => workspace.sandbox(command),
        }
        .output()
        .unwrap();
        let said = stderr(&output) + &stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{command:?}: {said}");
        assert!(
            said.contains("refusing to read contacts.yaml: it is a symbolic link to")
                && said.contains("outside the repository"),
            "{command:?}: {said}"
        );
        assert!(
            !said.contains("the-secret"),
            "{command:?} quoted the target: {said}"
        );
    }
    // Through a linked folder too.
    std::os::unix::fs::symlink(outside.path(), workspace.path("infra")).unwrap();
    let output = workspace
        .sandbox(&["plan", "-f", "infra/environ"])
        .output()
        .unwrap();
    assert!(
        stderr(&output).contains("outside the repository"),
        "{}",
        stderr(&output)
    );
    assert!(!stderr(&output).contains("the-secret"));
    assert_eq!(
        workspace.read("sandbox.yaml"),
        sandbox_before,
        "nothing written"
    );
}

#[test]
fn a_link_inside_the_repository_is_followed() {
    let (workspace, _outside) = repository_with_a_secret_outside();
    std::fs::create_dir(workspace.path("infra")).unwrap();
    std::fs::rename(
        workspace.path("contacts.yaml"),
        workspace.path("infra/contacts.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink("infra/contacts.yaml", workspace.path("contacts.yaml")).unwrap();
    assert_eq!(
        workspace.command(&["validate"]).status().unwrap().code(),
        Some(0)
    );
}

#[test]
fn a_contacts_file_committed_as_a_link_is_refused_at_a_base_revision() {
    // `git show REV:contacts.yaml` gives a link's text, not the file it
    // names: a review or an apply against a base would parse the path as
    // YAML, and the workflows' `paths:` filters never see an edit of the
    // file the link names.
    use crate::git_remote::git;
    let workspace = Workspace::org();
    let dir = workspace.path("");
    std::fs::create_dir(workspace.path("infra")).unwrap();
    std::fs::rename(
        workspace.path("contacts.yaml"),
        workspace.path("infra/contacts.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink("infra/contacts.yaml", workspace.path("contacts.yaml")).unwrap();
    git(&dir, &["init", "-q", "-b", "main"]);
    git(&dir, &["add", "contacts.yaml", "infra/contacts.yaml"]);
    git(&dir, &["commit", "-q", "-m", "contacts, through a link"]);
    workspace.write(
        "infra/contacts.yaml",
        &ORG_CONFIG.replace("billing: absent", "billing: finance"),
    );
    git(&dir, &["commit", "-q", "-am", "a change"]);
    let before = workspace.read("sandbox.yaml");

    let output = workspace
        .sandbox(&["plan", "--base-ref", "HEAD~1"])
        .output()
        .unwrap();
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains(
            "refusing to read contacts.yaml at HEAD~1: it is a symbolic link there (to infra/contacts.yaml), and a revision's contacts file is read as committed, never through a link"
        ) && said.contains("help: commit the contacts file itself at that path in place of the link"),
        "{said}"
    );
    assert!(stdout(&output).is_empty(), "no plan: {}", stdout(&output));
    assert_eq!(workspace.read("sandbox.yaml"), before, "nothing written");
    // The file the link names is read at any revision.
    workspace
        .run(&["plan", "-f", "infra/contacts.yaml", "--base-ref", "HEAD~1"])
        .code(0);
}

#[test]
fn a_device_is_refused_at_once_and_a_file_past_the_limit_says_its_size() {
    let workspace = Workspace::org();
    let output = workspace
        .sandbox(&["plan", "-f", "/dev/zero"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("refusing to read /dev/zero: it is not a regular file"),
        "{}",
        stderr(&output)
    );

    let entry = "  \"123456789012\": { security: { name: Someone, title: T, email_address: a@example.com, phone_number: \"+1 202 555 0100\" } }\n";
    let huge = format!(
        "version: 1\naccounts:\n{}",
        entry.repeat(50_000_000 / entry.len())
    );
    workspace.write("huge.yaml", &huge);
    let output = workspace
        .command(&["validate", "-f", "huge.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output)
            .contains("refusing to read huge.yaml: the file is 50.0 MB, the limit is 16.0 MB"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_file_with_control_bytes_is_refused_without_a_snippet() {
    let workspace = Workspace::org();
    workspace.write(
        "contacts.yaml",
        "version: 1\naccounts:\n  \"1\u{0}AWS_SESSION_TOKEN=the-token\": {}\n",
    );
    let output = workspace.sandbox(&["plan"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let said = stderr(&output);
    assert!(
        said.contains("refusing to read contacts.yaml: it holds the control byte 0x00 on line 3"),
        "{said}"
    );
    assert!(!said.contains("the-token"), "{said}");
}

/// A sandbox of 300 member accounts with nothing set.
fn sandbox_of_300() -> String {
    let mut sandbox = String::from(
        "caller: \"999999999999\"\norganization:\n  management_account: \"999999999999\"\naccounts:\n  \"999999999999\": {}\n",
    );
    for n in 0..299u64 {
        sandbox.push_str(&format!("  \"{}\": {{}}\n", 100_000_000_000 + n));
    }
    sandbox
}

fn defaults(slot: &str) -> String {
    format!(
        "version: 1\norganization:\n  defaults:\n    {slot}: {{ name: Team, title: On-Call, email_address: {slot}@example.com, phone_number: \"+1 202 555 0100\" }}\n"
    )
}

#[test]
fn two_applies_on_one_sandbox_keep_every_write_they_report_and_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let workspace = Workspace::new();
    workspace.write("sandbox.yaml", &sandbox_of_300());
    std::fs::set_permissions(
        workspace.path("sandbox.yaml"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    workspace.write("security.yaml", &defaults("security"));
    workspace.write("operations.yaml", &defaults("operations"));
    // Paced, so the two runs' writes interleave over a second or so.
    let start = |file: &str| {
        workspace
            .sandbox(&["--rate", "put=400", "apply", "--auto-approve", "-f", file])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (security, operations) = (start("security.yaml"), start("operations.yaml"));
    for run in [security, operations] {
        let output = run.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(
            stdout(&output)
                .contains("Apply complete: 300 created, 0 updated, 0 deleted, 0 failed."),
            "{}",
            stdout(&output)
        );
    }
    for file in ["security.yaml", "operations.yaml"] {
        let replan = workspace.sandbox(&["plan", "-f", file]).output().unwrap();
        assert!(
            stdout(&replan).contains("No changes. 300 contacts match the configuration."),
            "{file}: the sandbox lost writes an apply reported: {}",
            stdout(&replan)
        );
    }
    let mode = std::fs::metadata(workspace.path("sandbox.yaml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644, "the sandbox keeps its mode");
}

/// A line that reads otherwise than it is: a right-to-left override and a
/// line separator before the mistake.
const TROJAN_LINE: &str = "  security: { name: \"Ops\u{202e}gnp.exe\u{2028}\", title: T, email_address: bad, phone_number: \"1\" }";

#[test]
fn a_snippet_shows_reordering_and_line_breaking_characters_escaped_with_its_caret_in_place() {
    let workspace = Workspace::org();
    workspace.write(
        "contacts.yaml",
        &format!("version: 1\ncontacts:\n{TROJAN_LINE}\naccounts: {{}}\n"),
    );
    let sandbox_before = workspace.read("sandbox.yaml");
    let escaped_line = TROJAN_LINE
        .replace('\u{202e}', "\\u{202e}")
        .replace('\u{2028}', "\\u{2028}");
    for args in [
        &["validate"][..],
        &["plan"],
        &["validate", "--format", "github"],
    ] {
        let output = match args[0] {
            "validate" => workspace.command(args),
            _ => workspace.sandbox(args),
        }
        .output()
        .unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let said = format!("{}{}", stdout(&output), stderr(&output));
        assert!(
            !said.contains(['\u{202e}', '\u{2028}']),
            "{args:?} sends none of them raw: {said:?}"
        );
        assert!(
            said.contains("contacts.yaml:3:") && said.contains("email_address"),
            "{args:?} names the mistake: {said}"
        );
        if args.len() == 1 {
            let lines: Vec<&str> = said.lines().collect();
            let at = lines
                .iter()
                .position(|line| line.ends_with(&escaped_line))
                .unwrap_or_else(|| panic!("{args:?} quotes the line escaped: {said}"));
            let bar = lines[at].find(" | ").unwrap() + 3;
            let caret = lines[at + 1].find('^').expect("a caret under the line");
            assert_eq!(
                &lines[at][caret..caret + "bad".len()],
                "bad",
                "{args:?}: the caret is under the value, after the escapes: {said}"
            );
            assert!(caret > bar);
        }
    }
    assert_eq!(workspace.read("sandbox.yaml"), sandbox_before);
}

/// `command`'s output; a run still going after `seconds` is stopped and
/// fails the test, so one that blocks (on a pipe) fails rather than hangs.
fn output_within(command: &mut std::process::Command, seconds: u64) -> std::process::Output {
    use std::time::{Duration, Instant};
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(seconds) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} was still running after {seconds} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A named pipe in the workspace: opening it to read waits for a writer
/// that never comes.
fn fifo(workspace: &Workspace, name: &str) -> String {
    run_checked(std::process::Command::new("mkfifo").arg(workspace.path(name)));
    name.to_owned()
}

/// A sparse file of `bytes`: it costs no disk, and reading it whole would
/// cost that much memory.
fn sparse(workspace: &Workspace, name: &str, bytes: u64) -> String {
    std::fs::File::create(workspace.path(name))
        .unwrap()
        .set_len(bytes)
        .unwrap();
    name.to_owned()
}

const THREE_GB: u64 = 3_000_000_000;

#[test]
fn a_plan_that_is_a_device_a_pipe_or_gigabytes_is_refused_before_it_is_read() {
    let workspace = Workspace::org();
    let sandbox_before = workspace.read("sandbox.yaml");
    let pipe = fifo(&workspace, "plan.pipe");
    let huge = sparse(&workspace, "huge.json", THREE_GB);
    for (plan, why) in [
        (
            "/dev/zero",
            "it is not a regular file (a device, a pipe or a socket)",
        ),
        (
            pipe.as_str(),
            "it is not a regular file (a device, a pipe or a socket)",
        ),
        (huge.as_str(), "the file is 3000.0 MB, the limit is 64.0 MB"),
    ] {
        let output = output_within(&mut workspace.sandbox(&["apply", plan]), 30);
        let said = stderr(&output);
        assert_eq!(output.status.code(), Some(3), "{plan}: {said}");
        assert!(
            said.contains(&format!(
                "error: {plan} is not a plan file altcontacts can apply: {why}"
            )),
            "{plan}: {said}"
        );
        assert!(stdout(&output).is_empty(), "{plan}: {}", stdout(&output));
        assert_eq!(
            workspace.read("sandbox.yaml"),
            sandbox_before,
            "{plan}: nothing written"
        );
    }
}

#[test]
fn a_base_or_a_sandbox_that_is_a_device_a_pipe_or_gigabytes_is_refused_before_it_is_read() {
    use std::os::unix::fs::FileTypeExt;
    let workspace = Workspace::org();
    let sandbox_before = workspace.read("sandbox.yaml");
    let pipe = fifo(&workspace, "base.pipe");
    let huge = sparse(&workspace, "huge.yaml", THREE_GB);
    let not_a_file = "it is not a regular file (a device, a pipe or a socket)";
    for (base, why, help) in [
        (
            "/dev/zero",
            not_a_file,
            "pass the older contacts YAML file itself with --base",
        ),
        (
            pipe.as_str(),
            not_a_file,
            "pass the older contacts YAML file itself with --base",
        ),
        (
            huge.as_str(),
            "the file is 3000.0 MB, the limit is 16.0 MB",
            "a contacts file of 10,000 accounts is about 2 MB: check that --base names the older contacts file",
        ),
    ] {
        let output = output_within(&mut workspace.sandbox(&["plan", "--base", base]), 30);
        let said = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{base}: {said}");
        assert!(
            said.contains(&format!(
                "error: refusing to read {base}: {why}\n  help: {help}"
            )),
            "{base}: {said}"
        );
        assert!(
            stdout(&output).is_empty(),
            "{base}: no plan: {}",
            stdout(&output)
        );
        assert_eq!(
            workspace.read("sandbox.yaml"),
            sandbox_before,
            "{base}: nothing written"
        );
    }

    let pipe = fifo(&workspace, "sandbox.pipe");
    let huge = sparse(&workspace, "sandbox.huge", THREE_GB);
    for (sandbox, why, help) in [
        (
            "/dev/zero",
            not_a_file,
            "pass the sandbox YAML file itself with --sandbox (a missing one is created)",
        ),
        (
            pipe.as_str(),
            not_a_file,
            "pass the sandbox YAML file itself with --sandbox (a missing one is created)",
        ),
        (
            huge.as_str(),
            "the file is 3000.0 MB, the limit is 64.0 MB",
            "a sandbox of 10,000 accounts with all their contacts is about 9 MB: check that --sandbox names the sandbox file",
        ),
    ] {
        for args in [&["plan"][..], &["apply", "--auto-approve"]] {
            let output = output_within(workspace.command(&["--sandbox", sandbox]).args(args), 30);
            let said = stderr(&output);
            assert_eq!(output.status.code(), Some(1), "{sandbox} {args:?}: {said}");
            assert!(
                said.contains(&format!(
                    "error: refusing to read {sandbox}: {why}\n  help: {help}"
                )),
                "{sandbox} {args:?}: {said}"
            );
            assert!(
                stdout(&output).is_empty(),
                "{sandbox} {args:?}: {}",
                stdout(&output)
            );
        }
    }
    // Neither was written to, nor replaced by the demo.
    assert_eq!(
        std::fs::metadata(workspace.path(&huge)).unwrap().len(),
        THREE_GB
    );
    assert!(
        std::fs::metadata(workspace.path(&pipe))
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[test]
fn a_link_out_of_the_files_repository_is_refused_when_the_command_runs_outside_it() {
    // The repository is the file's, not the working directory's: from `/`,
    // everything is "inside" the working directory.
    let (workspace, outside) = repository_with_a_secret_outside();
    let sandbox_before = workspace.read("sandbox.yaml");
    std::fs::remove_file(workspace.path("contacts.yaml")).unwrap();
    let secret = outside.path().join("environ");
    std::os::unix::fs::symlink(&secret, workspace.path("contacts.yaml")).unwrap();
    let contacts = workspace.path("contacts.yaml").display().to_string();
    let sandbox = workspace.path("sandbox.yaml").display().to_string();
    let repository = workspace.path("").canonicalize().unwrap();
    for args in [
        &["validate", "-f", contacts.as_str()][..],
        &["--sandbox", &sandbox, "plan", "-f", &contacts],
        &[
            "--sandbox",
            &sandbox,
            "apply",
            "--auto-approve",
            "-f",
            &contacts,
        ],
    ] {
        let output = workspace.command(args).current_dir("/").output().unwrap();
        let said = stderr(&output) + &stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {said}");
        assert!(
            said.contains(&format!(
                "refusing to read {contacts}: it is a symbolic link to {}, outside the repository ({})",
                secret.canonicalize().unwrap().display(),
                repository.display()
            )),
            "{args:?}: {said}"
        );
        assert!(
            !said.contains("the-secret"),
            "{args:?} quoted the target: {said}"
        );
    }
    assert_eq!(
        workspace.read("sandbox.yaml"),
        sandbox_before,
        "nothing written"
    );

    // Outside any repository, a link may not leave its own folder either.
    std::fs::remove_dir_all(workspace.path(".git")).unwrap();
    let output = workspace
        .command(&["validate", "-f", &contacts])
        .current_dir("/")
        .output()
        .unwrap();
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("which is in no git repository") && !said.contains("the-secret"),
        "{said}"
    );
}
