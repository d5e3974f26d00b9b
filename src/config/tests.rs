//! Every validation rule, with the position it is reported at.

use super::*;
use crate::model::{ContactType, Source, Wanted};

const CONTACT: &str =
    "{ name: Sec, title: Ops, email_address: sec@example.com, phone_number: \"+1 202 555 0100\" }";

fn problems(text: &str) -> Vec<(usize, usize, String)> {
    match LoadedConfig::parse("c.yaml", text.to_owned()) {
        Ok(_) => Vec::new(),
        Err(ConfigError::Problems(file)) => file
            .problems
            .into_iter()
            .map(|p| {
                (
                    p.line,
                    p.column,
                    format!(
                        "{}{}",
                        p.message,
                        p.help.map(|h| format!(" | {h}")).unwrap_or_default()
                    ),
                )
            })
            .collect(),
        Err(other) => panic!("unexpected error {other}"),
    }
}

/// The single problem of `text`: its position and message.
fn problem(text: &str) -> (usize, usize, String) {
    let mut found = problems(text);
    assert_eq!(found.len(), 1, "expected one problem, got {found:#?}");
    found.remove(0)
}

fn ok(text: &str) -> Config {
    LoadedConfig::parse("c.yaml", text.to_owned())
        .unwrap_or_else(|e| panic!("{e}"))
        .config
}

#[test]
fn a_minimal_file_is_valid() {
    let config = ok(&format!(
        "version: 1\naccounts:\n  \"111111111111\":\n    security: {CONTACT}\n"
    ));
    let layer = &config.accounts[&AccountId::parse("111111111111").unwrap()];
    assert!(matches!(
        layer.slots[&ContactType::Security].wanted,
        Wanted::Present(_)
    ));
}

#[test]
fn version_is_required_and_must_be_one() {
    let (line, col, message) = problem("accounts: {}\n");
    assert_eq!((line, col), (1, 1));
    assert!(message.contains("missing `version`"), "{message}");
    let (line, col, message) = problem("version: 2\naccounts: {}\n");
    assert_eq!((line, col), (1, 10));
    assert!(message.contains("unsupported version `2`"), "{message}");
    let (_, _, message) = problem("version: [1]\naccounts: {}\n");
    assert!(message.contains("must be the number 1"), "{message}");
    let (_, _, message) = problem("version: \"1\"\naccounts: {}\n");
    assert!(
        message.contains("must be the number 1, found a string")
            && message.contains("without quotes"),
        "{message}"
    );
}

#[test]
fn unknown_keys_are_located_at_the_key_with_a_suggestion() {
    let text = format!("version: 1\naccounts:\n  \"111111111111\":\n    securty: {CONTACT}\n");
    let (line, col, message) = problem(&text);
    assert_eq!((line, col), (4, 5));
    assert!(
        message.contains("unknown key `securty`") && message.contains("did you mean `security`"),
        "{message}"
    );

    let (line, col, message) = problems("version: 1\naccount: {}\n")
        .into_iter()
        .find(|(_, _, m)| m.contains("unknown key"))
        .unwrap();
    assert_eq!((line, col), (2, 1));
    assert!(message.contains("did you mean `accounts`"), "{message}");
}

#[test]
fn every_field_rule_of_aws_is_checked() {
    let text = "\
version: 1
contacts:
  team:
    name: \"\"
    title: TTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTT
    email_address: bad@
    phone_number: \"+1 202 555 0100 ext. 4\"
accounts:
  \"111111111111\": { security: team }
";
    let found = problems(text);
    let summary: Vec<(usize, usize)> = found.iter().map(|(line, col, _)| (*line, *col)).collect();
    assert_eq!(
        summary,
        vec![(4, 11), (5, 12), (6, 20), (7, 19)],
        "{found:#?}"
    );
    assert!(found[0].2.contains("name must not be empty"));
    assert!(
        found[1]
            .2
            .contains("51 characters long; AWS allows at most 50")
    );
    assert!(found[2].2.contains("not an email address AWS accepts"));
    assert!(found[3].2.contains("only digits, spaces and + - ( )"));
}

