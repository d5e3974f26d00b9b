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

/// The text a reader sees in a node: its text and code, concatenated.
fn text_of<'a>(node: &'a AstNode<'a>) -> String {
    let mut text = String::new();
    for descendant in node.descendants() {
        match &descendant.data.borrow().value {
            NodeValue::Text(literal) => text.push_str(literal),
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
