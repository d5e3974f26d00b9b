//! Do the contacts reach someone: reserved domains with their lines, the
//! allowed-domains policy (contacts and root emails), and DNS, asked of an
//! in-process server (never the real DNS), through the AWS emulator.

use std::process::Output;
use std::time::Duration;

use hickory_server::proto::rr::RecordType;

use crate::dns_server::{DnsServer, Zone};
use crate::emulator::{Contact, Emulator, Faults, Org, OrgAccount, joined_ago};
use crate::support::{Workspace, json, stderr, stdout};

const CALLER: &str = "111111111111";
const APP: &str = "200000000001";
const LAB: &str = "200000000002";

fn org() -> Org {
    let account = |id: &str| OrgAccount {
        id: id.into(),
        name: format!("Account {id}"),
        status: "ACTIVE".into(),
        parent: "r-emu1".into(),
        joined: joined_ago(86_400),
    };
    Org {
        root_id: "r-emu1".into(),
        accounts: vec![account(CALLER), account(APP), account(LAB)],
        ..Org::default()
    }
}

/// The file: a named SECURITY contact on a domain with MX, a reserved
/// BILLING address inline for APP, and for LAB one address per DNS answer.
const FILE: &str = r#"version: 1
contacts:
  secops:
    name: Security Operations
    title: Security
    email_address: secops@corp.io
    phone_number: "+1 202 555 0100"
  lab:
    name: Lab
    title: Lab
    email_address: lab@gone.io
    phone_number: "+1 202 555 0101"
organization:
  defaults:
    security: secops
accounts:
  "200000000001":
    billing:
      name: App Billing
      title: Finance
      email_address: billing@example.com
      phone_number: "+1 202 555 0102"
  "200000000002":
    security: lab
    billing:
      name: No Mail Team
      title: Finance
      email_address: finance@nullmx.io
      phone_number: "+1 202 555 0103"
    operations:
      name: Typo
      title: Ops
      email_address: ops@nomail.io
      phone_number: "+1 202 555 0104"
"#;

fn zones() -> Vec<(&'static str, Zone)> {
    vec![
        ("corp.io", Zone::Mx("mail.corp.io.")),
        ("root.corp.io", Zone::Mx("mail.corp.io.")),
        ("nullmx.io", Zone::NullMx),
        ("nomail.io", Zone::NoRecords),
        ("aonly.io", Zone::AOnly("192.0.2.10".parse().unwrap())),
        ("flaky.io", Zone::ServFail),
        ("slow.io", Zone::Slow(Duration::from_secs(3))),
    ]
}

/// The emulator after `apply` made AWS match FILE.
fn applied(workspace: &Workspace) -> Emulator {
    let emulator = Emulator::start(CALLER, Some(org()), Faults::default());
    workspace.write("contacts.yaml", FILE);
    let output = emulator
        .command(workspace.dir.path(), &["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    emulator
}

fn audit(emulator: &Emulator, workspace: &Workspace, dns: &DnsServer, args: &[&str]) -> Output {
    let mut command = emulator.command(workspace.dir.path(), &["audit"]);
    command
        .args(["--dns-server", &dns.flag(), "--dns-timeout", "1"])
        .args(args)
        .env_remove("ALTCONTACTS_NO_DNS");
    command.output().unwrap()
}

fn findings(output: &Output, check: &str) -> Vec<serde_json::Value> {
    json(output)["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", stdout(output)))
        .iter()
        .filter(|f| f["check"] == check)
        .cloned()
        .collect()
}

const CIS: [&str; 3] = [
    "cis-aws-foundations-v1.4-v5:1.1",
    "cis-aws-foundations-v6:2.1",
    "cis-aws-foundations-v7:2.2",
];

#[test]
fn plan_warns_at_the_line_of_a_reserved_address_about_to_be_written_to_aws_and_not_on_the_sandbox()
{
    let workspace = Workspace::new();
    workspace.write("contacts.yaml", FILE);
    let emulator = Emulator::start(CALLER, Some(org()), Faults::default());
    let output = emulator
        .command(workspace.dir.path(), &["plan", "--format", "json"])
        .output()
        .unwrap();
    let said = stderr(&output);
    assert!(
        said.contains("warning: contacts.yaml:21:22: `billing@example.com` is on a domain reserved for documentation (RFC 2606): AWS's notices to it would reach no one"),
        "{said}"
    );
    assert_eq!(said.matches("reserved").count(), 1, "one warning: {said}");
    let warnings = json(&output)["warnings"].clone();
    assert_eq!(warnings[0]["code"], "reserved_address", "{warnings}");

    // With allowed domains, an address outside them is warned of too.
    workspace.write(
        "contacts.yaml",
        &format!("{FILE}audit:\n  email_domains: [corp.io, nullmx.io]\n"),
    );
    let output = emulator
        .command(workspace.dir.path(), &["plan", "--format", "json"])
        .output()
        .unwrap();
    let codes: Vec<(String, String)> = json(&output)["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["code"].as_str().unwrap().to_owned(),
                format!("{}:{}", w["line"], w["column"]),
            )
        })
        .collect();
    assert!(
        codes.contains(&("domain_not_allowed".into(), "11:20".into()))
            && codes.contains(&("domain_not_allowed".into(), "33:22".into()))
            && codes.contains(&("reserved_address".into(), "21:22".into())),
        "{codes:?}: {}",
        stderr(&output)
    );
    assert_eq!(
        codes.len(),
        3,
        "corp.io and nullmx.io are allowed: {codes:?}"
    );

    let sandbox = Workspace::org();
    let output = sandbox.sandbox(&["plan"]).output().unwrap();
    assert!(
        !stderr(&output).contains("reserved"),
        "the sandbox's addresses are make-believe: {}",
        stderr(&output)
    );
}

