//! The outcome of an apply, in every format it is shown in: one line per
//! change then the summary line for a person, a versioned report for a
//! program, and Markdown for the forge's comment.

use std::fmt::Write;

use owo_colors::Style;
use serde::Serialize;

use super::markdown::cell;
use super::{Header, Paint, printable};
use crate::apply::{Outcome, Report};
use crate::backend::error::{Located, distinct_help};
use crate::model::{AccountId, ContactType};
use crate::plan::Change;

/// How the outcome of an apply is printed on stdout (`apply --format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ApplyFormat {
    Human,
    /// Every change with its outcome, as versioned JSON on stdout
    Json,
}

impl ApplyFormat {
    pub fn render(self, report: &Report, header: &Header, paint: Paint) -> String {
        match self {
            // The member role's line first: the outcome stays the last line.
            ApplyFormat::Human => match &header.member_role {
                Some(member_role) => {
                    format!("{}\n{}", member_role.summary(), apply_report(report, paint))
                }
                None => apply_report(report, paint),
            },
            ApplyFormat::Json => apply_json(report, header),
        }
    }
}

/// The version of `apply --format json`; a breaking change bumps it.
pub const APPLY_FORMAT_VERSION: u32 = 1;

#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "ApplyReport")]
struct JsonReport<'a> {
    #[schemars(extend("const" = APPLY_FORMAT_VERSION))]
    format_version: u32,
    target: &'a str,
    caller_account: &'a AccountId,
    /// Whether every change was written and read back.
    succeeded: bool,
    /// Whether the run was stopped (Ctrl-C, SIGTERM, expired credentials)
    /// before every change was sent.
    interrupted: bool,
    summary: JsonCounts,
    results: Vec<JsonResult<'a>>,
    /// With `--member-role`: the accounts reached through it, and those
    /// reached through the caller instead, with why.
    #[serde(skip_serializing_if = "Option::is_none")]
    member_role: Option<&'a crate::model::MemberRoleUse>,
}

#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "ApplyCounts")]
struct JsonCounts {
    changes: usize,
    created: usize,
    updated: usize,
    deleted: usize,
    /// Contacts subscribed again to AWS Health topics.
    subscribed: usize,
    failed: usize,
    in_flight: usize,
    not_started: usize,
}

#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "ApplyResult")]
struct JsonResult<'a> {
    /// The change as `plan --format json` shows it.
    #[serde(flatten)]
    change: &'a Change,
    /// `applied`, `failed`, `in_flight` (sent, its outcome unknown: the next
    /// apply reads it again) or `not_started`.
    #[schemars(extend("enum" = ["applied", "failed", "in_flight", "not_started"]))]
    outcome: &'static str,
    reason: Option<&'a str>,
    error: Option<JsonError>,
}

#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "ApplyError")]
struct JsonError {
    /// The AWS operation that failed, as IAM names it.
    operation: String,
    account_id: Option<AccountId>,
    contact_type: Option<ContactType>,
    /// Stable: `access_denied`, `throttled`, `invalid`, `credentials_expired`, ...
    code: String,
    message: String,
    help: Option<String>,
}

impl JsonError {
    fn from(located: &Located) -> Self {
        Self {
            operation: located.operation.to_string(),
            account_id: located.account.clone(),
            contact_type: located.slot,
            code: located.error.code().to_owned(),
            message: located.error.to_string(),
            help: located.help(),
        }
    }
}

/// The JSON Schema of `apply --format json`, as committed in `schema/`.
pub fn apply_schema() -> String {
    super::schema_of::<JsonReport>("altcontacts apply --format json")
}

