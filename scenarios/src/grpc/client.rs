//! The checking client: on keys of its own, in-order versioned `Append`s and, after each, the
//! key's whole `History`, over one HTTP/2 connection (a new one after a lost connection or a
//! timeout, the call retried: a repeated append is answered as the first).

use std::collections::BTreeMap;
use std::io;

use doppel::compat::hyper::Channel;
use tonic::{Code, Status};

use super::pb::ledger_client::LedgerClient;
use super::pb::{HistoryRequest, Record};
use crate::http::client::value_of;
use crate::workload::Load;

/// The client's connection, as tonic's generated client sees it.
type Conn = LedgerClient<Channel<tonic::body::Body>>;

/// One client's state.
struct Client {
    /// `http://HOST:PORT`.
    origin: String,
    id: u64,
    load: Load,
    /// The open connection, if any.
    conn: Option<Conn>,
    /// Reconnections so far.
    reconnects: u32,
}

/// Runs client `id` against `origin`: `load.rounds` rounds of an append to one of three keys
/// and that key's history, checking every answer.
pub async fn run(origin: String, id: u64, load: Load) -> io::Result<()> {
    let mut c = Client {
        origin,
        id,
        load,
        conn: None,
        reconnects: 0,
    };
    let mut acked: BTreeMap<String, u64> = BTreeMap::new();
    for round in 0..c.load.rounds {
        let key = format!("c{id}-k{}", round % 3);
        let version = acked.get(&key).copied().unwrap_or(0) + 1;
        let record = Record {
            key: key.clone(),
            version,
            value: value_of(&key, version, c.load.max_size),
        };
        let got = c.call(round, Call::Append(record)).await?;
        if got != [version] {
            return Err(c.fail(
                round,
                format!("{key}: append {version} answered {got:?} versions"),
            ));
        }
        acked.insert(key.clone(), version);
        c.check_history(round, &key, version).await?;
    }
    Ok(())
}

/// A call the client makes.
#[derive(Clone)]
enum Call {
    /// Append a record; the answer is the key's record count.
    Append(Record),
    /// Stream a key's history; the answer is its versions, each checked against its value.
    History(String),
}

impl Client {
    /// A failure of round `round`, named.
    fn fail(&self, round: u32, what: String) -> io::Error {
        io::Error::other(format!(
            "client {} round {round} ({} reconnects): {what}",
            self.id, self.reconnects
        ))
    }

    /// Reads `key`'s history: exactly versions 1 to `newest`, in order.
    async fn check_history(&mut self, round: u32, key: &str, newest: u64) -> io::Result<()> {
        let versions = self.call(round, Call::History(key.to_string())).await?;
        let want: Vec<u64> = (1..=newest).collect();
        if versions != want {
            return Err(self.fail(
                round,
                format!("{key}: history has versions {versions:?}, not 1..={newest}"),
            ));
        }
        Ok(())
    }

    /// Makes `call` until it is answered, reconnecting after a lost connection or a timeout
    /// (both calls may be repeated), within the reconnect budget.
    async fn call(&mut self, round: u32, call: Call) -> io::Result<Vec<u64>> {
        loop {
            let lost = match self.once(call.clone()).await {
                Ok(Ok(answer)) => return Ok(answer),
                Ok(Err(wrong)) => return Err(self.fail(round, wrong)),
                Err(lost) => lost,
            };
            if self.reconnects >= self.load.reconnects {
                return Err(self.fail(round, format!("{lost}, and no reconnects left")));
            }
            self.reconnects += 1;
            self.conn = None;
            doppel::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// One attempt within the deadline: `Ok(Ok)` an answer, `Ok(Err)` a wrong one (a failure),
    /// `Err` a lost connection (retry).
    async fn once(&mut self, call: Call) -> Result<Result<Vec<u64>, String>, String> {
        let max = self.load.max_size;
        let origin = self.origin.clone();
        let conn = &mut self.conn;
        let attempt = async move {
            if conn.is_none() {
                let channel = Channel::connect(&origin).await.map_err(|e| e.to_string())?;
                *conn = Some(LedgerClient::new(channel));
            }
            let client = conn.as_mut().expect("connected");
            match call {
                Call::Append(r) => answer(client.append(r).await.map(|a| a.into_inner().records)),
                Call::History(key) => history(client, key, max).await,
            }
        };
        match self.load.deadline {
            None => attempt.await,
            Some(d) => doppel::time::timeout(d, attempt)
                .await
                .unwrap_or_else(|_| Err("the call timed out".to_string())),
        }
    }
}

/// An append's answer: the key's record count.
fn answer(got: Result<u64, Status>) -> Result<Result<Vec<u64>, String>, String> {
    got.map(|records| Ok(vec![records])).or_else(classify)
}

/// Streams `key`'s history, checking each record's key and value.
async fn history(
    client: &mut Conn,
    key: String,
    max: usize,
) -> Result<Result<Vec<u64>, String>, String> {
    let mut stream = match client.history(HistoryRequest { key: key.clone() }).await {
        Ok(s) => s.into_inner(),
        Err(status) => return classify(status),
    };
    let mut versions = Vec::new();
    loop {
        match stream.message().await {
            Ok(Some(r)) if r.key == key && r.value == value_of(&key, r.version, max) => {
                versions.push(r.version);
            }
            Ok(Some(r)) => {
                return Ok(Err(format!(
                    "{key}: history's version {} is {:?} of {:?}",
                    r.version, r.value, r.key
                )))
            }
            Ok(None) => return Ok(Ok(versions)),
            Err(status) => return classify(status),
        }
    }
}

/// A status as the checker sees it: what a lost connection gives (retry), or anything the
/// server or the decoder said (a failure: a correct server never refuses a correct client's
/// call, and never sends a message that does not decode). tonic makes a transport error (the
/// channel's hyper error, a stream's h2 reset) a status with that error as its source; a
/// status the server sent, or a decoding failure, has none.
fn classify<T>(status: Status) -> Result<Result<T, String>, String> {
    let what = format!("{:?}: {}", status.code(), status.message());
    let transport = std::error::Error::source(&status).is_some();
    match status.code() {
        Code::Unavailable | Code::Cancelled => Err(what),
        _ if transport => Err(what),
        _ => Ok(Err(what)),
    }
}
