//! The checking chat client: joins, waits until every client has joined, says its messages
//! (pipelined), reads until it has every message of every client, then leaves. Every client
//! but client 0 also steps away (leaves and re-joins) when a quarter, a half and three
//! quarters of its messages are out and back: departures in the middle of the conversation,
//! which is where a server that writes to departed members breaks. Client 0 stays, so unless
//! the network takes its connection, it must receive every message of every client.
//!
//! The barrier is by id, not by count: a client may speak once every id `0..load.clients`
//! has appeared in its `WELCOME` or a `JOINED` (member counts drop as others step away).
//!
//! Every line goes through the [`Checker`]. A lost connection (reset, abort, refusal, timeout)
//! is a failure when `load.reconnects` is 0; otherwise the client re-joins, resends its
//! messages from the server's count, and is excused only what was broadcast while it was away.
//! A server that closes a client's connection before it leaves is always a failure.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use doppel::net::TcpStream;
use doppel::time::Instant;

use super::check::Checker;
use super::proto::{self, MAX_LINE};
use crate::workload::Load;

/// How many times each client but client 0 leaves and re-joins during its run.
const STEP_AWAYS: u64 = 3;

/// How a connection ended well.
enum End {
    /// Everything received; the client left.
    Done,
    /// The client stepped away on purpose and will re-join.
    SteppedAway,
}

/// How a connection ended badly.
enum Failure {
    /// The connection failed: a reconnect may cure it.
    Conn(io::Error),
    /// An invariant broke (or the server closed the connection): what, for the error.
    Broken(String),
}

/// Reads a connection line by line.
struct Lines {
    /// Read buffer.
    buf: Vec<u8>,
    /// Bytes read but not yet returned as lines.
    pending: Vec<u8>,
    /// How far `pending` has been handed out.
    start: usize,
}

impl Lines {
    /// An empty reader.
    fn new() -> Lines {
        Lines {
            buf: vec![0; 16 * 1024],
            pending: Vec::new(),
            start: 0,
        }
    }

    /// The next line (without its newline), `None` at EOF; each read waits at most
    /// `deadline`. A line over [`MAX_LINE`] is an `InvalidData` error.
    async fn next(
        &mut self,
        conn: &TcpStream,
        deadline: Option<Duration>,
    ) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(len) = self.pending[self.start..].iter().position(|&b| b == b'\n') {
                let line = self.pending[self.start..self.start + len].to_vec();
                self.start += len + 1;
                return Ok(Some(line));
            }
            self.pending.drain(..self.start);
            self.start = 0;
            if self.pending.len() >= MAX_LINE {
                let e = format!("the server sent a line over {MAX_LINE} bytes");
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
            conn.set_read_deadline(deadline.map(|d| Instant::now() + d))?;
            let n = conn.read(&mut self.buf).await?;
            if n == 0 {
                return Ok(None);
            }
            self.pending.extend_from_slice(&self.buf[..n]);
        }
    }
}

/// One client's state across its connections.
struct Client {
    id: u64,
    /// The load it runs.
    load: Load,
    /// What it has seen, and the rules.
    check: Checker,
    /// Reconnects after a lost connection so far.
    reconnects: u32,
    /// How many times it has stepped away (up to [`STEP_AWAYS`], client 0 never).
    stepped: u64,
}

/// Client `id`'s main: see the module docs.
pub async fn run(addr: SocketAddr, id: u64, load: Load) -> io::Result<()> {
    let check =
        Checker::new(id, &load).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut c = Client {
        id,
        check,
        load,
        reconnects: 0,
        stepped: 0,
    };
    loop {
        let ended = c.connection(addr).await;
        c.check.disconnected();
        match ended {
            Ok(End::Done) => return Ok(()),
            Ok(End::SteppedAway) => {}
            Err(Failure::Broken(what)) => {
                return Err(io::Error::other(format!("client {id}: {what}")));
            }
            Err(Failure::Conn(e)) => c.lost(e).await?,
        }
    }
}

