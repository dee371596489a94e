//! The KV server: every connection served by [`handle`], all of them sharing one [`Shared`]
//! store, accepted through `doppel::net::serve`. On a plain runtime that is Go's accept loop
//! (one task per connection on the one reactor); on a group of reactors the main reactor
//! accepts, applies the group's admission limit (beyond `max_connections` a client gets Redis's
//! `-ERR max number of clients reached` and is closed) and hands each connection to a
//! sub-reactor, where it is served for good. The store is an `Arc<Mutex<Store>>`, locked once
//! per batch of requests and never across an `await`.
//!
//! A connection reads into a buffer, parses every complete request in it, executes them in
//! order, and sends all their replies with one `write_all` per read. With no request part-read,
//! the buffer is one lent by the reactor (`TcpStream::read_chunk`) and given back once the
//! batch is answered; only a request split across reads is copied into the connection's own
//! buffer. So a connection waiting for its next request holds no read buffer (and its reply
//! buffer only if a reply was small): 10,000 idle clients do not hold 10,000 × 16 KiB. A
//! pipeline of N requests that arrives in one read costs one `read` and one `write`, which is
//! where Redis gets its pipelining speed too. Two deadlines guard the reads: a request that has started arriving
//! must be complete within [`Config::request_timeout`], and a connection with nothing pending
//! is closed after [`Config::idle_timeout`]. Both are read deadlines on the socket
//! (`set_read_deadline`); the idle one is re-armed lazily (only when it fires early), so a busy
//! connection pays for a timer about once per idle period, not once per read.
//!
//! Replies are bounded per connection. Once [`FLUSH_AT`] bytes of them are queued, the server
//! writes them before it executes the next request of the batch, so a client that pipelines
//! a thousand `GET`s of a 1 MiB value (nine KB of requests) makes the server hold 64 KiB and
//! one reply, not a gigabyte: a client that does not read its replies stops its own requests
//! from running. A single reply bigger than [`Config::max_reply_bytes`] (default
//! [`DEFAULT_MAX_REPLY`], 64 MiB) closes the connection instead, as Redis's
//! `client-output-buffer-limit` does: the replies before it are sent, that request is not
//! answered, the store counts the close ([`super::Store::reply_limit_closes`]) and the trace
//! says `kv reply limit`. A server's reply memory is so at most its connections times
//! (`FLUSH_AT` + `max_reply_bytes`).
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

/// The own read buffer's size to start with, once a request is split across reads (and to go
/// back to after a big request).
const INITIAL_BUF: usize = 16 * 1024;

/// A reply buffer grown beyond this is given back once its replies are written (smaller ones
/// are kept: an idle connection then holds at most this much).
const KEEP_OUT: usize = 512;

/// The least free space worth a `read`; below it the buffer is compacted or grown first.
const MIN_READ: usize = 4 * 1024;

/// Reply bytes queued at which the server writes them before executing the next request.
pub const FLUSH_AT: usize = 64 * 1024;

/// The default of [`Config::max_reply_bytes`]: 64 MiB.
pub const DEFAULT_MAX_REPLY: usize = 64 * 1024 * 1024;

/// The server's deadlines and its reply bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// How long a connection may sit with no request pending before the server closes it.
    pub idle_timeout: Duration,
    /// How long a request may take to arrive once its first byte has been read.
    pub request_timeout: Duration,
    /// The most reply bytes one connection may have queued: a reply that takes it beyond
    /// closes the connection (see the module docs).
    pub max_reply_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            idle_timeout: Duration::from_secs(300),
            request_timeout: Duration::from_secs(5),
            max_reply_bytes: DEFAULT_MAX_REPLY,
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
    let config = Arc::new(config);
    doppel::net::serve_with(listener, opts, move |conn| {
        handle_quietly(conn, Arc::clone(&store), Arc::clone(&config), variant)
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
    /// The deadlines and the reply bound, one copy for every connection of a server.
    config: Arc<Config>,
    /// Correct, or the twin.
    variant: Variant,
    /// A request split across reads, `buf[start..end]`; empty (and unallocated) when none is.
    buf: Vec<u8>,
    /// The first unparsed byte.
    start: usize,
    /// The end of the bytes read.
    end: usize,
    /// Parse again only once `end - start` reaches this (what the last parse said it needs).
    need: usize,
    /// Replies not yet written.
    out: Vec<u8>,
    /// The parser of a request split across reads, which resumes where the last read left it;
    /// `None` between requests (each batch starts a parser of its own on the stack), so an
    /// idle connection does not carry one.
    parser: Option<Box<resp::Parser>>,
    /// When the last read returned data: the idle clock starts there.
    last_read: Instant,
    /// When the request now arriving started arriving, if one is incomplete.
    partial_since: Option<Instant>,
    /// The read deadline in force.
    armed: Armed,
}

/// Serves one connection until the client closes it, a deadline passes, or an I/O error.
///
/// A plain function returning the future, not an `async fn`: the session is built here and the
/// future owns it once (an `async fn` keeps its arguments and the locals made of them apart,
/// so the connection's state would take room twice over for as long as it lives).
pub fn handle(
    conn: TcpStream,
    store: Shared,
    config: Config,
    variant: Variant,
) -> impl std::future::Future<Output = io::Result<()>> + 'static {
    let mut s = Session::new(conn, store, Arc::new(config), variant);
    async move { s.run().await }
}

