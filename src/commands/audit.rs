//! `altcontacts audit`: the compliance check over the file's scope, or the
//! whole organization with `--org`: the contacts, whether they reach
//! someone, and whether a service control policy keeps them from change.

use std::time::Duration;

use super::security_hub;
use crate::audit::{self, Finding};
use crate::backend::Backend;
use crate::cli::AuditArgs;
use crate::config::LoadedConfig;
use crate::deliverability::{self, FileAddress, dns};
use crate::error::{EXIT_CHANGES, EXIT_OK, Error};
use crate::findings::Origin;
use crate::guardrail::coverage;
use crate::model::{AccountStatus, count};
use crate::progress::Progress;
use crate::render::audit::{AuditFormat, AuditView, sarif};
use crate::render::{self, Paint};
use crate::session::{Context, Reading, Reads, Request, Scope};

/// Where each report goes, in which format: stdout in `--format` (human
/// by default), or each `--output` in `--format` (one file) or the format
/// its name says. Resolved before anything is asked of AWS.
fn outputs(args: &AuditArgs) -> Result<Vec<(Option<&std::path::Path>, AuditFormat)>, Error> {
    match (args.output.as_slice(), args.format) {
        ([], format) => Ok(vec![(None, format.unwrap_or(AuditFormat::Human))]),
        ([one], Some(format)) => Ok(vec![(Some(one.as_path()), format)]),
        (_, Some(_)) => Err(Error::usage(
            "--format names the format of one --output",
            Some("with several --output files, leave --format out: each takes its format from its name (.html, .csv, .sarif, .ocsf.json, .json, .md, .txt)".to_owned()),
        )),
        (many, None) => many
            .iter()
            .map(|path| match AuditFormat::of_file(path) {
                Some(format) => Ok((Some(path.as_path()), format)),
                None => Err(Error::usage(
                    format!("cannot tell the format of {} from its name", path.display()),
                    Some("give --format, or name the file .html, .csv, .sarif, .ocsf.json, .json, .md or .txt".to_owned()),
                )),
            })
            .collect(),
    }
}

pub async fn run(context: &Context, args: &AuditArgs) -> Result<u8, Error> {
    let outputs = outputs(args)?;
    // Checked with the file, before AWS is asked anything.
    let mute_file = args
        .mute
        .as_deref()
        .map(crate::config::load_mutes)
        .transpose()?
        .unwrap_or_default();
    if args.security_hub && matches!(context.connection, crate::session::Connection::Sandbox(_)) {
        return Err(security_hub::no_hub_on_the_sandbox());
    }
    let config = match args.org {
        true => None,
        false => Some(context.load_config(&args.file.path())?),
    };
    // The audit is about what AWS holds, so every slot is read, managed or
    // not; and the units above every account, for the policies attached there.
    let scope = match &config {
        Some(config) => Scope::File(config),
        None => Scope::WholeOrganization,
    };
    let request = Request {
        joined_since: args.joined_since.joined_since,
        account: args.account.clone(),
        ancestry: true,
        ..Request::new(scope, Reads::Every)
    };
    let reading = context.read_scope(&request).await?;
    match &config {
        Some(_) => context.show_warnings(
            &reading.desired.warnings,
            outputs
                .iter()
                .any(|(path, format)| path.is_none() && !format.is_for_people()),
        ),
        None => context.note_left_out(&reading.desired),
    }
    // Not a finding: a run without a member role is how most start, and
    // its audit must still pass; a refused read is one (audit.rs).
    if let Some(line) = render::unchecked_line(&reading.live.unchecked) {
        context.ui.note(&line);
    }
    // Excluded from management, not from compliance: checked as the rest.
    let mut in_scope = reading.desired.accounts.clone();
    in_scope.extend(reading.desired.excluded.clone());
    let mut result = audit::check(
        &in_scope,
        &reading.live,
        &reading.primaries,
        config.as_ref().map(|_| &reading.desired),
        crate::model::time::today(),
    );
    // DNS and Organizations answer apart: both checks at once.
    let (deliverability, guardrail) = tokio::join!(
        deliverability_findings(context, args, config.as_ref(), &reading),
        guardrail_findings(context, &reading)
    );
    let (deliverability, dns_asked) = deliverability;
    result.add(deliverability);
    result.dns = dns_asked;
    result.add(guardrail);
    let mut mutes = config.as_ref().map(LoadedConfig::mutes).unwrap_or_default();
    mutes.extend(mute_file);
    let unknown = audit::mute::unknown_targets(&mutes, reading.organization.as_ref());
    if !unknown.is_empty() {
        return Err(Error::usage(
            unknown.join("\n"),
            Some("a mute names a unit as organization.units does (a path from Root, or an OU id) and an account of the organization: fix the name, or remove the mute".to_owned()),
        ));
    }
    audit::mute::apply(
        &mut result,
        &mutes,
        reading.organization.as_ref(),
        crate::model::time::today(),
    );
    let header = reading.session.header();
    let origin = origin(&reading).await?;
    // Sent first, so the output says what became of them; a failure is
    // said after the output, which stands on its own.
    let sent = match args.security_hub {
        true => Some(
            security_hub::send(context, &reading.session, &result, config.as_ref(), &origin).await,
        ),
        false => None,
    };
    let report = sent.as_ref().and_then(|sent| sent.as_ref().ok());
    let view = AuditView {
        audit: &result,
        header: &header,
        config: config.as_ref(),
        origin: &origin,
        security_hub: report,
    };
    for (path, format) in outputs {
        if format == AuditFormat::Sarif {
            let left_out = sarif::left_out(&result);
            if left_out > 0 {
                context.ui.note(&format!(
                    "{left_out} findings left out of the SARIF log: GitHub keeps at most {} results of a run",
                    sarif::MAX_RESULTS
                ));
            }
        }
        // Colors are for a terminal, not a file.
        let paint = match path {
            Some(_) => Paint(false),
            None => context.paint,
        };
        super::emit(path, &format.render(&view, paint))?;
        if let Some(path) = path {
            context
                .ui
                .note(&format!("Wrote the audit to {}.", path.display()));
        }
    }
    if let Some(sent) = sent {
        let report = sent?;
        context.ui.note(&report.summary());
        security_hub::refusals(&report)?;
    }
    Ok(
        match result
            .findings
            .iter()
            .any(|finding| args.fail_on.fails(finding.severity))
        {
            true => EXIT_CHANGES,
            false => EXIT_OK,
        },
    )
}

