//! DNS over UDP: a forwarder in front of an authoritative server for a small zone, answering A
//! queries, and a stub-resolver client that retries, deduplicates by id and checks every answer
//! against the zone. Its twin, `first-reply`, is a forwarder that trusts the first upstream
//! datagram as the answer to its query (`server.rs` cites the dnsmasq bugs). The server speaks
//! the real wire format: `dig @127.0.0.1 -p PORT www.doppel.test` against `doppel serve dns`
//! gets the zone's answer.
//!
//! | file        | what                                                              |
//! |-------------|-------------------------------------------------------------------|
//! | `wire.rs`   | queries and replies (RFC 1035), parsed with every bound checked    |
//! | `zone.rs`   | the zone, a pure function both ends compute                       |
//! | `server.rs` | the authority, the forwarder and its twin                         |
//! | `client.rs` | the checking client                                               |

pub mod client;
pub mod server;
pub mod wire;
pub mod zone;

use std::net::SocketAddr;
use std::time::Duration;

use doppel::net::UdpSocket;

use crate::workload::{Load, Task, Transport, Variant, Workload, CORRECT};

/// The workload.
#[derive(Debug)]
pub struct Dns;

/// The forwarder, then its twin.
const VARIANTS: [Variant; 2] = [
    CORRECT,
    Variant {
        name: "first-reply",
        about: "a forwarder that takes the first upstream datagram as the answer to its query, \
                so a late or duplicated reply answers the next client (dnsmasq before 2.83, \
                DNSpooq: CVE-2020-25684, CVE-2020-25685)",
    },
];

impl Workload for Dns {
    /// Its own assertions: the binary holds every built-in workload's.
    fn coverage_scope(&self) -> &'static [&'static str] {
        &["doppel_scenarios::dns"]
    }

    fn name(&self) -> &'static str {
        "dns"
    }

    fn about(&self) -> &'static str {
        "a DNS forwarder and authoritative server over UDP; every answer checked against the zone"
    }

    fn variants(&self) -> &'static [Variant] {
        &VARIANTS
    }

    fn transport(&self) -> Transport {
        Transport::Udp
    }

    fn port(&self) -> u16 {
        53
    }

    fn server_udp(&self, variant: usize, socket: UdpSocket) -> Task {
        let forwarder = match variant {
            1 => server::Forwarder::FirstReply,
            _ => server::Forwarder::Matched,
        };
        Box::pin(server::serve(socket, forwarder))
    }

    /// `load.deadline` is each try's wait (300 ms if none), `load.reconnects` the retries a
    /// question may take after its first try.
    fn client(&self, server: SocketAddr, id: u64, load: &Load) -> Task {
        let plan = client::Plan {
            rounds: load.rounds,
            tries: load.reconnects.saturating_add(1),
            wait: load.deadline.unwrap_or(Duration::from_millis(300)),
        };
        Box::pin(client::run(server, id, plan))
    }
}
