//! Values read from AWS are untrusted: account and contact names may hold
//! backticks, pipes, Markdown, HTML and control characters. The outputs a
//! person reads must show them as text and nothing else.

use comrak::nodes::{AstNode, NodeValue};
use comrak::{Arena, Options, parse_document};

use crate::support::*;

const EVIL_ACCOUNT: &str = "Evil | `acct` ``` ![x](http://x.example) <b>b</b>";
const EVIL_NAME: &str = "Bob`` | *x* [link](http://x.example) \u{1b}[2J\r\nrm\0";

/// `text` as a YAML double-quoted scalar.
fn yaml_quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn sandbox() -> String {
    format!(
        r#"caller: "111111111111"
organization:
  management_account: "111111111111"
accounts:
  "111111111111":
    name: {account}
    contacts:
      security:
        name: {name}
        title: "Title | `t`"
        email_address: sec@example.com
        phone_number: "+1 202 555 0100"
"#,
        account = yaml_quoted(EVIL_ACCOUNT),
        name = yaml_quoted(EVIL_NAME),
    )
}

const CONFIG: &str = r#"version: 1
organization:
  defaults:
    security:
      name: "Alice | `ops` ``"
      title: Security
      email_address: sec@example.com
      phone_number: "+1 202 555 0100"
"#;

fn workspace() -> Workspace {
    let workspace = Workspace::new();
    workspace.write("sandbox.yaml", &sandbox());
    workspace.write("contacts.yaml", CONFIG);
    workspace
}

/// The text a reader sees in a node: its text and code, concatenated (a
/// word joiner, which the renderer puts after a reference's sigil, is not
/// seen).
fn text_of<'a>(node: &'a AstNode<'a>) -> String {
    let mut text = String::new();
    for descendant in node.descendants() {
        match &descendant.data.borrow().value {
            NodeValue::Text(literal) => text.push_str(&literal.replace('\u{2060}', "")),
            NodeValue::Code(code) => text.push_str(&code.literal),
            NodeValue::SoftBreak | NodeValue::LineBreak => text.push('\n'),
            _ => {}
        }
    }
    text
}

/// Every row of every table, as the cells' text, as GitHub would parse it,
/// and what kinds of node the tables hold (raw HTML by its text).
fn tables(markdown: &str) -> (Vec<Vec<String>>, Vec<String>) {
    let arena = Arena::new();
    let mut options = Options::default();
    options.extension.table = true;
    options.extension.strikethrough = true;
    options.extension.autolink = true;
    let root = parse_document(&arena, markdown, &options);
    let mut rows = Vec::new();
    let mut kinds = Vec::new();
    for table in root
        .descendants()
        .filter(|node| matches!(node.data.borrow().value, NodeValue::Table(_)))
    {
        for node in table.descendants() {
            let value = node.data.borrow().value.clone();
            kinds.push(match &value {
                NodeValue::HtmlInline(html) => format!("HtmlInline {html}"),
                other => format!("{other:?}")
                    .split(['(', ' ', '{'])
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            });
            if let NodeValue::TableRow(_) = value {
                rows.push(node.children().map(text_of).collect());
            }
        }
    }
    (rows, kinds)
}

