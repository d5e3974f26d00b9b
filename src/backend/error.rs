//! How the AWS side (or the sandbox) fails, mapped to what it means for
//! altcontacts, with where it happened and what to do next. The IAM action
//! names and the trusted-access advice live here, beside the calls.

use std::fmt;

use crate::config::ConfigError;
use crate::model::{AccountId, ContactType};

pub const ENABLE_TRUSTED_ACCESS: &str =
    "aws organizations enable-aws-service-access --service-principal account.amazonaws.com";

/// What to do when many member accounts deny access at once.
pub const SYSTEMIC_DENIAL_HELP: &str = "when every member account says AccessDenied, trusted access for AWS Account Management is usually off. \
From the management account, enable it with: aws organizations enable-aws-service-access --service-principal account.amazonaws.com \
(and check that the caller has account:GetAlternateContact)";

/// A sandbox file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot read the sandbox {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    #[error(
        "sandbox {file}: {message}{}",
        crate::hint::Hint(Some(
            "fix the sandbox file, or delete it to start again from the demo"
        ))
    )]
    Inconsistent { file: String, message: String },
    #[error("cannot write the sandbox {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// The hints of `errors`, each once, in first-seen order.
pub fn distinct_help<'a>(errors: impl IntoIterator<Item = &'a Located>) -> Vec<String> {
    let mut helps: Vec<String> = Vec::new();
    for help in errors.into_iter().filter_map(Located::help) {
        if !helps.contains(&help) {
            helps.push(help);
        }
    }
    helps
}

/// What the AWS side answered, mapped to what it means for us.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error("access denied ({0})")]
    AccessDenied(String),
    #[error("throttled by AWS ({0})")]
    Throttled(String),
    #[error("AWS internal error ({0})")]
    Server(String),
    /// `cannot reach ADDRESS: CAUSE`, or `connection failed: CAUSE`.
    #[error("{0}")]
    Transport(String),
    #[error("rejected by AWS ({0})")]
    Invalid(String),
    /// No credentials; `profile` is the one asked for, if any.
    #[error("no AWS credentials were found{}", .profile.as_ref().map_or_else(String::new, |profile| format!(" for profile `{profile}`")))]
    NoCredentials { profile: Option<String> },
    /// Credentials were configured but could not be had: where they were
    /// to come from (`profile `ci``, `web identity (token file …)`), and
    /// the SDK's own account of why not.
    #[error("AWS credentials could not be loaded from {provider}: {cause}")]
    CredentialsFailed { provider: String, cause: String },
    /// The session's credentials expired during the run.
    #[error("the AWS credentials expired during the run ({0})")]
    CredentialsExpired(String),
    #[error("the account is not a member of an organization ({0})")]
    NotInOrganization(String),
    /// The caller's partition has no Account API (or altcontacts does not
    /// know its quotas).
    #[error(
        "the credentials are in partition {0}, where the AWS Account Management API is not available"
    )]
    UnsupportedPartition(String),
    #[error("{code}: {message}")]
    Other { code: String, message: String },
    /// A write that was not sent because the run was interrupted first.
    #[error("not sent: the run was interrupted")]
    NotSent,
    /// A listing whose pages went in a circle or without end.
    #[error("{0}")]
    Endless(crate::pages::Endless),
}

impl BackendError {
    /// A stable name for the kind of failure, for JSON reports.
    pub fn code(&self) -> &str {
        match self {
            Self::AccessDenied(_) => "access_denied",
            Self::Throttled(_) => "throttled",
            Self::Server(_) => "server_error",
            Self::Transport(_) => "transport",
            Self::Invalid(_) => "invalid",
            Self::NoCredentials { .. } => "no_credentials",
            Self::CredentialsFailed { .. } => "credentials_failed",
            Self::CredentialsExpired(_) => "credentials_expired",
            Self::NotInOrganization(_) => "not_in_organization",
            Self::UnsupportedPartition(_) => "unsupported_partition",
            Self::Other { .. } => "other",
            Self::NotSent => "not_sent",
            Self::Endless(_) => "endless_listing",
        }
    }

    /// Throttling, server errors and transport failures may succeed on retry;
    /// a 400/403/404 never will.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Throttled(_) | Self::Server(_) | Self::Transport(_)
        )
    }
}

