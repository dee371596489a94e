//! The two multi-threaded echo servers, each in its idiomatic form and with two threads serving
//! connections:
//!
//! - `doppel-multi`: `doppel::real::multi` with two sub-reactors and no workers; the main
//!   reactor runs `doppel::net::serve`, which accepts and hands each connection to a
//!   sub-reactor (round robin), where its handler runs for the connection's whole life.
//! - `tokio-mt`: tokio's multi-thread runtime with two worker threads; the accept loop runs in
//!   `block_on` and each connection is a `tokio::spawn`ed task (work stealing decides where it
//!   runs).
//!
//! Like the single-threaded servers, a handler allocates its buffer only on first data.
//! `--exit-after N` ends the process once N connections have closed (counted over all threads).

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

use doppel::group::GroupConfig;

use crate::servers::{announce, BUF};

/// Connections closed so far, over every thread of the server.
static CLOSED: AtomicU64 = AtomicU64::new(0);

/// Counts a closed connection and ends the process once `exit_after` have closed. The
/// process ends from whichever thread closed the last one: the measurements that use
/// `--exit-after` need only the process's exit, not an orderly shutdown of its threads.
fn closed_one(exit_after: Option<u64>) {
    let closed = CLOSED.fetch_add(1, Ordering::AcqRel) + 1;
    if exit_after.is_some_and(|n| closed >= n) {
        std::process::exit(0);
    }
}

/// Echoes one connection on the sub-reactor that owns it.
async fn doppel_conn(conn: doppel::net::TcpStream) -> io::Result<()> {
    conn.set_nodelay(true)?;
    let mut buf = Vec::new();
    // Bounded by the connection: every pass reads data or ends at EOF or an error.
    loop {
        if buf.is_empty() {
            // Allocate on first data: an idle connection holds no buffer.
            conn.readable().await?;
            buf = vec![0u8; BUF];
        }
        match conn.read(&mut buf).await? {
            0 => return Ok(()),
            n => conn.write_all(&buf[..n]).await?,
        }
    }
}

/// `doppel-multi`: the main reactor accepts, two sub-reactors serve, with the default spin
/// before blocking unless `REAL_ECHO_SPIN_POLLS` sets another (the README's sweep of it).
pub fn doppel_multi_server(exit_after: Option<u64>) -> io::Result<()> {
    let mut config = GroupConfig::default().sub_reactors(2).workers(0);
    if let Ok(v) = std::env::var("REAL_ECHO_SPIN_POLLS") {
        let n = v.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("REAL_ECHO_SPIN_POLLS={v:?}: expected a whole number"),
            )
        })?;
        config = config.spin_polls(n);
    }
    let rt = doppel::real::multi(config)?;
    rt.block_on(async {
        let listener = doppel::net::TcpListener::bind("127.0.0.1:0")?;
        announce(listener.local_addr()?.port());
        doppel::net::serve(listener, move |conn| async move {
            let out = doppel_conn(conn).await;
            closed_one(exit_after);
            out
        })
        .await
    })
}

/// Echoes one connection on whichever tokio worker runs its task.
async fn tokio_conn(mut conn: tokio::net::TcpStream) -> io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = Vec::new();
    // Bounded by the connection: every pass reads data or ends at EOF or an error.
    loop {
        if buf.is_empty() {
            // Allocate on first data: an idle connection holds no buffer.
            conn.readable().await?;
            buf = vec![0u8; BUF];
        }
        match conn.read(&mut buf).await? {
            0 => return Ok(()),
            n => conn.write_all(&buf[..n]).await?,
        }
    }
}

/// `tokio-mt`: `block_on` accepts, two worker threads run the connection tasks.
pub fn tokio_mt_server(exit_after: Option<u64>) -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        announce(listener.local_addr()?.port());
        // Bounded by the process: ends on an accept error or by `closed_one`'s exit.
        loop {
            let (conn, _) = listener.accept().await?;
            conn.set_nodelay(true)?;
            tokio::spawn(async move {
                let _ = tokio_conn(conn).await;
                closed_one(exit_after);
            });
        }
    })
}
