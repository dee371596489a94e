//! The trait a backend implements, and the handle that breaks its blocked poll. The contract it
//! keeps is in the [module docs](super).

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::fd::{Fd, Token};
use super::instant::Instant;
use super::ready::Event;
use super::task_id::TaskId;

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

    /// The time trace lines are stamped with: the backend's clock, or, in the simulator, the
    /// world's, one for every host even when their own clocks are skewed (so a trace reads in
    /// one order).
    fn trace_time(&self) -> Instant {
        self.now()
    }

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

    /// Creates a non-blocking datagram (UDP) socket of `addr`'s family bound to `addr` (port
    /// 0: one the system picks). The default, for a backend without datagrams, is
    /// `EOPNOTSUPP`.
    fn bind_datagram(&mut self, addr: SocketAddr) -> io::Result<Fd> {
        let _ = addr;
        Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP))
    }

    /// `connect(2)` on a datagram socket: at once, no handshake. Sets where `send_to` with no
    /// address sends, and from then on only that peer's datagrams are received (and an ICMP
    /// port-unreachable from it is `ECONNREFUSED` on a later call).
    fn connect_datagram(&mut self, fd: Fd, addr: SocketAddr) -> io::Result<()> {
        let _ = (fd, addr);
        Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP))
    }

    /// Sends `buf` as one datagram to `to` (`None`: the connected peer; unconnected, that is
    /// `EDESTADDRREQ`). Whole or not at all: above the maximum datagram size it is `EMSGSIZE`.
    fn send_to(&mut self, fd: Fd, buf: &[u8], to: Option<SocketAddr>) -> io::Result<usize> {
        let _ = (fd, buf, to);
        Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP))
    }

    /// Takes the next datagram (with `peek`, leaves it queued): the bytes copied into `buf` and
    /// who sent it. A datagram longer than `buf` is cut to fit and the rest is lost, as
    /// `recvfrom(2)` does; a short result says nothing about what else is queued.
    fn recv_from(&mut self, fd: Fd, buf: &mut [u8], peek: bool) -> io::Result<(usize, SocketAddr)> {
        let _ = (fd, buf, peek);
        Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP))
    }

    /// Whether the `buggify!` fault point at `site` (its file, line and column) fires now, at
    /// `rate` if the site is on for this run. The default, every backend but the simulator's,
    /// is never.
    fn buggify(&mut self, site: &'static str, rate: f64) -> bool {
        let _ = (site, rate);
        false
    }

    /// Takes one evaluation of the coverage assertion at `site` (`held`: whether its condition
    /// was true). The default, every backend but the simulator's, ignores it.
    fn assertion(&mut self, site: &'static crate::assertion::AssertSite, held: bool) {
        let _ = (site, held);
    }

    /// The wall clock of this host, as time since the Unix epoch (`SystemTime::now()` on a real
    /// machine; in the simulator, each host's own clock, skewed and drifting if the plan says
    /// so). The default reads the system's.
    fn wall_clock(&self) -> Duration {
        #[allow(clippy::disallowed_methods)] // The real system's clock; the simulator overrides it.
        let now = std::time::SystemTime::now();
        now.duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
    }

    /// The addresses of the host called `name` (`localhost`; the simulator's hosts by name).
    /// A name that does not resolve is the error `getaddrinfo` gives
    /// ([`name_not_known`]). The default knows `localhost` only.
    fn resolve(&mut self, name: &str) -> io::Result<Vec<std::net::IpAddr>> {
        if name.eq_ignore_ascii_case("localhost") {
            return Ok(vec![std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)]);
        }
        Err(name_not_known(name))
    }
}

/// The error `getaddrinfo` gives for a name it does not know, as Rust's standard library words
/// it (`failed to lookup address information: Name or service not known`).
pub fn name_not_known(name: &str) -> io::Error {
    io::Error::other(format!(
        "{name}: failed to lookup address information: Name or service not known"
    ))
}
