//! `altcontacts events`: the CloudFormation template of the event path, for
//! the management account. EventBridge rules on the events that bring an
//! account into the organization (or into another unit) call an API
//! destination that starts the forge's pipeline for that account: GitHub's
//! `repository_dispatch`, GitLab's pipeline trigger, Bitbucket's custom
//! pipeline. The forge's token is
//! kept in the EventBridge connection, which stores it in Secrets Manager,
//! and is read from a secret the user made: the template names the secret,
//! never the token.

use serde_json::{Value, json};

use crate::error::Error;

/// The `repository_dispatch` event type the new-accounts workflow listens for.
pub const DISPATCH_EVENT_TYPE: &str = "altcontacts-new-account";

/// The pipeline variable that names the event's account (Bitbucket's
/// custom pipeline).
pub const ACCOUNT_VARIABLE: &str = "ALTCONTACTS_ACCOUNT";

/// The field of a webhook trigger's payload that names the event's account
/// (GitLab's `TRIGGER_PAYLOAD`, which `--event-payload` reads).
pub const PAYLOAD_ACCOUNT_FIELD: &str = "account_id";

/// The Bitbucket custom pipeline (`pipelines: custom:`) an event starts.
pub const BITBUCKET_PIPELINE: &str = "altcontacts-new-accounts";

/// Where the pipeline is started, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// `POST {api}/repos/{repository}/dispatches`, with a token that may
    /// write the repository's contents (what GitHub asks of a dispatch).
    GitHub { api: String, repository: String },
    /// `POST {api}/projects/{project}/ref/{git_ref}/trigger/pipeline`: the
    /// webhook form of a pipeline trigger, whose body reaches the jobs as
    /// the file `TRIGGER_PAYLOAD` and sets no variable, so the trigger's
    /// holder can say which account and nothing the job obeys besides.
    GitLab {
        api: String,
        project: String,
        git_ref: String,
    },
    /// `POST {api}/repositories/{repository}/pipelines/`: the custom
    /// pipeline [`BITBUCKET_PIPELINE`] of `git_ref`, with a repository
    /// access token that may write pipelines.
    Bitbucket {
        api: String,
        repository: String,
        git_ref: String,
    },
}

impl Destination {
    /// Checks what the user named: the forge's API over HTTPS (EventBridge
    /// calls nothing else), a repository `OWNER/NAME`, a project ID or path.
    pub fn github(api: Option<&str>, repository: &str) -> Result<Self, Error> {
        Ok(Self::GitHub {
            api: https(api.unwrap_or("https://api.github.com"))?,
            repository: two_part(repository, "OWNER/NAME")?,
        })
    }

    pub fn bitbucket(api: Option<&str>, repository: &str, git_ref: &str) -> Result<Self, Error> {
        Ok(Self::Bitbucket {
            api: https(api.unwrap_or("https://api.bitbucket.org/2.0"))?,
            repository: two_part(repository, "WORKSPACE/REPOSITORY")?,
            git_ref: branch(git_ref)?,
        })
    }

