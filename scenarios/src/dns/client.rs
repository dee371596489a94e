//! The checking client: asks `rounds` questions (hosts of the zone, `www`, names that do not
//! exist, some in mixed case), each under a fresh id, and checks every answer against the zone
//! itself. It does what a stub resolver must on UDP: retries a question after a silent wait
//! (or a SERVFAIL, or an ICMP refusal), and takes only a reply with its id (RFC 5452): a late or
//! duplicated reply to an earlier question is dropped. A reply with its id but another
//! question, or a wrong answer, fails it: that is the forwarder's bug, not the network's.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use doppel::net::UdpSocket;
use doppel::time::{sleep, Instant};

use super::wire::{self, parse_reply, Rcode, TYPE_A};
use super::zone::{lookup, Lookup, HOSTS};
use crate::wire::Gen;

/// What a client does.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Questions to ask.
    pub rounds: u32,
    /// Tries per question.
    pub tries: u32,
    /// How long each try waits for the answer.
    pub wait: Duration,
}

/// Asks `plan.rounds` questions of the server at `server`.
pub async fn run(server: SocketAddr, id: u64, plan: Plan) -> io::Result<()> {
    let local = match server.ip().is_loopback() {
        true => "127.0.0.1:0",
        false => "0.0.0.0:0",
    };
    let sock = UdpSocket::bind(local)?;
    sock.connect(server)?;
    let mut gen = Gen(id.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xd05);
    for round in 0..plan.rounds {
        let name = pick(&mut gen);
        let qid = (gen.next_u64() & 0xffff) as u16;
        ask(&sock, &name, qid, plan)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("question {round} ({name}): {e}")))?;
    }
    Ok(())
}

/// A name to ask: mostly a host of the zone, sometimes `www` or a name that does not exist,
/// now and then in mixed case.
fn pick(gen: &mut Gen) -> String {
    let x = gen.next_u64();
    let n = (x >> 8) % u64::from(HOSTS);
    let name = match x % 10 {
        0 => "www.doppel.test".to_string(),
        1 => format!("nosuch{n}.doppel.test"),
        _ => format!("host{n}.doppel.test"),
    };
    match (x >> 40) % 4 {
        0 => name.to_ascii_uppercase(),
        _ => name,
    }
}

/// What the zone says the answer to `name` is: the code and the addresses.
fn expected(name: &str) -> (Rcode, Vec<Ipv4Addr>) {
    match lookup(&name.to_ascii_lowercase()) {
        Lookup::Address(a) => (Rcode::NoError, vec![a]),
        Lookup::NoData => (Rcode::NoError, Vec::new()),
        Lookup::NxDomain => (Rcode::NxDomain, Vec::new()),
        Lookup::Outside => (Rcode::Refused, Vec::new()),
    }
}

/// One question, tried up to `plan.tries` times; its answer checked.
async fn ask(sock: &UdpSocket, name: &str, qid: u16, plan: Plan) -> io::Result<()> {
    let query = wire::query(qid, name, TYPE_A);
    let want = expected(name);
    let mut buf = [0u8; wire::MAX_UDP];
    for _ in 0..plan.tries {
        let deadline = Instant::now() + plan.wait;
        match sock.send(&query).await {
            Ok(_) => {}
            Err(e) if refused(&e) => {}
            Err(e) => return Err(e),
        }
        loop {
            sock.set_read_deadline(Some(deadline))?;
            let n = match sock.recv(&mut buf).await {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::TimedOut => break,
                Err(e) if refused(&e) => {
                    // The server's port was not open yet: wait out the try, then ask again.
                    sleep(deadline.saturating_duration_since(Instant::now())).await;
                    break;
                }
                Err(e) => return Err(e),
            };
            let r = parse_reply(&buf[..n])
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            if r.id != qid {
                continue; // late or duplicated: an earlier question's reply
            }
            if r.raw_question != query[12..] {
                return Err(io::Error::other(
                    "a reply with our id answers another question",
                ));
            }
            if r.rcode == Rcode::ServFail {
                break;
            }
            if (r.rcode, r.addrs.clone()) != want {
                return Err(io::Error::other(format!(
                    "answered {:?} {:?}, the zone says {:?} {:?}",
                    r.rcode, r.addrs, want.0, want.1
                )));
            }
            return Ok(());
        }
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("no answer after {} tries", plan.tries),
    ))
}

/// Whether `e` is an ICMP port-unreachable (`ECONNREFUSED` on a connected socket).
fn refused(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::ConnectionRefused
}
