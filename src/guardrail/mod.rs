//! The guardrail: a service control policy that lets only the reviewed
//! pipeline change contacts, and the check of whether one protects each
//! member account.
//!
//! An attacker with admin rights in one member account could otherwise
//! point its SECURITY contact at themselves, and AWS's compromise notices
//! would go to the attacker.

pub mod coverage;
pub mod evaluate;

use crate::hint::Hint;
use serde::Serialize;

/// The actions that change where AWS sends an account's notices.
pub const GUARDED_ACTIONS: [&str; 3] = [
    "account:PutAlternateContact",
    "account:DeleteAlternateContact",
    "account:PutContactInformation",
];

/// Organizations' limit on a service control policy's document.
pub const SCP_MAX_CHARACTERS: usize = 5_120;

/// The statement's Sid, so the policy is recognisable in the console.
const SID: &str = "AltcontactsOnlyThePipelineChangesContacts";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GuardrailError {
    #[error("`{arn}` is not an IAM role ARN: {why}{}", Hint(Some(self.help())))]
    NotARole { arn: String, why: &'static str },
    #[error(
        "`{arn}` exempts a role of that name in every account: any member account's admin could create it and change contacts{}",
        Hint(Some(self.help()))
    )]
    AnyAccount { arn: String },
    #[error(
        "`{arn}` is a role session (sts assumed-role), which aws:PrincipalArn never equals: the policy would exempt no one{}",
        Hint(Some(self.help()))
    )]
    AssumedRole { arn: String },
    #[error(
        "the policy would be {length} characters, over Organizations' limit of {SCP_MAX_CHARACTERS}{}",
        Hint(Some(self.help()))
    )]
    TooLong { length: usize },
}

impl GuardrailError {
    /// What to do about it.
    pub fn help(&self) -> &'static str {
        match self {
            Self::NotARole { .. } => {
                "give the role's ARN as IAM shows it, e.g. arn:aws:iam::111111111111:role/altcontacts-apply"
            }
            Self::AnyAccount { .. } => "name the account the pipeline's role lives in (12 digits)",
            Self::AssumedRole { .. } => "give the role's own ARN, arn:aws:iam::ACCOUNT:role/NAME",
            Self::TooLong { .. } => {
                "allow fewer roles, or a wildcard for several roles of one account (…:role/altcontacts-*)"
            }
        }
    }
}

/// A role the guardrail lets change contacts, as `aws:PrincipalArn` names
/// the role behind a session. The name may hold IAM's wildcards (`*`, `?`),
/// as `ArnNotLike` matches them; the account may not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedRole(String);

