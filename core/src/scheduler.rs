//! The seam: what a reactor asks of the world, real or simulated.
//!
//! # The contract every backend honours
//!
//! This is the one interface between doppel's core and a kernel. The real backend
//! (`doppel-real`) implements it over epoll or kqueue; the simulator (`doppel-sim`) implements it
//! over a virtual clock and a virtual network. The core's retry loop, pollDesc and timers are one
//! piece of code above it, so whatever the simulator proves about them holds on epoll too. For
//! that to be true, both backends keep these rules (Go's `runtime/netpoll.go` header and mio's
//! `src/poll.rs` sections "Spurious events" and "Draining readiness" are the models):
//!
//! - **Edge-triggered.** [`Scheduler::register`] watches a descriptor for reading, writing and
//!   peer hang-up once, for its whole life. An event is reported when readiness *arrives*, not
//!   while it lasts: after an event, no further event comes for that direction until the core
//!   has seen `WouldBlock` (or a short transfer, below) and new readiness arrives.
//! - **Registration reports what is already there.** If a descriptor is readable (or
//!   writable) when it is registered, that readiness arrives as an edge on the next `poll`, as
//!   `EPOLL_CTL_ADD` and kqueue's `EV_ADD` both do. The core relies on it: a fresh pollDesc's read
//!   slot starts drained, so a new connection costs no speculative `EAGAIN` read.
//! - **Short transfers mean drained.** A `read` that returns fewer bytes than asked (but more
//!   than zero) means the receive queue held no more at that moment; a `write` that accepts
//!   fewer bytes than offered means the send buffer filled. New data or new buffer space raises a
//!   new edge. The core relies on this to avoid an `EAGAIN` syscall per wake-up.
//! - **Spurious events are allowed.** An event may arrive with nothing behind it; the next call
//!   then returns `WouldBlock`. `poll` may return no events before its timeout.
//! - **`EINTR` is surfaced, never hidden.** `poll` and every socket call may return
//!   [`io::ErrorKind::Interrupted`]; the core retries (or, for `poll`, treats it as an empty
//!   round). `close` is the exception the core knows about: an interrupted close has closed the
//!   descriptor and is never retried.
//! - **Errors carry the OS's raw errno.** Both backends build errors with
//!   [`io::Error::from_raw_os_error`] and the same `libc` constants, so `ECONNREFUSED` from the
//!   simulator is the same value as `ECONNREFUSED` from Linux.
//! - **Time is monotonic and comes only from [`Scheduler::now`].** Deadlines are absolute
//!   [`Instant`]s; `poll`'s timeout is relative and a backend with a coarser clock rounds it
//!   *up*, so a timer is never polled for early in a busy loop.
//! - **Stale events are harmless.** An event may name a token whose descriptor was since
//!   deregistered or reused; the core drops it by the token's generation.
//!
//! The trait is object safe: the core holds a `Box<dyn Scheduler>`, so server code needs no
//! generics and one test binary can run the same body on both backends.

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::task::TaskId;
use crate::time::Instant;

/// A descriptor number as the backend knows it: a real fd, or a virtual one in the simulator.
///
/// The simulator hands out the lowest free number as the kernel does, so fd reuse (and the stale
/// events it invites) happens in simulation exactly as it does on Linux.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fd(pub i32);

impl fmt::Display for Fd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fd={}", self.0)
    }
}

/// Names a registration: a pollDesc slot and the generation it had when the fd was registered.
///
/// Go's netpoll tags each epoll event with `fdseq` for the same reason: an event or a deadline
/// timer that names an old generation belongs to a closed (and perhaps reused) descriptor, and
/// must be dropped rather than delivered to the new owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(pub u64);

impl Token {
    /// The token of the backend's own wake-up source; never a pollDesc.
    pub const WAKE: Token = Token(u64::MAX);

    /// Packs a slot index and a generation.
    pub fn new(slot: u32, generation: u32) -> Token {
        Token((u64::from(generation) << 32) | u64::from(slot))
    }

