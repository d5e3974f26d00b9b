//! The audit's findings as records, for where security teams look: AWS
//! Security Hub (ASFF, `asff.rs`, sent by `--security-hub`), and the files
//! `render/audit/` writes (OCSF, SARIF). Each check is a rule, described
//! here once (its title, its help, its score), and each finding has a stable key, so
//! the same finding on the next run is the same record there, and one
//! that is gone can be closed.

pub mod asff;

use sha2::{Digest, Sha256};

use crate::audit::mute::Muted;
use crate::audit::{Audit, Check, Finding, Location, Severity};
use crate::config::LoadedConfig;
use crate::model::AccountId;

/// Where the release's documentation is, as whoever built it said
/// (`ALTCONTACTS_DOCS_URL` at build time, checked by build.rs): a finding
/// links there, or nowhere, never to an address that does not exist.
pub const DOCS_URL: Option<&str> = option_env!("ALTCONTACTS_DOCS_URL");

/// The page that describes every check and its fix, when the build says
/// where the docs are.
pub fn checks_page() -> Option<String> {
    checks_page_in(DOCS_URL)
}

fn checks_page_in(docs: Option<&str>) -> Option<String> {
    docs.map(|docs| format!("{}/audit.md", docs.trim_end_matches('/')))
}

#[cfg(test)]
mod link_tests {
    use super::checks_page_in;

    #[test]
    fn a_build_that_says_where_its_docs_are_links_there_and_one_that_does_not_links_nowhere() {
        assert_eq!(
            checks_page_in(Some(
                "https://github.com/acme/altcontacts/blob/v1.2.0/docs/"
            ))
            .as_deref(),
            Some("https://github.com/acme/altcontacts/blob/v1.2.0/docs/audit.md")
        );
        assert_eq!(checks_page_in(None), None);
    }
}

/// The project's own page, for a tool's description.
pub fn project_page() -> Option<String> {
    DOCS_URL.map(|docs| docs.trim_end_matches('/').to_owned())
}

