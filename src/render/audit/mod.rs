//! The audit, in every format it is shown or filed in. One enum names the
//! formats and one file lays out each: a new format is a variant and a
//! file. The table (`table.rs`) is the rows the CSV and the HTML share.

mod csv;
mod html;
mod human;
mod json;
mod markdown;
pub mod ocsf;
pub mod sarif;
mod table;

use super::{Header, Paint, account_label};
use crate::audit::{AccountRow, Audit, Finding, Severity};
use crate::config::LoadedConfig;
use crate::findings::Origin;
use crate::findings::asff::Sent;
use crate::model::count;

/// How an audit is printed or filed (`audit --format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    Human,
    Json,
    Markdown,
    /// OCSF Detection Finding records (class 2004), a JSON array, as Prowler writes them
    Ocsf,
    /// SARIF 2.1.0, for GitHub code scanning and SARIF viewers
    Sarif,
    /// One self-contained HTML page: summary, and a table of findings to
    /// sort and filter, each with its remediation
    Html,
    /// One row per finding (RFC 4180), columns as docs/audit.md lists them
    Csv,
}

/// An audit with everything its formats may show beside the findings.
pub struct AuditView<'a> {
    pub audit: &'a Audit,
    pub header: &'a Header,
    /// The contacts file, when the audit had one: where each finding is
    /// decided.
    pub config: Option<&'a LoadedConfig>,
    pub origin: &'a Origin,
    /// With `--security-hub`: what was sent, and what became of it.
    pub security_hub: Option<&'a Sent>,
}

impl AuditFormat {
    /// The format a file's name asks for, if it says one.
    pub fn of_file(path: &std::path::Path) -> Option<Self> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let (_, extension) = name.rsplit_once('.')?;
        Some(match extension {
            "html" | "htm" => Self::Html,
            "csv" => Self::Csv,
            "sarif" => Self::Sarif,
            "json" if name.ends_with(".ocsf.json") => Self::Ocsf,
            "json" => Self::Json,
            "md" | "markdown" => Self::Markdown,
            "txt" => Self::Human,
            _ => return None,
        })
    }

    /// Whether a person reads it as it is printed (warnings go beside it).
    pub fn is_for_people(self) -> bool {
        matches!(self, AuditFormat::Human | AuditFormat::Markdown)
    }

    /// The audit in this format; colors only where a person reads it.
    pub fn render(self, view: &AuditView, paint: Paint) -> String {
        match self {
            AuditFormat::Human => human::report(view, paint),
            AuditFormat::Json => json::report(view),
            AuditFormat::Markdown => markdown::report(view),
            AuditFormat::Ocsf => ocsf::records(view.audit, view.origin),
            AuditFormat::Sarif => sarif::log(view.audit, view.config, view.origin),
            AuditFormat::Html => html::report(view.audit, view.header, view.config),
            AuditFormat::Csv => csv::table(view.audit, view.config),
        }
    }
}

pub fn summary_line(audit: &Audit) -> String {
    // Muted findings are said, never counted among the findings.
    let muted = match audit.muted.len() {
        0 => String::new(),
        n => format!(" {} muted.", count(n, "finding")),
    };
    // With findings muted, passing says nothing of the contacts: what is
    // muted may be a missing SECURITY contact.
    match (audit.findings.is_empty(), audit.muted.len()) {
        (true, 0) => {
            return format!(
                "Audit passed: {} with distinct SECURITY, BILLING and OPERATIONS contacts.",
                count(audit.accounts.len(), "account")
            );
        }
        (true, muted) => {
            return format!(
                "Audit passed: no finding that counts across {}; {} muted.",
                count(audit.accounts.len(), "account"),
                count(muted, "finding")
            );
        }
        (false, _) => {}
    }
    let severity_count = |severity| {
        audit
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    };
    format!(
        "Audit: {} ({} high, {} medium, {} low) across {}.{muted}",
        count(audit.findings.len(), "finding"),
        severity_count(Severity::High),
        severity_count(Severity::Medium),
        severity_count(Severity::Low),
        count(audit.accounts.len(), "account")
    )
}

pub(super) fn label(row: &AccountRow) -> String {
    let label = account_label(&row.account_id, row.account_name.as_deref());
    match row.excluded {
        true => format!("{label} [excluded]"),
        false => label,
    }
}

pub(super) fn finding_subject(finding: &Finding, audit: &Audit) -> String {
    match &finding.account_id {
        Some(id) => audit
            .accounts
            .iter()
            .find(|row| &row.account_id == id)
            .map_or_else(|| id.to_string(), label),
        None => match (&finding.about.location, &finding.about.address) {
            (Some(location), _) => location.to_string(),
            (None, Some(address)) => address.clone(),
            (None, None) if !finding.about.accounts.is_empty() => {
                crate::model::count(finding.about.accounts.len(), "account")
            }
            (None, None) => "contacts".to_owned(),
        },
    }
}

/// Why and until when a finding is muted, in a line.
pub(super) fn muted_line(muted: &crate::audit::mute::Muted) -> String {
    format!(
        "muted until {} at {}: {}",
        muted.until, muted.location, muted.reason
    )
}

/// The controls a finding fails, for a person.
pub(super) fn controls(finding: &Finding) -> String {
    let labels: Vec<&str> = finding.controls.iter().map(|c| c.label()).collect();
    format!("fails: {}", labels.join(", "))
}