/// [`handle`] for `serve`: how the connection ended is the session's business (an I/O error
/// is the client's going away), so the task's output is always `Ok`.
fn handle_quietly(
    conn: TcpStream,
    store: Shared,
    config: Arc<Config>,
    variant: Variant,
) -> impl std::future::Future<Output = io::Result<()>> + 'static {
    let mut s = Session::new(conn, store, config, variant);
    async move {
        let _ = s.run().await;
        Ok(())
    }
}

/// What a read brought: the connection's own buffer (taken out of the session while its bytes
/// are answered) with the count just read into it, or a lent chunk.
enum Batch {
    /// The own buffer, whose bytes are `buf[start..end]`, and how many the read added.
    Own(Vec<u8>, usize),
    /// The reactor's buffer, with the bytes.
    Lent(doppel::net::Chunk),
}

impl Batch {
    /// The buffer the batch's bytes are in.
    fn bytes(&self) -> &[u8] {
        match self {
            Batch::Own(buf, _) => buf,
            Batch::Lent(chunk) => chunk,
        }
    }
}

/// What a connection does after a batch of requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    /// Read more: every complete request read is answered.
    Read,
    /// Write the replies queued ([`FLUSH_AT`] reached), then execute the rest of the batch.
    Write,
    /// Write the replies queued, then close.
    Close,
}

impl Session {
    /// A session for a connection just accepted.
    fn new(conn: TcpStream, store: Shared, config: Arc<Config>, variant: Variant) -> Session {
        Session {
            conn,
            store,
            config,
            variant,
            buf: Vec::new(),
            start: 0,
            end: 0,
            need: 1,
            out: Vec::new(),
            parser: None,
            last_read: Instant::now(),
            partial_since: None,
            armed: Armed::Nothing,
        }
    }

    /// The connection's loop: read a batch (a lent chunk, or into its own buffer while a
    /// request is split), answer its complete requests, writing replies as they are due, until
    /// it is to close. Written flat, one await at a time, so the loop's future stays small:
    /// every idle connection holds one.
    async fn run(&mut self) -> io::Result<()> {
        loop {
            // A `let`, not `while let`: a `while let` keeps its scrutinee's temporaries (the
            // read's future among them) for the whole body, beside the write's.
            let Some(batch) = self.next_batch().await? else {
                return Ok(());
            };
            if let Batch::Lent(chunk) = &batch {
                (self.start, self.end) = (0, chunk.len());
            }
            loop {
                let next = self.process(batch.bytes());
                self.flush().await?;
                match next {
                    Next::Read => break,
                    Next::Write => continue,
                    Next::Close => return Ok(()),
                }
            }
            self.after_batch(batch);
        }
    }