impl Check {
    /// What the rule wants, in a line.
    pub fn title(self) -> &'static str {
        match self {
            Check::MissingSecurity => "The account has a SECURITY alternate contact",
            Check::MissingBilling => "The account has a BILLING alternate contact",
            Check::MissingOperations => "The account has an OPERATIONS alternate contact",
            Check::SharedContact => "SECURITY, BILLING and OPERATIONS are different people",
            Check::StaleReview => "The contacts were reviewed within a year",
            Check::SameContactDetails => {
                "The primary contact and the alternate contacts are all different"
            }
            Check::PrimaryUnreadable => "The primary contact can be read",
            Check::ReservedDomain => "No contact address is on a reserved domain",
            Check::UndeliverableDomain => "Every contact address's domain accepts mail",
            Check::DomainUnchecked => "DNS says whether each contact domain accepts mail",
            Check::DnsUnreachable => "A DNS server answers the deliverability check",
            Check::DomainNotAllowed => "Contact addresses are on the allowed domains",
            Check::RootEmailNotAllowed => "Root emails are on the allowed domains",
            Check::ContactsUnprotected => {
                "A service control policy keeps the contacts from change but by the pipeline"
            }
            Check::GuardrailUnchecked => "The service control policies can be read",
            Check::AccountUnreadable => "The account's contacts can be read",
            Check::ContactUnsubscribed => "Every contact receives the AWS Health notices it should",
            Check::SubscriptionsUnchecked => "The contacts' subscriptions can be read",
            Check::UnverifiedPhone => "The primary contact's phone number is verified",
            Check::MuteExpired => "Every mute of the audit is current",
        }
    }

    /// The severity a rule is listed with (a finding may say less: a
    /// reserved address is High in a SECURITY contact, Medium elsewhere).
    pub fn severity(self) -> Severity {
        match self {
            Check::MissingSecurity
            | Check::ReservedDomain
            | Check::UndeliverableDomain
            | Check::ContactUnsubscribed => Severity::High,
            Check::MissingBilling
            | Check::MissingOperations
            | Check::StaleReview
            | Check::SameContactDetails
            | Check::DomainNotAllowed
            | Check::RootEmailNotAllowed
            | Check::ContactsUnprotected
            | Check::AccountUnreadable => Severity::Medium,
            Check::SharedContact
            | Check::PrimaryUnreadable
            | Check::DomainUnchecked
            | Check::DnsUnreachable
            | Check::GuardrailUnchecked
            | Check::SubscriptionsUnchecked
            | Check::UnverifiedPhone
            | Check::MuteExpired => Severity::Low,
        }
    }

    /// Why it matters and what to do, for a rule's help.
    pub fn help(self) -> &'static str {
        match self {
            Check::MissingSecurity => {
                "AWS sends security advisories and compromise notices to the SECURITY contact; without one they reach only the root user's mailbox. Add a `security:` contact for the account (or the unit or `organization.defaults` above it) in contacts.yaml and apply."
            }
            Check::MissingBilling => {
                "AWS sends billing notices to the BILLING contact. Add a `billing:` contact in contacts.yaml and apply."
            }
            Check::MissingOperations => {
                "AWS sends operational notices (maintenance, service events) to the OPERATIONS contact. Add an `operations:` contact in contacts.yaml and apply."
            }
            Check::SharedContact => {
                "One person as several contacts is a single point of failure for AWS's notices. Give each slot its own team in contacts.yaml."
            }
            Check::StaleReview => {
                "AWS advises reviewing alternate contacts at least once a year. Confirm the contact and set its `reviewed:` date in contacts.yaml."
            }
            Check::SameContactDetails => {
                "Prowler and CIS want the primary, SECURITY, BILLING and OPERATIONS contacts to differ. Give each its own address and phone number."
            }
            Check::PrimaryUnreadable => {
                "The caller needs account:GetContactInformation to check the primary contact."
            }
            Check::ReservedDomain => {
                "Reserved domains (example.com, .test, .invalid, localhost) receive no mail: AWS's notices to them reach no one. Write an address a team reads, at the line of contacts.yaml the finding names."
            }
            Check::UndeliverableDomain => {
                "The address's domain has no mail server (no such domain, no MX and no A/AAAA, or a null MX): AWS's notices to it reach no one. Fix the address at the line of contacts.yaml the finding names."
            }
            Check::DomainUnchecked => {
                "DNS did not answer for this domain (SERVFAIL or timeout); run the audit again, or check the domain."
            }
            Check::DnsUnreachable => {
                "No DNS server answered, so no domain was checked. Give the audit a resolver (--dns-server) or run it where DNS works."
            }
            Check::DomainNotAllowed => {
                "The address is outside `audit.email_domains`: notices go outside the company. Use an address on an allowed domain."
            }
            Check::RootEmailNotAllowed => {
                "The account's root email is outside `audit.email_domains`. Change it in the account's settings."
            }
            Check::ContactsUnprotected => {
                "An admin of this account can point its contacts at themselves. Attach the policy `altcontacts guardrail` prints to the root or to a unit above the account."
            }
            Check::GuardrailUnchecked => {
                "The caller needs organizations:ListPolicies, organizations:DescribePolicy and organizations:ListTargetsForPolicy to check the guardrail."
            }
            Check::AccountUnreadable => {
                "The account denied the reads of its contacts while the other member accounts answered, so none of its contacts was checked, and plan and apply skip it (nothing is written to an account that was not read). Find what denies account:GetAlternateContact there: the member role's policies or permissions boundary (redeploy it from the StackSet; `altcontacts guardrail --allow-member-role` keeps an account's admins from changing it), or a condition in the caller's policy."
            }
            Check::ContactUnsubscribed => {
                "AWS User Notifications delivers AWS Health's notices to the account's contacts, and an admin of the account can unsubscribe one (DisassociateManagedNotificationAccountContact): the contact stays right and receives nothing. Where contacts.yaml manages the contact, apply subscribes it again; keep it so with the policy `altcontacts guardrail` prints, which denies the unsubscribe to all but the pipeline."
            }
            Check::UnverifiedPhone => {
                "AWS verifies the primary contact's phone with a code it sends by SMS, so a person with the phone does it: send the code (aws account send-phone-number-verification), then answer it (aws account verify-phone-number --otp CODE), from the account itself or, for a member account, from the management account with --account-id."
            }
            Check::MuteExpired => {
                "A mute (`audit.mute` in contacts.yaml, or the file `audit --mute` names) accepts a finding until its `until` date; past it, it mutes nothing and the finding is reported again. Review the finding: renew `until` with the reason that still holds, or remove the mute and fix it."
            }
            Check::SubscriptionsUnchecked => {
                "User Notifications answers an account's subscriptions only to the account itself, and it refused the read: grant notifications:ListManagedNotificationChannelAssociations to the member role there (the template `altcontacts member-role` prints has it: update the StackSet), or to the caller for its own account."
            }
        }
    }
}

