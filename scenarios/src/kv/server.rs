//! The KV server: every connection served by [`handle`], all of them sharing one [`Shared`]
//! store, accepted through `doppel::net::serve`. On a plain runtime that is Go's accept loop
//! (one task per connection on the one reactor); on a group of reactors the main reactor
//! accepts, applies the group's admission limit (beyond `max_connections` a client gets Redis's
//! `-ERR max number of clients reached` and is closed) and hands each connection to a
//! sub-reactor, where it is served for good. The store is an `Arc<Mutex<Store>>`, locked once
//! per batch of requests and never across an `await`.
//!
//! A connection reads into a buffer, parses every complete request in it, executes them in
//! order, and sends all their replies with one `write_all` per read: a pipeline of N requests
//! that arrives in one read costs one `read` and one `write`, which is where Redis gets its
//! pipelining speed too. Two deadlines guard the reads: a request that has started arriving
//! must be complete within [`Config::request_timeout`], and a connection with nothing pending
//! is closed after [`Config::idle_timeout`]. Both are read deadlines on the socket
//! (`set_read_deadline`); the idle one is re-armed lazily (only when it fires early), so a busy
//! connection pays for a timer about once per idle period, not once per read.
//!
//! When it closes a connection on its own (a deadline, `QUIT`, a protocol error), the server
//! has answered every request it read: replies go out before the close. A client that sees an
//! orderly close may rely on it: whatever it sent that was not answered was not executed.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use doppel::net::{ServeOptions, TcpListener, TcpStream};
use doppel::time::Instant;

use super::command::{self, Flow};
use super::resp::{self, Parsed};
use super::store::{self, Shared};
use super::{reply, Variant};

/// The read buffer's size to start with (and to go back to after a big request).
const INITIAL_BUF: usize = 16 * 1024;

/// The least free space worth a `read`; below it the buffer is compacted or grown first.
const MIN_READ: usize = 4 * 1024;

/// The server's deadlines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// How long a connection may sit with no request pending before the server closes it.
    pub idle_timeout: Duration,
    /// How long a request may take to arrive once its first byte has been read.
    pub request_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            idle_timeout: Duration::from_secs(300),
            request_timeout: Duration::from_secs(5),
        }
    }
}

/// What a client refused at the connection limit is told before the close (Redis's words).
pub const REFUSED: &[u8] = b"-ERR max number of clients reached\r\n";

/// Serves `listener` forever, every connection on `store`, through `doppel::net::serve` (see
/// the module docs). `variant` picks the correct server or a buggy twin; the
/// `admission-race` twin accepts with a hand-written loop of its own instead
/// ([`super::admission`]).
pub async fn serve(
    listener: TcpListener,
    store: Shared,
    config: Config,
    variant: Variant,
) -> io::Result<()> {
    if variant == Variant::AdmissionRace {
        return super::admission::serve_counting(listener, store, config).await;
    }
    let opts = ServeOptions {
        reject_message: REFUSED.to_vec(),
    };
    doppel::net::serve_with(listener, opts, move |conn| {
        let store = Arc::clone(&store);
        async move {
            let _ = handle(conn, store, config, variant).await;
            Ok(())
        }
    })
    .await
}

/// Which deadline the read half has armed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Armed {
    /// None yet (or it fired early and must be set again).
    Nothing,
    /// The idle deadline: at or before the real one, which is re-checked when it fires.
    Idle,
    /// A request's deadline, at this instant.
    Request(Instant),
}

/// One connection's state.
struct Session {
    /// The socket.
    conn: TcpStream,
    /// The map every connection shares.
    store: Shared,
    /// The deadlines.
    config: Config,
    /// Correct, or the twin.
    variant: Variant,
    /// Bytes read; `buf[start..end]` is not parsed yet.
    buf: Vec<u8>,
    /// The first unparsed byte.
    start: usize,
    /// The end of the bytes read.
    end: usize,
    /// Parse again only once `end - start` reaches this (what the last parse said it needs).
    need: usize,
    /// Replies not yet written.
    out: Vec<u8>,
    /// The request being parsed: resumes where the last read left it.
    parser: resp::Parser,
    /// When the last read returned data: the idle clock starts there.
    last_read: Instant,
    /// When the request now arriving started arriving, if one is incomplete.
    partial_since: Option<Instant>,
    /// The read deadline in force.
    armed: Armed,
}