impl AllowedRole {
    pub fn parse(arn: &str) -> Result<Self, GuardrailError> {
        let not_a_role = |why| GuardrailError::NotARole {
            arn: arn.to_owned(),
            why,
        };
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts[..] else {
            return Err(not_a_role(
                "an ARN has six parts, arn:PARTITION:iam::ACCOUNT:role/NAME",
            ));
        };
        if prefix != "arn" || !partition.starts_with("aws") {
            return Err(not_a_role("it does not start with arn:aws"));
        }
        if service == "sts" || resource.starts_with("assumed-role/") {
            return Err(GuardrailError::AssumedRole {
                arn: arn.to_owned(),
            });
        }
        if service != "iam" || !region.is_empty() {
            return Err(not_a_role("an IAM ARN reads arn:aws:iam::ACCOUNT:…"));
        }
        if account.contains(['*', '?']) {
            return Err(GuardrailError::AnyAccount {
                arn: arn.to_owned(),
            });
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_a_role("the account is not 12 digits"));
        }
        let Some(name) = resource.strip_prefix("role/") else {
            return Err(not_a_role("the resource is not role/NAME"));
        };
        let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-/*?".contains(c);
        if name.is_empty() || name.ends_with('/') || !name.chars().all(allowed) {
            return Err(not_a_role(
                "a role's path and name hold letters, digits and +=,.@_-/",
            ));
        }
        Ok(Self(arn.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Document<'a> {
    version: &'static str,
    statement: [Statement<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Statement<'a> {
    sid: &'static str,
    effect: &'static str,
    action: [&'static str; 3],
    resource: &'static str,
    condition: Condition<'a>,
}

#[derive(Serialize)]
struct Condition<'a> {
    #[serde(rename = "ArnNotLike")]
    arn_not_like: PrincipalArn<'a>,
}

#[derive(Serialize)]
struct PrincipalArn<'a> {
    #[serde(rename = "aws:PrincipalArn")]
    principal_arn: Vec<&'a str>,
}

/// The service control policy, minified (Organizations counts whitespace
/// against its limit): deny the contact-changing actions to every principal
/// but `roles`.
pub fn policy(roles: &[AllowedRole]) -> Result<String, GuardrailError> {
    let mut roles: Vec<&str> = roles.iter().map(AllowedRole::as_str).collect();
    roles.sort_unstable();
    roles.dedup();
    let document = Document {
        version: "2012-10-17",
        statement: [Statement {
            sid: SID,
            effect: "Deny",
            action: GUARDED_ACTIONS,
            resource: "*",
            condition: Condition {
                arn_not_like: PrincipalArn {
                    principal_arn: roles,
                },
            },
        }],
    };
    let text = serde_json::to_string(&document).expect("plain data serializes");
    let length = text.chars().count();
    if length > SCP_MAX_CHARACTERS {
        return Err(GuardrailError::TooLong { length });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AccountId;

    fn role(arn: &str) -> AllowedRole {
        AllowedRole::parse(arn).unwrap()
    }

    #[test]
    fn the_policy_denies_the_three_actions_to_all_but_the_roles_and_protects_other_accounts() {
        let text = policy(&[
            role("arn:aws:iam::111111111111:role/altcontacts-apply"),
            role("arn:aws:iam::222222222222:role/team/altcontacts-*"),
        ])
        .unwrap();
        assert!(!text.contains([' ', '\n']), "no whitespace: {text}");
        let document: serde_json::Value = serde_json::from_str(&text).unwrap();
        let statement = &document["Statement"][0];
        assert_eq!(statement["Effect"], "Deny");
        assert_eq!(statement["Resource"], "*");
        assert_eq!(
            statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"][1],
            "arn:aws:iam::222222222222:role/team/altcontacts-*"
        );
        let member = AccountId::parse("333333333333").unwrap();
        let verdict = evaluate::judge(&text, &member);
        assert!(verdict.denied.iter().all(|denied| *denied), "{verdict:?}");
        // The account the pipeline's role lives in can reach the role.
        let own = AccountId::parse("111111111111").unwrap();
        assert!(!evaluate::judge(&text, &own).denied.iter().all(|d| *d));
    }

    #[test]
    fn roles_anyone_could_create_or_that_never_match_are_refused() {
        assert!(matches!(
            AllowedRole::parse("arn:aws:iam::*:role/altcontacts-apply"),
            Err(GuardrailError::AnyAccount { .. })
        ));
        assert!(matches!(
            AllowedRole::parse("arn:aws:sts::111111111111:assumed-role/apply/session"),
            Err(GuardrailError::AssumedRole { .. })
        ));
        for bad in [
            "altcontacts-apply",
            "arn:aws:iam::11111111111:role/x",
            "arn:aws:iam::111111111111:user/x",
            "arn:aws:iam:us-east-1:111111111111:role/x",
            "arn:aws:iam::111111111111:role/",
            "arn:aws:iam::111111111111:role/a b",
        ] {
            assert!(
                matches!(
                    AllowedRole::parse(bad),
                    Err(GuardrailError::NotARole { .. })
                ),
                "{bad}"
            );
        }
        assert!(AllowedRole::parse("arn:aws-us-gov:iam::111111111111:role/a/b-c").is_ok());
    }

    #[test]
    fn a_policy_over_the_limit_is_refused_with_its_length() {
        let roles: Vec<AllowedRole> = (0..100)
            .map(|i| role(&format!("arn:aws:iam::{:012}:role/altcontacts-apply", i)))
            .collect();
        let fits = policy(&roles[..50]).unwrap();
        assert!(fits.len() <= SCP_MAX_CHARACTERS);
        assert!(matches!(
            policy(&roles),
            Err(GuardrailError::TooLong { length }) if length > SCP_MAX_CHARACTERS
        ));
    }
}
