//! `altcontacts events`: the CloudFormation template of the event path, for
//! the management account. EventBridge rules on the events that bring an
//! account into the organization (or into another unit) call an API
//! destination that starts the forge's pipeline for that account, as the
//! forge's [`Destination`] says (each forge's folder in `gitops` has its
//! own). The forge's token is kept in the EventBridge connection, which
//! stores it in Secrets Manager, and is read from a secret the user made:
//! the template names the secret, never the token.

use serde_json::{Value, json};

use crate::error::Error;

/// The field of a webhook trigger's payload that names the event's account
/// (GitLab's `TRIGGER_PAYLOAD`, which `--event-payload` reads).
pub const PAYLOAD_ACCOUNT_FIELD: &str = "account_id";

/// Where a forge's pipeline is started, and how.
pub trait Destination {
    /// The forge, as the template's descriptions name it.
    fn forge(&self) -> &'static str;

    /// The address the API destination calls.
    fn endpoint(&self) -> String;

    /// The body the API destination sends for an event; `account` is the
    /// account ID the rule's input transformer reads from the event, empty
    /// for an event that names none (the pipeline then applies the accounts
    /// that joined lately).
    fn body(&self, event: &str, account: &str) -> Value;

    /// How the connection presents the token ([`token`]): its
    /// `AuthParameters`.
    fn auth(&self) -> Value;
}

/// The token as the connection reads it from the user's secret, after
/// `prefix` (`Bearer `).
pub fn token(prefix: &str) -> Value {
    json!({ "Fn::Sub": format!("{prefix}{{{{resolve:secretsmanager:${{TokenSecret}}}}}}") })
}

/// A bearer token in `Authorization` ([`token`]), with `headers` (none
/// of them secret) beside it: how GitHub's and Bitbucket's APIs are called.
pub fn bearer(headers: &[(&str, &str)]) -> Value {
    let headers: Vec<Value> = (headers.iter())
        .map(|(key, value)| json!({ "Key": key, "Value": value, "IsValueSecret": false }))
        .collect();
    json!({
        "ApiKeyAuthParameters": {
            "ApiKeyName": "Authorization",
            "ApiKeyValue": token("Bearer "),
        },
        "InvocationHttpParameters": { "HeaderParameters": headers },
    })
}

/// A repository, `form` (`OWNER/NAME`) as its forge writes it.
pub fn two_part(repository: &str, form: &str) -> Result<String, Error> {
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
pub fn branch(git_ref: &str) -> Result<String, Error> {
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

/// The forge's API, which EventBridge calls over HTTPS only.
pub fn https(url: &str) -> Result<String, Error> {
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
/// invited and joined, moved to another unit, tagged or untagged, enrolled
/// by Control Tower.
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
            id: "AccountTagged",
            description: "altcontacts: an account's tags changed (TagResource, UntagResource), and so perhaps the tag rules it takes",
            pattern: json!({
                "source": ["aws.organizations"],
                "detail-type": [api_call],
                "detail": {
                    "eventName": ["TagResource", "UntagResource"],
                    "errorCode": [{ "exists": false }],
                    // Units (ou-), roots (r-) and policies (p-) are tagged
                    // too: an account's ID is the one that starts with a
                    // digit.
                    "requestParameters": {
                        "resourceId": ('0'..='9')
                            .map(|digit| json!({ "prefix": digit.to_string() }))
                            .collect::<Vec<_>>(),
                    },
                },
            }),
            account: Some("$.detail.requestParameters.resourceId"),
            event: "TagResource",
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

fn target(destination: &dyn Destination, rule: &Rule) -> Value {
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
                "InputTemplate": destination.body(rule.event, "<account>").to_string(),
            });
        }
        None => target["Input"] = Value::String(destination.body(rule.event, "").to_string()),
    }
    target
}

/// The template, as JSON (CloudFormation reads it as it reads YAML).
pub fn template(destination: &dyn Destination) -> String {
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
