//! `altcontacts events`: the template of the event path, held against
//! cfn-lint, and what EventBridge makes of it: each rule's pattern matched
//! against the event AWS sends, and its input transformer applied, as
//! EventBridge does, to give the request the forge receives. The loop
//! tests start their pipelines with that request.

use serde_json::{Value, json};

use crate::member_roles::CFN_LINT_VERSION;
use crate::support::Workspace;

/// The template `altcontacts events` prints for `args`.
pub fn template(args: &[&str]) -> Value {
    let output = Workspace::new()
        .command(&[&["events"], args].concat())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "events {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the template is JSON")
}

/// The template's arguments for a forge, as docs/gitops.md gives them.
pub fn forge_args(forge: &str) -> Vec<&'static str> {
    match forge {
        "github" => vec![
            "--forge",
            "github",
            "--repository",
            "example-org/aws-contacts",
        ],
        "bitbucket" => vec!["--forge", "bitbucket", "--repository", "acme/aws-contacts"],
        _ => vec!["--forge", "gitlab", "--project", "1234"],
    }
}

/// An event as EventBridge's rule sees it, by CloudTrail's shapes.
pub fn account_created(account: &str) -> Value {
    json!({
        "source": "aws.organizations",
        "detail-type": "AWS Service Event via CloudTrail",
        "detail": {
            "eventSource": "organizations.amazonaws.com",
            "eventName": "CreateAccountResult",
            "serviceEventDetails": { "createAccountStatus": {
                "id": "car-0123456789abcdef", "state": "SUCCEEDED",
                "accountName": "New Account", "accountId": account } },
        },
    })
}

pub fn account_moved(account: &str, to: &str) -> Value {
    json!({
        "source": "aws.organizations",
        "detail-type": "AWS API Call via CloudTrail",
        "detail": {
            "eventSource": "organizations.amazonaws.com",
            "eventName": "MoveAccount",
            "requestParameters": { "accountId": account, "sourceParentId": "r-emu1",
                "destinationParentId": to },
        },
    })
}

pub fn account_joined() -> Value {
    json!({
        "source": "aws.organizations",
        "detail-type": "AWS Service Event via CloudTrail",
        "detail": { "eventSource": "organizations.amazonaws.com",
            "eventName": "AccountJoinedOrganization" },
    })
}

/// EventBridge's pattern matching, for the forms the template uses: a
/// list of allowed values (exact, or `{"prefix": ...}` of a string), an
/// object matched field by field, and `[{"exists": false}]` for a field the
/// event must not have.
fn matches(pattern: &Value, event: &Value) -> bool {
    let absent = json!([{ "exists": false }]);
    match pattern {
        Value::Object(fields) => {
            fields
                .iter()
                .all(|(key, wanted)| match (event.get(key), *wanted == absent) {
                    (found, true) => found.is_none(),
                    (Some(value), false) => matches(wanted, value),
                    (None, false) => false,
                })
        }
        Value::Array(allowed) => allowed.iter().any(|one| match one.get("prefix") {
            Some(Value::String(prefix)) => event
                .as_str()
                .is_some_and(|text| text.starts_with(prefix.as_str())),
            _ => one == event,
        }),
        _ => false,
    }
}

pub fn resource_tagged(event: &str, resource: &str) -> Value {
    let tags = match event {
        "TagResource" => json!({ "tags": [{ "key": "team", "value": "data" }] }),
        _ => json!({ "tagKeys": ["team"] }),
    };
    let mut parameters = json!({ "resourceId": resource });
    parameters
        .as_object_mut()
        .unwrap()
        .extend(tags.as_object().unwrap().clone());
    json!({
        "source": "aws.organizations",
        "detail-type": "AWS API Call via CloudTrail",
        "detail": {
            "eventSource": "organizations.amazonaws.com",
            "eventName": event,
            "requestParameters": parameters,
        },
    })
}

/// `$.a.b.c` in `event`.
fn at_path<'v>(event: &'v Value, path: &str) -> &'v Value {
    path.strip_prefix("$.")
        .expect("a JSONPath from the root")
        .split('.')
        .fold(event, |value, key| &value[key])
}

