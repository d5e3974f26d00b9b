//! The audit's mute list, as a security team used to Prowler's uses it:
//! findings accepted for a reason until a date, in the contacts file or a
//! file beside it, shown as muted in every format and never counted; a
//! mute past its date mutes nothing and is reported.

use crate::support::{Workspace, stderr, stdout};

/// The quick start's file with a mute list: one current mute of an
/// account, one of a unit, and one past its date.
const MUTES_IN_THE_FILE: &str = r#"
audit:
  mute:
    - check: contacts_unprotected
      account: "222222222222"
      reason: SEC-42, the guardrail rolls out in the first quarter
      until: 2099-12-31
    - check: same_contact_details
      unit: Root/Workloads/Data
      reason: the data lake's primary contact is the vendor's (RISK-7)
      until: 2099-12-31
    - check: unverified_phone
      account: "*"
      reason: the phone was to be verified by hand
      until: 2020-01-31
"#;

/// A mute file beside it, as `audit --mute` takes it.
const MUTE_FILE: &str = r#"mute:
  - check: missing_operations
    account: "555555555555"
    reason: the data lake has no operations team yet (RISK-9)
    until: 2099-06-30
"#;

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("{needle} in the file"))
        + 1
}

#[test]
fn muted_findings_are_shown_as_muted_everywhere_not_counted_and_an_expired_mute_is_reported() {
    let (workspace, example) = Workspace::example();
    let file = format!("{example}{MUTES_IN_THE_FILE}");
    workspace.write("contacts.yaml", &file);
    workspace.write("mutes.yaml", MUTE_FILE);
    let output = workspace
        .sandbox(&[
            "audit",
            "--mute",
            "mutes.yaml",
            "-o",
            "audit.json",
            "-o",
            "audit.sarif",
            "-o",
            "audit.ocsf.json",
            "-o",
            "audit.csv",
            "-o",
            "audit.txt",
            "-o",
            "audit.html",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&workspace.read("audit.json")).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let muted = json["muted"].as_array().unwrap();
    let is = |f: &serde_json::Value, check: &str, account: &str| {
        f["check"] == check && f["account_id"] == account
    };

    // The mute of an account, of a unit, and of the file beside it.
    let guardrail = muted
        .iter()
        .find(|f| is(f, "contacts_unprotected", "222222222222"))
        .expect("the account's mute mutes its finding");
    assert_eq!(guardrail["muted"]["until"], "2099-12-31");
    assert_eq!(
        guardrail["muted"]["reason"],
        "SEC-42, the guardrail rolls out in the first quarter"
    );
    assert_eq!(guardrail["muted"]["location"]["file"], "contacts.yaml");
    assert_eq!(
        guardrail["muted"]["location"]["line"],
        line_of(&file, "check: contacts_unprotected")
    );
    assert!(
        muted
            .iter()
            .any(|f| is(f, "same_contact_details", "555555555555")),
        "the unit's mute covers its account: {muted:#?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| is(f, "same_contact_details", "444444444444")),
        "and no account outside the unit"
    );
    let beside = muted
        .iter()
        .find(|f| is(f, "missing_operations", "555555555555"))
        .expect("the mute file's mute");
    assert_eq!(beside["muted"]["location"]["file"], "mutes.yaml");
    assert_eq!(beside["muted"]["location"]["line"], 2);
    for f in findings {
        assert!(
            !is(f, "contacts_unprotected", "222222222222")
                && !is(f, "missing_operations", "555555555555"),
            "a muted finding is not among those that count: {f}"
        );
    }

    // Past its date, a mute mutes nothing, and says so at its line.
    assert!(
        findings
            .iter()
            .any(|f| is(f, "unverified_phone", "222222222222")),
        "the expired mute muted nothing"
    );
    let expired = findings
        .iter()
        .find(|f| f["check"] == "mute_expired")
        .expect("the expired mute is a finding");
    assert_eq!(expired["severity"], "low");
    assert_eq!(
        expired["location"]["line"],
        line_of(&file, "check: unverified_phone")
    );
    assert!(
        expired["message"]
            .as_str()
            .unwrap()
            .contains("the mute of unverified_phone for every account ended on 2020-01-31"),
        "{expired}"
    );

    // The terminal's report says them apart and counts only the rest.
    let text = workspace.read("audit.txt");
    let (counted, after) = text
        .split_once("\nMuted (accepted until their date; not counted):\n")
        .expect("a section of muted findings");
    assert!(!counted.contains("RISK-9"), "{text}");
    assert!(
        after.contains("555555555555 (Data Lake): no OPERATIONS contact")
            && after.contains("muted until 2099-06-30 at mutes.yaml:2:5: the data lake has no operations team yet (RISK-9)"),
        "{after}"
    );
    assert!(
        text.trim_end().ends_with(&format!(
            "across 6 accounts. {} findings muted.",
            muted.len()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("Audit: {} findings (", findings.len())),
        "{text}"
    );

    // SARIF: suppressed results, accepted, with the reason.
    let sarif: serde_json::Value = serde_json::from_str(&workspace.read("audit.sarif")).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len() + muted.len());
    let suppressed: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), muted.len());
    assert!(
        suppressed
            .iter()
            .all(|r| r["suppressions"][0]["status"] == "accepted")
    );
    assert!(suppressed.iter().any(|r| {
        r["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .starts_with("SEC-42")
    }));

    // OCSF: suppressed records, as Prowler writes a muted finding.
    let ocsf: serde_json::Value = serde_json::from_str(&workspace.read("audit.ocsf.json")).unwrap();
    let suppressed = ocsf
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "Suppressed" && r["status_id"] == 3)
        .count();
    assert_eq!(suppressed, muted.len());

    // CSV: the two columns of a mute, filled for muted rows only.
    let csv = workspace.read("audit.csv");
    let header = csv.lines().next().unwrap();
    assert!(
        header.ends_with(",remediation,muted_until,muted_reason,muted_location"),
        "{header}"
    );
    assert!(
        csv.contains(
            ",2099-06-30,the data lake has no operations team yet (RISK-9),mutes.yaml:2:5\r\n"
        ),
        "{csv}"
    );
    assert_eq!(
        csv.lines().filter(|line| line.contains(",2099-")).count(),
        muted.len(),
        "{csv}"
    );

    // HTML: counted apart in the summary, and a filter for them.
    let html = workspace.read("audit.html");
    assert!(
        html.contains(&format!(
            "<dt>Muted (not counted)</dt><dd data-count=\"muted\">{}</dd>",
            muted.len()
        )),
        "the summary counts the muted apart"
    );
    assert!(html.contains("<option value=\"muted\">Muted</option>"));
    assert!(
        html.contains(">NIST SP 800-53 r5 CM-5 (access restrictions for change)</option>"),
        "the control of a muted finding is still one to filter by"
    );
}