    /// The project by its numeric ID: a path would be one URL segment with
    /// its slashes encoded, and nothing says EventBridge keeps `%2F` as it
    /// is. The branch is a path segment too, so it has no slash.
    pub fn gitlab(api: Option<&str>, project: &str, git_ref: &str) -> Result<Self, Error> {
        if project.is_empty() || !project.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::usage(
                format!("`{project}` is not a GitLab project ID"),
                Some(
                    "write the project's numeric ID (the project's Settings > General, or `glab repo view`), e.g. --project 1234: an API destination's address keeps no encoded path"
                        .to_owned(),
                ),
            ));
        }
        let git_ref = branch(git_ref)?;
        if git_ref.contains('/') {
            return Err(Error::usage(
                format!("`{git_ref}` holds a slash, which the trigger's address cannot carry"),
                Some("apply from a default branch without a slash, e.g. --ref main".to_owned()),
            ));
        }
        Ok(Self::GitLab {
            api: https(api.unwrap_or("https://gitlab.com/api/v4"))?,
            project: project.to_owned(),
            git_ref,
        })
    }

    fn endpoint(&self) -> String {
        match self {
            Self::GitHub { api, repository } => format!("{api}/repos/{repository}/dispatches"),
            Self::GitLab {
                api,
                project,
                git_ref,
            } => format!("{api}/projects/{project}/ref/{git_ref}/trigger/pipeline"),
            Self::Bitbucket {
                api, repository, ..
            } => format!("{api}/repositories/{repository}/pipelines/"),
        }
    }

    fn forge(&self) -> &'static str {
        match self {
            Self::GitHub { .. } => "GitHub",
            Self::GitLab { .. } => "GitLab",
            Self::Bitbucket { .. } => "Bitbucket",
        }
    }

    /// The body the API destination sends for an event; `<account>` is the
    /// account ID the rule's input transformer reads from the event, empty
    /// for an event that names none (the pipeline then applies the accounts
    /// that joined lately).
    fn body(&self, event: &str, account: &str) -> String {
        let body = match self {
            Self::GitHub { .. } => json!({
                "event_type": DISPATCH_EVENT_TYPE,
                "client_payload": { "account_id": account, "event": event },
            }),
            // A payload, not variables: GitLab keeps it as TRIGGER_PAYLOAD
            // (with the project and the ref beside), and a project that
            // restricts pipeline variables refuses a trigger that sets any.
            Self::GitLab { .. } => json!({
                PAYLOAD_ACCOUNT_FIELD: account,
                "event": event,
            }),
            // An event that names no account starts the pipeline without
            // the variable, whose default (none) applies the accounts that
            // joined lately.
            Self::Bitbucket { git_ref, .. } => json!({
                "target": {
                    "type": "pipeline_ref_target",
                    "ref_type": "branch",
                    "ref_name": git_ref,
                    "selector": { "type": "custom", "pattern": BITBUCKET_PIPELINE },
                },
                "variables": match account {
                    "" => json!([]),
                    account => json!([{ "key": ACCOUNT_VARIABLE, "value": account }]),
                },
            }),
        };
        body.to_string()
    }

    /// How the connection presents the token: GitHub and Bitbucket read a
    /// bearer token from `Authorization`; GitLab reads a trigger token from the `token`
    /// parameter only. EventBridge asks every connection for an
    /// authorization, so GitLab's carries a header naming the caller, which
    /// GitLab ignores, and the token as a secret query parameter.
    fn auth(&self) -> Value {
        let token = json!({ "Fn::Sub": "{{resolve:secretsmanager:${TokenSecret}}}" });
        match self {
            Self::GitHub { .. } => json!({
                "ApiKeyAuthParameters": {
                    "ApiKeyName": "Authorization",
                    "ApiKeyValue": { "Fn::Sub": "Bearer {{resolve:secretsmanager:${TokenSecret}}}" },
                },
                "InvocationHttpParameters": {
                    "HeaderParameters": [
                        { "Key": "Accept", "Value": "application/vnd.github+json", "IsValueSecret": false },
                        { "Key": "X-GitHub-Api-Version", "Value": "2022-11-28", "IsValueSecret": false },
                    ],
                },
            }),
            Self::Bitbucket { .. } => json!({
                "ApiKeyAuthParameters": {
                    "ApiKeyName": "Authorization",
                    "ApiKeyValue": { "Fn::Sub": "Bearer {{resolve:secretsmanager:${TokenSecret}}}" },
                },
                "InvocationHttpParameters": {
                    "HeaderParameters": [
                        { "Key": "Accept", "Value": "application/json", "IsValueSecret": false },
                    ],
                },
            }),
            Self::GitLab { .. } => json!({
                "ApiKeyAuthParameters": {
                    "ApiKeyName": "X-Altcontacts-Caller",
                    "ApiKeyValue": "eventbridge",
                },
                "InvocationHttpParameters": {
                    "QueryStringParameters": [
                        { "Key": "token", "Value": token, "IsValueSecret": true },
                    ],
                },
            }),
        }
    }
}

/// `OWNER/NAME` (GitHub) or `WORKSPACE/REPOSITORY` (Bitbucket), as `form` says.
fn two_part(repository: &str, form: &str) -> Result<String, Error> {
    let valid = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    match repository.split_once('/') {
        Some((owner, name)) if valid(owner) && valid(name) => Ok(repository.to_owned()),
        _ => Err(Error::usage(
            format!("`{repository}` is not a repository: write {form}"),
            Some("e.g. --repository example-org/aws-contacts".to_owned()),
        )),
    }
}