/// The request body the rule that matches `event` sends the forge: its
/// target's input, or its input template with the event's values in.
/// Exactly one rule of the template matches.
pub fn delivered(forge: &str, event: &Value) -> Value {
    let template = template(&forge_args(forge));
    let rules: Vec<&Value> = template["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|resource| resource["Type"] == "AWS::Events::Rule")
        .filter(|rule| matches(&rule["Properties"]["EventPattern"], event))
        .collect();
    assert_eq!(rules.len(), 1, "one rule matches {event}");
    let target = &rules[0]["Properties"]["Targets"][0];
    assert_eq!(target["Arn"]["Fn::GetAtt"][0], "StartPipeline");
    let body = match &target["InputTransformer"] {
        Value::Null => target["Input"].as_str().unwrap().to_owned(),
        transformer => {
            let mut body = transformer["InputTemplate"].as_str().unwrap().to_owned();
            for (name, path) in transformer["InputPathsMap"].as_object().unwrap() {
                let value = at_path(event, path.as_str().unwrap());
                body = body.replace(&format!("<{name}>"), value.as_str().unwrap_or_default());
            }
            body
        }
    };
    serde_json::from_str(&body).expect("the body the forge receives is JSON")
}

#[test]
fn the_event_templates_pass_cfn_lint() {
    let cfn_lint =
        crate::ship::pinned_tool("cfn-lint-venv", "cfn-lint", CFN_LINT_VERSION, "cfn-lint");
    let dir = tempfile::tempdir().unwrap();
    let cases: [&[&str]; 5] = [
        &forge_args("github"),
        &[
            "--forge",
            "github",
            "--repository",
            "o/r",
            "--api-url",
            "https://github.example.com/api/v3",
        ],
        &forge_args("gitlab"),
        &[
            "--forge",
            "gitlab",
            "--project",
            "5678",
            "--ref",
            "production",
            "--api-url",
            "https://gitlab.example.com/api/v4",
        ],
        &forge_args("bitbucket"),
    ];
    let mut files = Vec::new();
    for (n, args) in cases.iter().enumerate() {
        let path = dir.path().join(format!("events-{n}.json"));
        std::fs::write(&path, template(args).to_string()).unwrap();
        files.push(path);
    }
    let lint = std::process::Command::new(cfn_lint)
        .args(&files)
        .output()
        .expect("run cfn-lint");
    assert!(
        lint.status.success(),
        "cfn-lint: {}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}

#[test]
fn each_event_that_brings_an_account_in_starts_the_pipeline_for_it() {
    let created = delivered("github", &account_created("123456789012"));
    assert_eq!(
        created,
        json!({ "event_type": "altcontacts-new-account",
            "client_payload": { "account_id": "123456789012", "event": "CreateAccountResult" } })
    );
    let moved = delivered("gitlab", &account_moved("123456789012", "ou-emu1-00000000"));
    assert_eq!(
        moved,
        json!({ "account_id": "123456789012", "event": "MoveAccount" }),
        "a payload that names the account, and no variable"
    );
    // An event that names no account starts the window of new accounts.
    let joined = delivered("github", &account_joined());
    assert_eq!(joined["client_payload"]["account_id"], "");
    // Control Tower's own events, and nothing for a failed creation.
    let mut failed = account_created("123456789012");
    failed["detail"]["serviceEventDetails"]["createAccountStatus"]["state"] = json!("FAILED");
    let template = template(&forge_args("github"));
    assert!(
        !template["Resources"]
            .as_object()
            .unwrap()
            .values()
            .any(|rule| matches(&rule["Properties"]["EventPattern"], &failed)),
        "a failed creation starts nothing"
    );
    let enrolled = json!({
        "source": "aws.controltower", "detail-type": "AWS Service Event via CloudTrail",
        "detail": { "eventName": "CreateManagedAccount", "serviceEventDetails": {
            "createManagedAccountStatus": { "state": "SUCCEEDED",
                "account": { "accountName": "New", "accountId": "210987654321" } } } },
    });
    assert_eq!(
        delivered("github", &enrolled)["client_payload"]["account_id"],
        "210987654321"
    );
}

/// CloudTrail records a refused call with the parameters its caller
/// chose: a MoveAccount that failed (anyone in the management account can
/// make one fail, naming any account) starts no pipeline, on any forge.
#[test]
fn a_refused_call_starts_no_pipeline() {
    let mut refused = account_moved("123456789012", "ou-emu1-00000000");
    refused["detail"]["errorCode"] = json!("AccessDenied");
    refused["detail"]["errorMessage"] =
        json!("You don't have permissions to access this resource.");
    let refused_join = json!({
        "source": "aws.organizations",
        "detail-type": "AWS API Call via CloudTrail",
        "detail": { "eventSource": "organizations.amazonaws.com", "eventName": "AcceptHandshake",
            "errorCode": "HandshakeConstraintViolationException" },
    });
    for forge in ["github", "gitlab", "bitbucket"] {
        let template = template(&forge_args(forge));
        let rules = template["Resources"].as_object().unwrap();
        for event in [&refused, &refused_join] {
            assert!(
                !rules
                    .values()
                    .any(|rule| matches(&rule["Properties"]["EventPattern"], event)),
                "{forge}: a refused call starts nothing: {event}"
            );
        }
        let moved = account_moved("123456789012", "ou-emu1-00000000");
        assert!(
            rules
                .values()
                .any(|rule| matches(&rule["Properties"]["EventPattern"], &moved)),
            "{forge}: a move that happened does"
        );
    }
}

/// An account retagged into another team gets that team's contacts: the
/// tag events of an account start its pipeline on every forge; those of a
/// unit, a root or a policy, and refused calls, start nothing.
#[test]
fn tagging_an_account_starts_its_pipeline_and_tagging_anything_else_does_not() {
    for forge in ["github", "gitlab", "bitbucket"] {
        for event in ["TagResource", "UntagResource"] {
            let body = delivered(forge, &resource_tagged(event, "012345678901"));
            // The account, as each forge's body carries it (Bitbucket's
            // pipeline variables name no event).
            let text = body.to_string();
            assert!(
                text.contains("\"account_id\":\"012345678901\"")
                    || text.contains("\"value\":\"012345678901\""),
                "{forge} {event}: {body}"
            );
            assert!(
                forge == "bitbucket" || text.contains("\"event\":\"TagResource\""),
                "{forge} {event}: {body}"
            );
        }
        let template = template(&forge_args(forge));
        let rules = template["Resources"].as_object().unwrap();
        let mut refused = resource_tagged("TagResource", "123456789012");
        refused["detail"]["errorCode"] = json!("AccessDeniedException");
        for event in [
            resource_tagged("TagResource", "ou-emu1-00000000"),
            resource_tagged("UntagResource", "r-emu1"),
            resource_tagged("TagResource", "p-examplepolicy"),
            refused,
        ] {
            assert!(
                !rules
                    .values()
                    .any(|rule| matches(&rule["Properties"]["EventPattern"], &event)),
                "{forge}: starts nothing: {event}"
            );
        }
    }
}

#[test]
fn the_template_is_refused_for_what_cannot_be_a_destination() {
    for (args, said) in [
        (
            vec!["--forge", "github", "--repository", "no-slash"],
            "is not a repository",
        ),
        (
            vec![
                "--forge",
                "github",
                "--repository",
                "o/r",
                "--api-url",
                "http://github.example.com",
            ],
            "is not an https:// URL",
        ),
        (
            vec!["--forge", "gitlab", "--project", "1234", "--ref", "a b"],
            "is not a branch name",
        ),
        (vec!["--forge", "gitlab"], "--project"),
        (
            vec!["--forge", "gitlab", "--project", "acme/aws-contacts"],
            "is not a GitLab project ID",
        ),
    ] {
        let output = Workspace::new()
            .command(&[&["events"], args.as_slice()].concat())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(said),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.stdout.is_empty(),
            "no template is printed for {args:?}"
        );
    }
}
