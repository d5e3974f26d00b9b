//! The compliance check: does every account in scope have a SECURITY contact
//! (and BILLING and OPERATIONS), are the three different people, and were
//! the contacts in use reviewed within a year?

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{AccountId, AccountInfo, ContactType, Date, Desired, Live, Slot, count};

/// AWS advises reviewing alternate contacts at least once a year.
pub const REVIEW_WITHIN_DAYS: i64 = 365;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    High,
    Medium,
    Low,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    MissingSecurity,
    MissingBilling,
    MissingOperations,
    SharedContact,
    StaleReview,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub check: Check,
    /// The account concerned; none for a finding about a named contact.
    pub account_id: Option<AccountId>,
    pub message: String,
}

/// Which slots of an account are set, for the audit table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountRow {
    pub account_id: AccountId,
    pub account_name: Option<String>,
    pub security: bool,
    pub billing: bool,
    pub operations: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audit {
    pub accounts: Vec<AccountRow>,
    pub findings: Vec<Finding>,
}

pub fn check(
    accounts: &BTreeMap<AccountId, AccountInfo>,
    live: &Live,
    desired: Option<&Desired>,
    today: Date,
) -> Audit {
    let mut rows = Vec::new();
    let mut findings = Vec::new();
    for (id, info) in accounts {
        let contact = |kind| {
            live.slots
                .get(&Slot::new(id.clone(), kind))
                .and_then(Option::as_ref)
        };
        rows.push(AccountRow {
            account_id: id.clone(),
            account_name: info.name.clone(),
            security: contact(ContactType::Security).is_some(),
            billing: contact(ContactType::Billing).is_some(),
            operations: contact(ContactType::Operations).is_some(),
        });
        for (kind, check, severity, consequence) in [
            (
                ContactType::Security,
                Check::MissingSecurity,
                Severity::High,
                "AWS security advisories and compromise notices reach only the root user's address",
            ),
            (
                ContactType::Billing,
                Check::MissingBilling,
                Severity::Medium,
                "billing notices reach only the root user's address",
            ),
            (
                ContactType::Operations,
                Check::MissingOperations,
                Severity::Medium,
                "service and maintenance notices reach only the root user's address",
            ),
        ] {
            if contact(kind).is_none() {
                findings.push(Finding {
                    severity,
                    check,
                    account_id: Some(id.clone()),
                    message: format!("no {kind} contact: {consequence}"),
                });
            }
        }
        // One address for several roles means one inbox, one person away
        // from nobody reading any of them.
        let mut by_address: BTreeMap<String, Vec<ContactType>> = BTreeMap::new();
        for kind in ContactType::ALL {
            if let Some(contact) = contact(kind) {
                by_address
                    .entry(contact.email_address.trim().to_lowercase())
                    .or_default()
                    .push(kind);
            }
        }
        for (address, kinds) in by_address.into_iter().filter(|(_, kinds)| kinds.len() > 1) {
            let names: Vec<&str> = kinds.iter().map(|kind| kind.api_name()).collect();
            findings.push(Finding {
                severity: Severity::Low,
                check: Check::SharedContact,
                account_id: Some(id.clone()),
                message: format!(
                    "{} share the address {address}: each should reach a different team",
                    names.join(" and ")
                ),
            });
        }
    }
    if let Some(desired) = desired {
        findings.extend(stale_reviews(desired, today));
    }
    findings.sort_by(|a, b| {
        (a.severity, &a.account_id, a.check).cmp(&(b.severity, &b.account_id, b.check))
    });
    Audit {
        accounts: rows,
        findings,
    }
}

/// Contacts in use whose `reviewed` date is over a year old, one finding each.
fn stale_reviews(desired: &Desired, today: Date) -> Vec<Finding> {
    let mut stale: BTreeMap<(String, Date), usize> = BTreeMap::new();
    for wanted in desired.slots.values() {
        let Some(reviewed) = wanted.reviewed else {
            continue;
        };
        if today.days_since_epoch() - reviewed.days_since_epoch() > REVIEW_WITHIN_DAYS {
            let name = wanted.contact_name.clone().unwrap_or_else(|| {
                wanted.wanted.contact().map_or_else(String::new, |contact| {
                    format!("inline contact \"{}\"", contact.name)
                })
            });
            *stale.entry((name, reviewed)).or_default() += 1;
        }
    }
    stale
        .into_iter()
        .map(|((name, reviewed), uses)| Finding {
            severity: Severity::Medium,
            check: Check::StaleReview,
            account_id: None,
            message: format!(
                "contact `{name}` (used in {}) was last reviewed on {reviewed}, over a year ago: confirm it is current, then update `reviewed`",
                count(uses, "slot")
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Contact, DesiredSlot, Source, Wanted};

    fn contact(email: &str) -> Contact {
        Contact {
            name: "N".into(),
            title: "T".into(),
            email_address: email.into(),
            phone_number: "1".into(),
        }
    }

    #[test]
    fn finds_missing_shared_and_stale() {
        let id = AccountId::parse("111111111111").unwrap();
        let accounts = BTreeMap::from([(id.clone(), AccountInfo::default())]);
        let mut live = Live::default();
        live.slots
            .insert(Slot::new(id.clone(), ContactType::Security), None);
        live.slots.insert(
            Slot::new(id.clone(), ContactType::Billing),
            Some(contact("Ops@example.com")),
        );
        live.slots.insert(
            Slot::new(id.clone(), ContactType::Operations),
            Some(contact("ops@example.com ")),
        );
        let mut desired = Desired::default();
        desired.slots.insert(
            Slot::new(id.clone(), ContactType::Billing),
            DesiredSlot {
                wanted: Wanted::Present(contact("ops@example.com")),
                source: Source::Account {
                    account_id: id.clone(),
                },
                contact_name: Some("ops".into()),
                reviewed: Date::parse("2025-01-01"),
            },
        );
        let audit = check(
            &accounts,
            &live,
            Some(&desired),
            Date::parse("2026-11-27").unwrap(),
        );
        let checks: Vec<Check> = audit.findings.iter().map(|f| f.check).collect();
        assert_eq!(
            checks,
            vec![
                Check::MissingSecurity,
                Check::StaleReview,
                Check::SharedContact
            ]
        );
        assert!(audit.findings[2].message.contains("BILLING and OPERATIONS"));

        let fresh = check(
            &accounts,
            &live,
            Some(&desired),
            Date::parse("2025-12-31").unwrap(),
        );
        assert!(
            !fresh.findings.iter().any(|f| f.check == Check::StaleReview),
            "364 days is still fresh"
        );
    }
}
