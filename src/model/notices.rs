//! AWS User Notifications: the managed notification configurations that
//! deliver AWS Health's notices to an account's contacts, and which contact
//! each one reaches. A contact can be correct and unsubscribed: then it
//! receives nothing, and only these say so.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{AccountId, ContactType, Slot};

/// A topic's category and sub-category as AWS spells them in the ARN:
/// letters, digits and `-`, 3 to 64 characters each.
pub const TOPIC_PATTERN: &str = r"^[a-zA-Z0-9-]{3,64}/[a-zA-Z0-9-]{3,64}$";

/// A managed notification configuration by category and sub-category, as
/// `AWS-Health/Security`: the part of its ARN that is the same in every
/// account.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schemars(with = "String")]
pub struct Topic(String);

pub const HEALTH_SECURITY: &str = "AWS-Health/Security";
pub const HEALTH_OPERATIONS: &str = "AWS-Health/Operations";
pub const HEALTH_BILLING: &str = "AWS-Health/Billing";

impl Topic {
    pub fn parse(text: &str) -> Option<Self> {
        let (category, sub) = text.split_once('/')?;
        let part = |part: &str| {
            (3..=64).contains(&part.len())
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        (part(category) && part(sub)).then(|| Self(text.to_owned()))
    }

    fn known(text: &'static str) -> Self {
        Self(text.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The configuration's ARN in `account` (it has no region: User
    /// Notifications is global).
    pub fn arn(&self, partition: &str, account: &AccountId) -> String {
        let (category, sub) = self.0.split_once('/').expect("a topic has a sub-category");
        format!(
            "arn:{partition}:notifications::{account}:managed-notification-configuration/category/{category}/sub-category/{sub}"
        )
    }

    /// The topic an ARN names, whatever its account and partition.
    pub fn of_arn(arn: &str) -> Option<Self> {
        let rest = arn
            .split_once(":managed-notification-configuration/category/")?
            .1;
        let (category, sub) = rest.split_once("/sub-category/")?;
        Self::parse(&format!("{category}/{sub}"))
    }
}

impl TryFrom<String> for Topic {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text).ok_or_else(|| {
            format!(
                "{} is not a managed notification configuration: write CATEGORY/SUB-CATEGORY, as AWS-Health/Security",
                crate::printable::quoted(&text)
            )
        })
    }
}

impl From<Topic> for String {
    fn from(topic: Topic) -> String {
        topic.0
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl ContactType {
    /// The contact's name in User Notifications (`AccountContactType`).
    pub fn notice_channel(self) -> &'static str {
        match self {
            Self::Security => "ACCOUNT_ALTERNATE_SECURITY",
            Self::Billing => "ACCOUNT_ALTERNATE_BILLING",
            Self::Operations => "ACCOUNT_ALTERNATE_OPERATIONS",
            Self::Primary => "ACCOUNT_PRIMARY",
        }
    }

    pub fn of_notice_channel(channel: &str) -> Option<Self> {
        Self::EVERY
            .into_iter()
            .find(|kind| kind.notice_channel() == channel)
    }

    /// The AWS Health topics AWS subscribes this contact to in a new
    /// account (the configurations' own descriptions: Security reaches the
    /// primary, operations and security contacts; Operations the primary
    /// and operations contacts; Billing the primary, operations and billing
    /// contacts). What a file that says nothing keeps subscribed.
    pub fn default_topics(self) -> BTreeSet<Topic> {
        let names: &[&'static str] = match self {
            Self::Security => &[HEALTH_SECURITY],
            Self::Billing => &[HEALTH_BILLING],
            Self::Operations | Self::Primary => {
                &[HEALTH_SECURITY, HEALTH_OPERATIONS, HEALTH_BILLING]
            }
        };
        names.iter().map(|name| Topic::known(name)).collect()
    }
}

/// One account's subscriptions, as read: for each topic asked, the
/// contacts it reaches. A topic the account does not have (AWS answers
/// ResourceNotFound) is not in it.
pub type Subscribed = BTreeMap<Topic, BTreeSet<ContactType>>;

/// One contact's subscription to one topic: what a subscribe change, a
/// held subscription and a finding are about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Notice {
    pub slot: Slot,
    pub topic: Topic,
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.slot, self.topic)
    }
}

/// Why an account's subscriptions were not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unchecked {
    /// User Notifications answers an account's subscriptions to that
    /// account alone: without a member role, only the caller's own account
    /// can be read.
    NoMemberRole,
    /// The partition has no managed notifications (User Notifications'
    /// control plane is the `aws` partition's).
    NotOffered { partition: String },
    /// The read was refused or failed: what AWS answered.
    Failed(String),
}

impl Unchecked {
    /// A read that failed says something is wrong (an audit finding); the
    /// others are how the run was set up, said in a line.
    pub fn failed(&self) -> bool {
        matches!(self, Self::Failed(_))
    }

    /// A stable name, for machines.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoMemberRole => "no_member_role",
            Self::NotOffered { .. } => "not_offered",
            Self::Failed(_) => "not_read",
        }
    }
}

impl fmt::Display for Unchecked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoMemberRole => f.write_str(
                "User Notifications answers each account only to itself, so member accounts are read through a member role (access.member_role or --member-role)",
            ),
            Self::NotOffered { partition } => write!(
                f,
                "AWS User Notifications' managed notifications are not offered in partition {partition}"
            ),
            Self::Failed(answer) => f.write_str(answer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_is_a_category_and_a_sub_category_and_its_arn_reads_back() {
        let topic = Topic::parse("AWS-Health/Security").unwrap();
        let account = AccountId::parse("222222222222").unwrap();
        let arn = topic.arn("aws", &account);
        assert_eq!(
            arn,
            "arn:aws:notifications::222222222222:managed-notification-configuration/category/AWS-Health/sub-category/Security"
        );
        assert_eq!(Topic::of_arn(&arn), Some(topic));
        for wrong in [
            "AWS-Health",
            "AWS Health/Security",
            "a/Security",
            "x/y/z",
            "/",
        ] {
            assert_eq!(Topic::parse(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn the_security_contact_keeps_security_notices_by_default() {
        assert!(
            ContactType::Security
                .default_topics()
                .contains(&Topic::known(HEALTH_SECURITY))
        );
        assert!(
            !ContactType::Billing
                .default_topics()
                .contains(&Topic::known(HEALTH_SECURITY))
        );
        for kind in ContactType::EVERY {
            assert_eq!(
                ContactType::of_notice_channel(kind.notice_channel()),
                Some(kind)
            );
        }
    }
}
