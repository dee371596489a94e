//! The pending-delivery queue: network events ordered by `(time, sequence)`.
//!
//! The model itself never reads a clock (turmoil-net's "the stack is clock-free"): it schedules
//! events at instants, and the world pops them when its clock reaches them. A binary heap keeps
//! each push and pop O(log n) however many hosts and links exist.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use doppel_core::driver::{Ready, Token};
use doppel_core::time::Instant;

use super::socket::SockRef;

/// Something the world will do at an instant: a network delivery, or a scheduled host crash or
/// restart.
#[derive(Debug)]
pub(crate) enum WorldEvent {
    /// A SYN reaches `to`'s host; `from` is the connecting socket.
    Syn {
        /// The connecting socket.
        from: SockRef,
        /// Where it connects.
        to: std::net::SocketAddr,
    },
    /// A connecting socket's SYN timer: resend the SYN, or give up.
    SynRetry {
        /// The connecting socket.
        sock: SockRef,
    },
    /// The SYN-ACK reaches the client; `server` is the accepted end.
    SynAck {
        /// The client end.
        to: SockRef,
        /// The server end.
        server: SockRef,
    },
    /// `len` in-flight bytes reach `to`.
    Data {
        /// The receiving end.
        to: SockRef,
        /// The sending end (answered with RST if `to` is gone).
        from: Option<SockRef>,
        /// How many bytes arrive.
        len: usize,
    },
    /// The peer's FIN reaches `to`.
    Fin {
        /// The receiving end.
        to: SockRef,
    },
    /// An RST (or a refusal, or a timeout) reaches `to`, with the error it reports.
    Rst {
        /// The receiving end.
        to: SockRef,
        /// `ECONNRESET`, `ECONNREFUSED`, `ETIMEDOUT` or `EHOSTUNREACH`.
        errno: i32,
    },
    /// The reader freed window space: the writer `to` may write again.
    Window {
        /// The writing end.
        to: SockRef,
    },
    /// A readiness edge delivered late (or a writable edge after a short write).
    Edge {
        reactor: usize,
        /// The registration.
        token: Token,
        /// What is ready.
        ready: Ready,
    },
    /// A datagram reaches its host (boxed: every event in the heap is as large as the
    /// largest, and TCP's are moved far more often).
    Datagram(Box<InFlight>),
    /// An ICMP port-unreachable for a datagram the socket sent to the address reaches it
    /// (boxed, as a datagram is: a second variant of a `Syn`'s shape would grow every event).
    Unreachable(Box<(SockRef, std::net::SocketAddr)>),
    /// A scheduled crash or restart of a host.
    Crash {
        host: usize,
        /// Restart after this long, if at all.
        restart_after: Option<std::time::Duration>,
    },
    /// A crashed host comes back.
    Restart { host: usize },
}

/// A datagram on the wire.
#[derive(Debug)]
pub(crate) struct InFlight {
    /// Where it is addressed.
    pub(crate) to: std::net::SocketAddr,
    /// The host it is for.
    pub(crate) host: crate::host_id::HostId,
    /// Who sent it (the address a reply goes to).
    pub(crate) from: std::net::SocketAddr,
    /// The sending socket (told of an ICMP port-unreachable, if connected).
    pub(crate) sender: SockRef,
    /// Its payload.
    pub(crate) bytes: Box<[u8]>,
}

// Every event in the heap is as large as the largest, and moved at every sift.
const _: () = assert!(
    std::mem::size_of::<WorldEvent>() <= 40,
    "keep world events small"
);

/// A queued event.
#[derive(Debug)]
struct Scheduled {
    /// When it happens.
    at: Instant,
    /// Tie-breaker: events at one instant happen in the order they were scheduled.
    seq: u64,
    /// What happens.
    event: WorldEvent,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    /// Reversed, so the heap's top is the earliest.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// The queue.
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    /// Pending events.
    heap: BinaryHeap<Scheduled>,
    /// The next sequence number.
    seq: u64,
}

impl EventQueue {
    /// Schedules `event` at `at`.
    pub(crate) fn push(&mut self, at: Instant, event: WorldEvent) {
        self.seq += 1;
        self.heap.push(Scheduled {
            at,
            seq: self.seq,
            event,
        });
    }

    /// When the next event happens.
    pub(crate) fn next_at(&self) -> Option<Instant> {
        self.heap.peek().map(|s| s.at)
    }

    /// Pops the next event if it is due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<WorldEvent> {
        if self.heap.peek()?.at > now {
            return None;
        }
        self.heap.pop().map(|s| s.event)
    }
}
