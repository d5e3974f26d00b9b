//! The GitOps loop as GitLab runs it, on this machine: the pipeline the
//! docs show (`examples/gitlab/.gitlab-ci.yml`, committed to the project)
//! and this commit's component (`templates/altcontacts.yml`), run by a
//! pinned local runner (gitlab-ci-local, with its shell executor) against
//! a bare git repository as `origin`, the GitLab API emulator and the AWS
//! emulator, whose STS admits each job's OIDC token to the role its trust
//! policy allows.
//!
//! What GitLab itself does around a job, the harness does: it decides
//! which pipelines happen (one that never ran is one it does not start),
//! checks the commit out as the runner does (with the job's `GIT_DEPTH`),
//! gives the job the predefined variables of its pipeline (a merge
//! request's, a push's, a schedule's) and an OIDC token with GitLab's
//! claims, sets the project's CI/CD variable `GITLAB_TOKEN`, and cancels a
//! job as the runner does (SIGTERM to the script's processes).
//!
//! The test's copy of what users run differs only where the local runner
//! needs it: the component is served from gitlab-ci-local's include cache
//! instead of a GitLab server, with the tests' release key and the
//! emulator's address to download the release from; each include's
//! `aws-endpoint-url` input is the AWS emulator; and the audit asks no DNS
//! (`--no-dns` in its `args`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

use crate::emulator::{Emulator, Role};
use crate::git_remote::{Remote, git};
use crate::gitlab_api::{GitLab, PROJECT_ID, PROJECT_PATH};
use crate::release::release;

pub const GITLAB_CI_LOCAL_VERSION: &str = "4.60.0";
/// Debian bookworm's rsync, which gitlab-ci-local copies artifacts with
/// (`.ci/run` installs it).
pub const RSYNC_VERSION: &str = "3.2.7-1+deb12u5";

/// The host the project's `origin` names, as a GitLab runner's clone has it.
const SERVER_HOST: &str = "gitlab.example.com";

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The pinned gitlab-ci-local, installed once into target/gitlab-ci-local
/// (`.ci/run` does it first). It copies artifacts with rsync: a machine
/// without it fails here, loudly.
pub fn gitlab_ci_local() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let rsync = Command::new("rsync").arg("--version").output();
            assert!(
                rsync.is_ok_and(|output| output.status.success()),
                "gitlab-ci-local needs rsync: install Debian's rsync (apt-get install rsync={RSYNC_VERSION}), as .ci/run does"
            );
            crate::ship::pinned_npm(
                "gitlab-ci-local",
                &format!(".gitlab-ci-local-{GITLAB_CI_LOCAL_VERSION}-installed"),
                &[format!("gitlab-ci-local@{GITLAB_CI_LOCAL_VERSION}")],
            )
            .join("node_modules")
            .join(".bin")
            .join("gitlab-ci-local")
        })
        .clone()
}

/// The pipeline the docs show as the tests commit it: each include's AWS
/// is the emulator (or moto) at `aws_endpoint`, and the audit asks no DNS.
fn test_pipeline(aws_endpoint: &str) -> String {
    let mut pipeline: serde_yaml::Value =
        serde_yaml::from_str(&example_pipeline()).expect("the example pipeline is YAML");
    for include in pipeline["include"]
        .as_sequence_mut()
        .expect("the pipeline includes the component")
    {
        let inputs = &mut include["inputs"];
        inputs["aws-endpoint-url"] = aws_endpoint.into();
        if inputs["command"] == "audit" {
            let args = inputs["args"].as_str().unwrap_or_default().to_owned();
            inputs["args"] = format!("{args} --no-dns").trim().into();
        }
    }
    serde_yaml::to_string(&pipeline).expect("the pipeline serializes")
}

/// The pipeline the docs show, as a user commits it.
pub fn example_pipeline() -> String {
    std::fs::read_to_string(repo_root().join("examples/gitlab/.gitlab-ci.yml"))
        .expect("examples/gitlab/.gitlab-ci.yml")
}

/// The component as this commit ships it.
pub fn component() -> String {
    std::fs::read_to_string(repo_root().join("templates/altcontacts.yml"))
        .expect("templates/altcontacts.yml")
}

