//! The real binary against moto's server: proof that we speak AWS as other
//! clients do, and that the caller's own account is never named.

use aws_sdk_account::types::AlternateContactType;

use crate::moto::{MOTO_CALLER, Moto};
use crate::support::*;

const MEMBER: &str = "210987654321";

fn account_client(moto: &Moto) -> aws_sdk_account::Client {
    aws_sdk_account::Client::new(&moto.sdk_config())
}

fn kind(name: &str) -> AlternateContactType {
    AlternateContactType::from(name)
}

async fn seed(
    client: &aws_sdk_account::Client,
    account: Option<&str>,
    kind_name: &str,
    email: &str,
) {
    client
        .put_alternate_contact()
        .set_account_id(account.map(str::to_owned))
        .alternate_contact_type(kind(kind_name))
        .name("Seeded")
        .title("Seed")
        .email_address(email)
        .phone_number("+1 202 555 0100")
        .send()
        .await
        .expect("seed a contact in moto");
}

/// The email of a slot as moto holds it, read with a separate client.
async fn email(
    client: &aws_sdk_account::Client,
    account: Option<&str>,
    kind_name: &str,
) -> Option<String> {
    match client
        .get_alternate_contact()
        .set_account_id(account.map(str::to_owned))
        .alternate_contact_type(kind(kind_name))
        .send()
        .await
    {
        Ok(output) => output
            .alternate_contact()
            .and_then(|c| c.email_address())
            .map(str::to_owned),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            None
        }
        Err(error) => panic!("reading moto failed: {error:?}"),
    }
}

/// Each change of a JSON plan as (account, contact type, `field`).
fn changes(plan: &serde_json::Value, field: &str) -> Vec<(String, String, String)> {
    let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_owned();
    plan["changes"]
        .as_array()
        .expect("a plan has changes")
        .iter()
        .map(|change| {
            (
                text(&change["account_id"]),
                text(&change["contact_type"]),
                text(&change[field]),
            )
        })
        .collect()
}

fn listed_config() -> String {
    format!(
        r#"version: 1
contacts:
  security-team: {{ name: Security Team, title: Security, email_address: security@example.com, phone_number: "+1 202 555 0100" }}
  ops: {{ name: Seeded, title: Seed, email_address: ops@example.com, phone_number: "+1 202 555 0100" }}
accounts:
  "{MOTO_CALLER}":
    security: security-team
    billing: absent
    operations: ops
  "{MEMBER}":
    security: absent
    operations: ops
"#
    )
}