/// The command that fixes a finding, as a report shows it beside the
/// finding; `None` where the fix is a permission the help names. A
/// contact's fix is the file's: change it as the help says, then apply
/// that account (or the file).
pub fn remediation(finding: &Finding) -> Option<String> {
    let account = finding.account_id.as_ref().map(AccountId::as_str);
    // `apply` leaves an account the file excludes as it is, and a slot
    // it declares absent absent: the fix is the file's.
    if let (Some(declared), Some(id)) = (&finding.about.declared_absent, account) {
        return Some(format!(
            "the file declares {kind} absent for {id} (`{key}: absent` in {layer}, at the line given): to have a {kind} contact, name one there, then run altcontacts apply --account {id}; to leave the slot alone, remove the line",
            kind = declared.contact_type,
            key = declared.contact_type.config_key(),
            layer = declared.layer,
        ));
    }
    let apply = || match (finding.about.excluded, account) {
        (true, Some(id)) => format!(
            "the file excludes {id} from management (organization.exclude, at the line given): fix it in the account by hand, or remove it from exclude and run altcontacts apply --account {id}"
        ),
        (_, Some(id)) => format!("altcontacts apply --account {id}"),
        (_, None) => "altcontacts apply".to_owned(),
    };
    match finding.check {
        Check::MissingSecurity
        | Check::MissingBilling
        | Check::MissingOperations
        | Check::SharedContact
        | Check::StaleReview
        | Check::SameContactDetails
        | Check::ReservedDomain
        | Check::UndeliverableDomain
        | Check::DomainNotAllowed => Some(apply()),
        Check::RootEmailNotAllowed => account.map(|id| {
            format!("aws account start-primary-email-update --account-id {id} --primary-email NEW_ROOT_EMAIL")
        }),
        Check::ContactsUnprotected => Some(
            "altcontacts guardrail --allow-role ROLE_ARN > guardrail.json && aws organizations create-policy --type SERVICE_CONTROL_POLICY --name altcontacts-guardrail --content file://guardrail.json && aws organizations attach-policy --policy-id POLICY_ID --target-id ROOT_ID".to_owned(),
        ),
        Check::DomainUnchecked => Some("altcontacts audit --org".to_owned()),
        Check::DnsUnreachable => Some("altcontacts audit --org --dns-server RESOLVER_IP".to_owned()),
        // Where the file does not manage the contact, apply would not
        // touch it: the fix is AWS's own call, made in the account.
        Check::ContactUnsubscribed => match (&finding.about.subscription, &finding.account_id) {
            (Some(about), _) if about.managed => Some(apply()),
            (Some(about), Some(id)) => Some(format!(
                "aws notifications associate-managed-notification-account-contact --contact-identifier {} --managed-notification-configuration-arn {}",
                about.contact_type.notice_channel(),
                about.topic.arn("aws", id)
            )),
            _ => None,
        },
        Check::UnverifiedPhone => account.map(|id| {
            format!("aws account send-phone-number-verification --account-id {id}, then aws account verify-phone-number --account-id {id} --otp CODE")
        }),
        Check::MuteExpired => {
            Some("review the finding it muted: renew `until` at the line given, or remove the mute".to_owned())
        }
        Check::PrimaryUnreadable
        | Check::GuardrailUnchecked
        | Check::AccountUnreadable
        | Check::SubscriptionsUnchecked => None,
    }
}

/// GitHub's `security-severity` (and the like): 7 to 8.9 is high.
pub fn score(severity: Severity) -> f64 {
    match severity {
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 3.0,
    }
}

/// The accounts a finding is about: its account, the accounts using its
/// address, or else the caller's (a finding about the file or the run).
pub fn accounts_of(finding: &Finding, caller: &AccountId) -> Vec<AccountId> {
    match (&finding.account_id, finding.about.accounts.is_empty()) {
        (Some(account), _) => vec![account.clone()],
        (None, false) => finding.about.accounts.clone(),
        (None, true) => vec![caller.clone()],
    }
}

/// Every finding with each account it is about: one record each, in the
/// formats that keep a record per account (ASFF, OCSF).
pub fn per_account<'a>(
    audit: &'a Audit,
    caller: &'a AccountId,
) -> impl Iterator<Item = (&'a Finding, Option<&'a Muted>, AccountId)> + 'a {
    audit
        .findings
        .iter()
        .map(|finding| (finding, None))
        .chain(
            audit
                .muted
                .iter()
                .map(|muted| (&muted.finding, Some(&muted.muted))),
        )
        .flat_map(move |(finding, muted)| {
            accounts_of(finding, caller)
                .into_iter()
                .map(move |account| (finding, muted, account))
        })
}

/// Where in the contacts file a finding about `account` is fixed: where
/// it writes the address; for a missing or shared contact, the account's
/// entry (or the defaults it takes); for a stale review, the contact's
/// `reviewed:`. None without a file, and for what the file does not decide
/// (a guardrail, DNS, a root email).
pub fn place(
    finding: &Finding,
    account: &AccountId,
    config: Option<&LoadedConfig>,
) -> Option<Location> {
    if let Some(at) = &finding.about.location {
        return Some(at.clone());
    }
    let config = config?;
    if let Some(declared) = &finding.about.declared_absent {
        let (line, column) = config.slot_place(&declared.layer, declared.contact_type)?;
        return Some(Location {
            file: config.file.clone(),
            line,
            column,
        });
    }
    if finding.about.excluded {
        let (line, column) = config.exclusion_place(account)?;
        return Some(Location {
            file: config.file.clone(),
            line,
            column,
        });
    }
    let (line, column) = match finding.check {
        Check::MissingSecurity
        | Check::MissingBilling
        | Check::MissingOperations
        | Check::SameContactDetails
        | Check::SharedContact => config.account_place(account)?,
        Check::StaleReview => config.contact_place(finding.about.contact.as_deref()?)?,
        _ => return None,
    };
    Some(Location {
        file: config.file.clone(),
        line,
        column,
    })
}

