//! `RealPoller`: the [`Scheduler`] over the kernel — the selector, the sockets, the clock.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use doppel_core::driver::{Event, Fd, Scheduler, TaskId, Token, WakeHandle};
use doppel_core::time::Instant;

use crate::sys::{datagram, socket, Selector};

/// The process-wide clock origin, so instants from different reactors compare: the same moment
/// read as `CLOCK_MONOTONIC` nanoseconds and as a `std` instant (the fallback's origin).
struct Origin {
    clock: Option<u64>,
    std: std::time::Instant,
}

static ORIGIN: OnceLock<Origin> = OnceLock::new();

/// The monotonic clock as a doppel [`Instant`].
///
/// The one sanctioned wall-clock read in doppel: the real backend's `now`. Everything else
/// (core, simulator) takes time from `Scheduler::now`. It reads `CLOCK_MONOTONIC` directly
/// (`sys::clock`), and `std::time::Instant` only if that ever failed.
#[allow(clippy::disallowed_methods)]
fn monotonic_now() -> Instant {
    let origin = ORIGIN.get_or_init(|| Origin {
        clock: crate::sys::clock::monotonic_ns(),
        std: std::time::Instant::now(),
    });
    let nanos = match (origin.clock, crate::sys::clock::monotonic_ns()) {
        (Some(from), Some(now)) => now.saturating_sub(from),
        _ => u64::try_from(
            std::time::Instant::now()
                .saturating_duration_since(origin.std)
                .as_nanos(),
        )
        .unwrap_or(u64::MAX),
    };
    Instant::from_nanos(nanos)
}

/// The real backend: edge-triggered epoll on Linux, kqueue with `EV_CLEAR` on macOS and
/// FreeBSD; tasks run in wake order (FIFO).
#[derive(Debug)]
pub struct RealPoller {
    /// The kernel's readiness queue.
    selector: Selector,
    /// The bounded spin before a blocking poll.
    spin: Spin,
}

/// Go's spinning before `netpoll(block)`, bounded: after a poll that found two or more events
/// (traffic on several connections), the next polls that would block first try up to `polls`
/// non-blocking polls, yielding the CPU between them, and return at the first that finds
/// anything (an event, or the wake-up of a job or a task woken from another thread). A reactor
/// that keeps up with busy traffic this way stays on its CPU instead of sleeping and being
/// woken: on a machine with more busy threads than cores, each of those wake-ups may preempt
/// another thread. A busy poll gives the spin [`SPIN_CREDIT`] polls of credit and every poll
/// that finds fewer than two events spends one, so a reactor down to one connection stops
/// spinning within a few round trips, and one that only ever had one connection never spins:
/// its round trip stays 3 syscalls.
#[derive(Debug, Default)]
struct Spin {
    /// Non-blocking polls to try (0: never spin).
    polls: u32,
    /// Polls left before the spin disarms (0: disarmed).
    credit: u8,
    /// Spins that found something, and spins that gave up and blocked (for tests and
    /// debugging).
    found: u64,
    /// See `found`.
    gave_up: u64,
}

impl Spin {
    /// Whether the next poll that would block spins first.
    fn armed(&self) -> bool {
        self.credit > 0
    }

    /// Books a poll that returned `events` events.
    fn after_poll(&mut self, events: usize) {
        self.credit = if events >= SPIN_ARM_EVENTS {
            SPIN_CREDIT
        } else {
            self.credit.saturating_sub(1)
        };
    }
}

/// Events a poll must find to arm the spin.
const SPIN_ARM_EVENTS: usize = 2;

/// Polls of fewer than [`SPIN_ARM_EVENTS`] events after which the spin disarms.
const SPIN_CREDIT: u8 = 8;

impl RealPoller {
    /// A new poller (an epoll or kqueue descriptor, plus its wake-up source).
    pub fn new() -> io::Result<RealPoller> {
        let _ = monotonic_now();
        Ok(RealPoller {
            selector: Selector::new()?,
            spin: Spin::default(),
        })
    }

