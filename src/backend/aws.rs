//! The real AWS: Account Management for contacts, Organizations for
//! discovery, STS for the caller. The only module that names SDK types; AWS
//! errors become [`BackendError`]s here and nowhere else.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_account::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_account::types::{AlternateContact, AlternateContactType, ContactInformation};
use aws_sdk_sts::config::ProvideCredentials;
use futures::{FutureExt, StreamExt};
use tokio::sync::OnceCell;

use super::address::NamesTheAddress;
use super::attempts::{Pacing, RetryPolicy, RetryStats};
use super::error::{BackendError, Located, Operation, OrgOperation};
use super::members::Assumed;
use super::quota::Partition;
use super::sdk_error::classify;
use super::{Contacts, Discovery, Found, FoundSender, Identity, Listing, Policies, Via};
use crate::model::{
    AccountId, AccountStatus, Contact, ContactField, ContactType, Notice, OrgAccount, OrgUnit,
    Organization, PhoneVerification, PolicySummary, PrimaryContact, PrimaryField, Shape, Slot,
    Timestamp, Topic, Value,
};
use crate::pages::Pages;
use crate::settings::RoleName;

/// Where and as whom to connect; `None` leaves the choice to the standard
/// AWS configuration chain (environment, profiles, SSO, web identity, IMDS).
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// The session name of every AssumeRole into a member role, which
    /// CloudTrail shows: `altcontacts-` and the run.
    pub session_name: String,
}

/// Who the credentials are: the account, and the partition of its ARN.
#[derive(Clone, Debug)]
struct Caller {
    account: AccountId,
    partition: String,
    /// Who AWS answered as: `arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    arn: String,
}

/// Sends an Account API request with the caller's credentials, or with a
/// member session's in their place: one client, so one pool of
/// connections, for every account.
macro_rules! send_via {
    ($request:expr, $via:expr) => {
        send_via!($request, $via, aws_sdk_account)
    };
    ($request:expr, $via:expr, $sdk:ident) => {
        match &$via {
            Via::Caller => $request.send().await,
            Via::Member(credentials) => {
                $request
                    .customize()
                    .config_override(
                        $sdk::config::Builder::default().credentials_provider(credentials.clone()),
                    )
                    .send()
                    .await
            }
        }
    };
}

pub struct Aws {
    config: SdkConfig,
    account: aws_sdk_account::Client,
    organizations: aws_sdk_organizations::Client,
    sts: aws_sdk_sts::Client,
    /// User Notifications, whose managed notifications live in us-east-1
    /// whatever the run's region.
    notifications: aws_sdk_notifications::Client,
    caller: OnceCell<Caller>,
    /// What each primary contact read answered of its phone's
    /// verification, for the audit.
    phones: std::sync::Mutex<std::collections::HashMap<AccountId, PhoneVerification>>,
    session_name: String,
    /// The profile asked for, named when its credentials are missing.
    profile: Option<String>,
    /// Retries for the calls no pacer stands in front of: STS and
    /// Organizations, each a handful per run.
    unpaced_retry: RetryPolicy,
    unpaced_retry_stats: RetryStats,
}

/// Takes a listing's next page, or stops it where it repeats or runs on.
fn next_page(pages: &mut Pages, token: &str, action: OrgOperation) -> Result<(), Located> {
    pages.next(token).map_err(|endless| {
        Located::new(
            Operation::Organizations(action),
            BackendError::Endless(endless),
        )
    })
}

/// Units whose children are listed at once during discovery. Organizations
/// allows a handful of requests per second per caller; the retries absorb
/// the rest.
const DISCOVERY_CONCURRENCY: usize = 4;

/// The region when neither `--region` nor the environment names one (the
/// Account API's own).
const DEFAULT_REGION: &str = "us-east-1";

/// Where User Notifications' managed notification configurations are
/// served from, for every account of the one partition that has them.
const NOTIFICATIONS_REGION: &str = "us-east-1";
const NOTIFICATIONS_PARTITION: &str = "aws";

