//! The audit as people read it: the HTML report opened in headless
//! Chromium, driven by Playwright, and the CSV read back by Python's csv
//! module, both held to the JSON report of the same audit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{ORG_CONFIG, ORG_SANDBOX, Workspace, stderr, stdout};

pub const PLAYWRIGHT_CORE_VERSION: &str = "1.64.1";

/// Names an AWS account can carry, as a hostile or careless admin sets
/// them: markup, a script that would close the page's data block, and a
/// spreadsheet formula.
const MARKUP: &str = "<img src=x onerror=alert(1)>";
const SCRIPT: &str = "</script><script>alert(2)</script>";
const FORMULA: &str = "=HYPERLINK(\"http://evil.example/\",\"open\")";

/// The organization of the other tests, with hostile account names.
fn hostile_org() -> Workspace {
    let workspace = Workspace::new();
    let sandbox = ORG_SANDBOX
        .replacen("name: Management", &format!("name: '{FORMULA}'"), 1)
        .replacen("name: Prod App", &format!("name: '{SCRIPT}'"), 1)
        .replacen("name: Data", &format!("name: '{MARKUP}'"), 1);
    workspace.write("sandbox.yaml", &sandbox);
    workspace.write("contacts.yaml", ORG_CONFIG);
    workspace
}

