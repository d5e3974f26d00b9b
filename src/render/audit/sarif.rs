//! `audit --format sarif`: SARIF 2.1.0 for GitHub code scanning and any
//! SARIF viewer. One rule per check; each finding a result at the line of
//! contacts.yaml it comes from (else at the file), with its accounts as
//! logical locations and a fingerprint that stays while the finding does,
//! so an alert closes when the finding is gone.

use serde_json::{Value, json};

use crate::audit::mute::Muted;
use crate::audit::{Audit, Check, Finding, Severity};
use crate::config::LoadedConfig;
use crate::findings::{Origin, accounts_of, checks_page, digest, key, place, project_page, score};

/// GitHub keeps at most this many results of a run.
pub const MAX_RESULTS: usize = 25_000;

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

fn rule(check: Check) -> Value {
    let mut rule = json!({
        "id": check.code(),
        // A person's name for it; the id is the stable one.
        "name": check
            .code()
            .split('_')
            .map(|word| word[..1].to_uppercase() + &word[1..])
            .collect::<String>(),
        "shortDescription": { "text": check.title() },
        "fullDescription": { "text": check.help() },
        "help": { "text": check.help(), "markdown": check.help() },
        "defaultConfiguration": { "level": level(check.severity()) },
        "properties": {
            "tags": ["security", "aws", "contacts"],
            "precision": "very-high",
            "problem.severity": level(check.severity()),
            "security-severity": format!("{:.1}", score(check.severity())),
        },
    });
    // No page, no link: a link must lead to documentation that exists.
    if let Some(page) = checks_page() {
        rule["helpUri"] = json!(page);
    }
    rule
}

/// A file as code scanning names it: relative to the root of the git
/// repository it is in (what GitHub resolves a relative URI against, even
/// when the audit ran in a subfolder); outside one, as given, or as a
/// `file://` URI when absolute.
fn artifact(file: &str) -> String {
    let encode = |path: &str| path.replace('%', "%25").replace(' ', "%20");
    let path = std::path::Path::new(file);
    let absolute = match std::env::current_dir() {
        Ok(here) => here.join(path),
        Err(_) => path.to_path_buf(),
    };
    let in_repository = absolute
        .ancestors()
        .skip(1)
        .find(|dir| dir.join(".git").exists())
        .and_then(|root| absolute.strip_prefix(root).ok());
    match in_repository {
        Some(relative) => encode(
            &relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
        ),
        None if path.is_relative() => encode(file),
        None => format!("file://{}", encode(file)),
    }
}

fn result(
    finding: &Finding,
    muted: Option<&Muted>,
    config: Option<&LoadedConfig>,
    origin: &Origin,
) -> Value {
    let accounts = accounts_of(finding, &origin.caller);
    let logical: Vec<Value> = accounts
        .iter()
        .map(|account| {
            json!({ "name": account.to_string(), "kind": "module",
                    "fullyQualifiedName": format!("aws/account/{account}") })
        })
        .collect();
    let mut location = json!({ "logicalLocations": logical });
    let fixed_at = accounts
        .first()
        .and_then(|account| place(finding, account, config));
    let physical = match (fixed_at, config) {
        (Some(at), _) => Some(json!({
            "artifactLocation": { "uri": artifact(&at.file) },
            "region": { "startLine": at.line, "startColumn": at.column },
        })),
        // The file the audit ran on, at its start.
        (None, Some(config)) => Some(json!({
            "artifactLocation": { "uri": artifact(&config.file) },
            "region": { "startLine": 1 },
        })),
        (None, None) => None,
    };
    if let Some(physical) = physical {
        location["physicalLocation"] = physical;
    }
    let keys: Vec<String> = accounts
        .iter()
        .map(|account| key(finding, account))
        .collect();
    let mut result = json!({
        "ruleId": finding.check.code(),
        "ruleIndex": Check::ALL.iter().position(|check| *check == finding.check),
        "level": level(finding.severity),
        "message": { "text": finding.message },
        "locations": [location],
        "partialFingerprints": { "altcontacts/v1": digest(&keys.join(" ")) },
        "properties": {
            "security-severity": format!("{:.1}", score(finding.severity)),
            "controls": finding.controls,
        },
    });
    // An accepted finding is a suppressed result: GitHub shows it closed,
    // with the reason, and it fails nothing.
    if let Some(muted) = muted {
        result["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": format!("{} (muted until {} at {})", muted.reason, muted.until, muted.location),
            "location": {
                "physicalLocation": {
                    "artifactLocation": { "uri": artifact(&muted.location.file) },
                    "region": { "startLine": muted.location.line, "startColumn": muted.location.column },
                },
            },
        }]);
    }
    result
}

