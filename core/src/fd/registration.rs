//! `Registration`: a socket's descriptor, its pollDesc token and its reactor, closed on drop.
//! `TcpListener` and `TcpStream` are thin layers over it.

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::retry::{self, Parked, Retry, Wait};
use super::Direction;
use crate::error;
use crate::reactor::Reactor;
use crate::scheduler::{Fd, Scheduler, Token};
use crate::stats::Counters;
use crate::task::TaskId;
use crate::time::Instant;

/// A registered descriptor. Shared by `&self` (a socket can be read in one task and closed in
/// another), closed exactly once: by [`Registration::close`] or on drop.
#[derive(Debug)]
pub(crate) struct Registration {
    /// The reactor whose poller watches the fd (held, so a socket outliving its runtime can
    /// still close its fd).
    reactor: Rc<Reactor>,
    /// The pollDesc token.
    token: Token,
    /// The descriptor.
    fd: Fd,
    /// Closed already; later calls fail with "use of closed socket".
    closed: Cell<bool>,
}

impl Registration {
    /// Registers `fd` with `reactor`; on failure the fd is closed and the error returned.
    pub(crate) fn new(reactor: Rc<Reactor>, fd: Fd) -> io::Result<Registration> {
        match reactor.register(fd) {
            Ok(token) => Ok(Registration {
                reactor,
                token,
                fd,
                closed: Cell::new(false),
            }),
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
    pub(crate) fn poll_io<T>(
        &self,
        dir: Direction,
        wait: Wait<'_, '_>,
        retry: Retry,
        parked: &mut Parked,
        mut op: impl FnMut(&mut dyn Scheduler, Fd) -> io::Result<T>,
    ) -> Poll<io::Result<T>> {
        let fd = self.fd;
        retry::poll_io(
            &self.reactor,
            self.token,
            fd,
            dir,
            wait,
            retry,
            parked,
            |s| op(s, fd),
        )
    }

    /// Waits until the slot is ready (an edge arrived, or nothing is known yet), without a
    /// syscall: `readable()`, `writable()`, and connect's wait.
    pub(crate) fn poll_ready(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        parked: &mut Parked,
    ) -> Poll<io::Result<()>> {
        self.poll_io(dir, Wait::Park(cx, true), Retry::Plain, parked, |_, _| {
            Ok(())
        })
    }

    /// Records a short transfer: the queue (or buffer) is drained, so the next call waits for an
    /// edge instead of paying for an `EAGAIN`.
    pub(crate) fn short_transfer(&self, dir: Direction) {
        self.reactor.drained(self.token, dir);
        let c = &self.reactor.counters;
        Counters::bump(match dir {
            Direction::Read => &c.short_reads,
            Direction::Write => &c.short_writes,
        });
    }

    /// Marks a slot drained without counting (connect in progress).
    pub(crate) fn drained(&self, dir: Direction) {
        self.reactor.drained(self.token, dir);
    }

    /// Un-parks `task` from the slot (a doppel future dropped while parked).
    pub(crate) fn disarm(&self, dir: Direction, task: Option<TaskId>) {
        self.reactor.disarm(self.token, dir, task);
    }

    /// Sets or clears a deadline.
    pub(crate) fn set_deadline(&self, dir: Direction, deadline: Option<Instant>) -> io::Result<()> {
        self.check_open()?;
        self.reactor
            .set_deadline(self.token, self.fd, dir, deadline)
    }

    /// Runs a call that needs no readiness (shutdown, addresses, options).
    pub(crate) fn with_sched<T>(
        &self,
        op: impl FnOnce(&mut dyn Scheduler, Fd) -> io::Result<T>,
    ) -> io::Result<T> {
        self.check_open()?;
        self.reactor.with_sched(|s| op(s, self.fd))
    }

    /// Closes the socket, waking any task parked on it with an error. Idempotent.
    pub(crate) fn close(&self) -> io::Result<()> {
        if self.closed.replace(true) {
            return Ok(());
        }
        self.reactor.close(self.token, self.fd)
    }

    fn check_open(&self) -> io::Result<()> {
        if self.closed.get() {
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
    /// The task parked, if the future is parked.
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
}

impl ParkGuard<'_> {
    /// The slot this guard watches.
    pub(crate) fn dir(&self) -> Direction {
        self.dir
    }
}

impl Drop for ParkGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(task) = self.parked.take() {
            self.reg.disarm(self.dir, task);
        }
    }
}