/// An AWS operation, named as in the API (and in IAM policies).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    GetCallerIdentity,
    GetAlternateContact,
    GetContactInformation,
    PutAlternateContact,
    PutContactInformation,
    DeleteAlternateContact,
    ListManagedNotificationChannelAssociations,
    AssociateManagedNotificationAccountContact,
    Organizations(OrgOperation),
    SecurityHub(HubOperation),
}

/// The Security Hub operations `audit --security-hub` calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HubOperation {
    DescribeHub,
    GetFindings,
    BatchImportFindings,
    BatchUpdateFindings,
}

impl HubOperation {
    pub const ALL: [Self; 4] = [
        Self::DescribeHub,
        Self::GetFindings,
        Self::BatchImportFindings,
        Self::BatchUpdateFindings,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::DescribeHub => "DescribeHub",
            Self::GetFindings => "GetFindings",
            Self::BatchImportFindings => "BatchImportFindings",
            Self::BatchUpdateFindings => "BatchUpdateFindings",
        }
    }
}

/// The Organizations operations altcontacts calls: discovery's, and the
/// audit's reads of service control policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrgOperation {
    DescribeOrganization,
    ListRoots,
    ListAccounts,
    ListAccountsForParent,
    ListOrganizationalUnitsForParent,
    DescribeAccount,
    ListParents,
    DescribeOrganizationalUnit,
    ListPolicies,
    ListTargetsForPolicy,
    DescribePolicy,
}

impl OrgOperation {
    /// The reads of the audit's guardrail check.
    pub const POLICIES: [Self; 3] = [
        Self::ListPolicies,
        Self::DescribePolicy,
        Self::ListTargetsForPolicy,
    ];

    /// Discovery's operations: the organization's, then one account's
    /// (an event's run).
    pub const ALL: [Self; 8] = [
        Self::DescribeOrganization,
        Self::ListRoots,
        Self::ListAccounts,
        Self::ListOrganizationalUnitsForParent,
        Self::ListAccountsForParent,
        Self::DescribeAccount,
        Self::ListParents,
        Self::DescribeOrganizationalUnit,
    ];

    /// As the API (and an IAM policy, after `organizations:`) names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::DescribeOrganization => "DescribeOrganization",
            Self::ListRoots => "ListRoots",
            Self::ListAccounts => "ListAccounts",
            Self::ListAccountsForParent => "ListAccountsForParent",
            Self::ListOrganizationalUnitsForParent => "ListOrganizationalUnitsForParent",
            Self::DescribeAccount => "DescribeAccount",
            Self::ListParents => "ListParents",
            Self::DescribeOrganizationalUnit => "DescribeOrganizationalUnit",
            Self::ListPolicies => "ListPolicies",
            Self::ListTargetsForPolicy => "ListTargetsForPolicy",
            Self::DescribePolicy => "DescribePolicy",
        }
    }
}

impl Operation {
    /// The operation that reads a slot of this kind.
    pub fn read(kind: ContactType) -> Self {
        match kind {
            ContactType::Primary => Self::GetContactInformation,
            _ => Self::GetAlternateContact,
        }
    }

    /// The operation that writes a slot of this kind.
    pub fn write(kind: ContactType) -> Self {
        match kind {
            ContactType::Primary => Self::PutContactInformation,
            _ => Self::PutAlternateContact,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::GetCallerIdentity => f.write_str("sts:GetCallerIdentity"),
            Self::GetAlternateContact => f.write_str("account:GetAlternateContact"),
            Self::GetContactInformation => f.write_str("account:GetContactInformation"),
            Self::PutAlternateContact => f.write_str("account:PutAlternateContact"),
            Self::PutContactInformation => f.write_str("account:PutContactInformation"),
            Self::DeleteAlternateContact => f.write_str("account:DeleteAlternateContact"),
            Self::ListManagedNotificationChannelAssociations => {
                f.write_str("notifications:ListManagedNotificationChannelAssociations")
            }
            Self::AssociateManagedNotificationAccountContact => {
                f.write_str("notifications:AssociateManagedNotificationAccountContact")
            }
            Self::Organizations(action) => write!(f, "organizations:{}", action.name()),
            Self::SecurityHub(action) => write!(f, "securityhub:{}", action.name()),
        }
    }
}

/// A backend error with where it happened: the operation, and the account
/// and slot when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub operation: Operation,
    pub account: Option<AccountId>,
    pub slot: Option<ContactType>,
    /// Whether the account is the caller's own (no trusted access involved).
    pub own_account: bool,
    pub error: BackendError,
}

