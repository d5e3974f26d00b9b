//! `altcontacts guardrail`: prints the service control policy that lets
//! only the named roles change contacts; `altcontacts member-role`, the
//! template of the role in each account; `altcontacts events`, the
//! template of the event path. No AWS call.

use crate::cli::{EventsArgs, GuardrailArgs, MemberRoleArgs};
use crate::error::{EXIT_OK, Error};
use crate::gitops::forge::ForgeKind;
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

pub fn member_role(args: &MemberRoleArgs) -> Result<u8, Error> {
    let parse = |arns: &[String]| {
        arns.iter()
            .map(|arn| crate::member_role::trusted(arn))
            .collect::<Result<Vec<_>, _>>()
    };
    print!(
        "{}",
        crate::member_role::template(&args.name, &parse(&args.trust)?, &parse(&args.trust_read)?)
    );
    Ok(EXIT_OK)
}

pub fn events(args: &EventsArgs<&'static ForgeKind>) -> Result<u8, Error> {
    let destination = args.forge.destination(args)?;
    print!("{}", crate::event_rule::template(destination.as_ref()));
    Ok(EXIT_OK)
}
