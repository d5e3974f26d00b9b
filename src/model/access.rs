//! How a run reached each account's contacts: through the member role in
//! the account (its own credentials, its own quotas), or through the
//! caller, naming the account (the central path, at the caller's quotas).

use serde::Serialize;

use super::AccountId;

/// The member role's use in a run, said once in every output.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct MemberRoleUse {
    /// The role's name, the same in every member account.
    pub role: String,
    /// Accounts reached through the role.
    pub assumed: usize,
    /// Accounts reached through the caller instead, each with why.
    pub central: Vec<CentralAccount>,
    /// Set when every AssumeRole was refused and the run stopped trying:
    /// why, and then every account went through the caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abandoned: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CentralAccount {
    pub account: AccountId,
    pub reason: String,
}

impl MemberRoleUse {
    /// One line for a person: how many accounts went which way, and which
    /// went through the caller.
    pub fn summary(&self) -> String {
        if let Some(reason) = &self.abandoned {
            return format!(
                "member role {}: not used, every account went through the caller ({reason})",
                self.role
            );
        }
        let mut line = format!(
            "member role {}: {} through it",
            self.role,
            super::count(self.assumed, "account")
        );
        if !self.central.is_empty() {
            let named: Vec<String> = self
                .central
                .iter()
                .map(|central| format!("{} ({})", central.account, central.reason))
                .collect();
            line.push_str(&format!(
                "; {} through the caller: {}",
                super::count(self.central.len(), "account"),
                named.join(", ")
            ));
        }
        line
    }
}
