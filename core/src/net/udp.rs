//! `UdpSocket`: datagrams through the same pollDesc and retry loop as TCP, minus the
//! short-transfer shortcut (a datagram shorter than the buffer says nothing about what else is
//! queued, so a receive waits for an edge only after `WouldBlock`).

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::Poll;

use super::addr::ToSocketAddr;
use crate::driver::fd::Fd;
use crate::driver::instant::Instant;
use crate::driver::ready::Direction;
use crate::driver::scheduler::Scheduler;
use crate::error;
use crate::fd::registration::{ParkGuard, Registration};
use crate::fd::retry::{Parked, Retry, Traced, Wait};
use crate::reactor;
use crate::trace::{self, Call};

/// A UDP socket on the current reactor, with the contract of the kernel's: one datagram per
/// send, whole or `EMSGSIZE`; one per receive, cut to the buffer (the rest is lost, as
/// `recvfrom(2)` does); no delivery, order or uniqueness promised. In the simulator datagrams
/// are lost, duplicated, reordered and delayed by the `dgram-*` fault classes, a full receive
/// buffer drops what arrives, and partitions and crashes apply.
///
/// Calls take `&self`: one task may receive while another sends. Errors carry the OS's raw
/// errno (`ECONNREFUSED` on a connected socket whose peer's port is closed, `EMSGSIZE`,
/// `EDESTADDRREQ`), on both backends.
///
/// ```no_run
/// # async fn serve() -> std::io::Result<()> {
/// let sock = doppel_core::net::UdpSocket::bind("0.0.0.0:5300")?;
/// let mut buf = [0u8; 512];
/// loop {
///     let (n, from) = sock.recv_from(&mut buf).await?;
///     sock.send_to(&buf[..n], from).await?; // echo
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    /// The registered socket.
    reg: Registration,
}

impl UdpSocket {
    /// Binds a socket to `addr` (port 0: one the system picks; see [`UdpSocket::local_addr`]).
    pub fn bind(addr: impl ToSocketAddr) -> io::Result<UdpSocket> {
        let addr = addr.lookup()?;
        let ctx = |e| error::context("bind", addr, e);
        let reactor = reactor::current_or_err("bind")?;
        let fd = reactor.with_sched(|s| s.bind_datagram(addr)).map_err(ctx)?;
        trace::event!("doppel::net", "bind_udp", fd = fd.0, port = addr.port());
        let reg = Registration::new(reactor, fd).map_err(ctx)?;
        Ok(UdpSocket { reg })
    }

    /// Sets the peer [`UdpSocket::send`] sends to; from then on only its datagrams are
    /// received. Immediate: UDP has no handshake.
    pub fn connect(&self, addr: impl ToSocketAddr) -> io::Result<()> {
        let addr = addr.lookup()?;
        let done = self.reg.with_sched(|s, fd| s.connect_datagram(fd, addr));
        let errno = done.as_ref().err().map_or(0, trace::errno_of);
        trace::event!("doppel::net", "connect", fd = self.fd().0, errno = errno);
        done.map_err(|e| error::context("connect", addr, e))
    }

    /// The socket's descriptor (for diagnostics; the socket owns it).
    pub fn fd(&self) -> Fd {
        self.reg.fd()
    }

    /// Sends `buf` as one datagram to `to`, waiting if the send buffer is full.
    pub async fn send_to(&self, buf: &[u8], to: impl ToSocketAddr) -> io::Result<usize> {
        let to = to.lookup()?;
        self.sending(buf, Some(to)).await
    }

