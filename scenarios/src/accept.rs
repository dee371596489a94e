//! The accept loop every server here starts from, Go's `net.Listen` + `Accept` + `go
//! HandleConn`: one task per connection, and an accept loop that outlives any one connection.
//! Its buggy twin is the hand-written loop that treats every `accept` error as fatal.
//!
//! The `accept` workload serves echo through either loop, so the twin's bug shows as clients
//! that are never accepted.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use doppel::net::{TcpListener, TcpStream};

use crate::workload::{Load, Task, Variant, Workload, CORRECT};

/// Accepts forever, spawning `handle(conn)` for each connection. doppel's `accept` already
/// retries `EINTR` and connections that died in the queue; a connection whose handler fails
/// ends alone. Other accept errors (`EMFILE`, a closed listener) end the loop with the error.
pub async fn serve<H, F>(listener: TcpListener, handle: H) -> io::Result<()>
where
    H: Fn(TcpStream) -> F,
    F: Future<Output = io::Result<()>> + 'static,
{
    loop {
        let (conn, _peer) = listener.accept().await?;
        doppel::spawn(handle(conn));
    }
}

/// The twin: a hand-written edge-triggered accept loop over the raw `accept(2)` that retries
/// only `EINTR`. One client that resets while queued returns `ECONNABORTED`, and the loop, and
/// with it the whole server, is gone for good (hickory-dns#3725; gnet#453, tiny-http#284).
pub async fn serve_fragile<H, F>(listener: TcpListener, handle: H) -> io::Result<()>
where
    H: Fn(TcpStream) -> F,
    F: Future<Output = io::Result<()>> + 'static,
{
    loop {
        listener.wait_edge().await?;
        loop {
            match listener.accept_once() {
                Ok((conn, _peer)) => {
                    doppel::spawn(handle(conn));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e), // BUG: ECONNABORTED is "try again", not fatal.
            }
        }
    }
}

/// The `accept` workload: echo behind the correct loop or its fragile twin.
#[derive(Clone, Copy, Debug)]
pub struct Accept;

/// The twin's entry in the variant list.
const ABORT_FATAL: Variant = Variant {
    name: "abort-fatal",
    about: "an accept loop that dies on ECONNABORTED (hickory-dns#3725, gnet#453, tiny-http#284)",
};

/// Echoes one connection, dropping its error (a failed connection ends alone).
async fn echo(conn: TcpStream) -> io::Result<()> {
    let _ = crate::echo::handle(conn).await;
    Ok(())
}

impl Workload for Accept {
    /// Its own assertions: the binary holds every built-in workload's.
    fn coverage_scope(&self) -> &'static [&'static str] {
        &["doppel_scenarios::accept"]
    }

    fn name(&self) -> &'static str {
        "accept"
    }

    fn about(&self) -> &'static str {
        "Go's accept loop (one task per connection) serving echo; clients that reconnect often"
    }

    fn variants(&self) -> &'static [Variant] {
        &[CORRECT, ABORT_FATAL]
    }

    fn server(&self, variant: usize, listener: TcpListener) -> Task {
        if variant == 1 {
            Box::pin(serve_fragile(listener, echo))
        } else {
            Box::pin(serve(listener, echo))
        }
    }

    fn client(&self, server: SocketAddr, id: u64, load: &Load) -> Task {
        Box::pin(crate::echo::churn(server, id, load.clone()))
    }
}
