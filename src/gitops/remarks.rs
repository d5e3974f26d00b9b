//! The loop's own remarks on a forge: one plan note per review and
//! contacts file, edited on every push, and one drift issue per file. Each
//! is found again by the marker its text starts with and by its author, the
//! token's own user, so a note or an issue someone else starts with the
//! marker is left alone. Where the forge will not say who the token is, a
//! note is the loop's when the forge lets the loop edit it, as it lets
//! only a note's author. An adapter lists, makes and edits; this decides.

use super::{Forge, Upserted};
use crate::error::Error;
use crate::gitops::forge::{NoIssues, Remark, Whose};

/// The remarks that may be the loop's own for `marker`, in the forge's
/// order: its own, and those whose author the forge did not say.
fn own<'a>(remarks: &'a [Remark], marker: &'a str) -> impl Iterator<Item = &'a Remark> + 'a {
    remarks.iter().filter(move |remark| {
        remark.whose != Whose::Others && remark.text.trim_start().starts_with(marker)
    })
}

/// Whether `error` is the forge refusing an edit of another's note.
fn someone_else_s(error: &Error) -> bool {
    matches!(error, Error::Forge(refused) if matches!(refused.status, Some(403 | 404)))
}

/// Posts `body` (which starts with `marker`) as the review's plan note:
/// the oldest one that is ours is edited, or a first one made.
pub async fn upsert_note(
    forge: &impl Forge,
    review: u64,
    marker: &str,
    body: &str,
) -> Result<Upserted, Error> {
    let notes = forge.notes(review).await?;
    for note in own(&notes, marker) {
        match forge.edit_note(review, note.id, body).await {
            Ok(()) => return Ok(Upserted::Updated(note.id)),
            Err(error) if note.whose == Whose::Unknown && someone_else_s(&error) => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(Upserted::Created(forge.add_note(review, body).await?))
}

/// Whether the drift issue can be kept, and the one open for a marker if
/// it can.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Issues {
    Off(NoIssues),
    On { open: Option<u64> },
}

/// The open drift issue for `marker`: the lowest-numbered that is ours.
pub async fn open_issue(forge: &impl Forge, label: &str, marker: &str) -> Result<Issues, Error> {
    Ok(match forge.open_issues(label).await? {
        Err(none) => Issues::Off(none),
        Ok(issues) => Issues::On {
            open: own(&issues, marker).map(|issue| issue.id).min(),
        },
    })
}

/// Updates the open issue, or opens one; its number.
pub async fn save_issue(
    forge: &impl Forge,
    open: Option<u64>,
    label: &str,
    title: &str,
    body: &str,
) -> Result<u64, Error> {
    match open {
        Some(number) => {
            forge.update_issue(number, title, body).await?;
            Ok(number)
        }
        None => forge.create_issue(label, title, body).await,
    }
}

/// Says `why` on the issue, then closes it.
pub async fn close_issue(forge: &impl Forge, number: u64, why: &str) -> Result<(), Error> {
    forge.comment_on_issue(number, why).await?;
    forge.close_issue(number).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_remarks_that_start_with_the_marker_are_ours() {
        let remark = |id, whose, text: &str| Remark {
            id,
            whose,
            text: text.to_owned(),
        };
        let marker = crate::gitops::plan_marker("contacts.yaml");
        let remarks = [
            remark(1, Whose::Others, &format!("{marker}\nby someone else")),
            remark(2, Whose::Mine, &format!("a reply that quotes {marker}")),
            remark(3, Whose::Mine, &format!("\n{marker}\nours")),
            remark(4, Whose::Mine, &crate::gitops::plan_marker("other.yaml")),
            remark(
                5,
                Whose::Unknown,
                &format!("{marker}\nwhose, the forge won't say"),
            ),
        ];
        let ids: Vec<u64> = own(&remarks, &marker).map(|remark| remark.id).collect();
        assert_eq!(ids, [3, 5]);
    }
}