/// One audit, written as JSON, HTML and CSV; returns the JSON.
fn audit(workspace: &Workspace) -> serde_json::Value {
    let output = workspace
        .sandbox(&[
            "audit",
            "-o",
            "report.json",
            "--output",
            "report.html",
            "--out",
            "report.csv",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    for name in ["report.json", "report.html", "report.csv"] {
        assert!(
            stderr(&output).contains(&format!("Wrote the audit to {name}.")),
            "{}",
            stderr(&output)
        );
    }
    assert_eq!(stdout(&output), "", "the reports go to their files only");
    serde_json::from_str(&workspace.read("report.json")).unwrap()
}

/// The pinned Playwright, installed once into target/playwright.
pub fn playwright() -> PathBuf {
    crate::ship::pinned_npm(
        "playwright",
        &format!(".playwright-core-{PLAYWRIGHT_CORE_VERSION}-installed"),
        &[format!("playwright-core@{PLAYWRIGHT_CORE_VERSION}")],
    )
}

fn open_in_browser(report: &Path, severity: &str) -> serde_json::Value {
    crate::bench_harness::open_in_browser(&playwright(), report, severity)
}

/// Holds a report kept by a forge's audit job to the SARIF log of the same
/// run: a page of the same findings, with the address `expected` in it.
pub fn assert_kept_report(html: &str, sarif: &serde_json::Value, expected: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"), "an HTML page");
    let total = html
        .split_once("data-count=\"total\">")
        .and_then(|(_, rest)| rest.split_once('<'))
        .map(|(count, _)| count.parse::<usize>().unwrap())
        .expect("the summary's total");
    assert_eq!(
        total,
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        "the page and the SARIF log hold the same findings"
    );
    assert!(html.contains(expected), "the page names {expected}");
}

fn severities(report: &serde_json::Value) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for finding in report["findings"].as_array().unwrap() {
        *counts
            .entry(finding["severity"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    counts
}

#[test]
fn the_html_report_shows_the_json_s_findings_filters_them_and_runs_nothing_from_aws() {
    let workspace = hostile_org();
    let json = audit(&workspace);
    let counts = severities(&json);
    assert!(
        counts["high"] > 0 && counts["medium"] > 0,
        "the fixture has findings of two severities: {counts:?}"
    );
    let seen = open_in_browser(&workspace.path("report.html"), "medium");

    let total = json["findings"].as_array().unwrap().len() as u64;
    let summary: BTreeMap<String, u64> = serde_json::from_value(seen["summary"].clone()).unwrap();
    for severity in ["high", "medium", "low"] {
        assert_eq!(
            summary[severity],
            counts.get(severity).copied().unwrap_or(0),
            "the summary's {severity} count"
        );
    }
    assert_eq!(summary["total"], total);
    assert_eq!(
        seen["before"], total,
        "every finding is a row before filtering"
    );

    let shown: Vec<String> = serde_json::from_value(seen["shown"].clone()).unwrap();
    assert_eq!(shown.len() as u64, counts["medium"]);
    assert!(
        shown.iter().all(|severity| severity == "medium"),
        "{shown:?}"
    );
    assert_eq!(
        seen["shown_text"],
        format!(
            "Showing {0} of {0} findings ({total} in all)",
            counts["medium"]
        )
    );
    let accounts: Vec<String> = serde_json::from_value(seen["accounts"].clone()).unwrap();
    let mut sorted = accounts.clone();
    sorted.sort();
    assert_eq!(accounts, sorted, "sorting by account orders the rows");

    let text = seen["text"].as_str().unwrap();
    for name in [MARKUP, SCRIPT, FORMULA] {
        assert!(text.contains(name), "{name} is shown as text: {text}");
    }
    assert!(
        text.contains("altcontacts apply --account 333333333333"),
        "each finding names its remediation: {text}"
    );
    assert_eq!(seen["images"], 0, "no markup from AWS became an element");
    assert_eq!(
        seen["dialogs"],
        serde_json::json!([]),
        "no script from AWS ran"
    );
    assert_eq!(
        seen["console"],
        serde_json::json!([]),
        "the console is quiet"
    );
    let page = format!(
        "file://{}",
        std::fs::canonicalize(workspace.path("report.html"))
            .unwrap()
            .display()
    );
    assert_eq!(
        seen["requests"],
        serde_json::json!([page]),
        "the report fetches nothing but itself"
    );
    assert_ne!(
        seen["colors"]["dark"], seen["colors"]["light"],
        "dark mode has its own colors"
    );
    assert_eq!(
        seen["printed_rows"], counts["medium"],
        "a printout holds the findings the filter keeps"
    );
    assert_eq!(
        seen["filters_printed"], "none",
        "print leaves out the filters"
    );
}

#[test]
fn the_csv_round_trips_through_python_with_the_json_s_findings() {
    let workspace = hostile_org();
    let json = audit(&workspace);
    let read = Command::new("python3")
        .arg("-c")
        .arg(
            "import csv, json, sys\n\
             with open(sys.argv[1], newline='') as f:\n\
             \x20   rows = list(csv.reader(f, strict=True))\n\
             print(json.dumps(rows))",
        )
        .arg(workspace.path("report.csv"))
        .output()
        .expect("python3");
    assert!(read.status.success(), "{}", stderr(&read));
    let rows: Vec<Vec<String>> = serde_json::from_str(&stdout(&read)).unwrap();
    assert_eq!(
        rows[0],
        [
            "severity",
            "check",
            "title",
            "account_id",
            "account_name",
            "accounts",
            "address",
            "contact",
            "message",
            "controls",
            "location",
            "remediation",
            "muted_until",
            "muted_reason",
            "muted_location"
        ],
        "the columns docs/audit.md lists, in its order"
    );
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(rows.len() - 1, findings.len(), "one row per finding");
    let names: BTreeMap<&str, &str> = json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["account_id"].as_str().unwrap(),
                row["account_name"].as_str().unwrap_or(""),
            )
        })
        .collect();
    for (row, finding) in rows[1..].iter().zip(findings) {
        assert_eq!(row.len(), 15, "{row:?}");
        assert_eq!(row[0], finding["severity"].as_str().unwrap());
        assert_eq!(row[1], finding["check"].as_str().unwrap());
        let account = finding["account_id"].as_str().unwrap_or("");
        assert_eq!(row[3], account);
        let name = names.get(account).copied().unwrap_or("");
        match name.starts_with('=') {
            // What a spreadsheet would run is kept, behind a quote.
            true => assert_eq!(row[4], format!("'{name}")),
            false => assert_eq!(row[4], name),
        }
        assert_eq!(row[8], finding["message"].as_str().unwrap());
        let controls = finding["controls"].as_array().unwrap().len();
        assert_eq!(
            row[9].split("; ").filter(|c| !c.is_empty()).count(),
            controls,
            "{row:?}"
        );
        assert!(row[10].starts_with("contacts.yaml:"), "{row:?}");
    }
    assert!(
        rows.iter().any(|row| row[4] == format!("'{FORMULA}")),
        "the formula name is in the CSV, neutralised"
    );
    let raw = workspace.read("report.csv");
    assert!(
        raw.lines().count() == rows.len() && raw.split("\r\n").count() == rows.len() + 1,
        "every record ends with CRLF"
    );
}

#[test]
fn an_output_whose_format_cannot_be_told_is_refused_before_aws_is_asked() {
    let workspace = Workspace::org();
    for (args, said) in [
        (
            vec![
                "audit",
                "-o",
                "report.html",
                "-o",
                "report.csv",
                "--format",
                "html",
            ],
            "--format names the format of one --output",
        ),
        (
            vec!["audit", "-o", "report.json", "-o", "report.xlsx"],
            "cannot tell the format of report.xlsx from its name",
        ),
    ] {
        let output = workspace.sandbox(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(stderr(&output).contains(said), "{}", stderr(&output));
        assert!(stderr(&output).contains("help:"), "{}", stderr(&output));
        for name in ["report.html", "report.csv", "report.json", "report.xlsx"] {
            assert!(!workspace.exists(name), "{name} is not written");
        }
    }
    // One --output in a format its name does not say is what --format is for.
    let output = workspace
        .sandbox(&["audit", "--format", "html", "-o", "audit-report"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        workspace
            .read("audit-report")
            .starts_with("<!DOCTYPE html>")
    );
    let output = workspace
        .sandbox(&["audit", "--format", "csv"])
        .output()
        .unwrap();
    assert!(stdout(&output).starts_with("severity,check,title,"));
}

/// What `report_layout.cjs` measured at one width.
#[derive(serde::Deserialize, Debug)]
struct Layout {
    name: String,
    width: u32,
    screenshot: PathBuf,
    page: Widths,
    cards: usize,
    cells: usize,
    rows: usize,
    tallest_row: f64,
    account_rows: usize,
    deliverability: String,
    overflowing: Vec<serde_json::Value>,
}

#[derive(serde::Deserialize, Debug)]
struct Widths {
    scroll_width: u32,
    client_width: u32,
}

/// The width a PNG says it is (its IHDR chunk).
fn png_width(path: &Path) -> u32 {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[1..4], b"PNG", "{} is a PNG", path.display());
    u32::from_be_bytes(bytes[16..20].try_into().unwrap())
}

#[test]
fn the_html_report_fits_a_laptop_a_large_screen_and_a_phone_with_nothing_wider_than_its_box() {
    // The quick start, with an account name no line break can split: the
    // widest value a real organization shows.
    let (workspace, _) = Workspace::example();
    workspace.run(&["plan"]).success();
    let long_name = "Payments-Production-Europe-West-Cardholder-Data-Environment-PCI";
    let sandbox =
        workspace
            .read("sandbox.yaml")
            .replacen("name: Payments", &format!("name: {long_name}"), 1);
    assert!(
        sandbox.contains(long_name),
        "the demo names a Payments account"
    );
    workspace.write("sandbox.yaml", &sandbox);
    let output = workspace
        .sandbox(&["audit", "-o", "report.html", "--output", "report.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&workspace.read("report.json")).unwrap();
    let findings = json["findings"].as_array().unwrap().len();
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check"] == "contacts_unprotected"),
        "the fixture has the guardrail's long command"
    );

    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("audit-report-screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let measured = crate::bench_harness::in_browser(
        &playwright(),
        "report_layout.cjs",
        &[
            workspace.path("report.html").as_os_str(),
            screenshots.as_os_str(),
        ],
    );
    let layouts: Vec<Layout> = serde_json::from_value(measured).unwrap();
    assert_eq!(
        layouts.iter().map(|l| l.width).collect::<Vec<_>>(),
        [1280, 1920, 390]
    );
    for layout in &layouts {
        let at = format!(
            "at {} px ({}; screenshot {})",
            layout.width,
            layout.name,
            layout.screenshot.display()
        );
        assert!(
            layout.page.scroll_width <= layout.page.client_width,
            "the page scrolls sideways {at}: {:?}",
            layout.page
        );
        assert!(
            layout.overflowing.is_empty(),
            "boxes whose content is wider than they are {at}: {:#?}",
            layout.overflowing
        );
        assert_eq!(layout.cards, 4, "{at}");
        assert_eq!(layout.rows, findings, "every finding is a row {at}");
        assert!(layout.cells > findings * 6, "the cells were measured {at}");
        assert_eq!(layout.account_rows, 6, "a row per account {at}");
        assert!(
            layout
                .deliverability
                .contains("Not checked: on the sandbox, whose addresses are make-believe, neither DNS nor reserved domains are checked")
                && !layout.deliverability.contains("did not answer"),
            "the sandbox's report says DNS was not asked {at}: {}",
            layout.deliverability
        );
        if layout.name != "phone" {
            assert!(
                layout.tallest_row <= 300.0,
                "a row of findings is {} px tall {at}: a command wraps too narrow",
                layout.tallest_row
            );
        }
        assert_eq!(
            png_width(&layout.screenshot),
            layout.width,
            "the screenshot is kept {at}"
        );
    }
}