#[test]
fn a_missing_field_is_reported_at_the_contact() {
    let text = "version: 1\naccounts:\n  \"111111111111\":\n    security:\n      name: A\n      title: B\n      email_address: a@example.com\n";
    let (line, col, message) = problem(text);
    assert_eq!((line, col), (5, 7));
    assert!(message.contains("missing `phone_number`"), "{message}");
}

#[test]
fn a_number_where_a_string_belongs_says_to_quote_it() {
    let text = "version: 1\naccounts:\n  \"111111111111\":\n    security: { name: A, title: B, email_address: a@example.com, phone_number: 12025550100 }\n";
    let (line, col, message) = problem(text);
    assert_eq!((line, col), (4, 80));
    assert!(
        message.contains("must be a string, found a number") && message.contains("\"12025550100\""),
        "{message}"
    );
}

#[test]
fn unknown_references_suggest_the_closest_name() {
    let text = format!(
        "version: 1\ncontacts:\n  security-team: {CONTACT}\naccounts:\n  \"111111111111\":\n    security: securty-team\n"
    );
    let (line, col, message) = problem(&text);
    assert_eq!((line, col), (6, 15));
    assert!(
        message.contains("unknown contact `securty-team`")
            && message.contains("did you mean `security-team`"),
        "{message}"
    );
}

#[test]
fn a_broken_named_contact_is_reported_once_not_at_each_use() {
    let text = "version: 1\ncontacts:\n  team: { name: A, title: B, email_address: nope, phone_number: \"1\" }\naccounts:\n  \"111111111111\": { security: team, billing: team }\n";
    let (line, _, message) = problem(text);
    assert_eq!(line, 3);
    assert!(message.contains("not an email address"), "{message}");
}

#[test]
fn a_contact_cannot_be_named_absent() {
    let text = format!("version: 1\ncontacts:\n  absent: {CONTACT}\naccounts: {{}}\n");
    let (line, col, message) = problem(&text);
    assert_eq!((line, col), (3, 3));
    assert!(message.contains("cannot be named `absent`"), "{message}");
}

#[test]
fn duplicate_keys_are_errors_at_the_second_key() {
    let text = "version: 1\naccounts:\n  \"111111111111\": { security: absent }\n  \"111111111111\": { billing: absent }\n";
    let (line, col, message) = problem(text);
    assert_eq!((line, col), (4, 3));
    assert!(
        message.contains("duplicate key `111111111111`"),
        "{message}"
    );
}

#[test]
fn account_ids_must_be_quoted_twelve_digit_strings() {
    let (line, col, message) =
        problem("version: 1\naccounts:\n  012345678901: { security: absent }\n");
    assert_eq!((line, col), (3, 3));
    assert!(
        message.contains("must be a quoted string") && message.contains("\"012345678901\""),
        "{message}"
    );
    let (_, _, message) = problem("version: 1\naccounts:\n  112345678901: { security: absent }\n");
    assert!(
        message.contains("must be a quoted string") && message.contains("\"112345678901\""),
        "{message}"
    );
    let (line, col, message) =
        problem("version: 1\naccounts:\n  \"11111\": { security: absent }\n");
    assert_eq!((line, col), (3, 3));
    assert!(message.contains("exactly 12 digits"), "{message}");
    let (line, col, message) =
        problem("version: 1\norganization:\n  exclude: [\"111111111111\", 222222222222]\n");
    assert_eq!((line, col), (3, 29));
    assert!(message.contains("must be a quoted string"), "{message}");
}

#[test]
fn slot_values_must_be_a_name_a_contact_or_absent() {
    let (line, col, message) =
        problem("version: 1\naccounts:\n  \"111111111111\": { security: [a] }\n");
    assert_eq!((line, col), (3, 31));
    assert!(
        message.contains("a slot must be a contact name, an inline contact or `absent`"),
        "{message}"
    );
}