    /// A poller that spins up to `polls` non-blocking polls before it blocks, after a busy
    /// poll (see [`doppel_core::group::GroupConfig::spin_polls`]); 0 never spins.
    pub fn spinning(polls: u32) -> io::Result<RealPoller> {
        let mut p = RealPoller::new()?;
        p.spin.polls = polls;
        Ok(p)
    }

    /// A poll of a poller that spins: the spin if it is armed and this poll would block, then
    /// (if the spin found nothing) the poll itself; either books its events. Out of line, so
    /// a poller that never spins pays one test per poll for the spin.
    #[inline(never)]
    fn poll_spinning(
        &mut self,
        timeout: Option<Duration>,
        events: &mut Vec<Event>,
    ) -> io::Result<()> {
        let spun = self.spin.armed() && timeout != Some(Duration::ZERO) && self.spun(events)?;
        if !spun {
            self.selector.select(timeout, events)?;
        }
        self.spin.after_poll(events.len());
        Ok(())
    }

    /// The spin: true once a non-blocking poll found something (events are in `events`).
    fn spun(&mut self, events: &mut Vec<Event>) -> io::Result<bool> {
        for _ in 0..self.spin.polls {
            self.selector.select(Some(Duration::ZERO), events)?;
            if self.selector.seen() > 0 {
                self.spin.found += 1;
                return Ok(true);
            }
            std::thread::yield_now();
        }
        self.spin.gave_up += 1;
        Ok(false)
    }
}

impl Scheduler for RealPoller {
    fn now(&self) -> Instant {
        monotonic_now()
    }

    fn poll(&mut self, timeout: Option<Duration>, events: &mut Vec<Event>) -> io::Result<()> {
        if self.spin.polls == 0 {
            return self.selector.select(timeout, events);
        }
        self.poll_spinning(timeout, events)
    }

    fn pick(&mut self, _runnable: &[TaskId]) -> usize {
        0
    }

    fn wake_handle(&self) -> Arc<dyn WakeHandle> {
        self.selector.wake_handle()
    }

    fn register(&mut self, fd: Fd, token: Token) -> io::Result<()> {
        self.selector.register(fd.raw(), token)
    }

    fn deregister(&mut self, fd: Fd) -> io::Result<()> {
        self.selector.deregister(fd.raw())
    }

    fn listen(&mut self, addr: SocketAddr, backlog: Option<u32>) -> io::Result<Fd> {
        socket::listen(addr, backlog).map(Fd::new)
    }

    fn accept(&mut self, listener: Fd) -> io::Result<(Fd, SocketAddr)> {
        socket::accept(listener.raw()).map(|(fd, peer)| (Fd::new(fd), peer))
    }

    fn socket(&mut self, addr: SocketAddr) -> io::Result<Fd> {
        socket::socket(addr).map(Fd::new)
    }

    fn connect(&mut self, fd: Fd, addr: SocketAddr) -> io::Result<()> {
        socket::connect(fd.raw(), addr)
    }

    fn take_error(&mut self, fd: Fd) -> io::Result<Option<io::Error>> {
        socket::take_error(fd.raw())
    }

    fn read(&mut self, fd: Fd, buf: &mut [u8]) -> io::Result<usize> {
        socket::read(fd.raw(), buf)
    }

    fn write(&mut self, fd: Fd, buf: &[u8]) -> io::Result<usize> {
        socket::write(fd.raw(), buf)
    }

    fn bind_datagram(&mut self, addr: SocketAddr) -> io::Result<Fd> {
        datagram::bind(addr).map(Fd::new)
    }

    fn connect_datagram(&mut self, fd: Fd, addr: SocketAddr) -> io::Result<()> {
        socket::connect(fd.raw(), addr)
    }

    fn send_to(&mut self, fd: Fd, buf: &[u8], to: Option<SocketAddr>) -> io::Result<usize> {
        datagram::send_to(fd.raw(), buf, to)
    }

    fn recv_from(&mut self, fd: Fd, buf: &mut [u8], peek: bool) -> io::Result<(usize, SocketAddr)> {
        datagram::recv_from(fd.raw(), buf, peek)
    }

    fn shutdown(&mut self, fd: Fd, how: Shutdown) -> io::Result<()> {
        socket::shutdown(fd.raw(), how)
    }

