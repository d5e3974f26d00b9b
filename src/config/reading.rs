//! Reading a file as hostile input: the contacts file, and every other
//! file the tool reads (a saved plan, `--base`, the sandbox). A pull
//! request can commit `contacts.yaml -> /proc/self/environ`; a flag can
//! name a device, a pipe or a file of gigabytes. What is read is a regular
//! file (a device or a pipe is refused before it is opened, so it cannot
//! block), of a size under its own limit, said before anything is read,
//! and text: a file with control bytes is refused without quoting any of
//! it, since every snippet of it would go to the job's log and the review.
//! A file of the repository (the contacts file) is also refused when a
//! symbolic link on its path leads out of the repository that holds the
//! link.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::ConfigError;
use crate::printable::{megabytes, printable};

/// A kind of file the tool reads: its limit and its words. The checks are
/// the same for every kind ([`read_text`]).
#[derive(Clone, Copy, Debug)]
pub struct Reading {
    /// The most bytes read of it.
    pub limit: u64,
    /// Why the limit is where it is, as the hint of a file over it.
    pub sized: &'static str,
    /// What to pass instead of a file that is not one, as a hint.
    pub pass: &'static str,
    /// A file of the repository: a symbolic link on its path may not lead
    /// out of the repository that holds the link.
    pub in_repository: bool,
}

/// The contacts file: a limit well above one of 10,000 accounts (about
/// 2 MB), far below what would take the parser seconds.
pub const CONTACTS: Reading = Reading {
    limit: 16_000_000,
    sized: "a contacts file of 10,000 accounts is about 2 MB: check that -f names the contacts file",
    pass: "pass the contacts YAML file itself with -f",
    in_repository: true,
};

/// A mute file (`audit --mute`): a list of accepted findings.
pub const MUTES: Reading = Reading {
    limit: 4_000_000,
    sized: "a mute list is a few lines a finding: check that --mute names the mute file",
    pass: "pass the mute YAML file itself with --mute",
    in_repository: true,
};

/// Why a file was not read.
#[derive(Debug)]
pub enum Unread {
    /// It cannot be opened or read (it does not exist, it may not be read).
    Io(std::io::Error),
    /// It is not read, by the rules above: `why`, and what to do.
    Refused { why: String, help: String },
}

impl Unread {
    /// As a contacts file's error: `file` names the file.
    pub fn error(self, file: &Path) -> ConfigError {
        let shown = printable(&file.display().to_string());
        match self {
            Unread::Io(source) => ConfigError::Read {
                help: super::read_help(&shown, file, &source),
                path: shown,
                source,
            },
            Unread::Refused { why, help } => ConfigError::Refused {
                path: shown,
                why,
                help,
            },
        }
    }
}

/// The text of a contacts file (`rules` says which: the contacts file, or
/// an older one), after the checks above.
pub fn read(path: &Path, rules: &Reading) -> Result<String, ConfigError> {
    read_text(path, rules).map_err(|unread| unread.error(path))
}

