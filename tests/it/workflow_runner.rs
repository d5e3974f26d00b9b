//! The GitOps loop as GitHub runs it, on this machine: the example
//! workflows users copy (`examples/github/`) and `action.yml`, executed by a pinned local runner (wrkflw,
//! in its emulation mode), against a bare git repository as `origin`, the
//! GitHub API emulator and the AWS emulator.
//!
//! What GitHub itself does around a run, the harness does: it decides
//! which runs happen (an evicted run is one that never does), makes a pull
//! request's merge commit, gives each job a token with the permissions its
//! `permissions:` block asks for, and cancels a run the way the runner
//! does (SIGINT to the step's shell, then SIGTERM 7.5 s later).
//!
//! The test's copy of a workflow differs from the example only where the
//! local runner needs it: the event's trigger is listed first and the
//! variables GitHub sets are given per job (wrkflw fixes
//! `GITHUB_API_URL` and has no event payload); the hosted actions
//! (`actions/checkout`, `aws-actions/configure-aws-credentials`,
//! `actions/upload-artifact`, `github/codeql-action/upload-sarif`) are
//! local stand-ins doing the same job; and
//! the altcontacts action is this commit's `action.yml`, whose release
//! signing key is the test's own.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_yaml::{Mapping, Value};

use crate::emulator::{Emulator, isolate_from_aws};
use crate::git_remote::{Remote, git};
use crate::github_api::{ACTION_REPOSITORY, GitHub, REPOSITORY};
use crate::release::release;
pub use crate::release::release_tag;

pub const WRKFLW_VERSION: &str = "0.8.0";

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The pinned wrkflw, installed once into target/wrkflw (`.ci/run` does it
/// first; it takes minutes). A failed install fails the test, loudly.
pub fn wrkflw() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Ok(path) = std::env::var("ALTCONTACTS_WRKFLW") {
                return PathBuf::from(path);
            }
            let root = repo_root().join("target").join("wrkflw");
            let binary = root.join("bin").join("wrkflw");
            let marker = root.join(format!(".wrkflw-{WRKFLW_VERSION}-installed"));
            std::fs::create_dir_all(&root).expect("target/wrkflw");
            let lock = File::create(root.with_extension("lock")).expect("a lock file");
            lock.lock().expect("the lock");
            if !marker.exists() {
                eprintln!("installing wrkflw {WRKFLW_VERSION} into {} (once; minutes)", root.display());
                let status = Command::new("cargo")
                    .args(["install", "wrkflw", "--locked", "--no-default-features", "--debug"])
                    .args(["--version", WRKFLW_VERSION, "--root"])
                    .arg(&root)
                    .status()
                    .expect("cargo install wrkflw");
                assert!(
                    status.success(),
                    "wrkflw {WRKFLW_VERSION} is needed to run the example workflows and could not be installed: \
                     cargo install wrkflw --locked --no-default-features --debug --version {WRKFLW_VERSION} --root target/wrkflw"
                );
                File::create(&marker).expect("the marker");
            }
            binary
        })
        .clone()
}

/// The workflows users copy (`examples/github/`), by file name.
pub fn example_workflows() -> BTreeMap<String, String> {
    let dir = repo_root().join("examples").join("github");
    std::fs::read_dir(&dir)
        .expect("examples/github")
        .map(|entry| entry.expect("an example").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yml"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                std::fs::read_to_string(&path).expect("an example workflow"),
            )
        })
        .collect()
}

/// A GitHub event that starts a workflow run.
#[derive(Clone, Debug)]
pub enum Event {
    PullRequest {
        number: u64,
        merge: String,
        head: String,
        changed: Vec<String>,
    },
    Push {
        sha: String,
        before: String,
        changed: Vec<String>,
    },
    Schedule {
        sha: String,
    },
    /// What the EventBridge rule of `altcontacts events --forge github`
    /// sends: the body (`event_type`, `client_payload`) as the rule's input
    /// template made it.
    RepositoryDispatch {
        sha: String,
        body: serde_json::Value,
    },
}

