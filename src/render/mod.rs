//! What a person or a program reads of a run. Each product has its own
//! room and its own format enum: the plan (`plan/`), the outcome of an
//! apply (`apply.rs`) and the audit (`audit/`). What they share is here:
//! the header, colors, in-line differences, Markdown that is safe on a
//! forge, and GitHub's workflow commands (`annotations.rs`).

pub mod annotations;
pub mod apply;
pub mod audit;
pub mod markdown;
pub mod plan;

use owo_colors::{OwoColorize, Style};
use similar::{ChangeTag, TextDiff};

pub use crate::model::account_label;
use crate::model::{AccountId, count};

pub use plan::{Budget, Compact, PlanFormat, PlanView};

/// Where the plan was made, for its header.
#[derive(Clone, Debug)]
pub struct Header {
    pub target: String,
    pub caller: AccountId,
    /// With `--member-role`: how the accounts were reached.
    pub member_role: Option<crate::model::MemberRoleUse>,
}

/// The accounts whose subscriptions were not read, in a sentence (the
/// plan's and the audit's).
pub fn unchecked_line(
    unchecked: &std::collections::BTreeMap<crate::model::AccountId, crate::model::Unchecked>,
) -> Option<String> {
    use crate::model::Unchecked;
    if unchecked.is_empty() {
        return None;
    }
    // How the run was set up: one count a reason.
    let mut set_up: Vec<(&Unchecked, usize)> = Vec::new();
    for why in unchecked.values().filter(|why| !why.failed()) {
        match set_up.iter_mut().find(|(seen, _)| *seen == why) {
            Some((_, n)) => *n += 1,
            None => set_up.push((why, 1)),
        }
    }
    let mut parts: Vec<String> = set_up
        .iter()
        .map(|(why, n)| format!("{} not checked: {why}", count(*n, "account")))
        .collect();
    // A role made before subscriptions were read fails in every account:
    // the first few say why, the rest are counted.
    const SHOWN: usize = 3;
    let failed: Vec<String> = unchecked
        .iter()
        .filter(|(_, why)| why.failed())
        .map(|(account, why)| format!("{account} ({why})"))
        .collect();
    if !failed.is_empty() {
        let more = match failed.len().saturating_sub(SHOWN) {
            0 => String::new(),
            n => format!("; and {} more", count(n, "account")),
        };
        parts.push(format!(
            "not read: {}{more}",
            failed[..failed.len().min(SHOWN)].join("; ")
        ));
    }
    Some(printable(&format!(
        "Subscriptions to AWS Health's notices: {}.",
        parts.join("; ")
    )))
}

/// The JSON Schema of an output, titled `title`, as committed in `schema/`.
pub(crate) fn schema_of<T: schemars::JsonSchema>(title: &str) -> String {
    let mut schema = schemars::generate::SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>();
    schema.insert("title".to_owned(), title.into());
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes to JSON");
    text.push('\n');
    text
}

pub use crate::printable::printable;

/// Colors on or off for one output, decided once at start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paint(pub bool);

impl Paint {
    pub fn paint(self, text: &str, style: Style) -> String {
        if self.0 {
            text.style(style).to_string()
        } else {
            text.to_owned()
        }
    }
}

/// One piece of a value in an in-line difference; `changed` marks what was
/// removed (in the before value) or added (in the after value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub changed: bool,
    pub text: String,
}

/// The character-level difference between two values, as pieces of each.
/// Values with little in common are marked changed as a whole: a diff of
/// two unrelated names is noise.
pub fn inline_diff(before: &str, after: &str) -> (Vec<Piece>, Vec<Piece>) {
    let diff = TextDiff::from_chars(before, after);
    if diff.ratio() < 0.5 {
        return (
            vec![Piece {
                changed: true,
                text: before.to_owned(),
            }],
            vec![Piece {
                changed: true,
                text: after.to_owned(),
            }],
        );
    }
    let mut old: Vec<Piece> = Vec::new();
    let mut new: Vec<Piece> = Vec::new();
    let push = |pieces: &mut Vec<Piece>, changed: bool, text: &str| match pieces.last_mut() {
        Some(last) if last.changed == changed => last.text.push_str(text),
        _ => pieces.push(Piece {
            changed,
            text: text.to_owned(),
        }),
    };
    for change in diff.iter_all_changes() {
        let text = change.value();
        match change.tag() {
            ChangeTag::Equal => {
                push(&mut old, false, text);
                push(&mut new, false, text);
            }
            ChangeTag::Delete => push(&mut old, true, text),
            ChangeTag::Insert => push(&mut new, true, text),
        }
    }
    (old, new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_diff_marks_only_the_changed_characters() {
        let (old, new) = inline_diff("secops-old@example.com", "security@example.com");
        let changed_old: String = old
            .iter()
            .filter(|p| p.changed)
            .map(|p| p.text.as_str())
            .collect();
        let changed_new: String = new
            .iter()
            .filter(|p| p.changed)
            .map(|p| p.text.as_str())
            .collect();
        assert_eq!(
            old.iter().map(|p| p.text.as_str()).collect::<String>(),
            "secops-old@example.com"
        );
        assert_eq!(
            new.iter().map(|p| p.text.as_str()).collect::<String>(),
            "security@example.com"
        );
        assert!(
            changed_old.len() < 10 && changed_new.len() < 10,
            "{old:?} {new:?}"
        );
    }

    #[test]
    fn unrelated_values_change_as_a_whole() {
        let (old, new) = inline_diff("Alice", "Operations Bob");
        assert_eq!(
            old,
            vec![Piece {
                changed: true,
                text: "Alice".into()
            }]
        );
        assert_eq!(
            new,
            vec![Piece {
                changed: true,
                text: "Operations Bob".into()
            }]
        );
    }
}