#[test]
fn an_audit_whose_every_finding_is_muted_passes_and_says_how_many_it_muted() {
    let (workspace, example) = Workspace::example();
    // Every check of the audit, for every account.
    let checks = [
        "missing_security",
        "missing_billing",
        "missing_operations",
        "shared_contact",
        "stale_review",
        "same_contact_details",
        "primary_unreadable",
        "reserved_domain",
        "undeliverable_domain",
        "domain_unchecked",
        "dns_unreachable",
        "domain_not_allowed",
        "root_email_not_allowed",
        "contacts_unprotected",
        "guardrail_unchecked",
        "account_unreadable",
        "contact_unsubscribed",
        "subscriptions_unchecked",
        "unverified_phone",
    ];
    let mut mutes = String::from("\naudit:\n  mute:\n");
    for check in checks {
        mutes.push_str(&format!(
            "    - {{ check: {check}, account: \"*\", reason: accepted for the test, until: 2099-01-01 }}\n"
        ));
    }
    workspace.write("contacts.yaml", &format!("{example}{mutes}"));
    let output = workspace.sandbox(&["audit"]).output().unwrap();
    let said = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{said}{}", stderr(&output));
    assert!(
        said.contains("Audit passed: no finding that counts across 6 accounts; 22 findings muted."),
        "{said}"
    );
}

#[test]
fn a_mute_list_s_mistakes_are_located_and_nothing_is_read_from_aws() {
    let (workspace, example) = Workspace::example();
    let file = format!(
        "{example}
audit:
  mute:
    - check: shared_contacts
      account: \"2222\"
      reason: \"\"
    - check: shared_contact
      account: \"222222222222\"
      unit: Root/Workloads
      reason: both
      until: 31/12/2099
"
    );
    workspace.write("contacts.yaml", &file);
    let output = workspace.sandbox(&["audit"]).output().unwrap();
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    let at = |needle: &str| format!("contacts.yaml:{}:", line_of(&file, needle));
    for (place, message) in [
        (
            at("check: shared_contacts"),
            "`shared_contacts` is not a check of the audit",
        ),
        (at("account: \"2222\""), "`2222` is not an account ID"),
        (at("reason: \"\""), "`reason` is empty"),
        (
            at("unit: Root/Workloads"),
            "a mute names both `account` and `unit`",
        ),
        (at("until: 31/12/2099"), "`31/12/2099` is not a date"),
    ] {
        assert!(
            said.lines()
                .any(|line| line.contains(&place) && line.contains(message)),
            "{place} {message}\n{said}"
        );
    }
    assert!(said.contains("a mute gives no `until` date"), "{said}");
    assert!(
        !workspace.exists("sandbox.yaml"),
        "the sandbox was never opened: nothing is read before the file is right"
    );

    // The same checks for a mute file.
    let (workspace, _) = Workspace::example();
    workspace.write(
        "mutes.yaml",
        "mute:\n  - check: missing_billing\n    account: \"*\"\n    until: 2099-01-01\n  - { check: missing_billng, account: \"*\", reason: r, until: 2099-01-01 }\n",
    );
    let output = workspace
        .sandbox(&["audit", "--mute", "mutes.yaml"])
        .output()
        .unwrap();
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("mutes.yaml:2:5: mute[0]: a mute gives no `reason`"),
        "{said}"
    );
    assert!(
        said.contains(
            "mutes.yaml:5:14: mute[1].check: `missing_billng` is not a check of the audit"
        ),
        "{said}"
    );
    let (workspace, _) = Workspace::example();
    workspace.write(
        "mutes.yaml",
        "mute:\n  - { check: missing_billng, account: \"*\", reason: r, until: 2099-01-01 }\n",
    );
    let output = workspace
        .sandbox(&["audit", "--mute", "mutes.yaml"])
        .output()
        .unwrap();
    assert!(
        stderr(&output).contains("help: did you mean `missing_billing`?"),
        "{}",
        stderr(&output)
    );
}
