//! `Registration`: a socket's pollDesc and its reactor, closed on drop. `TcpListener` and
//! `TcpStream` are thin layers over it.

use std::io;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::retry::{self, Parked, Retry, Wait};
use super::table::PdRef;
use crate::driver::fd::Fd;
use crate::driver::instant::Instant;
use crate::driver::ready::Direction;
use crate::driver::scheduler::Scheduler;
use crate::error;
use crate::reactor::Reactor;
use crate::stats::Counters;

/// A registered descriptor. Shared by `&self` (a socket can be read in one task and closed in
/// another), closed exactly once: by [`Registration::close`] or on drop.
#[derive(Debug)]
pub(crate) struct Registration {
    /// The reactor whose poller watches the fd (held, so a socket outliving its runtime can
    /// still close its fd).
    reactor: Rc<Reactor>,
    /// The pollDesc, held directly (Go's `netFD.pd`): no lookup on the I/O path.
    pd: PdRef,
    /// The descriptor (also in the pollDesc; here to avoid a borrow for messages).
    fd: Fd,
}

impl Registration {
    /// Registers `fd` with `reactor`; on failure the fd is closed and the error returned.
    pub(crate) fn new(reactor: Rc<Reactor>, fd: Fd) -> io::Result<Registration> {
        match reactor.register(fd) {
            Ok(pd) => Ok(Registration { reactor, pd, fd }),
            Err(e) => {
                let _ = reactor.with_sched(|s| s.close(fd));
                Err(e)
            }
        }
    }

    /// The descriptor.
    pub(crate) fn fd(&self) -> Fd {
        self.fd
    }

    /// The reactor.
    pub(crate) fn reactor(&self) -> &Rc<Reactor> {
        &self.reactor
    }

    /// Runs `op` through the retry loop, parking the task when the slot is drained.
    #[inline]
    pub(crate) fn poll_io<T: retry::Traced>(
        &self,
        call: crate::trace::Call,
        dir: Direction,
        wait: Wait<'_, '_>,
        retry: Retry,
        parked: &mut Parked,
        op: impl FnMut(&mut dyn Scheduler, Fd) -> io::Result<T>,
    ) -> Poll<io::Result<T>> {
        let at = (call, self.fd, dir);
        retry::poll_io(&self.reactor, &self.pd, at, wait, retry, parked, op)
    }

    /// Waits until the slot is ready (an edge arrived), without a syscall: `readable()`,
    /// `writable()`, and connect's wait.
    pub(crate) fn poll_ready(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        parked: &mut Parked,
    ) -> Poll<io::Result<()>> {
        let call = crate::trace::Call::Wait;
        self.poll_io(
            call,
            dir,
            Wait::Park(cx, true),
            Retry::Plain,
            parked,
            |_, _| Ok(()),
        )
    }

    /// Waits for the next edge in `dir`, consuming the current one first (the raw, mio-style
    /// wait of `TcpStream::wait_edge` and `TcpListener::wait_edge`).
    pub(crate) async fn wait_edge(&self, dir: Direction) -> io::Result<()> {
        self.drained(dir);
        let mut guard = ParkGuard::new(self, dir);
        std::future::poll_fn(|cx| self.poll_ready(dir, cx, &mut guard.parked)).await
    }

    /// Records a short transfer: the queue (or buffer) is drained, so the next call waits for an
    /// edge instead of paying for an `EAGAIN`.
    #[inline]
    pub(crate) fn short_transfer(&self, dir: Direction) {
        self.pd.borrow_mut().slot(dir).drained();
        let c = &self.reactor.counters;
        Counters::bump(match dir {
            Direction::Read => &c.short_reads,
            Direction::Write => &c.short_writes,
        });
    }

    /// Whether the peer hung up this direction (a final edge arrived).
    pub(crate) fn hung_up(&self, dir: Direction) -> bool {
        self.pd.borrow_mut().slot(dir).is_hung_up()
    }

    /// Marks a slot drained without counting (connect in progress).
    pub(crate) fn drained(&self, dir: Direction) {
        self.pd.borrow_mut().slot(dir).drained();
    }

    /// Un-parks the wait with `ticket` (a doppel future dropped while parked).
    #[inline]
    pub(crate) fn disarm(&self, dir: Direction, ticket: u32) {
        self.pd.borrow_mut().slot(dir).disarm(ticket);
    }

    /// Sets or clears a deadline.
    pub(crate) fn set_deadline(&self, dir: Direction, deadline: Option<Instant>) -> io::Result<()> {
        self.check_open()?;
        self.reactor.set_deadline(&self.pd, dir, deadline)
    }

    /// Sets or clears both deadlines.
    pub(crate) fn set_deadlines(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.set_deadline(Direction::Read, deadline)?;
        self.set_deadline(Direction::Write, deadline)
    }

    /// The local address (`getsockname`), or the error with its call and descriptor.
    pub(crate) fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.with_sched(|s, fd| s.local_addr(fd))
            .map_err(|e| error::context("getsockname", self.fd, e))
    }

    /// The peer's address (`getpeername`), or the error with its call and descriptor.
    pub(crate) fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.with_sched(|s, fd| s.peer_addr(fd))
            .map_err(|e| error::context("getpeername", self.fd, e))
    }

    /// Runs a call that needs no readiness (shutdown, addresses, options).
    pub(crate) fn with_sched<T>(
        &self,
        op: impl FnOnce(&mut dyn Scheduler, Fd) -> io::Result<T>,
    ) -> io::Result<T> {
        self.check_open()?;
        self.reactor.io.with_sched(|s| op(s, self.fd))
    }

    /// Closes the socket, waking any task parked on it with an error. Idempotent.
    pub(crate) fn close(&self) -> io::Result<()> {
        if self.pd.borrow().closed {
            return Ok(());
        }
        self.reactor.close(&self.pd)
    }

    /// Takes the descriptor away from this reactor, open, for another to attach.
    pub(crate) fn detach(&self) -> io::Result<Fd> {
        self.check_open()?;
        self.reactor.detach(&self.pd)
    }

    fn check_open(&self) -> io::Result<()> {
        if self.pd.borrow().closed {
            return Err(error::closed(self.fd));
        }
        Ok(())
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// Un-parks a doppel future's task from its slot when the future is dropped mid-wait.
#[derive(Debug)]
pub(crate) struct ParkGuard<'a> {
    /// The socket.
    reg: &'a Registration,
    /// The slot.
    dir: Direction,
    /// The ticket of the park the future is in, if it is parked.
    pub(crate) parked: Parked,
}

impl<'a> ParkGuard<'a> {
    /// A guard for a future on `reg`'s `dir` slot.
    pub(crate) fn new(reg: &'a Registration, dir: Direction) -> Self {
        ParkGuard {
            reg,
            dir,
            parked: None,
        }
    }

    /// The slot this guard watches.
    pub(crate) fn dir(&self) -> Direction {
        self.dir
    }
}

impl Drop for ParkGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(ticket) = self.parked.take() {
            self.reg.disarm(self.dir, ticket);
        }
    }
}
