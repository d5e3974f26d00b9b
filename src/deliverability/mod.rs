//! Do the contacts reach someone? Every address in use (the live contacts,
//! the file's, every account's root email) is checked once per domain:
//! reserved names, the allowed-domains policy, and whether DNS says the
//! domain accepts mail (RFC 5321 §5.1: an MX record, else an A or AAAA).

pub mod dns;

use std::collections::{BTreeMap, BTreeSet};

use crate::audit::{About, CURRENT_CONTACT_CONTROLS, Check, Finding, Location, Severity};
use crate::model::domain::{address_key, domain_of, reserved, within};
use crate::model::{AccountId, AccountInfo, ContactType, Live, Slot, Value, count};
use dns::MailDomain;

/// An address as the contacts file writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileAddress {
    pub address: String,
    /// What writes it: `contact `secops``, `accounts.111111111111.security`.
    pub what: String,
    pub location: Location,
}

impl FileAddress {
    /// Every address the contacts file writes, at its line.
    pub fn written_in(config: &crate::config::LoadedConfig) -> Vec<FileAddress> {
        config
            .written_addresses()
            .into_iter()
            .map(|written| FileAddress {
                address: written.address,
                what: written.what,
                location: Location {
                    file: config.file.clone(),
                    line: written.line,
                    column: written.column,
                },
            })
            .collect()
    }
}

/// Where an address is used.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Use {
    Slot(AccountId, ContactType),
    Root(AccountId),
}

#[derive(Default)]
struct Uses {
    /// The address as first written, for messages.
    written: String,
    live: BTreeSet<Use>,
    file: Vec<FileAddress>,
    /// Used or to be used as a SECURITY contact.
    security: bool,
}

impl Uses {
    fn accounts(&self) -> Vec<AccountId> {
        let accounts: BTreeSet<&AccountId> = self
            .live
            .iter()
            .map(|used| match used {
                Use::Slot(account, _) | Use::Root(account) => account,
            })
            .collect();
        accounts.into_iter().cloned().collect()
    }

    /// "SECURITY of 111111111111 and 2 more accounts; `secops` at f:3:5".
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut by_role: BTreeMap<String, Vec<&AccountId>> = BTreeMap::new();
        for used in &self.live {
            let (role, account) = match used {
                Use::Slot(account, kind) => (kind.api_name().to_owned(), account),
                Use::Root(account) => ("the root email".to_owned(), account),
            };
            by_role.entry(role).or_default().push(account);
        }
        for (role, accounts) in by_role {
            parts.push(match accounts.as_slice() {
                [one] => format!("{role} of {one}"),
                [first, rest @ ..] => format!(
                    "{role} of {first} and {} more",
                    count(rest.len(), "account")
                ),
                [] => continue,
            });
        }
        if let Some(first) = self.file.first() {
            parts.push(format!("{} at {}", first.what, first.location));
        }
        parts.join("; ")
    }

    fn about(&self) -> About {
        let accounts = self.accounts();
        About {
            address: Some(self.written.clone()),
            location: self.file.first().map(|used| used.location.clone()),
            accounts: if accounts.len() > 1 {
                accounts
            } else {
                Vec::new()
            },
            contact: None,
            subscription: None,
            excluded: false,
            declared_absent: None,
        }
    }

    fn account_id(&self) -> Option<AccountId> {
        match self.accounts().as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        }
    }

    /// An address that is, or is to be, a SECURITY contact is the most urgent.
    fn urgency(&self) -> Severity {
        match self.security {
            true => Severity::High,
            false => Severity::Medium,
        }
    }

    /// A finding about this address: where it is used, and the CIS
    /// controls a contact that reaches no one fails.
    fn finding(&self, severity: Severity, check: Check, message: String) -> Finding {
        Finding {
            severity,
            check,
            account_id: self.account_id(),
            message,
            controls: CURRENT_CONTACT_CONTROLS.to_vec(),
            about: self.about(),
        }
    }
}

/// The one finding that says whether the domains accept mail was not
/// checked, and why.
pub fn dns_unreachable(why: String) -> Finding {
    Finding {
        severity: Severity::Low,
        check: Check::DnsUnreachable,
        account_id: None,
        message: format!(
            "{why}, so whether the domains accept mail was not checked: run where DNS is reachable, give --dns-server, or skip the check with --no-dns"
        ),
        controls: CURRENT_CONTACT_CONTROLS.to_vec(),
        about: About::default(),
    }
}

/// What to check, beyond the reserved names.
#[derive(Default)]
pub struct Policy {
    /// `audit.email_domains` or `--email-domain`: empty, any domain.
    pub allowed_domains: Vec<String>,
    /// Reserved names are findings (not on the sandbox, whose addresses are
    /// make-believe).
    pub reserved_names: bool,
    /// `None`: no DNS check (`--no-dns`, the sandbox).
    pub dns: Option<dns::Lookup>,
}