/// Where the audit ran, for the records that carry it.
async fn origin(reading: &Reading) -> Result<Origin, Error> {
    let (partition, region) = match &reading.session.api {
        Backend::Aws(api) => (api.inner().partition_name().await?, api.inner().region()),
        Backend::Sandbox(_) => ("aws".to_owned(), "us-east-1".to_owned()),
    };
    Ok(Origin {
        caller: reading.session.caller.clone(),
        management_account: reading
            .organization
            .as_ref()
            .map(|org| org.management_account.clone()),
        partition,
        region,
        time_ms: crate::model::Timestamp::now().0 * 1000,
    })
}

async fn deliverability_findings(
    context: &Context,
    args: &AuditArgs,
    config: Option<&LoadedConfig>,
    reading: &Reading,
) -> (Vec<Finding>, audit::DnsAsked) {
    // The sandbox's addresses are make-believe: they are on reserved
    // domains, and asking DNS of them says nothing about AWS.
    let asked = match (args.dns.no_dns, reading.session.on_sandbox()) {
        (_, true) => audit::DnsAsked::Sandbox,
        (true, false) => audit::DnsAsked::Off,
        (false, false) => audit::DnsAsked::Asked,
    };
    let written = config.map(FileAddress::written_in).unwrap_or_default();
    let allowed_domains = match (&args.email_domains[..], config) {
        ([], Some(config)) => config.config.email_domains.clone(),
        (flags, _) => flags.to_vec(),
    };
    let mut findings = Vec::new();
    let dns = if asked != audit::DnsAsked::Asked {
        None
    } else {
        match dns::Lookup::new(
            args.dns.dns_server,
            Duration::from_secs_f64(args.dns.dns_timeout),
        ) {
            Ok(lookup) => Some(lookup),
            Err(why) => {
                findings.push(deliverability::dns_unreachable(why));
                None
            }
        }
    };
    if let Some(why) = asked.not_asked_because() {
        context.ui.verbose(why);
    }
    let policy = deliverability::Policy {
        allowed_domains,
        reserved_names: asked != audit::DnsAsked::Sandbox,
        dns,
    };
    let security = deliverability::security_addresses(
        reading
            .desired
            .slots
            .iter()
            .map(|(slot, wanted)| (slot, wanted.wanted.contact())),
    );
    findings.extend(
        deliverability::check(
            &reading.desired.accounts,
            &reading.live,
            &written,
            &security,
            &policy,
        )
        .await,
    );
    (findings, asked)
}

/// Whether a service control policy protects each ACTIVE member account in
/// scope; none when the scope is not an organization.
async fn guardrail_findings(context: &Context, reading: &Reading) -> Vec<Finding> {
    let Some(org) = &reading.organization else {
        return Vec::new();
    };
    let members: Vec<_> = org
        .accounts
        .iter()
        .filter(|account| {
            account.status == AccountStatus::Active
                && account.id != org.management_account
                && reading.desired.accounts.contains_key(&account.id)
        })
        .collect();
    if members.is_empty() {
        return Vec::new();
    }
    let progress = Progress::start_growing(&context.ui, "reading service control policies");
    let checked = coverage::check(&reading.session.api, &members, &progress).await;
    progress.finish();
    if let Ok(coverage) = &checked {
        context.ui.verbose(&format!(
            "service control policies: {} read, the targets of {} listed, for {}; {} protected",
            count(coverage.policies_read, "policy"),
            count(coverage.guarding, "policy"),
            count(members.len(), "member account"),
            coverage.protected
        ));
    }
    audit::guardrail::findings(checked)
}
