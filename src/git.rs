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

/// Why the contacts file could not be read at a revision.
#[derive(Debug, thiserror::Error)]
pub enum FileAtError {
    #[error(transparent)]
    Git(#[from] GitError),

    /// The loop reads the committed file: a link's text is not it, and
    /// the `paths:` filters of the workflows never see an edit of what it
    /// points at.
    #[error(
        "refusing to read {file} at {revision}: it is a symbolic link there (to {target}), and a revision's contacts file is read as committed, never through a link{}",
        crate::hint::Hint(Some(
            "commit the contacts file itself at that path in place of the link, or point -f at the file the link names, in the loop too"
        ))
    )]
    SymbolicLink {
        file: String,
        revision: String,
        /// The link's text, as committed (cut short).
        target: String,
    },

    #[error(
        "refusing to read {file} at {revision}: it is {what} there, not a file{}",
        crate::hint::Hint(Some("-f names the contacts YAML file itself"))
    )]
    NotAFile {
        file: String,
        revision: String,
        what: &'static str,
    },

    /// Said from the tree's listing, before the file is read.
    #[error(
        "refusing to read {file} at {revision}: the file is {} there, the limit is {}{}",
        crate::printable::megabytes(*.size),
        crate::printable::megabytes(*.limit),
        crate::hint::Hint(Some("check that -f names the contacts file"))
    )]
    TooBig {
        file: String,
        revision: String,
        size: u64,
        limit: u64,
    },
}

