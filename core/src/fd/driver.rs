//! The fd driver: the backend, the descriptors registered with it, and the delivery of its
//! readiness events to the pollDescs that wait on them (tokio's `io/driver.rs`, Go's
//! `netpollready`).
//!
//! It knows nothing of tasks or timers: a waiter is a `Waker` in a pollDesc slot, and a
//! deadline is the timers' business ([`crate::time::deadlines`]).

use std::cell::RefCell;
use std::io;
use std::task::Waker;

use super::poll_desc::PollDesc;
use super::table::{FdTable, PdRef};
use crate::driver::fd::{Fd, Token};
use crate::driver::instant::Instant;
use crate::driver::ready::{Event, Ready};
use crate::driver::scheduler::Scheduler;
use crate::stats::Counters;
use crate::trace;

/// The backend and the descriptors it watches for one reactor.
pub(crate) struct IoDriver {
    /// The world: real poller or simulator.
    pub(crate) sched: RefCell<Box<dyn Scheduler>>,
    /// Registered descriptors.
    pub(crate) fds: RefCell<FdTable>,
    /// The event buffer handed to `poll`, reused every round (no allocation per event).
    pub(crate) events: RefCell<Vec<Event>>,
}

impl IoDriver {
    /// A driver over `sched` with nothing registered.
    pub(crate) fn new(sched: Box<dyn Scheduler>) -> IoDriver {
        IoDriver {
            sched: RefCell::new(sched),
            fds: RefCell::new(FdTable::default()),
            events: RefCell::new(Vec::with_capacity(8)),
        }
    }

    /// The backend's clock.
    pub(crate) fn now(&self) -> Instant {
        self.sched.borrow().now()
    }

    /// The backend's trace clock ([`Scheduler::trace_time`](crate::Scheduler::trace_time)).
    pub(crate) fn trace_time(&self) -> Instant {
        self.sched.borrow().trace_time()
    }

    /// Runs `f` against the backend.
    pub(crate) fn with_sched<T>(&self, f: impl FnOnce(&mut dyn Scheduler) -> T) -> T {
        f(&mut **self.sched.borrow_mut())
    }

    /// Registers `fd` and returns its pollDesc.
    pub(crate) fn register(&self, fd: Fd) -> io::Result<PdRef> {
        let pd = self.fds.borrow_mut().insert(fd);
        let token = pd.borrow().token;
        trace::event!("doppel::poll", "register", fd = fd.0, token = token.0);
        if let Err(e) = self.with_sched(|s| s.register(fd, token)) {
            self.fds.borrow_mut().remove(token);
            return Err(e);
        }
        Ok(pd)
    }

    /// Marks the pollDesc closed and retires its token (so late events are stale). Returns the
    /// descriptor, the token and the waiters to wake once the descriptor has been dealt with.
    pub(crate) fn retire(&self, pd: &PdRef) -> (Fd, Token, [Option<Waker>; 2]) {
        let (fd, token, wakers) = {
            let mut p = pd.borrow_mut();
            p.closed = true;
            let wakers = [p.read.close(), p.write.close()];
            (p.fd, p.token, wakers)
        };
        self.fds.borrow_mut().remove(token);
        (fd, token, wakers)
    }

    /// Closes a retired descriptor and wakes its waiters so they fail at once (Go's
    /// `pollUnblock`). Closing removes the fd from the poller, so no deregister call is made.
    /// An interrupted close has closed the fd (Linux guarantees it, and retrying could close a
    /// descriptor another thread just opened): never retried.
    pub(crate) fn close(&self, fd: Fd, wakers: [Option<Waker>; 2]) -> io::Result<()> {
        let closed = self.with_sched(|s| s.close(fd));
        trace::event!(
            "doppel::net",
            "close",
            fd = fd.0,
            errno = closed.as_ref().err().map_or(0, trace::errno_of)
        );
        let closed = match closed {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            other => other,
        };
        wakers.into_iter().flatten().for_each(Waker::wake);
        closed
    }

    /// Deregisters a retired descriptor without closing it, for another reactor to attach, and
    /// wakes its waiters. If the poller refuses to let go, the descriptor is closed and the
    /// error returned.
    pub(crate) fn detach(&self, fd: Fd, wakers: [Option<Waker>; 2]) -> io::Result<Fd> {
        let out = self.with_sched(|s| s.deregister(fd));
        trace::event!("doppel::net", "detach", fd = fd.0);
        wakers.into_iter().flatten().for_each(Waker::wake);
        match out {
            Ok(()) => Ok(fd),
            Err(e) => {
                let _ = self.with_sched(|s| s.close(fd));
                Err(e)
            }
        }
    }

    /// Wakes the waiters of every ready descriptor; drops events for stale tokens. Wakers are
    /// lent out of the slot and woken with no borrow held, then returned to the cache.
    pub(crate) fn dispatch(&self, events: &[Event], counters: &Counters) {
        for ev in events {
            let Some(pd) = self.fds.borrow().get(ev.token).cloned() else {
                trace::event!(
                    "doppel::poll",
                    "stale",
                    token = ev.token.0,
                    ready = ev.ready.bits()
                );
                Counters::bump(&counters.stale_events);
                continue;
            };
            Counters::bump(&counters.events);
            trace::event!(
                "doppel::poll",
                "ready",
                fd = pd.borrow().fd.0,
                ready = ev.ready.bits()
            );
            deliver(&pd, ev.ready);
        }
    }
}

/// Wakes a pollDesc's reader and writer as `ready` says.
#[inline]
fn deliver(pd: &PdRef, ready: Ready) {
    let (reader, writer) = {
        let mut p = pd.borrow_mut();
        let r = ready.wakes_reader() && p.read.on_edge(ready.contains(Ready::READ_CLOSED));
        let w = ready.wakes_writer() && p.write.on_edge(ready.contains(Ready::WRITE_CLOSED));
        let r = if r { p.read.take_waker() } else { None };
        let w = if w { p.write.take_waker() } else { None };
        (r, w)
    };
    lend(pd, reader, |p: &mut PollDesc| &mut p.read);
    lend(pd, writer, |p: &mut PollDesc| &mut p.write);
}

/// Wakes `waker` with no borrow held and puts it back in its slot's cache.
#[inline]
fn lend(pd: &PdRef, waker: Option<Waker>, slot: fn(&mut PollDesc) -> &mut super::poll_desc::Slot) {
    if let Some(w) = waker {
        w.wake_by_ref();
        slot(&mut pd.borrow_mut()).return_waker(w);
    }
}
