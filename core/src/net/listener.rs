//! `TcpListener`: a listening socket and the accept loop that survives what the kernel throws.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::addr::ToSocketAddr;
use super::stream::TcpStream;
use crate::driver::fd::Fd;
use crate::driver::instant::Instant;
use crate::driver::ready::Direction;
use crate::error;
use crate::fd::registration::{ParkGuard, Registration};
use crate::fd::retry::{Parked, Retry, Wait};
use crate::reactor;

/// A listening TCP socket on the current reactor.
///
/// `accept` retries `EINTR` and connections that died in the queue (`ECONNABORTED`, and the
/// errors Linux passes up from them), so one reset client never kills the accept loop
/// (hickory-dns#3725). Other errors, such as `EMFILE`, are returned: the caller decides how to
/// back off (the reactor's I/O budget makes a tight retry loop yield, so timers still run).
///
/// One task accepts at a time: two tasks parked in `accept` on one listener is reported as a
/// "double wait" panic (Go serializes concurrent accepts with a lock instead). Run one accept
/// loop and spawn a task per connection.
#[derive(Debug)]
pub struct TcpListener {
    /// The registered socket.
    reg: Registration,
}

impl TcpListener {
    /// Binds and listens on `addr` with the system's maximum backlog
    /// (`/proc/sys/net/core/somaxconn` on Linux), never a fixed 128: with 128, a burst of 1,000
    /// connects overflows the queue and stalls for seconds on SYN retries.
    pub fn bind(addr: impl ToSocketAddr) -> io::Result<TcpListener> {
        Self::bind_inner(addr.lookup()?, None)
    }

    /// Binds and listens with an explicit backlog (at least 1).
    pub fn bind_with_backlog(addr: impl ToSocketAddr, backlog: u32) -> io::Result<TcpListener> {
        let addr = addr.lookup()?;
        if backlog == 0 {
            let e = io::Error::new(io::ErrorKind::InvalidInput, "backlog must be at least 1");
            return Err(error::context("listen", addr, e));
        }
        Self::bind_inner(addr, Some(backlog))
    }

    fn bind_inner(addr: SocketAddr, backlog: Option<u32>) -> io::Result<TcpListener> {
        let ctx = |e| error::context("bind", addr, e);
        let reactor = reactor::current_or_err("bind")?;
        let fd = reactor
            .with_sched(|s| s.listen(addr, backlog))
            .map_err(ctx)?;
        crate::trace::event!("doppel::net", "listen", fd = fd.0, port = addr.port());
        let reg = Registration::new(reactor, fd).map_err(ctx)?;
        Ok(TcpListener { reg })
    }

    /// Accepts one connection: the stream and the peer's address.
    pub fn accept(&self) -> Accept<'_> {
        Accept {
            listener: self,
            guard: ParkGuard::new(&self.reg, Direction::Read),
        }
    }

    /// Polls for one connection (for hand-written futures and streams).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.poll_accept_with(Wait::Park(cx, false), &mut None)
    }

    fn poll_accept_with(
        &self,
        wait: Wait<'_, '_>,
        parked: &mut Parked,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let accepted = ready!(self.reg.poll_io(
            crate::trace::Call::Accept,
            Direction::Read,
            wait,
            Retry::Accept,
            parked,
            |s, fd| s.accept(fd)
        ));
        let (fd, peer) = accepted.map_err(|e| error::context("accept", self.fd(), e))?;
        Poll::Ready(self.adopt(fd, peer))
    }

    /// Registers an accepted descriptor with this reactor as a stream.
    fn adopt(&self, fd: Fd, peer: SocketAddr) -> io::Result<(TcpStream, SocketAddr)> {
        let reg = Registration::new(self.reg.reactor().clone(), fd)
            .map_err(|e| error::context("accept", self.fd(), e))?;
        Ok((TcpStream::from_registration(reg), peer))
    }

    /// Raw, mio-style access, for code that runs its own accept loop: waits for the next
    /// readable edge, consuming the current one first. Accept until `WouldBlock` before waiting
    /// again: a queued connection raises no new edge.
    ///
    /// Traced as `net wait_edge fd=N dir=read`, then `net edge fd=N dir=read` when it ends.
    pub async fn wait_edge(&self) -> io::Result<()> {
        crate::trace::raw_wait(self.fd(), Direction::Read, None);
        let waited = self.reg.wait_edge(Direction::Read).await;
        crate::trace::raw_wait(self.fd(), Direction::Read, Some(&waited));
        waited.map_err(|e| error::context("wait", self.fd(), e))
    }

    /// Raw access: exactly one `accept(2)`, with its raw result: `Interrupted`, `WouldBlock`
    /// and `ECONNABORTED` come back as errors, where [`TcpListener::accept`] retries or waits.
    /// The new connection is registered with this reactor.
    pub fn accept_once(&self) -> io::Result<(TcpStream, SocketAddr)> {
        use crate::trace::{call, Call, Outcome};
        let accepted = self.reg.with_sched(|s, fd| s.accept(fd));
        let outcome = match &accepted {
            Ok((fd, _)) => Outcome::Ok(u64::try_from(fd.0).unwrap_or(0)),
            Err(e) => Outcome::Err(e),
        };
        call(Call::Accept, self.fd(), outcome);
        let (fd, peer) = accepted?;
        self.adopt(fd, peer)
    }

    /// The address the listener is bound to (with the real port if it bound port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.reg
            .with_sched(|s, fd| s.local_addr(fd))
            .map_err(|e| error::context("getsockname", self.fd(), e))
    }

    /// The listening socket's descriptor.
    pub fn fd(&self) -> Fd {
        self.reg.fd()
    }

    /// Sets the absolute deadline for `accept` (`None` clears it).
    pub fn set_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.reg.set_deadline(Direction::Read, deadline)
    }

    /// Stops listening now; a task parked in `accept` wakes with an error in this turn.
    pub fn close(&self) -> io::Result<()> {
        self.reg
            .close()
            .map_err(|e| error::context("close", self.fd(), e))
    }
}

/// The future of [`TcpListener::accept`].
#[derive(Debug)]
pub struct Accept<'a> {
    listener: &'a TcpListener,
    /// Un-parks on drop.
    guard: ParkGuard<'a>,
}

impl Future for Accept<'_> {
    type Output = io::Result<(TcpStream, SocketAddr)>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.listener
            .poll_accept_with(Wait::Park(cx, true), &mut this.guard.parked)
    }
}
