//! `upper`: a line protocol with message boundaries, its correct server, and four broken twins
//! that reproduce bug classes from `docs/FAULTS.md`. Each twin passes a plain loopback run;
//! the simulator's faults break it.
//!
//! A request is a line of text; the reply is `"{len} {TEXT}\n"`, the line's length and the line
//! upper-cased. Unlike echo, a server that gets the framing wrong answers with the wrong length
//! or the wrong number of replies, so the client sees it.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use doppel::net::{TcpListener, TcpStream, ToSocketAddr};
use doppel::time::Instant;
use doppel::Direction;

use crate::wire::Gen;
use crate::workload::{self, Load, Task, Workload};

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Buffers reads, splits lines, answers each with `write_all`.
    Correct,
    /// Takes one `read` as one request (one read is one message). Breaks when a line arrives in
    /// pieces or two lines arrive together: short reads, segmentation, coalesced edges.
    Framing,
    /// Answers with one `write` and ignores how much it took (objeck-lang#670,
    /// EternalTerminal#815). Breaks under short writes.
    ShortWrite,
    /// A hand-written event loop that treats `EINTR` from `read` as fatal and drops the
    /// connection (mio#132, smallnest/1m-go-tcp-server#3). Breaks under `EINTR`.
    EintrFatal,
    /// A hand-written event loop that reads once per readiness edge instead of until
    /// `WouldBlock` (epoll(7)'s edge-triggered starvation). Strands bytes, and hangs.
    NoDrain,
}

impl Variant {
    /// Every variant, correct first.
    pub const ALL: [Variant; 5] = [
        Variant::Correct,
        Variant::Framing,
        Variant::ShortWrite,
        Variant::EintrFatal,
        Variant::NoDrain,
    ];

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Correct => "correct",
            Variant::Framing => "framing",
            Variant::ShortWrite => "short-write",
            Variant::EintrFatal => "eintr-fatal",
            Variant::NoDrain => "no-drain",
        }
    }
}

/// The reply to one request line (without its newline).
pub fn reply(line: &[u8]) -> Vec<u8> {
    let mut out = format!("{} ", line.len()).into_bytes();
    out.extend(line.iter().map(u8::to_ascii_uppercase));
    out.push(b'\n');
    out
}

/// Binds `addr` and serves `variant`, one task per connection.
pub async fn serve(addr: impl ToSocketAddr, variant: Variant) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    loop {
        let (conn, _) = listener.accept().await?;
        doppel::spawn(async move {
            let _ = handle(conn, variant).await;
        });
    }
}

/// Serves one connection until it closes.
pub async fn handle(conn: TcpStream, variant: Variant) -> io::Result<()> {
    match variant {
        Variant::Correct => buffered(&conn, false).await,
        Variant::ShortWrite => buffered(&conn, true).await,
        Variant::Framing => framing(&conn).await,
        Variant::EintrFatal => event_loop(&conn, 4096, true).await,
        Variant::NoDrain => event_loop(&conn, 16, false).await,
    }
}

/// Answers every complete line in `pending`, keeping the incomplete tail.
async fn answer(conn: &TcpStream, pending: &mut Vec<u8>, short_write_bug: bool) -> io::Result<()> {
    while let Some(end) = pending.iter().position(|&b| b == b'\n') {
        let r = reply(&pending[..end]);
        pending.drain(..=end);
        if short_write_bug {
            conn.write(&r).await?; // BUG: the count is ignored; a short write loses the rest.
        } else {
            conn.write_all(&r).await?;
        }
    }
    Ok(())
}

/// The correct server (and, with `short_write_bug`, its short-write twin).
async fn buffered(conn: &TcpStream, short_write_bug: bool) -> io::Result<()> {
    let mut buf = vec![0u8; 4096];
    let mut pending = Vec::new();
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        pending.extend_from_slice(&buf[..n]);
        answer(conn, &mut pending, short_write_bug).await?;
    }
}

/// The framing twin: one read is taken to be one whole request.
async fn framing(conn: &TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; 4096];
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        let line = buf[..n].strip_suffix(b"\n").unwrap_or(&buf[..n]); // BUG: assumes one line.
        conn.write_all(&reply(line)).await?;
    }
}

