//! The compliance check: does every account in scope have a SECURITY contact
//! (and BILLING and OPERATIONS), are the three different people, and were
//! the contacts in use reviewed within a year?

pub mod guardrail;
pub mod mute;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::model::{
    AccountId, AccountInfo, Contact, ContactType, Date, Desired, Live, PhoneVerification,
    PrimaryContact, Slot, Source, Topic, Unchecked, Unreadable, Value, Wanted, count,
};

/// AWS advises reviewing alternate contacts at least once a year.
pub const REVIEW_WITHIN_DAYS: i64 = 365;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    High,
    Medium,
    Low,
}

pub use crate::model::Check;

/// A compliance control a finding answers, by the ID the auditors' tools
/// use, so a compliance team can map the audit onto their dashboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Control {
    #[serde(rename = "securityhub:Account.1")]
    SecurityHubAccount1,
    #[serde(rename = "config:security-account-information-provided")]
    ConfigSecurityAccountInformationProvided,
    #[serde(rename = "cis-aws-foundations-v1.4-v5:1.2")]
    CisV1ToV5Item1_2,
    #[serde(rename = "cis-aws-foundations-v6:2.2")]
    CisV6Item2_2,
    #[serde(rename = "cis-aws-foundations-v7:2.3")]
    CisV7Item2_3,
    #[serde(rename = "prowler:account_security_contact_information_is_registered")]
    ProwlerSecurityContactRegistered,
    #[serde(
        rename = "prowler:account_maintain_different_contact_details_to_security_billing_and_operations"
    )]
    ProwlerDifferentContactDetails,
    #[serde(rename = "cis-aws-foundations-v1.4-v5:1.1")]
    CisV1ToV5Item1_1,
    #[serde(rename = "cis-aws-foundations-v6:2.1")]
    CisV6Item2_1,
    #[serde(rename = "cis-aws-foundations-v7:2.2")]
    CisV7Item2_2,
    #[serde(rename = "nist-800-53-r5:CM-5")]
    Nist80053R5Cm5,
}

impl Control {
    /// The control as a person names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::SecurityHubAccount1 => "Security Hub Account.1",
            Self::ConfigSecurityAccountInformationProvided => {
                "AWS Config security-account-information-provided"
            }
            Self::CisV1ToV5Item1_2 => "CIS AWS Foundations 1.2 (v1.4-v5)",
            Self::CisV6Item2_2 => "CIS AWS Foundations 2.2 (v6)",
            Self::CisV7Item2_3 => "CIS AWS Foundations 2.3 (v7)",
            Self::ProwlerSecurityContactRegistered => {
                "Prowler account_security_contact_information_is_registered"
            }
            Self::ProwlerDifferentContactDetails => {
                "Prowler account_maintain_different_contact_details_to_security_billing_and_operations"
            }
            Self::CisV1ToV5Item1_1 => "CIS AWS Foundations 1.1 (v1.4-v5)",
            Self::CisV6Item2_1 => "CIS AWS Foundations 2.1 (v6)",
            Self::CisV7Item2_2 => "CIS AWS Foundations 2.2 (v7)",
            Self::Nist80053R5Cm5 => "NIST SP 800-53 r5 CM-5 (access restrictions for change)",
        }
    }
}

/// The controls that fail when an account has no SECURITY contact.
pub const SECURITY_CONTACT_CONTROLS: [Control; 6] = [
    Control::SecurityHubAccount1,
    Control::ConfigSecurityAccountInformationProvided,
    Control::CisV1ToV5Item1_2,
    Control::CisV6Item2_2,
    Control::CisV7Item2_3,
    Control::ProwlerSecurityContactRegistered,
];

/// The controls that fail when a contact does not reach anyone: CIS's
/// "Maintain current contact details".
pub const CURRENT_CONTACT_CONTROLS: [Control; 3] = [
    Control::CisV1ToV5Item1_1,
    Control::CisV6Item2_1,
    Control::CisV7Item2_2,
];

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub check: Check,
    /// The account concerned; none for a finding about a named contact.
    pub account_id: Option<AccountId>,
    pub message: String,
    /// The compliance controls this finding fails (possibly none).
    pub controls: Vec<Control>,
    #[serde(flatten)]
    pub about: About,
}

