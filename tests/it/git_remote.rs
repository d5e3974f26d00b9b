//! The repository a loop test works in: a bare `origin` (the forge's copy,
//! which the runners check out from) and a developer's clone that commits
//! and pushes.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::run_checked;

pub struct Remote {
    pub root: tempfile::TempDir,
    pub origin: PathBuf,
    pub dev: PathBuf,
}

impl Remote {
    /// An origin whose `main` holds a README and `files`, and a clone.
    pub fn new(files: &[(&str, &str)]) -> Self {
        let root = tempfile::tempdir().expect("a world");
        let origin = root.path().join("origin.git");
        let dev = root.path().join("dev");
        git(root.path(), &["init", "-q", "--bare", "origin.git"]);
        git(root.path(), &["clone", "-q", "origin.git", "dev"]);
        let remote = Self { root, origin, dev };
        remote.commit(
            &[&[("README.md", "AWS contacts of Acme\n")], files].concat(),
            "Start",
        );
        remote.push_main();
        remote
    }

    /// Writes `files` in the developer's clone and commits them.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (name, text) in files {
            let path = self.dev.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
            git(&self.dev, &["add", name]);
        }
        git(&self.dev, &["commit", "-q", "-m", message]);
        self.head()
    }

    pub fn head(&self) -> String {
        git(&self.dev, &["rev-parse", "HEAD"])
    }

    /// Pushes the developer's branch to origin's `main`.
    pub fn push_main(&self) {
        git(&self.dev, &["push", "-q", "origin", "HEAD:main"]);
    }
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = run_checked(
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=Dev", "-c", "user.email=dev@example.com"])
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "advice.detachedHead=false",
            ])
            .args(args),
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