impl Event {
    fn name(&self) -> &'static str {
        match self {
            Event::PullRequest { .. } => "pull_request",
            Event::Push { .. } => "push",
            Event::Schedule { .. } => "schedule",
            Event::RepositoryDispatch { .. } => "repository_dispatch",
        }
    }

    fn sha(&self) -> &str {
        match self {
            Event::PullRequest { merge, .. } => merge,
            Event::Push { sha, .. }
            | Event::Schedule { sha }
            | Event::RepositoryDispatch { sha, .. } => sha,
        }
    }

    fn git_ref(&self) -> String {
        match self {
            Event::PullRequest { number, .. } => format!("refs/pull/{number}/merge"),
            _ => "refs/heads/main".to_owned(),
        }
    }

    fn payload(&self) -> serde_json::Value {
        // As GitHub puts it in every event's payload.
        let repository = serde_json::json!({ "full_name": REPOSITORY, "default_branch": "main" });
        match self {
            Event::PullRequest {
                number,
                merge,
                head,
                ..
            } => serde_json::json!({
                "action": "synchronize", "number": number,
                "pull_request": { "number": number, "merge_commit_sha": merge,
                    "head": { "sha": head, "ref": format!("pr-{number}") }, "base": { "ref": "main" } },
                "repository": repository }),
            Event::Push { sha, before, .. } => serde_json::json!({
                "ref": "refs/heads/main", "before": before, "after": sha,
                "repository": repository }),
            Event::Schedule { .. } => serde_json::json!({
                "schedule": "*/30 * * * *", "repository": repository }),
            Event::RepositoryDispatch { body, .. } => serde_json::json!({
                "action": body["event_type"], "branch": "main",
                "client_payload": body["client_payload"],
                "repository": repository }),
        }
    }
}

/// The world a loop runs in: origin, a developer's clone, GitHub, AWS.
pub struct World {
    remote: Remote,
    pub github: GitHub,
    /// Where the jobs reach GitHub's API: the emulator, or a proxy in front
    /// of it.
    api_url: String,
    aws: Option<Emulator>,
    /// Where AWS is for the jobs: the emulator, or moto.
    aws_endpoint: String,
    action: PathBuf,
    workflows: BTreeMap<String, String>,
    runs: std::sync::atomic::AtomicU32,
}

/// A finished run: the runner's output and what the run left behind.
pub struct Finished {
    pub output: Output,
    pub dir: PathBuf,
}

impl Finished {
    pub fn succeeded(&self) -> bool {
        self.output.status.success()
    }

    /// What the runner printed (wrkflw prints a failed step's output).
    pub fn log(&self) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&self.output.stdout),
            String::from_utf8_lossy(&self.output.stderr)
        )
    }

    /// The job summary, as GitHub takes it: a step's summary over 1 MiB is
    /// refused (and this run's steps write it in one).
    pub fn summary(&self) -> String {
        let summary = std::fs::read_to_string(self.dir.join("summary.md")).unwrap_or_default();
        assert!(
            summary.len() <= 1024 * 1024,
            "GitHub refuses a job summary of {} bytes (at most 1 MiB)",
            summary.len()
        );
        summary
    }

    /// The files of an uploaded artifact, and the retention it was given.
    pub fn artifact(&self, name: &str) -> Option<(Vec<PathBuf>, String)> {
        let dir = self.dir.join("artifacts").join(name);
        let retention = std::fs::read_to_string(dir.join(".retention-days")).ok()?;
        let files = std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| !path.ends_with(".retention-days"))
            .collect();
        Some((files, retention.trim().to_owned()))
    }
}

/// A run still going, to cancel as GitHub's runner does.
pub struct Running {
    pub child: Child,
    pub dir: PathBuf,
}

impl Running {
    /// The process of the step now running the installed altcontacts, and
    /// its shell (the step's entry process), if one is running.
    pub fn step_shell(&self) -> Option<(i32, i32)> {
        let binary = self
            .dir
            .join("temp")
            .join(format!("altcontacts-{}", release_tag()))
            .join("altcontacts");
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            if std::fs::read_link(entry.path().join("exe")).ok().as_deref()
                != Some(binary.as_path())
            {
                continue;
            }
            let status = std::fs::read_to_string(entry.path().join("status")).ok()?;
            let parent = status
                .lines()
                .find_map(|line| line.strip_prefix("PPid:"))
                .and_then(|ppid| ppid.trim().parse().ok())?;
            return Some((pid, parent));
        }
        None
    }

    /// Sends `signal` to the step's shell, as the runner does on cancel.
    pub fn signal_step(&self, signal: i32) {
        let (_, shell) = self.step_shell().expect("a step running altcontacts");
        // SAFETY: kill() only sends a signal to a process of this test's run.
        assert_eq!(unsafe { libc::kill(shell, signal) }, 0);
    }

    pub fn wait(self) -> Finished {
        let output = self.child.wait_with_output().expect("the runner ends");
        Finished {
            output,
            dir: self.dir,
        }
    }
}