    /// The pollDesc slot this token names.
    pub fn slot(self) -> u32 {
        self.0 as u32
    }

    /// The generation the slot had when this token was issued.
    pub fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

/// Which kinds of readiness an event reports, as a small bit set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Ready(u8);

impl Ready {
    /// Nothing is ready.
    pub const EMPTY: Ready = Ready(0);
    /// Data (or EOF, or a pending connection) can be read.
    pub const READABLE: Ready = Ready(1);
    /// Buffer space (or a finished connect) is available for writing.
    pub const WRITABLE: Ready = Ready(2);
    /// The peer closed its writing half (EPOLLRDHUP / EV_EOF on the read filter).
    pub const READ_CLOSED: Ready = Ready(4);
    /// The connection is closed for writing (EPOLLHUP / EV_EOF on the write filter).
    pub const WRITE_CLOSED: Ready = Ready(8);
    /// An error is pending on the socket (EPOLLERR); the next call will report it.
    pub const ERROR: Ready = Ready(16);

    /// Whether every bit of `other` is set in `self`.
    pub fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    /// Whether a reader should be woken: readable, read-closed or error.
    pub fn wakes_reader(self) -> bool {
        self.0 & (Self::READABLE.0 | Self::READ_CLOSED.0 | Self::ERROR.0) != 0
    }

    /// Whether a writer should be woken: writable, write-closed or error.
    pub fn wakes_writer(self) -> bool {
        self.0 & (Self::WRITABLE.0 | Self::WRITE_CLOSED.0 | Self::ERROR.0) != 0
    }

    /// The raw bits, for traces.
    pub fn bits(self) -> u8 {
        self.0
    }
}

impl std::ops::BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        Ready(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, rhs: Ready) {
        self.0 |= rhs.0;
    }
}

impl fmt::Display for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(Ready, &str); 5] = [
            (Ready::READABLE, "r"),
            (Ready::WRITABLE, "w"),
            (Ready::READ_CLOSED, "rdhup"),
            (Ready::WRITE_CLOSED, "hup"),
            (Ready::ERROR, "err"),
        ];
        let mut first = true;
        for (bit, name) in NAMES {
            if self.contains(bit) {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("-")?;
        }
        Ok(())
    }
}

/// One readiness event from [`Scheduler::poll`]: which registration, and what arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// The registration the event is for (possibly stale; the core checks the generation).
    pub token: Token,
    /// What became ready.
    pub ready: Ready,
}

/// Breaks a blocked [`Scheduler::poll`] from any thread (an eventfd write, an `EVFILT_USER`
/// trigger, or a note to the simulated world).
///
/// Waking a reactor that is not blocked is allowed and cheap; the next `poll` returns at once.
pub trait WakeHandle: Send + Sync {
    /// Makes the reactor's current or next `poll` return promptly.
    fn wake(&self);

    /// Whether every wake from outside the reactor's own turn must be reported, not only those
    /// that find it blocked in `poll`. The simulator's reactors never block, so they ask for
    /// all of them; a real poller only needs breaking when it sleeps.
    fn wants_every_wake(&self) -> bool {
        false
    }
}

/// What a reactor asks of the world: time, readiness, the choice of the next task, and the
/// non-blocking socket calls. See the module docs for the contract every backend honours.
pub trait Scheduler {
    /// The current monotonic (or virtual) time.
    fn now(&self) -> Instant;

    /// Waits up to `timeout` (`None`: until something happens) for readiness events and appends
    /// them to `events`. Go's `netpoll(delay)`. May return `Interrupted`, which the core treats
    /// as an empty round.
    fn poll(&mut self, timeout: Option<Duration>, events: &mut Vec<Event>) -> io::Result<()>;

    /// Chooses which of the `runnable` tasks runs next, as an index into the slice. The real
    /// backend runs them in order (returns 0); the simulator chooses by its seeded strategy.
    fn pick(&mut self, runnable: &[TaskId]) -> usize;

