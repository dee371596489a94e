//! Running a workload: in a simulated world (a server host and one host per client) or on the
//! real backend over 127.0.0.1 (one reactor, one connection per client). Specs add links, faults
//! and limits on top of [`sim`]'s world.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use doppel::net::TcpListener;
use doppel::sim::SimBuilder;

use crate::workload::{Load, Workload};

/// The simulated server's address.
pub const SERVER_IP: &str = "10.0.0.1";

/// The simulated address of client `i` (counting from 0): 10.0.1.1, 10.0.1.2, ... 10.0.255.255.
pub fn client_ip(i: u32) -> String {
    let n = i + 1;
    format!("10.0.{}.{}", 1 + n / 256, n % 256)
}

/// The host name of client `i`.
pub fn client_name(i: u32) -> String {
    format!("c{i}")
}

/// A world for `seed`: host `server` at [`SERVER_IP`] runs `variant` of `workload` on its port,
/// and `load.clients` client hosts run its client. No faults yet: add them on the builder.
pub fn sim(workload: &'static dyn Workload, variant: usize, load: &Load, seed: u64) -> SimBuilder {
    let port = workload.port();
    let server: SocketAddr = SocketAddr::new(SERVER_IP.parse().expect("an IP"), port);
    let mut b = SimBuilder::new(seed).host("server", SERVER_IP, move || async move {
        let listener = TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], port)))?;
        workload.server(variant, listener).await
    });
    for i in 0..load.clients {
        let load = load.clone();
        b = b.client(&client_name(i), &client_ip(i), move || {
            workload.client(server, u64::from(i), &load)
        });
    }
    b
}

/// What a loopback run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealOutcome {
    /// Each client's name and its error, if it failed.
    pub clients: Vec<(String, Option<String>)>,
}

impl RealOutcome {
    /// The first failure, as `client: error`.
    pub fn failure(&self) -> Option<String> {
        self.clients
            .iter()
            .find_map(|(c, e)| e.as_ref().map(|e| format!("client {c} failed: {e}")))
    }
}

/// Runs `variant` of `workload` on the real backend over 127.0.0.1 (an ephemeral port), with
/// `load.clients` clients on one reactor, bounded by `limit` of wall time. An `Err` means the
/// run itself could not happen (no runtime, no socket, over time); client failures are in the
/// outcome.
pub fn real(
    workload: &'static dyn Workload,
    variant: usize,
    load: &Load,
    limit: Duration,
) -> io::Result<RealOutcome> {
    let rt = doppel::real::runtime()?;
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = doppel::spawn(workload.server(variant, listener));
        let clients: Vec<_> = (0..load.clients)
            .map(|i| doppel::spawn(workload.client(addr, u64::from(i), load)))
            .collect();
        let all = async {
            let mut out = Vec::new();
            for (i, c) in clients.into_iter().enumerate() {
                let r = c.await;
                let err = match r {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(e.to_string()),
                    Err(e) => Some(format!("task ended abnormally: {e}")),
                };
                out.push((client_name(i as u32), err));
            }
            out
        };
        let out = doppel::time::timeout(limit, all).await;
        server.abort();
        let clients = out.map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the loopback run took longer than {limit:?}"),
            )
        })?;
        Ok(RealOutcome { clients })
    })
}