    /// Sends `buf` as one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.sending(buf, None).await
    }

    /// Waits for a datagram and takes it: the bytes copied and who sent it.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.receiving(buf, false).await
    }

    /// Waits for a datagram from the connected peer and takes it.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.receiving(buf, false).await.map(|(n, _)| n)
    }

    /// Waits for a datagram and copies it without taking it: the next receive gets it again.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.receiving(buf, true).await
    }

    /// Sends without waiting: `WouldBlock` if the send buffer is known to be full.
    pub fn try_send_to(&self, buf: &[u8], to: impl ToSocketAddr) -> io::Result<usize> {
        let to = to.lookup()?;
        self.now(Call::SendTo, Direction::Write, |s, fd| {
            s.send_to(fd, buf, Some(to))
        })
        .map_err(|e| self.err("sendto", e))
    }

    /// Receives without waiting: `WouldBlock` if nothing is known to be queued.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.now(Call::RecvFrom, Direction::Read, |s, fd| {
            s.recv_from(fd, buf, false)
        })
        .map_err(|e| self.err("recvfrom", e))
    }

    /// Waits until a receive may make progress (a datagram, an error, an expired deadline).
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Direction::Read).await
    }

    /// Waits until a send may make progress.
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Direction::Write).await
    }

    /// The local address (the port the system picked, after binding port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.reg.local_addr()
    }

    /// The connected peer's address (`ENOTCONN` if not connected).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.reg.peer_addr()
    }

    /// Sets the absolute receive deadline (`None` clears it): a receive parked past it, or
    /// started after it, fails with `TimedOut`, as [`crate::net::TcpStream`]'s reads do.
    pub fn set_read_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.reg.set_deadline(Direction::Read, deadline)
    }

    /// Sets the absolute send deadline (`None` clears it).
    pub fn set_write_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.reg.set_deadline(Direction::Write, deadline)
    }

    /// Sets both deadlines.
    pub fn set_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.reg.set_deadlines(deadline)
    }

    /// Closes the socket now; tasks parked on it wake with an error. Dropping it does the same.
    pub fn close(&self) -> io::Result<()> {
        self.reg.close().map_err(|e| self.err("close", e))
    }

    /// One send through the retry loop.
    async fn sending(&self, buf: &[u8], to: Option<SocketAddr>) -> io::Result<usize> {
        let got = self
            .parking(Call::SendTo, Direction::Write, |s, fd| {
                s.send_to(fd, buf, to)
            })
            .await;
        got.map_err(|e| self.err("sendto", e))
    }

    /// One receive (or peek) through the retry loop.
    async fn receiving(&self, buf: &mut [u8], peek: bool) -> io::Result<(usize, SocketAddr)> {
        let got = self
            .parking(Call::RecvFrom, Direction::Read, |s, fd| {
                s.recv_from(fd, buf, peek)
            })
            .await;
        got.map_err(|e| self.err("recvfrom", e))
    }

    /// `op` through the retry loop, parking the task while the slot is drained (un-parked if
    /// the future is dropped).
    async fn parking<T: Traced>(
        &self,
        call: Call,
        dir: Direction,
        mut op: impl FnMut(&mut dyn Scheduler, Fd) -> io::Result<T>,
    ) -> io::Result<T> {
        let mut guard = ParkGuard::new(&self.reg, dir);
        poll_fn(|cx| {
            let parked: &mut Parked = &mut guard.parked;
            self.reg.poll_io(
                call,
                dir,
                Wait::Park(cx, true),
                Retry::Plain,
                parked,
                &mut op,
            )
        })
        .await
    }

    /// `op` through the retry loop, never parking.
    fn now<T: Traced>(
        &self,
        call: Call,
        dir: Direction,
        op: impl FnMut(&mut dyn Scheduler, Fd) -> io::Result<T>,
    ) -> io::Result<T> {
        match self
            .reg
            .poll_io(call, dir, Wait::NoPark, Retry::Plain, &mut None, op)
        {
            Poll::Ready(r) => r,
            Poll::Pending => unreachable!("doppel: a call that never parks parked"),
        }
    }

    /// Waits for the slot to be ready, with no syscall.
    async fn ready(&self, dir: Direction) -> io::Result<()> {
        let mut guard = ParkGuard::new(&self.reg, dir);
        poll_fn(|cx| self.reg.poll_ready(dir, cx, &mut guard.parked)).await
    }

    /// `e` with the call and descriptor it came from (`WouldBlock` passes as it is).
    fn err(&self, op: &'static str, e: io::Error) -> io::Error {
        match e.kind() {
            io::ErrorKind::WouldBlock => e,
            _ => error::context(op, self.fd(), e),
        }
    }
}
