//! The audit's checks, by the codes every output and the file's mute list
//! name them by.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    MissingSecurity,
    MissingBilling,
    MissingOperations,
    SharedContact,
    StaleReview,
    /// Prowler's four-contacts rule: primary and alternates all different.
    SameContactDetails,
    /// The primary contact could not be read, so the rule above was not checked.
    PrimaryUnreadable,
    /// An address on a domain reserved for documentation or testing.
    ReservedDomain,
    /// An address whose domain accepts no mail (no such domain, no MX and
    /// no A/AAAA, or a null MX).
    UndeliverableDomain,
    /// DNS did not say whether the domain accepts mail (SERVFAIL, timeout).
    DomainUnchecked,
    /// No DNS server answered, so no domain was checked.
    DnsUnreachable,
    /// A contact address outside `audit.email_domains`.
    DomainNotAllowed,
    /// An account's root email outside `audit.email_domains`.
    RootEmailNotAllowed,
    /// A member account no service control policy keeps its contacts from
    /// being changed by anyone but the pipeline.
    ContactsUnprotected,
    /// The service control policies could not be read.
    GuardrailUnchecked,
    /// A member account denied the reads of its contacts while the others
    /// answered: none of its contacts was checked, and plan and apply
    /// skip it.
    AccountUnreadable,
    /// A contact that is set but unsubscribed from an AWS Health topic it
    /// should receive (AWS User Notifications): right, and silent.
    ContactUnsubscribed,
    /// An account's subscriptions could not be read (no member role to
    /// reach it, or the read was refused).
    SubscriptionsUnchecked,
    /// The primary contact's phone is not verified (or its verification
    /// is pending).
    UnverifiedPhone,
    /// A mute (`audit.mute`) whose `until` has passed: it mutes nothing.
    MuteExpired,
}

impl Check {
    pub const ALL: [Check; 20] = [
        Check::MissingSecurity,
        Check::MissingBilling,
        Check::MissingOperations,
        Check::SharedContact,
        Check::StaleReview,
        Check::SameContactDetails,
        Check::PrimaryUnreadable,
        Check::ReservedDomain,
        Check::UndeliverableDomain,
        Check::DomainUnchecked,
        Check::DnsUnreachable,
        Check::DomainNotAllowed,
        Check::RootEmailNotAllowed,
        Check::ContactsUnprotected,
        Check::GuardrailUnchecked,
        Check::AccountUnreadable,
        Check::ContactUnsubscribed,
        Check::SubscriptionsUnchecked,
        Check::UnverifiedPhone,
        Check::MuteExpired,
    ];

    /// The check's name, as the JSON output has it: `missing_security`.
    pub fn code(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// The check whose code is `code`.
    pub fn of_code(code: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|check| check.code() == code)
    }
}
