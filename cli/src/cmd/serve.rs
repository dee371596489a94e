//! `serve`: a workload's server alone on the real backend (epoll/kqueue), for clients nobody
//! here wrote (curl, grpcio, a load generator) to talk to.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use super::args::ServeArgs;
use super::{Exit, Usage};
use crate::workload::{self, Workload};
use crate::Cli;

/// Serves the workload until it stops, fails, or `--for` runs out. The first line it prints
/// is `WORKLOAD/VARIANT listening on ADDR` (the port a `:0` listener got).
pub(crate) fn main(cli: &Cli, a: &ServeArgs) -> Result<Exit, Usage> {
    let w =
        workload::find(&cli.workloads, &a.workload).map_err(|e| Usage(format!("serve: {e}")))?;
    let variant = match &a.variant {
        None => 0,
        Some(v) => workload::variant(w, v).map_err(|e| Usage(format!("serve: {e}")))?,
    };
    let listen = a
        .listen
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], w.port())));
    let rt = match doppel_real::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{}: serve: no runtime: {e}", cli.name);
            return Ok(Exit::Failed);
        }
    };
    let served = rt.block_on(serve(w, variant, listen, a.time));
    match served {
        Ok(()) => Ok(Exit::Ok),
        Err(Stop::Bind(e)) => Err(Usage(format!("serve: cannot listen on {listen}: {e}"))),
        Err(Stop::Failed(e)) => {
            eprintln!("{}: serve: the server failed: {e}", cli.name);
            Ok(Exit::Failed)
        }
    }
}

/// Why serving stopped early.
enum Stop {
    /// The address could not be bound (bad input: exit 2).
    Bind(std::io::Error),
    /// The server's main returned an error.
    Failed(std::io::Error),
}

/// Binds, says where, and runs the server, for at most `time`.
async fn serve(
    w: &'static dyn Workload,
    variant: usize,
    listen: SocketAddr,
    time: Option<Duration>,
) -> Result<(), Stop> {
    let (server, addr) = crate::workload::bind_server(w, variant, listen).map_err(Stop::Bind)?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{}/{} listening on {addr}",
        w.name(),
        w.variants()[variant].name
    );
    let _ = out.flush();
    drop(out);
    match time {
        None => server.await.map_err(Stop::Failed),
        Some(t) => match doppel_core::time::timeout(t, server).await {
            Ok(r) => r.map_err(Stop::Failed),
            Err(_) => Ok(()),
        },
    }
}
