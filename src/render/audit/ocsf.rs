//! `audit --format ocsf`: one OCSF Detection Finding (class 2004) per
//! finding and account, as Prowler writes them, for a security lake.

use serde_json::{Value, json};

use crate::audit::{Audit, Severity};
use crate::findings::{Origin, account_name, key, per_account};

/// The OCSF schema version the records follow.
pub const OCSF_VERSION: &str = "1.5.0";

const DETECTION_FINDING: u32 = 2004;
const FINDINGS_CATEGORY: u32 = 2;
/// Activity "Create": each audit reports what it finds now.
const CREATE: u32 = 1;

fn severity(severity: Severity) -> (u32, &'static str) {
    match severity {
        Severity::High => (4, "High"),
        Severity::Medium => (3, "Medium"),
        Severity::Low => (2, "Low"),
    }
}

/// The records, as one JSON array.
pub fn records(audit: &Audit, origin: &Origin) -> String {
    let records: Vec<Value> = per_account(audit, &origin.caller)
        .map(|(finding, muted, account)| {
            let (severity_id, severity_name) = severity(finding.severity);
            let uid = key(finding, &account);
            let name = account_name(audit, &account).unwrap_or_else(|| account.to_string());
            let mut unmapped = serde_json::Map::new();
            unmapped.insert(
                "compliance".to_owned(),
                json!(finding.controls),
            );
            if let Some(address) = &finding.about.address {
                unmapped.insert("address".to_owned(), json!(address));
            }
            if let Some(location) = &finding.about.location {
                unmapped.insert("location".to_owned(), json!(location.to_string()));
            }
            // As Prowler marks a muted finding: suppressed, with why.
            if let Some(muted) = muted {
                unmapped.insert("muted".to_owned(), json!(muted));
            }
            let mut cloud = json!({
                "provider": "AWS",
                "region": origin.region,
                "account": { "uid": account.to_string(), "name": name, "type": "AWS Account", "type_id": 10 },
            });
            if let Some(management) = &origin.management_account {
                cloud["org"] = json!({ "uid": management.to_string() });
            }
            let mut record = json!({
                "activity_id": CREATE,
                "activity_name": "Create",
                "category_uid": FINDINGS_CATEGORY,
                "category_name": "Findings",
                "class_uid": DETECTION_FINDING,
                "class_name": "Detection Finding",
                "type_uid": DETECTION_FINDING * 100 + CREATE,
                "type_name": "Detection Finding: Create",
                "severity_id": severity_id,
                "severity": severity_name,
                "status_id": if muted.is_some() { 3 } else { 1 },
                "status": if muted.is_some() { "Suppressed" } else { "New" },
                "status_code": "FAIL",
                "status_detail": finding.message,
                "message": finding.message,
                "time": origin.time_ms,
                "metadata": {
                    "version": OCSF_VERSION,
                    "event_code": finding.check.code(),
                    "uid": uid,
                    "profiles": ["cloud"],
                    "product": {
                        "name": "altcontacts",
                        "vendor_name": "altcontacts",
                        "version": env!("CARGO_PKG_VERSION"),
                    },
                },
                "finding_info": {
                    "uid": uid,
                    "title": finding.check.title(),
                    "desc": finding.message,
                    "types": [finding.check.code()],
                    "created_time": origin.time_ms,
                },
                "cloud": cloud,
                "resources": [{
                    "type": "AWS::::Account",
                    "uid": format!("AWS::::Account:{account}"),
                    "name": account.to_string(),
                    "cloud_partition": origin.partition,
                    "region": origin.region,
                }],
                "remediation": { "desc": finding.check.help() },
                "unmapped": unmapped,
            });
            // No page, no link: a link must lead to documentation that exists.
            if let Some(page) = crate::findings::project_page() {
                record["metadata"]["product"]["url_string"] = json!(page);
            }
            record
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&records).expect("plain data serializes");
    text.push('\n');
    text
}
