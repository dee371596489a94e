//! Simulated sockets: a slab of listeners, TCP streams and UDP sockets, addressed by
//! generation-checked refs.

use std::collections::VecDeque;
use std::net::SocketAddr;

use doppel_core::driver::Token;
use doppel_core::time::Instant;

use crate::host::HostId;

/// Names a socket; the generation rejects refs to a freed (and perhaps reused) slot, so a late
/// segment for a closed connection never reaches a new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SockRef {
    /// The slab slot.
    pub(crate) idx: u32,
    /// The slot's generation when the socket was created.
    pub(crate) gen: u32,
}

/// Which reactor watches a socket, and the token its events carry.
pub(crate) type Watch = Option<(usize, Token)>;

/// A listening socket.
#[derive(Debug)]
pub(crate) struct Listener {
    /// The bound address (port resolved).
    pub(crate) addr: SocketAddr,
    /// How many handshaken connections may wait for `accept`.
    pub(crate) backlog: usize,
    /// Handshaken connections, oldest first.
    pub(crate) queue: VecDeque<SockRef>,
}

/// Where a stream is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// SYN sent, waiting for SYN-ACK; `retries` SYNs resent so far.
    SynSent {
        /// SYN retransmissions so far.
        retries: u32,
    },
    /// Connected.
    Established,
    /// Reset, refused or timed out: no more data moves.
    Dead,
}

/// One end of a TCP connection.
#[derive(Debug)]
pub(crate) struct TcpConn {
    /// Our address.
    pub(crate) local: SocketAddr,
    /// The address we connected to, or accepted from.
    pub(crate) peer_addr: SocketAddr,
    /// The other end, once known.
    pub(crate) peer: Option<SockRef>,
    /// Handshake and liveness.
    pub(crate) phase: Phase,
    /// Every byte the peer sent that we have not read, in order: the first `arrived` have
    /// landed (readable), the rest are still on the wire. Data events carry only a length, and
    /// an arrival just moves the mark: no byte is copied between send and read.
    pub(crate) bytes: VecDeque<u8>,
    /// How many of `bytes` have arrived.
    pub(crate) arrived: usize,
    /// The peer's FIN arrived (possibly ahead of bytes re-queued by a short read).
    pub(crate) fin_pending: bool,
    /// The peer's FIN is visible: once `recv` is drained, reads return 0.
    pub(crate) fin_in: bool,
    /// We sent FIN (shutdown of the write half, or close).
    pub(crate) fin_out: bool,
    /// We shut down the read half: reads return 0 and arrivals are dropped.
    pub(crate) read_shut: bool,
    /// A pending error, reported once by `SO_ERROR`, `read` or `write` (`ECONNRESET`, ...).
    pub(crate) error: Option<i32>,
    /// A write found the window full: raise a writable edge when the peer frees space.
    pub(crate) writer_blocked: bool,
    /// When our last segment reaches the peer; the next one never arrives earlier (in order).
    pub(crate) last_arrival: Instant,
    /// Our owner closed us; we linger to finish the close handshake, answering data with RST.
    pub(crate) orphan: bool,
}

impl TcpConn {
    /// Bytes that have arrived and not been read.
    pub(crate) fn readable(&self) -> usize {
        self.arrived
    }

    /// Bytes still on the wire to us.
    pub(crate) fn in_flight(&self) -> usize {
        self.bytes.len() - self.arrived
    }

    /// Drops everything on the wire (a reset loses in-flight data).
    pub(crate) fn lose_in_flight(&mut self) {
        self.bytes.truncate(self.arrived);
    }

    /// Drops everything, read or not (shutdown of the read half).
    pub(crate) fn discard(&mut self) {
        self.bytes.clear();
        self.arrived = 0;
    }

    /// Copies `buf.len()` arrived bytes out and removes them.
    pub(crate) fn take(&mut self, buf: &mut [u8]) {
        let n = buf.len();
        debug_assert!(n <= self.arrived);
        let (a, b) = self.bytes.as_slices();
        let k = n.min(a.len());
        buf[..k].copy_from_slice(&a[..k]);
        buf[k..].copy_from_slice(&b[..n - k]);
        self.bytes.drain(..n);
        self.arrived -= n;
    }

    /// A stream in the given phase.
    pub(crate) fn new(local: SocketAddr, peer_addr: SocketAddr, phase: Phase) -> TcpConn {
        TcpConn {
            local,
            peer_addr,
            peer: None,
            phase,
            bytes: VecDeque::new(),
            arrived: 0,
            fin_pending: false,
            fin_in: false,
            fin_out: false,
            read_shut: false,
            error: None,
            writer_blocked: false,
            last_arrival: Instant::ZERO,
            orphan: false,
        }
    }
}

/// What a socket is.
#[derive(Debug)]
pub(crate) enum Kind {
    /// Created by `socket()`, not yet connected or listening.
    Fresh,
    /// Listening.
    Listener(Listener),
    /// A connection end.
    Stream(Box<TcpConn>),
    /// A bound datagram socket.
    Udp(Box<super::udp::UdpSock>),
}

/// A simulated socket.
#[derive(Debug)]
pub(crate) struct Socket {
    /// The host it lives on.
    pub(crate) host: HostId,
    /// Where its faults and network draws are numbered, once it has an address (a fresh
    /// socket uses its host's).
    pub(crate) site: Option<crate::site::Site>,
    /// Which reactor watches it.
    pub(crate) reg: Watch,
    /// What it is.
    pub(crate) kind: Kind,
}

impl Socket {
    /// The stream, if this is one.
    pub(crate) fn stream(&mut self) -> Option<&mut TcpConn> {
        match &mut self.kind {
            Kind::Stream(s) => Some(s),
            _ => None,
        }
    }
}

/// The slab of every socket in the world.
#[derive(Debug, Default)]
pub(crate) struct Sockets {
    /// Slots: generation and socket.
    slots: Vec<(u32, Option<Socket>)>,
    /// Free slots, reused last-freed-first.
    free: Vec<u32>,
}

impl Sockets {
    /// Stores a socket.
    pub(crate) fn insert(&mut self, sock: Socket) -> SockRef {
        if let Some(idx) = self.free.pop() {
            let slot = &mut self.slots[idx as usize];
            slot.1 = Some(sock);
            return SockRef { idx, gen: slot.0 };
        }
        self.slots.push((0, Some(sock)));
        SockRef {
            idx: (self.slots.len() - 1) as u32,
            gen: 0,
        }
    }

    /// The socket `r` names, unless it was freed since.
    pub(crate) fn get(&mut self, r: SockRef) -> Option<&mut Socket> {
        let slot = self.slots.get_mut(r.idx as usize)?;
        if slot.0 != r.gen {
            return None;
        }
        slot.1.as_mut()
    }

    /// Frees a socket.
    pub(crate) fn remove(&mut self, r: SockRef) -> Option<Socket> {
        let slot = self.slots.get_mut(r.idx as usize)?;
        if slot.0 != r.gen {
            return None;
        }
        let sock = slot.1.take()?;
        slot.0 = slot.0.wrapping_add(1);
        self.free.push(r.idx);
        Some(sock)
    }
}