/// What a finding about an address or a policy is about, beyond one account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct About {
    /// The email address concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Where the contacts file writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Every account concerned, when there are several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<AccountId>,
    /// The named contact concerned (`contacts:` in the file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The subscription concerned (AWS User Notifications).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription: Option<SubscriptionAbout>,
    /// The account is one the file excludes from management
    /// (`organization.exclude`, at `location`): `apply` does not fix it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub excluded: bool,
    /// The missing contact is one the file declares `absent`: the fix is
    /// the file's, at that layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_absent: Option<DeclaredAbsent>,
}

/// A slot the file declares `absent`, and the layer that says so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeclaredAbsent {
    pub contact_type: ContactType,
    /// `accounts["444444444444"]`, `units["Root/Sandbox"]`,
    /// `organization.defaults`.
    #[serde(serialize_with = "as_text")]
    pub layer: Source,
}

fn as_text<S: serde::Serializer>(layer: &Source, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(layer)
}

/// A contact's subscription to an AWS Health topic, as a finding names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SubscriptionAbout {
    pub contact_type: ContactType,
    pub topic: Topic,
    /// Whether the file manages the contact, so `apply` restores it; else
    /// the topic is AWS's default for the contact, and the fix is AWS's.
    pub managed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Which slots of an account are set, for the audit table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountRow {
    pub account_id: AccountId,
    pub account_name: Option<String>,
    /// Excluded from management by the file, and audited all the same.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub excluded: bool,
    pub security: bool,
    pub billing: bool,
    pub operations: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audit {
    pub accounts: Vec<AccountRow>,
    pub findings: Vec<Finding>,
    /// The findings the file accepts, until their date: shown as muted,
    /// never counted (`mute.rs`).
    pub muted: Vec<mute::MutedFinding>,
    /// Whether DNS was asked if the domains accept mail: a report must
    /// not say "did not answer" of a question never put.
    pub dns: DnsAsked,
}

/// Whether the audit asked DNS of the contacts' domains.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsAsked {
    #[default]
    Asked,
    /// `--no-dns`.
    Off,
    /// On the sandbox, whose addresses are make-believe.
    Sandbox,
}

impl DnsAsked {
    /// Why DNS was not asked, for a reader; none when it was.
    pub fn not_asked_because(self) -> Option<&'static str> {
        match self {
            DnsAsked::Asked => None,
            DnsAsked::Off => Some("DNS was not asked (--no-dns)"),
            DnsAsked::Sandbox => Some(
                "on the sandbox, whose addresses are make-believe, neither DNS nor reserved domains are checked",
            ),
        }
    }
}

pub use crate::model::Primaries;

