//! Running a workload: in a simulated world (a server host and one host per client) or on the
//! real backend over 127.0.0.1 (one connection per client). The server runs on one reactor, or
//! on a group of reactors when a [`GroupConfig`] is given ([`sim_on`], [`real_on`]): then the
//! main reactor accepts and hands connections to sub-reactors (simulated threads in the
//! simulator, OS threads on loopback). Specs add links, faults and limits on top of
//! [`sim_on`]'s world.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use doppel_core::group::{GroupConfig, GroupStats};
use doppel_sim::SimBuilder;

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
/// on one reactor, and `load.clients` client hosts run its client. No faults yet: add them on
/// the builder.
pub fn sim(workload: &'static dyn Workload, variant: usize, load: &Load, seed: u64) -> SimBuilder {
    sim_on(workload, variant, load, seed, None)
}

/// [`sim`], with the server host running a group of reactors shaped by `group` when it is
/// `Some` (its main runs on the main reactor; `doppel::net::serve` hands connections to the
/// sub-reactors, and the world's seeded choice of which reactor steps next decides every race
/// between them).
pub fn sim_on(
    workload: &'static dyn Workload,
    variant: usize,
    load: &Load,
    seed: u64,
    group: Option<GroupConfig>,
) -> SimBuilder {
    let port = workload.port();
    let server: SocketAddr = SocketAddr::new(SERVER_IP.parse().expect("an IP"), port);
    let main = move || async move {
        let any = SocketAddr::from(([0, 0, 0, 0], port));
        crate::workload::bind_server(workload, variant, any)?
            .0
            .await
    };
    let mut b = match group {
        Some(config) => SimBuilder::new(seed).host_group("server", SERVER_IP, config, main),
        None => SimBuilder::new(seed).host("server", SERVER_IP, main),
    };
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
    /// On a group of reactors, what its `serve` did (connections admitted and refused); `None`
    /// on one reactor.
    pub group: Option<GroupStats>,
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
    real_on(workload, variant, load, limit, None)
}

/// [`real`], on a group of reactors (`doppel::real::multi`) when `group` is `Some`: the main
/// reactor runs the server's main and the clients, the sub-reactors (and workers) are OS
/// threads that serve the connections it hands them.
pub fn real_on(
    workload: &'static dyn Workload,
    variant: usize,
    load: &Load,
    limit: Duration,
    group: Option<GroupConfig>,
) -> io::Result<RealOutcome> {
    match group {
        None => {
            let rt = doppel_real::runtime()?;
            let clients = rt.block_on(drive(workload, variant, load, limit))?;
            Ok(RealOutcome {
                clients,
                group: None,
            })
        }
        Some(config) => {
            let rt = doppel_real::multi(config)?;
            let clients = rt.block_on(drive(workload, variant, load, limit))?;
            Ok(RealOutcome {
                clients,
                group: Some(rt.group().stats()),
            })
        }
    }
}

/// The body of a loopback run, on the current (main) reactor: the server and the clients, each
/// client's name and error, bounded by `limit`.
async fn drive(
    workload: &'static dyn Workload,
    variant: usize,
    load: &Load,
    limit: Duration,
) -> io::Result<Vec<(String, Option<String>)>> {
    let local = SocketAddr::from(([127, 0, 0, 1], 0));
    let (main, addr) = crate::workload::bind_server(workload, variant, local)?;
    let server = doppel_core::spawn(main);
    let clients: Vec<_> = (0..load.clients)
        .map(|i| doppel_core::spawn(workload.client(addr, u64::from(i), load)))
        .collect();
    let all = async {
        let mut out = Vec::new();
        for (i, c) in clients.into_iter().enumerate() {
            let err = match c.await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(e) => Some(format!("task ended abnormally: {e}")),
            };
            out.push((client_name(i as u32), err));
        }
        out
    };
    let out = doppel_core::time::timeout(limit, all).await;
    server.abort();
    out.map_err(|_| {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!("the loopback run took longer than {limit:?}"),
        )
    })
}
