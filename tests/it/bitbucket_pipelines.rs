//! Bitbucket Pipelines, as far as the loop's pipeline file needs it: no
//! runner of Bitbucket's own runs on a laptop, so this one reads the
//! repository's `bitbucket-pipelines.yml` (the file docs/gitops.md gives,
//! `examples/bitbucket/`) and runs what Bitbucket would for a pull request,
//! a push to `main` or a custom pipeline: each step's script in one shell
//! in a fresh clone, with the variables Pipelines sets (the step's OIDC
//! token among them, for a step with `oidc: true`), the repository's
//! variables, and a step skipped when its `changesets` condition holds no
//! changed file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_yaml::Value as Yaml;

use crate::bitbucket_api::{Bitbucket, LOOP_AND_ISSUE_SCOPES, SLUG, WORKSPACE};
use crate::emulator::{Emulator, Role};
use crate::git_remote::{Remote, git};

/// The account of the pipeline's roles.
pub const ROLE_ACCOUNT: &str = "111111111111";
const REPOSITORY_UUID: &str = "{7a1b2c3d-0000-4000-8000-aws-contacts}";
const WORKSPACE_UUID: &str = "{5e6f7a8b-0000-4000-8000-acme}";
/// The `production` deployment environment's UUID.
const PRODUCTION_UUID: &str = "{9c8d7e6f-0000-4000-8000-production}";

/// The pipeline file users copy.
pub fn example_pipeline() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/bitbucket/bitbucket-pipelines.yml"),
    )
    .expect("examples/bitbucket/bitbucket-pipelines.yml")
}

/// The pipeline file with the tests' release key in, as a user pastes
/// the project's.
fn with_signers(pipeline: &str, signers: &str) -> String {
    let placeholder = "            # altcontacts-release namespaces=\"altcontacts-release\" ssh-ed25519 AAAA...\n";
    assert!(
        pipeline.contains(placeholder),
        "the key's place in the pipeline"
    );
    let key = signers
        .lines()
        .find(|line| line.starts_with("altcontacts-release "))
        .expect("the tests' key");
    pipeline.replace(placeholder, &format!("            {key}\n"))
}

/// The UUID Bitbucket gives pipeline `n`, and step `number` (`n * 10 + s`).
fn pipeline_uuid(n: usize) -> String {
    format!("{{pipeline-{n}}}")
}

fn step_uuid(number: usize) -> String {
    format!("{{step-{number}}}")
}

/// What starts a pipeline, at which commit.
pub enum Pipeline {
    PullRequest {
        id: u64,
        sha: String,
        branch: String,
        destination: String,
    },
    Push {
        sha: String,
    },
    Custom {
        name: String,
        sha: String,
        variables: Vec<(String, String)>,
    },
}

impl Pipeline {
    fn sha(&self) -> &str {
        match self {
            Self::PullRequest { sha, .. } | Self::Push { sha } | Self::Custom { sha, .. } => sha,
        }
    }
}

pub struct World {
    remote: Remote,
    pub bitbucket: Bitbucket,
    aws: Emulator,
    /// The repository access token, saved as the secured repository
    /// variable `BITBUCKET_ACCESS_TOKEN`.
    pub token: String,
    runs: std::sync::atomic::AtomicUsize,
}

/// A finished pipeline: each step's name, whether it ran, and its output.
pub struct Finished {
    pub steps: Vec<(String, Option<Output>)>,
    pub checkout: PathBuf,
}

impl Finished {
    /// Every step that ran succeeded (a failed step ends the pipeline).
    pub fn succeeded(&self) -> bool {
        self.steps
            .iter()
            .all(|(_, output)| output.as_ref().is_none_or(|o| o.status.success()))
    }

    pub fn ran(&self, step: &str) -> bool {
        self.steps
            .iter()
            .any(|(name, output)| name == step && output.is_some())
    }

    pub fn log(&self) -> String {
        let mut log = String::new();
        for (name, output) in &self.steps {
            match output {
                None => log.push_str(&format!("== {name}: skipped (no changed file matches)\n")),
                Some(output) => log.push_str(&format!(
                    "== {name}: {}\n{}{}",
                    output.status,
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                )),
            }
        }
        log
    }

    /// A file the pipeline's steps left, as their `artifacts` keep it.
    pub fn artifact(&self, file: &str) -> Option<String> {
        std::fs::read_to_string(self.checkout.join(file)).ok()
    }
}

impl std::ops::Deref for World {
    type Target = Remote;

    fn deref(&self) -> &Remote {
        &self.remote
    }
}