/// The branch a started pipeline runs on.
fn branch(git_ref: &str) -> Result<String, Error> {
    let valid = !git_ref.is_empty()
        && git_ref
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if !valid {
        return Err(Error::usage(
            format!("`{git_ref}` is not a branch name"),
            Some("name the default branch the pipeline applies from, e.g. --ref main".to_owned()),
        ));
    }
    Ok(git_ref.to_owned())
}

fn https(url: &str) -> Result<String, Error> {
    let url = url.trim_end_matches('/');
    match url.strip_prefix("https://") {
        Some(rest) if !rest.is_empty() && !rest.contains(char::is_whitespace) => Ok(url.to_owned()),
        _ => Err(Error::usage(
            format!("`{url}` is not an https:// URL"),
            Some("EventBridge API destinations call HTTPS endpoints only: name the forge's API, e.g. https://github.example.com/api/v3".to_owned()),
        )),
    }
}

/// One rule: the events it matches, and where in them the account is.
struct Rule {
    id: &'static str,
    description: &'static str,
    pattern: Value,
    /// A JSONPath to the account ID in the event, when it carries one.
    account: Option<&'static str>,
    /// What the payload calls the event.
    event: &'static str,
}

/// The events that bring an account under the file's layers: created,
/// invited and joined, moved to another unit, enrolled by Control Tower.
/// Organizations sends its events in us-east-1; Control Tower, in its home
/// region.
fn rules() -> Vec<Rule> {
    let service_event = "AWS Service Event via CloudTrail";
    let api_call = "AWS API Call via CloudTrail";
    vec![
        Rule {
            id: "AccountCreated",
            description: "altcontacts: an account created in the organization (CreateAccountResult, SUCCEEDED)",
            pattern: json!({
                "source": ["aws.organizations"],
                "detail-type": [service_event],
                "detail": {
                    "eventName": ["CreateAccountResult"],
                    "serviceEventDetails": { "createAccountStatus": { "state": ["SUCCEEDED"] } },
                },
            }),
            account: Some("$.detail.serviceEventDetails.createAccountStatus.accountId"),
            event: "CreateAccountResult",
        },
        Rule {
            id: "AccountJoined",
            description: "altcontacts: an invited account joined the organization (AcceptHandshake, AccountJoinedOrganization)",
            pattern: json!({
                "source": ["aws.organizations"],
                "detail-type": [api_call, service_event],
                "detail": {
                    "eventName": ["AcceptHandshake", "AccountJoinedOrganization"],
                    "errorCode": [{ "exists": false }],
                },
            }),
            // These name the account in no one place across their forms:
            // the pipeline applies every account that joined lately, which
            // the new one did.
            account: None,
            event: "AccountJoinedOrganization",
        },
        Rule {
            id: "AccountMoved",
            description: "altcontacts: an account moved to another unit (MoveAccount), whose layers may differ",
            pattern: json!({
                "source": ["aws.organizations"],
                "detail-type": [api_call],
                // CloudTrail records refused calls too, with the account
                // their caller chose: only a move that happened counts.
                "detail": { "eventName": ["MoveAccount"], "errorCode": [{ "exists": false }] },
            }),
            account: Some("$.detail.requestParameters.accountId"),
            event: "MoveAccount",
        },
        Rule {
            id: "ControlTowerAccountCreated",
            description: "altcontacts: Control Tower enrolled a new account (CreateManagedAccount, SUCCEEDED)",
            pattern: json!({
                "source": ["aws.controltower"],
                "detail-type": [service_event],
                "detail": {
                    "eventName": ["CreateManagedAccount"],
                    "serviceEventDetails": { "createManagedAccountStatus": { "state": ["SUCCEEDED"] } },
                },
            }),
            account: Some(
                "$.detail.serviceEventDetails.createManagedAccountStatus.account.accountId",
            ),
            event: "CreateManagedAccount",
        },
        Rule {
            id: "ControlTowerAccountUpdated",
            description: "altcontacts: Control Tower updated an account, perhaps into another unit (UpdateManagedAccount, SUCCEEDED)",
            pattern: json!({
                "source": ["aws.controltower"],
                "detail-type": [service_event],
                "detail": {
                    "eventName": ["UpdateManagedAccount"],
                    "serviceEventDetails": { "updateManagedAccountStatus": { "state": ["SUCCEEDED"] } },
                },
            }),
            account: Some(
                "$.detail.serviceEventDetails.updateManagedAccountStatus.account.accountId",
            ),
            event: "UpdateManagedAccount",
        },
    ]
}