/// A hand-written edge-triggered loop over the raw calls. With `eintr_fatal`, an interrupted
/// read ends the connection (the bug); `read_size` below a line's length with a single read per
/// edge is the no-drain bug.
async fn event_loop(conn: &TcpStream, read_size: usize, eintr_fatal: bool) -> io::Result<()> {
    let drain = eintr_fatal; // the EINTR twin drains correctly; only its error handling is wrong
    let mut buf = vec![0u8; read_size];
    let mut pending = Vec::new();
    loop {
        conn.wait_edge(Direction::Read).await?;
        loop {
            match conn.read_once(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => pending.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted && !eintr_fatal => continue,
                Err(e) => return Err(e), // BUG (eintr-fatal): EINTR is not an error
            }
            if !drain {
                break; // BUG (no-drain): waits for a new edge with bytes still queued
            }
        }
        answer(conn, &mut pending, false).await?;
    }
}

/// What a client sends.
#[derive(Clone, Copy, Debug)]
pub struct ClientPlan {
    /// Bursts of requests.
    pub bursts: usize,
    /// Requests per burst, at most (each burst is written at once: pipelining).
    pub max_burst: usize,
    /// How long to wait for a burst's replies before failing.
    pub deadline: Duration,
    /// The longest request line, in bytes (at least 1).
    pub max_line: u64,
    /// How many times a burst cut off by a reset or a timeout is sent again on a new
    /// connection.
    pub reconnects: u32,
}

impl Default for ClientPlan {
    fn default() -> Self {
        ClientPlan {
            bursts: 10,
            max_burst: 3,
            deadline: Duration::from_secs(5),
            max_line: 120,
            reconnects: 0,
        }
    }
}

/// A request line of 1 to `max` letters, chosen by `gen`.
fn request(gen: &mut Gen, max: u64) -> Vec<u8> {
    let len = 1 + gen.next_u64() % max.max(1);
    (0..len)
        .map(|_| b'a' + (gen.next_u64() % 26) as u8)
        .collect()
}

/// Errors a client may survive by reconnecting (if its plan allows): the network ended the
/// connection, or a reply is overdue. A server that closes the connection with requests
/// outstanding is not among them: a correct server never does.
fn transient(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionReset | ConnectionAborted | ConnectionRefused | BrokenPipe | TimedOut
    )
}

/// Connects to `addr` and sends `plan.bursts` bursts of pipelined requests, checking that every
/// reply is exactly right, in order, within the deadline. A burst cut off by a reset or a
/// timeout is sent again on a new connection, `plan.reconnects` times in all (the requests are
/// idempotent); a wrong reply is never retried.
pub async fn client(addr: SocketAddr, id: u64, plan: ClientPlan) -> io::Result<()> {
    let mut gen = Gen(id ^ 0x5eed);
    let mut conn: Option<TcpStream> = None;
    let mut reconnects = 0;
    for burst in 0..plan.bursts {
        let k = 1 + (gen.next_u64() as usize % plan.max_burst.max(1));
        let lines: Vec<Vec<u8>> = (0..k).map(|_| request(&mut gen, plan.max_line)).collect();
        loop {
            let result = match conn.take() {
                Some(c) => Ok(c),
                None => TcpStream::connect(addr).await,
            };
            let result = match result {
                Ok(c) => {
                    let r = exchange(&c, &lines, plan.deadline).await;
                    conn = r.is_ok().then_some(c);
                    r
                }
                Err(e) => Err(Exchange::Io(e)),
            };
            match result {
                Ok(()) => break,
                Err(Exchange::Io(e)) if transient(&e) && reconnects < plan.reconnects => {
                    reconnects += 1;
                    doppel::time::sleep(Duration::from_millis(10)).await;
                }
                Err(Exchange::Io(e)) => {
                    let what = format!("client {id} burst {burst} ({reconnects} reconnects): {e}");
                    return Err(io::Error::new(e.kind(), what));
                }
                Err(Exchange::Wrong(what)) => {
                    return Err(io::Error::other(format!(
                        "client {id} burst {burst} {what}"
                    )))
                }
            }
        }
    }
    Ok(())
}

