//! The member role `--member-role` assumes in each account, as a
//! CloudFormation template for a service-managed StackSet: the Account
//! API's contact actions on the account itself and nothing else, trusted
//! by the named pipeline roles only. With read-only pipeline roles, a
//! second role of the same shape that may only read, so a plan job keeps
//! its least privilege.

use serde_json::{Value, json};

use crate::guardrail::{AllowedRole, GuardrailError};
use crate::settings::RoleName;

/// What the member role may do, in its own account only: the Account
/// API's contact actions on the account, and User Notifications' on the
/// account's managed notification configurations (which answer only the
/// account itself).
pub const READ_ACTIONS: [&str; 2] = [
    "account:GetAlternateContact",
    "account:GetContactInformation",
];
pub const WRITE_ACTIONS: [&str; 3] = [
    "account:PutAlternateContact",
    "account:DeleteAlternateContact",
    "account:PutContactInformation",
];
pub const NOTICE_READ_ACTIONS: [&str; 1] =
    ["notifications:ListManagedNotificationChannelAssociations"];
pub const NOTICE_WRITE_ACTIONS: [&str; 1] =
    ["notifications:AssociateManagedNotificationAccountContact"];

/// A pipeline role a member role trusts: a role's own ARN, in one account
/// (a trust policy's principal cannot be a pattern).
pub fn trusted(arn: &str) -> Result<AllowedRole, GuardrailError> {
    let role = AllowedRole::parse(arn)?;
    if arn.contains(['*', '?']) {
        return Err(GuardrailError::NotARole {
            arn: arn.to_owned(),
            why: "a trust policy names roles exactly: no `*` or `?`",
        });
    }
    Ok(role)
}

fn role(
    name: &str,
    description: &str,
    trust: &[AllowedRole],
    actions: Vec<&str>,
    notice_actions: Vec<&str>,
) -> Value {
    let principals: Vec<&str> = trust.iter().map(AllowedRole::as_str).collect();
    json!({
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": name,
            "Description": description,
            "MaxSessionDuration": 3600,
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "AWS": principals },
                    "Action": "sts:AssumeRole"
                }]
            },
            "Policies": [{
                "PolicyName": "altcontacts-this-accounts-contacts",
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "ThisAccountsContactsOnly",
                        "Effect": "Allow",
                        "Action": actions,
                        "Resource": { "Fn::Sub": "arn:${AWS::Partition}:account::${AWS::AccountId}:account" }
                    }, {
                        "Sid": "ThisAccountsSubscriptionsOnly",
                        "Effect": "Allow",
                        "Action": notice_actions,
                        "Resource": { "Fn::Sub": "arn:${AWS::Partition}:notifications::${AWS::AccountId}:managed-notification-configuration/*" }
                    }]
                }
            }]
        }
    })
}

