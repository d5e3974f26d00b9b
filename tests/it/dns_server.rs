//! An in-process DNS server (hickory-server) on 127.0.0.1, answering each
//! name as a test says: MX, null MX, A only, NXDOMAIN, NOERROR with no
//! records, SERVFAIL, or late. The DNS tests point the binary at it with
//! `--dns-server`, so no test ever asks the real DNS.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_server::Server;
use hickory_server::net::runtime::Time;
use hickory_server::proto::op::{Header, HeaderCounts, Metadata, ResponseCode};
use hickory_server::proto::rr::rdata::{A, MX};
use hickory_server::proto::rr::{Name, RData, Record, RecordType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;

#[derive(Clone, Debug)]
pub enum Zone {
    /// An MX record naming this host.
    Mx(&'static str),
    /// `MX 0 .`: the domain takes no mail (RFC 7505).
    NullMx,
    /// No MX, an A record: mail goes to the A record (RFC 5321 §5.1).
    AOnly(Ipv4Addr),
    /// The name exists with no MX, A or AAAA record.
    NoRecords,
    ServFail,
    /// An MX answer, sent only after this long.
    Slow(Duration),
}

/// Names not listed are NXDOMAIN.
pub struct DnsServer {
    pub address: SocketAddr,
    queries: Arc<Mutex<Vec<(String, RecordType)>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Handler {
    zones: HashMap<String, Zone>,
    queries: Arc<Mutex<Vec<(String, RecordType)>>>,
}

/// What a handler says it answered when the answer could not be sent.
fn unsent(metadata: Metadata) -> ResponseInfo {
    Header {
        metadata,
        counts: HeaderCounts::default(),
    }
    .into()
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response: R,
    ) -> ResponseInfo {
        let builder = MessageResponseBuilder::from_message_request(request);
        let Ok(info) = request.request_info() else {
            let message = builder.error_msg(&request.metadata, ResponseCode::FormErr);
            return response
                .send_response(message)
                .await
                .unwrap_or_else(|_| unsent(request.metadata));
        };
        let name = info.query.name().to_string();
        let domain = name.trim_end_matches('.').to_ascii_lowercase();
        let record_type = info.query.query_type();
        self.queries
            .lock()
            .unwrap()
            .push((domain.clone(), record_type));
        let mut header = Metadata::response_from_request(&request.metadata);
        header.authoritative = true;
        let owner = Name::from_ascii(&name).expect("a query's name parses");
        let record = |data: RData| Record::from_rdata(owner.clone(), 300, data);
        let mx = |host: &str| {
            record(RData::MX(MX::new(
                10,
                Name::from_ascii(host).expect("valid host"),
            )))
        };
        let answers: Vec<Record> = match (self.zones.get(&domain), record_type) {
            (None, _) => {
                header.response_code = ResponseCode::NXDomain;
                Vec::new()
            }
            (Some(Zone::ServFail), _) => {
                let message = builder.error_msg(&request.metadata, ResponseCode::ServFail);
                return response
                    .send_response(message)
                    .await
                    .unwrap_or_else(|_| unsent(header));
            }
            (Some(Zone::Mx(host)), RecordType::MX) => vec![mx(host)],
            (Some(Zone::Slow(late)), RecordType::MX) => {
                tokio::time::sleep(*late).await;
                vec![mx("mail.slow.io.")]
            }
            (Some(Zone::NullMx), RecordType::MX) => {
                vec![record(RData::MX(MX::new(0, Name::root())))]
            }
            (Some(Zone::AOnly(ip)), RecordType::A) => vec![record(RData::A(A(*ip)))],
            _ => Vec::new(),
        };
        let message = builder.build(header, answers.iter(), [], [], []);
        response
            .send_response(message)
            .await
            .unwrap_or_else(|_| unsent(header))
    }
}

impl DnsServer {
    pub fn start(zones: &[(&str, Zone)]) -> Self {
        let zones: HashMap<String, Zone> = zones
            .iter()
            .map(|(name, zone)| (name.to_ascii_lowercase(), zone.clone()))
            .collect();
        let queries = Arc::new(Mutex::new(Vec::new()));
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind a UDP port");
        socket.set_nonblocking(true).expect("nonblocking");
        let address = socket.local_addr().expect("bound");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handler = Handler {
            zones,
            queries: queries.clone(),
        };
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let mut server = Server::new(handler);
                server.register_socket(
                    tokio::net::UdpSocket::from_std(socket).expect("tokio socket"),
                );
                let _ = stopped.await;
                let _ = server.shutdown_gracefully().await;
            });
        });
        Self {
            address,
            queries,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `--dns-server`'s value.
    pub fn flag(&self) -> String {
        self.address.to_string()
    }

    /// How many queries of `record_type` asked for `domain`.
    pub fn queries(&self, domain: &str, record_type: RecordType) -> usize {
        self.queries
            .lock()
            .unwrap()
            .iter()
            .filter(|(name, asked)| name == domain && *asked == record_type)
            .count()
    }

    pub fn total_queries(&self) -> usize {
        self.queries.lock().unwrap().len()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
