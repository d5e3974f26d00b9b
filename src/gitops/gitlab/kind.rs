//! GitLab as the rest of the tool knows it: `altcontacts gitlab`, its
//! job's ID, the pipeline trigger an event calls, and the order its trust
//! asks: AWS accepts the job's ID token before GitLab hears anything.

use serde_json::{Value, json};

use super::{GitLab, TERMS};
use crate::cli::{EventsFlags, EventsTarget, LoopCommand};
use crate::error::Error;
use crate::event_rule::{Destination, PAYLOAD_ACCOUNT_FIELD, branch, https, token};
use crate::gitops::forge::{Events, ForgeKind, Named, Running};
use crate::session::Context;

pub(crate) static KIND: ForgeKind = ForgeKind {
    name: "gitlab",
    title: TERMS.forge,
    about: "Jobs of a GitLab CI/CD pipeline (what the component runs): the plan note of a merge \
            request, the record of the last applied commit, one issue while AWS drifts from the \
            file",
    run_ids: &["CI_JOB_ID"],
    events: Some(Events {
        flags: EventsFlags {
            target: EventsTarget::Project,
            form: "ID",
            help: "the numeric ID of the project that holds contacts.yaml (its Settings > General)",
            runs_on_ref: true,
            api: API,
            self_hosted: Some("self-managed GitLab: https://HOST/api/v4"),
        },
        destination: Trigger::named,
    }),
    run,
};

/// GitLab.com's API: a self-managed instance's is `--api-url`.
const API: &str = "https://gitlab.com/api/v4";

/// GitLab's address comes from the job's ID token, believed once AWS has
/// taken that token as the job's role: nothing is sent to GitLab before.
fn run<'a>(context: &'a Context, command: &'a LoopCommand) -> Running<'a> {
    Box::pin(async move {
        let role = super::job_role()?;
        context.confirm_web_identity(&role).await?;
        crate::gitops::run(context, &GitLab::from_env()?, command).await
    })
}

/// `POST {api}/projects/{project}/ref/{git_ref}/trigger/pipeline`: the
/// webhook form of a pipeline trigger, whose body reaches the jobs as the
/// file `TRIGGER_PAYLOAD` and sets no variable, so the trigger's holder can
/// say which account and nothing the job obeys besides.
struct Trigger {
    api: String,
    project: String,
    git_ref: String,
}

impl Trigger {
    /// The project by its numeric ID: a path would be one URL segment with
    /// its slashes encoded, and nothing says EventBridge keeps `%2F` as it
    /// is. The branch is a path segment too, so it has no slash.
    fn named(named: &Named) -> Result<Box<dyn Destination>, Error> {
        let project = named.target;
        if project.is_empty() || !project.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::usage(
                format!("`{project}` is not a GitLab project ID"),
                Some(
                    "write the project's numeric ID (the project's Settings > General, or `glab repo view`), e.g. --project 1234: an API destination's address keeps no encoded path"
                        .to_owned(),
                ),
            ));
        }
        let git_ref = branch(named.git_ref)?;
        if git_ref.contains('/') {
            return Err(Error::usage(
                format!("`{git_ref}` holds a slash, which the trigger's address cannot carry"),
                Some("apply from a default branch without a slash, e.g. --ref main".to_owned()),
            ));
        }
        Ok(Box::new(Self {
            api: https(named.api.unwrap_or(API))?,
            project: project.to_owned(),
            git_ref,
        }))
    }
}

impl Destination for Trigger {
    fn forge(&self) -> &'static str {
        TERMS.forge
    }

    fn endpoint(&self) -> String {
        format!(
            "{}/projects/{}/ref/{}/trigger/pipeline",
            self.api, self.project, self.git_ref
        )
    }

    /// A payload, not variables: GitLab keeps it as TRIGGER_PAYLOAD (with
    /// the project and the ref beside), and a project that restricts
    /// pipeline variables refuses a trigger that sets any.
    fn body(&self, event: &str, account: &str) -> Value {
        json!({
            PAYLOAD_ACCOUNT_FIELD: account,
            "event": event,
        })
    }

    /// GitLab reads a trigger token from the `token` parameter only.
    /// EventBridge asks every connection for an authorization, so this one
    /// carries a header naming the caller, which GitLab ignores, and the
    /// token as a secret query parameter.
    fn auth(&self) -> Value {
        json!({
            "ApiKeyAuthParameters": {
                "ApiKeyName": "X-Altcontacts-Caller",
                "ApiKeyValue": "eventbridge",
            },
            "InvocationHttpParameters": {
                "QueryStringParameters": [
                    { "Key": "token", "Value": token(""), "IsValueSecret": true },
                ],
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitops::forge::destination_tests::{ACCOUNT, body, parsed};

    fn named(
        api: Option<&str>,
        target: &str,
        git_ref: &str,
    ) -> Result<Box<dyn Destination>, Error> {
        crate::gitops::forge::destination_tests::named(Trigger::named, api, target, git_ref)
    }

    #[test]
    fn gitlab_s_rules_trigger_the_default_branch_with_a_payload_that_names_the_account_only() {
        let template = parsed(
            named(Some("https://gitlab.example.com/api/v4/"), "4242", "main")
                .unwrap()
                .as_ref(),
        );
        assert_eq!(
            template["Resources"]["StartPipeline"]["Properties"]["InvocationEndpoint"],
            "https://gitlab.example.com/api/v4/projects/4242/ref/main/trigger/pipeline"
        );
        assert_eq!(
            body(&template, "AccountMoved"),
            json!({ "account_id": ACCOUNT, "event": "MoveAccount" }),
            "no `variables`, no `ref`: nothing a job obeys but the account"
        );
    }

    #[test]
    fn what_cannot_be_a_destination_is_refused() {
        assert!(named(None, "", "main").is_err());
        assert!(named(None, "group/contacts", "main").is_err());
        assert!(named(None, "42", "main branch").is_err());
        assert!(named(None, "42", "release/1").is_err());
    }
}