pub fn check(
    accounts: &BTreeMap<AccountId, AccountInfo>,
    live: &Live,
    primaries: &Primaries,
    desired: Option<&Desired>,
    today: Date,
) -> Audit {
    let mut rows = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    let excluded =
        |id: &AccountId| desired.is_some_and(|desired| desired.excluded.contains_key(id));
    // A slot the file deletes: missing by intent, fixed by changing the file.
    let declared_absent = |id: &AccountId, kind: ContactType| {
        let wanted = desired?.slots.get(&Slot::new(id.clone(), kind))?;
        (wanted.wanted == Wanted::Absent).then(|| DeclaredAbsent {
            contact_type: kind,
            layer: wanted.source.clone(),
        })
    };
    for (id, info) in accounts {
        if let Some(why) = live.unreadable.get(id) {
            findings.push(unreadable(id, why));
            continue;
        }
        let contact = |kind| {
            live.slots
                .get(&Slot::new(id.clone(), kind))
                .and_then(Option::as_ref)
                .and_then(Value::as_alternate)
        };
        rows.push(AccountRow {
            account_id: id.clone(),
            account_name: info.name.clone(),
            excluded: excluded(id),
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
                let declared = declared_absent(id, kind);
                findings.push(Finding {
                    severity,
                    check,
                    account_id: Some(id.clone()),
                    message: match &declared {
                        Some(_) => format!(
                            "no {kind} contact, as the file declares (`{}: absent`): {consequence}",
                            kind.config_key()
                        ),
                        None => format!("no {kind} contact: {consequence}"),
                    },
                    controls: if kind == ContactType::Security {
                        SECURITY_CONTACT_CONTROLS.to_vec()
                    } else {
                        Vec::new()
                    },
                    about: About {
                        declared_absent: declared,
                        ..About::default()
                    },
                });
            }
        }
        // One address for several roles means one inbox, one person away
        // from nobody reading any of them.
        let mut by_address: BTreeMap<String, Vec<ContactType>> = BTreeMap::new();
        for kind in ContactType::ALTERNATES {
            if let Some(contact) = contact(kind) {
                by_address
                    .entry(crate::model::domain::address_key(&contact.email_address))
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
                controls: Vec::new(),
                about: About {
                    address: Some(address.clone()),
                    ..About::default()
                },
            });
        }
        if let Some(primaries) = primaries {
            let primary = primaries.get(id).and_then(Option::as_ref);
            let alternates = ContactType::ALTERNATES.map(contact);
            if let Some(problem) = same_contact_details(primary, alternates) {
                // A contact the file deletes fails the rule by the file's will.
                let declared = ContactType::ALTERNATES
                    .into_iter()
                    .filter(|kind| contact(*kind).is_none())
                    .find_map(|kind| declared_absent(id, kind));
                findings.push(Finding {
                    severity: Severity::Medium,
                    check: Check::SameContactDetails,
                    account_id: Some(id.clone()),
                    message: problem,
                    controls: vec![Control::ProwlerDifferentContactDetails],
                    about: About {
                        declared_absent: declared,
                        ..About::default()
                    },
                });
            }
        }
    }
    findings.extend(subscription_findings(accounts, live, desired));
    findings.extend(
        live.phones
            .iter()
            .filter(|(id, _)| accounts.contains_key(*id))
            .filter_map(|(id, status)| {
                let state = match status {
                    PhoneVerification::Unverified => "not verified",
                    PhoneVerification::Pending => "not verified yet (a code was sent)",
                    PhoneVerification::Verified | PhoneVerification::NotSupported => return None,
                };
                Some(Finding {
                    severity: Severity::Low,
                    check: Check::UnverifiedPhone,
                    account_id: Some(id.clone()),
                    message: format!(
                        "the primary contact's phone number is {state}: AWS cannot be sure it reaches the account's owner"
                    ),
                    controls: CURRENT_CONTACT_CONTROLS.to_vec(),
                    about: About::default(),
                })
            }),
    );
    if primaries.is_none() && !accounts.is_empty() {
        findings.push(Finding {
            severity: Severity::Low,
            check: Check::PrimaryUnreadable,
            account_id: None,
            message: "the primary contacts could not be read (denied, or not offered by this endpoint), so the rule that the primary and alternate contacts differ was not checked: grant account:GetContactInformation".to_owned(),
            controls: vec![Control::ProwlerDifferentContactDetails],
            about: About::default(),
        });
    }
    if let Some(desired) = desired {
        findings.extend(stale_reviews(desired, today));
    }
    // What the file excludes is checked as the rest, and said so: its fix
    // is not `apply`'s.
    for finding in &mut findings {
        if finding.account_id.as_ref().is_some_and(excluded) {
            finding.about.excluded = true;
        }
    }
    let mut audit = Audit {
        accounts: rows,
        findings: Vec::new(),
        muted: Vec::new(),
        dns: DnsAsked::default(),
    };
    audit.add(findings);
    audit
}