impl std::ops::Deref for World {
    type Target = Remote;

    fn deref(&self) -> &Remote {
        &self.remote
    }
}

impl World {
    pub fn new(github: GitHub, aws: Emulator) -> Self {
        let endpoint = aws.endpoint.clone();
        Self::with_aws(github, Some(aws), endpoint)
    }

    /// A world whose AWS is moto (or any endpoint), not the emulator.
    pub fn on_endpoint(github: GitHub, endpoint: &str) -> Self {
        Self::with_aws(github, None, endpoint.to_owned())
    }

    /// The jobs reach GitHub's API at `url`, a proxy in front of the
    /// emulator (whose next-page links then point there too).
    pub fn reach_api_at(&mut self, url: &str) {
        self.github.reached_at(url);
        self.api_url = url.to_owned();
    }

    /// The AWS emulator of this world.
    pub fn aws(&self) -> &Emulator {
        self.aws.as_ref().expect("this world's AWS is the emulator")
    }

    fn with_aws(github: GitHub, aws: Option<Emulator>, aws_endpoint: String) -> Self {
        let remote = Remote::new(&[]);
        // GitHub serves any commit by its ID, as actions/checkout fetches it.
        git(
            &remote.origin,
            &["config", "uploadpack.allowAnySHA1InWant", "true"],
        );

        let action = remote.root.path().join("action");
        std::fs::create_dir_all(action.join(".github")).unwrap();
        let release = release();
        std::fs::write(
            action.join(".github").join("release-signers"),
            &release.signers,
        )
        .unwrap();
        std::fs::copy(repo_root().join("Cargo.toml"), action.join("Cargo.toml")).unwrap();
        std::fs::write(action.join("action.yml"), action_copy()).unwrap();
        github.publish_release(&release_tag(), release.assets.clone());
        let _ = &release.dir;

        Self {
            remote,
            api_url: github.url.clone(),
            github,
            aws,
            aws_endpoint,
            action,
            workflows: example_workflows(),
            runs: Default::default(),
        }
    }

    /// Opens (or updates) pull request `number` from the developer's HEAD:
    /// pushes the branch and makes the merge commit GitHub checks out
    /// (`refs/pull/N/merge`, first parent the base branch).
    pub fn pull_request(&self, number: u64) -> Event {
        let head = self.head();
        git(
            &self.dev,
            &[
                "push",
                "-q",
                "-f",
                "origin",
                &format!("HEAD:refs/heads/pr-{number}"),
            ],
        );
        let scratch = self.root.path().join(format!("merge-{number}"));
        let _ = std::fs::remove_dir_all(&scratch);
        git(
            self.root.path(),
            &["clone", "-q", "origin.git", scratch.to_str().unwrap()],
        );
        git(&scratch, &["checkout", "-q", "main"]);
        git(
            &scratch,
            &[
                "merge",
                "-q",
                "--no-ff",
                "-m",
                &format!("Merge pull request #{number}"),
                &head,
            ],
        );
        let merge = git(&scratch, &["rev-parse", "HEAD"]);
        git(
            &scratch,
            &[
                "push",
                "-q",
                "-f",
                "origin",
                &format!("HEAD:refs/pull/{number}/merge"),
            ],
        );
        let changed = git(&scratch, &["diff", "--name-only", "HEAD^1", "HEAD"]);
        self.github.open_pull_request(number);
        Event::PullRequest {
            number,
            merge,
            head,
            changed: changed.lines().map(str::to_owned).collect(),
        }
    }

    /// The push event for what origin's main holds now, since `before`.
    pub fn push_event(&self, before: &str) -> Event {
        let sha = git(&self.origin, &["rev-parse", "main"]);
        let changed = git(&self.origin, &["diff", "--name-only", before, &sha]);
        Event::Push {
            sha,
            before: before.to_owned(),
            changed: changed.lines().map(str::to_owned).collect(),
        }
    }