/// Whether `text` is a full commit ID as git writes it (SHA-1 or SHA-256,
/// lower-case hex): what a saved plan records, and all it may pass to git.
pub fn is_commit_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
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

    /// The top of the git work tree this directory is in; `None` outside
    /// one, or when git cannot tell.
    pub fn work_tree(&self) -> Option<PathBuf> {
        let output = self.run(&["rev-parse", "--show-toplevel"]).ok()?;
        let top = String::from_utf8(output.stdout).ok()?;
        let top = top.strip_suffix('\n').unwrap_or(&top);
        (output.status.success() && !top.is_empty()).then(|| PathBuf::from(top))
    }

    /// The text of `file` at `revision`; `None` when the file did not exist
    /// there (the first pull request, which adds it). A symbolic link, a
    /// folder or a submodule at that path is refused: `git show` would
    /// give the link's text, or a listing, as if it were the file. So is a
    /// file of more than `limit` bytes, before it is read.
    pub fn file_at(
        &self,
        revision: &str,
        file: &Path,
        limit: u64,
    ) -> Result<Option<String>, FileAtError> {
        let commit = self.commit(revision)?;
        let name = file.file_name().map_or_else(
            || file.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        let Some(entry) = self.entry_at(&commit, &name)? else {
            return Ok(None);
        };
        let refused_as = |what: &'static str| FileAtError::NotAFile {
            file: file.display().to_string(),
            revision: revision.to_owned(),
            what,
        };
        match entry.mode.as_str() {
            "100644" | "100755" => {}
            "120000" => {
                let target = self.blob(&entry.object)?;
                let target = String::from_utf8_lossy(&target);
                const SHOWN: usize = 200;
                let mut shown: String = target.chars().take(SHOWN).collect();
                if target.chars().count() > SHOWN {
                    shown.push('…');
                }
                return Err(FileAtError::SymbolicLink {
                    file: file.display().to_string(),
                    revision: revision.to_owned(),
                    target: shown,
                });
            }
            "040000" => return Err(refused_as("a folder")),
            "160000" => return Err(refused_as("a submodule")),
            _ => return Err(refused_as("an entry of another kind")),
        }
        if let Some(size) = entry.size.filter(|size| *size > limit) {
            return Err(FileAtError::TooBig {
                file: file.display().to_string(),
                revision: revision.to_owned(),
                size,
                limit,
            });
        }
        let bytes = self.blob(&entry.object)?;
        String::from_utf8(bytes).map(Some).map_err(|_| {
            FileAtError::Git(GitError {
                args: format!("cat-file blob {}", entry.object),
                dir: self.dir.display().to_string(),
                message: format!("{name} at {revision} is not UTF-8 text"),
                help: None,
            })
        })
    }

    /// The entry named `name` in the tree of this directory at `commit`
    /// (`None` when the directory or the name is not there), as `ls-tree`
    /// lists it: its mode tells a file from a link, and its size a file
    /// too big to read.
    fn entry_at(&self, commit: &str, name: &str) -> Result<Option<TreeEntry>, GitError> {
        // The folder itself, at that commit: a tree, when it was there.
        let spec = format!("{commit}:./");
        let tree = self.run(&["rev-parse", "--verify", "--quiet", &spec])?;
        if !tree.status.success() {
            return Ok(None);
        }
        let tree = String::from_utf8_lossy(&tree.stdout).trim().to_owned();
        // --full-tree: in a subfolder, ls-tree would otherwise keep only
        // the paths under it, which a subtree's entries are not.
        let args = ["ls-tree", "--full-tree", "--long", "-z", tree.as_str()];
        let output = self.run(&args)?;
        if !output.status.success() {
            return Err(self.failed(&args, &output, None));
        }
        Ok(output
            .stdout
            .split(|&byte| byte == 0)
            .filter_map(TreeEntry::parse)
            .find(|entry| entry.name.as_slice() == name.as_bytes()))
    }

    /// The bytes of a blob, exactly as committed.
    fn blob(&self, object: &str) -> Result<Vec<u8>, GitError> {
        let args = ["cat-file", "blob", object];
        let output = self.run(&args)?;
        if !output.status.success() {
            return Err(self.failed(&args, &output, None));
        }
        Ok(output.stdout)
    }

    /// The commit checked out (HEAD) in the repository this directory is
    /// in; `None` when it is in none (no `.git` in it or in a folder above
    /// it, and no `GIT_DIR`), or the repository has no commit yet. A
    /// repository git cannot read (not installed, "dubious ownership") is
    /// an error, never taken for no repository.
    pub fn head(&self) -> Result<Option<String>, GitError> {
        if !self.in_a_repository() {
            return Ok(None);
        }
        let args = ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"];
        let output = self.run(&args)?;
        let id = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        match output.status.code() {
            Some(0) if is_commit_id(&id) => Ok(Some(id)),
            // --quiet: a HEAD that names no commit yet fails without a word.
            Some(1) if output.stderr.is_empty() => Ok(None),
            _ => Err(self.failed(
                &args,
                &output,
                Some(
                    "git must be able to read the repository the contacts file is in (if it says \"dubious ownership\", add the checkout to safe.directory)"
                        .to_owned(),
                ),
            )),
        }
    }

    /// Whether the directory is in a git repository: `GIT_DIR` is set, or
    /// it or a folder above it has a `.git` (a folder, or a worktree's file).
    fn in_a_repository(&self) -> bool {
        if std::env::var_os("GIT_DIR").is_some_and(|dir| !dir.is_empty()) {
            return true;
        }
        let dir = std::fs::canonicalize(&self.dir).unwrap_or_else(|_| self.dir.clone());
        dir.ancestors()
            .any(|folder| std::fs::symlink_metadata(folder.join(".git")).is_ok())
    }

    /// Whether this clone has the commit `id` (a full commit ID).
    pub fn has_commit(&self, id: &str) -> Result<bool, GitError> {
        let spec = format!("{id}^{{commit}}");
        let output = self.run(&["cat-file", "-e", &spec])?;
        Ok(output.status.success())
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

    /// Whether the clone holds only part of the history (a shallow fetch),
    /// so that a commit it lacks may still be an ancestor.
    pub fn is_shallow(&self) -> Result<bool, GitError> {
        let args = ["rev-parse", "--is-shallow-repository"];
        let output = self.run(&args)?;
        if !output.status.success() {
            return Err(self.failed(&args, &output, None));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim() == "true")
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

/// One entry of `git ls-tree --long -z`: `MODE TYPE OBJECT SIZE\tNAME`,
/// the size padded with spaces (`-` for what is not a blob).
struct TreeEntry {
    mode: String,
    object: String,
    size: Option<u64>,
    name: Vec<u8>,
}

impl TreeEntry {
    fn parse(line: &[u8]) -> Option<Self> {
        let tab = line.iter().position(|&byte| byte == b'\t')?;
        let head = std::str::from_utf8(&line[..tab]).ok()?;
        let mut fields = head.split_whitespace();
        let (mode, _kind, object) = (fields.next()?, fields.next()?, fields.next()?);
        Some(Self {
            mode: mode.to_owned(),
            object: object.to_owned(),
            size: fields.next().and_then(|size| size.parse().ok()),
            name: line[tab + 1..].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: u64 = 1_000;

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
            repo.file_at("HEAD", file, LIMIT).unwrap().as_deref(),
            Some("version: 1\n")
        );
        assert_eq!(repo.file_at("HEAD~1", file, LIMIT).unwrap(), None);
        let missing = repo.file_at("no-such-branch", file, LIMIT).unwrap_err();
        assert!(missing.to_string().contains("fetch-depth"), "{missing}");
        assert_eq!(repo.path_in_repository(file).unwrap(), "contacts.yaml");
        assert!(repo.is_ancestor("HEAD~1", "HEAD").unwrap());
        assert!(!repo.is_ancestor("HEAD", "HEAD~1").unwrap());
        assert_eq!(
            repo.parents("HEAD").unwrap(),
            vec![repo.commit("HEAD~1").unwrap()]
        );
    }

    #[test]
    fn a_symbolic_link_at_a_revision_is_refused_not_read_as_its_text() {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "-b", "main"]);
        std::fs::create_dir(dir.path().join("infra")).unwrap();
        std::fs::write(dir.path().join("infra/contacts.yaml"), "version: 1\n").unwrap();
        std::os::unix::fs::symlink("infra/contacts.yaml", dir.path().join("contacts.yaml"))
            .unwrap();
        git(dir.path(), &["add", "."]);
        git(dir.path(), &["commit", "-q", "-m", "linked"]);

        let repo = Repository::of(&dir.path().join("contacts.yaml"));
        let error = repo
            .file_at("HEAD", Path::new("contacts.yaml"), LIMIT)
            .unwrap_err();
        assert!(
            matches!(&error, FileAtError::SymbolicLink { target, .. } if target == "infra/contacts.yaml"),
            "{error:?}"
        );
        let said = error.to_string();
        assert!(
            said.starts_with(
                "refusing to read contacts.yaml at HEAD: it is a symbolic link there (to infra/contacts.yaml)"
            ) && said.contains("commit the contacts file itself"),
            "{said}"
        );
        // A folder by that name is not read as a listing either.
        assert!(matches!(
            repo.file_at("HEAD", Path::new("infra"), LIMIT),
            Err(FileAtError::NotAFile {
                what: "a folder",
                ..
            })
        ));
        // The file the link names is read, from its own folder too.
        let infra = Repository::of(&dir.path().join("infra/contacts.yaml"));
        assert_eq!(
            infra
                .file_at("HEAD", Path::new("infra/contacts.yaml"), LIMIT)
                .unwrap()
                .as_deref(),
            Some("version: 1\n")
        );
        assert_eq!(
            infra
                .file_at("HEAD", Path::new("missing.yaml"), LIMIT)
                .unwrap(),
            None
        );
    }

    #[test]
    fn a_file_past_the_limit_at_a_revision_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "-b", "main"]);
        std::fs::write(dir.path().join("contacts.yaml"), "#".repeat(1_500)).unwrap();
        git(dir.path(), &["add", "contacts.yaml"]);
        git(dir.path(), &["commit", "-q", "-m", "big"]);
        let repo = Repository::of(&dir.path().join("contacts.yaml"));
        let error = repo
            .file_at("HEAD", Path::new("contacts.yaml"), LIMIT)
            .unwrap_err();
        assert!(
            matches!(
                error,
                FileAtError::TooBig {
                    size: 1_500,
                    limit: LIMIT,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(
            error.to_string().starts_with(
                "refusing to read contacts.yaml at HEAD: the file is 0.0 MB there, the limit is 0.0 MB"
            ),
            "{error}"
        );
        assert_eq!(
            repo.file_at("HEAD", Path::new("contacts.yaml"), 1_500)
                .unwrap()
                .map(|text| text.len()),
            Some(1_500)
        );
    }

    #[test]
    fn the_work_tree_is_the_one_the_folder_is_in_and_none_outside_one() {
        let outside = tempfile::tempdir().unwrap();
        let file = outside.path().join("sub/contacts.yaml");
        std::fs::create_dir(outside.path().join("sub")).unwrap();
        assert_eq!(Repository::of(&file).work_tree(), None);
        git(outside.path(), &["init", "-q", "-b", "main"]);
        assert_eq!(
            Repository::of(&file)
                .work_tree()
                .map(|top| top.canonicalize().unwrap()),
            Some(outside.path().canonicalize().unwrap())
        );
    }

    #[test]
    fn head_is_the_checked_out_commit_and_none_outside_a_repository() {
        let outside = tempfile::tempdir().unwrap();
        let file = outside.path().join("contacts.yaml");
        assert_eq!(Repository::of(&file).head().unwrap(), None);

        git(outside.path(), &["init", "-q", "-b", "main"]);
        assert_eq!(Repository::of(&file).head().unwrap(), None, "no commit yet");
        std::fs::write(&file, "version: 1\n").unwrap();
        git(outside.path(), &["add", "contacts.yaml"]);
        git(outside.path(), &["commit", "-q", "-m", "first"]);
        let repo = Repository::of(&file);
        let head = repo.head().unwrap().unwrap();
        assert!(is_commit_id(&head), "{head}");
        assert_eq!(head, repo.commit("HEAD").unwrap());
        assert!(repo.has_commit(&head).unwrap());
        assert!(!repo.has_commit(&"0".repeat(40)).unwrap());
        assert!(!is_commit_id("--output=x"));
        assert!(!is_commit_id(&head.to_uppercase()));
    }
}
