//! `audit --format html`: one self-contained page a security team reads,
//! Prowler-like: a summary (findings by severity and by control, the
//! accounts covered, deliverability), then the findings in a table that
//! sorts and filters by severity, account and control, each with the
//! command that fixes it.
//!
//! The page fetches nothing: its style and script are inline, and its
//! Content-Security-Policy allows those two by their hashes and nothing
//! else, so even a value that slipped past escaping could run no script
//! and load nothing. The findings travel as JSON in a non-executable
//! script element and reach the table as text only.

use std::collections::BTreeMap;
use std::fmt::Write;

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::table::{Row, rows};
use crate::audit::{Audit, Check, DnsAsked, Severity};
use crate::config::LoadedConfig;
use crate::findings;
use crate::render::Header;

const STYLE: &str = include_str!("audit_report.css");
const SCRIPT: &str = include_str!("audit_report.js");

/// Text for HTML, in an element or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A CSP source for an inline element's exact text.
fn hash_source(text: &str) -> String {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

/// Strings said once, referred to by index: at 10,000 accounts the same
/// message and remediation recur for thousands of findings.
#[derive(Default)]
struct Strings {
    index: BTreeMap<String, usize>,
    list: Vec<String>,
}

impl Strings {
    /// The index of `text` as the page shows it: escaped as every view
    /// for a person escapes it, so a name cannot reorder its row.
    fn of(&mut self, text: &str) -> usize {
        let text = crate::printable::printable_lines(text);
        if let Some(&at) = self.index.get(&text) {
            return at;
        }
        self.list.push(text.clone());
        self.index.insert(text, self.list.len() - 1);
        self.list.len() - 1
    }
}

fn severity_index(severity: Severity) -> usize {
    match severity {
        Severity::High => 0,
        Severity::Medium => 1,
        Severity::Low => 2,
    }
}

/// The findings as the page's script reads them.
fn data(rows: &[Row], controls: &[&'static str]) -> String {
    let checks: Vec<Value> = Check::ALL
        .iter()
        .map(|check| json!({ "code": check.code(), "title": check.title() }))
        .collect();
    let check_index: BTreeMap<String, usize> = Check::ALL
        .iter()
        .enumerate()
        .map(|(n, check)| (check.code(), n))
        .collect();
    let mut strings = Strings::default();
    let findings: Vec<Value> = rows
        .iter()
        .map(|row| {
            let account = match row.account_id.is_empty() {
                true => row.accounts.join(" "),
                false => row.account_id.clone(),
            };
            let row_controls: Vec<usize> = row
                .controls
                .iter()
                .filter_map(|label| controls.iter().position(|c| c == label))
                .collect();
            json!([
                severity_index(row.severity),
                check_index.get(&row.check).copied().unwrap_or(0),
                strings.of(&account),
                strings.of(&row.account_name),
                strings.of(&row.message),
                row_controls,
                strings.of(&row.location),
                strings.of(&row.remediation),
                strings.of(&row.address),
                match &row.muted {
                    None => Value::Null,
                    Some(muted) => strings.of(&super::muted_line(muted)).into(),
                },
            ])
        })
        .collect();
    let text = json!({
        "checks": checks,
        "controls": controls,
        "strings": strings.list,
        "findings": findings,
    })
    .to_string();
    // Read as the text of a script element: no `</script>` may end it.
    text.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn card(out: &mut String, title: &str, id: &str, entries: &[(String, String, usize)]) {
    card_with_note(out, title, id, entries, None);
}

/// A card of counts, and a line under them when a count needs a word.
fn card_with_note(
    out: &mut String,
    title: &str,
    id: &str,
    entries: &[(String, String, usize)],
    note: Option<&str>,
) {
    let _ = write!(
        out,
        "<div class=\"card\" id=\"{id}\"><h2>{}</h2><dl>",
        escape(title)
    );
    for (key, label, value) in entries {
        let _ = write!(
            out,
            "<dt>{}</dt><dd data-count=\"{}\">{value}</dd>",
            escape(label),
            escape(key)
        );
    }
    out.push_str("</dl>");
    if let Some(note) = note {
        let _ = write!(out, "<p class=\"note\">{}.</p>", escape(note));
    }
    out.push_str("</div>");
}

fn count_of(audit: &Audit, checks: &[Check]) -> usize {
    audit
        .findings
        .iter()
        .filter(|finding| checks.contains(&finding.check))
        .count()
}

fn summary(audit: &Audit, controls: &[&'static str]) -> String {
    let mut out = String::from("<section id=\"summary\">");
    let by_severity: Vec<(String, String, usize)> = [
        (Severity::High, "High"),
        (Severity::Medium, "Medium"),
        (Severity::Low, "Low"),
    ]
    .into_iter()
    .map(|(severity, label)| {
        (
            super::table::severity_word(severity).to_owned(),
            label.to_owned(),
            audit
                .findings
                .iter()
                .filter(|f| f.severity == severity)
                .count(),
        )
    })
    .chain([("total".to_owned(), "All".to_owned(), audit.findings.len())])
    // Accepted by the file: said, never among the counts above.
    .chain((!audit.muted.is_empty()).then(|| {
        (
            "muted".to_owned(),
            "Muted (not counted)".to_owned(),
            audit.muted.len(),
        )
    }))
    .collect();
    card(
        &mut out,
        "Findings by severity",
        "by-severity",
        &by_severity,
    );
    let by_control: Vec<(String, String, usize)> = controls
        .iter()
        .map(|label| {
            let failing = audit
                .findings
                .iter()
                .filter(|f| f.controls.iter().any(|c| c.label() == *label))
                .count();
            ((*label).to_owned(), (*label).to_owned(), failing)
        })
        .collect();
    card(&mut out, "Findings by control", "by-control", &by_control);
    let with = |slot: fn(&crate::audit::AccountRow) -> bool| {
        audit.accounts.iter().filter(|row| slot(row)).count()
    };
    card(
        &mut out,
        "Accounts covered",
        "accounts",
        &[
            (
                "accounts".into(),
                "Accounts audited".into(),
                audit.accounts.len(),
            ),
            (
                "security".into(),
                "With a SECURITY contact".into(),
                with(|r| r.security),
            ),
            (
                "billing".into(),
                "With a BILLING contact".into(),
                with(|r| r.billing),
            ),
            (
                "operations".into(),
                "With an OPERATIONS contact".into(),
                with(|r| r.operations),
            ),
        ],
    );
    // Each count only where its question was put: DNS's when DNS was
    // asked, the reserved names' off the sandbox.
    let mut deliverability = Vec::new();
    if audit.dns != DnsAsked::Sandbox {
        deliverability.push((
            "reserved_domain".into(),
            "On a reserved domain".into(),
            count_of(audit, &[Check::ReservedDomain]),
        ));
    }
    deliverability.push((
        "domain_not_allowed".into(),
        "Outside the allowed domains".into(),
        count_of(
            audit,
            &[Check::DomainNotAllowed, Check::RootEmailNotAllowed],
        ),
    ));
    if audit.dns == DnsAsked::Asked {
        deliverability.extend([
            (
                "undeliverable_domain".into(),
                "Domain accepts no mail".into(),
                count_of(audit, &[Check::UndeliverableDomain]),
            ),
            (
                "unchecked".into(),
                "DNS did not answer".into(),
                count_of(audit, &[Check::DomainUnchecked, Check::DnsUnreachable]),
            ),
        ]);
    }
    card_with_note(
        &mut out,
        "Deliverability",
        "deliverability",
        &deliverability,
        audit
            .dns
            .not_asked_because()
            .map(|why| format!("Not checked: {why}"))
            .as_deref(),
    );
    out.push_str("</section>");
    out
}

/// Above this many accounts the table of contacts is folded: the findings
/// are what a reader of a large organization comes for.
const OPEN_ACCOUNTS_AT_MOST: usize = 50;

/// Which contacts each account has, as the Markdown report shows them.
fn accounts_table(audit: &Audit) -> String {
    let mut out = String::from("<section id=\"per-account\"><h2>Contacts per account</h2>");
    let _ = write!(
        out,
        "<details{}><summary>{}</summary><div class=\"table-box\">\
         <table id=\"accounts-table\"><thead><tr><th>Account</th><th>SECURITY</th>\
         <th>BILLING</th><th>OPERATIONS</th></tr></thead><tbody>",
        if audit.accounts.len() <= OPEN_ACCOUNTS_AT_MOST {
            " open"
        } else {
            ""
        },
        escape(&crate::model::count(audit.accounts.len(), "account")),
    );
    let mark = |set: bool| match set {
        true => "<td class=\"set\">yes</td>",
        false => "<td class=\"unset\">NO</td>",
    };
    for row in &audit.accounts {
        let name = row
            .account_name
            .as_deref()
            .map_or_else(String::new, |name| {
                format!(
                    "<span class=\"name\">{}</span>",
                    escape(&crate::printable::printable(name))
                )
            });
        let excluded = match row.excluded {
            true => "<span class=\"badge excluded\">excluded</span>",
            false => "",
        };
        let _ = write!(
            out,
            "<tr><td class=\"account\"><span class=\"id\">{}</span>{name}{excluded}</td>{}{}{}</tr>",
            escape(row.account_id.as_str()),
            mark(row.security),
            mark(row.billing),
            mark(row.operations),
        );
    }
    out.push_str("</tbody></table></div></details></section>");
    out
}

/// The page.
pub fn report(audit: &Audit, header: &Header, config: Option<&LoadedConfig>) -> String {
    let rows = rows(audit, config);
    // Every control a finding fails, in the order the audit knows them.
    let mut controls: Vec<&'static str> = Vec::new();
    let muted = audit.muted.iter().map(|muted| &muted.finding);
    for finding in audit.findings.iter().chain(muted) {
        for control in &finding.controls {
            if !controls.contains(&control.label()) {
                controls.push(control.label());
            }
        }
    }
    controls.sort_unstable();
    let policy = format!(
        "default-src 'none'; style-src {}; script-src {}; img-src 'none'; base-uri 'none'; form-action 'none'",
        hash_source(STYLE),
        hash_source(SCRIPT)
    );
    let verdict = super::summary_line(audit);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"generator\" content=\"altcontacts {}\">\
         <title>altcontacts audit: {}</title><style>{STYLE}</style></head><body>\
         <header><h1>altcontacts audit</h1><p class=\"target\">{} &middot; {}</p>\
         <p class=\"verdict{}\" id=\"verdict\">{}</p></header>",
        escape(crate::cli::VERSION),
        escape(&header.target),
        escape(&header.target),
        crate::model::time::today(),
        if audit.findings.is_empty() {
            " pass"
        } else {
            ""
        },
        escape(&verdict),
    );
    out.push_str(&summary(audit, &controls));
    out.push_str(
        "<section id=\"findings\"><h2>Findings</h2><div class=\"filters\">\
         <label>Severity<select id=\"filter-severity\"><option value=\"\">All</option>\
         <option value=\"high\">High</option><option value=\"medium\">Medium</option>\
         <option value=\"low\">Low</option><option value=\"muted\">Muted</option></select></label>\
         <label>Control<select id=\"filter-control\"><option value=\"\">All</option>",
    );
    for (n, label) in controls.iter().enumerate() {
        let _ = write!(out, "<option value=\"{n}\">{}</option>", escape(label));
    }
    // Where the file decides a finding: a column only when some finding
    // has a place in a file (an audit with --org has none).
    let (where_col, where_head) = match rows.iter().any(|row| !row.location.is_empty()) {
        true => (
            "<col class=\"c-location\">",
            "<th class=\"where\">Where</th>",
        ),
        false => ("", ""),
    };
    let _ = write!(
        out,
        "</select></label><label>Account<input id=\"filter-account\" type=\"search\" \
         placeholder=\"ID, name or address\"></label>\
         <span class=\"muted\" id=\"shown\" aria-live=\"polite\"></span></div>\
         <table id=\"findings-table\"><colgroup><col class=\"c-severity\">\
         <col class=\"c-account\"><col class=\"c-check\"><col class=\"c-message\">\
         <col class=\"c-controls\">{where_col}<col class=\"c-remediation\">\
         </colgroup><thead><tr>\
         <th data-sort=\"severity\" tabindex=\"0\">Severity</th>\
         <th data-sort=\"account\" tabindex=\"0\">Account</th>\
         <th data-sort=\"check\" tabindex=\"0\">Check</th><th>Finding</th>\
         <th data-sort=\"control\" tabindex=\"0\">Controls</th>{where_head}\
         <th>Remediation</th></tr></thead><tbody></tbody></table>\
         <button id=\"more\" type=\"button\" hidden>Show more</button>\
         <p class=\"noscript muted\">The table needs JavaScript; the same findings are in \
         <code>audit --format csv</code>.</p></section>",
    );
    out.push_str(&accounts_table(audit));
    let _ = writeln!(
        out,
        "{}<script type=\"application/json\" id=\"audit-data\">{}</script>\
         <script>{SCRIPT}</script></body></html>",
        // No page, no link: a link must lead to documentation that exists.
        findings::checks_page().map_or_else(String::new, |page| format!(
            "<footer class=\"muted\"><p>Each check and its fix: <a href=\"{0}\">{0}</a></p></footer>",
            escape(&page)
        )),
        data(&rows, &controls)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_value_is_text() {
        assert_eq!(
            escape("<img src=x onerror=alert(1)> & \"'"),
            "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;&#39;"
        );
    }

    #[test]
    fn the_embedded_findings_cannot_close_their_script_element() {
        let row = Row {
            severity: Severity::High,
            check: "missing_security".into(),
            title: "t",
            account_id: "123456789012".into(),
            account_name: "</script><script>alert(1)</script>".into(),
            accounts: Vec::new(),
            address: String::new(),
            contact: String::new(),
            message: "Ops\u{202e}gnp.exe\u{2028}".into(),
            controls: Vec::new(),
            location: String::new(),
            remediation: String::new(),
            muted: None,
        };
        let text = data(&[row], &[]);
        assert!(!text.contains('<'), "{text}");
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert!(
            parsed["strings"]
                .as_array()
                .unwrap()
                .contains(&json!("</script><script>alert(1)</script>"))
        );
        assert!(
            parsed["strings"]
                .as_array()
                .unwrap()
                .contains(&json!("Ops\\u{202e}gnp.exe\\u{2028}")),
            "reordering and line-breaking characters are shown escaped: {text}"
        );
        assert!(!text.contains(['\u{202e}', '\u{2028}']), "{text}");
    }
}