fn target(destination: &Destination, rule: &Rule) -> Value {
    let mut target = json!({
        "Id": "StartPipeline",
        "Arn": { "Fn::GetAtt": ["StartPipeline", "Arn"] },
        "RoleArn": { "Fn::GetAtt": ["InvokeRole", "Arn"] },
        // A pipeline started an hour late is still sooner than the
        // schedule; past that the schedule covers the account.
        "RetryPolicy": { "MaximumRetryAttempts": 20, "MaximumEventAgeInSeconds": 3600 },
    });
    match rule.account {
        Some(path) => {
            target["InputTransformer"] = json!({
                "InputPathsMap": { "account": path },
                "InputTemplate": destination.body(rule.event, "<account>"),
            });
        }
        None => target["Input"] = Value::String(destination.body(rule.event, "")),
    }
    target
}

/// The template, as JSON (CloudFormation reads it as it reads YAML).
pub fn template(destination: &Destination) -> String {
    let forge = destination.forge();
    let mut resources = serde_json::Map::new();
    resources.insert(
        "Connection".to_owned(),
        json!({
            "Type": "AWS::Events::Connection",
            "Properties": {
                "Description": format!("altcontacts: the {forge} token that starts the new-accounts pipeline (kept by EventBridge in Secrets Manager)"),
                "AuthorizationType": "API_KEY",
                "AuthParameters": destination.auth(),
            }
        }),
    );
    resources.insert(
        "StartPipeline".to_owned(),
        json!({
            "Type": "AWS::Events::ApiDestination",
            "Properties": {
                "Description": format!("altcontacts: start the new-accounts pipeline on {forge}"),
                "ConnectionArn": { "Fn::GetAtt": ["Connection", "Arn"] },
                "HttpMethod": "POST",
                "InvocationEndpoint": destination.endpoint(),
                // Accounts arrive a few at a time; a burst of hundreds
                // (a migration) is one pipeline per second, each cheap.
                "InvocationRateLimitPerSecond": 1,
            }
        }),
    );
    resources.insert(
        "InvokeRole".to_owned(),
        json!({
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": "altcontacts: lets this account's EventBridge rules call the API destination, and nothing else",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Principal": { "Service": "events.amazonaws.com" },
                        "Action": "sts:AssumeRole",
                        "Condition": { "StringEquals": { "aws:SourceAccount": { "Ref": "AWS::AccountId" } } },
                    }],
                },
                "Policies": [{
                    "PolicyName": "altcontacts-start-pipeline",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Action": "events:InvokeApiDestination",
                            "Resource": { "Fn::GetAtt": ["StartPipeline", "Arn"] },
                        }],
                    },
                }],
            }
        }),
    );
    for rule in rules() {
        resources.insert(
            rule.id.to_owned(),
            json!({
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Description": rule.description,
                    "State": "ENABLED",
                    "EventPattern": rule.pattern,
                    "Targets": [target(destination, &rule)],
                }
            }),
        );
    }
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("altcontacts: a new account's contacts within minutes. EventBridge rules on the organization's account events start the {forge} pipeline for that account. Deploy it in the management account, in us-east-1 (where Organizations sends its events); the token stays in Secrets Manager."),
        "Parameters": {
            "TokenSecret": {
                "Type": "String",
                "Description": format!("The name or ARN of the Secrets Manager secret that holds the {forge} token, as plain text (see docs/gitops.md)"),
                "AllowedPattern": "^[A-Za-z0-9/_+=.@:-]+$",
                "ConstraintDescription": "a secret's name or ARN",
            }
        },
        "Resources": resources,
        "Outputs": {
            "ApiDestinationArn": { "Value": { "Fn::GetAtt": ["StartPipeline", "Arn"] } },
            "ConnectionSecretArn": {
                "Description": "Where EventBridge keeps its copy of the token",
                "Value": { "Fn::GetAtt": ["Connection", "SecretArn"] },
            },
        },
    });
    let mut text = serde_json::to_string_pretty(&template).expect("plain data serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(destination: &Destination) -> Value {
        serde_json::from_str(&template(destination)).unwrap()
    }

    #[test]
    fn github_s_rules_send_a_repository_dispatch_with_the_event_s_account() {
        let destination = Destination::github(None, "example-org/aws-contacts").unwrap();
        let template = parsed(&destination);
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
        let body: Value = serde_json::from_str(
            &created["InputTemplate"]
                .as_str()
                .unwrap()
                .replace("<account>", "123456789012"),
        )
        .unwrap();
        assert_eq!(body["event_type"], DISPATCH_EVENT_TYPE);
        assert_eq!(body["client_payload"]["account_id"], "123456789012");
        let joined: Value = serde_json::from_str(
            resources["AccountJoined"]["Properties"]["Targets"][0]["Input"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(joined["client_payload"]["account_id"], "");
    }

    #[test]
    fn gitlab_s_rules_trigger_the_default_branch_with_a_payload_that_names_the_account_only() {
        let destination =
            Destination::gitlab(Some("https://gitlab.example.com/api/v4/"), "4242", "main")
                .unwrap();
        let template = parsed(&destination);
        assert_eq!(
            template["Resources"]["StartPipeline"]["Properties"]["InvocationEndpoint"],
            "https://gitlab.example.com/api/v4/projects/4242/ref/main/trigger/pipeline"
        );
        let moved =
            &template["Resources"]["AccountMoved"]["Properties"]["Targets"][0]["InputTransformer"];
        let body: Value = serde_json::from_str(
            &moved["InputTemplate"]
                .as_str()
                .unwrap()
                .replace("<account>", "123456789012"),
        )
        .unwrap();
        assert_eq!(
            body,
            json!({ "account_id": "123456789012", "event": "MoveAccount" }),
            "no `variables`, no `ref`: nothing a job obeys but the account"
        );
    }

    #[test]
    fn bitbucket_s_rules_start_the_custom_pipeline_of_the_branch_with_the_account() {
        let destination = Destination::bitbucket(None, "acme/aws-contacts", "main").unwrap();
        let template = parsed(&destination);
        assert_eq!(
            template["Resources"]["StartPipeline"]["Properties"]["InvocationEndpoint"],
            "https://api.bitbucket.org/2.0/repositories/acme/aws-contacts/pipelines/"
        );
        let created = &template["Resources"]["AccountCreated"]["Properties"]["Targets"][0]["InputTransformer"];
        let body: Value = serde_json::from_str(
            &created["InputTemplate"]
                .as_str()
                .unwrap()
                .replace("<account>", "123456789012"),
        )
        .unwrap();
        assert_eq!(body["target"]["ref_name"], "main");
        assert_eq!(body["target"]["selector"]["pattern"], BITBUCKET_PIPELINE);
        assert_eq!(
            body["variables"],
            json!([{ "key": "ALTCONTACTS_ACCOUNT", "value": "123456789012" }])
        );
    }

    #[test]
    fn the_token_is_named_by_its_secret_and_the_role_may_only_call_the_destination() {
        for destination in [
            Destination::github(None, "o/r").unwrap(),
            Destination::gitlab(None, "42", "main").unwrap(),
            Destination::bitbucket(None, "w/r", "main").unwrap(),
        ] {
            let text = template(&destination);
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

    #[test]
    fn what_cannot_be_a_destination_is_refused() {
        assert!(Destination::github(None, "no-slash").is_err());
        assert!(Destination::github(None, "a/b c").is_err());
        assert!(Destination::github(Some("http://api.github.com"), "o/r").is_err());
        assert!(Destination::gitlab(None, "", "main").is_err());
        assert!(Destination::gitlab(None, "group/contacts", "main").is_err());
        assert!(Destination::gitlab(None, "42", "main branch").is_err());
        assert!(Destination::gitlab(None, "42", "release/1").is_err());
        assert!(Destination::bitbucket(None, "workspace", "main").is_err());
        assert!(Destination::bitbucket(None, "w/r", "").is_err());
    }
}
