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
use crate::settings::RoleName;
use serde::Serialize;

/// The actions that change where AWS sends an account's notices: the
/// contacts themselves, and which contacts AWS Health's notices reach (AWS
/// User Notifications: an unsubscribed contact is right and silent).
pub const GUARDED_ACTIONS: [&str; 5] = [
    "account:PutAlternateContact",
    "account:DeleteAlternateContact",
    "account:PutContactInformation",
    "notifications:AssociateManagedNotificationAccountContact",
    "notifications:DisassociateManagedNotificationAccountContact",
];

/// Organizations' limit on a service control policy's document.
pub const SCP_MAX_CHARACTERS: usize = 5_120;

/// The statement's Sid, so the policy is recognisable in the console.
const SID: &str = "AltcontactsOnlyThePipelineChangesContacts";
const MEMBER_ROLE_SID: &str = "AltcontactsOnlyTheStackSetChangesTheMemberRole";

/// What would let an account's admin make, re-trust, widen or narrow a
/// member role, or make a role of its name: denied to all but the StackSet.
pub const ROLE_ACTIONS: [&str; 13] = [
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:TagRole",
    "iam:UntagRole",
];

/// Every role `altcontacts member-role` makes in each account of `name`:
/// the member role, and its read-only twin for plan and drift jobs
/// (`NAME-read`). The guardrail protects each of them: a read role an
/// account's admin could change would let them deny the plan its reads,
/// or widen what the role may do.
pub fn member_roles(name: &RoleName) -> [String; 2] {
    [name.0.clone(), format!("{}-read", name.0)]
}

