//! A counter server: `INCR key n` adds `n` to a counter and answers its new value, `GET key`
//! answers it, one request per line; every connection is its own task, and every task shares
//! one map. Written against `doppel::net` only, so it runs on epoll and in the simulator.
//!
//! With the `lost-update` feature, `INCR` answers before it stores the sum: it reads the
//! counter, awaits the reply's write, then stores what it read plus `n`. A write that does not
//! go out at once (a short write) lets another connection's `INCR` read the same old value in
//! between, and one of the two increments is lost.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use doppel::cli::{Load, Task, Variant, CORRECT};
use doppel::net::{TcpListener, TcpStream};
use futures::io::{AsyncBufReadExt, BufReader};

/// Every counter, shared by the connections' tasks (one reactor: no lock).
type Counters = Rc<RefCell<BTreeMap<String, u64>>>;

/// Serves the counter protocol on `listener` until it fails.
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    let counters = Counters::default();
    let last = Rc::new(RefCell::new(BTreeMap::new()));
    for id in 1u64.. {
        let (conn, _) = listener.accept().await?;
        let (counters, last) = (counters.clone(), last.clone());
        doppel::spawn(async move { handle(conn, counters, (id, last)).await });
    }
    Ok(())
}

/// Which connection last incremented each key: what the coverage assertion below looks at.
type LastWriter = Rc<RefCell<BTreeMap<String, u64>>>;

/// Binds `addr` (`0.0.0.0:7000`, `127.0.0.1:0`) and serves on it.
pub async fn bind_and_serve(addr: &str) -> io::Result<()> {
    serve(TcpListener::bind(addr)?).await
}

/// One connection: a request per line, a reply per request.
async fn handle(
    conn: TcpStream,
    counters: Counters,
    (id, last): (u64, LastWriter),
) -> io::Result<()> {
    let mut lines = BufReader::new(&conn);
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["INCR", key, n] => match n.parse::<u64>() {
                Ok(n) => {
                    let before = last.borrow_mut().insert(key.to_string(), id);
                    // The interesting case a sweep must show it reached: two connections'
                    // increments of one key interleaved (what the lost update needs).
                    doppel::sometimes!(
                        before.is_some_and(|b| b != id),
                        "counter: INCRs from two connections interleaved on one key"
                    );
                    incr(&conn, &counters, key, n).await?
                }
                Err(_) => reply(&conn, "ERR not a number\n").await?,
            },
            ["GET", key] => {
                let v = counters.borrow().get(*key).copied().unwrap_or(0);
                reply(&conn, &format!("{v}\n")).await?;
            }
            _ => reply(&conn, "ERR unknown request\n").await?,
        }
    }
}

/// `INCR key n`: stores the sum, then answers it.
#[cfg(not(feature = "lost-update"))]
async fn incr(conn: &TcpStream, counters: &Counters, key: &str, n: u64) -> io::Result<()> {
    let sum = {
        let mut c = counters.borrow_mut();
        let v = c.entry(key.to_string()).or_insert(0);
        *v += n;
        *v
    };
    reply(conn, &format!("{sum}\n")).await
}

/// `INCR key n`, planted bug: reads, awaits the reply, then stores what it read plus `n`.
#[cfg(feature = "lost-update")]
async fn incr(conn: &TcpStream, counters: &Counters, key: &str, n: u64) -> io::Result<()> {
    let old = counters.borrow().get(key).copied().unwrap_or(0);
    reply(conn, &format!("{}\n", old + n)).await?;
    counters.borrow_mut().insert(key.to_string(), old + n);
    Ok(())
}

/// Writes a whole reply.
async fn reply(conn: &TcpStream, text: &str) -> io::Result<()> {
    conn.write_all(text.as_bytes()).await
}

/// The simulated world the tests and `counter-sim` run: the server at 10.0.0.1:7000, and one
/// client host whose two connections increment one counter ten times each, then check it says
/// twenty. No faults: a test or a command adds its plan.
pub fn world(seed: u64) -> doppel::sim::SimBuilder {
    doppel::sim::SimBuilder::new(seed)
        .host("server", "10.0.0.1", || bind_and_serve("0.0.0.0:7000"))
        .client("client", "10.0.0.2", || {
            check("10.0.0.1:7000".parse().expect("an address"), "hits", 2, 10)
        })
}

/// A checking client: `conns` connections at once, each sending `incrs` times `INCR key 1`;
/// then one `GET key`, which must answer every increment.
pub async fn check(server: SocketAddr, key: &str, conns: u64, incrs: u64) -> io::Result<()> {
    let tasks: Vec<_> = (0..conns)
        .map(|_| {
            let key = key.to_string();
            doppel::spawn(async move { increments(server, &key, incrs).await })
        })
        .collect();
    for t in tasks {
        t.await.map_err(io::Error::other)??;
    }
    let conn = TcpStream::connect(server).await?;
    let got = request(&conn, &format!("GET {key}\n")).await?;
    let want = conns * incrs;
    if got != want.to_string() {
        return Err(io::Error::other(format!(
            "counter {key}: {conns} connections made {want} increments, GET says {got}"
        )));
    }
    Ok(())
}

/// `incrs` increments of `key` over one connection, each answered.
async fn increments(server: SocketAddr, key: &str, incrs: u64) -> io::Result<()> {
    let conn = TcpStream::connect(server).await?;
    for _ in 0..incrs {
        let got = request(&conn, &format!("INCR {key} 1\n")).await?;
        got.parse::<u64>()
            .map_err(|_| io::Error::other(format!("INCR {key} 1: answered {got:?}")))?;
    }
    Ok(())
}

/// Sends one request and reads its one-line reply (without the newline).
async fn request(mut conn: &TcpStream, text: &str) -> io::Result<String> {
    conn.write_all(text.as_bytes()).await?;
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        let n = futures::AsyncReadExt::read(&mut conn, &mut byte).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if byte[0] == b'\n' {
            return String::from_utf8(reply).map_err(io::Error::other);
        }
        reply.push(byte[0]);
    }
}

/// The counter server and its checking client as a workload, so TOML specs can name it
/// (`workload = "counter"`) and `counter-sim` can run them.
#[derive(Debug)]
pub struct Counter;

impl doppel::cli::Workload for Counter {
    fn name(&self) -> &'static str {
        "counter"
    }

    fn about(&self) -> &'static str {
        "INCR and GET over a shared map; each client checks its counter adds up"
    }

    fn variants(&self) -> &'static [Variant] {
        &[CORRECT]
    }

    fn server(&self, _variant: usize, listener: TcpListener) -> Task {
        Box::pin(serve(listener))
    }

    /// Client `id` increments its own counter over two connections, `load.rounds` times each.
    fn client(&self, server: SocketAddr, id: u64, load: &Load) -> Task {
        let rounds = u64::from(load.rounds);
        Box::pin(async move { check(server, &format!("k{id}"), 2, rounds).await })
    }
}