    /// The dispatch an event's rule sends, by its request body.
    pub fn dispatch_event(&self, body: &serde_json::Value) -> Event {
        Event::RepositoryDispatch {
            sha: git(&self.origin, &["rev-parse", "main"]),
            body: body.clone(),
        }
    }

    pub fn schedule_event(&self) -> Event {
        Event::Schedule {
            sha: git(&self.origin, &["rev-parse", "main"]),
        }
    }

    /// Runs an example workflow for `event` to its end.
    pub fn run(&self, workflow: &str, event: &Event) -> Finished {
        self.start(workflow, event, &[]).wait()
    }

    /// Runs an example workflow for `event` with workflow-level `env`
    /// settings (what the docs tell a user to configure there).
    pub fn run_configured(&self, workflow: &str, event: &Event, env: &[(&str, &str)]) -> Finished {
        self.start(workflow, event, env).wait()
    }

    /// Starts an example workflow for `event`, as GitHub would.
    pub fn start(&self, workflow: &str, event: &Event, env: &[(&str, &str)]) -> Running {
        let n = self.runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let dir = self.root.path().join(format!("run-{n}"));
        let runner = dir.join("runner");
        std::fs::create_dir_all(runner.join("_actions")).unwrap();
        std::fs::create_dir_all(dir.join("temp")).unwrap();
        std::fs::create_dir_all(dir.join("artifacts")).unwrap();
        std::os::unix::fs::symlink(&self.action, runner.join("_actions").join("altcontacts"))
            .unwrap();
        // wrkflw reads the branch a push filter matches from the repository
        // it runs in, which needs a commit.
        git(&runner, &["init", "-q", "-b", "main"]);
        git(&runner, &["commit", "-q", "--allow-empty", "-m", "runner"]);
        std::fs::write(dir.join("event.json"), event.payload().to_string()).unwrap();
        let text = self.workflows.get(workflow).unwrap_or_else(|| {
            panic!(
                "examples/github has no workflow {workflow}: {:?}",
                self.workflows.keys()
            )
        });
        let copy = self.workflow_copy(text, event, &dir, n, env);
        std::fs::write(dir.join("workflow.yml"), &copy).unwrap();

        let mut command = Command::new(wrkflw());
        command
            .current_dir(&runner)
            .args(["--verbose", "run", "--runtime", "emulation"]);
        // GitHub's trigger filters (branches, paths) are wrkflw's to apply;
        // it cannot parse a schedule's crons, and a scheduled run has none
        // to apply, so it is run without an event.
        match event {
            Event::PullRequest { changed, .. } => {
                command.args(["--event", "pull_request", "--base-branch", "main"]);
                command.args([
                    "--activity-type",
                    "synchronize",
                    "--changed-files",
                    &changed.join(","),
                ]);
            }
            Event::Push { changed, .. } => {
                command.args(["--event", "push", "--changed-files", &changed.join(",")]);
            }
            Event::Schedule { .. } | Event::RepositoryDispatch { .. } => {}
        }
        command.arg(dir.join("workflow.yml"));
        isolate_from_aws(&mut command);
        command
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_TOKEN");
        let child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start wrkflw");
        Running { child, dir }
    }