/// A finding's stable key in one account: the same finding on the next
/// run has the same key, and no two findings of a run share one.
pub fn key(finding: &Finding, account: &AccountId) -> String {
    let mut key = format!("{}/{account}", finding.check.code());
    if let Some(address) = &finding.about.address {
        key.push('/');
        key.push_str(&address.to_ascii_lowercase());
    }
    if let Some(contact) = &finding.about.contact {
        key.push_str("/contact/");
        key.push_str(contact);
    }
    // One account can have several contacts off several topics.
    if let Some(subscription) = &finding.about.subscription {
        key.push_str(&format!(
            "/{}/{}",
            subscription.contact_type, subscription.topic
        ));
    }
    key
}

/// A short, stable hash of `text`, for fingerprints.
pub fn digest(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..16])
}

/// An account's name, as the audit table has it.
pub fn account_name(audit: &Audit, account: &AccountId) -> Option<String> {
    audit
        .accounts
        .iter()
        .find(|row| row.account_id == *account)
        .and_then(|row| row.account_name.clone())
}

/// The run's context every record carries.
#[derive(Clone, Debug)]
pub struct Origin {
    pub caller: AccountId,
    /// The organization's management account, when there is one.
    pub management_account: Option<AccountId>,
    pub partition: String,
    pub region: String,
    /// When the audit ran, in milliseconds since the epoch.
    pub time_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_has_its_own_code_and_words() {
        let codes: std::collections::BTreeSet<String> =
            Check::ALL.iter().map(|check| check.code()).collect();
        assert_eq!(codes.len(), Check::ALL.len());
        assert!(codes.contains("missing_security"));
        for check in Check::ALL {
            assert!(!check.title().is_empty() && check.help().len() > 20);
        }
    }

    #[test]
    fn every_remediation_names_flags_that_exist() {
        for check in Check::ALL {
            let finding = Finding {
                severity: check.severity(),
                check,
                account_id: AccountId::parse("123456789012"),
                message: String::new(),
                controls: Vec::new(),
                about: crate::audit::About::default(),
            };
            let Some(command) = remediation(&finding) else {
                continue;
            };
            for part in command.split(" && ") {
                // A placeholder stands for what the reader fills in: a
                // value of its kind must parse.
                let words: Vec<&str> = part
                    .split(" > ")
                    .next()
                    .unwrap()
                    .split(' ')
                    .map(|word| match word {
                        "RESOLVER_IP" => "10.0.0.2",
                        "ROLE_ARN" => "arn:aws:iam::123456789012:role/platform-contacts",
                        other => other,
                    })
                    .collect();
                if words[0] == "altcontacts" {
                    crate::CommandLine::parse_described(&words)
                        .unwrap_or_else(|error| panic!("{check:?}: `{part}`: {error}"));
                }
            }
        }
    }

    #[test]
    fn a_finding_is_placed_where_the_file_decides_it() {
        let text = "version: 1\ncontacts:\n  sec:\n    name: Security\n    title: Team\n    email_address: security@corp.io\n    phone_number: \"+1 202 555 0100\"\n    reviewed: 2020-01-01\naccounts:\n  \"111111111111\": { security: sec }\n";
        let config = LoadedConfig::parse("contacts.yaml", text.to_owned()).unwrap();
        let account = AccountId::parse("111111111111").unwrap();
        let finding = |check: Check, contact: Option<&str>| Finding {
            severity: Severity::Medium,
            check,
            account_id: Some(account.clone()),
            message: String::new(),
            controls: Vec::new(),
            about: crate::audit::About {
                contact: contact.map(str::to_owned),
                ..Default::default()
            },
        };
        let line = |check, contact| {
            place(&finding(check, contact), &account, Some(&config)).map(|at| at.line)
        };
        assert_eq!(
            line(Check::MissingBilling, None),
            Some(10),
            "the account's entry"
        );
        assert_eq!(
            line(Check::StaleReview, Some("sec")),
            Some(8),
            "its reviewed: date"
        );
        assert_eq!(
            line(Check::ContactsUnprotected, None),
            None,
            "not the file's to fix"
        );
        assert_eq!(
            place(&finding(Check::MissingBilling, None), &account, None),
            None
        );
    }
}
