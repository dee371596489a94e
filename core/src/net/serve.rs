//! `serve`: Go's accept loop, grown up for a group of reactors. On the main reactor it accepts,
//! applies admission control (beyond `max_connections` a new connection is refused at once,
//! counted and traced), and hands each admitted connection to a sub-reactor, where the handler
//! runs. In a plain single-reactor runtime it is the one-task-per-connection accept loop.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::listener::TcpListener;
use super::stream::TcpStream;
use crate::group::Group;

/// How `serve` treats connections beyond the limit.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// Bytes written (once, best effort, without waiting) to a refused connection before it is
    /// closed, so the client is told why (`-ERR max number of clients reached\r\n`, as Redis
    /// says). Empty: closed without a word.
    pub reject_message: Vec<u8>,
}

/// Accepts on `listener` forever, running `handler(conn)` for each admitted connection on a
/// sub-reactor (or on this reactor, outside a group). The handler crosses threads, so it is
/// `Send + Sync`; the future it returns never does.
pub async fn serve<H, F>(listener: TcpListener, handler: H) -> io::Result<()>
where
    H: Fn(TcpStream) -> F + Send + Sync + 'static,
    F: Future<Output = io::Result<()>> + 'static,
{
    serve_with(listener, ServeOptions::default(), handler).await
}

/// [`serve`] with options.
pub async fn serve_with<H, F>(
    listener: TcpListener,
    opts: ServeOptions,
    handler: H,
) -> io::Result<()>
where
    H: Fn(TcpStream) -> F + Send + Sync + 'static,
    F: Future<Output = io::Result<()>> + 'static,
{
    let handler = Arc::new(handler);
    let mut backoff = Duration::ZERO;
    loop {
        let (conn, _peer) = match listener.accept().await {
            Ok(c) => {
                backoff = Duration::ZERO;
                c
            }
            Err(e) if listener_broken(&e) => return Err(e),
            Err(e) => {
                // Out of descriptors or memory: the listener is fine, the process is full.
                // Back off as Go's http.Server does (5 ms, doubling to 1 s) and go on.
                backoff = (backoff * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                let errno = crate::trace::errno_of(&e);
                crate::trace::event!("doppel::net", "accept_backoff", errno = errno);
                crate::time::sleep(backoff).await;
                continue;
            }
        };
        // Read per connection, not once: a reactor may join its group after `serve` started.
        match crate::group::api::group() {
            None => {
                let h = handler.clone();
                drop(crate::current::spawn(async move { h(conn).await }));
            }
            Some(g) => hand_off(&g, conn, &opts, &handler),
        }
    }
}

/// Whether an accept error means the listener itself is gone (closed, invalid), not that the
/// process is out of something for now (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`, a failed
/// registration of the new socket).
fn listener_broken(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EBADF | libc::EINVAL | libc::ENOTSOCK | libc::EOPNOTSUPP)
    ) || e.kind() == io::ErrorKind::NotConnected
}

/// Admits `conn` or refuses it, then sends it to a sub-reactor with the handler.
fn hand_off<H, F>(g: &Arc<Group>, conn: TcpStream, opts: &ServeOptions, handler: &Arc<H>)
where
    H: Fn(TcpStream) -> F + Send + Sync + 'static,
    F: Future<Output = io::Result<()>> + 'static,
{
    let fd = conn.fd();
    if !g.admit() {
        crate::trace::event!("doppel::net", "rejected", fd = fd.0, live = g.stats().live);
        tell(&conn, &opts.reject_message);
        return; // dropped: closed
    }
    let sub = g.place();
    crate::trace::event!("doppel::net", "handoff", fd = fd.0, to = sub);
    let detached = match conn.detach() {
        Ok(d) => d,
        Err(_) => return g.left(sub),
    };
    let (h, left) = (handler.clone(), Left(g.clone(), sub));
    let job = Box::new(move || {
        if let Ok(conn) = detached.attach() {
            drop(crate::current::spawn(async move {
                let _left = left;
                h(conn).await
            }));
        }
    });
    if let Some(r) = g.remote(sub) {
        let _ = r.send(job); // refused: the sub-reactor is gone; dropping the job counts it
    }
}

/// Writes `msg` to a refused connection without waiting, through the retry loop's
/// non-parking calls (`write_now`, `read_now`: `EINTR` is retried there): a short write
/// continues, but a full send buffer (`WouldBlock`) or an error gives up (a bounded number of
/// calls in all: the accept loop never stalls on a refused client). Then it half-closes and
/// discards what the client already sent, so the close that follows is a FIN, not a reset
/// that could destroy the message before the client reads it (a client that sends more after
/// this still gets a reset: best effort).
fn tell(conn: &TcpStream, msg: &[u8]) {
    let mut rest = msg;
    for _ in 0..16 {
        if rest.is_empty() {
            break;
        }
        match conn.write_now(rest) {
            Ok(n) => rest = &rest[n..],
            Err(_) => break,
        }
    }
    if msg.is_empty() {
        return;
    }
    let _ = conn.shutdown(std::net::Shutdown::Write);
    let mut sink = [0u8; 4096];
    for _ in 0..16 {
        match conn.read_now(&mut sink) {
            Ok(n) if n > 0 => {}
            _ => return,
        }
    }
}

/// Counts a connection gone from its sub-reactor when dropped (its task ended, was
/// cancelled, or never started).
struct Left(Arc<Group>, usize);

impl Drop for Left {
    fn drop(&mut self) {
        self.0.left(self.1);
    }
}
