//! Talking to a forge, whichever it is: its REST client ([`http`]), a
//! call and its failure as one error ([`api`]), and the files a job writes
//! for its CI. The adapters that use them (`gitops::github`,
//! `gitops::gitlab`, `gitops::bitbucket`) sit above.

pub mod api;
pub mod http;

use crate::hint::Hint;

/// A forge call that failed, with what it was for and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{forge}: could not {action}: {problem}{}", Hint::of(.help))]
pub struct ForgeError {
    pub forge: &'static str,
    pub action: String,
    pub status: Option<u16>,
    pub problem: String,
    pub help: Option<String>,
}

impl ForgeError {
    /// A problem before any call: the CI's variables, the client.
    pub fn setup(forge: &'static str, action: &str, problem: String, help: Option<String>) -> Self {
        Self {
            forge,
            action: action.to_owned(),
            status: None,
            problem,
            help,
        }
    }

    /// A call that got no successful answer; `help` says what to do about
    /// an answer's status, in the forge's own terms.
    pub fn failed(
        forge: &'static str,
        action: &str,
        failure: http::Failure,
        help: impl Fn(u16) -> Option<String>,
        unreachable_help: &str,
    ) -> Self {
        match failure {
            http::Failure::Refused(answer) => {
                let status = answer.status.as_u16();
                Self {
                    forge,
                    action: action.to_owned(),
                    status: Some(status),
                    problem: format!("{status} {}", answer.message()),
                    help: help(status),
                }
            }
            http::Failure::Unreachable { url, problem } => Self {
                forge,
                action: action.to_owned(),
                status: None,
                problem: format!("{url}: {problem}"),
                help: Some(unreachable_help.to_owned()),
            },
            http::Failure::NotJson { status, problem } => Self {
                forge,
                action: action.to_owned(),
                status: Some(status),
                problem,
                help: None,
            },
            http::Failure::Endless(endless) => Self {
                forge,
                action: action.to_owned(),
                status: None,
                problem: endless.to_string(),
                help: Some(format!(
                    "{forge} should not answer so: retry later, and if it persists, tell whoever runs {forge} (or the proxy before it)"
                )),
            },
            http::Failure::OffOrigin { url, api } => Self {
                forge,
                action: action.to_owned(),
                status: None,
                problem: format!(
                    "the answer pointed at {url}, away from the API at {api}: nothing was sent there"
                ),
                help: Some(format!(
                    "the token goes to the API's own address only; if {forge} sits behind a proxy that rewrites addresses, give its address as the API's"
                )),
            },
            http::Failure::TooLarge { url } => Self {
                forge,
                action: action.to_owned(),
                status: None,
                problem: format!(
                    "the answer of {url} is larger than {} MiB (or the list, {} MiB): not read",
                    http::BODY_LIMIT / (1024 * 1024),
                    http::LISTING_LIMIT / (1024 * 1024)
                ),
                help: Some(format!(
                    "no real page or list of {forge}'s is this large; check the API's address, and the proxy before it"
                )),
            },
        }
    }
}

/// A file a job writes for its CI (outputs, summary, reports) that could
/// not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct CiFileError {
    pub path: String,
    pub source: std::io::Error,
}

/// Appends `text` to `path`.
pub fn append(path: &std::path::Path, text: &str) -> Result<(), CiFileError> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|source| CiFileError {
            path: path.display().to_string(),
            source,
        })
}

/// Keeps the full plan in the job's artifacts folder `dir/artifact`, only
/// when a note left changes out (`cut`): it holds names, emails and phone
/// numbers, kept no longer than it must be.
pub fn keep_in_artifacts(
    dir: &std::path::Path,
    artifact: &str,
    markdown: &str,
    cut: bool,
) -> Result<(), CiFileError> {
    match cut {
        true => write(&dir.join(artifact).join("plan.md"), markdown),
        false => Ok(()),
    }
}

/// Writes `text` to `path`, making its folder.
pub fn write(path: &std::path::Path, text: &str) -> Result<(), CiFileError> {
    path.parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(path, text))
        .map_err(|source| CiFileError {
            path: path.display().to_string(),
            source,
        })
}
