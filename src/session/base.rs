//! What `--base`, `--base-ref` and the GitOps loop plan against: an older
//! contacts file, whose unchanged slots need not be read.

use std::path::Path;

use crate::config::LoadedConfig;
use crate::config::reading::{self, Reading, Unread};
use crate::error::Error;

/// What `--base` or `--base-ref` plans against.
pub enum Base {
    File(Box<LoadedConfig>),
    /// The base has no contacts file (the pull request that adds it): no
    /// slot is the same as in the base, so every slot is read.
    Absent {
        described: String,
    },
}

impl Base {
    /// The base the flags name for `contacts`, if they name one.
    pub fn selected(
        selection: &crate::cli::Selection,
        contacts: &Path,
    ) -> Result<Option<Base>, Error> {
        Self::load(
            selection.base.as_deref(),
            selection.base_ref.base_ref.as_deref(),
            contacts,
        )
    }

    /// The base from `--base FILE` or `--base-ref REF`, if either was given.
    /// A base file that does not exist, or is empty, and a revision without
    /// the contacts file, are a base with no slot, not an error. Either is
    /// a contacts file, read as one is, with its limit.
    pub fn load(
        file: Option<&Path>,
        revision: Option<&str>,
        contacts: &Path,
    ) -> Result<Option<Base>, Error> {
        if let Some(revision) = revision {
            let label = format!("{}@{revision}", contacts.display());
            return Ok(Some(
                match crate::git::Repository::of(contacts)
                    .file_at(revision, contacts, BASE.limit)?
                {
                    Some(text) => Base::File(Box::new(LoadedConfig::parse(&label, text)?)),
                    None => Base::Absent {
                        described: format!("{} does not exist at {revision}", contacts.display()),
                    },
                },
            ));
        }
        let Some(path) = file else {
            return Ok(None);
        };
        let missing = || Base::Absent {
            described: format!(
                "the base file {} does not exist or is empty",
                path.display()
            ),
        };
        match reading::read_text(path, &BASE) {
            Err(Unread::Io(error)) if error.kind() == std::io::ErrorKind::NotFound => {
                Ok(Some(missing()))
            }
            Err(unread) => Err(unread.error(path).into()),
            Ok(text) if text.trim().is_empty() => Ok(Some(missing())),
            Ok(text) => Ok(Some(Base::File(Box::new(LoadedConfig::parse(
                &path.display().to_string(),
                text,
            )?)))),
        }
    }
}

/// An older contacts file: the contacts file's limit, and the flag that
/// names it.
const BASE: Reading = Reading {
    sized: "a contacts file of 10,000 accounts is about 2 MB: check that --base names the older contacts file",
    pass: "pass the older contacts YAML file itself with --base",
    ..reading::CONTACTS
};