    /// The example workflow as this test runs it (see the module's doc).
    fn workflow_copy(
        &self,
        text: &str,
        event: &Event,
        dir: &Path,
        run: u32,
        env: &[(&str, &str)],
    ) -> String {
        let mut workflow: Value = serde_yaml::from_str(text).expect("an example workflow is YAML");
        let map = workflow.as_mapping_mut().expect("a workflow is a mapping");
        // wrkflw takes the first trigger for `github.event_name`.
        if let Some(Value::Mapping(on)) = map.get_mut("on") {
            let key = Value::from(event.name());
            if let Some(value) = on.remove(&key) {
                let rest = std::mem::take(on);
                on.insert(key, value);
                on.extend(rest);
            }
        }
        if !env.is_empty() {
            let workflow_env = map
                .entry(Value::from("env"))
                .or_insert_with(|| Value::Mapping(Mapping::new()));
            for (key, value) in env {
                workflow_env
                    .as_mapping_mut()
                    .expect("env is a mapping")
                    .insert(Value::from(*key), Value::from(*value));
            }
        }
        let jobs = map
            .get_mut("jobs")
            .and_then(Value::as_mapping_mut)
            .expect("a workflow has jobs");
        for (_, job) in jobs.iter_mut() {
            let job = job.as_mapping_mut().expect("a job is a mapping");
            let permissions: Vec<String> = job
                .get("permissions")
                .and_then(Value::as_mapping)
                .map(|p| {
                    p.iter()
                        .map(|(k, v)| {
                            format!(
                                "{}:{}",
                                k.as_str().unwrap_or_default(),
                                v.as_str().unwrap_or_default()
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let permissions: Vec<&str> = permissions.iter().map(String::as_str).collect();
            let token = self.github.token(&permissions);
            let mut job_env = Mapping::new();
            let mut set = |key: &str, value: String| {
                job_env.insert(Value::from(key), Value::from(value));
            };
            set("GITHUB_EVENT_NAME", event.name().to_owned());
            set(
                "GITHUB_EVENT_PATH",
                dir.join("event.json").display().to_string(),
            );
            set("GITHUB_REF", event.git_ref());
            set("GITHUB_SHA", event.sha().to_owned());
            if let Event::PullRequest { .. } = event {
                set("GITHUB_BASE_REF", "main".to_owned());
            }
            set("GITHUB_REPOSITORY", REPOSITORY.to_owned());
            set("GITHUB_API_URL", self.api_url.clone());
            set("GITHUB_SERVER_URL", self.github.url.clone());
            set("GITHUB_TOKEN", token);
            set("GITHUB_RUN_ID", (9000 + run).to_string());
            set(
                "GITHUB_STEP_SUMMARY",
                dir.join("summary.md").display().to_string(),
            );
            set("RUNNER_TEMP", dir.join("temp").display().to_string());
            set("GITHUB_ACTION_PATH", self.action.display().to_string());
            set("GITHUB_ACTION_REPOSITORY", ACTION_REPOSITORY.to_owned());
            set(
                "ALTCONTACTS_TEST_ARTIFACTS",
                dir.join("artifacts").display().to_string(),
            );
            job.insert(Value::from("env"), Value::Mapping(job_env));
            if let Some(Value::Sequence(steps)) = job.get_mut("steps") {
                for step in steps.iter_mut() {
                    with_secrets(step);
                    self.stand_in(step, event);
                }
            }
        }
        serde_yaml::to_string(&workflow).expect("a workflow serializes")
    }

    /// Replaces a hosted action with a local step that does its job.
    fn stand_in(&self, step: &mut Value, event: &Event) {
        let Some(uses) = step.get("uses").and_then(Value::as_str).map(str::to_owned) else {
            return;
        };
        let with = step.get("with").cloned().unwrap_or(Value::Null);
        let input = |name: &str| {
            with.get(name).map(|v| match v {
                Value::String(s) => s.clone(),
                other => serde_yaml::to_string(other).unwrap().trim().to_owned(),
            })
        };
        let script = if uses.starts_with("actions/checkout@") {
            // A real checkout of the event's commit from origin, at the
            // depth asked for, with no credentials left behind.
            let depth = input("fetch-depth").unwrap_or_else(|| "1".into());
            let fetch = if depth == "0" {
                "git fetch -q --no-tags origin '+refs/heads/*:refs/remotes/origin/*' \"$GITHUB_SHA\"".to_owned()
            } else {
                format!("git fetch -q --no-tags --depth={depth} origin \"$GITHUB_SHA\"")
            };
            format!(
                "git init -q . && git remote add origin 'file://{}' && {fetch} && git checkout -q --detach \"$GITHUB_SHA\"",
                self.origin.display()
            )
        } else if uses.starts_with("aws-actions/configure-aws-credentials@") {
            let region = input("aws-region").unwrap_or_else(|| "us-east-1".into());
            format!(
                "{{ echo AWS_ACCESS_KEY_ID=emulator; echo AWS_SECRET_ACCESS_KEY=emulator; echo AWS_SESSION_TOKEN=emulator-session; \
                 echo AWS_REGION={region}; echo AWS_DEFAULT_REGION={region}; echo AWS_ENDPOINT_URL={}; }} >> \"$GITHUB_ENV\"",
                self.aws_endpoint
            )
        } else if uses.starts_with("github/codeql-action/upload-sarif@") {
            // What upload-sarif sends GitHub: the log gzipped and
            // Base64-encoded, for the run's commit and ref, with the job's token.
            let file = input("sarif_file").expect("upload-sarif is given its sarif_file");
            format!(
                "set -eu; body=\"$RUNNER_TEMP/sarif-upload.json\"; \
                 {{ printf '{{\"commit_sha\":\"%s\",\"ref\":\"%s\",\"sarif\":\"' \"$GITHUB_SHA\" \"$GITHUB_REF\"; \
                 gzip -c '{file}' | base64 -w0; printf '\"}}'; }} > \"$body\"; \
                 curl --fail-with-body -sS -X POST -H \"Authorization: Bearer $GITHUB_TOKEN\" \
                 -H 'Accept: application/vnd.github+json' --data @\"$body\" \
                 \"$GITHUB_API_URL/repos/$GITHUB_REPOSITORY/code-scanning/sarifs\""
            )
        } else if uses.starts_with("actions/upload-artifact@") {
            let field = |name: &str| input(name).unwrap_or_default().replace('\'', "");
            format!(
                "set -eu; NAME='{}'; FROM='{}'; DAYS='{}'; {KEEP_ARTIFACT}",
                field("name"),
                field("path"),
                field("retention-days")
            )
        } else if uses.starts_with("YOUR-ORG/altcontacts@") {
            let step = step.as_mapping_mut().unwrap();
            step.insert(Value::from("uses"), Value::from("./_actions/altcontacts"));
            // wrkflw 0.8 hands a composite action its `with:` values
            // unevaluated; GitHub evaluates them first. The references to
            // the event's payload are evaluated here as GitHub would, from
            // the payload the run is given (absent is empty).
            if let Some(Value::Mapping(with)) = step.get_mut("with") {
                let payload = event.payload();
                *with = with
                    .iter()
                    .map(|(key, value)| {
                        // As the action's copy names its inputs (see `action_copy`).
                        let key = Value::from(key.as_str().unwrap_or_default().replace('-', "_"));
                        let value = match value.as_str() {
                            Some(text) => Value::from(evaluate_event_references(text, &payload)),
                            None => value.clone(),
                        };
                        (key, value)
                    })
                    .collect();
            }
            return;
        } else {
            panic!("no local stand-in for {uses} (event {})", event.name());
        };
        let step = step.as_mapping_mut().unwrap();
        step.remove("uses");
        step.remove("with");
        step.insert(
            Value::from("name"),
            Value::from(format!("{uses} (local stand-in)")),
        );
        step.insert(Value::from("run"), Value::from(script));
    }
}

/// The repository's (and its environment's) secrets, as the tests set
/// them up per docs/iam.md.
pub const SECRETS: [(&str, &str); 1] = [("ALTCONTACTS_RECORD_KEY", "the-tests-record-key")];

/// A step's `env` with each `${{ secrets.NAME }}` given its value, as
/// GitHub does for a job that may read it (wrkflw has no secrets).
fn with_secrets(step: &mut Value) {
    let Some(Value::Mapping(env)) = step.get_mut("env") else {
        return;
    };
    for (_, value) in env.iter_mut() {
        let Some(text) = value.as_str().map(str::to_owned) else {
            continue;
        };
        for (name, secret) in SECRETS {
            if text.trim() == format!("${{{{ secrets.{name} }}}}") {
                *value = Value::from(secret);
            }
        }
    }
}

/// `text` with each `${{ github.event.A.B }}` replaced by that field of
/// the event's payload, as GitHub evaluates it: a string as it is, an
/// absent field as empty.
fn evaluate_event_references(text: &str, payload: &serde_json::Value) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        let Some(end) = rest[start..].find("}}") else {
            break;
        };
        let expression = rest[start + 3..start + end].trim();
        out.push_str(&rest[..start]);
        match expression.strip_prefix("github.event.") {
            Some(path) => {
                let value = path.split('.').fold(payload, |value, key| &value[key]);
                out.push_str(&match value {
                    serde_json::Value::String(text) => text.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                });
            }
            None => out.push_str(&rest[start..start + end + 2]),
        }
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

/// What `actions/upload-artifact` keeps, as a shell step does it: the file
/// `$FROM` as artifact `$NAME`, and the retention `$DAYS` it was asked for
/// (read back by [`Finished::artifact`]). A missing file fails the step, as
/// `if-no-files-found: error` does.
const KEEP_ARTIFACT: &str = "to=\"$ALTCONTACTS_TEST_ARTIFACTS/$NAME\"; mkdir -p \"$to\"; cp \"$FROM\" \"$to/\"; echo \"$DAYS\" > \"$to/.retention-days\"";

/// This commit's action.yml, with `actions/upload-artifact` replaced by a
/// step that keeps the files and the retention asked for.
fn action_copy() -> String {
    let text = std::fs::read_to_string(repo_root().join("action.yml")).expect("action.yml");
    let action: Value = serde_yaml::from_str(&text).expect("action.yml is YAML");
    // wrkflw 0.8 sets an input `a-b` as INPUT_A-B but reads `inputs.a-b`
    // from INPUT_A_B, so a hyphenated input would read as empty: the copy
    // names them with underscores, and the workflow's `with:` does too.
    let hyphenated: Vec<String> = action["inputs"]
        .as_mapping()
        .expect("the action has inputs")
        .keys()
        .filter_map(Value::as_str)
        .filter(|name| name.contains('-'))
        .map(str::to_owned)
        .collect();
    let mut text = text;
    for name in &hyphenated {
        text = text
            .replace(
                &format!("inputs.{name}"),
                &format!("inputs.{}", name.replace('-', "_")),
            )
            .replace(
                &format!("\n  {name}:\n"),
                &format!("\n  {}:\n", name.replace('-', "_")),
            );
    }
    let mut action: Value = serde_yaml::from_str(&text).expect("action.yml is YAML");
    let steps = action
        .get_mut("runs")
        .and_then(|runs| runs.get_mut("steps"))
        .and_then(Value::as_sequence_mut)
        .expect("a composite action has steps");
    for step in steps.iter_mut() {
        let uses = step.get("uses").and_then(Value::as_str).unwrap_or_default();
        if !uses.starts_with("actions/upload-artifact@") {
            assert!(
                uses.is_empty(),
                "no local stand-in for {uses} in action.yml"
            );
            continue;
        }
        let with = step
            .get("with")
            .cloned()
            .expect("upload-artifact has inputs");
        let field = |name: &str| match with.get(name) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Number(number)) => number.to_string(),
            _ => String::new(),
        };
        // wrkflw does not evaluate `if:` in a composite action's steps, so
        // the stand-in does: `steps.ID.outputs.NAME == 'VALUE'`.
        let condition = step
            .get("if")
            .and_then(Value::as_str)
            .unwrap_or("true")
            .to_owned();
        let (value, wanted) = match condition.split_once("==") {
            Some((left, right)) => (
                format!("${{{{ {} }}}}", left.trim()),
                right.trim().trim_matches('\'').to_owned(),
            ),
            None => ("true".to_owned(), "true".to_owned()),
        };
        let mut env = Mapping::new();
        env.insert(Value::from("NAME"), Value::from(field("name")));
        env.insert(Value::from("FROM"), Value::from(field("path")));
        env.insert(Value::from("DAYS"), Value::from(field("retention-days")));
        env.insert(Value::from("CONDITION"), Value::from(value));
        env.insert(Value::from("WANTED"), Value::from(wanted));
        let step = step.as_mapping_mut().unwrap();
        step.remove("uses");
        step.remove("with");
        step.insert(Value::from("shell"), Value::from("bash"));
        step.insert(Value::from("env"), Value::Mapping(env));
        step.insert(
            Value::from("run"),
            Value::from(format!(
                "set -eu; [ \"$CONDITION\" = \"$WANTED\" ] || exit 0; {KEEP_ARTIFACT}"
            )),
        );
    }
    serde_yaml::to_string(&action).expect("the action serializes")
}

/// Waits until `ready` holds, for at most `limit`.
pub fn wait_until(limit: Duration, what: &str, ready: impl Fn() -> bool) {
    let started = std::time::Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < limit,
            "{what} did not happen within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
