//! GitHub as the rest of the tool knows it: `altcontacts github`, its
//! workflow run's ID, and the `repository_dispatch` an event sends.

use serde_json::{Value, json};

use super::{API, GitHub, TERMS};
use crate::cli::{EventsFlags, EventsTarget, LoopCommand};
use crate::error::Error;
use crate::event_rule::{Destination, bearer, https, two_part};
use crate::gitops::forge::{Events, ForgeKind, Named, Running};
use crate::session::Context;

pub(crate) static KIND: ForgeKind = ForgeKind {
    name: "github",
    title: TERMS.forge,
    about: "Steps of a GitHub Actions workflow (what the action runs): the plan comment of a pull \
            request, the record of the last applied commit, one issue while AWS drifts from the \
            file",
    run_ids: &["GITHUB_RUN_ID"],
    events: Some(Events {
        flags: EventsFlags {
            target: EventsTarget::Repository,
            form: FORM,
            help: "the repository that holds contacts.yaml and the new-accounts workflow \
                   (OWNER/NAME)",
            runs_on_ref: false,
            api: API,
            self_hosted: Some("GitHub Enterprise Server: https://HOST/api/v3"),
        },
        destination: Dispatch::named,
    }),
    run,
};

fn run<'a>(context: &'a Context, command: &'a LoopCommand) -> Running<'a> {
    Box::pin(async move { crate::gitops::run(context, &GitHub::from_env()?, command).await })
}

const FORM: &str = "OWNER/NAME";

/// The `repository_dispatch` event type the new-accounts workflow listens for.
const DISPATCH_EVENT_TYPE: &str = "altcontacts-new-account";

/// `POST {api}/repos/{repository}/dispatches`, with a token that may write
/// the repository's contents (what GitHub asks of a dispatch). The
/// workflow runs on the default branch: `--ref` is not GitHub's to choose.
struct Dispatch {
    api: String,
    repository: String,
}

impl Dispatch {
    fn named(named: &Named) -> Result<Box<dyn Destination>, Error> {
        Ok(Box::new(Self {
            api: https(named.api.unwrap_or(API))?,
            repository: two_part(named.target, FORM)?,
        }))
    }
}

impl Destination for Dispatch {
    fn forge(&self) -> &'static str {
        TERMS.forge
    }

    fn endpoint(&self) -> String {
        format!("{}/repos/{}/dispatches", self.api, self.repository)
    }

    fn body(&self, event: &str, account: &str) -> Value {
        json!({
            "event_type": DISPATCH_EVENT_TYPE,
            "client_payload": { "account_id": account, "event": event },
        })
    }

    /// A bearer token in `Authorization`, and the API version GitHub is
    /// asked for.
    fn auth(&self) -> Value {
        bearer(&[
            ("Accept", "application/vnd.github+json"),
            ("X-GitHub-Api-Version", "2022-11-28"),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitops::forge::destination_tests::{ACCOUNT, body, parsed};

    fn named(api: Option<&str>, target: &str) -> Result<Box<dyn Destination>, Error> {
        crate::gitops::forge::destination_tests::named(Dispatch::named, api, target, "main")
    }

    #[test]
    fn github_s_rules_send_a_repository_dispatch_with_the_event_s_account() {
        let template = parsed(named(None, "example-org/aws-contacts").unwrap().as_ref());
        let resources = &template["Resources"];
        assert_eq!(
            resources["StartPipeline"]["Properties"]["InvocationEndpoint"],
            "https://api.github.com/repos/example-org/aws-contacts/dispatches"
        );
        let created = &resources["AccountCreated"]["Properties"]["Targets"][0]["InputTransformer"];
        assert_eq!(
            created["InputPathsMap"]["account"],
            "$.detail.serviceEventDetails.createAccountStatus.accountId"
        );
        let body = body(&template, "AccountCreated");
        assert_eq!(body["event_type"], DISPATCH_EVENT_TYPE);
        assert_eq!(body["client_payload"]["account_id"], ACCOUNT);
        let joined: Value = serde_json::from_str(
            resources["AccountJoined"]["Properties"]["Targets"][0]["Input"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(joined["client_payload"]["account_id"], "");
    }

    #[test]
    fn what_cannot_be_a_destination_is_refused() {
        assert!(named(None, "no-slash").is_err());
        assert!(named(None, "a/b c").is_err());
        assert!(named(Some("http://api.github.com"), "o/r").is_err());
    }
}
