//! `altcontacts guardrail`: prints the service control policy that lets
//! only the named roles change contacts; `altcontacts member-role`, the
//! template of the role in each account; `altcontacts events`, the
//! template of the event path. No AWS call.

use crate::cli::{EventsArgs, ForgeKind, GuardrailArgs, MemberRoleArgs};
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

pub fn events(args: &EventsArgs) -> Result<u8, Error> {
    use crate::event_rule::{Destination, template};
    let api = args.api_url.as_deref();
    let destination = match (args.forge, &args.repository, &args.project) {
        (ForgeKind::Github, Some(repository), _) => Destination::github(api, repository)?,
        (ForgeKind::Gitlab, _, Some(project)) => Destination::gitlab(api, project, &args.git_ref)?,
        (ForgeKind::Bitbucket, Some(repository), _) => {
            Destination::bitbucket(api, repository, &args.git_ref)?
        }
        (ForgeKind::Github, None, _) => {
            return Err(Error::usage(
                "--forge github needs --repository OWNER/NAME",
                None,
            ));
        }
        (ForgeKind::Bitbucket, None, _) => {
            return Err(Error::usage(
                "--forge bitbucket needs --repository WORKSPACE/REPOSITORY",
                None,
            ));
        }
        (ForgeKind::Gitlab, _, None) => {
            return Err(Error::usage("--forge gitlab needs --project ID", None));
        }
    };
    print!("{}", template(&destination));
    Ok(EXIT_OK)
}
