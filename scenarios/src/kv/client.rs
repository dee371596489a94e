//! The checking client: batches of `SET`, `GET`, `DEL` and `PING` on the client's own keys,
//! pipelined, every reply checked in order against the [`Model`] as it arrives.
//!
//! Invariants, each failure naming what broke: every request is answered exactly once and in
//! order (a reply of the wrong kind, a reply cut short by an orderly close, or a reply nobody
//! asked for fails the client); an acknowledged `SET` is visible to the next `GET`; `DEL`
//! counts what was there; a request the server did not answer before closing the connection
//! in order was not executed. The client survives resets, refusals, timeouts and closes by
//! reconnecting, `reconnects` times in all; after an orderly close it first reads back the keys
//! of the writes that went unanswered.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use doppel::net::TcpStream;
use doppel::time::Instant;

use super::model::{show, Lost, Model};
use super::reply::{self, Reply};
use crate::wire::{fill, Gen};

/// What a client does.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Batches to send.
    pub rounds: u32,
    /// Requests per batch, at most (written at once: pipelining).
    pub pipeline: u32,
    /// The largest value, in bytes (sizes are log-uniform up to it; a value is never shorter
    /// than its unique prefix `{id}.{write}:`, which names the `SET` that wrote it).
    pub max_size: usize,
    /// Connections the client may lose (reset, refused, timed out, closed) and replace.
    pub reconnects: u32,
    /// How long to wait for a batch's replies.
    pub deadline: Option<Duration>,
    /// How many keys the client writes (few, so writes overwrite and reads hit).
    pub keys: usize,
}

/// One request, with what the client needs to check its reply.
#[derive(Clone, Debug)]
enum Op {
    /// `SET key value`.
    Set(usize, Vec<u8>),
    /// `GET key`.
    Get(usize),
    /// `DEL key...` (distinct keys).
    Del(Vec<usize>),
    /// `PING`.
    Ping,
}

/// Why a batch ended early.
enum Broken {
    /// The connection went; the first `answered` requests had their replies.
    Lost {
        /// Requests answered before it went.
        answered: usize,
        /// What the unanswered ones are now.
        how: Lost,
        /// What happened.
        cause: io::Error,
    },
    /// An invariant broke.
    Violation(String),
}

/// A client's state between batches.
struct Client {
    /// The server.
    addr: SocketAddr,
    /// This client's number (its keys and values carry it).
    id: u64,
    /// What to do.
    plan: Plan,
    /// Choices (deterministic from `id`).
    gen: Gen,
    /// The keys' possible states.
    model: Model,
    /// The connection, when there is one.
    conn: Option<TcpStream>,
    /// Reconnects used so far.
    reconnects: u32,
    /// Writes made, numbering values.
    writes: u64,
    /// Keys to read back first on the next connection (after an orderly close).
    readback: Vec<usize>,
    /// Reply bytes not consumed yet.
    inbox: Vec<u8>,
}

/// Runs client `id` against `addr` as `plan` says; an error names the invariant that broke or
/// the failure the client could not survive.
pub async fn run(addr: SocketAddr, id: u64, plan: Plan) -> io::Result<()> {
    let mut c = Client {
        addr,
        id,
        plan,
        gen: Gen(id ^ 0x6b76),
        model: Model::new(plan.keys.max(1)),
        conn: None,
        reconnects: 0,
        writes: 0,
        readback: Vec::new(),
        inbox: Vec::new(),
    };
    for round in 0..plan.rounds {
        let mut ops: Vec<Op> = c.readback.drain(..).map(Op::Get).collect();
        let n = 1 + c.gen.next_u64() % u64::from(plan.pipeline.max(1));
        for _ in 0..n {
            let op = c.op();
            ops.push(op);
        }
        c.batch(round, &ops).await?;
    }
    // Read every key back, until one batch gets through.
    loop {
        let ops: Vec<Op> = (0..c.plan.keys.max(1)).map(Op::Get).collect();
        if c.batch(plan.rounds, &ops).await? {
            return Ok(());
        }
    }
}

