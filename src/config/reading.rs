//! Reading a contacts file as hostile input: a pull request can commit
//! `contacts.yaml -> /proc/self/environ`, or point `-f` at a device. What is
//! read is a regular file inside the repository, of a bounded size, and
//! text: a file with control bytes is refused without quoting any of it,
//! since every snippet of it would go to the job's log and the review.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::ConfigError;

/// The largest contacts file read: well above one of 10,000 accounts
/// (about 2 MB), far below what would take the parser seconds.
pub const SIZE_LIMIT: u64 = 16_000_000;

/// The file's text, after the checks above.
pub fn read(path: &Path) -> Result<String, ConfigError> {
    let file = path.display().to_string();
    let refuse = |why: String, help: &str| ConfigError::Refused {
        path: file.clone(),
        why,
        help: help.to_owned(),
    };
    if through_a_symlink(path) {
        let target = std::fs::canonicalize(path).map_err(|source| io(&file, path, source))?;
        let root = repository_root();
        if !target.starts_with(&root) {
            return Err(refuse(
                format!(
                    "it is a symbolic link to {}, outside the repository ({})",
                    target.display(),
                    root.display()
                ),
                "commit the contacts file itself, not a link (the GitOps loop reads it as committed at a revision, and refuses a link there)",
            ));
        }
    }
    let metadata = std::fs::metadata(path).map_err(|source| io(&file, path, source))?;
    if metadata.is_dir() {
        return Err(refuse(
            "it is a directory".to_owned(),
            &format!(
                "{file} is a directory: pass the contacts file itself, e.g. -f {file}/contacts.yaml"
            ),
        ));
    }
    if !metadata.is_file() {
        return Err(refuse(
            "it is not a regular file (a device, a pipe or a socket)".to_owned(),
            "pass the contacts YAML file itself with -f",
        ));
    }
    let too_big = |size: u64| {
        refuse(
            format!(
                "the file is {}, the limit is {}",
                megabytes(size),
                megabytes(SIZE_LIMIT)
            ),
            "a contacts file of 10,000 accounts is about 2 MB: check that -f names the contacts file",
        )
    };
    if metadata.len() > SIZE_LIMIT {
        return Err(too_big(metadata.len()));
    }
    // A file can say it is empty and still have more to read (/proc), or
    // grow while it is read: never more than the limit is read.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|handle| handle.take(SIZE_LIMIT + 1).read_to_end(&mut bytes))
        .map_err(|source| io(&file, path, source))?;
    if bytes.len() as u64 > SIZE_LIMIT {
        return Err(too_big(bytes.len() as u64));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        refuse(
            "it is not a UTF-8 text file".to_owned(),
            "pass the contacts YAML file with -f (an editor can save it as UTF-8)",
        )
    })?;
    let control = |c: char| (c.is_ascii_control() && !"\t\n\r".contains(c)) || c == '\u{7f}';
    if let Some(at) = text.find(control) {
        let line = text[..at].matches('\n').count() + 1;
        return Err(refuse(
            format!(
                "it holds the control byte 0x{:02x} on line {line}: it is not a YAML text file, so none of it is shown",
                text.as_bytes()[at]
            ),
            "pass the contacts YAML file itself with -f",
        ));
    }
    Ok(text)
}

/// Whether any part of `path`, as written, is a symbolic link.
fn through_a_symlink(path: &Path) -> bool {
    let mut prefix = PathBuf::new();
    for component in path.components() {
        prefix.push(component);
        if matches!(component, Component::Normal(_))
            && std::fs::symlink_metadata(&prefix).is_ok_and(|m| m.file_type().is_symlink())
        {
            return true;
        }
    }
    false
}

/// The repository the run is in: the git work tree of the current
/// directory, else the current directory.
fn repository_root() -> PathBuf {
    let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let top = std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let root = top.unwrap_or(here);
    std::fs::canonicalize(&root).unwrap_or(root)
}

fn io(file: &str, path: &Path, source: std::io::Error) -> ConfigError {
    ConfigError::Read {
        path: file.to_owned(),
        help: super::read_help(file, path, &source),
        source,
    }
}

/// 52428800 as "52.4 MB".
fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
