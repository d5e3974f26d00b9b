//! What git knows about the contacts file: its text at a revision (what
//! `--base-ref` plans against) and how two commits relate (what the GitHub
//! loop needs to apply everything merged since the last apply). Through
//! the `git` command, as the CI job's checkout left the repository.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A git command that could not give its answer.
#[derive(Debug, thiserror::Error)]
#[error("git {args} in {dir}: {message}{}", crate::hint::Hint::of(.help))]
pub struct GitError {
    pub args: String,
    pub dir: String,
    pub message: String,
    pub help: Option<String>,
}

/// The working copy a contacts file lives in.
#[derive(Clone, Debug)]
pub struct Repository {
    /// The directory of the contacts file; git resolves `./NAME` from there.
    dir: PathBuf,
}

impl Repository {
    /// The repository holding `file`.
    pub fn of(file: &Path) -> Self {
        let dir = match file.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Self { dir }
    }

    fn run(&self, args: &[&str]) -> Result<std::process::Output, GitError> {
        Command::new("git")
            .arg("-C")
            .arg(&self.dir)
            .args(args)
            .output()
            .map_err(|source| GitError {
                args: args.join(" "),
                dir: self.dir.display().to_string(),
                message: source.to_string(),
                help: Some("install git, or pass the old file itself with --base".to_owned()),
            })
    }

    fn failed(
        &self,
        args: &[&str],
        output: &std::process::Output,
        help: Option<String>,
    ) -> GitError {
        GitError {
            args: args.join(" "),
            dir: self.dir.display().to_string(),
            message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            help,
        }
    }

    /// The full commit ID of `revision`, or an error that says to fetch it.
    pub fn commit(&self, revision: &str) -> Result<String, GitError> {
        let spec = format!("{revision}^{{commit}}");
        let args = ["rev-parse", "--verify", "--quiet", spec.as_str()];
        let output = self.run(&args)?;
        if !output.status.success() {
            return Err(GitError {
                message: format!("`{revision}` is not a commit this clone has"),
                ..self.failed(
                    &args,
                    &output,
                    Some(
                        "fetch it first: with actions/checkout, `fetch-depth: 0` fetches the whole history (`fetch-depth: 2` is enough for a pull request's base)"
                            .to_owned(),
                    ),
                )
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// The text of `file` at `revision`; `None` when the file did not exist
    /// there (the first pull request, which adds it).
    pub fn file_at(&self, revision: &str, file: &Path) -> Result<Option<String>, GitError> {
        let commit = self.commit(revision)?;
        let name = file.file_name().map_or_else(
            || file.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        let object = format!("{commit}:./{name}");
        let exists = self.run(&["cat-file", "-e", &object])?;
        if !exists.status.success() {
            return Ok(None);
        }
        let args = ["show", object.as_str()];
        let output = self.run(&args)?;
        if !output.status.success() {
            return Err(self.failed(&args, &output, None));
        }
        String::from_utf8(output.stdout)
            .map(Some)
            .map_err(|_| GitError {
                args: args.join(" "),
                dir: self.dir.display().to_string(),
                message: format!("{name} at {revision} is not UTF-8 text"),
                help: None,
            })
    }

    /// `file`'s path from the top of the repository, as git names it.
    pub fn path_in_repository(&self, file: &Path) -> Result<String, GitError> {
        let args = ["rev-parse", "--show-prefix"];
        let output = self.run(&args)?;
        if !output.status.success() {
            return Err(self.failed(
                &args,
                &output,
                Some("run it in the repository's checkout".to_owned()),
            ));
        }
        let prefix = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let name = file.file_name().map_or_else(
            || file.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        Ok(format!("{prefix}{name}"))
    }

    /// Whether `ancestor` is `descendant` or one of its ancestors.
    pub fn is_ancestor(&self, ancestor: &str, descendant: &str) -> Result<bool, GitError> {
        let args = ["merge-base", "--is-ancestor", ancestor, descendant];
        let output = self.run(&args)?;
        match output.status.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(self.failed(&args, &output, None)),
        }
    }

    /// The parents of `revision`: two for the merge commit GitHub makes for a
    /// pull request, whose first parent is the base branch.
    pub fn parents(&self, revision: &str) -> Result<Vec<String>, GitError> {
        let commit = self.commit(revision)?;
        let args = ["rev-list", "--parents", "-n", "1", commit.as_str()];
        let output = self.run(&args)?;
        if !output.status.success() {
            return Err(self.failed(&args, &output, None));
        }
        Ok(String::from_utf8_lossy(&output.stdout)
            .split_whitespace()
            .skip(1)
            .map(str::to_owned)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(status.status.success(), "git {args:?}: {status:?}");
    }

    #[test]
    fn a_file_is_read_at_a_revision_and_its_absence_is_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "-b", "main"]);
        std::fs::write(dir.path().join("other.txt"), "x").unwrap();
        git(dir.path(), &["add", "other.txt"]);
        git(dir.path(), &["commit", "-q", "-m", "first"]);
        std::fs::write(dir.path().join("contacts.yaml"), "version: 1\n").unwrap();
        git(dir.path(), &["add", "contacts.yaml"]);
        git(dir.path(), &["commit", "-q", "-m", "second"]);

        let repo = Repository::of(&dir.path().join("contacts.yaml"));
        let file = Path::new("contacts.yaml");
        assert_eq!(
            repo.file_at("HEAD", file).unwrap().as_deref(),
            Some("version: 1\n")
        );
        assert_eq!(repo.file_at("HEAD~1", file).unwrap(), None);
        let missing = repo.file_at("no-such-branch", file).unwrap_err();
        assert!(missing.to_string().contains("fetch-depth"), "{missing}");
        assert_eq!(repo.path_in_repository(file).unwrap(), "contacts.yaml");
        assert!(repo.is_ancestor("HEAD~1", "HEAD").unwrap());
        assert!(!repo.is_ancestor("HEAD", "HEAD~1").unwrap());
        assert_eq!(
            repo.parents("HEAD").unwrap(),
            vec![repo.commit("HEAD~1").unwrap()]
        );
    }
}
