//! The one I/O retry loop. Every socket call of every doppel type goes through [`poll_io`]
//! (connect's `SO_ERROR` wait and the refusal `net::serve` writes included), except the raw
//! `read_once`/`write_once`, whose point is to hand over the raw result. No other code retries
//! on `Interrupted`, `WouldBlock` or `ConnectionAborted`; the only other matches give `EINTR` a
//! meaning rather than a retry: an empty poll round (F1, in the turn), a handshake going on in
//! the background (F3, connect), a close that has closed (F4, the reactor).
//!
//! It is Go's `internal/poll/fd_unix.go` loop with the short-transfer shortcut:
//!
//! - ask the pollDesc slot: closed -> "use of closed socket"; expired deadline -> `TimedOut`;
//!   known drained -> park until an edge;
//! - try the syscall;
//! - `Interrupted` -> try again (F2). Bounded in practice: the kernel returns it only when a
//!   signal arrived during the call, and the simulator caps consecutive injected EINTRs;
//! - `WouldBlock` -> mark the slot drained and loop, which parks (F6, F7: readiness was
//!   spurious, or consumed);
//! - on accept, `ECONNABORTED` and the errors Linux passes up from a connection that died in
//!   the queue (`accept(2)`: "treat them like EAGAIN by retrying") -> try again (F11);
//! - anything else is the caller's.

use std::cell::RefCell;
use std::io;
use std::task::{Context, Poll};

use super::poll_desc::{PollDesc, SlotCheck};
use crate::driver::fd::Fd;
use crate::driver::ready::Direction;
use crate::driver::scheduler::Scheduler;
use crate::error;
use crate::reactor::Reactor;
use crate::stats::Counters;
use crate::trace::{self, Call, Outcome};

/// Which errors, beyond `EINTR`, mean "try again" for this call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reads, writes, connect's wait.
    Plain,
    /// `accept`: also retry a connection that died while queued.
    Accept,
}

/// How the caller waits when the slot is drained.
#[derive(Debug)]
pub(crate) enum Wait<'a, 'b> {
    /// Park the task. `owned` marks doppel's own futures, which un-park on drop (see
    /// `PollDesc`'s double-wait rule).
    Park(&'a mut Context<'b>, bool),
    /// Do not park: report `WouldBlock` (the `try_*` calls).
    NoPark,
}

/// A call's result as a trace field: bytes moved, or the new descriptor.
pub(crate) trait Traced {
    /// The value to record.
    fn traced(&self) -> u64;
}

impl Traced for usize {
    fn traced(&self) -> u64 {
        *self as u64
    }
}

impl Traced for () {
    fn traced(&self) -> u64 {
        0
    }
}

impl Traced for (usize, std::net::SocketAddr) {
    fn traced(&self) -> u64 {
        self.0 as u64
    }
}

impl Traced for (Fd, std::net::SocketAddr) {
    fn traced(&self) -> u64 {
        self.0 .0 as u64
    }
}

/// The ticket of the park a future is in, so it can un-park on drop.
pub(crate) type Parked = Option<u32>;

/// Accept errors that mean "that connection is gone, take the next one".
fn accept_retryable(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::ECONNABORTED
                | libc::EPROTO
                | libc::ENETDOWN
                | libc::ENOPROTOOPT
                | libc::EHOSTDOWN
                | libc::EHOSTUNREACH
                | libc::EOPNOTSUPP
                | libc::ENETUNREACH
        )
    ) || e.kind() == io::ErrorKind::ConnectionAborted
}

/// Runs `op` under the retry loop (see the module docs). On `Pending`, `parked` holds the
/// ticket of the park (or `None` when the task yielded because its I/O budget was spent: it is
/// already woken to run again after others had their turn).
#[inline]
pub(crate) fn poll_io<T: Traced>(
    r: &Reactor,
    pd: &RefCell<PollDesc>,
    (call, fd, dir): (Call, Fd, Direction),
    mut wait: Wait<'_, '_>,
    retry: Retry,
    parked: &mut Parked,
    mut op: impl FnMut(&mut dyn Scheduler, Fd) -> io::Result<T>,
) -> Poll<io::Result<T>> {
    loop {
        let verdict = {
            let mut p = pd.borrow_mut();
            match &mut wait {
                Wait::Park(cx, owned) => {
                    let task = || r.exec.current_task.get();
                    p.slot(dir).check(Some(cx), task, *owned, *parked)
                }
                Wait::NoPark => p.slot(dir).check(None, || None, false, None),
            }
        };
        if verdict != SlotCheck::Go {
            return stop(r, pd, dir, verdict, parked);
        }
        *parked = None;
        if let Wait::Park(cx, _) = &wait {
            let left = r.exec.budget.get();
            if left == 0 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            r.exec.budget.set(left - 1);
        }
        let done = op(&mut **r.io.sched.borrow_mut(), fd);
        let err = match done {
            Ok(v) => {
                trace::call(call, fd, Outcome::Ok(v.traced()));
                return Poll::Ready(Ok(v));
            }
            Err(e) => {
                trace::call(call, fd, Outcome::Err(&e));
                e
            }
        };
        if let Some(fail) = classify(r, pd, dir, retry, err) {
            return Poll::Ready(Err(fail));
        }
    }
}

/// Turns a slot's "do not go" verdict into what the operation returns.
#[inline(never)]
fn stop<T>(
    r: &Reactor,
    pd: &RefCell<PollDesc>,
    dir: Direction,
    verdict: SlotCheck,
    parked: &mut Parked,
) -> Poll<io::Result<T>> {
    let c = &r.counters;
    match verdict {
        SlotCheck::Go => unreachable!("doppel: stop() called with a go verdict"),
        SlotCheck::Parked(ticket) => {
            *parked = Some(ticket);
            Counters::bump(match dir {
                Direction::Read => &c.read_parks,
                Direction::Write => &c.write_parks,
            });
            Poll::Pending
        }
        SlotCheck::Pending(ticket) => {
            *parked = Some(ticket);
            Poll::Pending
        }
        SlotCheck::Closed => Poll::Ready(Err(error::closed(pd.borrow().fd))),
        SlotCheck::TimedOut => Poll::Ready(Err(error::deadline(dir, pd.borrow().fd))),
        SlotCheck::WouldBlock => Poll::Ready(Err(io::ErrorKind::WouldBlock.into())),
    }
}

/// Decides what a failed syscall means: `None` to try again, or the error to return.
#[cold]
fn classify(
    r: &Reactor,
    pd: &RefCell<PollDesc>,
    dir: Direction,
    retry: Retry,
    err: io::Error,
) -> Option<io::Error> {
    let c = &r.counters;
    match err.kind() {
        io::ErrorKind::Interrupted => Counters::bump(&c.eintr_retries),
        io::ErrorKind::WouldBlock => {
            pd.borrow_mut().slot(dir).would_block();
            Counters::bump(match dir {
                Direction::Read => &c.read_would_block,
                Direction::Write => &c.write_would_block,
            });
        }
        _ if retry == Retry::Accept && accept_retryable(&err) => Counters::bump(&c.accept_retries),
        _ => return Some(err),
    }
    None
}