/// The deliverability findings for every address in use.
pub async fn check(
    accounts: &BTreeMap<AccountId, AccountInfo>,
    live: &Live,
    file: &[FileAddress],
    desired_security: &BTreeSet<String>,
    policy: &Policy,
) -> Vec<Finding> {
    let mut book: BTreeMap<String, Uses> = BTreeMap::new();
    fn note<'b>(book: &'b mut BTreeMap<String, Uses>, address: &str) -> &'b mut Uses {
        let uses = book.entry(address_key(address)).or_default();
        if uses.written.is_empty() {
            uses.written = address.trim().to_owned();
        }
        uses
    }
    for (slot, value) in &live.slots {
        if let Some(Value::Alternate(contact)) = value {
            let uses = note(&mut book, &contact.email_address);
            uses.live.insert(Use::Slot(slot.account.clone(), slot.kind));
            uses.security |= slot.kind == ContactType::Security;
        }
    }
    let mut roots: Vec<(&AccountId, &str)> = Vec::new();
    for (id, info) in accounts {
        if let Some(email) = info.email.as_deref() {
            note(&mut book, email).live.insert(Use::Root(id.clone()));
            roots.push((id, email));
        }
    }
    for used in file {
        note(&mut book, &used.address).file.push(used.clone());
    }
    for (address, uses) in &mut book {
        uses.security |= desired_security.contains(address);
    }

    let mut findings = Vec::new();
    let contact_uses = |uses: &Uses| {
        uses.live.iter().any(|used| matches!(used, Use::Slot(..))) || !uses.file.is_empty()
    };
    let mut domains: BTreeMap<String, Vec<&Uses>> = BTreeMap::new();
    for uses in book.values() {
        let Some(domain) = domain_of(&uses.written) else {
            continue;
        };
        if let Some(why) = reserved(&domain).filter(|_| policy.reserved_names) {
            findings.push(uses.finding(
                uses.urgency(),
                Check::ReservedDomain,
                format!(
                    "`{}` ({}) is on {domain}, {why}: mail to it reaches no one, so AWS's notices are lost",
                    uses.written,
                    uses.describe()
                ),
            ));
            continue;
        }
        if !policy.allowed_domains.is_empty()
            && !within(&domain, &policy.allowed_domains)
            && contact_uses(uses)
        {
            findings.push(uses.finding(
                Severity::Medium,
                Check::DomainNotAllowed,
                format!(
                    "`{}` ({}) is outside the allowed domains ({}): AWS's notices leave the organization's mail",
                    uses.written,
                    uses.describe(),
                    policy.allowed_domains.join(", ")
                ),
            ));
        }
        domains.entry(domain).or_default().push(uses);
    }
    if !policy.allowed_domains.is_empty() {
        for (id, email) in roots {
            let outside =
                domain_of(email).is_none_or(|domain| !within(&domain, &policy.allowed_domains));
            if outside {
                findings.push(Finding {
                    severity: Severity::Medium,
                    check: Check::RootEmailNotAllowed,
                    account_id: Some(id.clone()),
                    message: format!(
                        "the root email `{email}` is outside the allowed domains ({}): AWS writes to it first, and a password reset goes to it",
                        policy.allowed_domains.join(", ")
                    ),
                    controls: CURRENT_CONTACT_CONTROLS.to_vec(),
                    about: About {
                        address: Some(email.to_owned()),
                        ..About::default()
                    },
                });
            }
        }
    }

    let Some(lookup) = &policy.dns else {
        return findings;
    };
    let names: Vec<String> = domains.keys().cloned().collect();
    let answers = lookup.mail_domains(&names).await;
    if !answers.is_empty() && answers.values().all(MailDomain::is_unreachable) {
        findings.push(dns_unreachable(format!(
            "no DNS server answered ({}) for {}",
            answers
                .values()
                .next()
                .map_or_else(String::new, MailDomain::describe),
            count(answers.len(), "domain")
        )));
        return findings;
    }
    for (domain, answer) in answers {
        for uses in domains.get(&domain).into_iter().flatten() {
            findings.push(match &answer {
                MailDomain::Accepts => continue,
                MailDomain::Unknown(_) | MailDomain::Unreachable(_) => uses.finding(
                    Severity::Low,
                    Check::DomainUnchecked,
                    format!(
                        "`{}` ({}): whether {domain} accepts mail is not known: {}",
                        uses.written,
                        uses.describe(),
                        answer.describe()
                    ),
                ),
                _ => uses.finding(
                    uses.urgency(),
                    Check::UndeliverableDomain,
                    format!(
                        "`{}` ({}) cannot receive mail: {domain} {}",
                        uses.written,
                        uses.describe(),
                        answer.describe()
                    ),
                ),
            });
        }
    }
    findings
}

/// The addresses of the SECURITY slots a file wants, lowercased: an
/// address about to become a SECURITY contact is as urgent as one that is.
pub fn security_addresses<'a>(
    wanted: impl IntoIterator<Item = (&'a Slot, Option<&'a Value>)>,
) -> BTreeSet<String> {
    wanted
        .into_iter()
        .filter(|(slot, _)| slot.kind == ContactType::Security)
        .filter_map(|(_, value)| match value {
            Some(Value::Alternate(contact)) => Some(address_key(&contact.email_address)),
            _ => None,
        })
        .collect()
}
