//! The report artifacts GitLab reads from a job: the Terraform report the
//! merge request widget shows (`artifacts:reports:terraform`), and the
//! Code Quality report that puts each problem of the file on its line
//! (`artifacts:reports:codequality`, CodeClimate's JSON).

use serde_json::{Value, json};

use crate::config::FileProblems;
use crate::gitops::on_lines::{self, OnLine};
use crate::model::Warning;
use crate::plan::Summary;

/// The file names, inside the job's artifacts folder, that the component's
/// `artifacts:reports` name.
pub const TERRAFORM: &str = "plan.json";
pub const CODE_QUALITY: &str = "codequality.json";

/// `{"create": N, "update": N, "delete": N}`: what the widget shows, and
/// nothing else (no contact data). A subscription is a resource Terraform
/// would create (an association), so it counts among the creates.
pub fn terraform(summary: &Summary) -> String {
    json!({
        "create": summary.create + summary.subscribe,
        "update": summary.update,
        "delete": summary.delete,
    })
    .to_string()
}

/// One Code Quality entry: `major` for a problem, `minor` for a warning.
fn entry(on_line: &OnLine) -> Value {
    json!({
        "description": on_line.message,
        "check_name": on_line.check,
        "fingerprint": on_line.fingerprint,
        "severity": if on_line.invalid { "major" } else { "minor" },
        "location": { "path": on_line.path, "lines": { "begin": on_line.line } },
    })
}

/// Every problem of an invalid contacts file.
pub fn code_quality_of_problems(problems: &FileProblems) -> String {
    Value::Array(on_lines::problems(problems).iter().map(entry).collect()).to_string()
}

/// The file's warnings; none is an empty report, so GitLab shows the
/// problems of an earlier pipeline as resolved.
pub fn code_quality_of_warnings(warnings: &[Warning]) -> String {
    Value::Array(on_lines::warnings(warnings).iter().map(entry).collect()).to_string()
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
            subscribe: 1,
            unchanged: 9,
        };
        assert_eq!(terraform(&summary), r#"{"create":4,"delete":1,"update":2}"#);
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