/// Why one burst failed.
enum Exchange {
    /// The connection failed (or the server closed it).
    Io(io::Error),
    /// A reply was wrong: which, and how.
    Wrong(String),
}

/// Sends `lines` at once and checks each reply, in order, within `deadline`.
async fn exchange(conn: &TcpStream, lines: &[Vec<u8>], deadline: Duration) -> Result<(), Exchange> {
    let mut wire = Vec::new();
    for l in lines {
        wire.extend_from_slice(l);
        wire.push(b'\n');
    }
    conn.write_all(&wire).await.map_err(Exchange::Io)?;
    conn.set_read_deadline(Some(Instant::now() + deadline))
        .map_err(Exchange::Io)?;
    let mut inbox = Vec::new();
    let mut buf = vec![0u8; 4096];
    for (i, line) in lines.iter().enumerate() {
        let want = reply(line);
        while inbox.len() < want.len() {
            let n = conn.read(&mut buf).await.map_err(Exchange::Io)?;
            if n == 0 {
                let e = io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("reply {i}: the server closed the connection"),
                );
                return Err(Exchange::Io(e));
            }
            inbox.extend_from_slice(&buf[..n]);
        }
        if inbox[..want.len()] != want[..] {
            let got = String::from_utf8_lossy(&inbox[..want.len()]).into_owned();
            let want = String::from_utf8_lossy(&want);
            return Err(Exchange::Wrong(format!(
                "reply {i}: wanted {want:?}, got {got:?}"
            )));
        }
        inbox.drain(..want.len());
    }
    if inbox.is_empty() {
        Ok(())
    } else {
        let extra = String::from_utf8_lossy(&inbox).into_owned();
        Err(Exchange::Wrong(format!(
            "got a reply nobody asked for: {extra:?}"
        )))
    }
}

/// The `upper` workload: the line protocol, its correct server and four broken twins.
#[derive(Clone, Copy, Debug)]
pub struct Upper;

/// The variants as the workload registry lists them, in [`Variant::ALL`] order.
const VARIANTS: [workload::Variant; 5] = [
    workload::CORRECT,
    workload::Variant {
        name: "framing",
        about: "one read taken as one message (one read is one request): breaks on split or \
                coalesced segments",
    },
    workload::Variant {
        name: "short-write",
        about: "ignores write's count (objeck-lang#670, EternalTerminal#815): loses the rest of a \
                short write",
    },
    workload::Variant {
        name: "eintr-fatal",
        about: "a hand-written loop that drops the connection on EINTR (mio#132, \
                smallnest/1m-go-tcp-server#3)",
    },
    workload::Variant {
        name: "no-drain",
        about: "reads once per edge, not until WouldBlock (epoll(7)'s edge-triggered starvation)",
    },
];

impl Workload for Upper {
    /// Its own assertions: the binary holds every built-in workload's.
    fn coverage_scope(&self) -> &'static [&'static str] {
        &["doppel_scenarios::upper"]
    }

    fn name(&self) -> &'static str {
        "upper"
    }

    fn about(&self) -> &'static str {
        "a line protocol (`LEN TEXT` per line), pipelined bursts; the framing bugs' home"
    }

    fn variants(&self) -> &'static [workload::Variant] {
        &VARIANTS
    }

    fn server(&self, variant: usize, listener: TcpListener) -> Task {
        let v = Variant::ALL[variant.min(Variant::ALL.len() - 1)];
        Box::pin(crate::accept::serve(listener, move |conn| async move {
            let _ = handle(conn, v).await;
            Ok(())
        }))
    }

    fn client(&self, server: SocketAddr, id: u64, load: &Load) -> Task {
        let plan = ClientPlan {
            bursts: load.rounds as usize,
            max_burst: load.pipeline.max(1) as usize,
            deadline: load.deadline.unwrap_or(Duration::from_secs(5)),
            max_line: load.max_size.max(1) as u64,
            reconnects: load.reconnects,
        };
        Box::pin(client(server, id, plan))
    }
}