/// Serves one connection until the client closes it, a deadline passes, or an I/O error.
pub async fn handle(
    conn: TcpStream,
    store: Shared,
    config: Config,
    variant: Variant,
) -> io::Result<()> {
    let mut s = Session {
        conn,
        store,
        config,
        variant,
        buf: vec![0; INITIAL_BUF],
        start: 0,
        end: 0,
        need: 1,
        out: Vec::with_capacity(INITIAL_BUF),
        parser: resp::Parser::new(),
        last_read: Instant::now(),
        partial_since: None,
        armed: Armed::Nothing,
    };
    loop {
        s.arm()?;
        s.make_room();
        let n = match s.conn.read(&mut s.buf[s.end..]).await {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                if s.expired() {
                    return Ok(());
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        s.end += n;
        s.last_read = Instant::now();
        let flow = s.process();
        if !s.out.is_empty() {
            s.conn.write_all(&s.out).await?;
            s.out.clear();
        }
        if flow == Flow::Close {
            return Ok(());
        }
    }
}

impl Session {
    /// Sets the read deadline this moment calls for, if it is not already set.
    fn arm(&mut self) -> io::Result<()> {
        match (self.partial_since, self.armed) {
            (Some(since), armed) => {
                let at = since + self.config.request_timeout;
                if armed != Armed::Request(at) {
                    self.armed = Armed::Request(at);
                    if self.variant == Variant::DeadlineClose {
                        // BUG (the twin): Go's `SetDeadline` mistake. This arms the write half
                        // too, and nothing ever clears it: once `at` passes, every later
                        // reply's write fails at once with `TimedOut`, after its request ran.
                        return self.conn.set_deadline(Some(at));
                    }
                    return self.conn.set_read_deadline(Some(at));
                }
            }
            (None, Armed::Idle) => {}
            (None, _) => {
                self.armed = Armed::Idle;
                let at = self.last_read + self.config.idle_timeout;
                return self.conn.set_read_deadline(Some(at));
            }
        }
        Ok(())
    }

    /// The armed read deadline passed: true if the connection is to close (a request too slow,
    /// or a connection really idle that long); false if the deadline was an early idle one,
    /// to be set again from the last read.
    fn expired(&mut self) -> bool {
        let now = Instant::now();
        let closing = match self.partial_since {
            Some(since) => now >= since + self.config.request_timeout,
            None => now >= self.last_read + self.config.idle_timeout,
        };
        self.armed = Armed::Nothing;
        closing
    }

    /// Makes room for the next read: rewinds an empty buffer, moves a partial request to the
    /// front, and grows the buffer (doubling) for a request bigger than it.
    fn make_room(&mut self) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > 4 * INITIAL_BUF {
                self.buf = vec![0; INITIAL_BUF];
            }
        }
        if self.buf.len() - self.end >= MIN_READ {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < MIN_READ {
            let want = (self.buf.len() * 2).max(self.end + MIN_READ);
            self.buf.resize(want, 0);
        }
    }

    /// Parses and executes every complete request in the buffer, appending the replies.
    fn process(&mut self) -> Flow {
        let mut store = store::lock(&self.store);
        let mut completed = false;
        while self.end - self.start >= self.need {
            let buf = &self.buf[self.start..self.end];
            match self.parser.parse(buf) {
                Ok(Parsed::Request { used }) => {
                    let args = self.parser.args();
                    let flow = command::execute(&buf[..used], args, &mut store, &mut self.out);
                    self.start += used;
                    self.need = 1;
                    completed = true;
                    if flow == Flow::Close {
                        return Flow::Close;
                    }
                }
                Ok(Parsed::Empty { used }) => {
                    self.start += used;
                    self.need = 1;
                }
                Ok(Parsed::Incomplete { need }) => self.need = need,
                Err(e) => {
                    reply::error(&mut self.out, &format!("ERR Protocol error: {e}"));
                    return Flow::Close;
                }
            }
        }
        if self.start == self.end {
            self.partial_since = None;
        } else if completed || self.partial_since.is_none() {
            self.partial_since = Some(self.last_read);
        }
        Flow::Continue
    }
}
