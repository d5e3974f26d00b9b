//! The report artifacts GitLab reads from a job: the Terraform report the
//! merge request widget shows (`artifacts:reports:terraform`), and the
//! Code Quality report that puts each problem of the file on its line
//! (`artifacts:reports:codequality`, CodeClimate's JSON).

use std::path::Path;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::FileProblems;
use crate::git::Repository;
use crate::model::Warning;
use crate::plan::Summary;

/// The file names, inside the job's artifacts folder, that the component's
/// `artifacts:reports` name.
pub const TERRAFORM: &str = "plan.json";
pub const CODE_QUALITY: &str = "codequality.json";

/// `{"create": N, "update": N, "delete": N}`: what the widget shows, and
/// nothing else (no contact data).
pub fn terraform(summary: &Summary) -> String {
    json!({
        "create": summary.create,
        "update": summary.update,
        "delete": summary.delete,
    })
    .to_string()
}

/// The file as the merge request's diff names it: from the repository's top.
fn repository_path(file: &str) -> String {
    let path = Path::new(file);
    Repository::of(path)
        .path_in_repository(path)
        .unwrap_or_else(|_| file.to_owned())
}

/// One Code Quality entry. Its fingerprint is stable while the problem
/// lasts (the file, the check and the message, not the line, which moves
/// as the file is edited), so GitLab tells new problems from old ones.
fn entry(path: &str, check: &str, severity: &str, message: &str, line: usize) -> Value {
    let digest = Sha256::digest(format!("{path}\0{check}\0{message}").as_bytes());
    let fingerprint: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    json!({
        "description": message,
        "check_name": check,
        "fingerprint": fingerprint,
        "severity": severity,
        "location": { "path": path, "lines": { "begin": line } },
    })
}

/// Every problem of an invalid contacts file, `major` each.
pub fn code_quality_of_problems(problems: &FileProblems) -> String {
    let path = repository_path(&problems.file);
    let entries: Vec<Value> = problems
        .problems
        .iter()
        .map(|problem| {
            let message = match &problem.help {
                Some(help) => format!("{} (help: {help})", problem.message),
                None => problem.message.clone(),
            };
            entry(
                &path,
                "altcontacts.invalid_file",
                "major",
                &message,
                problem.line,
            )
        })
        .collect();
    Value::Array(entries).to_string()
}

/// The file's warnings, `minor` each; none is an empty report, so GitLab
/// shows the problems of an earlier pipeline as resolved.
pub fn code_quality_of_warnings(warnings: &[Warning]) -> String {
    let entries: Vec<Value> = warnings
        .iter()
        .map(|warning| {
            let message = format!("{} (help: {})", warning.kind.message(), warning.kind.help());
            entry(
                &repository_path(&warning.file),
                &format!("altcontacts.{}", warning.kind.code()),
                "minor",
                &message,
                warning.line,
            )
        })
        .collect();
    Value::Array(entries).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terraform_report_holds_the_counts_and_nothing_else() {
        let summary = Summary {
            create: 3,
            update: 2,
            delete: 1,
            unchanged: 9,
        };
        assert_eq!(terraform(&summary), r#"{"create":3,"delete":1,"update":2}"#);
    }

    #[test]
    fn a_problem_keeps_its_fingerprint_when_its_line_moves() {
        let problems = |line| FileProblems {
            file: "no-such-dir/contacts.yaml".to_owned(),
            problems: vec![crate::config::Problem {
                line,
                column: 3,
                path: None,
                message: "unknown contact `secc`".to_owned(),
                help: Some("did you mean `sec`?".to_owned()),
                source_line: None,
            }],
        };
        let first: Value = serde_json::from_str(&code_quality_of_problems(&problems(6))).unwrap();
        let moved: Value = serde_json::from_str(&code_quality_of_problems(&problems(9))).unwrap();
        assert_eq!(first[0]["fingerprint"], moved[0]["fingerprint"]);
        assert_eq!(first[0]["location"]["lines"]["begin"], 6);
        assert_eq!(first[0]["severity"], "major");
        assert_eq!(
            first[0]["description"],
            "unknown contact `secc` (help: did you mean `sec`?)"
        );
    }
}