/// The text of the file at `path`, read by `rules`: the one way every
/// file the tool reads is read.
pub fn read_text(path: &Path, rules: &Reading) -> Result<String, Unread> {
    let shown = printable(&path.display().to_string());
    let refuse = |why: String, help: String| Unread::Refused { why, help };
    if rules.in_repository
        && let Some(out) = link_out(path).map_err(Unread::Io)?
    {
        return Err(refuse(
            out.why(path),
            format!(
                "{}, not a link (the GitOps loop reads it as committed at a revision, and refuses a link there)",
                rules.pass
            ),
        ));
    }
    // Before the file is opened: opening a pipe waits for a writer, and a
    // device never ends.
    let metadata = std::fs::metadata(path).map_err(Unread::Io)?;
    let not_a_file = |metadata: &std::fs::Metadata| {
        if metadata.is_dir() {
            Some(refuse(
                "it is a directory".to_owned(),
                format!("{shown} is a directory: {}", rules.pass),
            ))
        } else if !metadata.is_file() {
            Some(refuse(
                "it is not a regular file (a device, a pipe or a socket)".to_owned(),
                rules.pass.to_owned(),
            ))
        } else {
            None
        }
    };
    if let Some(refused) = not_a_file(&metadata) {
        return Err(refused);
    }
    let over = |why: String| refuse(why, rules.sized.to_owned());
    if metadata.len() > rules.limit {
        return Err(over(format!(
            "the file is {}, the limit is {}",
            megabytes(metadata.len()),
            megabytes(rules.limit)
        )));
    }
    let handle = std::fs::File::open(path).map_err(Unread::Io)?;
    // What was opened may not be what was looked at: it is looked at again.
    if let Some(refused) = not_a_file(&handle.metadata().map_err(Unread::Io)?) {
        return Err(refused);
    }
    // A file can say it is empty and still have more to read (/proc), or
    // grow while it is read: never more than the limit is read.
    let mut bytes = Vec::new();
    handle
        .take(rules.limit + 1)
        .read_to_end(&mut bytes)
        .map_err(Unread::Io)?;
    if bytes.len() as u64 > rules.limit {
        return Err(over(format!(
            "reading it went past the limit of {}",
            megabytes(rules.limit)
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        refuse(
            "it is not a UTF-8 text file".to_owned(),
            format!("{} (an editor can save it as UTF-8)", rules.pass),
        )
    })?;
    let control = |c: char| (c.is_ascii_control() && !"\t\n\r".contains(c)) || c == '\u{7f}';
    if let Some(at) = text.find(control) {
        let line = text[..at].matches('\n').count() + 1;
        return Err(refuse(
            format!(
                "it holds the control byte 0x{:02x} on line {line}: it is not a text file, so none of it is shown",
                text.as_bytes()[at]
            ),
            rules.pass.to_owned(),
        ));
    }
    Ok(text)
}

/// A symbolic link on a path that leads out of the repository holding it.
struct LinkOut {
    /// The link, as the path names it.
    link: PathBuf,
    /// Where it leads, every link resolved.
    target: PathBuf,
    root: Root,
}

impl LinkOut {
    fn why(&self, path: &Path) -> String {
        let target = printable(&self.target.display().to_string());
        let what = if self.link == path {
            "it is".to_owned()
        } else {
            format!(
                "its folder {} is",
                printable(&self.link.display().to_string())
            )
        };
        let root = match &self.root {
            Root::Repository(top) => {
                format!("the repository ({})", printable(&top.display().to_string()))
            }
            Root::Folder(folder) => format!(
                "the folder it is in ({}), which is in no git repository",
                printable(&folder.display().to_string())
            ),
        };
        format!("{what} a symbolic link to {target}, outside {root}")
    }
}

/// What a link may lead into: the git work tree of the folder that holds
/// it, else that folder.
enum Root {
    Repository(PathBuf),
    Folder(PathBuf),
}

impl Root {
    /// For the link `link`: from its own folder, never from the current
    /// directory (a command run outside the repository is no licence to
    /// follow a link out of it).
    fn of(link: &Path) -> Self {
        let folder = match link.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let real = |dir: PathBuf| std::fs::canonicalize(&dir).unwrap_or(dir);
        match crate::git::Repository::of(link).work_tree() {
            Some(top) => Root::Repository(real(top)),
            None => Root::Folder(real(folder)),
        }
    }

    fn path(&self) -> &Path {
        match self {
            Root::Repository(path) | Root::Folder(path) => path,
        }
    }
}

/// The first symbolic link on `path`, as written, that leads out of the
/// repository holding it; `..` after the last link may not climb out of
/// where it led either.
fn link_out(path: &Path) -> std::io::Result<Option<LinkOut>> {
    let mut prefix = PathBuf::new();
    let mut last = None;
    for component in path.components() {
        prefix.push(component);
        let is_link = matches!(component, Component::Normal(_))
            && std::fs::symlink_metadata(&prefix).is_ok_and(|m| m.file_type().is_symlink());
        if !is_link {
            continue;
        }
        let target = std::fs::canonicalize(&prefix)?;
        let root = Root::of(&prefix);
        if !target.starts_with(root.path()) {
            return Ok(Some(LinkOut {
                link: prefix,
                target,
                root,
            }));
        }
        last = Some(root);
    }
    let Some(root) = last else {
        return Ok(None);
    };
    let target = std::fs::canonicalize(path)?;
    Ok((!target.starts_with(root.path())).then(|| LinkOut {
        link: path.to_owned(),
        target,
        root,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Reading = Reading {
        limit: 10,
        sized: "small files only",
        pass: "pass a small file",
        in_repository: false,
    };

    fn refused(unread: Unread) -> (String, String) {
        match unread {
            Unread::Refused { why, help } => (why, help),
            Unread::Io(error) => panic!("not a refusal: {error}"),
        }
    }

    #[test]
    fn a_file_is_read_up_to_its_limit_and_refused_past_it_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "0123456789").unwrap();
        assert_eq!(read_text(&path, &SMALL).unwrap(), "0123456789");
        // A sparse file of a gigabyte costs no disk and is never read.
        std::fs::File::create(&path)
            .unwrap()
            .set_len(1_000_000_000)
            .unwrap();
        let (why, help) = refused(read_text(&path, &SMALL).unwrap_err());
        assert_eq!(why, "the file is 1000.0 MB, the limit is 0.0 MB");
        assert_eq!(help, "small files only");
    }

    #[test]
    fn a_device_and_a_directory_are_refused_and_a_missing_file_is_an_io_error() {
        let (why, help) = refused(read_text(Path::new("/dev/zero"), &SMALL).unwrap_err());
        assert!(why.contains("not a regular file"), "{why}");
        assert_eq!(help, "pass a small file");
        let dir = tempfile::tempdir().unwrap();
        let (why, _) = refused(read_text(dir.path(), &SMALL).unwrap_err());
        assert_eq!(why, "it is a directory");
        assert!(matches!(
            read_text(&dir.path().join("missing"), &SMALL),
            Err(Unread::Io(error)) if error.kind() == std::io::ErrorKind::NotFound
        ));
    }

    #[test]
    fn a_file_that_says_it_is_empty_is_still_read_no_further_than_the_limit() {
        // /proc files report a size of 0 and have more to read.
        let (why, _) = refused(read_text(Path::new("/proc/self/maps"), &SMALL).unwrap_err());
        assert_eq!(why, "reading it went past the limit of 0.0 MB");
    }
}
