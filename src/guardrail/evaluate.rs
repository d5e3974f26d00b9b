//! Whether one service control policy denies the guarded actions to a
//! member account's principals. Judged as IAM evaluates a Deny, and
//! conservatively: a statement counts only when what it leaves out is
//! provably outside the member account.

use serde_json::Value;

use super::{GUARDED_ACTIONS, ROLE_ACTIONS, STACKSET_EXECUTION_ROLE};
use crate::model::AccountId;

/// What one policy does for one member account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// For each of [`GUARDED_ACTIONS`], whether a statement denies it to
    /// everyone in the account (outside roles of other accounts).
    pub denied: [bool; GUARDED_ACTIONS.len()],
    /// Why a Deny of a guarded action was not counted, for the finding.
    pub doubts: Vec<String>,
}

/// A policy document, parsed once and judged for each account under it.
pub struct Document(Result<Value, String>);

impl Document {
    pub fn parse(text: &str) -> Self {
        Self(serde_json::from_str(text).map_err(|error| error.to_string()))
    }

    /// Whether the policy can bear on any account's verdict: it has a Deny
    /// that names a guarded action, or it cannot be read, which the
    /// verdict says. Any other policy leaves every verdict as it is, so
    /// where it is attached need not be asked.
    pub fn may_guard(&self) -> bool {
        let Ok(parsed) = &self.0 else {
            return true;
        };
        let statements = statements(parsed);
        statements.into_iter().any(|statement| {
            statement.get("Effect").and_then(Value::as_str) == Some("Deny")
                && GUARDED_ACTIONS
                    .iter()
                    .any(|action| covers_action(statement, action))
        })
    }

    pub fn judge(&self, member: &AccountId) -> Verdict {
        let mut verdict = Verdict::default();
        let parsed = match &self.0 {
            Ok(parsed) => parsed,
            Err(error) => {
                verdict
                    .doubts
                    .push(format!("its document is not valid JSON ({error})"));
                return verdict;
            }
        };
        let statements = statements(parsed);
        let protected: Vec<&str> = statements
            .iter()
            .flat_map(|statement| protected_roles(statement))
            .collect();
        for statement in statements {
            judge_statement(statement, member, &protected, &mut verdict);
        }
        verdict
    }
}

/// A document's statements: one, or a list of them.
fn statements(document: &Value) -> Vec<&Value> {
    match document.get("Statement") {
        Some(Value::Array(statements)) => statements.iter().collect(),
        Some(statement @ Value::Object(_)) => vec![statement],
        _ => Vec::new(),
    }
}

/// One document for one account.
#[cfg(test)]
pub(crate) fn judge(document: &str, member: &AccountId) -> Verdict {
    Document::parse(document).judge(member)
}

/// Whether the policy denies `principal` the `action` on `resource`, as
/// IAM evaluates a Deny: a statement that covers the action and the
/// resource, and whose conditions all hold. Conditions on anything but
/// `aws:PrincipalArn` count as not holding, so a doubt never reads as a
/// denial. For the tests' questions of the policy `guardrail` prints.
#[cfg(test)]
pub(crate) fn denies(document: &str, action: &str, resource: &str, principal: &str) -> bool {
    let Ok(parsed) = serde_json::from_str::<Value>(document) else {
        return false;
    };
    statements(&parsed).into_iter().any(|statement| {
        let covers_resource = statement.get("NotResource").is_none()
            && strings(statement.get("Resource"))
                .iter()
                .any(|pattern| wildcard_match(pattern, resource));
        statement.get("Effect").and_then(Value::as_str) == Some("Deny")
            && covers_action(statement, action)
            && covers_resource
            && statement.get("Condition").is_none_or(|condition| {
                condition.as_object().is_some_and(|operators| {
                    operators.iter().all(|(operator, keys)| {
                        let negative = matches!(operator.as_str(), "ArnNotLike" | "StringNotLike");
                        negative
                            && keys.as_object().is_some_and(|keys| {
                                keys.iter().all(|(key, values)| {
                                    key.eq_ignore_ascii_case("aws:PrincipalArn")
                                        && !strings(Some(values))
                                            .iter()
                                            .any(|pattern| wildcard_match(pattern, principal))
                                })
                            })
                    })
                })
            })
    })
}

