//! `altcontacts audit`: the compliance check over the file's scope, or the
//! whole organization with `--org`.

use std::path::PathBuf;

use super::{Context, joined_after, joined_since_needs_an_organization, keep_joined_since};
use crate::audit;
use crate::cli::{AuditArgs, Format};
use crate::config::{LoadedConfig, RateSpec};
use crate::error::{EXIT_CHANGES, EXIT_OK, Error};
use crate::model::{AccountInfo, ContactType, Date, Slot};
use crate::render;

pub async fn run(context: &Context<'_>, args: &AuditArgs) -> Result<u8, Error> {
    let config = match args.org {
        true => None,
        false => Some(LoadedConfig::load(
            &args
                .file
                .clone()
                .unwrap_or_else(|| PathBuf::from("contacts.yaml")),
        )?),
    };
    if args.joined_since.is_some()
        && config
            .as_ref()
            .is_some_and(|config| config.config.organization.is_none())
    {
        return Err(joined_since_needs_an_organization());
    }
    let rate = config
        .as_ref()
        .map_or(RateSpec::default(), |config| config.config.rate);
    let session = context.open(rate).await?;
    let (accounts, desired) = match &config {
        Some(config) => {
            let (mut desired, org) = context.desired(&session, config).await?;
            if let Some(org) = &org {
                keep_joined_since(&mut desired, org, args.joined_since);
            }
            (desired.accounts.clone(), Some(desired))
        }
        None => {
            let accounts = session
                .accounts_in_reach(&context.ui)
                .await?
                .into_iter()
                .filter(|account| joined_after(account, args.joined_since))
                .map(|account| {
                    (
                        account.id,
                        AccountInfo {
                            name: Some(account.name),
                        },
                    )
                })
                .collect();
            (accounts, None)
        }
    };
    // The audit is about what AWS holds, so every slot is read, managed or not.
    let slots = accounts
        .keys()
        .flat_map(|id| ContactType::ALL.map(|kind| Slot::new(id.clone(), kind)))
        .collect();
    // The primary contacts are read beside the alternates: their quota is
    // their own.
    let (live, primaries) = tokio::join!(
        context.read(&session, slots),
        crate::live::fetch_primaries(
            &session.api,
            accounts.keys().cloned().collect(),
            &session.caller
        )
    );
    let result = audit::check(
        &accounts,
        &live?,
        &primaries?,
        desired.as_ref(),
        Date::today(),
    );
    let target = session.label.clone();
    let output = match args.format {
        Format::Human => render::audit::human(&result, &target, context.paint),
        Format::Json => render::audit::json(&result, &target),
        Format::Markdown => render::audit::markdown(&result, &target),
    };
    print!("{output}");
    Ok(if result.findings.is_empty() {
        EXIT_OK
    } else {
        EXIT_CHANGES
    })
}
