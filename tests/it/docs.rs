//! The docs hold to the tool: every relative link resolves (to a file, and
//! to a heading where it names one), every `altcontacts` command line they
//! show uses flags the command has, and the tables of the action's and the
//! component's inputs name every input.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every page under docs/.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![repo().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .expect("docs/")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// A heading's anchor, as GitHub and GitLab make it: lower case, spaces
/// to dashes, punctuation but `-` and `_` dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut in_code = false;
    markdown
        .lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            !in_code
        })
        .filter_map(|line| {
            line.trim_start_matches('#')
                .strip_prefix(' ')
                .filter(|_| line.starts_with('#'))
        })
        .map(slug)
        .collect()
}

/// Every `](target)` of a page, outside code blocks.
fn links(markdown: &str) -> Vec<String> {
    let mut in_code = false;
    let mut found = Vec::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            found.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    found
}

#[test]
fn every_relative_link_in_the_readme_and_the_docs_resolves() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for link in links(&text) {
            if link.starts_with("http://")
                || link.starts_with("https://")
                || link.starts_with("mailto:")
            {
                continue;
            }
            checked += 1;
            let (file, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            if !target.exists() {
                broken.push(format!("{}: {link} (no such file)", page.display()));
                continue;
            }
            if !anchor.is_empty() && target.extension().is_some_and(|ext| ext == "md") {
                let headings = anchors(&std::fs::read_to_string(&target).unwrap());
                if !headings.contains(anchor) {
                    broken.push(format!("{}: {link} (no such heading)", page.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
    assert!(checked > 30, "the links were found: {checked}");
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        readme.lines().count() <= 250,
        "the README stays a page or two: {} lines",
        readme.lines().count()
    );
}

/// The flags of `tokens` (an `altcontacts` command line after the binary's
/// name) that the command does not have.
fn unknown_flags(tokens: &[String]) -> Vec<String> {
    let mut command = altcontacts::CommandLine::described();
    command.build();
    let mut unknown = Vec::new();
    let mut tokens = tokens.iter().peekable();
    while let Some(token) = tokens.next() {
        let find = |command: &clap::Command, token: &str| -> Option<clap::Arg> {
            // A hidden flag is not the command's to offer (the AWS
            // connection flags a command that makes no AWS call refuses).
            command
                .get_arguments()
                .filter(|arg| !arg.is_hide_set())
                .find(|arg| match token.strip_prefix("--") {
                    // An alias is the flag too (`--out` of `--output`, and
                    // the spelling older releases took that the shipped
                    // pipelines keep).
                    Some(long) => {
                        let long = long.split('=').next().unwrap();
                        arg.get_long() == Some(long)
                            || arg
                                .get_all_aliases()
                                .is_some_and(|aliases| aliases.contains(&long))
                    }
                    None => token.len() == 2 && arg.get_short() == token.chars().nth(1),
                })
                .cloned()
        };
        if token.starts_with('-') && token.len() > 1 && !token.starts_with("-f\"") {
            if token == "--help" || token == "-h" || token == "--version" {
                continue;
            }
            match find(&command, token) {
                Some(arg) => {
                    let takes_value = arg.get_action().takes_values();
                    if takes_value && !token.contains('=') {
                        tokens.next();
                    }
                }
                None => unknown.push(format!("{token} (for `{}`)", command.get_name())),
            }
        } else if let Some(sub) = command.find_subcommand(token).cloned() {
            command = sub;
        }
    }
    unknown
}

/// The words of every `altcontacts …` command line in `text`: in code
/// blocks, in code spans, and `set -- …` lines of the component.
fn command_lines(text: &str) -> Vec<Vec<String>> {
    let mut lines = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        while let Some(at) = rest
            .find("altcontacts ")
            .or_else(|| rest.find("set -- gitlab "))
        {
            let start = if rest[at..].starts_with("set -- ") {
                at + "set -- ".len()
            } else {
                at + "altcontacts ".len()
            };
            // Not the name of a thing ("altcontacts-apply", "altcontacts/…").
            let preceded_ok = at == 0 || !rest[..at].ends_with(['-', '/', '.']);
            let after = &rest[start..];
            let end = after
                .find(['`', '|', ';', ')', '#'])
                .map_or(after.len(), |end| {
                    end.min(after.find("&&").unwrap_or(usize::MAX))
                });
            if preceded_ok {
                let words: Vec<String> = after[..end]
                    .split_whitespace()
                    .map(|word| {
                        word.trim_matches(|c| c == '"' || c == '\'' || c == ',')
                            .to_owned()
                    })
                    .filter(|word| !word.is_empty() && word != "\\")
                    .collect();
                lines.push(words);
            }
            rest = &after[end..];
        }
    }
    lines
}

#[test]
fn every_altcontacts_command_line_the_docs_show_uses_flags_the_command_has() {
    let mut files = pages();
    files.extend([
        repo().join("action.yml"),
        repo().join("templates/altcontacts.yml"),
        repo().join("contacts.example.yaml"),
    ]);
    for dir in ["examples/github", "examples/gitlab"] {
        for entry in std::fs::read_dir(repo().join(dir)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    let mut wrong = Vec::new();
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let cli = altcontacts::CommandLine::described();
        let invocations = command_lines(&text).into_iter().filter(|words| {
            words
                .first()
                .is_some_and(|first| first.starts_with('-') || cli.find_subcommand(first).is_some())
        });
        for words in invocations {
            checked += 1;
            for flag in unknown_flags(&words) {
                wrong.push(format!(
                    "{}: `altcontacts {}`: {flag}",
                    file.display(),
                    words.join(" ")
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(checked > 40, "the command lines were found: {checked}");
}

/// The flags a `--flag` list in `text` names.
fn flags_in(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '`' || c == ',')
        .filter(|word| word.starts_with("--") && word.len() > 2)
        .map(|word| word.trim_end_matches(['.', ')']).to_owned())
        .collect()
}

#[test]
fn the_loops_extra_arguments_the_docs_suggest_exist_on_its_steps() {
    let loop_flags: BTreeSet<String> = {
        let command = altcontacts::CommandLine::described();
        let github = command.find_subcommand("github").unwrap();
        github
            .get_subcommands()
            .flat_map(|step| {
                step.get_arguments()
                    .filter_map(|arg| arg.get_long())
                    .map(|long| format!("--{long}"))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let action: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(repo().join("action.yml")).unwrap()).unwrap();
    let component = crate::pipeline_runner::component();
    let (header, _) = component.split_once("\n---\n").unwrap();
    let spec: serde_yaml::Value = serde_yaml::from_str(header).unwrap();
    let gitops = std::fs::read_to_string(repo().join("docs/gitops.md")).unwrap();
    let mut texts = vec![
        action["inputs"]["args"]["description"]
            .as_str()
            .unwrap()
            .to_owned(),
        spec["spec"]["inputs"]["args"]["description"]
            .as_str()
            .unwrap()
            .to_owned(),
    ];
    texts.extend(
        gitops
            .lines()
            .filter(|line| line.starts_with("| `args` |"))
            .map(str::to_owned),
    );
    let mut named = 0;
    for text in &texts {
        for flag in flags_in(text) {
            named += 1;
            assert!(
                loop_flags.contains(&flag),
                "{flag} (in `{text}`) is no flag of the loop's steps"
            );
        }
    }
    assert!(named >= 5, "{texts:?}");
}

#[test]
fn the_docs_table_of_the_components_inputs_names_every_input() {
    let component = crate::pipeline_runner::component();
    let (header, _) = component.split_once("\n---\n").unwrap();
    let spec: serde_yaml::Value = serde_yaml::from_str(header).unwrap();
    let gitops = std::fs::read_to_string(repo().join("docs/gitops.md")).unwrap();
    for input in spec["spec"]["inputs"].as_mapping().unwrap().keys() {
        let input = input.as_str().unwrap();
        assert!(
            gitops.contains(&format!("| `{input}` |")),
            "docs/gitops.md's table of the component's inputs lacks {input}"
        );
    }
}

#[test]
fn the_readme_lists_every_command_the_binary_has() {
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_altcontacts"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let commands: Vec<&str> = help
        .split("Commands:\n")
        .nth(1)
        .expect("a Commands: section")
        .lines()
        .take_while(|line| !line.is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .collect();
    assert!(commands.len() >= 14, "{commands:?}");
    let readme = std::fs::read_to_string(crate::support::repo_file("README.md")).unwrap();
    let listed = readme
        .split("## Commands")
        .nth(1)
        .and_then(|rest| rest.split("```").nth(1))
        .expect("the README's command list");
    let missing: Vec<&&str> = commands
        .iter()
        .filter(|name| !listed.contains(&format!("altcontacts {name} ")))
        .collect();
    assert!(missing.is_empty(), "the README does not list {missing:?}");
}