impl Client {
    /// A connection failed: back off and go on if a reconnect is allowed, else the error.
    async fn lost(&mut self, e: io::Error) -> io::Result<()> {
        if !crate::wire::connection_lost(&e) || self.reconnects >= self.load.reconnects {
            let what = format!(
                "client {}: connection lost after {} of {} reconnects: {e}",
                self.id, self.reconnects, self.load.reconnects
            );
            return Err(io::Error::new(e.kind(), what));
        }
        self.reconnects += 1;
        doppel::time::sleep(Duration::from_millis(10)).await;
        Ok(())
    }

    /// Whether to step away now: not client 0; the `k`-th time when `k` quarters of its
    /// messages are out and back (none outstanding).
    fn step_away_now(&self) -> bool {
        let k = self.stepped + 1;
        let at = k * u64::from(self.load.rounds) / (STEP_AWAYS + 1);
        self.id != 0
            && k <= STEP_AWAYS
            && at > 0
            && self.check.confirmed() >= at
            && self.check.idle()
    }

    /// One connection: join, talk, read, until done, stepping away, or failure.
    async fn connection(&mut self, addr: SocketAddr) -> Result<End, Failure> {
        let conn = self.join(addr).await?;
        let mut lines = Lines::new();
        loop {
            if self.check.done() {
                self.leave(&conn, &mut lines).await?;
                return Ok(End::Done);
            }
            if self.step_away_now() {
                self.leave(&conn, &mut lines).await?;
                self.stepped += 1;
                return Ok(End::SteppedAway);
            }
            if let Some(seq) = self.check.to_send(self.load.pipeline) {
                let text = proto::text(self.id, seq, self.load.max_size);
                self.send(&conn, &proto::msg(self.id, seq, &text)).await?;
                self.check.sent_one();
                continue;
            }
            let line = lines.next(&conn, self.load.deadline).await;
            let line = line.map_err(read_failure)?.ok_or_else(|| {
                Failure::Broken("the server closed my connection before I left".into())
            })?;
            self.check.line(&line).map_err(Failure::Broken)?;
        }
    }

    /// Connects (within the deadline) and sends `JOIN`.
    async fn join(&mut self, addr: SocketAddr) -> Result<TcpStream, Failure> {
        let conn = match self.load.deadline {
            Some(d) => doppel::time::timeout(d, TcpStream::connect(addr))
                .await
                .unwrap_or_else(|e| Err(e.into())),
            None => TcpStream::connect(addr).await,
        };
        let conn = conn.map_err(Failure::Conn)?;
        conn.set_nodelay(true).map_err(Failure::Conn)?;
        self.check.connected();
        self.send(&conn, &proto::join(self.id)).await?;
        Ok(conn)
    }

    /// Writes `line`, within the deadline.
    async fn send(&self, conn: &TcpStream, line: &[u8]) -> Result<(), Failure> {
        let deadline = self.load.deadline.map(|d| Instant::now() + d);
        conn.set_write_deadline(deadline).map_err(Failure::Conn)?;
        conn.write_all(line).await.map_err(Failure::Conn)
    }

    /// Leaves: half-closes, then reads (and checks) until the server closes its side.
    async fn leave(&mut self, conn: &TcpStream, lines: &mut Lines) -> Result<(), Failure> {
        if conn.shutdown(Shutdown::Write).is_err() {
            return Ok(()); // the connection is gone already: so is the membership
        }
        loop {
            match lines.next(conn, self.load.deadline).await {
                Ok(Some(line)) => self.check.line(&line).map_err(Failure::Broken)?,
                Ok(None) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    return Err(Failure::Broken(e.to_string()));
                }
                // A reset, or a deadline (the server's FIN may race it: deadline-race): left
                // all the same.
                Err(_) => return Ok(()),
            }
        }
    }
}

/// A read error: an over-long line is the server's fault; anything else is the connection's.
fn read_failure(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::InvalidData {
        Failure::Broken(e.to_string())
    } else {
        Failure::Conn(e)
    }
}