/// The role names a statement keeps everyone but the StackSet from making
/// or changing in any account (what `guardrail --allow-member-role` adds):
/// a Deny of every role-changing action on `role/NAME` and on the StackSet's
/// execution role, exempting only that execution role. A role of such a
/// name is the StackSet's in every account, so exempting it everywhere
/// exempts no account's admin.
fn protected_roles(statement: &Value) -> Vec<&str> {
    let execution = format!("role/{STACKSET_EXECUTION_ROLE}");
    let is_execution = |arn: &str| {
        arn.split(':').nth(4) == Some("*") && arn.split(':').nth(5) == Some(execution.as_str())
    };
    let denies_every_change = statement.get("Effect").and_then(Value::as_str) == Some("Deny")
        && ROLE_ACTIONS
            .iter()
            .all(|action| covers_action(statement, action));
    let resources = strings(statement.get("Resource"));
    let exempts_only_the_stackset = match statement.get("Condition") {
        None => true,
        Some(condition) => condition.as_object().is_some_and(|operators| {
            operators.iter().all(|(operator, keys)| {
                operator == "ArnNotLike"
                    && keys.as_object().is_some_and(|keys| {
                        keys.iter().all(|(key, values)| {
                            key.eq_ignore_ascii_case("aws:PrincipalArn")
                                && strings(Some(values)).into_iter().all(is_execution)
                        })
                    })
            })
        }),
    };
    if !denies_every_change
        || !exempts_only_the_stackset
        || !resources.iter().any(|arn| is_execution(arn))
    {
        return Vec::new();
    }
    resources
        .into_iter()
        .filter(|arn| arn.split(':').nth(4) == Some("*"))
        .filter_map(|arn| arn.split(':').nth(5)?.strip_prefix("role/"))
        .filter(|name| !name.contains(['*', '?', '/']))
        .collect()
}