    /// A handle that breaks a blocked `poll` from another thread.
    fn wake_handle(&self) -> Arc<dyn WakeHandle>;

    /// Watches `fd` for read, write and hang-up readiness, edge-triggered, reporting `token`.
    fn register(&mut self, fd: Fd, token: Token) -> io::Result<()>;

    /// Stops watching `fd`. Events already queued for it may still be reported (stale).
    fn deregister(&mut self, fd: Fd) -> io::Result<()>;

    /// Creates a non-blocking stream socket bound to `addr`, listening with `backlog` pending
    /// connections (`None`: the system's maximum, e.g. `/proc/sys/net/core/somaxconn`).
    fn listen(&mut self, addr: SocketAddr, backlog: Option<u32>) -> io::Result<Fd>;

    /// Takes one pending connection from a listener: the new non-blocking socket and its peer.
    fn accept(&mut self, listener: Fd) -> io::Result<(Fd, SocketAddr)>;

    /// Creates a non-blocking stream socket of `addr`'s family, not yet connected.
    fn socket(&mut self, addr: SocketAddr) -> io::Result<Fd>;

    /// Starts connecting `fd` to `addr`. `EINPROGRESS` and `EINTR` both mean the handshake goes
    /// on in the background: the core waits for writability and reads [`Scheduler::take_error`].
    fn connect(&mut self, fd: Fd, addr: SocketAddr) -> io::Result<()>;

    /// Reads and clears the socket's pending error (`SO_ERROR`).
    fn take_error(&mut self, fd: Fd) -> io::Result<Option<io::Error>>;

    /// Reads into `buf`. `Ok(0)` with a non-empty buffer is end of stream.
    fn read(&mut self, fd: Fd, buf: &mut [u8]) -> io::Result<usize>;

    /// Writes from `buf`, never raising `SIGPIPE` (a closed peer is `EPIPE`).
    fn write(&mut self, fd: Fd, buf: &[u8]) -> io::Result<usize>;

    /// Shuts down one or both halves of a connection.
    fn shutdown(&mut self, fd: Fd, how: Shutdown) -> io::Result<()>;

    /// Closes `fd`. An `Interrupted` result still means closed; the core never retries.
    fn close(&mut self, fd: Fd) -> io::Result<()>;

    /// The address `fd` is bound to.
    fn local_addr(&self, fd: Fd) -> io::Result<SocketAddr>;

    /// The address of `fd`'s peer.
    fn peer_addr(&self, fd: Fd) -> io::Result<SocketAddr>;

    /// Turns Nagle's algorithm off (`true`) or on (`false`).
    fn set_nodelay(&mut self, fd: Fd, nodelay: bool) -> io::Result<()>;

    /// The addresses of the host called `name` (`localhost`; the simulator's hosts by name).
    /// A name that does not resolve is the error `getaddrinfo` gives
    /// ([`crate::net::name_not_known`]). The default knows `localhost` only.
    fn resolve(&mut self, name: &str) -> io::Result<Vec<std::net::IpAddr>> {
        if name.eq_ignore_ascii_case("localhost") {
            return Ok(vec![std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)]);
        }
        Err(crate::net::name_not_known(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_packs_slot_and_generation() {
        let t = Token::new(7, 3);
        assert_eq!(t.slot(), 7);
        assert_eq!(t.generation(), 3);
        assert_ne!(Token::new(7, 4), t);
        assert_ne!(Token::WAKE, Token::new(u32::MAX, u32::MAX - 1));
    }

    #[test]
    fn ready_renders_stably() {
        assert_eq!((Ready::READABLE | Ready::ERROR).to_string(), "r|err");
        assert_eq!(Ready::EMPTY.to_string(), "-");
        assert!((Ready::READ_CLOSED).wakes_reader());
        assert!(!(Ready::READ_CLOSED).wakes_writer());
    }
}
