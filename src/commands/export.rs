//! `altcontacts export`: write a contacts file from the live contacts.

use crate::cli::ExportArgs;
use crate::config::yaml;
use crate::error::{EXIT_OK, Error};
use crate::export;
use crate::model::{AccountId, ContactType, Slot, Value, count};
use crate::session::read::WhenUnreadable;
use crate::session::{Context, Reads, Request, Scope};

const HEADER: &str = "\
# yaml-language-server: $schema=./schema/contacts.schema.json
# (write the schema with: altcontacts schema > schema/contacts.schema.json)
#
# Exported by altcontacts from the live contacts. `altcontacts plan` on this
# file shows no changes; edit it to declare the contacts you want.
";

pub async fn run(context: &Context, args: &ExportArgs) -> Result<u8, Error> {
    let mut accounts = Vec::new();
    for text in &args.accounts {
        accounts.push(AccountId::parse(text).ok_or_else(|| {
            Error::usage(
                format!("`{text}` is not an account ID"),
                Some("account IDs are exactly 12 digits".to_owned()),
            )
        })?);
    }
    let scope = match (args.org, accounts.is_empty()) {
        (true, _) => Scope::WholeOrganization,
        (false, true) => Scope::Caller,
        (false, false) => Scope::Accounts(accounts),
    };
    // A file without an account it could not read would leave that
    // account to the organization's defaults: the export fails instead.
    let request = Request {
        unreadable: WhenUnreadable::Fail,
        subscriptions: false,
        ..Request::new(scope, Reads::Every)
    };
    let reading = context.read_scope(&request).await?;
    if args.org {
        context.note_left_out(&reading.desired);
    }
    let accounts: Vec<AccountId> = reading.desired.accounts.keys().cloned().collect();
    let mut live = reading.live;
    match reading.primaries {
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
    super::emit(args.output.as_deref(), &text)?;
    if let Some(path) = &args.output {
        context.ui.note(&format!(
            "Wrote {} to {}. Check it: altcontacts plan -f {} (expect no changes, but for contacts unsubscribed from AWS Health's notices)",
            count(accounts.len(), "account"),
            path.display(),
            path.display()
        ));
    }
    Ok(EXIT_OK)
}