impl World {
    pub fn new(bitbucket: Bitbucket, aws: Emulator) -> Self {
        // The plan role trusts every step of the repository; the apply
        // role, only the steps of its `production` deployment environment.
        for (name, subject, writes) in [
            ("altcontacts-plan", format!("{REPOSITORY_UUID}:*"), false),
            (
                "altcontacts-apply",
                format!("{REPOSITORY_UUID}:{PRODUCTION_UUID}:*"),
                true,
            ),
        ] {
            aws.add_role(Role {
                account: ROLE_ACCOUNT.to_owned(),
                name: name.to_owned(),
                audience: format!("ari:cloud:bitbucket::workspace/{WORKSPACE_UUID}"),
                subjects: vec![subject],
                issuer: None,
                writes,
            });
        }
        let release = crate::release::release();
        bitbucket.publish_release(&crate::release::release_tag(), release.assets.clone());
        let pipeline = with_signers(&example_pipeline(), &release.signers)
            .replace(
                "aws_endpoint_url=\"\"",
                &format!("aws_endpoint_url=\"{}\"", aws.endpoint),
            )
            .replace(
                "bitbucket_api_url=\"https://api.bitbucket.org/2.0\"",
                &format!("bitbucket_api_url=\"{}\"", bitbucket.api_url()),
            )
            // The real DNS is never asked from a test.
            .replace("audit -f contacts.yaml", "audit --no-dns -f contacts.yaml");
        let remote = Remote::new(&[("bitbucket-pipelines.yml", &pipeline)]);
        // An OAuth consumer's token, which also keeps the drift issue; a
        // test of the repository access token docs/gitops.md starts with
        // puts one in its place.
        let token = bitbucket.oauth_token("aws-contacts-bot", &LOOP_AND_ISSUE_SCOPES);
        Self {
            remote,
            bitbucket,
            aws,
            token,
            runs: Default::default(),
        }
    }

    pub fn aws(&self) -> &Emulator {
        &self.aws
    }

    fn main(&self) -> String {
        git(&self.origin, &["rev-parse", "main"])
    }

    /// The pull request `id` from the developer's HEAD: its branch pushed,
    /// to be merged into `main`.
    pub fn pull_request(&self, id: u64) -> Pipeline {
        let branch = format!("pr-{id}");
        git(
            &self.dev,
            &[
                "push",
                "-q",
                "-f",
                "origin",
                &format!("HEAD:refs/heads/{branch}"),
            ],
        );
        self.bitbucket.open_pull_request(id);
        Pipeline::PullRequest {
            id,
            sha: self.head(),
            branch,
            destination: self.main(),
        }
    }

    pub fn push(&self) -> Pipeline {
        Pipeline::Push { sha: self.main() }
    }