    /// Reads the next batch, under the read deadline this moment calls for; `None` once the
    /// connection is to close (the client's end of stream, or a deadline that passed for good).
    async fn next_batch(&mut self) -> io::Result<Option<Batch>> {
        loop {
            self.arm()?;
            let got = if self.start == self.end {
                self.conn.read_chunk().await.map(Batch::Lent)
            } else {
                self.make_room();
                let n = self.conn.read(&mut self.buf[self.end..]).await;
                n.map(|n| {
                    self.end += n;
                    Batch::Own(std::mem::take(&mut self.buf), n)
                })
            };
            match got {
                Ok(Batch::Own(buf, 0)) => {
                    self.buf = buf;
                    return Ok(None);
                }
                Ok(Batch::Lent(chunk)) if chunk.is_empty() => return Ok(None),
                Ok(batch) => {
                    self.last_read = Instant::now();
                    return Ok(Some(batch));
                }
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    if self.expired() {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// After a batch is answered: the own buffer goes back to the allocator once its split
    /// request is answered (or stays, holding the rest); a lent chunk goes back to the reactor,
    /// the request it left part-read (if any) copied out first.
    fn after_batch(&mut self, batch: Batch) {
        doppel::sometimes!(
            self.start < self.end,
            "kv: a pipelined batch was split across reads (a request left part-read)"
        );
        match batch {
            Batch::Own(buf, _) => {
                if self.start == self.end {
                    (self.start, self.end) = (0, 0);
                } else {
                    self.buf = buf;
                }
            }
            Batch::Lent(chunk) => self.keep_partial(&chunk),
        }
    }

    /// After a batch from a lent chunk: copies the request it left part-read (if any) into the
    /// connection's own buffer, since the chunk goes back to the reactor.
    fn keep_partial(&mut self, chunk: &[u8]) {
        let rest = &chunk[self.start..self.end];
        if !rest.is_empty() {
            self.buf = vec![0; INITIAL_BUF.max(rest.len() + MIN_READ)];
            self.buf[..rest.len()].copy_from_slice(rest);
        }
        (self.start, self.end) = (0, rest.len());
    }

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

    /// Makes room in the own buffer for the next read of a split request: moves it to the
    /// front, and grows the buffer (doubling) for a request bigger than it.
    fn make_room(&mut self) {
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

    /// Writes the queued replies, and gives back a reply buffer a big reply grew.
    async fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.conn.write_all(&self.out).await?;
            self.out.clear();
        }
        if self.out.capacity() > KEEP_OUT {
            self.out = Vec::new();
        }
        Ok(())
    }

    /// Parses and executes the complete requests in the buffer, appending the replies, until
    /// none is left ([`Next::Read`]), [`FLUSH_AT`] reply bytes are queued ([`Next::Write`]),
    /// or the connection is to close.
    fn process(&mut self, data: &[u8]) -> Next {
        let mut store = store::lock(&self.store);
        let mut parser = self.parser.take().map_or_else(resp::Parser::new, |p| *p);
        let mut completed = false;
        while self.end - self.start >= self.need {
            let buf = &data[self.start..self.end];
            match parser.parse(buf) {
                Ok(Parsed::Request { used }) => {
                    let (args, before) = (parser.args(), self.out.len());
                    let flow = command::execute(&buf[..used], args, &mut store, &mut self.out);
                    self.start += used;
                    self.need = 1;
                    completed = true;
                    let limit = self.config.max_reply_bytes;
                    if flow == Flow::Close || over_limit(&mut self.out, before, limit, &mut store) {
                        return Next::Close;
                    }
                    if self.out.len() >= FLUSH_AT {
                        break;
                    }
                }
                Ok(Parsed::Empty { used }) => {
                    self.start += used;
                    self.need = 1;
                }
                Ok(Parsed::Incomplete { need }) => self.need = need,
                Err(e) => {
                    reply::error(&mut self.out, &format!("ERR Protocol error: {e}"));
                    return Next::Close;
                }
            }
        }
        let more = self.end - self.start >= self.need && self.out.len() >= FLUSH_AT;
        if self.start == self.end {
            self.partial_since = None;
        } else {
            self.parser = Some(Box::new(parser));
            if completed || self.partial_since.is_none() {
                self.partial_since = Some(self.last_read);
            }
        }
        if more {
            Next::Write
        } else {
            Next::Read
        }
    }
}

/// Drops the last reply (`out[before..]`) if it takes the queue beyond `limit`, counting and
/// tracing the close: true if it did, and the connection is to close (see the module docs).
fn over_limit(out: &mut Vec<u8>, before: usize, limit: usize, store: &mut store::Store) -> bool {
    let queued = out.len();
    if queued <= limit {
        return false;
    }
    out.truncate(before);
    store.count_reply_limit_close();
    tracing::info!(target: "kv", queued, limit, "reply limit");
    true
}
