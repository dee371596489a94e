//! The UDP model: a bound socket's receive queue (datagrams whole, each with its sender), its
//! optional connected peer, the error an ICMP port-unreachable left for it, and the knobs. Like
//! the TCP model it draws no dice and reads no clock; datagrams in flight, their faults and
//! arrival times are the world's (`world/datagram.rs`).

use std::collections::VecDeque;
use std::net::SocketAddr;

use doppel_core::driver::Ready;

/// The largest UDP payload over IPv4 (65,535 − 8 − 20): a larger send is `EMSGSIZE`.
pub(crate) const MAX_DATAGRAM: usize = 65_507;

/// A socket's receive buffer when the world sets none: Linux's `rmem_default`.
pub(crate) const DEFAULT_RECV_BUFFER: usize = 212_992;

/// What the kernel charges a queued datagram beyond its payload (its buffer's bookkeeping),
/// so a buffer fills with many small datagrams as a real one does.
pub(crate) const DATAGRAM_OVERHEAD: usize = 256;

/// One datagram, as it waits in a receive queue.
#[derive(Debug)]
pub(crate) struct Datagram {
    /// Who sent it.
    pub(crate) from: SocketAddr,
    /// Its payload.
    pub(crate) bytes: Box<[u8]>,
}

/// A bound datagram socket.
#[derive(Debug)]
pub(crate) struct UdpSock {
    /// The bound address (port resolved).
    pub(crate) local: SocketAddr,
    /// The connected peer: the default destination and the only sender received from.
    pub(crate) peer: Option<SocketAddr>,
    /// Datagrams arrived and not yet received, oldest first.
    pub(crate) queue: VecDeque<Datagram>,
    /// What the queue is charged against the receive buffer.
    pub(crate) charged: usize,
    /// The receive buffer's size.
    pub(crate) capacity: usize,
    /// An error to report once (`ECONNREFUSED` after a port-unreachable).
    pub(crate) error: Option<i32>,
}

impl UdpSock {
    /// A socket bound at `local` with a `capacity`-byte receive buffer.
    pub(crate) fn new(local: SocketAddr, capacity: usize) -> UdpSock {
        UdpSock {
            local,
            peer: None,
            queue: VecDeque::new(),
            charged: 0,
            capacity,
            error: None,
        }
    }

    /// What the socket reports if registered now: writable always (a send never waits for
    /// the network), readable with a datagram or an error queued.
    pub(crate) fn readiness(&self) -> Ready {
        let mut r = Ready::WRITABLE;
        if !self.queue.is_empty() || self.error.is_some() {
            r |= Ready::READABLE;
        }
        r
    }

    /// Whether a datagram from `from` is for this socket (a connected one hears its peer only).
    pub(crate) fn accepts(&self, from: SocketAddr) -> bool {
        self.peer.is_none_or(|p| p == from)
    }

    /// Queues an arrival; false if the receive buffer has no room (the datagram is dropped).
    pub(crate) fn enqueue(&mut self, d: Datagram) -> bool {
        let cost = d.bytes.len() + DATAGRAM_OVERHEAD;
        if self.charged + cost > self.capacity {
            return false;
        }
        self.charged += cost;
        self.queue.push_back(d);
        true
    }

    /// Copies the oldest datagram into `buf` (cut to fit), taking it unless `peek`: the bytes
    /// copied and the sender, or `None` if nothing is queued.
    pub(crate) fn take(&mut self, buf: &mut [u8], peek: bool) -> Option<(usize, SocketAddr)> {
        let d = self.queue.front()?;
        let n = d.bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&d.bytes[..n]);
        let from = d.from;
        if !peek {
            let d = self.queue.pop_front().expect("a front");
            self.charged -= d.bytes.len() + DATAGRAM_OVERHEAD;
        }
        Some((n, from))
    }
}
