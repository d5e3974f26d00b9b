//! `altcontacts export`: write a contacts file from the live contacts.

use super::Context;
use crate::cli::ExportArgs;
use crate::config::{RateSpec, yaml};
use crate::error::{EXIT_OK, Error};
use crate::export;
use crate::model::{AccountId, ContactType, Slot, Value, count};

const HEADER: &str = "\
# yaml-language-server: $schema=./schema/contacts.schema.json
# (write the schema with: altcontacts schema > schema/contacts.schema.json)
#
# Exported by altcontacts from the live contacts. `altcontacts plan` on this
# file shows no changes; edit it to declare the contacts you want.
";

pub async fn run(context: &Context<'_>, args: &ExportArgs) -> Result<u8, Error> {
    let mut accounts = Vec::new();
    for text in &args.accounts {
        accounts.push(AccountId::parse(text).ok_or_else(|| {
            Error::usage(
                format!("`{text}` is not an account ID"),
                Some("account IDs are exactly 12 digits".to_owned()),
            )
        })?);
    }
    let session = context.open(RateSpec::default()).await?;
    if args.org {
        accounts = session
            .accounts_in_reach(&context.ui)
            .await?
            .into_iter()
            .map(|account| account.id)
            .collect();
    } else if accounts.is_empty() {
        accounts.push(session.caller.clone());
    }
    let slots = accounts
        .iter()
        .flat_map(|id| ContactType::ALL.map(|kind| Slot::new(id.clone(), kind)))
        .collect();
    // The primary contacts are read beside the alternates, on their own
    // quota; a caller that may not read them exports the alternates alone.
    let (live, primaries) = tokio::join!(
        context.read(&session, slots),
        crate::live::fetch_primaries(&session.api, accounts.clone(), &session.caller)
    );
    let mut live = live?;
    match primaries? {
        Some(primaries) => {
            for (account, primary) in primaries {
                live.slots.insert(
                    Slot::new(account, ContactType::Primary),
                    primary.map(|primary| Value::Primary(Box::new(primary))),
                );
            }
        }
        None => context.ui.note(
            "The primary contacts were not exported: they could not be read (account:GetContactInformation denied, or not offered by this endpoint).",
        ),
    }
    let file = export::build(&live, &accounts, args.org);
    let text = format!("{HEADER}{}", yaml::to_string(&file));
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text).map_err(|source| Error::Write {
                path: path.display().to_string(),
                source,
            })?;
            context.ui.note(&format!(
                "Wrote {} to {}. Check it: altcontacts plan -f {} (expect no changes)",
                count(accounts.len(), "account"),
                path.display(),
                path.display()
            ));
        }
        None => print!("{text}"),
    }
    Ok(EXIT_OK)
}
