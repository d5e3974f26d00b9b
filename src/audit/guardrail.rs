//! The audit's findings of the service control policies: which member
//! accounts anyone with admin rights in them could repoint.

use super::{About, Check, Control, Finding, Severity};
use crate::backend::error::{Located, OrgOperation};
use crate::guardrail::coverage::Coverage;

/// A finding per member account no policy protects, or the one finding
/// that says the policies could not be read.
pub fn findings(checked: Result<Coverage, Located>) -> Vec<Finding> {
    let controls = vec![Control::Nist80053R5Cm5];
    let coverage = match checked {
        Ok(coverage) => coverage,
        Err(located) => {
            return vec![Finding {
                severity: Severity::Low,
                check: Check::GuardrailUnchecked,
                account_id: None,
                message: format!(
                    "the service control policies could not be read ({}), so whether anyone but the pipeline can change contacts was not checked: grant organizations:{}",
                    located.summary(),
                    OrgOperation::POLICIES
                        .map(OrgOperation::name)
                        .join(", organizations:")
                ),
                controls,
                about: About::default(),
            }];
        }
    };
    coverage
        .gaps
        .into_iter()
        .map(|gap| {
            let what = match gap.denied.as_slice() {
                [] => "no service control policy on it, its units or the root denies changing its contacts".to_owned(),
                denied => format!(
                    "the service control policies above it deny only {}, not {}",
                    denied.join(" and "),
                    gap.open.join(" and ")
                ),
            };
            let doubts = match gap.doubts.as_slice() {
                [] => String::new(),
                doubts => format!(" (not counted: {})", doubts.join("; ")),
            };
            Finding {
                severity: Severity::Medium,
                check: Check::ContactsUnprotected,
                account_id: Some(gap.account),
                message: format!(
                    "{what}{doubts}: anyone with admin rights in the account can point its SECURITY contact elsewhere. Attach the policy `altcontacts guardrail --allow-role ROLE_ARN` prints to the root or an OU above it"
                ),
                controls: controls.clone(),
                about: About::default(),
            }
        })
        .collect()
}
