//! The forges the loop runs on, one line each. What a forge is to the
//! rest of the tool (its name on the command line, its CI's run, where an
//! event starts its pipeline, how its loop is set up) is its folder's
//! [`ForgeKind`]: code outside `gitops` reaches a forge only through here.

use clap::ValueEnum;
use clap::builder::PossibleValue;

use super::forge::ForgeKind;
use crate::cli::{Cli, EventsFlags, ForgeChoice};

/// Every forge, in the order the command line lists them.
static FORGES: &[&ForgeKind] = &[
    &super::github::KIND,
    &super::gitlab::KIND,
    &super::bitbucket::KIND,
];

/// The command line, with these forges.
pub type CommandLine = Cli<&'static ForgeKind>;

/// This run's ID in its CI: the first of the forges' run variables set.
pub fn ci_run() -> Option<String> {
    FORGES
        .iter()
        .flat_map(|forge| forge.run_ids)
        .find_map(|name| std::env::var(name).ok())
}

impl ValueEnum for &'static ForgeKind {
    fn value_variants<'a>() -> &'a [Self] {
        FORGES
    }

    /// Only a forge an event can start is a value of `events --forge`.
    fn to_possible_value(&self) -> Option<PossibleValue> {
        self.events.as_ref().map(|_| PossibleValue::new(self.name))
    }
}

impl ForgeChoice for &'static ForgeKind {
    fn name(self) -> &'static str {
        self.name
    }

    fn title(self) -> &'static str {
        self.title
    }

    fn about(self) -> &'static str {
        self.about
    }

    fn events(self) -> Option<&'static EventsFlags> {
        self.events.as_ref().map(|events| &events.flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::EventsTarget;
    use crate::gitops::forge::Named;
    use serde_json::{Value, json};

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        CommandLine::command().debug_assert();
    }

    #[test]
    fn forges_have_names_of_their_own() {
        let mut names: Vec<&str> = FORGES.iter().map(|forge| forge.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FORGES.len());
    }

    #[test]
    fn the_token_is_named_by_its_secret_and_the_role_may_only_call_the_destination() {
        for forge in FORGES {
            let events = forge.events.as_ref().unwrap();
            let target = match events.flags.target {
                EventsTarget::Repository => "o/r",
                EventsTarget::Project => "42",
            };
            let named = Named {
                api: None,
                target,
                git_ref: "main",
            };
            let destination = (events.destination)(&named).unwrap();
            let text = crate::event_rule::template(destination.as_ref());
            assert!(text.contains("{{resolve:secretsmanager:${TokenSecret}}}"));
            let template: Value = serde_json::from_str(&text).unwrap();
            let statement = &template["Resources"]["InvokeRole"]["Properties"]["Policies"][0]["PolicyDocument"]
                ["Statement"];
            assert_eq!(
                statement,
                &json!([{ "Effect": "Allow", "Action": "events:InvokeApiDestination",
                    "Resource": { "Fn::GetAtt": ["StartPipeline", "Arn"] } }])
            );
        }
    }
}
