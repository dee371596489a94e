//! The checking client: on keys of its own, versioned `PUT`s and `GET`s over one keep-alive
//! connection (a new one after a reset or a timeout, the request retried: versioned writes are
//! idempotent), each answer checked against what the client knows.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};

use super::app::Entry;
use crate::workload::Load;

/// The value version `version` of `key` writes: its length follows the version, up to `max`.
pub fn value_of(key: &str, version: u64, max: usize) -> String {
    let len = (version as usize * 37) % max.max(1);
    let mut v = format!("{key}@{version}:");
    v.extend(std::iter::repeat_n('x', len));
    v
}

/// One client's state.
struct Client {
    server: SocketAddr,
    id: u64,
    load: Load,
    /// The open connection, if any.
    conn: Option<SendRequest<Full<Bytes>>>,
    /// Reconnections so far.
    reconnects: u32,
}

/// Runs client `id`: `load.rounds` rounds of a versioned `PUT` and a `GET` of one of three
/// keys, checking every answer.
pub async fn run(server: SocketAddr, id: u64, load: Load) -> io::Result<()> {
    let mut c = Client {
        server,
        id,
        load,
        conn: None,
        reconnects: 0,
    };
    let mut acked: BTreeMap<String, u64> = BTreeMap::new();
    for round in 0..c.load.rounds {
        let key = format!("c{id}-k{}", round % 3);
        let version = u64::from(round) + 1;
        let value = value_of(&key, version, c.load.max_size);
        let body = serde_json::to_vec(&Entry { version, value }).map_err(io::Error::other)?;
        let wrote = c.request(round, Method::PUT, &key, body).await?;
        c.check(round, &key, &wrote, version)?;
        acked.insert(key.clone(), version);
        let read = c.request(round, Method::GET, &key, Vec::new()).await?;
        c.check(round, &key, &read, acked[&key])?;
    }
    Ok(())
}

impl Client {
    /// A failure of round `round`, named.
    fn fail(&self, round: u32, what: String) -> io::Error {
        io::Error::other(format!(
            "client {} round {round} ({} reconnects): {what}",
            self.id, self.reconnects
        ))
    }

    /// Checks an answer: at least version `least`, with the value that version wrote.
    fn check(&self, round: u32, key: &str, e: &Entry, least: u64) -> io::Result<()> {
        if e.version < least {
            return Err(self.fail(
                round,
                format!(
                    "{key}: version {} after {least} was acknowledged",
                    e.version
                ),
            ));
        }
        if e.value != value_of(key, e.version, self.load.max_size) {
            return Err(self.fail(
                round,
                format!("{key}: version {} holds another value", e.version),
            ));
        }
        Ok(())
    }

    /// Sends one request until it is answered, reconnecting after a lost connection or a
    /// timeout (the request is idempotent), within the reconnect budget.
    async fn request(
        &mut self,
        round: u32,
        method: Method,
        key: &str,
        body: Vec<u8>,
    ) -> io::Result<Entry> {
        loop {
            let tried = self.once(method.clone(), key, body.clone()).await;
            let lost = match tried {
                Ok(Answer::Entry(e)) => return Ok(e),
                Ok(Answer::Status(s)) if s == StatusCode::SERVICE_UNAVAILABLE => "a request timeout".to_string(),
                Ok(Answer::Status(s)) => return Err(self.fail(round, format!("{method} {key}: status {s}"))),
                Err(Lost::Closed) => {
                    return Err(self.fail(
                        round,
                        format!("{method} {key}: the server closed the connection without answering the request"),
                    ))
                }
                Err(Lost::Wrong(what)) => return Err(self.fail(round, format!("{method} {key}: {what}"))),
                Err(Lost::Conn(e)) => e.to_string(),
            };
            if self.reconnects >= self.load.reconnects {
                return Err(self.fail(
                    round,
                    format!("{method} {key}: {lost}, and no reconnects left"),
                ));
            }
            self.reconnects += 1;
            self.conn = None;
            doppel::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// One attempt: connect if need be, send, read the whole answer, within the deadline.
    async fn once(&mut self, method: Method, key: &str, body: Vec<u8>) -> Result<Answer, Lost> {
        let attempt = async {
            if self.conn.is_none() {
                self.conn = Some(connect(self.server).await?);
            }
            let sender = self.conn.as_mut().expect("connected");
            let req = Request::builder()
                .method(method)
                .uri(format!("/kv/{key}"))
                .header("host", "server")
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .map_err(|e| Lost::Conn(io::Error::other(e)))?;
            let resp = sender.send_request(req).await.map_err(classify)?;
            let status = resp.status();
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map_err(classify)?
                .to_bytes();
            if status != StatusCode::OK {
                return Ok(Answer::Status(status));
            }
            serde_json::from_slice(&bytes)
                .map(Answer::Entry)
                .map_err(|e| Lost::Wrong(format!("a 200 whose body is not an entry: {e}")))
        };
        match self.load.deadline {
            None => attempt.await,
            Some(d) => doppel::time::timeout(d, attempt)
                .await
                .unwrap_or_else(|_| Err(Lost::Conn(io::ErrorKind::TimedOut.into()))),
        }
    }
}

/// An answer with a body the client reads, or a status it reacts to.
enum Answer {
    /// `200` with an entry.
    Entry(Entry),
    /// Another status.
    Status(StatusCode),
}

/// Why an attempt got no answer.
enum Lost {
    /// The server closed the connection in an orderly way with the request unanswered.
    Closed,
    /// The connection was lost (reset, refused, timed out): retry on a new one.
    Conn(io::Error),
    /// The server answered with something malformed: a response hyper cannot parse, or a
    /// `200` whose whole body is not an entry. A failure, never retried.
    Wrong(String),
}

/// A new HTTP/1.1 connection.
async fn connect(server: SocketAddr) -> Result<SendRequest<Full<Bytes>>, Lost> {
    let conn = doppel::net::TcpStream::connect(server)
        .await
        .map_err(Lost::Conn)?;
    let _ = conn.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(conn)
        .await
        .map_err(classify)?;
    drop(doppel::spawn(connection));
    Ok(sender)
}

/// A hyper error as the checker sees it: an orderly close before the answer (hyper's
/// "incomplete message" with no I/O error under it), a malformed response, or a lost
/// connection.
fn classify(e: hyper::Error) -> Lost {
    let io = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<io::Error>());
    if e.is_incomplete_message() && io.is_none() {
        return Lost::Closed;
    }
    if e.is_parse() || e.is_parse_status() || e.is_user() {
        return Lost::Wrong(e.to_string());
    }
    match io {
        Some(io) => Lost::Conn(io::Error::new(io.kind(), e.to_string())),
        None => Lost::Conn(io::Error::other(e)),
    }
}