#[test]
fn markdown_shows_hostile_names_as_text_in_their_own_cells() {
    let workspace = workspace();
    let output = workspace
        .sandbox(&["plan", "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let markdown = stdout(&output);
    let (rows, kinds) = tables(&markdown);
    assert_eq!(
        rows.len(),
        2,
        "a header and one change: {rows:#?}\n{markdown}"
    );
    assert!(rows.iter().all(|row| row.len() == 5), "{rows:#?}");
    let change = &rows[1];
    assert_eq!(change[1], format!("111111111111 ({EVIL_ACCOUNT})"));
    let shown = |text: &str| {
        text.replace('\u{1b}', "\\u{1b}")
            .replace('\r', "\\r")
            .replace('\n', "\\n")
            .replace('\0', "\\0")
    };
    assert!(
        change[3].contains(&format!("name: {} → Alice | `ops` ``", shown(EVIL_NAME))),
        "{:?}",
        change[3]
    );
    assert!(
        change[3].contains("title: Title | `t` → Security"),
        "{:?}",
        change[3]
    );
    for forbidden in ["Link", "Image", "HtmlBlock", "Emph", "Strong"] {
        assert!(
            !kinds.iter().any(|kind| kind == forbidden),
            "no {forbidden} was made from a value: {kinds:?}\n{markdown}"
        );
    }
    assert!(
        kinds
            .iter()
            .filter(|kind| kind.starts_with("HtmlInline"))
            .all(|kind| kind == "HtmlInline <br>"),
        "the only HTML is the line breaks between fields: {kinds:?}"
    );
}

/// An account name that would clear the screen, return the cursor and
/// ring the bell, and hide what follows behind a right-to-left override.
const EVIL_TERMINAL_NAME: &str = "Ops\u{1b}[2J\r\u{7}\u{202e}gnp.exe";

#[test]
fn the_terminal_never_receives_a_control_character_from_a_value() {
    let workspace = workspace();
    // A second account, named to attack a terminal, with nothing set: the
    // plan creates its SECURITY contact and the audit has findings on it,
    // so both print its name.
    let sandbox = sandbox().replace(
        "accounts:\n",
        &format!(
            "accounts:\n  \"222222222222\":\n    name: {}\n",
            yaml_quoted(EVIL_TERMINAL_NAME)
        ),
    );
    workspace.write("sandbox.yaml", &sandbox);
    let escaped_name = "Ops\\u{1b}[2J\\r\\u{7}\\u{202e}gnp.exe";
    let raw = ['\u{1b}', '\r', '\0', '\u{7}', '\u{202e}'];
    for (args, exit) in [
        (vec!["--color", "never", "plan"], 0),
        (vec!["--color", "never", "audit", "-f", "contacts.yaml"], 2),
        (vec!["--color", "never", "audit", "--org"], 2),
    ] {
        let output = workspace.sandbox(&args).output().unwrap();
        let (text, said) = (stdout(&output), stderr(&output));
        assert_eq!(output.status.code(), Some(exit), "{args:?}: {said}");
        assert!(!text.contains(raw), "{args:?}: {text:?}");
        assert!(!said.contains(raw), "{args:?}: {said:?}");
        assert!(
            text.contains(&format!("222222222222 ({escaped_name})")),
            "{args:?} shows the name, escaped: {text}"
        );
        if args[2] == "plan" {
            assert!(
                text.contains("\\u{1b}[2J\\r\\nrm\\0"),
                "the contact's name, escaped: {text}"
            );
        }
    }
    let colored = workspace
        .sandbox(&["--color", "always", "plan"])
        .output()
        .unwrap();
    assert_eq!(colored.status.code(), Some(0), "{}", stderr(&colored));
    let text = stdout(&colored);
    assert!(
        !text.contains("\u{1b}[2J") && text.contains("\\u{1b}[2J"),
        "the value's escape is shown, only ours are sent: {text:?}"
    );
}

/// Names that GitHub's runner would obey, were they read as a line of its
/// log: a workflow command at a line's start, and the legacy form anywhere.
const RUNNER_COMMAND_ACCOUNT: &str = "::error title=forged::pwned";
const RUNNER_COMMAND_NAME: &str = "Ops ##[add-mask]sec@example.com\n::stop-commands::x";

fn runner_command_workspace() -> Workspace {
    let workspace = Workspace::new();
    let sandbox = sandbox()
        .replace(
            &yaml_quoted(EVIL_ACCOUNT),
            &yaml_quoted(RUNNER_COMMAND_ACCOUNT),
        )
        .replace(&yaml_quoted(EVIL_NAME), &yaml_quoted(RUNNER_COMMAND_NAME));
    workspace.write("sandbox.yaml", &sandbox);
    workspace.write("contacts.yaml", CONFIG);
    workspace
}

/// The token a run stopped GitHub's commands with: its stdout's first line
/// is `::stop-commands::TOKEN`, and its last `::TOKEN::`.
fn stop_token(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default();
    let token = first
        .strip_prefix("::stop-commands::")
        .unwrap_or_else(|| panic!("the first line stops commands: {text}"))
        .to_owned();
    assert!(
        token.len() >= 32 && token.starts_with("altcontacts-"),
        "{token}"
    );
    assert_eq!(
        text.lines().last(),
        Some(format!("::{token}::").as_str()),
        "commands resume at the end: {text}"
    );
    token
}

/// In a step of GitHub Actions, no value becomes a workflow command: the
/// run's output sits between `::stop-commands::TOKEN` and `::TOKEN::`,
/// with a token of its own each run; commands resume only around the
/// annotations the tool means, and a `##[` in one of those is broken.
#[test]
fn in_github_actions_no_value_is_read_as_a_workflow_command() {
    let workspace = runner_command_workspace();
    let plan = |args: &[&str]| {
        // `validate` makes no AWS call, and takes no sandbox.
        match args.contains(&"validate") {
            true => workspace.command(args),
            false => workspace.sandbox(args),
        }
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap()
    };
    let first = plan(&["--color", "never", "plan"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let text = stdout(&first);
    let token = stop_token(&text);
    assert!(
        text.contains("::error title=forged::pwned") && text.contains("##[add-mask]"),
        "the names are shown, inside the stopped part: {text}"
    );
    let second = stop_token(&stdout(&plan(&["--color", "never", "plan"])));
    assert_ne!(token, second, "a token of its own each run");

    // Annotations are read: commands resume around them, and only them.
    workspace.write(
        "contacts.yaml",
        &CONFIG.replace(
            "title: Security",
            "title: \"##[add-mask]x\"\n      titel: typo",
        ),
    );
    let invalid = plan(&["validate", "--format", "github"]);
    assert_eq!(invalid.status.code(), Some(1), "{}", stderr(&invalid));
    let text = stdout(&invalid);
    let token = stop_token(&text);
    let lines: Vec<&str> = text.lines().collect();
    let annotation = lines
        .iter()
        .position(|line| line.starts_with("::error file=contacts.yaml"))
        .unwrap_or_else(|| panic!("an annotation: {text}"));
    assert_eq!(lines[annotation - 1], format!("::{token}::"), "{text}");
    assert!(
        lines[annotation + 1..]
            .iter()
            .take_while(|line| line.starts_with("::error"))
            .count()
            + annotation
            + 1
            < lines.len()
            && lines
                .iter()
                .skip(annotation)
                .any(|line| *line == format!("::stop-commands::{token}")),
        "commands stop again after the annotations: {text}"
    );
    assert!(!text.contains("##[add-mask]"), "{text}");
}

/// `export` writes a name that holds a line break, or anything else a log
/// or a terminal acts on, as one escaped double-quoted scalar: no line of
/// it starts with `::`, and the file it writes plans back to no changes.
#[test]
fn export_writes_a_name_a_runner_would_obey_as_one_escaped_line() {
    let workspace = runner_command_workspace();
    let output = workspace.sandbox(&["export", "--org"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        !text.lines().any(|line| line.trim_start().starts_with("::")),
        "{text}"
    );
    assert!(
        text.contains(r#""Ops ##[add-mask]sec@example.com\n::stop-commands::x""#),
        "{text}"
    );
    workspace.write("exported.yaml", &text);
    let plan = workspace
        .sandbox(&["plan", "-f", "exported.yaml"])
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    assert!(stdout(&plan).contains("No changes."), "{}", stdout(&plan));
}
