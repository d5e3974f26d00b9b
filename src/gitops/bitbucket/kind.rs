//! Bitbucket as the rest of the tool knows it: `altcontacts bitbucket`,
//! its pipeline's build number, and the custom pipeline an event starts.

use serde_json::{Value, json};

use super::{API, Bitbucket, TERMS};
use crate::cli::{EventsFlags, EventsTarget, LoopCommand};
use crate::error::Error;
use crate::event_rule::{Destination, bearer, branch, https, two_part};
use crate::gitops::forge::{Events, ForgeKind, Named, Running};
use crate::session::Context;

pub(crate) static KIND: ForgeKind = ForgeKind {
    name: "bitbucket",
    title: TERMS.forge,
    about: "Steps of a Bitbucket Pipelines pipeline: the plan comment and Code Insights report of \
            a pull request, the record of the last applied commit, one issue while AWS drifts \
            from the file",
    run_ids: &["BITBUCKET_BUILD_NUMBER"],
    events: Some(Events {
        flags: EventsFlags {
            target: EventsTarget::Repository,
            form: FORM,
            help: "the repository whose pipelines run the loop (WORKSPACE/REPOSITORY)",
            runs_on_ref: true,
            api: API,
            self_hosted: None,
        },
        destination: Pipeline::named,
    }),
    run,
};

fn run<'a>(context: &'a Context, command: &'a LoopCommand) -> Running<'a> {
    Box::pin(async move { crate::gitops::run(context, &Bitbucket::from_env()?, command).await })
}

const FORM: &str = "WORKSPACE/REPOSITORY";

/// The pipeline variable that names the event's account.
const ACCOUNT_VARIABLE: &str = "ALTCONTACTS_ACCOUNT";

/// The custom pipeline (`pipelines: custom:`) an event starts.
pub(super) const PIPELINE: &str = "altcontacts-new-accounts";

/// `POST {api}/repositories/{repository}/pipelines/`: the custom pipeline
/// [`PIPELINE`] of `git_ref`, with a repository access token that may
/// write pipelines.
struct Pipeline {
    api: String,
    repository: String,
    git_ref: String,
}

impl Pipeline {
    fn named(named: &Named) -> Result<Box<dyn Destination>, Error> {
        Ok(Box::new(Self {
            api: https(named.api.unwrap_or(API))?,
            repository: two_part(named.target, FORM)?,
            git_ref: branch(named.git_ref)?,
        }))
    }
}

impl Destination for Pipeline {
    fn forge(&self) -> &'static str {
        TERMS.forge
    }

    fn endpoint(&self) -> String {
        format!("{}/repositories/{}/pipelines/", self.api, self.repository)
    }

    /// An event that names no account starts the pipeline without the
    /// variable, whose default (none) applies the accounts that joined
    /// lately.
    fn body(&self, _event: &str, account: &str) -> Value {
        json!({
            "target": {
                "type": "pipeline_ref_target",
                "ref_type": "branch",
                "ref_name": self.git_ref,
                "selector": { "type": "custom", "pattern": PIPELINE },
            },
            "variables": match account {
                "" => json!([]),
                account => json!([{ "key": ACCOUNT_VARIABLE, "value": account }]),
            },
        })
    }

    /// A bearer token in `Authorization`, and JSON asked for.
    fn auth(&self) -> Value {
        bearer(&[("Accept", "application/json")])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitops::forge::destination_tests::{ACCOUNT, body, parsed};

    fn named(target: &str, git_ref: &str) -> Result<Box<dyn Destination>, Error> {
        crate::gitops::forge::destination_tests::named(Pipeline::named, None, target, git_ref)
    }

    #[test]
    fn bitbucket_s_rules_start_the_custom_pipeline_of_the_branch_with_the_account() {
        let template = parsed(named("acme/aws-contacts", "main").unwrap().as_ref());
        assert_eq!(
            template["Resources"]["StartPipeline"]["Properties"]["InvocationEndpoint"],
            "https://api.bitbucket.org/2.0/repositories/acme/aws-contacts/pipelines/"
        );
        let body = body(&template, "AccountCreated");
        assert_eq!(body["target"]["ref_name"], "main");
        assert_eq!(body["target"]["selector"]["pattern"], PIPELINE);
        assert_eq!(
            body["variables"],
            json!([{ "key": "ALTCONTACTS_ACCOUNT", "value": ACCOUNT }])
        );
    }

    #[test]
    fn what_cannot_be_a_destination_is_refused() {
        assert!(named("workspace", "main").is_err());
        assert!(named("w/r", "").is_err());
    }
}