/// The template, as JSON (CloudFormation reads it as it reads YAML).
/// Its roles are those the guardrail protects
/// ([`crate::guardrail::member_roles`]): the member role, and with
/// `read_trust` its read-only twin, `NAME-read`.
pub fn template(name: &RoleName, trust: &[AllowedRole], read_trust: &[AllowedRole]) -> String {
    let [member, read_only] = crate::guardrail::member_roles(name);
    let mut resources = serde_json::Map::new();
    let mut outputs = serde_json::Map::new();
    resources.insert(
        "MemberRole".to_owned(),
        role(
            &member,
            "altcontacts: read and write this account's alternate and primary contacts and their subscriptions",
            trust,
            [READ_ACTIONS.as_slice(), WRITE_ACTIONS.as_slice()].concat(),
            [NOTICE_READ_ACTIONS.as_slice(), NOTICE_WRITE_ACTIONS.as_slice()].concat(),
        ),
    );
    outputs.insert(
        "MemberRoleArn".to_owned(),
        json!({ "Value": { "Fn::GetAtt": ["MemberRole", "Arn"] } }),
    );
    if !read_trust.is_empty() {
        resources.insert(
            "MemberReadRole".to_owned(),
            role(
                &read_only,
                "altcontacts: read this account's alternate and primary contacts and their subscriptions",
                read_trust,
                READ_ACTIONS.to_vec(),
                NOTICE_READ_ACTIONS.to_vec(),
            ),
        );
        outputs.insert(
            "MemberReadRoleArn".to_owned(),
            json!({ "Value": { "Fn::GetAtt": ["MemberReadRole", "Arn"] } }),
        );
    }
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "The member role of altcontacts --member-role: each account's own contacts, for the pipeline roles named. Deploy it to the organization with a service-managed StackSet, auto-deployment on.",
        "Resources": resources,
        "Outputs": outputs,
    });
    let mut text = serde_json::to_string_pretty(&template).expect("plain data serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_may_only_touch_its_own_accounts_contacts_and_is_trusted_by_the_named_roles_only() {
        let name = RoleName("altcontacts-member".to_owned());
        let apply = trusted("arn:aws:iam::111111111111:role/altcontacts-apply").unwrap();
        let plan = trusted("arn:aws:iam::111111111111:role/altcontacts-plan").unwrap();
        let text = template(&name, &[apply], &[plan]);
        let template: Value = serde_json::from_str(&text).unwrap();
        let writer = &template["Resources"]["MemberRole"]["Properties"];
        assert_eq!(writer["RoleName"], "altcontacts-member");
        let statement = &writer["Policies"][0]["PolicyDocument"]["Statement"][0];
        assert_eq!(statement["Action"].as_array().unwrap().len(), 5);
        assert_eq!(
            statement["Resource"]["Fn::Sub"],
            "arn:${AWS::Partition}:account::${AWS::AccountId}:account"
        );
        assert_eq!(
            writer["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"],
            json!(["arn:aws:iam::111111111111:role/altcontacts-apply"])
        );
        let reader = &template["Resources"]["MemberReadRole"]["Properties"];
        assert_eq!(reader["RoleName"], "altcontacts-member-read");
        assert_eq!(
            reader["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"],
            json!(READ_ACTIONS)
        );
        assert!(trusted("arn:aws:iam::111111111111:role/altcontacts-*").is_err());
    }

    /// A role an account's admin could change is one they could make deny
    /// the plan its reads, or widen: the guardrail's `--allow-member-role`
    /// form keeps everyone but the StackSet from changing any role the
    /// template makes, the read role too.
    #[test]
    fn every_role_the_template_makes_is_one_the_guardrail_keeps_from_change() {
        use crate::guardrail::evaluate::denies;
        let name = RoleName("altcontacts-member".to_owned());
        let apply = trusted("arn:aws:iam::111111111111:role/altcontacts-apply").unwrap();
        let plan = trusted("arn:aws:iam::111111111111:role/altcontacts-plan").unwrap();
        let template: Value = serde_json::from_str(&template(
            &name,
            std::slice::from_ref(&apply),
            std::slice::from_ref(&plan),
        ))
        .unwrap();
        let mut made: Vec<&str> = template["Resources"]
            .as_object()
            .unwrap()
            .values()
            .filter(|resource| resource["Type"] == "AWS::IAM::Role")
            .map(|resource| resource["Properties"]["RoleName"].as_str().unwrap())
            .collect();
        made.sort_unstable();
        assert_eq!(made, ["altcontacts-member", "altcontacts-member-read"]);
        let policy = crate::guardrail::policy(&[apply, plan], Some(&name)).unwrap();
        let admin = "arn:aws:iam::333333333333:role/Admin";
        let stackset = "arn:aws:iam::333333333333:role/stacksets-exec-0123456789abcdef";
        for role in made {
            let arn = format!("arn:aws:iam::333333333333:role/{role}");
            for action in crate::guardrail::ROLE_ACTIONS {
                assert!(denies(&policy, action, &arn, admin), "{action} on {arn}");
                assert!(
                    !denies(&policy, action, &arn, stackset),
                    "{action} on {arn}"
                );
            }
        }
    }
}
