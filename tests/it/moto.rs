//! The moto harness: a pinned moto server (a third-party AWS emulator) on a
//! free loopback port, one per test, with its request log.
//!
//! moto is installed on first use into `target/moto-venv` (`.ci/run` does it
//! ahead). If it cannot be installed or started, the tests fail and say how
//! to install it: they never pass without having run.

use std::fs::File;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_account::config::Credentials;
use base64::Engine;

pub const MOTO_VERSION: &str = "5.2.5";
/// The account moto gives the default credentials.
pub const MOTO_CALLER: &str = "123456789012";

fn install_hint() -> String {
    format!(
        "install it with: python3 -m venv target/moto-venv && target/moto-venv/bin/pip install 'moto[server]=={MOTO_VERSION}' \
         (or point ALTCONTACTS_MOTO_PYTHON at a python that has it)"
    )
}

/// The python that runs moto, installing the pinned moto once per machine.
fn python() -> PathBuf {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PYTHON.get_or_init(install) {
        Ok(python) => python.clone(),
        Err(error) => panic!(
            "moto is needed for the interop tests and is not available: {error}\n{}",
            install_hint()
        ),
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn install() -> Result<PathBuf, String> {
    if let Ok(python) = std::env::var("ALTCONTACTS_MOTO_PYTHON") {
        return Ok(PathBuf::from(python));
    }
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&target).map_err(|e| e.to_string())?;
    let venv = target.join("moto-venv");
    let python = venv.join("bin").join("python");
    let marker = venv.join(format!(".moto-{MOTO_VERSION}-installed"));
    // Test processes may run side by side (cargo nextest): one installs,
    // the others wait on the lock and then find the marker.
    let lock = File::create(target.join("moto-venv.lock")).map_err(|e| e.to_string())?;
    lock.lock().map_err(|e| e.to_string())?;
    if marker.exists() {
        return Ok(python);
    }
    eprintln!(
        "installing moto[server]=={MOTO_VERSION} into {} (once)",
        venv.display()
    );
    run(Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv))?;
    run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        &format!("moto[server]=={MOTO_VERSION}"),
    ]))?;
    File::create(&marker).map_err(|e| e.to_string())?;
    Ok(python)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// One request moto received, as its recorder logged it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub body: String,
}

impl Recorded {
    /// The JSON body of an Account API request.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn account_id(&self) -> Option<String> {
        self.json()["AccountId"].as_str().map(str::to_owned)
    }
}

pub struct Moto {
    child: Child,
    pub endpoint: String,
    recording: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Moto {
    pub fn start() -> Self {
        let python = python();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let recording = dir.path().join("recording.jsonl");
        let log = dir.path().join("moto.log");
        let port = free_port();
        let log_file = File::create(&log).expect("a log file");
        let child = Command::new(&python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .env("MOTO_ENABLE_RECORDING", "true")
            .env("MOTO_RECORDER_FILEPATH", &recording)
            .stdout(Stdio::from(log_file.try_clone().expect("clone the log")))
            .stderr(Stdio::from(log_file))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start moto with {}: {e}\n{}",
                    python.display(),
                    install_hint()
                )
            });
        let mut moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            recording,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!(
                    "moto exited ({status}) before listening:\n{}\n{}",
                    moto.log_text(),
                    install_hint()
                );
            }
            assert!(
                Instant::now() < deadline,
                "moto did not listen within 60 s:\n{}",
                moto.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Forgets the requests logged so far.
    pub fn clear_requests(&self) {
        File::create(&self.recording)
            .expect("truncate the recording")
            .flush()
            .expect("flush");
    }

    /// Every request logged since the start (or the last clear).
    pub fn requests(&self) -> Vec<Recorded> {
        let text = std::fs::read_to_string(&self.recording).unwrap_or_default();
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let entry: serde_json::Value =
                    serde_json::from_str(line).expect("moto logs JSON lines");
                let raw = entry["body"].as_str().unwrap_or_default();
                let body = if entry["body_encoded"].as_bool() == Some(true) {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(raw)
                        .expect("base64 body");
                    String::from_utf8_lossy(&bytes).into_owned()
                } else {
                    raw.to_owned()
                };
                let url = entry["url"].as_str().unwrap_or_default();
                let path = url
                    .splitn(4, '/')
                    .nth(3)
                    .map_or("/".to_owned(), |rest| format!("/{rest}"));
                Recorded { path, body }
            })
            .collect()
    }

    /// Requests to one Account API operation (`getAlternateContact`, ...).
    pub fn account_requests(&self, operation: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|request| request.path == format!("/{operation}"))
            .collect()
    }

    /// An SDK configuration for seeding and reading moto from the test,
    /// apart from the binary under test.
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_account::config::SharedCredentialsProvider::new(
                Credentials::new("testing", "testing", None, None, "moto"),
            ))
            .build()
    }

    /// The binary, pointed at this moto with test credentials.
    pub fn command(&self, workspace: &crate::support::Workspace, args: &[&str]) -> Command {
        let mut command = workspace.command(&["--endpoint-url", &self.endpoint]);
        command
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1");
        command
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