#[test]
fn each_domain_is_asked_once_and_every_undeliverable_address_is_a_located_finding() {
    let workspace = Workspace::new();
    let emulator = applied(&workspace);
    let dns = DnsServer::start(&zones());
    let output = audit(&emulator, &workspace, &dns, &["--format", "json"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));

    let reserved = findings(&output, "reserved_domain");
    assert_eq!(reserved.len(), 1, "{reserved:?}");
    assert_eq!(reserved[0]["address"], "billing@example.com");
    assert_eq!(reserved[0]["account_id"], APP);
    assert_eq!(reserved[0]["severity"], "medium");
    assert_eq!(
        reserved[0]["location"],
        serde_json::json!({"file": "contacts.yaml", "line": 21, "column": 22})
    );
    assert_eq!(reserved[0]["controls"], serde_json::json!(CIS));

    let undeliverable = findings(&output, "undeliverable_domain");
    let by_address = |address: &str| {
        undeliverable
            .iter()
            .find(|f| f["address"] == address)
            .unwrap_or_else(|| panic!("{address} in {undeliverable:?}"))
    };
    let gone = by_address("lab@gone.io");
    assert_eq!(
        gone["severity"], "high",
        "a SECURITY contact that reaches no one"
    );
    assert!(
        gone["message"]
            .as_str()
            .unwrap()
            .contains("does not exist (NXDOMAIN)")
    );
    assert_eq!(gone["location"]["line"], 11, "the named contact's address");
    assert!(
        by_address("finance@nullmx.io")["message"]
            .as_str()
            .unwrap()
            .contains("null MX")
    );
    let typo = by_address("ops@nomail.io");
    assert!(
        typo["message"]
            .as_str()
            .unwrap()
            .contains("no MX, A or AAAA")
    );
    assert_eq!(typo["severity"], "medium");
    assert_eq!(
        undeliverable.len(),
        3,
        "corp.io has an MX: {undeliverable:?}"
    );

    // secops@corp.io is the SECURITY contact of three accounts: asked once.
    assert_eq!(dns.queries("corp.io", RecordType::MX), 1);
    assert_eq!(dns.queries("root.corp.io", RecordType::MX), 1);
    assert_eq!(
        dns.queries("example.com", RecordType::MX),
        0,
        "reserved: not asked"
    );
    assert_eq!(
        dns.queries("nomail.io", RecordType::A),
        1,
        "no MX: the A record is asked"
    );

    let human = stdout(&audit(&emulator, &workspace, &dns, &[]));
    assert!(
        human.contains("200000000001 (Account 200000000001): `billing@example.com` (BILLING of 200000000001; accounts.\"200000000001\".billing at contacts.yaml:21:22) is on example.com"),
        "{human}"
    );
    assert!(
        human.contains("CIS AWS Foundations 1.1 (v1.4-v5)"),
        "{human}"
    );
    let markdown = stdout(&audit(
        &emulator,
        &workspace,
        &dns,
        &["--format", "markdown"],
    ));
    assert!(
        markdown.contains(
            "| High | 200000000002 (Account 200000000002) | \\`lab\\@\u{2060}gone\\.io\\`"
        ),
        "{markdown}"
    );
    assert!(
        markdown.contains("CIS AWS Foundations 2.2 (v7)"),
        "{markdown}"
    );
}

