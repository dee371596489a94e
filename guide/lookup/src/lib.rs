//! A user's own UDP service, tested the way the README's "UDP, and per-message rules" shows,
//! with nothing but `doppel = { features = ["cli"] }`: a lookup server that answers `ID KEY`
//! with `ID VALUE`, a client that retries after a silent wait and takes only the reply with its
//! id, the simulated world both run in, and the [`Lookup`] workload the `lookup-sim` command
//! runs.
//!
//! | item | what |
//! |---|---|
//! | [`serve`], [`value_of`] | the server and the answer it owes each key |
//! | [`ask`], [`check`] | one question with retries; a client asking `n` of them and checking each |
//! | [`world`] | server and client hosts in a simulated world |
//! | [`Lookup`] | the workload: `Transport::Udp`, its server and client |

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use doppel::cli::{Load, Task, Transport, Variant, Workload, CORRECT};
use doppel::net::UdpSocket;
use doppel::sim::SimBuilder;
use doppel::time::Instant;

/// How long a try waits for its reply.
pub const WAIT: Duration = Duration::from_millis(100);

/// The value the server holds for `key`: a pure function, so a client can check every answer.
pub fn value_of(key: &str) -> String {
    key.chars().rev().collect::<String>().to_uppercase()
}

/// Answers every `ID KEY` datagram on `sock` with `ID VALUE`, forever; a malformed one gets
/// no answer.
pub async fn serve(sock: UdpSocket) -> io::Result<()> {
    let mut buf = [0u8; 512];
    loop {
        let (n, from) = sock.recv_from(&mut buf).await?;
        let Ok(text) = std::str::from_utf8(&buf[..n]) else {
            continue;
        };
        if let Some((id, key)) = text.split_once(' ') {
            let reply = format!("{id} {}", value_of(key));
            let _ = sock.send_to(reply.as_bytes(), from).await;
        }
    }
}

/// Binds `addr` and serves on it.
pub async fn bind_and_serve(addr: &str) -> io::Result<()> {
    serve(UdpSocket::bind(addr)?).await
}

/// Asks for `key` under `id` on a socket connected to the server, trying up to `tries` times;
/// a reply with another id (a late or duplicated answer to an earlier question) is skipped.
pub async fn ask(sock: &UdpSocket, id: u32, key: &str, tries: u32) -> io::Result<String> {
    let mut buf = [0u8; 512];
    let prefix = format!("{id} ");
    for _ in 0..tries {
        sock.send(format!("{id} {key}").as_bytes()).await?;
        sock.set_read_deadline(Some(Instant::now() + WAIT))?;
        loop {
            let n = match sock.recv(&mut buf).await {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::TimedOut => break,
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => break,
                Err(e) => return Err(e),
            };
            let text = String::from_utf8_lossy(&buf[..n]);
            if let Some(value) = text.strip_prefix(&prefix) {
                return Ok(value.to_string());
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("no answer for {key} after {tries} tries"),
    ))
}

/// Asks `n` questions of the server at `server`, `tries` tries each, checking every answer.
pub async fn check(server: SocketAddr, n: u32, tries: u32) -> io::Result<()> {
    let local = if server.ip().is_loopback() {
        "127.0.0.1:0"
    } else {
        "0.0.0.0:0"
    };
    let sock = UdpSocket::bind(local)?;
    sock.connect(server)?;
    for id in 0..n {
        let key = format!("key{id}");
        let got = ask(&sock, id, &key, tries).await?;
        if got != value_of(&key) {
            return Err(io::Error::other(format!(
                "{key}: got {got:?}, want {:?}",
                value_of(&key)
            )));
        }
    }
    Ok(())
}

/// The server at 10.0.0.1:5300 and a client asking ten questions, ten tries each (enough that
/// losing every try of one question is a one-in-a-million event at the sweep's fault rates).
pub fn world(seed: u64) -> SimBuilder {
    SimBuilder::new(seed)
        .host("server", "10.0.0.1", || bind_and_serve("0.0.0.0:5300"))
        .client("client", "10.0.0.2", || {
            check("10.0.0.1:5300".parse().unwrap(), 10, 10)
        })
}

/// The workload `lookup-sim` runs: the server on UDP, and [`check`] as its client.
#[derive(Debug)]
pub struct Lookup;

impl Workload for Lookup {
    fn name(&self) -> &'static str {
        "lookup"
    }

    fn about(&self) -> &'static str {
        "a UDP key lookup; the client retries and matches replies by id"
    }

    fn variants(&self) -> &'static [Variant] {
        &[CORRECT]
    }

    fn transport(&self) -> Transport {
        Transport::Udp
    }

    fn port(&self) -> u16 {
        5300
    }

    fn server_udp(&self, _variant: usize, socket: UdpSocket) -> Task {
        Box::pin(serve(socket))
    }

    fn client(&self, server: SocketAddr, _id: u64, load: &Load) -> Task {
        Box::pin(check(
            server,
            load.rounds,
            load.reconnects.saturating_add(1),
        ))
    }
}
