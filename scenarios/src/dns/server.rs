//! The DNS server: an authoritative server for the zone (`zone.rs`) on a loopback port, and in
//! front of it the forwarder clients talk to, as dnsmasq stands in front of an upstream. The
//! correct forwarder sends each query upstream from a socket of its own, connected to the
//! upstream (so the kernel drops datagrams from anyone else), under an id of its own, and takes
//! only a reply with that id and the query's exact question, retrying on silence. Its twin,
//! `first-reply`, forwards through one shared socket and takes the first datagram it gets as
//! the answer to the query it is working on: under lost, duplicated or late datagrams, one
//! client gets another's answer (dnsmasq before 2.83, DNSpooq: CVE-2020-25684, a reply's
//! source address and port not checked, and CVE-2020-25685, replies matched to queries by a
//! weak hash of the question).

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use doppel::net::UdpSocket;
use doppel::time::timeout;

use super::wire::{self, parse_query, parse_reply, reply, Rcode, CLASS_IN, TYPE_A};
use super::zone::{lookup, Lookup};

/// How long the forwarder waits for the upstream's reply to one try.
const UPSTREAM_WAIT: Duration = Duration::from_millis(200);

/// Tries the forwarder makes upstream before it answers SERVFAIL.
const UPSTREAM_TRIES: u32 = 3;

/// The record's time to live, seconds.
const TTL: u32 = 300;

/// Which forwarder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forwarder {
    /// Matches each upstream reply to its query.
    Matched,
    /// Takes the first upstream datagram as the answer (the twin).
    FirstReply,
}

/// The authoritative answer to one message, or `None` for one too short to answer at all.
pub fn answer(msg: &[u8]) -> Option<Vec<u8>> {
    let q = match parse_query(msg) {
        Ok(q) => q,
        Err(_) => return wire::id_of(msg).map(wire::format_error),
    };
    let (rcode, addrs) = match (q.opcode, q.qclass, lookup(&q.name)) {
        (op, _, _) if op != 0 => (Rcode::NotImp, Vec::new()),
        (_, c, _) if c != CLASS_IN => (Rcode::Refused, Vec::new()),
        (_, _, Lookup::Address(a)) if q.qtype == TYPE_A => (Rcode::NoError, vec![a]),
        (_, _, Lookup::Address(_) | Lookup::NoData) => (Rcode::NoError, Vec::new()),
        (_, _, Lookup::NxDomain) => (Rcode::NxDomain, Vec::new()),
        (_, _, Lookup::Outside) => (Rcode::Refused, Vec::new()),
    };
    Some(reply(&q, rcode, &addrs, TTL))
}

/// The authoritative server on `sock`, forever. A send that fails is the client's loss (UDP
/// promises nothing), never the server's end.
pub async fn authority(sock: UdpSocket) -> io::Result<()> {
    let mut buf = [0u8; wire::MAX_UDP];
    loop {
        let (n, from) = sock.recv_from(&mut buf).await?;
        if let Some(r) = answer(&buf[..n]) {
            let _ = sock.send_to(&r, from).await;
        }
    }
}

/// The whole server: the authority on a loopback port of its own, and `forwarder` on `front`.
pub async fn serve(front: UdpSocket, forwarder: Forwarder) -> io::Result<()> {
    let up = UdpSocket::bind("127.0.0.1:0")?;
    let upstream = up.local_addr()?;
    let authority = doppel::spawn(authority(up));
    let served = match forwarder {
        Forwarder::Matched => forward_matched(Rc::new(front), upstream).await,
        Forwarder::FirstReply => forward_first(front, upstream).await,
    };
    authority.abort();
    served
}

/// The correct forwarder: each query resolved by a task of its own.
async fn forward_matched(front: Rc<UdpSocket>, upstream: SocketAddr) -> io::Result<()> {
    let mut buf = [0u8; wire::MAX_UDP];
    let mut next_id: u16 = 0x5a5a;
    loop {
        let (n, client) = front.recv_from(&mut buf).await?;
        if doppel::buggify!(0.05) {
            // Shed under load, as a busy resolver does: the client's retry must cover it.
            continue;
        }
        let msg = buf[..n].to_vec();
        next_id = next_id.wrapping_mul(75).wrapping_add(74);
        let (front, id) = (front.clone(), next_id);
        doppel::spawn(async move {
            if let Some(r) = resolve(upstream, &msg, id).await {
                let _ = front.send_to(&r, client).await;
            }
        });
    }
}

/// Asks the upstream `msg`'s question under id `up_id` from a socket connected to it; the
/// reply with that id and the same question, with the client's id put back, or SERVFAIL.
async fn resolve(upstream: SocketAddr, msg: &[u8], up_id: u16) -> Option<Vec<u8>> {
    let Ok(q) = parse_query(msg) else {
        return answer(msg);
    };
    let servfail = reply(&q, Rcode::ServFail, &[], 0);
    let Ok(sock) = UdpSocket::bind("127.0.0.1:0") else {
        return Some(servfail);
    };
    if sock.connect(upstream).is_err() {
        return Some(servfail);
    }
    let mut out = msg.to_vec();
    out[..2].copy_from_slice(&up_id.to_be_bytes());
    let mut buf = [0u8; wire::MAX_UDP];
    for _ in 0..UPSTREAM_TRIES {
        if sock.send(&out).await.is_err() {
            break;
        }
        let wait = async {
            loop {
                let n = sock.recv(&mut buf).await?;
                match parse_reply(&buf[..n]) {
                    Ok(r) if r.id == up_id && r.raw_question == q.raw_question => return Ok(n),
                    _ => continue,
                }
            }
        };
        if let Ok(Ok::<usize, io::Error>(n)) = timeout(UPSTREAM_WAIT, wait).await {
            let mut r = buf[..n].to_vec();
            r[..2].copy_from_slice(&q.id.to_be_bytes());
            return Some(r);
        }
    }
    Some(servfail)
}

/// The twin: one upstream socket, one query at a time, and the first datagram that arrives
/// taken as the answer to the current query, its id set to the client's.
async fn forward_first(front: UdpSocket, upstream: SocketAddr) -> io::Result<()> {
    let up = UdpSocket::bind("127.0.0.1:0")?;
    let mut buf = [0u8; wire::MAX_UDP];
    let mut back = [0u8; wire::MAX_UDP];
    loop {
        let (n, client) = front.recv_from(&mut buf).await?;
        if doppel::buggify!(0.05) {
            continue; // shed, as the correct forwarder may
        }
        let Ok(q) = parse_query(&buf[..n]) else {
            if let Some(r) = answer(&buf[..n]) {
                let _ = front.send_to(&r, client).await;
            }
            continue;
        };
        let _ = up.send_to(&buf[..n], upstream).await;
        let r = match timeout(UPSTREAM_WAIT, up.recv_from(&mut back)).await {
            Ok(Ok((m, _))) if m >= 2 => {
                let mut r = back[..m].to_vec();
                r[..2].copy_from_slice(&q.id.to_be_bytes());
                r
            }
            _ => reply(&q, Rcode::ServFail, &[], 0),
        };
        let _ = front.send_to(&r, client).await;
    }
}
