//! `altcontacts guardrail`: prints the service control policy that lets
//! only the named roles change contacts. No AWS call.

use crate::cli::GuardrailArgs;
use crate::error::{EXIT_OK, Error};
use crate::guardrail::{AllowedRole, policy};

pub fn run(args: &GuardrailArgs) -> Result<u8, Error> {
    let roles = args
        .allow_roles
        .iter()
        .map(|arn| AllowedRole::parse(arn))
        .collect::<Result<Vec<_>, _>>()?;
    println!("{}", policy(&roles, args.member_role.as_ref())?);
    Ok(EXIT_OK)
}