impl Client {
    /// The next request: mostly `SET` and `GET`, some `DEL`, a few `PING`.
    fn op(&mut self) -> Op {
        let keys = self.plan.keys.max(1);
        let key = (self.gen.next_u64() % keys as u64) as usize;
        match self.gen.next_u64() % 100 {
            0..=44 => {
                self.writes += 1;
                let prefix = format!("{}.{}:", self.id, self.writes).into_bytes();
                let size = self.gen.log_size(self.plan.max_size.max(1));
                let mut value = prefix.clone();
                if size > prefix.len() {
                    value.resize(size, 0);
                    fill(&mut value[prefix.len()..], self.id, self.writes << 20);
                }
                Op::Set(key, value)
            }
            45..=79 => Op::Get(key),
            80..=91 => {
                let count = 1 + (self.gen.next_u64() % keys.min(3) as u64) as usize;
                Op::Del((0..count).map(|i| (key + i) % keys).collect())
            }
            _ => Op::Ping,
        }
    }

    /// The name of key `k`.
    fn key(&self, k: usize) -> Vec<u8> {
        format!("c{}:k{k}", self.id).into_bytes()
    }

    /// Sends `ops` and checks their replies. `Ok(true)`: all answered; `Ok(false)`: the
    /// connection went (and the budget allowed it); `Err`: an invariant broke, or too many
    /// connections went.
    async fn batch(&mut self, round: u32, ops: &[Op]) -> io::Result<bool> {
        let conn = match self.conn.take() {
            Some(c) => c,
            None => match connect(self.addr).await {
                Ok(c) => c,
                Err(e) => {
                    self.spend(round, &e)?;
                    doppel::time::sleep(Duration::from_millis(10)).await;
                    return Ok(false);
                }
            },
        };
        self.inbox.clear();
        match self.exchange(&conn, ops).await {
            Ok(()) => {
                self.conn = Some(conn);
                Ok(true)
            }
            Err(Broken::Violation(what)) => Err(io::Error::other(format!(
                "client {} round {round}: {what}",
                self.id
            ))),
            Err(Broken::Lost {
                answered,
                how,
                cause,
            }) => {
                for op in &ops[answered..] {
                    self.lose(op, how);
                }
                self.spend(round, &cause)?;
                drop(conn);
                doppel::time::sleep(Duration::from_millis(10)).await;
                Ok(false)
            }
        }
    }

    /// Records a lost reply in the model (and, for a write the server closed on, schedules a
    /// read-back of its keys).
    fn lose(&mut self, op: &Op, how: Lost) {
        match op {
            Op::Set(k, v) => {
                self.model.lost_set(*k, v.clone(), how);
                if how == Lost::NotApplied {
                    self.readback.push(*k);
                }
            }
            Op::Del(keys) => {
                self.model.lost_del(keys, how);
                if how == Lost::NotApplied {
                    self.readback.extend(keys);
                }
            }
            Op::Get(_) | Op::Ping => {}
        }
        self.readback.sort_unstable();
        self.readback.dedup();
    }

    /// Uses one reconnect for `cause`, or fails if none is left or the error is not one a
    /// client survives.
    fn spend(&mut self, round: u32, cause: &io::Error) -> io::Result<()> {
        if !crate::wire::connection_lost_or_closed(cause) || self.reconnects >= self.plan.reconnects
        {
            return Err(io::Error::new(
                cause.kind(),
                format!(
                    "client {} round {round} ({} reconnects): {cause}",
                    self.id, self.reconnects
                ),
            ));
        }
        doppel::reachable!("kv: a client reconnected after its connection broke");
        self.reconnects += 1;
        Ok(())
    }