/// The lines of the key block the component writes before it verifies a
/// download, as the component's file has them (indented in its script).
pub fn component_signers(component: &str) -> Vec<&str> {
    component
        .lines()
        .skip_while(|line| !line.ends_with("<<'RELEASE_SIGNERS'"))
        .skip(1)
        .take_while(|line| line.trim() != "RELEASE_SIGNERS")
        .collect()
}

/// The component with `signers` (allowed-signers lines) as its key block.
fn with_signers(component: &str, signers: &str) -> String {
    let block = component_signers(component);
    let indent: String = block
        .first()
        .map(|line| line.chars().take_while(|c| *c == ' ').collect())
        .unwrap_or_default();
    let replacement: Vec<String> = signers
        .lines()
        .map(|line| format!("{indent}{line}"))
        .collect();
    component.replace(&block.join("\n"), &replacement.join("\n"))
}

/// What starts a pipeline.
#[derive(Clone, Debug)]
pub enum Pipeline {
    MergeRequest {
        iid: u64,
        head: String,
        diff_base: String,
        source_branch: String,
        /// From a fork: the pipeline runs, but without the project's
        /// variables or a token the roles trust.
        fork: bool,
    },
    Push {
        sha: String,
        before: String,
    },
    /// A pipeline schedule, described as the job it runs
    /// (`altcontacts-drift`), as docs/gitops.md has them made.
    Schedule {
        sha: String,
        schedule: &'static str,
    },
    /// A pipeline trigger (what the EventBridge rule of `altcontacts events
    /// --forge gitlab` calls, the webhook form): its payload, kept as the
    /// file TRIGGER_PAYLOAD, and any `variables` its caller added, which
    /// GitLab makes pipeline variables (where the project lets it).
    Trigger {
        sha: String,
        payload: serde_json::Value,
        variables: Vec<(String, String)>,
    },
}

impl Pipeline {
    fn sha(&self) -> &str {
        match self {
            Pipeline::MergeRequest { head, .. } => head,
            Pipeline::Push { sha, .. }
            | Pipeline::Schedule { sha, .. }
            | Pipeline::Trigger { sha, .. } => sha,
        }
    }

    fn git_ref(&self) -> &str {
        match self {
            Pipeline::MergeRequest { source_branch, .. } => source_branch,
            _ => "main",
        }
    }

    fn source(&self) -> &'static str {
        match self {
            Pipeline::MergeRequest { .. } => "merge_request_event",
            Pipeline::Push { .. } => "push",
            Pipeline::Schedule { .. } => "schedule",
            Pipeline::Trigger { .. } => "trigger",
        }
    }
}

/// The roles of the docs' setup, in the account of the example's ARNs.
pub const ROLE_ACCOUNT: &str = "111111111111";

/// The world a pipeline runs in: origin, a developer's clone, GitLab, AWS.
pub struct World {
    remote: Remote,
    pub gitlab: GitLab,
    aws: Option<Emulator>,
    /// Where the jobs' AWS is: the emulator, or moto.
    aws_endpoint: String,
    /// The project's CI/CD variable `GITLAB_TOKEN`, if it has one: a
    /// protected variable, which only the default branch's pipelines get.
    pub token: Option<String>,
    /// The project's CI/CD variable `GITLAB_REVIEW_TOKEN` (a Reporter's,
    /// for merge requests' notes), which every pipeline gets.
    pub review_token: Option<String>,
    component: String,
    runs: std::sync::atomic::AtomicU32,
}

/// A finished pipeline: the runner's output and what the job left.
pub struct Finished {
    pub output: Output,
    pub checkout: PathBuf,
}

impl Finished {
    pub fn succeeded(&self) -> bool {
        self.output.status.success()
    }

    pub fn log(&self) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&self.output.stdout),
            String::from_utf8_lossy(&self.output.stderr)
        )
    }

    /// A file of a job's artifacts, as gitlab-ci-local collected them
    /// from the paths the job declares.
    pub fn artifact(&self, job: &str, file: &str) -> Option<String> {
        std::fs::read_to_string(
            self.checkout
                .join(".gitlab-ci-local")
                .join("artifacts")
                .join(job)
                .join(file),
        )
        .ok()
    }

    /// Whether the job ran (it printed its name starting).
    pub fn ran(&self, job: &str) -> bool {
        self.log().lines().any(|line| {
            let mut words = line.split_whitespace();
            words.next() == Some(job) && words.next() == Some("starting")
        })
    }
}