    pub fn custom(&self, name: &str, variables: &[(&str, &str)]) -> Pipeline {
        Pipeline::Custom {
            name: name.to_owned(),
            sha: self.main(),
            variables: variables
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// What the event rule's request starts: the custom pipeline its
    /// target selects, with its variables.
    pub fn started_by(&self, body: &serde_json::Value) -> Pipeline {
        let target = &body["target"];
        assert_eq!(target["ref_name"], "main", "{body}");
        Pipeline::Custom {
            name: target["selector"]["pattern"].as_str().unwrap().to_owned(),
            sha: self.main(),
            variables: body["variables"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| {
                    (
                        v["key"].as_str().unwrap().to_owned(),
                        v["value"].as_str().unwrap().to_owned(),
                    )
                })
                .collect(),
        }
    }

    /// The steps Bitbucket runs for `pipeline`, and the custom pipeline's
    /// variables with their defaults.
    fn steps(&self, file: &str, pipeline: &Pipeline) -> (Vec<Yaml>, Vec<(String, String)>) {
        let file: Yaml = serde_yaml::from_str(file).expect("bitbucket-pipelines.yml is YAML");
        let pipelines = &file["pipelines"];
        let items = match pipeline {
            Pipeline::PullRequest { .. } => &pipelines["pull-requests"]["**"],
            Pipeline::Push { .. } => &pipelines["branches"]["main"],
            Pipeline::Custom { name, .. } => &pipelines["custom"][name.as_str()],
        };
        let items = items.as_sequence().expect("the pipeline's steps");
        let mut steps = Vec::new();
        let mut defaults = Vec::new();
        for item in items {
            if let Some(variables) = item["variables"].as_sequence() {
                for variable in variables {
                    let name = variable["name"].as_str().unwrap().to_owned();
                    let default = variable["default"].as_str().unwrap_or_default().to_owned();
                    defaults.push((name, default));
                }
            }
            if !item["step"].is_null() {
                steps.push(item["step"].clone());
            }
        }
        (steps, defaults)
    }

    /// An OIDC token as Pipelines mints it for a step (unsigned: the
    /// emulator's STS checks the trust policy on its claims).
    fn oidc_token(&self, step_uuid: &str, deployment: Option<&str>) -> String {
        let sub = match deployment {
            Some(_) => format!("{REPOSITORY_UUID}:{PRODUCTION_UUID}:{step_uuid}"),
            None => format!("{REPOSITORY_UUID}:{step_uuid}"),
        };
        let claims = serde_json::json!({
            "iss": format!("https://api.bitbucket.org/2.0/workspaces/{WORKSPACE}/pipelines-config/identity/oidc"),
            "aud": format!("ari:cloud:bitbucket::workspace/{WORKSPACE_UUID}"),
            "sub": sub,
            "repositoryUuid": REPOSITORY_UUID,
            "workspaceUuid": WORKSPACE_UUID,
            "stepUuid": step_uuid,
        });
        crate::pipeline_runner::unsigned_jwt(&claims)
    }

    /// A fresh clone at the pipeline's commit: the run's number, the clone,
    /// and the steps and variables its bitbucket-pipelines.yml gives.
    fn check_out(&self, pipeline: &Pipeline) -> (usize, PathBuf, Vec<Yaml>, Vec<(String, String)>) {
        let n = self.runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let checkout = self.root.path().join(format!("pipeline-{n}"));
        git(
            self.root.path(),
            &["clone", "-q", "origin.git", checkout.to_str().unwrap()],
        );
        git(&checkout, &["checkout", "-q", "--detach", pipeline.sha()]);
        let file = std::fs::read_to_string(checkout.join("bitbucket-pipelines.yml"))
            .expect("the commit's bitbucket-pipelines.yml");
        let (steps, defaults) = self.steps(&file, pipeline);
        (n, checkout, steps, defaults)
    }

    /// Runs the pipeline to its end, as Bitbucket would.
    pub fn run(&self, pipeline: &Pipeline) -> Finished {
        let (n, checkout, steps, defaults) = self.check_out(pipeline);
        let changed: Vec<String> = match pipeline {
            Pipeline::PullRequest {
                destination, sha, ..
            } => git(
                &checkout,
                &["diff", "--name-only", &format!("{destination}...{sha}")],
            )
            .lines()
            .map(str::to_owned)
            .collect(),
            _ => Vec::new(),
        };
        let mut ran = Vec::new();
        let pipeline_uuid = self.pipeline_started(n, pipeline);
        for (s, step) in steps.iter().enumerate() {
            let name = step["name"].as_str().unwrap_or("step").to_owned();
            let include = step["condition"]["changesets"]["includePaths"].as_sequence();
            if let (Some(paths), Pipeline::PullRequest { .. }) = (include, pipeline) {
                let wanted = paths.iter().filter_map(Yaml::as_str);
                if !wanted.clone().any(|path| changed.iter().any(|c| c == path)) {
                    ran.push((name, None));
                    continue;
                }
            }
            let step_uuid = step_uuid(n * 10 + s);
            self.bitbucket.step_state(&pipeline_uuid, &step_uuid, None);
            let output = (self.step(&checkout, pipeline, step, &defaults, n * 10 + s))
                .output()
                .expect("run the step's script");
            let failed = !output.status.success();
            let result = if failed { "FAILED" } else { "SUCCESSFUL" };
            self.bitbucket
                .step_state(&pipeline_uuid, &step_uuid, Some(result));
            ran.push((name, Some(output)));
            if failed {
                break;
            }
        }
        Finished {
            steps: ran,
            checkout,
        }
    }

    /// Starts a pipeline of one step, to stop it as Bitbucket does: its
    /// script's process gets SIGTERM.
    pub fn start(&self, pipeline: &Pipeline) -> std::process::Child {
        let (n, checkout, steps, defaults) = self.check_out(pipeline);
        assert_eq!(steps.len(), 1, "a pipeline of one step");
        let pipeline_uuid = self.pipeline_started(n, pipeline);
        self.bitbucket
            .step_state(&pipeline_uuid, &step_uuid(n * 10), None);
        (self.step(&checkout, pipeline, &steps[0], &defaults, n * 10))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the step's script")
    }

    /// Tells Bitbucket pipeline `n` started; its UUID.
    fn pipeline_started(&self, n: usize, pipeline: &Pipeline) -> String {
        let (branch, selector) = match pipeline {
            Pipeline::PullRequest { branch, .. } => (branch.as_str(), ("pullrequests", "**")),
            Pipeline::Push { .. } => ("main", ("branches", "main")),
            Pipeline::Custom { name, .. } => ("main", ("custom", name.as_str())),
        };
        let uuid = pipeline_uuid(n);
        (self.bitbucket).pipeline_started(&uuid, n as u64, branch, pipeline.sha(), selector);
        uuid
    }

    /// The step's script, ready to run in `checkout` with what Pipelines
    /// gives a step.
    fn step(
        &self,
        checkout: &Path,
        pipeline: &Pipeline,
        step: &Yaml,
        defaults: &[(String, String)],
        number: usize,
    ) -> Command {
        let script: Vec<&str> = step["script"]
            .as_sequence()
            .expect("the step's script")
            .iter()
            .map(|line| line.as_str().expect("a script line"))
            .collect();
        let script_file = checkout.join(format!(".step-{number}.sh"));
        std::fs::write(&script_file, script.join("\n")).unwrap();

        let mut command = Command::new("bash");
        command.arg("-e").arg(&script_file).current_dir(checkout);
        // Nothing of this machine's AWS or altcontacts setup reaches a step:
        // the pipeline pins AWS, and refuses to run beside a variable that
        // would steer it.
        for (key, _) in std::env::vars() {
            if key.starts_with("AWS_") || key.starts_with("ALTCONTACTS_") {
                command.env_remove(key);
            }
        }
        command.env_remove("CI");
        let step_uuid = step_uuid(number);
        let mut set = |key: &str, value: &str| {
            command.env(key, value);
        };
        set("CI", "true");
        // The step's temporary files (the downloaded release) go where the
        // test's world is removed with it, as a runner's go with its step.
        let temp = checkout.with_extension(format!("{number}.tmp"));
        std::fs::create_dir_all(&temp).unwrap();
        set("TMPDIR", temp.to_str().unwrap());
        set("BITBUCKET_WORKSPACE", WORKSPACE);
        set("BITBUCKET_REPO_SLUG", SLUG);
        set("BITBUCKET_REPO_FULL_NAME", &format!("{WORKSPACE}/{SLUG}"));
        set("BITBUCKET_REPO_UUID", REPOSITORY_UUID);
        set("BITBUCKET_COMMIT", pipeline.sha());
        set("BITBUCKET_BUILD_NUMBER", &number.to_string());
        set("BITBUCKET_STEP_UUID", &step_uuid);
        set("BITBUCKET_PIPELINE_UUID", &pipeline_uuid(number / 10));
        set("BITBUCKET_CLONE_DIR", checkout.to_str().unwrap());
        set(
            "BITBUCKET_GIT_HTTP_ORIGIN",
            &format!("http://bitbucket.org/{WORKSPACE}/{SLUG}"),
        );
        match pipeline {
            Pipeline::PullRequest {
                id,
                branch,
                destination,
                ..
            } => {
                set("BITBUCKET_BRANCH", branch);
                set("BITBUCKET_PR_ID", &id.to_string());
                set("BITBUCKET_PR_DESTINATION_BRANCH", "main");
                // Pipelines gives the destination's commit short.
                set("BITBUCKET_PR_DESTINATION_COMMIT", &destination[..12]);
            }
            Pipeline::Push { .. } | Pipeline::Custom { .. } => set("BITBUCKET_BRANCH", "main"),
        }
        if let Some(environment) = step["deployment"].as_str() {
            set("BITBUCKET_DEPLOYMENT_ENVIRONMENT", environment);
        }
        if step["oidc"].as_bool() == Some(true) {
            let token = self.oidc_token(&step_uuid, step["deployment"].as_str());
            set("BITBUCKET_STEP_OIDC_TOKEN", &token);
        }
        // The repository's variables: the token, and those the loop keeps.
        set("BITBUCKET_ACCESS_TOKEN", &self.token);
        set("ALTCONTACTS_RELEASE_URL", &self.bitbucket.release_url());
        for (key, value) in self.bitbucket.variables() {
            set(&key, &value);
        }
        for (key, value) in defaults {
            set(key, value);
        }
        if let Pipeline::Custom { variables, .. } = pipeline {
            for (key, value) in variables {
                set(key, value);
            }
        }
        set("AWS_REGION", "us-east-1");
        command.stdin(Stdio::null());
        command
    }
}
