//! The `admission-race` twin: the KV server behind a hand-written main-reactor loop that does
//! what `doppel::net::serve` does for a group (count live connections, refuse beyond the
//! group's `max_connections` with Redis's `-ERR max number of clients reached`, hand the rest
//! to sub-reactors) and gets the count wrong across reactors.
//!
//! The count is one atomic. A sub-reactor subtracts one when a connection it serves ends. The
//! main reactor reads the count to decide whether to admit a connection, hands the connection
//! to a sub-reactor and waits for the sub-reactor to say it has it (so that a connection no
//! sub-reactor took is never counted), and then stores *the count it read* plus one: a
//! check-then-act split across a `spawn_on` round trip. A departure recorded on another
//! reactor during that round trip is overwritten, and the connection that left stays counted
//! for good. Each such interleaving leaks one; once the leaks fill the headroom above the real
//! load, the server refuses clients it has room for, and a refused client gets `-ERR max number
//! of clients reached` where it expected `+OK`.
//!
//! Departures and admissions meet only when a client loses a connection and reconnects while
//! the server is still tearing the old one down, on another reactor, in the same instant: a
//! client timed out behind a stalled link and the old connection's last bytes, its FIN and the
//! new connection's SYN all arrive when the link clears. On loopback nobody reconnects, so a
//! loopback run passes every time; the simulator lines the arrivals up and lets the seeded
//! choice of which reactor steps first decide the race. The correct server (`serve`) counts
//! with `fetch_add` before the hand-off and subtracts in a guard dropped on the sub-reactor,
//! so no interleaving loses an update.

use std::io;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use doppel::net::{TcpListener, TcpStream};

use super::server::{handle, Config, REFUSED};
use super::store::Shared;
use super::Variant;

/// The twin's entry in the variant list: what it does wrong, and the public bugs it mirrors.
pub const ABOUT: &str = "counts live connections for admission by hand: reads the count, \
     hands the connection to a sub-reactor, waits for it, then stores the count it read plus \
     one, so a departure recorded on another reactor meanwhile is lost; the count creeps up \
     and clients are refused with room to spare (a non-atomic active-connection counter: \
     FubarDevelopment/FtpServer#68; a leaked counter that rejects every new connection: \
     besu-eth/besu#11277; clients bounced with free slots: pgagroal/pgagroal#875)";

/// Accepts on `listener` forever, admitting by its own count (see the module docs) and serving
/// each admitted connection with the correct [`handle`] on a sub-reactor, in turn. On a plain
/// runtime there is no limit and the one reactor serves every connection.
pub async fn serve_counting(
    listener: TcpListener,
    store: Shared,
    config: Config,
) -> io::Result<()> {
    let group = doppel::reactors::group();
    let max = group
        .as_ref()
        .map_or(usize::MAX, |g| g.config().max_connections);
    let subs: Range<usize> = group.as_ref().map_or(0..1, |g| g.sub_reactors());
    let live = Arc::new(AtomicUsize::new(0));
    let mut turn = 0usize;
    loop {
        let (conn, _peer) = listener.accept().await?;
        let n = live.load(Ordering::Acquire);
        tracing::info!(target: "kv", live = n, max, "admission check");
        if n >= max {
            // Best effort, without waiting, as `serve` does; dropping the stream closes it.
            let _ = conn.write_once(REFUSED);
            continue;
        }
        let sub = subs.start + turn % subs.len();
        turn = turn.wrapping_add(1);
        if hand_off(conn, sub, &store, config, &live).await {
            // BUG (the twin): the count read before the round trip, plus one. A connection
            // that ended on a sub-reactor meanwhile (its `fetch_sub` landed between the load
            // above and this store) is counted again, for good. `serve` counts with one
            // `fetch_add` before the hand-off instead.
            live.store(n + 1, Ordering::Release);
            tracing::info!(target: "kv", live = n + 1, "admitted");
        }
    }
}

/// Sends `conn` to reactor `sub`, to be served there by the correct handler; true once that
/// reactor has it. When its handler ends, the connection is subtracted from `live`.
async fn hand_off(
    conn: TcpStream,
    sub: usize,
    store: &Shared,
    config: Config,
    live: &Arc<AtomicUsize>,
) -> bool {
    let Ok(detached) = conn.detach() else {
        return false;
    };
    let (store, live) = (Arc::clone(store), Arc::clone(live));
    let taken = doppel::reactors::spawn_on(sub, move || async move {
        let conn = detached.attach()?;
        drop(doppel::spawn(async move {
            let _ = handle(conn, store, config, Variant::Correct).await;
            let was = live.fetch_sub(1, Ordering::AcqRel);
            tracing::info!(target: "kv", live = was.wrapping_sub(1), "departed");
        }));
        io::Result::Ok(())
    });
    match taken {
        Ok(on_sub) => matches!(on_sub.await, Ok(Ok(()))),
        Err(_) => false,
    }
}