    /// Writes `ops` as one pipeline, then reads and checks each reply in order.
    async fn exchange(&mut self, conn: &TcpStream, ops: &[Op]) -> Result<(), Broken> {
        let mut wire = Vec::new();
        for op in ops {
            self.encode(op, &mut wire);
        }
        let lost = |answered, how, cause| Broken::Lost {
            answered,
            how,
            cause,
        };
        if let Err(e) = conn.write_all(&wire).await {
            return Err(lost(0, Lost::Ambiguous, e));
        }
        let deadline = self.plan.deadline.map(|d| Instant::now() + d);
        if let Err(e) = conn.set_read_deadline(deadline) {
            return Err(lost(0, Lost::Ambiguous, e));
        }
        for (i, op) in ops.iter().enumerate() {
            let reply = match self.read_reply(conn).await {
                Ok(r) => r,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && self.inbox.is_empty() => {
                    return Err(lost(i, Lost::NotApplied, e))
                }
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err(Broken::Violation(format!(
                        "reply {i} of {} was cut short by an orderly close",
                        ops.len()
                    )))
                }
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    return Err(Broken::Violation(e.to_string()))
                }
                Err(e) => return Err(lost(i, Lost::Ambiguous, e)),
            };
            self.check(op, reply)
                .map_err(|what| Broken::Violation(format!("reply {i}: {what}")))?;
        }
        if !self.inbox.is_empty() {
            let extra = String::from_utf8_lossy(&self.inbox).into_owned();
            return Err(Broken::Violation(format!(
                "{} bytes of reply nobody asked for: {extra:?}",
                self.inbox.len()
            )));
        }
        Ok(())
    }

    /// Appends `op` as a RESP array of bulk strings.
    fn encode(&self, op: &Op, wire: &mut Vec<u8>) {
        let parts: Vec<Vec<u8>> = match op {
            Op::Set(k, v) => vec![b"SET".to_vec(), self.key(*k), v.clone()],
            Op::Get(k) => vec![b"GET".to_vec(), self.key(*k)],
            Op::Del(keys) => std::iter::once(b"DEL".to_vec())
                .chain(keys.iter().map(|k| self.key(*k)))
                .collect(),
            Op::Ping => vec![b"PING".to_vec()],
        };
        reply::array(wire, parts.len());
        for p in &parts {
            reply::bulk(wire, p);
        }
    }

    /// Reads until one whole reply is in the inbox, and takes it.
    async fn read_reply(&mut self, conn: &TcpStream) -> io::Result<Reply> {
        let mut buf = [0u8; 4096];
        loop {
            match reply::decode(&self.inbox) {
                Ok(Some((r, used))) => {
                    self.inbox.drain(..used);
                    return Ok(r);
                }
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
            let n = conn.read(&mut buf).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                ));
            }
            self.inbox.extend_from_slice(&buf[..n]);
        }
    }

    /// Checks one reply against the model, and updates the model.
    fn check(&mut self, op: &Op, reply: Reply) -> Result<(), String> {
        let id = self.id;
        let wanted = match (op, &reply) {
            (Op::Set(k, v), Reply::Simple(s)) if s == b"OK" => {
                self.model.set(*k, v.clone());
                return Ok(());
            }
            (Op::Get(k), Reply::Bulk(got)) => {
                return self
                    .model
                    .get(*k, got.as_deref())
                    .map_err(|e| format!("GET c{id}:k{k}: {e}"));
            }
            (Op::Del(keys), Reply::Integer(n)) => return self.model.del(keys, *n),
            (Op::Ping, Reply::Simple(s)) if s == b"PONG" => return Ok(()),
            (Op::Set(k, v), _) => format!("SET c{id}:k{k} {}: wanted +OK", show(Some(v))),
            (Op::Get(k), _) => format!("GET c{id}:k{k}: wanted a bulk string"),
            (Op::Del(_), _) => "DEL: wanted an integer".to_string(),
            (Op::Ping, _) => "PING: wanted +PONG".to_string(),
        };
        Err(format!("{wanted}, got {reply}"))
    }
}

/// Connects with Nagle off.
async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let conn = TcpStream::connect(addr).await?;
    conn.set_nodelay(true)?;
    Ok(conn)
}