/// The log. `config` is the contacts file the audit ran on, if any. Past
/// GitHub's limit
/// the most severe are kept and the run says how many were left out.
pub fn log(audit: &Audit, config: Option<&LoadedConfig>, origin: &Origin) -> String {
    // The muted after the rest: past the limit, they are the first left out.
    let mut findings: Vec<(&Finding, Option<&Muted>)> = audit
        .findings
        .iter()
        .map(|finding| (finding, None))
        .collect();
    findings.sort_by_key(|(finding, _)| finding.severity);
    findings.extend(
        audit
            .muted
            .iter()
            .map(|muted| (&muted.finding, Some(&muted.muted))),
    );
    let left_out = findings.len().saturating_sub(MAX_RESULTS);
    findings.truncate(MAX_RESULTS);
    let mut notifications = Vec::new();
    if left_out > 0 {
        notifications.push(json!({
            "level": "warning",
            "message": { "text": format!(
                "{left_out} findings left out: GitHub keeps at most {MAX_RESULTS} results of a run; the most severe are here, and `audit --format json` has them all"
            ) },
        }));
    }
    let mut log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "altcontacts",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": Check::ALL.map(rule),
            } },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "automationDetails": { "id": format!("altcontacts/audit/{}/", origin.caller) },
            "results": findings
                .iter()
                .map(|(finding, muted)| result(finding, *muted, config, origin))
                .collect::<Vec<_>>(),
        }],
    });
    if let Some(page) = project_page() {
        log["runs"][0]["tool"]["driver"]["informationUri"] = json!(page);
    }
    let mut text = serde_json::to_string_pretty(&log).expect("plain data serializes");
    text.push('\n');
    text
}

/// How many findings a SARIF log of `audit` leaves out.
pub fn left_out(audit: &Audit) -> usize {
    (audit.findings.len() + audit.muted.len()).saturating_sub(MAX_RESULTS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::About;
    use crate::model::AccountId;

    fn origin() -> Origin {
        Origin {
            caller: AccountId::parse("999999999999").unwrap(),
            management_account: None,
            partition: "aws".to_owned(),
            region: "us-east-1".to_owned(),
            time_ms: 0,
        }
    }

    fn finding(n: usize, severity: Severity) -> Finding {
        Finding {
            severity,
            check: Check::ALL[0],
            account_id: AccountId::parse(&format!("{n:012}")),
            message: format!("finding {n}"),
            controls: Vec::new(),
            about: About::default(),
        }
    }

    #[test]
    fn past_githubs_limit_the_most_severe_are_kept_and_the_log_says_how_many_went() {
        let mut findings: Vec<Finding> = (0..MAX_RESULTS)
            .map(|n| finding(n, Severity::Low))
            .collect();
        findings.extend((0..3).map(|n| finding(MAX_RESULTS + n, Severity::High)));
        let audit = Audit {
            accounts: Vec::new(),
            findings,
            muted: Vec::new(),
            dns: Default::default(),
        };
        assert_eq!(left_out(&audit), 3);
        let log: Value = serde_json::from_str(&log(&audit, None, &origin())).unwrap();
        let run = &log["runs"][0];
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), MAX_RESULTS);
        assert_eq!(
            results
                .iter()
                .filter(|result| result["level"] == "error")
                .count(),
            3,
            "the three high ones are kept"
        );
        let said = run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .unwrap();
        assert!(said.starts_with("3 findings left out"), "{said}");
    }

    #[test]
    fn a_file_in_a_repository_is_named_from_the_repository_root() {
        let repository = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repository.path().join(".git")).unwrap();
        std::fs::create_dir_all(repository.path().join("aws accounts")).unwrap();
        let file = repository.path().join("aws accounts/contacts.yaml");
        assert_eq!(
            artifact(file.to_str().unwrap()),
            "aws%20accounts/contacts.yaml"
        );
        let elsewhere = tempfile::tempdir().unwrap();
        let file = elsewhere.path().join("contacts.yaml");
        assert_eq!(
            artifact(file.to_str().unwrap()),
            format!("file://{}", file.display())
        );
    }
}
