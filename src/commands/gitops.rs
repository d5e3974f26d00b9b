//! `altcontacts github|gitlab|bitbucket plan|apply|drift`: the steps of the GitOps
//! loop, on the forge whose CI runs them.

use crate::cli::LoopCommand;
use crate::error::Error;
use crate::gitops::{bitbucket::Bitbucket, github::GitHub, gitlab::GitLab};
use crate::session::Context;

pub async fn github(context: &Context, command: &LoopCommand) -> Result<u8, Error> {
    crate::gitops::run(context, &GitHub::from_env()?, command).await
}

/// GitLab's address comes from the job's ID token, believed once AWS has
/// accepted that token: nothing is sent to GitLab before.
pub async fn gitlab(context: &Context, command: &LoopCommand) -> Result<u8, Error> {
    context.confirm_identity().await?;
    crate::gitops::run(context, &GitLab::from_env()?, command).await
}

pub async fn bitbucket(context: &Context, command: &LoopCommand) -> Result<u8, Error> {
    crate::gitops::run(context, &Bitbucket::from_env()?, command).await
}