#[test]
fn organization_section_is_checked_offline() {
    let text = "\
version: 1
organization:
  defaults: { security: absent, oops: absent }
  units:
    ou-bad: { billing: absent }
    Root//Data: { billing: absent }
    ou-ab12-abcdefgh: { billing: absent }
  exclude: [\"111111111111\", \"111111111111\"]
  other: 1
";
    let found = problems(text);
    let positions: Vec<(usize, usize)> = found.iter().map(|(l, c, _)| (*l, *c)).collect();
    assert_eq!(
        positions,
        vec![(3, 33), (5, 5), (6, 5), (8, 29), (9, 3)],
        "{found:#?}"
    );
    assert!(found[1].2.contains("neither an OU path nor an OU id"));
    assert!(found[3].2.contains("excluded twice"));
}

#[test]
fn a_listed_and_excluded_account_is_a_contradiction() {
    let text = "version: 1\norganization:\n  exclude: [\"111111111111\"]\naccounts:\n  \"111111111111\": { security: absent }\n";
    let (line, col, message) = problem(text);
    assert_eq!((line, col), (5, 3));
    assert!(message.contains("also excluded"), "{message}");
}

#[test]
fn safety_and_rate_settings_are_checked() {
    let text = "version: 1\naccounts: {}\nsafety: { max_deletes: -1, max_update_percent: 150 }\nrate: { get: 0, put: fast }\n";
    let found = problems(text);
    let positions: Vec<(usize, usize)> = found.iter().map(|(l, c, _)| (*l, *c)).collect();
    assert_eq!(
        positions,
        vec![(3, 24), (3, 48), (4, 14), (4, 22)],
        "{found:#?}"
    );
    let config = ok(
        "version: 1\naccounts: {}\nsafety: { max_deletes: 0, max_updates: 3 }\nrate: { get: 2.5 }\n",
    );
    assert_eq!(config.safety.max_deletes, Some(crate::settings::Count(0)));
    assert_eq!(config.rate.get, Some(crate::settings::Rate(2.5)));
}

#[test]
fn reviewed_must_be_a_real_date() {
    let text = "version: 1\ncontacts:\n  t: { name: A, title: B, email_address: a@example.com, phone_number: \"1\", reviewed: 2025-02-30 }\naccounts: {}\n";
    let (line, _, message) = problem(text);
    assert_eq!(line, 3);
    assert!(message.contains("`2025-02-30` is not a date"), "{message}");
}

#[test]
fn all_problems_of_a_file_are_reported_in_one_run() {
    let text = "version: 3\nbogus: 1\naccounts:\n  \"1\": { security: nobody }\n";
    assert_eq!(problems(text).len(), 4, "{:#?}", problems(text));
}

#[test]
fn empty_files_syntax_errors_and_non_mappings_are_clear() {
    assert!(problem("").2.contains("the file is empty"));
    assert!(problem("- a\n- b\n").2.contains("must be a mapping"));
    let (line, _, message) = problem("version: 1\naccounts: {\n");
    assert!(line >= 2, "{line}");
    assert!(!message.contains(" at line "), "{message}");
}

fn org() -> Organization {
    use crate::model::{AccountStatus, OrgAccount, OrgUnit};
    let id = |n: &str| AccountId::parse(&n.repeat(12)).unwrap();
    let unit = |id: &str, name: &str, children| OrgUnit {
        id: id.into(),
        name: name.into(),
        children,
    };
    Organization {
        management_account: id("1"),
        root: unit(
            "r-root",
            "Root",
            vec![unit(
                "ou-root-workload",
                "Workloads",
                vec![unit("ou-root-dataplat", "Data", vec![])],
            )],
        ),
        accounts: vec![
            OrgAccount {
                id: id("1"),
                name: "Mgmt".into(),
                status: AccountStatus::Active,
                parents: vec!["r-root".into()],
                joined: None,
                email: None,
            },
            OrgAccount {
                id: id("2"),
                name: "Data".into(),
                status: AccountStatus::Active,
                parents: vec![
                    "r-root".into(),
                    "ou-root-workload".into(),
                    "ou-root-dataplat".into(),
                ],
                joined: None,
                email: None,
            },
            OrgAccount {
                id: id("3"),
                name: "Old".into(),
                status: AccountStatus::Suspended,
                parents: vec!["r-root".into(), "ou-root-workload".into()],
                joined: None,
                email: None,
            },
        ],
        whole: true,
    }
}

#[test]
fn one_account_looked_up_takes_its_units_layers_and_the_rest_of_the_file_is_not_held_against_it() {
    // A unit and an account the lookup did not read, beside the account's own.
    let text = format!(
        "version: 1\ncontacts:\n  a: {CONTACT}\norganization:\n  defaults: {{ security: a }}\n  units:\n    Root/Workloads/Data: {{ operations: a }}\n    Root/Elsewhere: {{ billing: a }}\n  exclude: [\"999999999999\"]\naccounts:\n  \"333333333333\": {{ billing: a }}\n"
    );
    let loaded = LoadedConfig::parse("c.yaml", text).unwrap();
    let data = AccountId::parse("222222222222").unwrap();
    let one = org().only(&data);
    assert_eq!(one.accounts.len(), 1);
    assert!(!one.whole);
    assert_eq!(
        one.units_with_paths()
            .iter()
            .map(|(path, _)| path.join("/"))
            .collect::<Vec<_>>(),
        ["Root", "Root/Workloads", "Root/Workloads/Data"],
        "the units above the account, and no other"
    );
    let desired = loaded.resolve(Some(&one), &one.management_account).unwrap();
    let kinds: Vec<ContactType> = desired
        .slots
        .keys()
        .filter(|slot| slot.account == data)
        .map(|slot| slot.kind)
        .collect();
    assert_eq!(kinds, [ContactType::Security, ContactType::Operations]);
    // The whole organization still holds the file to every unit it names.
    assert!(
        loaded
            .resolve(Some(&org()), &org().management_account)
            .is_err()
    );
}

#[test]
fn layers_resolve_slot_by_slot_most_specific_first() {
    let text = format!(
        "version: 1\ncontacts:\n  a: {CONTACT}\norganization:\n  defaults: {{ security: a, billing: a }}\n  units:\n    Root/Workloads: {{ operations: a, billing: absent }}\n    ou-root-dataplat: {{ billing: a }}\naccounts:\n  \"222222222222\": {{ security: absent }}\n"
    );
    let loaded = LoadedConfig::parse("c.yaml", text).unwrap();
    let desired = loaded
        .resolve(Some(&org()), &org().management_account)
        .unwrap();
    let get = |account: &str, kind| {
        let slot = crate::model::Slot::new(AccountId::parse(account).unwrap(), kind);
        desired
            .slots
            .get(&slot)
            .map(|d| (d.wanted.contact().is_some(), d.source.to_string()))
    };
    assert_eq!(
        get("111111111111", ContactType::Security),
        Some((true, "organization.defaults".into()))
    );
    assert_eq!(
        get("111111111111", ContactType::Operations),
        None,
        "no layer mentions it: unmanaged"
    );
    assert_eq!(
        get("222222222222", ContactType::Security),
        Some((false, "accounts[\"222222222222\"]".into()))
    );
    assert_eq!(
        get("222222222222", ContactType::Billing),
        Some((true, "units[\"ou-root-dataplat\"]".into())),
        "deepest unit wins"
    );
    assert_eq!(
        get("222222222222", ContactType::Operations),
        Some((true, "units[\"Root/Workloads\"]".into()))
    );
    assert_eq!(desired.skipped.len(), 1);
    assert!(
        !desired
            .accounts
            .contains_key(&AccountId::parse("333333333333").unwrap())
    );
    assert!(matches!(
        desired.slots.values().next().unwrap().source,
        Source::Defaults
    ));
}

#[test]
fn names_that_do_not_exist_in_the_organization_are_located_errors() {
    let text = "version: 1\norganization:\n  units:\n    Root/Workload: { billing: absent }\n  exclude: [\"999999999999\"]\naccounts:\n  \"444444444444\": { billing: absent }\n";
    let loaded = LoadedConfig::parse("c.yaml", text.to_owned()).unwrap();
    let Err(ConfigError::Problems(file)) = loaded.resolve(Some(&org()), &org().management_account)
    else {
        panic!("expected errors")
    };
    let found: Vec<(usize, usize, &str)> = file
        .problems
        .iter()
        .map(|p| (p.line, p.column, p.message.as_str()))
        .collect();
    assert_eq!(found[0].0, 4);
    assert!(found[0].2.contains("unit `Root/Workload` does not exist"));
    assert_eq!(
        file.problems[0].help.as_deref(),
        Some("did you mean `Root/Workloads`?")
    );
    assert_eq!(found.len(), 2, "a stale exclusion is no error: {found:?}");
    assert_eq!((found[1].0, found[1].1), (7, 3));
    assert!(
        found[1]
            .2
            .contains("account 444444444444 is not in the organization")
    );
}

#[test]
fn an_exclusion_that_outlived_its_account_is_a_located_warning() {
    // Closed accounts leave the organization 90 days after closing.
    let text = "version: 1\norganization:\n  defaults: { billing: absent }\n  exclude: [\"999999999999\"]\n";
    let loaded = LoadedConfig::parse("c.yaml", text.to_owned()).unwrap();
    let desired = loaded
        .resolve(Some(&org()), &org().management_account)
        .expect("a stale exclusion does not stop the run");
    let stale = crate::model::AccountId::parse("999999999999").unwrap();
    assert_eq!(
        desired.warnings,
        vec![crate::model::Warning {
            kind: crate::model::WarningKind::StaleExclusion { account: stale },
            file: "c.yaml".into(),
            line: 4,
            column: 13,
        }]
    );
    assert_eq!(
        desired.warnings[0].to_string(),
        "warning: c.yaml:4:13: excluded account 999999999999 is not in the organization (any more)\n  help: remove it from `exclude`"
    );
    assert!(!desired.slots.is_empty());
}

#[test]
fn listed_scope_is_exactly_the_accounts_listed() {
    let loaded = LoadedConfig::parse(
        "c.yaml",
        "version: 1\naccounts:\n  \"111111111111\": { billing: absent }\n  \"222222222222\": {}\n"
            .to_owned(),
    )
    .unwrap();
    let desired = loaded
        .resolve(None, &AccountId::parse("123456789012").unwrap())
        .unwrap();
    assert_eq!(desired.accounts.len(), 2);
    assert_eq!(desired.slots.len(), 1);
}

#[test]
fn five_thousand_problems_are_all_located_after_one_read_of_the_text() {
    let mut text = format!("version: 1\ncontacts:\n  sec: {CONTACT}\naccounts:\n");
    for n in 0..5_000u64 {
        text.push_str(&format!(
            "  \"{}\": {{ security: nosuch{n} }}\n",
            100_000_000_000 + n
        ));
    }
    let before = super::events::READS.with(std::cell::Cell::get);
    let found = problems(&text);
    let reads = super::events::READS.with(std::cell::Cell::get) - before;
    assert_eq!(
        reads, 1,
        "the text is read once, whatever the number of problems"
    );
    assert_eq!(found.len(), 5_000);
    for (n, (line, column, message)) in found.iter().enumerate() {
        assert_eq!((*line, *column), (5 + n, 31), "{message}");
        assert!(
            message.starts_with(&format!("unknown contact `nosuch{n}`")),
            "{message}"
        );
    }
}

#[test]
fn nesting_beyond_the_limit_is_one_located_error_found_without_reading_on() {
    let text = format!("version: 1\naccounts: {}", "[".repeat(100_000));
    let (line, column, message) = problem(&text);
    assert_eq!(
        (line, column, message.as_str()),
        (
            2,
            11 + 127,
            "recursion limit exceeded | collections nest at most 128 levels deep, and a contacts file needs a handful: look for a `[` or `{` opened here and never closed"
        )
    );
}

#[test]
fn notices_layer_contact_by_contact_apart_from_the_slots_they_belong_to() {
    // Defaults name more topics for SECURITY; the Workloads unit checks
    // none of its contacts; the Data account's own entry names one topic
    // for SECURITY again, for the slot the defaults set.
    let text = format!(
        "version: 1\ncontacts:\n  a: {CONTACT}\norganization:\n  defaults:\n    security: a\n    operations: a\n    notices: {{ security: [AWS-Health/Security, AWS-Health/Operations] }}\n  units:\n    Root/Workloads: {{ notices: none }}\naccounts:\n  \"222222222222\":\n    billing: absent\n    notices: {{ security: [AWS-Health/Security] }}\n"
    );
    let loaded = LoadedConfig::parse("c.yaml", text).unwrap();
    let desired = loaded
        .resolve(Some(&org()), &org().management_account)
        .unwrap();
    let topics = |account: &str, kind| {
        let slot = crate::model::Slot::new(AccountId::parse(account).unwrap(), kind);
        desired.topics_of(&slot).map(|(topics, source)| {
            (
                topics.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
                source.to_string(),
            )
        })
    };
    assert_eq!(
        topics("111111111111", ContactType::Security),
        Some((
            vec![
                "AWS-Health/Operations".to_owned(),
                "AWS-Health/Security".to_owned()
            ],
            "organization.defaults".to_owned()
        )),
        "the defaults' own list"
    );
    assert_eq!(
        topics("111111111111", ContactType::Operations),
        Some((
            vec![
                "AWS-Health/Billing".to_owned(),
                "AWS-Health/Operations".to_owned(),
                "AWS-Health/Security".to_owned()
            ],
            "organization.defaults".to_owned()
        )),
        "no layer names its topics: AWS's defaults"
    );
    assert_eq!(
        topics("222222222222", ContactType::Security),
        Some((
            vec!["AWS-Health/Security".to_owned()],
            "accounts[\"222222222222\"]".to_owned()
        )),
        "the account's entry wins over the unit's none"
    );
    assert_eq!(
        topics("222222222222", ContactType::Operations),
        Some((vec![], "units[\"Root/Workloads\"]".to_owned())),
        "the unit's none"
    );
    assert_eq!(
        topics("222222222222", ContactType::Billing),
        Some((vec![], "accounts[\"222222222222\"]".to_owned())),
        "a contact the file deletes has nothing to subscribe"
    );
    assert_eq!(
        topics("222222222222", ContactType::Primary),
        None,
        "a slot no layer sets keeps no subscription"
    );
}

#[test]
fn a_notices_problem_is_located_at_its_item() {
    let (line, column, message) = problem(&format!(
        "version: 1\naccounts:\n  \"111111111111\":\n    security: {CONTACT}\n    notices:\n      security: [AWS-Health/Security, AWS Health/Ops]\n"
    ));
    assert_eq!((line, column), (6, 39), "{message}");
    assert!(
        message.contains("`AWS Health/Ops` is not a managed notification configuration"),
        "{message}"
    );
    let (line, column, message) =
        problem("version: 1\naccounts:\n  \"111111111111\":\n    notices: all\n");
    assert_eq!((line, column), (4, 14), "{message}");
    assert!(
        message.contains("`notices` must be `none` or a mapping"),
        "{message}"
    );
}