/// The outcome as versioned JSON: every change, with what became of it.
pub fn apply_json(report: &Report, header: &Header) -> String {
    let counts = report.counts();
    let json = JsonReport {
        format_version: APPLY_FORMAT_VERSION,
        target: &header.target,
        caller_account: &header.caller,
        member_role: header.member_role.as_ref(),
        succeeded: report.succeeded(),
        interrupted: report.interrupted,
        summary: JsonCounts {
            changes: report.results.len(),
            created: counts.created,
            updated: counts.updated,
            deleted: counts.deleted,
            subscribed: counts.subscribed,
            failed: counts.failed,
            in_flight: counts.in_flight,
            not_started: counts.not_started,
        },
        results: report
            .results
            .iter()
            .map(|result| {
                let (outcome, reason, error) = match &result.outcome {
                    Outcome::Applied => ("applied", None, None),
                    Outcome::Failed { reason, cause } => (
                        "failed",
                        Some(reason.as_str()),
                        cause.as_ref().map(JsonError::from),
                    ),
                    Outcome::InFlight => ("in_flight", None, None),
                    Outcome::NotStarted => ("not_started", None, None),
                };
                JsonResult {
                    change: &result.change,
                    outcome,
                    reason,
                    error,
                }
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&json).expect("plain data serializes");
    text.push('\n');
    text
}

/// The apply's outcome line: `Apply complete: ...` or `Apply interrupted: ...`.
pub fn summary_line(report: &Report) -> String {
    let counts = report.counts();
    // Said only when there are some, as the plan's line does.
    let subscribed = match counts.subscribed {
        0 => String::new(),
        n => format!(" {n} subscribed,"),
    };
    if report.interrupted {
        let in_flight = match counts.in_flight {
            0 => String::new(),
            n => format!(" {n} in flight (outcome unknown: the next apply reads them again),"),
        };
        format!(
            "Apply interrupted: {} created, {} updated, {} deleted,{subscribed} {} failed,{in_flight} {} not started.",
            counts.created, counts.updated, counts.deleted, counts.failed, counts.not_started
        )
    } else {
        format!(
            "Apply complete: {} created, {} updated, {} deleted,{subscribed} {} failed.",
            counts.created, counts.updated, counts.deleted, counts.failed
        )
    }
}

/// The outcome as Markdown within `max_bytes`, for a job summary: the
/// summary line, then what did not succeed, then what did.
pub fn apply_markdown(report: &Report, max_bytes: usize) -> String {
    let mut head = String::new();
    let _ = writeln!(
        head,
        "### altcontacts apply\n\n**{}**\n",
        summary_line(report)
    );
    let rank = |outcome: &Outcome| match outcome {
        Outcome::Failed { .. } => 0,
        Outcome::InFlight => 1,
        Outcome::NotStarted => 2,
        Outcome::Applied => 3,
    };
    let mut results: Vec<_> = report.results.iter().collect();
    results.sort_by_key(|result| rank(&result.outcome));
    let rows: Vec<String> = results
        .iter()
        .map(|result| {
            let kind = result.change.action.kind();
            let outcome = match &result.outcome {
                Outcome::Applied => format!("✅ {}", kind.past_tense()),
                Outcome::Failed { reason, .. } => {
                    format!("❌ {} failed: {}", kind.name(), cell(reason))
                }
                Outcome::NotStarted => format!("⏸️ {} not started", kind.name()),
                Outcome::InFlight => format!("❔ {} in flight when the run stopped", kind.name()),
            };
            format!(
                "| {outcome} | {} | {} |\n",
                cell(&result.change.account_label()),
                result.change.what()
            )
        })
        .collect();
    const TABLE: &str = "| Outcome | Account | Contact |\n|---|---|---|\n";
    let note = |left: usize| format!("\n{left} more outcomes are in the log of this run.\n");
    let mut out = head;
    if rows.is_empty() {
        return out;
    }
    out.push_str(TABLE);
    let room = max_bytes.saturating_sub(out.len() + note(rows.len()).len());
    let mut used = 0;
    let mut shown = 0;
    for row in &rows {
        if used + row.len() > room {
            break;
        }
        used += row.len();
        shown += 1;
    }
    for row in &rows[..shown] {
        out.push_str(row);
    }
    if shown < rows.len() {
        out.push_str(&note(rows.len() - shown));
    }
    out
}

pub fn apply_report(report: &Report, paint: Paint) -> String {
    let mut out = String::new();
    for result in &report.results {
        let what = result.change.what();
        let label = printable(&result.change.account_label());
        let kind = result.change.action.kind();
        let _ = match &result.outcome {
            Outcome::Applied => writeln!(
                out,
                "{} {} {label} {}",
                paint.paint("✓", Style::new().green()),
                kind.past_tense(),
                what
            ),
            Outcome::Failed { reason, .. } => writeln!(
                out,
                "{} {label} {}: {}",
                paint.paint(
                    &format!("✗ {} failed", kind.name()),
                    Style::new().red().bold()
                ),
                what,
                printable(reason)
            ),
            Outcome::NotStarted => writeln!(
                out,
                "{} {label} {} (not started)",
                paint.paint("·", Style::new().dimmed()),
                what
            ),
            Outcome::InFlight => writeln!(
                out,
                "{} {label} {} (in flight when the run was stopped: it may or may not have been written)",
                paint.paint("?", Style::new().yellow().bold()),
                what
            ),
        };
    }
    let causes = report
        .results
        .iter()
        .filter_map(|result| match &result.outcome {
            Outcome::Failed { cause, .. } => cause.as_ref(),
            _ => None,
        });
    for help in distinct_help(causes) {
        let _ = writeln!(out, "{}", crate::hint::line(&help));
    }
    let line = summary_line(report);
    let style = if report.succeeded() {
        Style::new().green().bold()
    } else {
        Style::new().red().bold()
    };
    let _ = writeln!(out, "\n{}", paint.paint(&line, style));
    out
}