#[test]
fn servfail_and_a_late_answer_are_unchecked_not_undeliverable_and_an_a_record_receives_mail() {
    let workspace = Workspace::new();
    let emulator = Emulator::start(CALLER, Some(org()), Faults::default());
    emulator.set_contact(APP, "SECURITY", Contact::new("A", "sec@aonly.io"));
    emulator.set_contact(APP, "BILLING", Contact::new("B", "bill@flaky.io"));
    emulator.set_contact(LAB, "SECURITY", Contact::new("C", "sec@slow.io"));
    let dns = DnsServer::start(&zones());
    let output = audit(&emulator, &workspace, &dns, &["--org", "--format", "json"]);
    assert!(
        findings(&output, "undeliverable_domain").is_empty(),
        "{}",
        stdout(&output)
    );
    let unchecked = findings(&output, "domain_unchecked");
    let addresses: Vec<&str> = unchecked
        .iter()
        .map(|f| f["address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, ["bill@flaky.io", "sec@slow.io"], "{unchecked:?}");
    assert!(unchecked.iter().all(|f| f["severity"] == "low"));
    assert!(
        unchecked[0]["message"]
            .as_str()
            .unwrap()
            .contains("SERVFAIL"),
        "{unchecked:?}"
    );
    assert!(
        unchecked[1]["message"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{unchecked:?}"
    );
    assert!(findings(&output, "dns_unreachable").is_empty());
    // aonly.io receives mail by its A record: asked after its empty MX,
    // and its address is no finding at all.
    assert_eq!(dns.queries("aonly.io", RecordType::MX), 1);
    assert_eq!(dns.queries("aonly.io", RecordType::A), 1);
    let report = crate::support::json(&output);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["address"] != "sec@aonly.io"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn when_no_dns_server_answers_one_finding_says_the_check_was_not_made_and_no_dns_asks_nothing() {
    let workspace = Workspace::new();
    let emulator = applied(&workspace);
    // A UDP port nothing answers on.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut command = emulator.command(workspace.dir.path(), &["audit", "--format", "json"]);
    command
        .args(["--dns-server", &silent.local_addr().unwrap().to_string()])
        .args(["--dns-timeout", "0.3"])
        .env_remove("ALTCONTACTS_NO_DNS");
    let output = command.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "findings, not a failed audit: {}",
        stderr(&output)
    );
    let unreachable = findings(&output, "dns_unreachable");
    assert_eq!(unreachable.len(), 1, "{}", stdout(&output));
    assert!(
        unreachable[0]["message"]
            .as_str()
            .unwrap()
            .contains("--no-dns")
    );
    assert_eq!(
        unreachable[0]["controls"],
        serde_json::json!(CIS),
        "the controls it could not check"
    );
    assert!(findings(&output, "undeliverable_domain").is_empty());
    assert!(findings(&output, "domain_unchecked").is_empty());
    assert_eq!(
        findings(&output, "reserved_domain").len(),
        1,
        "reserved names need no DNS"
    );

    let dns = DnsServer::start(&zones());
    let output = audit(
        &emulator,
        &workspace,
        &dns,
        &["--no-dns", "--format", "json"],
    );
    assert_eq!(dns.total_queries(), 0);
    assert!(findings(&output, "dns_unreachable").is_empty());
    assert_eq!(findings(&output, "reserved_domain").len(), 1);
    // ALTCONTACTS_NO_DNS=1, as every other test runs, does the same.
    let output = emulator
        .command(workspace.dir.path(), &["audit", "--format", "json"])
        .args(["--dns-server", &dns.flag()])
        .output()
        .unwrap();
    assert_eq!(dns.total_queries(), 0, "{}", stderr(&output));
    assert_eq!(findings(&output, "reserved_domain").len(), 1);
}

#[test]
fn addresses_and_root_emails_outside_the_allowed_domains_are_findings_from_the_file_or_the_flag() {
    let workspace = Workspace::new();
    let emulator = applied(&workspace);
    let dns = DnsServer::start(&zones());
    workspace.write(
        "contacts.yaml",
        &format!("{FILE}audit:\n  email_domains: [corp.io, nomail.io]\n"),
    );
    let output = audit(&emulator, &workspace, &dns, &["--format", "json"]);
    let outside: Vec<String> = findings(&output, "domain_not_allowed")
        .iter()
        .map(|f| f["address"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        outside,
        ["finance@nullmx.io", "lab@gone.io"],
        "reserved example.com is its own finding"
    );
    assert!(
        findings(&output, "root_email_not_allowed").is_empty(),
        "root.corp.io is under corp.io"
    );

    // The flag replaces the file's list, and needs no file.
    let output = audit(
        &emulator,
        &workspace,
        &dns,
        &["--org", "--email-domain", "nomail.io", "--format", "json"],
    );
    let roots = findings(&output, "root_email_not_allowed");
    assert_eq!(roots.len(), 3, "every account's root email: {roots:?}");
    assert_eq!(roots[0]["account_id"], CALLER);
    assert_eq!(roots[0]["address"], format!("{CALLER}@root.corp.io"));
    assert_eq!(roots[0]["controls"], serde_json::json!(CIS));
    assert!(
        findings(&output, "domain_not_allowed")
            .iter()
            .any(|f| f["address"] == "secops@corp.io"),
        "{}",
        stdout(&output)
    );

    let bad = Workspace::new();
    bad.write(
        "contacts.yaml",
        "version: 1\naccounts: {}\naudit:\n  email_domains: [\"@corp.io\"]\n",
    );
    let output = bad.command(&["validate"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output)
            .contains("contacts.yaml:4:19: audit.email_domains[0]: `@corp.io` is not a domain"),
        "{}",
        stderr(&output)
    );
}
