//! The audit's findings where security teams look: Security Hub through
//! moto (the cycle of a fix) and the emulator (its limits, its refusals),
//! OCSF records held against py-ocsf-models, SARIF against Microsoft's
//! SARIF validator.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::emulator::{Emulator, Faults, Hub, MemberRoles, organization};
use crate::moto::Moto;
use crate::support::{Workspace, json, stderr, stdout};

/// The validators, pinned (`.ci/run` installs them first).
pub const PY_OCSF_MODELS_VERSION: &str = "0.10.0";
pub const SARIF_MULTITOOL_VERSION: &str = "5.7.0";

const CALLER: &str = "999999999999";

fn audit(emulator: &Emulator, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    emulator
        .command(dir.path(), &[&["audit", "--org"], args].concat())
        .output()
        .unwrap()
}

fn with_hub(accounts: usize, hub: Option<Hub>) -> Emulator {
    Emulator::start(
        CALLER,
        Some(organization(CALLER, accounts, 2)),
        Faults {
            security_hub: hub,
            ..Faults::default()
        },
    )
}

/// An organization this large is audited through member roles, as the
/// docs advise: each account read at its own quota.
#[test]
fn ten_thousand_findings_go_in_calls_of_at_most_100_and_6_mb() {
    let emulator = Emulator::start(
        CALLER,
        Some(organization(CALLER, 2_000, 2)),
        Faults {
            security_hub: Some(Hub::default()),
            member_roles: Some(MemberRoles {
                name: "altcontacts".to_owned(),
                ..MemberRoles::default()
            }),
            ..Faults::default()
        },
    );
    let output = audit(
        &emulator,
        &[
            "--security-hub",
            "--format",
            "json",
            "--member-role",
            "altcontacts",
            "--rate",
            "assume=2000",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let sent = json(&output)["security_hub"].clone();
    let new = sent["new"].as_u64().unwrap() as usize;
    assert!(new >= 10_000, "{sent}");
    let imports: Vec<_> = emulator
        .hub_calls()
        .into_iter()
        .filter(|call| call.operation == "BatchImportFindings")
        .collect();
    assert_eq!(imports.len(), new.div_ceil(100), "the bound is ⌈N/100⌉");
    eprintln!(
        "{new} findings imported in {} BatchImportFindings calls",
        imports.len()
    );
    assert_eq!(sent["calls"], imports.len());
    assert!(
        imports.iter().all(|call| call.status == 200
            && call.findings <= 100
            && call.bytes <= 6 * 1024 * 1024)
    );
    assert_eq!(emulator.hub_findings().len(), new);
    assert!(stderr(&output).contains(&format!("{new} new, 0 updated, 0 resolved")));
}

#[test]
fn security_hub_off_or_forbidden_is_one_clear_error_after_the_whole_audit() {
    for (hub, says) in [
        (
            None,
            "enable Security Hub in this account and region (aws securityhub enable-security-hub)",
        ),
        (
            Some(Hub {
                denied: true,
                ..Hub::default()
            }),
            "the caller needs securityhub:DescribeHub, securityhub:GetFindings, securityhub:BatchImportFindings, securityhub:BatchUpdateFindings in the account and region the findings go to (it has not got securityhub:DescribeHub)",
        ),
    ] {
        let emulator = with_hub(3, hub);
        let output = audit(&emulator, &["--security-hub", "--format", "json"]);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let report = json(&output);
        assert_eq!(
            report["accounts"].as_array().unwrap().len(),
            4,
            "the audit is printed"
        );
        assert!(report.get("security_hub").is_none());
        let text = stderr(&output);
        assert_eq!(text.matches("error:").count(), 1, "{text}");
        assert!(text.contains("securityhub:DescribeHub"), "{text}");
        assert!(text.contains(says), "{text}");
    }
}

/// Security Hub takes a finding under the default product only from the
/// account it names: every finding is the caller's, about the account
/// concerned as its resource. A partial failure is said, never dropped.
#[test]
fn every_finding_goes_to_the_callers_hub_and_a_partial_failure_is_said() {
    let emulator = with_hub(
        3,
        Some(Hub {
            failing: 2,
            ..Hub::default()
        }),
    );
    let output = audit(&emulator, &["--security-hub", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let sent = json(&output)["security_hub"].clone();
    let refused = sent["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 2, "{sent}");
    assert!(
        refused
            .iter()
            .all(|refused| refused["code"] == "InternalException")
    );
    let findings = emulator.hub_findings();
    assert_eq!(
        findings.len() as u64 + 2,
        sent["new"].as_u64().unwrap(),
        "all but the two failed were imported"
    );
    assert!(
        findings
            .values()
            .all(|finding| finding["AwsAccountId"] == CALLER)
    );
    let about: std::collections::BTreeSet<&str> = findings
        .values()
        .map(|finding| finding["Resources"][0]["Id"].as_str().unwrap())
        .collect();
    assert!(
        about.len() >= 3,
        "findings about the member accounts: {about:?}"
    );
    assert!(about.iter().all(|id| id.starts_with("AWS::::Account:")));
    let text = stderr(&output);
    assert!(
        text.contains("error: Security Hub refused 2 of the findings sent"),
        "{text}"
    );
    assert_eq!(text.matches("error:").count(), 1, "{text}");
}

/// The findings moto holds, by Id.
async fn held(moto: &Moto) -> BTreeMap<String, aws_sdk_securityhub::types::AwsSecurityFinding> {
    let client = aws_sdk_securityhub::Client::new(&moto.sdk_config());
    let mut held = BTreeMap::new();
    let mut token = None;
    loop {
        let page = client
            .get_findings()
            .set_next_token(token)
            .send()
            .await
            .expect("GetFindings");
        for finding in page.findings() {
            held.insert(finding.id().unwrap().to_owned(), finding.clone());
        }
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => return held,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn through_moto_a_fix_resolves_its_finding_and_a_rerun_changes_no_id() {
    let moto = Moto::start();
    let orgs = aws_sdk_organizations::Client::new(&moto.sdk_config());
    orgs.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let created = orgs
        .create_account()
        .account_name("App")
        .email("app@example.com")
        .send()
        .await
        .unwrap();
    let app = created
        .create_account_status()
        .unwrap()
        .account_id()
        .unwrap()
        .to_owned();
    aws_sdk_securityhub::Client::new(&moto.sdk_config())
        .enable_security_hub()
        .send()
        .await
        .unwrap();
    let workspace = Workspace::new();
    let run = || {
        let output = moto
            .command(
                &workspace,
                &["audit", "--org", "--security-hub", "--format", "json"],
            )
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        json(&output)["security_hub"].clone()
    };

    let first = run();
    let n = first["new"].as_u64().unwrap();
    assert!(n > 2, "{first}");
    assert_eq!(
        (first["updated"].as_u64(), first["resolved"].as_u64()),
        (Some(0), Some(0))
    );
    let before = held(&moto).await;
    assert_eq!(before.len() as u64, n);
    let fixed_id = format!("altcontacts/missing_security/{app}");
    assert!(before.contains_key(&fixed_id), "{:?}", before.keys());
    let finding = &before[&fixed_id];
    assert_ne!(
        finding.aws_account_id(),
        Some(app.as_str()),
        "the caller's finding"
    );
    assert_eq!(finding.resources()[0].r#type(), Some("AwsAccount"));
    assert_eq!(
        finding.resources()[0].id(),
        Some(format!("AWS::::Account:{app}").as_str())
    );
    assert_eq!(
        finding.compliance().unwrap().security_control_id(),
        Some("Account.1")
    );
    assert!(
        finding
            .compliance()
            .unwrap()
            .related_requirements()
            .contains(&"cis-aws-foundations-v7:2.3".to_owned())
    );

    // Someone sets the app account's SECURITY contact; the next audit
    // updates the rest and resolves that one.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    aws_sdk_account::Client::new(&moto.sdk_config())
        .put_alternate_contact()
        .account_id(&app)
        .alternate_contact_type(aws_sdk_account::types::AlternateContactType::Security)
        .name("Security")
        .title("Security")
        .email_address("security-team@corp.io")
        .phone_number("+1 202 555 0100")
        .send()
        .await
        .unwrap();
    let second = run();
    assert_eq!(second["new"], 0, "{second}");
    assert_eq!(second["updated"].as_u64(), Some(n - 1), "{second}");
    assert_eq!(second["resolved"], 1, "{second}");
    let after = held(&moto).await;
    let resolved = &after[&fixed_id];
    assert_eq!(
        resolved.compliance().unwrap().status().map(|s| s.as_str()),
        Some("PASSED")
    );
    assert_eq!(
        resolved.record_state().map(|s| s.as_str()),
        Some("ARCHIVED")
    );
    for (id, finding) in &after {
        assert_eq!(
            finding.created_at(),
            before[id].created_at(),
            "{id}: CreatedAt stays"
        );
        assert_ne!(
            finding.updated_at(),
            before[id].updated_at(),
            "{id}: UpdatedAt moves"
        );
    }

    // Nothing fixed: the same Ids, nothing new, nothing resolved again.
    let third = run();
    assert_eq!(
        (third["new"].as_u64(), third["resolved"].as_u64()),
        (Some(0), Some(0))
    );
    let again = held(&moto).await;
    assert_eq!(
        again.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
}

/// Holds a SARIF log to Microsoft's SARIF validator: no error, no warning.
pub fn assert_valid_sarif(log: &Path) {
    let validator = crate::ship::pinned_npm(
        "sarif-multitool",
        &format!(".sarif-multitool-{SARIF_MULTITOOL_VERSION}-installed"),
        &[format!(
            "@microsoft/sarif-multitool@{SARIF_MULTITOOL_VERSION}"
        )],
    )
    .join("node_modules/.bin/sarif-multitool");
    let checked = tempfile::tempdir().unwrap();
    let validated = Command::new(validator)
        .arg("validate")
        .arg(log)
        .arg("-o")
        .arg(checked.path().join("checked.sarif"))
        .output()
        .unwrap();
    let said = stdout(&validated);
    assert!(validated.status.success(), "{said}{}", stderr(&validated));
    // A build that was not told where its release's docs are links to none
    // (ALTCONTACTS_DOCS_URL, as the binary was built): the validator's advice to name the tool's page
    // (SARIF2005) is then the one warning it may give, and only then.
    let advice = |line: &&str| {
        option_env!("ALTCONTACTS_DOCS_URL").is_none()
            && line.contains(": warning SARIF2005: runs[0].tool.driver: ")
            && line.contains("does not provide 'informationUri'")
    };
    let problems: Vec<&str> = said
        .lines()
        .filter(|line| line.contains(": error ") || line.contains(": warning "))
        .filter(|line| !advice(line))
        .collect();
    assert!(problems.is_empty(), "{said}");
}

/// The lines of `file` (as contacts.yaml holds it) where a SARIF log puts
/// the results of `rule`.
pub fn lines_of_results<'a>(sarif: &serde_json::Value, rule: &str, file: &'a str) -> Vec<&'a str> {
    let lines: Vec<&str> = file.lines().collect();
    sarif["runs"][0]["results"]
        .as_array()
        .expect("a run's results")
        .iter()
        .filter(|result| result["ruleId"] == rule)
        .map(|result| &result["locations"][0]["physicalLocation"])
        .filter(|at| at["artifactLocation"]["uri"] == "contacts.yaml")
        .map(|at| lines[at["region"]["startLine"].as_u64().unwrap() as usize - 1])
        .collect()
}

/// A sandbox organization whose contacts are outside the allowed domain:
/// findings on lines of the file, and findings about accounts.
fn located_findings() -> Workspace {
    let workspace = Workspace::org();
    let file = workspace.read("contacts.yaml");
    workspace.write(
        "contacts.yaml",
        &format!("{file}audit:\n  email_domains: [corp.io]\n"),
    );
    workspace
}

#[test]
fn the_sarif_log_passes_microsofts_validator_and_puts_findings_on_their_lines() {
    let workspace = located_findings();
    let output = workspace
        .sandbox(&["audit", "--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let log = workspace.dir.path().join("audit.sarif");
    std::fs::write(&log, stdout(&output)).unwrap();
    assert_valid_sarif(&log);

    let sarif = json(&output);
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 20, "one rule per check");
    let not_allowed = rules
        .iter()
        .find(|rule| rule["id"] == "domain_not_allowed")
        .unwrap();
    assert_eq!(not_allowed["properties"]["security-severity"], "5.5");
    let results = run["results"].as_array().unwrap();
    let located = results
        .iter()
        .find(|result| result["ruleId"] == "domain_not_allowed")
        .unwrap();
    let physical = &located["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "contacts.yaml");
    let line = physical["region"]["startLine"].as_u64().unwrap() as usize;
    let address = located["message"]["text"].as_str().unwrap();
    let written = workspace
        .read("contacts.yaml")
        .lines()
        .nth(line - 1)
        .unwrap()
        .to_owned();
    assert!(
        written.contains("@example.com") && address.contains("example.com"),
        "line {line}: {written} / {address}"
    );
    // A missing contact is fixed where the file decides the account's
    // contacts: its entry, or the defaults it takes.
    let missing = results
        .iter()
        .find(|result| result["ruleId"] == "missing_security")
        .unwrap();
    let account = missing["locations"][0]["logicalLocations"][0]["name"]
        .as_str()
        .unwrap();
    let line = missing["locations"][0]["physicalLocation"]["region"]["startLine"]
        .as_u64()
        .unwrap() as usize;
    let written = workspace
        .read("contacts.yaml")
        .lines()
        .nth(line - 1)
        .unwrap()
        .to_owned();
    assert!(
        written.contains(account) || written.trim_start().starts_with("defaults:"),
        "line {line}: {written}"
    );
    // A finding the file does not decide (an address AWS holds that the
    // file does not write) is at the file.
    let text = workspace.read("contacts.yaml");
    let at_the_file = results
        .iter()
        .find(|result| result["locations"][0]["physicalLocation"]["region"]["startLine"] == 1)
        .expect("a finding at the file");
    let message = at_the_file["message"]["text"].as_str().unwrap();
    let address = message.split('`').nth(1).unwrap_or_default();
    assert!(
        address.contains('@') && !text.contains(address),
        "{message}"
    );

    // The same findings, the same fingerprints: an alert stays one alert.
    let again = json(
        &workspace
            .sandbox(&["audit", "--format", "sarif"])
            .output()
            .unwrap(),
    );
    let prints = |sarif: &serde_json::Value| -> Vec<serde_json::Value> {
        sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|result| result["partialFingerprints"].clone())
            .collect()
    };
    assert_eq!(prints(&sarif), prints(&again));
    let distinct: std::collections::BTreeSet<String> =
        prints(&sarif).iter().map(|p| p.to_string()).collect();
    assert_eq!(distinct.len(), results.len(), "one fingerprint per result");
    // A muted finding is a suppressed result, and the validator takes it.
    let muted = format!(
        "{text}  mute:\n    - {{ check: missing_security, account: \"*\", reason: RISK-1, until: 2099-01-01 }}\n"
    );
    workspace.write("contacts.yaml", &muted);
    let output = workspace
        .sandbox(&["audit", "--format", "sarif"])
        .output()
        .unwrap();
    std::fs::write(&log, stdout(&output)).unwrap();
    assert_valid_sarif(&log);
    let suppressed: Vec<serde_json::Value> = json(&output)["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|result| result.get("suppressions").is_some())
        .cloned()
        .collect();
    assert!(
        !suppressed.is_empty() && suppressed.iter().all(|r| r["ruleId"] == "missing_security"),
        "{suppressed:#?}"
    );
}

const CHECK_OCSF: &str = r#"
import json, sys
from py_ocsf_models.events.findings.detection_finding import DetectionFinding
records = json.load(open(sys.argv[1]))
problems = []
def same(sent, kept, path):
    if isinstance(sent, dict):
        for key in sent:
            if key not in kept:
                problems.append(f"{path}.{key}: not in the OCSF model")
            else:
                same(sent[key], kept[key], f"{path}.{key}")
    elif isinstance(sent, list):
        for index, (a, b) in enumerate(zip(sent, kept)):
            same(a, b, f"{path}[{index}]")
    elif sent != kept:
        problems.append(f"{path}: {sent!r} read as {kept!r}")
for index, record in enumerate(records):
    model = DetectionFinding.model_validate(record)
    same(record, json.loads(model.model_dump_json(exclude_none=True)), f"[{index}]")
print("\n".join(problems))
print(f"{len(records)} records")
sys.exit(1 if problems else 0)
"#;

#[test]
fn ocsf_records_are_detection_findings_as_py_ocsf_models_reads_them() {
    let workspace = located_findings();
    let output = workspace
        .sandbox(&["audit", "--format", "ocsf"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let records = json(&output);
    let records = records.as_array().unwrap();
    assert!(records.len() > 5);
    for record in records {
        assert_eq!(record["class_uid"], 2004);
        assert_eq!(record["type_uid"], 200401);
        assert_eq!(record["cloud"]["account"]["type_id"], 10);
    }
    let finding = records
        .iter()
        .find(|record| record["metadata"]["event_code"] == "missing_security")
        .unwrap();
    assert_eq!(finding["severity_id"], 4);
    assert!(
        finding["unmapped"]["compliance"]
            .as_array()
            .unwrap()
            .contains(&"securityhub:Account.1".into())
    );
    let path = workspace.dir.path().join("records.json");
    std::fs::write(&path, stdout(&output)).unwrap();
    let script = workspace.dir.path().join("check_ocsf.py");
    std::fs::write(&script, CHECK_OCSF).unwrap();
    let python = crate::ship::pinned_tool(
        "ocsf-venv",
        "py-ocsf-models",
        PY_OCSF_MODELS_VERSION,
        "python",
    );
    let checked = Command::new(python)
        .arg(&script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}{}",
        stdout(&checked),
        stderr(&checked)
    );
    assert!(stdout(&checked).contains(&format!("{} records", records.len())));
}

#[test]
fn security_hub_on_the_sandbox_is_refused_before_anything_is_read() {
    let workspace = Workspace::org();
    let output = workspace
        .sandbox(&["audit", "--security-hub"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("the sandbox has no Security Hub"));
    assert!(stdout(&output).is_empty());
}

#[test]
fn audit_output_goes_to_the_file_named_without_colors_and_nothing_to_stdout() {
    let workspace = Workspace::org();
    let output = workspace
        .sandbox(&["--color", "always", "audit", "-o", "audit.txt"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stdout(&output).is_empty());
    let written = workspace.read("audit.txt");
    assert!(written.contains("SECURITY"), "{written}");
    assert!(!written.contains('\u{1b}'), "no color codes in a file");
}

/// A mute is Security Hub's `SUPPRESSED`, and its end `NEW` again: set at
/// the import that creates a finding, and with BatchUpdateFindings for one
/// Security Hub already has, since an import leaves that workflow as it is.
#[test]
fn a_mute_suppresses_the_finding_in_security_hub_and_its_removal_brings_it_back() {
    let emulator = with_hub(3, Some(Hub::default()));
    let dir = tempfile::tempdir().unwrap();
    let run = |mutes: Option<&str>| {
        let mut args = vec!["audit", "--org", "--security-hub", "--format", "json"];
        if let Some(mutes) = mutes {
            std::fs::write(dir.path().join("mutes.yaml"), mutes).unwrap();
            args.extend(["--mute", "mutes.yaml"]);
        }
        let output = emulator.command(dir.path(), &args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        json(&output)
    };
    let workflow_of = |check: &str| -> Vec<String> {
        emulator
            .hub_findings()
            .values()
            .filter(|finding| finding["GeneratorId"] == format!("altcontacts/{check}"))
            .map(|finding| {
                finding["Workflow"]["Status"]
                    .as_str()
                    .unwrap_or("NEW")
                    .to_owned()
            })
            .collect()
    };
    let mute = "mute:\n  - { check: missing_billing, account: \"*\", reason: RISK-3, until: 2099-01-01 }\n";
    // Sent for the first time, muted: the import sets the workflow.
    run(Some(mute));
    let muted = workflow_of("missing_billing");
    assert!(
        !muted.is_empty() && muted.iter().all(|status| status == "SUPPRESSED"),
        "{muted:?}"
    );
    // The mute removed: the findings are NEW again.
    let sent = run(None)["security_hub"].clone();
    assert_eq!(
        sent["workflows"].as_u64(),
        Some(muted.len() as u64),
        "{sent}"
    );
    assert!(
        workflow_of("missing_billing")
            .iter()
            .all(|status| status == "NEW")
    );
    // Muted again once Security Hub has them: BatchUpdateFindings.
    run(Some(mute));
    assert!(
        workflow_of("missing_billing")
            .iter()
            .all(|status| status == "SUPPRESSED")
    );
    assert!(
        workflow_of("missing_security")
            .iter()
            .all(|status| status == "NEW"),
        "what is not muted is left as it is"
    );
    let calls = emulator.hub_calls();
    assert_eq!(
        calls
            .iter()
            .filter(|call| call.operation == "BatchUpdateFindings")
            .count(),
        2,
        "one call each time the mute changed"
    );

    // One account's audit would resolve every other account's findings.
    let output = emulator
        .command(
            dir.path(),
            &[
                "audit",
                "--org",
                "--security-hub",
                "--account",
                "999999999999",
            ],
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("'--security-hub' cannot be used with '--account"),
        "{}",
        stderr(&output)
    );
}