impl Located {
    pub fn new(operation: Operation, error: BackendError) -> Self {
        Self {
            operation,
            account: None,
            slot: None,
            own_account: false,
            error,
        }
    }

    pub fn at(mut self, account: &AccountId, slot: Option<ContactType>, own_account: bool) -> Self {
        self.account = Some(account.clone());
        self.slot = slot;
        self.own_account = own_account;
        self
    }

    pub fn help(&self) -> Option<String> {
        match (&self.error, self.operation) {
            (BackendError::NoCredentials { .. }, _) => Some(
                "configure credentials (AWS_PROFILE or --profile, aws sso login, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or try the tool without AWS: --sandbox demo.yaml".to_owned(),
            ),
            (BackendError::AccessDenied(_), Operation::SecurityHub(_)) => Some(format!(
                "the caller needs securityhub:{} in the account and region the findings go to (it has not got {})",
                HubOperation::ALL.map(HubOperation::name).join(", securityhub:"),
                self.operation,
            )),
            (BackendError::Other { code, .. }, Operation::SecurityHub(_))
                if code == "InvalidAccessException" => Some(
                "enable Security Hub in this account and region (aws securityhub enable-security-hub), or run the audit where it is enabled (--region)".to_owned(),
            ),
            (BackendError::AccessDenied(_), Operation::Organizations(_)) => Some(format!(
                "the caller needs {} (and organizations:{}) in the management account or a delegated administrator",
                self.operation,
                OrgOperation::ALL.map(OrgOperation::name).join(", ")
            )),
            (
                BackendError::AccessDenied(_),
                Operation::ListManagedNotificationChannelAssociations
                | Operation::AssociateManagedNotificationAccountContact,
            ) => Some(format!(
                "User Notifications answers each account to itself: the member role (or, in its own account, the caller) needs {}; `altcontacts member-role` prints a role that has it",
                self.operation
            )),
            (BackendError::AccessDenied(_), _) if self.account.is_some() && !self.own_account => Some(format!(
                "the caller needs {} on this account. For a member account, run as the management account or a delegated administrator, with trusted access for AWS Account Management enabled: {ENABLE_TRUSTED_ACCESS}",
                self.operation
            )),
            (BackendError::AccessDenied(_), _) => Some(format!("the caller needs the IAM permission {}", self.operation)),
            (BackendError::CredentialsFailed { .. }, _) => Some(
                "fix what the cause above names (the token file, the role, `aws sso login` for an expired SSO session), or try the tool without AWS: --sandbox demo.yaml".to_owned(),
            ),
            (BackendError::CredentialsExpired(_), _) => Some(
                "session credentials from the environment cannot be refreshed. Give the session time for the whole run (in GitHub Actions: role-duration-seconds, and the role's MaxSessionDuration; the README says how long a run takes), or use a refreshable provider (a profile with role_arn, or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE)".to_owned(),
            ),
            (BackendError::NotInOrganization(_), _) => Some(
                "remove `organization:` from the file and list the accounts under `accounts:`, or run with the organization's management account".to_owned(),
            ),
            (BackendError::UnsupportedPartition(_), _) => Some(
                "altcontacts manages the contacts of accounts in the aws and aws-cn partitions; a GovCloud (US) account's contacts are those of the standard account it is paired with: run altcontacts there".to_owned(),
            ),
            (BackendError::Throttled(_), _) => Some(
                "the request was retried until the retry budget ran out; lower the rate with --rate (e.g. --rate get=5,put=2,delete=1)".to_owned(),
            ),
            (BackendError::Transport(_), _) => Some(
                "check the network and the endpoint (--endpoint-url / AWS_ENDPOINT_URL)".to_owned(),
            ),
            _ => None,
        }
    }
}

impl std::error::Error for Located {}

impl Located {
    /// The failure on one line, without the hint.
    pub fn summary(&self) -> String {
        let place = match (&self.account, self.slot) {
            (Some(account), Some(slot)) => format!(" on account {account} slot {slot}"),
            (Some(account), None) => format!(" on account {account}"),
            _ => String::new(),
        };
        format!("{}{place}: {}", self.operation, self.error)
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}",
            self.summary(),
            crate::hint::Hint::of(&self.help())
        )
    }
}