/// Own account: SECURITY stale (update), BILLING set (delete), OPERATIONS
/// unset (create). Member: SECURITY unset and wanted absent, OPERATIONS right.
async fn seeded(moto: &Moto) -> aws_sdk_account::Client {
    let client = account_client(moto);
    seed(&client, None, "SECURITY", "old@example.com").await;
    seed(&client, None, "BILLING", "billing@example.com").await;
    seed(&client, Some(MEMBER), "OPERATIONS", "ops@example.com").await;
    moto.clear_requests();
    client
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_detects_every_kind_of_change_against_moto() {
    let moto = Moto::start();
    seeded(&moto).await;
    let workspace = Workspace::new();
    workspace.write("contacts.yaml", &listed_config());
    let output = moto
        .command(
            &workspace,
            &["plan", "--format", "json", "--detailed-exitcode"],
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let plan = json(&output);
    assert_eq!(plan["caller_account"], MOTO_CALLER);
    let actions = changes(&plan, "action");
    let expected = [
        (MOTO_CALLER, "SECURITY", "update"),
        (MOTO_CALLER, "BILLING", "delete"),
        (MOTO_CALLER, "OPERATIONS", "create"),
    ]
    .map(|(a, k, x)| (a.to_owned(), k.to_owned(), x.to_owned()));
    assert_eq!(actions, expected);
    assert_eq!(
        plan["summary"]["unchanged"], 2,
        "absent-and-absent and equal contacts are unchanged"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_callers_own_account_is_read_without_account_id_and_members_with_it() {
    let moto = Moto::start();
    seeded(&moto).await;
    let workspace = Workspace::new();
    workspace.write("contacts.yaml", &listed_config());
    moto.command(&workspace, &["plan"]).output().unwrap();
    let reads = moto.account_requests("getAlternateContact");
    assert_eq!(reads.len(), 5, "one read per managed slot: {reads:?}");
    let own: Vec<_> = reads.iter().filter(|r| r.account_id().is_none()).collect();
    let member: Vec<_> = reads
        .iter()
        .filter(|r| r.account_id().as_deref() == Some(MEMBER))
        .collect();
    assert_eq!(
        own.len(),
        3,
        "the caller's account is never named: {reads:?}"
    );
    assert_eq!(member.len(), 2, "a member account is named: {reads:?}");
    assert!(
        reads
            .iter()
            .all(|r| r.account_id().as_deref() != Some(MOTO_CALLER))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_makes_moto_match_with_one_write_per_change() {
    let moto = Moto::start();
    let client = seeded(&moto).await;
    let workspace = Workspace::new();
    workspace.write("contacts.yaml", &listed_config());
    let output = moto
        .command(&workspace, &["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(stdout(&output).contains("Apply complete: 1 created, 1 updated, 1 deleted, 0 failed."));

    let puts = moto.account_requests("putAlternateContact");
    let deletes = moto.account_requests("deleteAlternateContact");
    assert_eq!(puts.len(), 2, "a Put per create and update: {puts:?}");
    assert_eq!(deletes.len(), 1, "a Delete per delete: {deletes:?}");
    assert!(
        puts.iter()
            .chain(&deletes)
            .all(|r| r.account_id().is_none()),
        "writes to the own account omit AccountId"
    );

    assert_eq!(
        email(&client, None, "SECURITY").await.as_deref(),
        Some("security@example.com")
    );
    assert_eq!(email(&client, None, "BILLING").await, None);
    assert_eq!(
        email(&client, None, "OPERATIONS").await.as_deref(),
        Some("ops@example.com")
    );
    assert_eq!(email(&client, Some(MEMBER), "SECURITY").await, None);
    assert_eq!(
        email(&client, Some(MEMBER), "OPERATIONS").await.as_deref(),
        Some("ops@example.com")
    );

    moto.command(&workspace, &["plan", "--detailed-exitcode"])
        .assert_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slot_changed_behind_the_tools_back_makes_the_saved_plan_stale() {
    let moto = Moto::start();
    let client = seeded(&moto).await;
    let workspace = Workspace::new();
    workspace.write("contacts.yaml", &listed_config());
    moto.command(&workspace, &["plan", "--out", "plan.json"])
        .assert_code(0);
    seed(&client, None, "SECURITY", "changed-by-hand@example.com").await;
    moto.clear_requests();
    let output = moto
        .command(&workspace, &["apply", "plan.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains(&format!("{MOTO_CALLER} SECURITY: planned from \"Seeded\" <old@example.com>, now \"Seeded\" <changed-by-hand@example.com>")), "{}", stderr(&output));
    assert!(
        moto.account_requests("putAlternateContact").is_empty(),
        "nothing was written"
    );
    assert!(
        moto.account_requests("deleteAlternateContact").is_empty(),
        "nothing was written"
    );
    assert_eq!(
        email(&client, None, "BILLING").await.as_deref(),
        Some("billing@example.com")
    );
}

/// Exit-code assertions on a command, with its output when they fail.
pub trait AssertCode {
    fn assert_code(&mut self, code: i32) -> std::process::Output;
}

impl AssertCode for std::process::Command {
    fn assert_code(&mut self, code: i32) -> std::process::Output {
        let output = self.output().expect("run the binary");
        assert_eq!(
            output.status.code(),
            Some(code),
            "stdout:\n{}\nstderr:\n{}",
            stdout(&output),
            stderr(&output)
        );
        output
    }
}

/// An organization in moto: the caller as management account, Workloads
/// and Workloads/Data units, an app account, a data account, a closed one.
struct SeededOrg {
    app: String,
    data: String,
    closed: String,
}

async fn seed_organization(moto: &Moto) -> SeededOrg {
    use aws_sdk_organizations::types::OrganizationFeatureSet;
    let orgs = aws_sdk_organizations::Client::new(&moto.sdk_config());
    orgs.create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .expect("create the organization");
    let roots = orgs.list_roots().send().await.expect("list roots");
    let root = roots.roots()[0].id().unwrap().to_owned();
    let unit = |parent: String, name: &'static str| {
        let orgs = orgs.clone();
        async move {
            let created = orgs
                .create_organizational_unit()
                .parent_id(parent)
                .name(name)
                .send()
                .await
                .expect("create a unit");
            created
                .organizational_unit()
                .unwrap()
                .id()
                .unwrap()
                .to_owned()
        }
    };
    let workloads = unit(root.clone(), "Workloads").await;
    let data_unit = unit(workloads.clone(), "Data").await;
    let account = |name: &'static str, parent: String| {
        let orgs = orgs.clone();
        let root = root.clone();
        async move {
            let created = orgs
                .create_account()
                .account_name(name)
                .email(format!("{}@example.com", name.to_lowercase()))
                .send()
                .await
                .expect("create an account");
            let id = created
                .create_account_status()
                .unwrap()
                .account_id()
                .unwrap()
                .to_owned();
            orgs.move_account()
                .account_id(&id)
                .source_parent_id(root)
                .destination_parent_id(parent)
                .send()
                .await
                .expect("move the account");
            id
        }
    };
    let app = account("App", workloads.clone()).await;
    let data = account("Lake", data_unit).await;
    let closed = account("Retired", workloads).await;
    orgs.close_account()
        .account_id(&closed)
        .send()
        .await
        .expect("close an account");
    moto.clear_requests();
    SeededOrg { app, data, closed }
}

fn org_config(org: &SeededOrg) -> String {
    format!(
        r#"version: 1
contacts:
  security-team: {{ name: Security Team, title: Security, email_address: security@example.com, phone_number: "+1 202 555 0100" }}
  finance: {{ name: Finance, title: Accounts Payable, email_address: billing@example.com, phone_number: "+1 202 555 0199" }}
  data-team: {{ name: Data Platform, title: Data Engineering, email_address: data@example.com, phone_number: "+1 202 555 0177" }}
organization:
  defaults:
    security: security-team
    billing: finance
  units:
    Root/Workloads/Data:
      operations: data-team
accounts:
  "{app}":
    billing: absent
"#,
        app = org.app
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_organization_cycle_plan_apply_plan_and_export_round_trip() {
    let moto = Moto::start();
    let org = seed_organization(&moto).await;
    let client = account_client(&moto);
    seed(
        &client,
        Some(&org.app),
        "BILLING",
        "app-billing@example.com",
    )
    .await;
    moto.clear_requests();
    let workspace = Workspace::new();
    workspace.write("contacts.yaml", &org_config(&org));

    let output = moto
        .command(&workspace, &["plan", "--format", "json"])
        .assert_code(0);
    let plan = json(&output);
    assert_eq!(
        plan["accounts_in_scope"], 3,
        "management, app and data; the closed account is out"
    );
    assert_eq!(plan["skipped"][0]["account_id"], org.closed.as_str());
    assert_eq!(plan["skipped"][0]["status"], "SUSPENDED");
    let sources = changes(&plan, "source");
    assert!(
        sources.contains(&(
            org.data.clone(),
            "OPERATIONS".into(),
            "units[\"Root/Workloads/Data\"]".into()
        )),
        "{sources:?}"
    );
    assert!(
        sources.contains(&(
            org.app.clone(),
            "BILLING".into(),
            format!("accounts[\"{}\"]", org.app)
        )),
        "{sources:?}"
    );
    assert!(
        sources.contains(&(
            MOTO_CALLER.into(),
            "SECURITY".into(),
            "organization.defaults".into()
        )),
        "{sources:?}"
    );

    moto.clear_requests();
    let applied = moto
        .command(&workspace, &["apply", "--auto-approve"])
        .assert_code(0);
    assert!(
        stdout(&applied).contains("Apply complete: 6 created, 0 updated, 1 deleted, 0 failed."),
        "{}",
        stdout(&applied)
    );
    let writes: Vec<_> = moto
        .account_requests("putAlternateContact")
        .into_iter()
        .chain(moto.account_requests("deleteAlternateContact"))
        .collect();
    assert_eq!(
        writes.iter().filter(|w| w.account_id().is_none()).count(),
        2,
        "the management account is written without AccountId"
    );
    assert!(
        writes
            .iter()
            .all(|w| w.account_id().as_deref() != Some(MOTO_CALLER))
    );
    assert!(
        moto.requests()
            .iter()
            .all(|r| r.account_id().as_deref() != Some(org.closed.as_str())),
        "the closed account is never touched"
    );
    assert_eq!(
        email(&client, Some(&org.data), "OPERATIONS")
            .await
            .as_deref(),
        Some("data@example.com")
    );
    assert_eq!(email(&client, Some(&org.app), "BILLING").await, None);
    assert_eq!(
        email(&client, None, "SECURITY").await.as_deref(),
        Some("security@example.com")
    );

    moto.command(&workspace, &["plan", "--detailed-exitcode"])
        .assert_code(0);

    moto.command(&workspace, &["export", "--org", "-o", "exported.yaml"])
        .assert_code(0);
    let exported = workspace.read("exported.yaml");
    assert!(
        exported.contains("organization:\n  defaults:\n    security:"),
        "{exported}"
    );
    moto.command(
        &workspace,
        &["plan", "-f", "exported.yaml", "--detailed-exitcode"],
    )
    .assert_code(0);
}

/// moto's credentials for `account`, as a delegated administrator running
/// there would have them (AssumeRole into the account).
async fn credentials_of(moto: &Moto, account: &str) -> aws_sdk_sts::types::Credentials {
    aws_sdk_sts::Client::new(&moto.sdk_config())
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
        ))
        .role_session_name("altcontacts-delegated")
        .send()
        .await
        .expect("assume a role in the member account")
        .credentials()
        .expect("credentials")
        .clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delegated_administrator_never_names_the_management_account() {
    let moto = Moto::start();
    let org = seed_organization(&moto).await;
    let credentials = credentials_of(&moto, &org.app).await;
    let as_delegated = |command: &mut std::process::Command| {
        command
            .env("AWS_ACCESS_KEY_ID", credentials.access_key_id())
            .env("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key())
            .env("AWS_SESSION_TOKEN", credentials.session_token());
    };
    let workspace = Workspace::new();
    let contact = r#"{ name: Sec, title: Security, email_address: sec@example.com, phone_number: "+1 202 555 0100" }"#;
    workspace.write(
        "contacts.yaml",
        &format!(
            "version: 1\naccounts:\n  \"{}\":\n    security: {contact}\n  \"{MOTO_CALLER}\":\n    security: {contact}\n",
            org.data
        ),
    );
    moto.clear_requests();
    let mut plan = moto.command(&workspace, &["plan"]);
    as_delegated(&mut plan);
    let output = plan.assert_code(1);
    let text = stderr(&output);
    assert!(
        text.contains(&format!(
            "account {MOTO_CALLER} is the organization's management account, which this caller ({}), a delegated administrator, cannot manage",
            org.app
        )),
        "{text}"
    );
    assert!(text.contains("contacts.yaml:5:3"), "located: {text}");
    assert!(
        moto.account_requests("getAlternateContact").is_empty(),
        "no contact was read"
    );

    // The member accounts alone: its own without AccountId, the other with.
    workspace.write(
        "contacts.yaml",
        &format!(
            "version: 1\naccounts:\n  \"{}\":\n    security: {contact}\n  \"{}\":\n    security: {contact}\n",
            org.data, org.app
        ),
    );
    moto.clear_requests();
    let mut plan = moto.command(&workspace, &["plan", "--format", "json"]);
    as_delegated(&mut plan);
    let plan = json(&plan.assert_code(0));
    assert_eq!(plan["caller_account"], org.app.as_str());
    let reads = moto.account_requests("getAlternateContact");
    let named: Vec<Option<String>> = reads.iter().map(|r| r.account_id()).collect();
    assert_eq!(reads.len(), 2, "{named:?}");
    assert!(
        named.contains(&None),
        "its own account is not named: {named:?}"
    );
    assert!(named.contains(&Some(org.data.clone())), "{named:?}");
    assert!(!named.contains(&Some(MOTO_CALLER.to_owned())));
}

/// The guardrail through moto's SCPs (CreatePolicy, AttachPolicy,
/// ListPolicies, ListTargetsForPolicy): on the Data unit only, the app account outside
/// it is reported; on the root, no member is.
#[tokio::test(flavor = "multi_thread")]
async fn the_guardrail_check_reads_moto_s_service_control_policies() {
    use aws_sdk_organizations::types::PolicyType;
    let moto = Moto::start();
    let org = seed_organization(&moto).await;
    let orgs = aws_sdk_organizations::Client::new(&moto.sdk_config());
    let workspace = Workspace::new();
    let printed = workspace
        .command(&[
            "guardrail",
            "--allow-role",
            &format!("arn:aws:iam::{MOTO_CALLER}:role/altcontacts-apply"),
        ])
        .output()
        .unwrap();
    let document = stdout(&printed).trim().to_owned();
    let root = orgs.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_owned();
    let _ = orgs
        .enable_policy_type()
        .root_id(&root)
        .policy_type(PolicyType::ServiceControlPolicy)
        .send()
        .await;
    let policy = orgs
        .create_policy()
        .name("altcontacts-guardrail")
        .description("only the pipeline changes contacts")
        .r#type(PolicyType::ServiceControlPolicy)
        .content(document)
        .send()
        .await
        .expect("create the SCP")
        .policy()
        .unwrap()
        .policy_summary()
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let data_unit = orgs
        .list_parents()
        .child_id(&org.data)
        .send()
        .await
        .unwrap()
        .parents()[0]
        .id()
        .unwrap()
        .to_owned();
    let attach = |target: String| {
        let orgs = orgs.clone();
        let policy = policy.clone();
        async move {
            orgs.attach_policy()
                .policy_id(policy)
                .target_id(target)
                .send()
                .await
                .expect("attach the SCP");
        }
    };
    let unprotected = || {
        let output = moto
            .command(&workspace, &["audit", "--org", "--format", "json"])
            .output()
            .unwrap();
        let report = json(&output);
        let mut found: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["check"] == "contacts_unprotected" || f["check"] == "guardrail_unchecked")
            .map(|f| {
                format!(
                    "{} {}",
                    f["check"].as_str().unwrap(),
                    f["account_id"].as_str().unwrap_or("-")
                )
            })
            .collect();
        found.sort();
        found
    };
    let mut both = vec![
        format!("contacts_unprotected {}", org.app),
        format!("contacts_unprotected {}", org.data),
    ];
    both.sort();
    assert_eq!(
        unprotected(),
        both,
        "FullAWSAccess alone protects no one; the closed account is no member to protect"
    );
    attach(data_unit).await;
    assert_eq!(unprotected(), [format!("contacts_unprotected {}", org.app)]);
    attach(root).await;
    assert_eq!(unprotected(), Vec::<String>::new());
}

/// `--member-role` against moto: AssumeRole into each member account, its
/// writes made there without `AccountId`, and the management account,
/// naming the accounts as without member roles, reads them back.
#[tokio::test(flavor = "multi_thread")]
async fn through_member_roles_each_account_writes_its_own_and_the_caller_reads_them_back() {
    let moto = Moto::start();
    let org = seed_organization(&moto).await;
    let workspace = Workspace::new();
    workspace.write("contacts.yaml", &org_config(&org));
    moto.clear_requests();
    let applied = moto
        .command(
            &workspace,
            &[
                "apply",
                "--auto-approve",
                "--format",
                "json",
                "--member-role",
                "altcontacts-member",
            ],
        )
        .assert_code(0);
    let report = json(&applied);
    assert_eq!(report["summary"]["created"], 6, "{report}");
    assert_eq!(report["member_role"]["assumed"], 2, "{report}");
    assert_valid(&report, "schema/apply-report.schema.json");

    let assumed: Vec<String> = moto
        .requests()
        .iter()
        .filter(|request| request.body.contains("Action=AssumeRole&"))
        .map(|request| request.body.clone())
        .collect();
    for account in [&org.app, &org.data] {
        let arn = format!("RoleArn=arn%3Aaws%3Aiam%3A%3A{account}%3Arole%2Faltcontacts-member");
        assert_eq!(
            assumed.iter().filter(|body| body.contains(&arn)).count(),
            1,
            "{assumed:?}"
        );
    }
    let puts = moto.account_requests("putAlternateContact");
    assert_eq!(puts.len(), 6);
    assert!(
        puts.iter().all(|put| put.account_id().is_none()),
        "every account wrote its own"
    );

    // As the management account sees it: nothing left to do.
    moto.clear_requests();
    let plan = moto.command(&workspace, &["plan"]).assert_code(0);
    assert!(stdout(&plan).contains("No changes."), "{}", stdout(&plan));
    let named: Vec<Option<String>> = moto
        .account_requests("getAlternateContact")
        .iter()
        .map(|read| read.account_id())
        .collect();
    assert!(named.contains(&Some(org.data.clone())), "{named:?}");
}
