//! Requests held against the forge's own description of its API: Stoplight
//! Prism, in proxy mode, between the tool and the forge's emulator, with
//! GitHub's published OpenAPI description (`@octokit/openapi`). Prism
//! refuses a request the description does not allow, and an answer of the
//! emulator that GitHub would not give, so both the tool and the emulator
//! are checked.

use std::fs::File;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const PRISM_VERSION: &str = "5.14.2";
pub const OCTOKIT_OPENAPI_VERSION: &str = "23.0.2";

/// Prism and GitHub's description, pinned, installed once into
/// target/prism (`.ci/run` does it first). A failed install fails the
/// test, loudly.
fn installed() -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        crate::ship::pinned_npm(
            "prism",
            &format!(".prism-{PRISM_VERSION}-octokit-openapi-{OCTOKIT_OPENAPI_VERSION}-installed"),
            &[
                format!("@stoplight/prism-cli@{PRISM_VERSION}"),
                format!("@octokit/openapi@{OCTOKIT_OPENAPI_VERSION}"),
            ],
        )
    })
    .clone()
}

/// A Prism proxy in front of an upstream, validating every request and
/// answer against a description.
pub struct Prism {
    child: Child,
    pub url: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Prism {
    /// Prism with GitHub's description (api.github.com), in front of `upstream`.
    pub fn github(upstream: &str) -> Self {
        let root = installed();
        Self::start(
            &root.join("node_modules/@octokit/openapi/generated/api.github.com.json"),
            upstream,
        )
    }

    fn start(description: &Path, upstream: &str) -> Self {
        let root = installed();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::tempdir().expect("a folder for Prism's log");
        let log = dir.path().join("prism.log");
        let child = Command::new(root.join("node_modules/.bin/prism"))
            .args(["proxy", "--errors", "--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .arg(description)
            .arg(upstream)
            .stdout(File::create(&log).expect("the log"))
            .stderr(Stdio::null())
            .spawn()
            .expect("start Prism");
        let prism = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        let started = Instant::now();
        while !prism.text().contains("Prism is listening") {
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "Prism did not start: {}",
                prism.text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        prism
    }

    fn text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }

    /// Requests Prism received.
    pub fn requests(&self) -> usize {
        self.text().matches("Request received").count()
    }

    /// Every request or answer the description does not allow, as Prism
    /// logged it.
    pub fn violations(&self) -> Vec<String> {
        self.text()
            .lines()
            .filter(|line| line.contains("✖") || line.contains("Violation"))
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