impl Aws {
    pub async fn connect(options: &AwsOptions) -> Self {
        let region = RegionProviderChain::first_try(options.region.clone().map(Region::new))
            .or_default_provider()
            .or_else(Region::new(DEFAULT_REGION));
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(region)
            // Retries are ours (throttle.rs): only 429/500/transport, with a
            // per-operation rate that adapts, which the SDK's cannot do.
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .build(),
            );
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let config = loader.load().await;
        Self {
            account: aws_sdk_account::Client::from_conf(
                aws_sdk_account::config::Builder::from(&config)
                    .interceptor(NamesTheAddress)
                    .build(),
            ),
            organizations: aws_sdk_organizations::Client::from_conf(
                aws_sdk_organizations::config::Builder::from(&config)
                    .interceptor(NamesTheAddress)
                    .build(),
            ),
            sts: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(&config)
                    .interceptor(NamesTheAddress)
                    .build(),
            ),
            notifications: aws_sdk_notifications::Client::from_conf(
                aws_sdk_notifications::config::Builder::from(&config)
                    .region(Region::new(NOTIFICATIONS_REGION))
                    .interceptor(NamesTheAddress)
                    .build(),
            ),
            config,
            caller: OnceCell::new(),
            phones: Default::default(),
            session_name: options.session_name.clone(),
            profile: options.profile.clone(),
            unpaced_retry: RetryPolicy::default(),
            unpaced_retry_stats: RetryStats::default(),
        }
    }

    /// The caller, asked of STS once.
    async fn whoami(&self) -> Result<&Caller, Located> {
        self.caller.get_or_try_init(|| self.resolve_caller()).await
    }

    /// Security Hub in the run's region, as the caller.
    pub fn security_hub(&self) -> super::security_hub::SecurityHub {
        super::security_hub::SecurityHub::new(&self.config)
    }

    /// The region of the run's calls.
    pub fn region(&self) -> String {
        self.config
            .region()
            .map_or(DEFAULT_REGION, |region| region.as_ref())
            .to_owned()
    }

    /// The caller's partition's name (`aws`, `aws-cn`).
    pub async fn partition_name(&self) -> Result<String, Located> {
        Ok(self.whoami().await?.partition.clone())
    }

    /// The caller's partition, which decides the quotas and the ARNs; one
    /// without the Account API is refused here, before any other call.
    pub async fn partition(&self) -> Result<Partition, Located> {
        let caller = self.whoami().await?;
        Partition::parse(&caller.partition).ok_or_else(|| {
            Located::new(
                Operation::GetCallerIdentity,
                BackendError::UnsupportedPartition(caller.partition.clone()),
            )
        })
    }

    async fn resolve_caller(&self) -> Result<Caller, Located> {
        let located = |error| Located::new(Operation::GetCallerIdentity, error);
        // Credentials are asked for first, so a failure names its cause: the
        // provider that failed and the file or role it could not use, in the
        // SDK's own words, and not a dispatch failure several layers deep.
        let none = || {
            located(BackendError::NoCredentials {
                profile: self.profile.clone(),
            })
        };
        let Some(provider) = self.config.credentials_provider() else {
            return Err(none());
        };
        match provider.provide_credentials().await {
            Ok(_) => {}
            Err(CredentialsError::CredentialsNotLoaded(_)) => return Err(none()),
            Err(error) => {
                return Err(located(BackendError::CredentialsFailed {
                    provider: credential_source(self.profile.as_deref()),
                    cause: super::sdk_error::causes(&error),
                }));
            }
        }
        // The first call of every run: an endpoint that does not answer
        // is said within a second or two, not after the ten tries a call
        // in the middle of a run gets (nothing has been written yet).
        let first_call = RetryPolicy {
            max_attempts: 3,
            ..self.unpaced_retry
        };
        let identity = first_call
            .run(&self.unpaced_retry_stats, Pacing::Unpaced, || async {
                self.sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(classify)
            })
            .await
            .map_err(located)?;
        let account = identity.account().unwrap_or_default();
        let account = AccountId::parse(account).ok_or_else(|| {
            located(BackendError::Other {
                code: "UnexpectedResponse".to_owned(),
                message: format!("GetCallerIdentity returned account {account:?}"),
            })
        })?;
        // arn:PARTITION:sts::ACCOUNT:assumed-role/... (or iam::...:user/...)
        let partition = identity
            .arn()
            .and_then(|arn| arn.split(':').nth(1))
            .unwrap_or("aws")
            .to_owned();
        Ok(Caller {
            account,
            partition,
            arn: identity.arn().unwrap_or_default().to_owned(),
        })
    }

    /// Who AWS answers the run's credentials as (its ARN).
    pub async fn caller_arn(&self) -> Result<String, Located> {
        Ok(self.whoami().await?.arn.clone())
    }

    /// The `AccountId` parameter for a target: omitted for the caller's own
    /// account, which AWS refuses to be named by (the management account
    /// would get AccessDenied).
    /// A member session names no account: it is in the account.
    async fn account_param(
        &self,
        account: &AccountId,
        via: &Via<Credentials>,
    ) -> Result<Option<String>, BackendError> {
        if let Via::Member(_) = via {
            return Ok(None);
        }
        let caller = self.whoami().await.map_err(|located| located.error)?;
        Ok((caller.account != *account).then(|| account.to_string()))
    }

    /// One Organizations request, retried like any other, its failure
    /// located by the action's name.
    async fn org_call<T, Fut>(
        &self,
        action: OrgOperation,
        request: impl Fn() -> Fut,
    ) -> Result<T, Located>
    where
        Fut: Future<Output = Result<T, BackendError>>,
    {
        self.unpaced_retry
            .run(&self.unpaced_retry_stats, Pacing::Unpaced, request)
            .await
            .map_err(|error| Located::new(Operation::Organizations(action), error))
    }

    /// Every item of a paginated Organizations list: `page` fetches one page
    /// from a token and returns its items and the next token.
    async fn list_all<T, Fut>(
        &self,
        action: OrgOperation,
        page: impl Fn(Option<String>) -> Fut,
    ) -> Result<Vec<T>, Located>
    where
        Fut: Future<Output = Result<(Vec<T>, Option<String>), BackendError>>,
    {
        let mut items = Vec::new();
        let mut token = None;
        let mut pages = Pages::new(format!("Organizations {}", action.name()));
        loop {
            let (batch, next) = self.org_call(action, || page(token.clone())).await?;
            items.extend(batch);
            match next {
                Some(next) => {
                    next_page(&mut pages, &next, action)?;
                    token = Some(next);
                }
                None => return Ok(items),
            }
        }
    }

    /// The units directly under `parent`, as (id, name).
    async fn list_units(&self, parent: &str) -> Result<Vec<(String, String)>, Located> {
        self.list_all(
            OrgOperation::ListOrganizationalUnitsForParent,
            |token| async move {
                let page = self
                    .organizations
                    .list_organizational_units_for_parent()
                    .parent_id(parent)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(classify)?;
                let units = page
                    .organizational_units()
                    .iter()
                    .map(|unit| {
                        (
                            unit.id().unwrap_or_default().to_owned(),
                            unit.name().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect();
                Ok((units, page.next_token().map(str::to_owned)))
            },
        )
        .await
    }

    async fn get_primary(
        &self,
        account: &AccountId,
        account_id: Option<String>,
        via: &Via<Credentials>,
    ) -> Result<Option<Value>, BackendError> {
        let result = send_via!(
            self.account
                .get_contact_information()
                .set_account_id(account_id),
            via
        );
        match result {
            Ok(output) => {
                if let Some(status) = output
                    .verification_status()
                    .and_then(|status| PhoneVerification::of_api(status.as_str()))
                {
                    self.phones
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .insert(account.clone(), status);
                }
                Ok(output
                    .contact_information()
                    .map(primary_from)
                    .transpose()?
                    .map(|primary| Value::Primary(Box::new(primary))))
            }
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(classify(error)),
        }
    }

    async fn put_primary(
        &self,
        account_id: Option<String>,
        primary: &PrimaryContact,
        via: &Via<Credentials>,
    ) -> Result<(), BackendError> {
        let mut information = aws_sdk_account::types::ContactInformation::builder();
        // Every field, named: a field added to the primary contact does not
        // compile until it is sent here too.
        for field in PrimaryField::ALL {
            let value = primary.get(field).map(str::to_owned);
            information = match field {
                PrimaryField::FullName => information.set_full_name(value),
                PrimaryField::CompanyName => information.set_company_name(value),
                PrimaryField::AddressLine1 => information.set_address_line1(value),
                PrimaryField::AddressLine2 => information.set_address_line2(value),
                PrimaryField::AddressLine3 => information.set_address_line3(value),
                PrimaryField::City => information.set_city(value),
                PrimaryField::StateOrRegion => information.set_state_or_region(value),
                PrimaryField::DistrictOrCounty => information.set_district_or_county(value),
                PrimaryField::PostalCode => information.set_postal_code(value),
                PrimaryField::CountryCode => information.set_country_code(value),
                PrimaryField::PhoneNumber => information.set_phone_number(value),
                PrimaryField::WebsiteUrl => information.set_website_url(value),
            };
        }
        let information = information
            .build()
            .map_err(|error| BackendError::Invalid(error.to_string()))?;
        send_via!(
            self.account
                .put_contact_information()
                .set_account_id(account_id)
                .contact_information(information),
            via
        )
        .map(|_| ())
        .map_err(classify)
    }

    /// One account of a ListAccounts or ListAccountsForParent page.
    fn org_account(
        account: &aws_sdk_organizations::types::Account,
        parents: &[String],
    ) -> Option<OrgAccount> {
        let id = account.id().and_then(AccountId::parse)?;
        // `State` replaces the deprecated `Status` (and adds
        // PENDING_ACTIVATION and CLOSED); older answers only have Status.
        let status = account
            .state()
            .map(|state| state.as_str())
            .or(account.status().map(|status| status.as_str()))
            .map_or(
                AccountStatus::Other("UNKNOWN".to_owned()),
                AccountStatus::from_api,
            );
        Some(OrgAccount {
            name: account.name().unwrap_or(id.as_str()).to_owned(),
            id,
            status,
            parents: parents.to_vec(),
            joined: account
                .joined_timestamp()
                .map(|joined| Timestamp(joined.secs())),
            email: account.email().map(str::to_owned),
        })
    }

    /// The accounts directly under `parent` (or, without one, every account
    /// of the organization), each sent to `found` with its page, once the
    /// management account is known.
    async fn list_accounts(
        &self,
        parent: Option<&str>,
        parents: &[String],
        path: &[String],
        management: &ManagementAccount<'_>,
        found: Option<&FoundSender>,
    ) -> Result<Vec<OrgAccount>, Located> {
        let action = if parent.is_some() {
            OrgOperation::ListAccountsForParent
        } else {
            OrgOperation::ListAccounts
        };
        let mut accounts = Vec::new();
        let mut token = None;
        // A listing that hands out a page again would have its accounts
        // read again: the next page is taken only when it is a new one.
        let mut pages = Pages::new(format!("Organizations {}", action.name()));
        loop {
            let (page, next) = self
                .org_call(action, || async {
                    // The two listings answer in different types of one shape.
                    macro_rules! page {
                        ($request:expr) => {{
                            let page = $request
                                .set_next_token(token.clone())
                                .send()
                                .await
                                .map_err(classify)?;
                            (
                                page.accounts().to_vec(),
                                page.next_token().map(str::to_owned),
                            )
                        }};
                    }
                    let (listed, next) = match parent {
                        Some(parent) => page!(
                            self.organizations
                                .list_accounts_for_parent()
                                .parent_id(parent)
                        ),
                        None => page!(self.organizations.list_accounts()),
                    };
                    let accounts: Vec<OrgAccount> = listed
                        .iter()
                        .filter_map(|account| Self::org_account(account, parents))
                        .collect();
                    Ok((accounts, next))
                })
                .await?;
            if let Some(found) = found {
                let management_account = management.clone().await?;
                for account in &page {
                    let _ = found.send(Found {
                        account: account.clone(),
                        path: path.to_vec(),
                        management_account: management_account.clone(),
                    });
                }
            }
            accounts.extend(page);
            match next {
                Some(next) => {
                    next_page(&mut pages, &next, action)?;
                    token = Some(next);
                }
                None => return Ok(accounts),
            }
        }
    }

    async fn describe_management_account(&self) -> Result<AccountId, Located> {
        let describe = self
            .org_call(OrgOperation::DescribeOrganization, || async {
                self.organizations
                    .describe_organization()
                    .send()
                    .await
                    .map_err(classify)
            })
            .await?;
        describe
            .organization()
            .and_then(|org| org.master_account_id())
            .and_then(AccountId::parse)
            .ok_or_else(|| {
                Located::new(
                    Operation::Organizations(OrgOperation::DescribeOrganization),
                    BackendError::Other {
                        code: "UnexpectedResponse".to_owned(),
                        message: "no management account id".to_owned(),
                    },
                )
            })
    }

    /// The root's (id, name).
    async fn root(&self) -> Result<(String, String), Located> {
        let roots = self
            .org_call(OrgOperation::ListRoots, || async {
                self.organizations
                    .list_roots()
                    .send()
                    .await
                    .map_err(classify)
            })
            .await?;
        let root = roots.roots().first().ok_or_else(|| {
            Located::new(
                Operation::Organizations(OrgOperation::ListRoots),
                BackendError::Other {
                    code: "UnexpectedResponse".to_owned(),
                    message: "the organization has no root".to_owned(),
                },
            )
        })?;
        Ok((
            root.id().unwrap_or_default().to_owned(),
            root.name().unwrap_or("Root").to_owned(),
        ))
    }

    /// Lists the organization. The first requests go out together, and
    /// accounts are handed to `found` page by page, so reading contacts
    /// starts after one or two round trips instead of after the whole walk.
    async fn discover(
        &self,
        listing: Listing,
        found: Option<&FoundSender>,
    ) -> Result<Organization, Located> {
        let management: ManagementAccount = self.describe_management_account().boxed().shared();
        if listing == Listing::Flat {
            let (management_account, (root_id, root_name), mut accounts) = futures::try_join!(
                management.clone(),
                self.root(),
                self.list_accounts(None, &[], &[], &management, found)
            )?;
            accounts.sort_by(|a, b| a.id.cmp(&b.id));
            return Ok(Organization {
                management_account,
                root: OrgUnit {
                    id: root_id,
                    name: root_name,
                    children: Vec::new(),
                },
                accounts,
                whole: true,
            });
        }
        if let Listing::One(id) = &listing {
            return self.one_account(id, &management, found).await;
        }
        let (management_account, (root_id, root_name)) =
            futures::try_join!(management.clone(), self.root())?;

        // Units found so far, each with its parent's index, ancestry and path.
        struct Unit {
            id: String,
            name: String,
            parent: Option<usize>,
            ancestry: Vec<String>,
            path: Vec<String>,
        }
        let mut found_units = vec![Unit {
            id: root_id.clone(),
            name: root_name.clone(),
            parent: None,
            ancestry: vec![root_id],
            path: vec![root_name],
        }];
        let mut accounts = Vec::new();
        // Each unit is listed as soon as its parent's listing names it, a
        // few at a time: no level waits for the slowest unit of the one above.
        let mut pending = futures::stream::FuturesUnordered::new();
        let mut queue: std::collections::VecDeque<usize> = [0].into();
        let list_children = |index: usize, id: String, ancestry: Vec<String>, path: Vec<String>| {
            let management = management.clone();
            async move {
                let (units, accounts) = futures::try_join!(
                    self.list_units(&id),
                    self.list_accounts(Some(&id), &ancestry, &path, &management, found)
                )?;
                Ok::<_, Located>(Children {
                    parent: index,
                    units,
                    accounts,
                })
            }
        };
        loop {
            while pending.len() < DISCOVERY_CONCURRENCY {
                let Some(index) = queue.pop_front() else {
                    break;
                };
                let unit = &found_units[index];
                pending.push(list_children(
                    index,
                    unit.id.clone(),
                    unit.ancestry.clone(),
                    unit.path.clone(),
                ));
            }
            let Some(children) = pending.next().await else {
                break;
            };
            let Children {
                parent,
                units,
                accounts: listed,
            } = children?;
            accounts.extend(listed);
            for (id, name) in units {
                let mut ancestry = found_units[parent].ancestry.clone();
                ancestry.push(id.clone());
                let mut path = found_units[parent].path.clone();
                path.push(name.clone());
                queue.push_back(found_units.len());
                found_units.push(Unit {
                    id,
                    name,
                    parent: Some(parent),
                    ancestry,
                    path,
                });
            }
        }

        fn build(index: usize, found: &[Unit]) -> OrgUnit {
            let mut children: Vec<OrgUnit> = found
                .iter()
                .enumerate()
                .filter(|(_, unit)| unit.parent == Some(index))
                .map(|(child, _)| build(child, found))
                .collect();
            children.sort_by(|a, b| a.name.cmp(&b.name));
            OrgUnit {
                id: found[index].id.clone(),
                name: found[index].name.clone(),
                children,
            }
        }
        accounts.sort_by(|a: &OrgAccount, b| a.id.cmp(&b.id));
        Ok(Organization {
            management_account,
            root: build(0, &found_units),
            accounts,
            whole: true,
        })
    }

    /// One account and the units from the root down to it, as
    /// [`Organization::only`] has them: DescribeAccount, then ListParents
    /// up to the root and each unit's name. An account the organization
    /// does not have is left out, for the caller to say so.
    async fn one_account(
        &self,
        id: &AccountId,
        management: &ManagementAccount<'_>,
        found: Option<&FoundSender>,
    ) -> Result<Organization, Located> {
        let (management_account, (root_id, root_name), account) =
            futures::try_join!(management.clone(), self.root(), self.describe_account(id))?;
        let mut organization = Organization {
            management_account: management_account.clone(),
            root: OrgUnit {
                id: root_id.clone(),
                name: root_name.clone(),
                children: Vec::new(),
            },
            accounts: Vec::new(),
            whole: false,
        };
        let Some(mut account) = account else {
            return Ok(organization);
        };
        // The units above the account, nearest first.
        let mut units = Vec::new();
        let mut child = id.as_str().to_owned();
        while let Some(parent) = self.unit_above(&child).await? {
            // Organizations nests units five deep at most: an answer that
            // goes on is not followed forever.
            if units.len() == 5 {
                return Err(Located::new(
                    Operation::Organizations(OrgOperation::ListParents),
                    BackendError::Other {
                        code: "UnexpectedResponse".to_owned(),
                        message: format!("the units above account {id} go deeper than five"),
                    },
                ));
            }
            child = parent.clone();
            units.push(parent);
        }
        units.reverse();
        let names =
            futures::future::try_join_all(units.iter().map(|unit| self.unit_name(unit))).await?;
        let mut below: Option<OrgUnit> = None;
        for (unit, name) in units.iter().zip(&names).rev() {
            below = Some(OrgUnit {
                id: unit.clone(),
                name: name.clone(),
                children: below.into_iter().collect(),
            });
        }
        organization.root.children = below.into_iter().collect();
        account.parents = std::iter::once(root_id).chain(units).collect();
        if let Some(found) = found {
            let _ = found.send(Found {
                account: account.clone(),
                path: std::iter::once(root_name).chain(names).collect(),
                management_account,
            });
        }
        organization.accounts.push(account);
        Ok(organization)
    }

    /// The account as Organizations describes it; `None` when it has no
    /// such account.
    async fn describe_account(&self, id: &AccountId) -> Result<Option<OrgAccount>, Located> {
        self.org_call(OrgOperation::DescribeAccount, || async {
            match self
                .organizations
                .describe_account()
                .account_id(id.as_str())
                .send()
                .await
            {
                Ok(output) => Ok(output
                    .account()
                    .and_then(|account| Self::org_account(account, &[]))),
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_account_not_found_exception()) =>
                {
                    Ok(None)
                }
                Err(error) => Err(classify(error)),
            }
        })
        .await
    }

    /// The unit directly above an account or a unit; `None` when that is
    /// the root.
    async fn unit_above(&self, child: &str) -> Result<Option<String>, Located> {
        let parents = self
            .org_call(OrgOperation::ListParents, || async {
                self.organizations
                    .list_parents()
                    .child_id(child)
                    .send()
                    .await
                    .map_err(classify)
            })
            .await?;
        Ok(parents
            .parents()
            .first()
            .filter(|parent| {
                parent.r#type()
                    == Some(&aws_sdk_organizations::types::ParentType::OrganizationalUnit)
            })
            .and_then(|parent| parent.id())
            .map(str::to_owned))
    }

    async fn unit_name(&self, unit: &str) -> Result<String, Located> {
        let described = self
            .org_call(OrgOperation::DescribeOrganizationalUnit, || async {
                self.organizations
                    .describe_organizational_unit()
                    .organizational_unit_id(unit)
                    .send()
                    .await
                    .map_err(classify)
            })
            .await?;
        Ok(described
            .organizational_unit()
            .and_then(|unit| unit.name())
            .unwrap_or(unit)
            .to_owned())
    }
}

/// DescribeOrganization's answer, awaited by every page of accounts before
/// it is handed on (and by the result).
type ManagementAccount<'a> =
    futures::future::Shared<futures::future::BoxFuture<'a, Result<AccountId, Located>>>;

/// The credential source the standard chain picks here, named with what
/// to check (a file, a role, a profile) and never a secret: the SDK's own
/// message often says only what went wrong, not where.
fn credential_source(profile: Option<&str>) -> String {
    let var = crate::settings::env_var;
    if var("AWS_ACCESS_KEY_ID").is_some() {
        return "the environment (AWS_ACCESS_KEY_ID)".to_owned();
    }
    if let Some(profile) = profile.map(str::to_owned).or_else(|| var("AWS_PROFILE")) {
        return format!("profile `{profile}`");
    }
    if let Some(file) = var("AWS_WEB_IDENTITY_TOKEN_FILE") {
        let role = var("AWS_ROLE_ARN").map_or_else(String::new, |role| format!(", role {role}"));
        return format!("web identity (token file {file}{role})");
    }
    "the default profile, or container or instance credentials".to_owned()
}

/// What one unit holds: its child units (id, name) and its accounts.
struct Children {
    parent: usize,
    units: Vec<(String, String)>,
    accounts: Vec<OrgAccount>,
}

/// The Account API's type for an alternate slot; `None` for the primary
/// contact, which has operations of its own.
fn alternate_type(kind: ContactType) -> Option<AlternateContactType> {
    match kind {
        ContactType::Security => Some(AlternateContactType::Security),
        ContactType::Billing => Some(AlternateContactType::Billing),
        ContactType::Operations => Some(AlternateContactType::Operations),
        ContactType::Primary => None,
    }
}

/// A value of the wrong shape for its slot: a bug upstream, said plainly.
fn mismatch(slot: &Slot) -> BackendError {
    BackendError::Invalid(format!("{slot}: the value does not fit this kind of slot"))
}

/// The contact AWS answered. The match names every field, so a field added
/// to the contact does not compile until it is read here too.
fn contact_from(contact: &AlternateContact) -> Contact {
    let values = ContactField::ALL.map(|field| {
        Some(
            match field {
                ContactField::Name => contact.name(),
                ContactField::Title => contact.title(),
                ContactField::EmailAddress => contact.email_address(),
                ContactField::PhoneNumber => contact.phone_number(),
            }
            .unwrap_or_default()
            .to_owned(),
        )
    });
    Contact::from_values(values.into()).unwrap_or_default()
}

/// The primary contact AWS answered, every field named as above. AWS
/// always answers the required ones; an answer without one is refused.
fn primary_from(info: &ContactInformation) -> Result<PrimaryContact, BackendError> {
    let values = PrimaryField::ALL.map(|field| {
        match field {
            PrimaryField::FullName => Some(info.full_name()),
            PrimaryField::CompanyName => info.company_name(),
            PrimaryField::AddressLine1 => Some(info.address_line1()),
            PrimaryField::AddressLine2 => info.address_line2(),
            PrimaryField::AddressLine3 => info.address_line3(),
            PrimaryField::City => Some(info.city()),
            PrimaryField::StateOrRegion => info.state_or_region(),
            PrimaryField::DistrictOrCounty => info.district_or_county(),
            PrimaryField::PostalCode => Some(info.postal_code()),
            PrimaryField::CountryCode => Some(info.country_code()),
            PrimaryField::PhoneNumber => Some(info.phone_number()),
            PrimaryField::WebsiteUrl => info.website_url(),
        }
        .map(str::to_owned)
    });
    PrimaryContact::from_values(values.into()).ok_or_else(|| BackendError::Other {
        code: "UnexpectedResponse".to_owned(),
        message: "GetContactInformation answered without a required field".to_owned(),
    })
}

/// ResourceNotFoundException: the slot has no contact (for Get and Delete alike).
fn is_not_found<E: ProvideErrorMetadata>(error: &SdkError<E>) -> bool {
    error
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
        == Some("ResourceNotFoundException")
}

impl Identity for Aws {
    async fn caller(&self) -> Result<AccountId, Located> {
        Ok(self.whoami().await?.account.clone())
    }

    async fn management_account(&self) -> Result<Option<AccountId>, Located> {
        match self.describe_management_account().await {
            Ok(management) => Ok(Some(management)),
            Err(Located {
                error: BackendError::AccessDenied(_) | BackendError::NotInOrganization(_),
                ..
            }) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

impl Contacts for Aws {
    type Session = Credentials;

    async fn get(&self, slot: &Slot, via: Via<Credentials>) -> Result<Option<Value>, BackendError> {
        let account_id = self.account_param(&slot.account, &via).await?;
        let Some(kind) = alternate_type(slot.kind) else {
            return self.get_primary(&slot.account, account_id, &via).await;
        };
        let result = send_via!(
            self.account
                .get_alternate_contact()
                .set_account_id(account_id)
                .alternate_contact_type(kind),
            via
        );
        match result {
            Ok(output) => Ok(output
                .alternate_contact()
                .map(|contact| Value::Alternate(contact_from(contact)))),
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(classify(error)),
        }
    }

    async fn put(
        &self,
        slot: &Slot,
        value: &Value,
        via: Via<Credentials>,
    ) -> Result<(), BackendError> {
        let account_id = self.account_param(&slot.account, &via).await?;
        let contact = match (alternate_type(slot.kind), value) {
            (Some(kind), Value::Alternate(contact)) => (kind, contact),
            (None, Value::Primary(primary)) => {
                return self.put_primary(account_id, primary, &via).await;
            }
            _ => return Err(mismatch(slot)),
        };
        let (kind, contact) = contact;
        let mut request = self
            .account
            .put_alternate_contact()
            .set_account_id(account_id)
            .alternate_contact_type(kind);
        // Every field, named: a field added to the contact does not compile
        // until it is sent here too.
        for field in ContactField::ALL {
            let value = contact.field(field);
            request = match field {
                ContactField::Name => request.name(value),
                ContactField::Title => request.title(value),
                ContactField::EmailAddress => request.email_address(value),
                ContactField::PhoneNumber => request.phone_number(value),
            };
        }
        send_via!(request, via).map(|_| ()).map_err(classify)
    }

    async fn delete(&self, slot: &Slot, via: Via<Credentials>) -> Result<(), BackendError> {
        let account_id = self.account_param(&slot.account, &via).await?;
        let Some(kind) = alternate_type(slot.kind) else {
            return Err(BackendError::Invalid(
                "the primary contact cannot be deleted".to_owned(),
            ));
        };
        let result = send_via!(
            self.account
                .delete_alternate_contact()
                .set_account_id(account_id)
                .alternate_contact_type(kind),
            via
        );
        match result {
            // Already gone (a retried delete, or deleted meanwhile): the goal is met.
            Err(error) if is_not_found(&error) => Ok(()),
            other => other.map(|_| ()).map_err(classify),
        }
    }

    fn notices_not_offered(&self) -> Option<String> {
        self.caller
            .get()
            .filter(|caller| caller.partition != NOTIFICATIONS_PARTITION)
            .map(|caller| caller.partition.clone())
    }

    fn phone_verification(&self, account: &AccountId) -> Option<PhoneVerification> {
        self.phones
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(account)
            .copied()
    }

    async fn subscribers(
        &self,
        account: &AccountId,
        topic: &Topic,
        via: Via<Credentials>,
    ) -> Result<Option<BTreeSet<ContactType>>, BackendError> {
        let partition = self
            .partition_name()
            .await
            .map_err(|located| located.error)?;
        let arn = topic.arn(&partition, account);
        let mut subscribers = BTreeSet::new();
        let mut token = None;
        let mut pages = Pages::new("notifications ListManagedNotificationChannelAssociations");
        loop {
            let result = send_via!(
                self.notifications
                    .list_managed_notification_channel_associations()
                    .managed_notification_configuration_arn(&arn)
                    .max_results(100)
                    .set_next_token(token.clone()),
                via,
                aws_sdk_notifications
            );
            let page = match result {
                Ok(page) => page,
                Err(error) if is_not_found(&error) => return Ok(None),
                Err(error) => return Err(classify(error)),
            };
            subscribers.extend(
                page.channel_associations()
                    .iter()
                    .filter(|association| {
                        association.channel_type()
                            == &aws_sdk_notifications::types::ChannelType::AccountContact
                    })
                    .filter_map(|association| {
                        ContactType::of_notice_channel(association.channel_identifier())
                    }),
            );
            match page.next_token() {
                Some(next) => {
                    pages.next(next).map_err(BackendError::Endless)?;
                    token = Some(next.to_owned());
                }
                None => return Ok(Some(subscribers)),
            }
        }
    }

    async fn subscribe(&self, notice: &Notice, via: Via<Credentials>) -> Result<(), BackendError> {
        let partition = self
            .partition_name()
            .await
            .map_err(|located| located.error)?;
        send_via!(
            self.notifications
                .associate_managed_notification_account_contact()
                .contact_identifier(aws_sdk_notifications::types::AccountContactType::from(
                    notice.slot.kind.notice_channel()
                ))
                .managed_notification_configuration_arn(
                    notice.topic.arn(&partition, &notice.slot.account)
                ),
            via,
            aws_sdk_notifications
        )
        .map(|_| ())
        .map_err(classify)
    }

    async fn assume(
        &self,
        account: &AccountId,
        role: &RoleName,
    ) -> Result<Assumed<Credentials>, BackendError> {
        let partition = &self
            .whoami()
            .await
            .map_err(|located| located.error)?
            .partition;
        let output = self
            .sts
            .assume_role()
            .role_arn(format!("arn:{partition}:iam::{account}:role/{role}"))
            .role_session_name(&self.session_name)
            .send()
            .await
            .map_err(classify)?;
        let credentials = output.credentials().ok_or_else(|| BackendError::Other {
            code: "UnexpectedResponse".to_owned(),
            message: "AssumeRole answered without credentials".to_owned(),
        })?;
        let expires = std::time::SystemTime::try_from(*credentials.expiration()).ok();
        Ok(Assumed {
            session: Credentials::new(
                credentials.access_key_id(),
                credentials.secret_access_key(),
                Some(credentials.session_token().to_owned()),
                expires,
                "altcontacts member role",
            ),
            expires,
        })
    }
}

impl Discovery for Aws {
    async fn organization(
        &self,
        listing: Listing,
        found: Option<&FoundSender>,
    ) -> Result<Organization, Located> {
        self.discover(listing, found).await
    }
}

impl Policies for Aws {
    async fn service_control_policies(&self) -> Result<Vec<PolicySummary>, Located> {
        self.list_all(OrgOperation::ListPolicies, |token| async move {
            let page = self
                .organizations
                .list_policies()
                .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
                .set_next_token(token)
                .send()
                .await
                .map_err(classify)?;
            let policies = page
                .policies()
                .iter()
                .filter_map(|policy| {
                    Some(PolicySummary {
                        id: policy.id()?.to_owned(),
                        name: policy.name().unwrap_or_default().to_owned(),
                    })
                })
                .collect();
            Ok((policies, page.next_token().map(str::to_owned)))
        })
        .await
    }

    async fn policy_targets(&self, policy: &PolicySummary) -> Result<Vec<String>, Located> {
        self.list_all(OrgOperation::ListTargetsForPolicy, |token| async move {
            let page = self
                .organizations
                .list_targets_for_policy()
                .policy_id(&policy.id)
                .set_next_token(token)
                .send()
                .await
                .map_err(classify)?;
            let targets = page
                .targets()
                .iter()
                .filter_map(|target| target.target_id().map(str::to_owned))
                .collect();
            Ok((targets, page.next_token().map(str::to_owned)))
        })
        .await
    }

    async fn policy_document(&self, policy: &PolicySummary) -> Result<String, Located> {
        let described = self
            .org_call(OrgOperation::DescribePolicy, || async {
                self.organizations
                    .describe_policy()
                    .policy_id(&policy.id)
                    .send()
                    .await
                    .map_err(classify)
            })
            .await?;
        Ok(described
            .policy()
            .and_then(|policy| policy.content())
            .unwrap_or_default()
            .to_owned())
    }
}
