//! `RealPoller`: the [`Scheduler`] over the kernel — the selector, the sockets, the clock.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use doppel_core::driver::{Event, Fd, Scheduler, TaskId, Token, WakeHandle};
use doppel_core::time::Instant;

use crate::sys::{socket, Selector};

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
}

impl RealPoller {
    /// A new poller (an epoll or kqueue descriptor, plus its wake-up source).
    pub fn new() -> io::Result<RealPoller> {
        let _ = monotonic_now();
        Ok(RealPoller {
            selector: Selector::new()?,
        })
    }
}

impl Scheduler for RealPoller {
    fn now(&self) -> Instant {
        monotonic_now()
    }

    fn poll(&mut self, timeout: Option<Duration>, events: &mut Vec<Event>) -> io::Result<()> {
        self.selector.select(timeout, events)
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