fn judge_statement(
    statement: &Value,
    member: &AccountId,
    protected: &[&str],
    verdict: &mut Verdict,
) {
    if statement.get("Effect").and_then(Value::as_str) != Some("Deny") {
        return;
    }
    let covered: Vec<usize> = (0..GUARDED_ACTIONS.len())
        .filter(|&index| covers_action(statement, GUARDED_ACTIONS[index]))
        .collect();
    if covered.is_empty() {
        return;
    }
    let doubt = if !covers_every_resource(statement) {
        Some("its Deny names resources other than \"*\"".to_owned())
    } else {
        condition_doubt(statement.get("Condition"), member, protected)
    };
    match doubt {
        None => covered
            .iter()
            .for_each(|&index| verdict.denied[index] = true),
        Some(doubt) => verdict.doubts.push(doubt),
    }
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn covers_action(statement: &Value, action: &str) -> bool {
    if let Some(listed) = statement.get("Action") {
        return strings(Some(listed))
            .iter()
            .any(|pattern| wildcard_match(pattern, action));
    }
    // A Deny with NotAction denies every action it does not list.
    statement.get("NotAction").is_some_and(|excepted| {
        !strings(Some(excepted))
            .iter()
            .any(|pattern| wildcard_match(pattern, action))
    })
}

fn covers_every_resource(statement: &Value) -> bool {
    statement.get("NotResource").is_none() && strings(statement.get("Resource")).contains(&"*")
}

/// IAM's action matching: case-insensitive, `*` any run, `?` one character.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let text: Vec<char> = text.to_lowercase().chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            backtrack = Some((p, t));
            p += 1;
        } else if let Some((star, matched)) = backtrack {
            p = star + 1;
            t = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// `None` when the statement's conditions only exempt principals that are
/// provably outside `member`; otherwise why the Deny does not protect it.
/// A Deny applies when every condition holds, so each one must be of the
/// exemption form: "the principal is not one of these".
fn condition_doubt(
    condition: Option<&Value>,
    member: &AccountId,
    protected: &[&str],
) -> Option<String> {
    // Without a condition the Deny applies to everyone: nothing to doubt.
    let condition = condition?;
    let Some(operators) = condition.as_object() else {
        return Some("its Condition is not an object".to_owned());
    };
    for (operator, keys) in operators {
        let negative = operator
            .strip_suffix("IfExists")
            .unwrap_or(operator)
            .to_owned();
        if !matches!(
            negative.as_str(),
            "ArnNotLike" | "ArnNotEquals" | "StringNotLike" | "StringNotEquals"
        ) {
            return Some(format!(
                "its Deny applies only when `{operator}` holds, which does not name who is exempt"
            ));
        }
        let Some(keys) = keys.as_object() else {
            return Some(format!("its `{operator}` condition is not an object"));
        };
        for (key, values) in keys {
            let values = strings(Some(values));
            match key.to_ascii_lowercase().as_str() {
                "aws:principalarn" => {
                    for arn in values {
                        match arn.split(':').nth(4) {
                            Some(account)
                                if account.len() == 12
                                    && account.bytes().all(|b| b.is_ascii_digit()) =>
                            {
                                if account == member.as_str() {
                                    return Some(format!(
                                        "it exempts `{arn}`, a principal in this very account, which the account's own admins control"
                                    ));
                                }
                            }
                            Some("*")
                                if arn
                                    .split(':')
                                    .nth(5)
                                    .and_then(|resource| resource.strip_prefix("role/"))
                                    .is_some_and(|name| protected.contains(&name)) => {}
                            _ => {
                                return Some(format!(
                                    "it exempts `{arn}`, which any account could hold"
                                ));
                            }
                        }
                    }
                }
                "aws:principalaccount" => {
                    if values.iter().any(|value| {
                        value.contains(['*', '?']) && operator.contains("Like")
                            || *value == member.as_str()
                    }) {
                        return Some(format!(
                            "its `{operator}` on aws:PrincipalAccount exempts this account"
                        ));
                    }
                }
                _ => {
                    return Some(format!(
                        "its Deny depends on `{key}`, which does not name who is exempt"
                    ));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: usize = GUARDED_ACTIONS.len();

    fn member() -> AccountId {
        AccountId::parse("333333333333").unwrap()
    }

    fn deny(action: &str, condition: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","Action":{action},"Resource":"*"{condition}}}}}"#
        )
    }

    #[test]
    fn wildcards_match_as_iam_matches_actions() {
        assert!(wildcard_match(
            "account:Put*",
            "account:PutAlternateContact"
        ));
        assert!(wildcard_match(
            "ACCOUNT:*contact*",
            "account:PutContactInformation"
        ));
        assert!(wildcard_match("*", "account:DeleteAlternateContact"));
        assert!(wildcard_match(
            "account:?utAlternateContact",
            "account:PutAlternateContact"
        ));
        assert!(!wildcard_match(
            "account:Get*",
            "account:PutAlternateContact"
        ));
        assert!(!wildcard_match(
            "account:Put",
            "account:PutAlternateContact"
        ));
    }

    #[test]
    fn a_wildcard_action_counts_and_a_narrow_one_covers_only_what_it_names() {
        assert_eq!(
            judge(&deny(r#"["account:*","notifications:*"]"#, ""), &member()).denied,
            [true; N]
        );
        assert_eq!(
            judge(&deny(r#"["account:Put*"]"#, ""), &member()).denied,
            [true, false, true, false, false]
        );
        assert_eq!(
            judge(&deny(r#""account:PutAlternateContact""#, ""), &member()).denied,
            [true, false, false, false, false]
        );
        let not_action =
            r#"{"Statement":[{"Effect":"Deny","NotAction":["iam:*"],"Resource":"*"}]}"#;
        assert_eq!(judge(not_action, &member()).denied, [true; N]);
        let allow = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        assert_eq!(judge(allow, &member()).denied, [false; N]);
    }

    #[test]
    fn a_guardrail_of_the_contacts_alone_leaves_their_subscriptions_open() {
        let verdict = judge(&deny(r#""account:*""#, ""), &member());
        assert_eq!(verdict.denied, [true, true, true, false, false]);
        assert!(
            GUARDED_ACTIONS[3..]
                .iter()
                .all(|action| action.starts_with("notifications:")),
            "the last two are User Notifications' writes"
        );
    }

    #[test]
    fn an_exemption_of_another_accounts_role_counts_and_one_anyone_can_meet_does_not() {
        let exempt = |values: &str| {
            deny(
                r#"["account:*","notifications:*"]"#,
                &format!(r#","Condition":{{"ArnNotLike":{{"aws:PrincipalArn":{values}}}}}"#),
            )
        };
        assert_eq!(
            judge(
                &exempt(r#"["arn:aws:iam::111111111111:role/altcontacts-apply"]"#),
                &member()
            )
            .denied,
            [true; N]
        );
        for lets_everyone_through in [
            r#""*""#,
            r#""arn:aws:iam::*:role/altcontacts-apply""#,
            r#""arn:aws:iam::333333333333:role/admin""#,
        ] {
            let verdict = judge(&exempt(lets_everyone_through), &member());
            assert_eq!(verdict.denied, [false; N], "{lets_everyone_through}");
            assert_eq!(verdict.doubts.len(), 1);
        }
        let positive = deny(
            r#"["account:*","notifications:*"]"#,
            r#","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/x"}}"#,
        );
        assert_eq!(judge(&positive, &member()).denied, [false; N]);
        let unrelated = deny(
            r#"["account:*","notifications:*"]"#,
            r#","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}"#,
        );
        assert!(judge(&unrelated, &member()).doubts[0].contains("StringEquals"));
        let other_account = deny(
            r#"["account:*","notifications:*"]"#,
            r#","Condition":{"StringNotEquals":{"aws:PrincipalAccount":["111111111111"]}}"#,
        );
        assert_eq!(judge(&other_account, &member()).denied, [true; N]);
        let own_account = deny(
            r#"["account:*","notifications:*"]"#,
            r#","Condition":{"StringNotEquals":{"aws:PrincipalAccount":["333333333333"]}}"#,
        );
        assert_eq!(judge(&own_account, &member()).denied, [false; N]);
    }

    #[test]
    fn a_deny_on_named_resources_or_a_broken_document_protects_nothing() {
        let named = r#"{"Statement":{"Effect":"Deny","Action":"account:*","Resource":"arn:aws:account::333333333333:account"}}"#;
        assert_eq!(judge(named, &member()).denied, [false; N]);
        assert!(!judge("{not json", &member()).doubts.is_empty());
    }
}
