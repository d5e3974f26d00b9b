//! Whether a domain accepts mail, as DNS says: an MX record, or without
//! one an A or AAAA record (RFC 5321 §5.1); a null MX (RFC 7505) says it
//! accepts none. The only module that names the resolver's types.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use futures::StreamExt;
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::lookup::Lookup as Answered;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::RData;

/// Domains looked up at once: enough to hide latency, few enough not to
/// flood a resolver.
const CONCURRENCY: usize = 8;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailDomain {
    Accepts,
    /// NXDOMAIN.
    NoSuchDomain,
    /// Neither MX nor A nor AAAA.
    NoMailHost,
    /// An MX of "." (RFC 7505): the domain says it takes no mail.
    NullMx,
    /// The server answered without saying (SERVFAIL, REFUSED).
    Unknown(String),
    /// No answer at all (timeout, no route to the server).
    Unreachable(String),
}

impl MailDomain {
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable(_))
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Accepts => "accepts mail".to_owned(),
            Self::NoSuchDomain => "does not exist (NXDOMAIN)".to_owned(),
            Self::NoMailHost => "has no MX, A or AAAA record".to_owned(),
            Self::NullMx => "publishes a null MX: it accepts no mail (RFC 7505)".to_owned(),
            Self::Unknown(why) | Self::Unreachable(why) => why.clone(),
        }
    }
}

/// A resolver: the system's (`/etc/resolv.conf`), or one server.
pub struct Lookup {
    resolver: TokioResolver,
}

impl Lookup {
    pub fn new(server: Option<SocketAddr>, timeout: Duration) -> Result<Self, String> {
        let mut builder = match server {
            Some(server) => {
                let mut name_server = NameServerConfig::udp_and_tcp(server.ip());
                for connection in &mut name_server.connections {
                    connection.port = server.port();
                }
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![name_server]),
                    TokioRuntimeProvider::default(),
                )
            }
            None => TokioResolver::builder_tokio()
                .map_err(|error| format!("cannot read the system's DNS configuration: {error}"))?,
        };
        let options = builder.options_mut();
        options.timeout = timeout;
        options.attempts = 1;
        // A mail domain is a name on the internet, not a host of this machine.
        options.use_hosts_file = ResolveHosts::Never;
        options.ndots = 0;
        let resolver = builder
            .build()
            .map_err(|error| format!("cannot set up the DNS resolver: {error}"))?;
        Ok(Self { resolver })
    }

    /// Each domain's answer, each domain asked once.
    pub async fn mail_domains(&self, domains: &[String]) -> BTreeMap<String, MailDomain> {
        futures::stream::iter(domains)
            .map(|domain| async move { (domain.clone(), self.mail_domain(domain).await) })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await
    }

    async fn mail_domain(&self, domain: &str) -> MailDomain {
        // Absolute, so no search domain of this machine is tried.
        let name = format!("{}.", domain.trim_end_matches('.'));
        match self.resolver.mx_lookup(name.as_str()).await {
            Ok(found) => {
                let exchanges: Vec<_> = found
                    .answers()
                    .iter()
                    .filter_map(|record| match &record.data {
                        RData::MX(mx) => Some(mx.exchange.is_root()),
                        _ => None,
                    })
                    .collect();
                if exchanges.is_empty() {
                    return self.address_records(&name).await;
                }
                if exchanges.iter().all(|is_root| *is_root) {
                    return MailDomain::NullMx;
                }
                MailDomain::Accepts
            }
            Err(error) => match classify(&error, "MX") {
                Answer::NoSuchDomain => MailDomain::NoSuchDomain,
                Answer::NoRecords => self.address_records(&name).await,
                Answer::Failed(failure) => failure,
            },
        }
    }

    async fn address_records(&self, name: &str) -> MailDomain {
        match self.resolver.ipv4_lookup(name).await {
            Ok(found) if has_answers(&found) => return MailDomain::Accepts,
            Ok(_) => {}
            Err(error) => match classify(&error, "A") {
                Answer::NoSuchDomain => return MailDomain::NoSuchDomain,
                Answer::NoRecords => {}
                Answer::Failed(failure) => return failure,
            },
        }
        match self.resolver.ipv6_lookup(name).await {
            Ok(found) if has_answers(&found) => MailDomain::Accepts,
            Ok(_) => MailDomain::NoMailHost,
            Err(error) => match classify(&error, "AAAA") {
                Answer::NoSuchDomain => MailDomain::NoSuchDomain,
                Answer::NoRecords => MailDomain::NoMailHost,
                Answer::Failed(failure) => failure,
            },
        }
    }
}

enum Answer {
    NoSuchDomain,
    NoRecords,
    Failed(MailDomain),
}

/// Whether a lookup found any record of the type asked.
fn has_answers(found: &Answered) -> bool {
    let wanted = found.query().query_type();
    found
        .answers()
        .iter()
        .any(|record| record.record_type() == wanted)
}

fn classify(error: &NetError, record: &str) -> Answer {
    let failed_with = |code: ResponseCode| {
        Answer::Failed(MailDomain::Unknown(format!(
            "the DNS server answered the {record} lookup with {} ({})",
            match code {
                ResponseCode::ServFail => "SERVFAIL".to_owned(),
                ResponseCode::Refused => "REFUSED".to_owned(),
                other => u16::from(other).to_string(),
            },
            code.to_str()
        )))
    };
    match error {
        NetError::Dns(DnsError::NoRecordsFound(no_records)) => match no_records.response_code {
            ResponseCode::NXDomain => Answer::NoSuchDomain,
            ResponseCode::NoError => Answer::NoRecords,
            code => failed_with(code),
        },
        NetError::Dns(DnsError::ResponseCode(code)) => failed_with(*code),
        NetError::Timeout => Answer::Failed(MailDomain::Unreachable(format!(
            "the {record} lookup timed out"
        ))),
        other => Answer::Failed(MailDomain::Unreachable(format!(
            "the {record} lookup failed: {other}"
        ))),
    }
}