    fn close(&mut self, fd: Fd) -> io::Result<()> {
        socket::close(fd.raw())
    }

    fn local_addr(&self, fd: Fd) -> io::Result<SocketAddr> {
        socket::local_addr(fd.raw())
    }

    fn peer_addr(&self, fd: Fd) -> io::Result<SocketAddr> {
        socket::peer_addr(fd.raw())
    }

    fn set_nodelay(&mut self, fd: Fd, nodelay: bool) -> io::Result<()> {
        socket::set_nodelay(fd.raw(), nodelay)
    }

    /// `localhost`, then the system's resolver (`getaddrinfo`, which blocks this reactor for
    /// the lookup, as Go's cgo resolver blocks its thread).
    fn resolve(&mut self, name: &str) -> io::Result<Vec<std::net::IpAddr>> {
        if name.eq_ignore_ascii_case("localhost") {
            return Ok(vec![std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)]);
        }
        use std::net::ToSocketAddrs;
        let found = (name, 0u16)
            .to_socket_addrs()
            .map_err(|e| io::Error::new(e.kind(), format!("{name}: {e}")))?;
        Ok(found.map(|a| a.ip()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;

    /// Two accepted connections on 127.0.0.1, registered with `p` under tokens 1 and 2, and
    /// their clients.
    fn two_connections(p: &mut RealPoller) -> Vec<(TcpStream, TcpStream)> {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        (1..=2u64)
            .map(|t| {
                let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
                let (served, _) = l.accept().unwrap();
                served.set_nonblocking(true).unwrap();
                p.register(Fd::new(served.as_raw_fd()), Token::from_raw(t))
                    .unwrap();
                (client, served)
            })
            .collect()
    }

    /// Polls until a poll returns something (registration's first edges may come one by one).
    fn poll_some(p: &mut RealPoller, events: &mut Vec<Event>) {
        for _ in 0..100 {
            events.clear();
            p.poll(Some(Duration::from_millis(50)), events).unwrap();
            if !events.is_empty() {
                return;
            }
        }
        panic!("no event in 5 s");
    }

    #[test]
    fn a_busy_poll_arms_the_spin_which_finds_data_or_gives_up_and_blocks() {
        let mut p = RealPoller::spinning(100).unwrap();
        let mut conns = two_connections(&mut p);
        let mut events = Vec::new();
        // Both sockets' first writable edges, in one poll: busy enough to arm.
        poll_some(&mut p, &mut events);
        if events.len() < SPIN_ARM_EVENTS {
            poll_some(&mut p, &mut events);
        }
        conns[0].0.write_all(b"x").unwrap();
        conns[1].0.write_all(b"y").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        events.clear();
        p.poll(Some(Duration::from_secs(5)), &mut events).unwrap();
        assert_eq!(events.len(), 2, "both arrivals: {events:?}");
        assert_eq!(p.spin.found, 1, "the spin's first try found them");
        events.clear();
        p.poll(Some(Duration::from_millis(10)), &mut events)
            .unwrap();
        assert!(events.is_empty(), "nothing arrived: {events:?}");
        assert_eq!(
            p.spin.gave_up, 1,
            "100 tries found nothing, then it blocked"
        );
        // One connection's traffic from here: every poll finds one event, and the credit the
        // busy poll gave runs out within SPIN_CREDIT polls.
        let mut rounds = 0;
        while p.spin.armed() && rounds <= SPIN_CREDIT {
            conns[0].0.write_all(b"z").unwrap();
            poll_some(&mut p, &mut events);
            assert_eq!(events.len(), 1, "{events:?}");
            rounds += 1;
        }
        assert!(
            (1..SPIN_CREDIT).contains(&rounds) && !p.spin.armed(),
            "one event per poll disarms the spin: still armed after {rounds} polls"
        );
    }

    #[test]
    fn a_poller_that_never_spins_is_never_armed() {
        let mut p = RealPoller::new().unwrap();
        let _conns = two_connections(&mut p);
        let mut events = Vec::new();
        poll_some(&mut p, &mut events);
        assert!(!p.spin.armed());
        assert_eq!((p.spin.found, p.spin.gave_up), (0, 0));
    }
}