/// The contacts that are set and unsubscribed from a topic they should
/// receive: the file's topics where it manages the contact, else AWS's
/// defaults; and the accounts whose subscriptions were not read.
fn subscription_findings(
    accounts: &BTreeMap<AccountId, AccountInfo>,
    live: &Live,
    desired: Option<&Desired>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    // Refusals too are one finding: a role made before subscriptions were
    // read refuses them in every account, and the first answer says why.
    let refused: Vec<(&AccountId, &String)> = accounts
        .keys()
        .filter_map(|id| match live.unchecked.get(id) {
            Some(Unchecked::Failed(answer)) => Some((id, answer)),
            _ => None,
        })
        .collect();
    if let Some((_, first)) = refused.first() {
        let (account_id, accounts) = match refused.as_slice() {
            [(id, _)] => (Some((*id).clone()), Vec::new()),
            many => (None, many.iter().map(|(id, _)| (*id).clone()).collect()),
        };
        findings.push(Finding {
            severity: Severity::Low,
            check: Check::SubscriptionsUnchecked,
            account_id,
            message: format!(
                "the subscriptions to AWS Health's notices of {} could not be read: {first}",
                count(refused.len(), "account")
            ),
            controls: Vec::new(),
            about: About {
                accounts,
                ..About::default()
            },
        });
    }
    for id in accounts
        .keys()
        .filter(|id| !live.unreadable.contains_key(*id))
    {
        if live.unchecked.contains_key(id) {
            continue;
        }
        let Some(subscribed) = live.notices.get(id) else {
            continue;
        };
        for kind in ContactType::EVERY {
            let slot = Slot::new(id.clone(), kind);
            // An unset contact has nothing to receive: its own finding says so.
            let set = match kind {
                ContactType::Primary => true,
                _ => live.slots.get(&slot).is_some_and(Option::is_some),
            };
            if !set {
                continue;
            }
            // The file's intent where there is a file; AWS's defaults of
            // every contact where there is none (`--org`).
            let (topics, source) = match desired {
                Some(desired) => match desired.topics_of(&slot) {
                    Some((topics, source)) => (topics, Some(source)),
                    None => continue,
                },
                None => (kind.default_topics(), None),
            };
            for topic in topics {
                let Some(subscribers) = subscribed.get(&topic) else {
                    continue;
                };
                if subscribers.contains(&kind) {
                    continue;
                }
                let security = kind == ContactType::Security
                    && topic.as_str() == crate::model::notices::HEALTH_SECURITY;
                findings.push(Finding {
                    severity: if security {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    check: Check::ContactUnsubscribed,
                    account_id: Some(id.clone()),
                    message: format!(
                        "the {kind} contact is unsubscribed from {topic} (AWS User Notifications): it is set, and AWS Health's notices of that topic reach it no more"
                    ),
                    controls: match security {
                        true => SECURITY_CONTACT_CONTROLS
                            .into_iter()
                            .chain(CURRENT_CONTACT_CONTROLS)
                            .collect(),
                        false => CURRENT_CONTACT_CONTROLS.to_vec(),
                    },
                    about: About {
                        subscription: Some(SubscriptionAbout {
                            contact_type: kind,
                            topic,
                            managed: source.is_some(),
                        }),
                        ..About::default()
                    },
                });
            }
        }
    }
    findings
}

/// An account whose contacts could not be read: not a row of the table,
/// whose marks would claim it has none, but one finding that says so.
fn unreadable(id: &AccountId, why: &Unreadable) -> Finding {
    Finding {
        severity: Severity::Medium,
        check: Check::AccountUnreadable,
        account_id: Some(id.clone()),
        message: format!(
            "its contacts could not be read ({why}), so whether it has a SECURITY contact was not checked, and plan and apply skip it: find what denies the read in the account (the member role's policies, a permissions boundary) or in the caller's policy"
        ),
        controls: SECURITY_CONTACT_CONTROLS.to_vec(),
        about: About::default(),
    }
}

impl Audit {
    /// Adds findings of other checks (deliverability, the guardrail), in
    /// the audit's order: most severe first, then by account.
    pub fn add(&mut self, findings: impl IntoIterator<Item = Finding>) {
        self.findings.extend(findings);
        self.findings.sort_by(|a, b| {
            (a.severity, &a.account_id, a.check, &a.about.address).cmp(&(
                b.severity,
                &b.account_id,
                b.check,
                &b.about.address,
            ))
        });
    }
}

/// Prowler's rule, exactly: the primary contact and the three alternates
/// have four different names and four different phone numbers, and the
/// three alternates three different email addresses; a missing contact
/// fails it. The reason it fails, if it does.
fn same_contact_details(
    primary: Option<&PrimaryContact>,
    alternates: [Option<&Contact>; 3],
) -> Option<String> {
    let Some(primary) = primary else {
        return Some("no primary contact: four different contacts are required".to_owned());
    };
    let missing: Vec<&str> = ContactType::ALTERNATES
        .iter()
        .zip(&alternates)
        .filter(|(_, contact)| contact.is_none())
        .map(|(kind, _)| kind.api_name())
        .collect();
    if !missing.is_empty() {
        return Some(format!(
            "no {} contact: the primary and the three alternate contacts must all be set and all differ",
            missing.join(" or ")
        ));
    }
    let alternates: Vec<&Contact> = alternates.into_iter().flatten().collect();
    let distinct = |values: Vec<&str>| values.iter().collect::<BTreeSet<_>>().len();
    let names = std::iter::once(primary.full_name.as_str())
        .chain(alternates.iter().map(|c| c.name.as_str()))
        .collect();
    let phones = std::iter::once(primary.phone_number.as_str())
        .chain(alternates.iter().map(|c| c.phone_number.as_str()))
        .collect();
    let emails = alternates
        .iter()
        .map(|c| c.email_address.as_str())
        .collect();
    let mut shared = Vec::new();
    if distinct(names) < 4 {
        shared.push("names");
    }
    if distinct(phones) < 4 {
        shared.push("phone numbers");
    }
    if distinct(emails) < 3 {
        shared.push("email addresses");
    }
    (!shared.is_empty()).then(|| {
        format!(
            "the primary and alternate contacts share {}: each should be a different person",
            shared.join(" and ")
        )
    })
}

/// Contacts in use whose `reviewed` date is over a year old, one finding each.
fn stale_reviews(desired: &Desired, today: Date) -> Vec<Finding> {
    let mut stale: BTreeMap<(String, Date), usize> = BTreeMap::new();
    for wanted in desired.slots.values() {
        let Some(reviewed) = wanted.reviewed else {
            continue;
        };
        if crate::model::time::days_between(reviewed, today) > REVIEW_WITHIN_DAYS {
            let name = wanted.contact_name.clone().unwrap_or_else(|| {
                wanted.wanted.contact().map_or_else(String::new, |value| {
                    format!("inline contact {}", value.describe())
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
            controls: Vec::new(),
            about: About {
                contact: Some(name),
                ..About::default()
            },
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
            Some(Value::Alternate(contact("Ops@example.com"))),
        );
        live.slots.insert(
            Slot::new(id.clone(), ContactType::Operations),
            Some(Value::Alternate(contact("ops@example.com "))),
        );
        let mut desired = Desired::default();
        desired.slots.insert(
            Slot::new(id.clone(), ContactType::Billing),
            DesiredSlot {
                wanted: Wanted::Present(Value::Alternate(contact("ops@example.com"))),
                source: Source::Account {
                    account_id: id.clone(),
                },
                contact_name: Some("ops".into()),
                reviewed: crate::model::time::parse_date("2025-01-01"),
                notices: None,
            },
        );
        let audit = check(
            &accounts,
            &live,
            &Some(BTreeMap::new()),
            Some(&desired),
            crate::model::time::parse_date("2026-11-27").unwrap(),
        );
        let checks: Vec<Check> = audit.findings.iter().map(|f| f.check).collect();
        assert_eq!(
            checks,
            vec![
                Check::MissingSecurity,
                Check::StaleReview,
                Check::SameContactDetails,
                Check::SharedContact
            ]
        );
        assert_eq!(
            audit.findings[0].controls,
            SECURITY_CONTACT_CONTROLS.to_vec(),
            "a missing SECURITY contact fails Security Hub, Config, CIS and Prowler"
        );
        assert!(audit.findings[3].message.contains("BILLING and OPERATIONS"));

        let fresh = check(
            &accounts,
            &live,
            &None,
            Some(&desired),
            crate::model::time::parse_date("2025-12-31").unwrap(),
        );
        assert!(
            !fresh.findings.iter().any(|f| f.check == Check::StaleReview),
            "364 days is still fresh"
        );
        assert!(
            fresh
                .findings
                .iter()
                .any(|f| f.check == Check::PrimaryUnreadable && f.account_id.is_none()),
            "a rule that could not be checked is said so, once"
        );
    }

    #[test]
    fn an_account_that_could_not_be_read_is_one_finding_and_no_row() {
        let (read, denied) = (
            AccountId::parse("111111111111").unwrap(),
            AccountId::parse("222222222222").unwrap(),
        );
        let accounts = BTreeMap::from([
            (read.clone(), AccountInfo::default()),
            (denied.clone(), AccountInfo::default()),
        ]);
        let mut live = Live::default();
        for kind in ContactType::ALTERNATES {
            live.slots.insert(
                Slot::new(read.clone(), kind),
                Some(Value::Alternate(contact(&format!("{kind}@corp.example")))),
            );
        }
        live.unreadable.insert(
            denied.clone(),
            Unreadable {
                action: "account:GetAlternateContact".into(),
                slot: ContactType::Security,
                answer: "access denied (explicit deny)".into(),
            },
        );
        let audit = check(
            &accounts,
            &live,
            &None,
            None,
            crate::model::time::parse_date("2026-01-01").unwrap(),
        );
        assert_eq!(
            audit
                .accounts
                .iter()
                .map(|row| &row.account_id)
                .collect::<Vec<_>>(),
            [&read],
            "no row claims what was not read"
        );
        let found: Vec<&Finding> = audit
            .findings
            .iter()
            .filter(|finding| finding.account_id.as_ref() == Some(&denied))
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].check, found[0].severity),
            (Check::AccountUnreadable, Severity::Medium)
        );
        assert_eq!(found[0].controls, SECURITY_CONTACT_CONTROLS.to_vec());
        assert!(
            found[0].message.contains(
                "account:GetAlternateContact on slot SECURITY: access denied (explicit deny)"
            ),
            "{}",
            found[0].message
        );
    }

    fn primary(name: &str, phone: &str) -> PrimaryContact {
        PrimaryContact {
            full_name: name.into(),
            phone_number: phone.into(),
            ..PrimaryContact::default()
        }
    }

    fn alternate(name: &str, email: &str, phone: &str) -> Contact {
        Contact {
            name: name.into(),
            title: "T".into(),
            email_address: email.into(),
            phone_number: phone.into(),
        }
    }

    /// Prowler's rule, case by case.
    #[test]
    fn four_different_contacts_pass_and_any_sharing_or_gap_fails() {
        let a = alternate("A", "a@example.com", "+1 1");
        let b = alternate("B", "b@example.com", "+1 2");
        let c = alternate("C", "c@example.com", "+1 3");
        let p = primary("P", "+1 4");
        assert_eq!(
            same_contact_details(Some(&p), [Some(&a), Some(&b), Some(&c)]),
            None
        );
        let same_name = primary("A", "+1 4");
        assert!(
            same_contact_details(Some(&same_name), [Some(&a), Some(&b), Some(&c)])
                .unwrap()
                .contains("names")
        );
        let same_phone = primary("P", "+1 3");
        assert!(
            same_contact_details(Some(&same_phone), [Some(&a), Some(&b), Some(&c)])
                .unwrap()
                .contains("phone numbers")
        );
        let same_email = alternate("D", "a@example.com", "+1 5");
        assert!(
            same_contact_details(Some(&p), [Some(&a), Some(&same_email), Some(&c)])
                .unwrap()
                .contains("email addresses")
        );
        assert!(
            same_contact_details(Some(&p), [Some(&a), None, Some(&c)])
                .unwrap()
                .contains("no BILLING contact")
        );
        assert!(
            same_contact_details(None, [Some(&a), Some(&b), Some(&c)])
                .unwrap()
                .contains("no primary contact")
        );
    }
}