/// A pipeline still running, to cancel as GitLab's runner does.
pub struct Running {
    pub child: Child,
    pub checkout: PathBuf,
}

impl Running {
    /// The altcontacts process the job runs, if it runs one now.
    pub fn altcontacts(&self) -> Option<i32> {
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let exe = std::fs::read_link(entry.path().join("exe")).ok();
            let cwd = std::fs::read_link(entry.path().join("cwd")).ok();
            if exe.as_deref().and_then(Path::file_name) == Some("altcontacts".as_ref())
                && cwd.as_deref() == Some(self.checkout.as_path())
            {
                return Some(pid);
            }
        }
        None
    }

    /// Cancels the job: SIGTERM to its script's process, as the runner does.
    pub fn cancel(&self) {
        let pid = self.altcontacts().expect("a job running altcontacts");
        // SAFETY: kill() only sends a signal to a process of this test's run.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    }

    pub fn wait(self) -> Finished {
        let output = self.child.wait_with_output().expect("the runner ends");
        Finished {
            output,
            checkout: self.checkout,
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
    /// A project with a token of the Developer role and the `api` scope as
    /// its CI/CD variable `GITLAB_TOKEN`, and the two roles of the docs.
    pub fn new(gitlab: GitLab, aws: Emulator) -> Self {
        let endpoint = aws.endpoint.clone();
        Self::with_aws(gitlab, Some(aws), endpoint)
    }

    /// A world whose AWS is moto (or any endpoint), not the emulator.
    pub fn on_endpoint(gitlab: GitLab, endpoint: &str) -> Self {
        Self::with_aws(gitlab, None, endpoint.to_owned())
    }

    pub fn aws(&self) -> &Emulator {
        self.aws.as_ref().expect("this world's AWS is the emulator")
    }

    fn with_aws(gitlab: GitLab, aws: Option<Emulator>, aws_endpoint: String) -> Self {
        if let Some(aws) = &aws {
            for (name, subject, writes) in [
                (
                    "altcontacts-plan",
                    "project_path:acme/aws-contacts:ref_type:branch:ref:*",
                    false,
                ),
                (
                    "altcontacts-apply",
                    "project_path:acme/aws-contacts:ref_type:branch:ref:main",
                    true,
                ),
            ] {
                aws.add_role(Role {
                    account: ROLE_ACCOUNT.to_owned(),
                    name: name.to_owned(),
                    audience: "sts.amazonaws.com".to_owned(),
                    subjects: vec![subject.to_owned()],
                    issuer: Some(gitlab.url.clone()),
                    writes,
                });
            }
        }
        let remote = Remote::new(&[(".gitlab-ci.yml", &test_pipeline(&aws_endpoint))]);

        let release = release();
        gitlab.publish_release(&crate::release::release_tag(), release.assets.clone());
        let shipped = component();
        let component = with_signers(&shipped, &release.signers).replace(
            "default: https://github.com/YOUR-ORG/altcontacts/releases/download",
            &format!("default: {}", gitlab.release_url()),
        );
        let token = Some(gitlab.token("project_4242_bot", &["api"], crate::gitlab_api::DEVELOPER));
        let review_token = Some(gitlab.token(
            "project_4242_review_bot",
            &["api"],
            crate::gitlab_api::REPORTER,
        ));
        Self {
            remote,
            gitlab,
            aws,
            aws_endpoint,
            token,
            review_token,
            component,
            runs: Default::default(),
        }
    }

    /// The docs' pipeline as this world commits it (see [`test_pipeline`]),
    /// for a test that changes it as a project would.
    pub fn pipeline_file(&self) -> String {
        test_pipeline(&self.aws_endpoint)
    }

    /// Opens (or updates) merge request `iid` from the developer's HEAD:
    /// pushes its branch; the pipeline is a merge request pipeline of the
    /// branch's head, whose diff base is where it left `main`.
    pub fn merge_request(&self, iid: u64) -> Pipeline {
        let head = self.head();
        let source_branch = format!("mr-{iid}");
        git(
            &self.dev,
            &[
                "push",
                "-q",
                "-f",
                "origin",
                &format!("HEAD:refs/heads/{source_branch}"),
            ],
        );
        let main = git(&self.origin, &["rev-parse", "main"]);
        let diff_base = git(&self.origin, &["merge-base", &main, &head]);
        self.gitlab.open_merge_request(iid);
        Pipeline::MergeRequest {
            iid,
            head,
            diff_base,
            source_branch,
            fork: false,
        }
    }

    /// The push pipeline for what origin's main holds now, since `before`.
    pub fn push_pipeline(&self, before: &str) -> Pipeline {
        Pipeline::Push {
            sha: git(&self.origin, &["rev-parse", "main"]),
            before: before.to_owned(),
        }
    }

    /// The trigger a request with `body` starts, as GitLab's webhook form
    /// makes it: the body's fields, with the project and the ref beside
    /// (and not the token), are the payload; its `variables` become
    /// pipeline variables.
    pub fn trigger(&self, body: &serde_json::Value) -> Pipeline {
        let mut payload = body.clone();
        payload["id"] = serde_json::json!(PROJECT_ID.to_string());
        payload["ref"] = serde_json::json!("main");
        if payload.get("variables").is_none() {
            payload["variables"] = serde_json::json!({});
        }
        Pipeline::Trigger {
            sha: git(&self.origin, &["rev-parse", "main"]),
            variables: body["variables"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(key, value)| (key.clone(), value.as_str().unwrap_or_default().to_owned()))
                .collect(),
            payload,
        }
    }

    pub fn schedule(&self, schedule: &'static str) -> Pipeline {
        Pipeline::Schedule {
            sha: git(&self.origin, &["rev-parse", "main"]),
            schedule,
        }
    }

    /// Runs the pipeline to its end.
    pub fn run(&self, pipeline: &Pipeline) -> Finished {
        self.start(pipeline).wait()
    }

    /// The OIDC token GitLab mints for the job (unsigned: the emulator's
    /// STS checks the trust policy on its claims, as AWS does once the
    /// signature holds).
    fn id_token(&self, pipeline: &Pipeline) -> String {
        let git_ref = pipeline.git_ref();
        let claims = serde_json::json!({
            "iss": self.gitlab.url,
            "aud": "sts.amazonaws.com",
            "sub": format!("project_path:{PROJECT_PATH}:ref_type:branch:ref:{git_ref}"),
            "project_id": PROJECT_ID.to_string(),
            "project_path": PROJECT_PATH,
            "ref": git_ref,
            "ref_type": "branch",
            "ref_protected": (git_ref == "main").to_string(),
            "pipeline_source": pipeline.source(),
        });
        unsigned_jwt(&claims)
    }

    /// Starts the pipeline, as GitLab would: the runner checks the commit
    /// out and gitlab-ci-local runs the jobs the pipeline's rules admit.
    pub fn start(&self, pipeline: &Pipeline) -> Running {
        let n = self.runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let checkout = self.root.path().join(format!("pipeline-{n}"));
        git(
            self.root.path(),
            &["clone", "-q", "origin.git", checkout.to_str().unwrap()],
        );
        git(&checkout, &["checkout", "-q", "--detach", pipeline.sha()]);
        // What `rules: changes` compares with: the target branch for a merge
        // request, the commit before the push for a push.
        if let Pipeline::Push { before, .. } = pipeline {
            git(
                &checkout,
                &["update-ref", "refs/remotes/origin/main", before],
            );
        }
        git(
            &checkout,
            &[
                "remote",
                "set-url",
                "origin",
                &format!("https://{SERVER_HOST}/{PROJECT_PATH}.git"),
            ],
        );
        self.serve_component(&checkout);

        let mut variables: Vec<(String, String)> = Vec::new();
        let mut set = |key: &str, value: &str| variables.push((key.to_owned(), value.to_owned()));
        // The job's temporary files (the downloaded release) go where the
        // test's world is removed with it, as a runner's go with its job.
        let temp = checkout.with_extension("tmp");
        std::fs::create_dir_all(&temp).unwrap();
        set("TMPDIR", temp.to_str().unwrap());
        set("CI_PIPELINE_SOURCE", pipeline.source());
        set("CI_API_V4_URL", &self.gitlab.api_url());
        set("CI_SERVER_URL", &self.gitlab.url);
        set("CI_PROJECT_ID", &PROJECT_ID.to_string());
        set("CI_PROJECT_PATH", PROJECT_PATH);
        set("CI_DEFAULT_BRANCH", "main");
        set("CI_COMMIT_REF_NAME", pipeline.git_ref());
        let fork = matches!(pipeline, Pipeline::MergeRequest { fork: true, .. });
        match pipeline {
            Pipeline::MergeRequest { iid, diff_base, .. } => {
                set("CI_COMMIT_BRANCH", "");
                set("CI_MERGE_REQUEST_IID", &iid.to_string());
                set("CI_MERGE_REQUEST_DIFF_BASE_SHA", diff_base);
                set("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main");
                set(
                    "CI_MERGE_REQUEST_SOURCE_PROJECT_ID",
                    &(if fork { PROJECT_ID + 1 } else { PROJECT_ID }).to_string(),
                );
                set("CI_MERGE_REQUEST_PROJECT_ID", &PROJECT_ID.to_string());
            }
            Pipeline::Push { .. } => set("CI_COMMIT_BRANCH", "main"),
            Pipeline::Schedule { schedule, .. } => {
                set("CI_COMMIT_BRANCH", "main");
                set(
                    "CI_PIPELINE_SCHEDULE_DESCRIPTION",
                    &format!("altcontacts-{schedule}"),
                );
            }
            Pipeline::Trigger { payload, .. } => {
                set("CI_COMMIT_BRANCH", "main");
                set("CI_PIPELINE_TRIGGERED", "true");
                // A file-type variable: the job sees the path of a file
                // that holds the payload.
                let file = checkout.with_extension("trigger-payload.json");
                std::fs::write(&file, payload.to_string()).unwrap();
                set("TRIGGER_PAYLOAD", file.to_str().unwrap());
            }
        }
        if !fork {
            // A protected variable: the default branch's pipelines only.
            if let (Some(token), "main") = (&self.token, pipeline.git_ref()) {
                set("GITLAB_TOKEN", token);
            }
            if let Some(token) = &self.review_token {
                set("GITLAB_REVIEW_TOKEN", token);
            }
            set("ALTCONTACTS_ID_TOKEN", &self.id_token(pipeline));
        }
        // Pipeline variables last: they override every other, GitLab's
        // own among them.
        if let Pipeline::Trigger { variables, .. } = pipeline {
            for (key, value) in variables {
                set(key, value);
            }
        }

        let mut command = Command::new(gitlab_ci_local());
        command
            .current_dir(&checkout)
            .args(["--force-shell-executor", "--no-color"]);
        for (key, value) in &variables {
            command.arg("--variable").arg(format!("{key}={value}"));
        }
        // Nothing of this machine's AWS or altcontacts setup reaches a job:
        // the component takes AWS from its inputs, and refuses to run
        // beside a variable that would steer it.
        for (key, _) in std::env::vars() {
            if key.starts_with("AWS_") || key.starts_with("ALTCONTACTS_") {
                command.env_remove(key);
            }
        }
        command.env_remove("GITLAB_TOKEN").env_remove("CI");
        let child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start gitlab-ci-local");
        Running { child, checkout }
    }

    /// Puts the component where gitlab-ci-local looks for an include it
    /// already fetched, at the version the pipeline pins.
    fn serve_component(&self, checkout: &Path) {
        let pipeline: serde_yaml::Value =
            serde_yaml::from_str(&example_pipeline()).expect("the example pipeline is YAML");
        let includes = pipeline["include"]
            .as_sequence()
            .expect("the pipeline includes the component");
        for include in includes {
            let component = include["component"].as_str().expect("a component include");
            let (address, version) = component.split_once('@').expect("a pinned version");
            let project = address
                .trim_start_matches("$CI_SERVER_FQDN/")
                .rsplit_once('/')
                .expect("PROJECT/COMPONENT")
                .0;
            let dir = checkout
                .join(".gitlab-ci-local")
                .join("includes")
                .join(SERVER_HOST)
                .join(project)
                .join(version)
                .join("templates");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("altcontacts.yml"), &self.component).unwrap();
        }
    }
}

/// A CI's OIDC token carrying `claims`, unsigned: the emulator's STS checks
/// the trust policy on its claims, as AWS does once the signature holds.
pub fn unsigned_jwt(claims: &serde_json::Value) -> String {
    use base64::Engine;
    let encode = |value: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    };
    format!(
        "{}.{}.emulated",
        encode(&serde_json::json!({ "alg": "RS256", "typ": "JWT" })),
        encode(claims)
    )
}