/// The role a service-managed StackSet deploys with in each account. It
/// is made by a service-linked role, which no SCP binds; the guardrail
/// keeps everyone else from making a role of this name too.
pub const STACKSET_EXECUTION_ROLE: &str = "stacksets-exec-*";

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
struct Document {
    version: &'static str,
    statement: Vec<Statement>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Statement {
    sid: &'static str,
    effect: &'static str,
    action: Vec<&'static str>,
    /// `"*"`, or a list of ARNs.
    resource: serde_json::Value,
    condition: Condition,
}

#[derive(Serialize)]
struct Condition {
    #[serde(rename = "ArnNotLike")]
    arn_not_like: PrincipalArn,
}

#[derive(Serialize)]
struct PrincipalArn {
    #[serde(rename = "aws:PrincipalArn")]
    principal_arn: Vec<String>,
}

/// The role `--member-role` names, in every member account, as an ARN
/// pattern of the partition the pipeline's roles are in.
fn in_every_account(partition: &str, name: &str) -> String {
    format!("arn:{partition}:iam::*:role/{name}")
}

/// The service control policy, minified (Organizations counts whitespace
/// against its limit): deny the contact-changing actions to every principal
/// but `roles`. With a member role, that role in every account may change
/// its own account's contacts too, and only the StackSet may make or
/// change a role of its name, or of its read-only twin's
/// ([`member_roles`]).
pub fn policy(
    roles: &[AllowedRole],
    member_role: Option<&RoleName>,
) -> Result<String, GuardrailError> {
    let mut exempt: Vec<String> = roles.iter().map(|role| role.as_str().to_owned()).collect();
    exempt.sort_unstable();
    exempt.dedup();
    // The pipeline's partition: the roles are all in it.
    let partition = roles
        .first()
        .and_then(|role| role.as_str().split(':').nth(1))
        .unwrap_or("aws")
        .to_owned();
    let mut statement = vec![Statement {
        sid: SID,
        effect: "Deny",
        action: GUARDED_ACTIONS.to_vec(),
        resource: "*".into(),
        condition: Condition {
            arn_not_like: PrincipalArn {
                principal_arn: exempt,
            },
        },
    }];
    if let Some(name) = member_role {
        let [member, read] = member_roles(name).map(|role| in_every_account(&partition, &role));
        let execution = in_every_account(&partition, STACKSET_EXECUTION_ROLE);
        // The read role may not write: it is not exempt from the first.
        statement[0]
            .condition
            .arn_not_like
            .principal_arn
            .push(member.clone());
        statement.push(Statement {
            sid: MEMBER_ROLE_SID,
            effect: "Deny",
            action: ROLE_ACTIONS.to_vec(),
            resource: serde_json::json!([member, read, execution]),
            condition: Condition {
                arn_not_like: PrincipalArn {
                    principal_arn: vec![in_every_account(&partition, STACKSET_EXECUTION_ROLE)],
                },
            },
        });
    }
    let document = Document {
        version: "2012-10-17",
        statement,
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
        let text = policy(
            &[
                role("arn:aws:iam::111111111111:role/altcontacts-apply"),
                role("arn:aws:iam::222222222222:role/team/altcontacts-*"),
            ],
            None,
        )
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
    fn with_a_member_role_it_writes_in_every_account_and_no_one_but_the_stackset_can_make_or_change_it()
     {
        let member_role = RoleName("altcontacts-member".to_owned());
        let text = policy(
            &[role("arn:aws:iam::111111111111:role/altcontacts-apply")],
            Some(&member_role),
        )
        .unwrap();
        let document: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            document["Statement"][0]["Condition"]["ArnNotLike"]["aws:PrincipalArn"][1],
            "arn:aws:iam::*:role/altcontacts-member"
        );
        let protection = &document["Statement"][1];
        assert_eq!(
            protection["Resource"],
            serde_json::json!([
                "arn:aws:iam::*:role/altcontacts-member",
                "arn:aws:iam::*:role/altcontacts-member-read",
                "arn:aws:iam::*:role/stacksets-exec-*"
            ])
        );
        assert!(
            protection["Action"]
                .as_array()
                .unwrap()
                .contains(&"iam:UpdateAssumeRolePolicy".into())
        );
        // Every role the member-role template makes, the read role too, is
        // the StackSet's to change and no one else's; the read role is not
        // exempt from the contact writes.
        let admin = "arn:aws:iam::333333333333:role/Admin";
        let stackset = "arn:aws:iam::333333333333:role/stacksets-exec-0123456789abcdef";
        let read_role = "arn:aws:iam::333333333333:role/altcontacts-member-read";
        for action in ROLE_ACTIONS {
            for role in ["altcontacts-member", "altcontacts-member-read"] {
                let arn = format!("arn:aws:iam::333333333333:role/{role}");
                assert!(
                    evaluate::denies(&text, action, &arn, admin),
                    "{action} {arn}"
                );
                assert!(
                    !evaluate::denies(&text, action, &arn, stackset),
                    "{action} {arn}"
                );
            }
            // Other roles are the account's own business.
            let own = "arn:aws:iam::333333333333:role/app";
            assert!(!evaluate::denies(&text, action, own, admin), "{action}");
        }
        let account = "arn:aws:account::333333333333:account";
        for action in GUARDED_ACTIONS {
            assert!(
                evaluate::denies(&text, action, account, read_role),
                "{action}"
            );
            assert!(
                !evaluate::denies(
                    &text,
                    action,
                    account,
                    "arn:aws:iam::333333333333:role/altcontacts-member"
                ),
                "{action}"
            );
        }
        // The audit counts the form it prints.
        let member = AccountId::parse("333333333333").unwrap();
        let verdict = evaluate::judge(&text, &member);
        assert_eq!(verdict.denied, [true; GUARDED_ACTIONS.len()], "{verdict:?}");
        // Without the protection, a role of that name is anyone's.
        let unprotected = text.replace("iam:UpdateAssumeRolePolicy", "iam:GetRole");
        assert_eq!(
            evaluate::judge(&unprotected, &member).denied,
            [false; GUARDED_ACTIONS.len()]
        );
    }

    #[test]
    fn a_policy_over_the_limit_is_refused_with_its_length() {
        let roles: Vec<AllowedRole> = (0..100)
            .map(|i| role(&format!("arn:aws:iam::{:012}:role/altcontacts-apply", i)))
            .collect();
        let member = RoleName("altcontacts-member".to_owned());
        let fits = policy(&roles[..45], Some(&member)).unwrap();
        assert!(fits.len() <= SCP_MAX_CHARACTERS);
        assert!(matches!(
            policy(&roles, None),
            Err(GuardrailError::TooLong { length }) if length > SCP_MAX_CHARACTERS
        ));
    }
}
