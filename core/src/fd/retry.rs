//! The one I/O retry loop. Every socket call of every doppel type goes through [`poll_io`];
//! no other code matches on `Interrupted`, `WouldBlock` or `ConnectionAborted`.
//!
//! It is Go's `internal/poll/fd_unix.go` loop with the short-transfer shortcut:
//!
//! - ask the pollDesc slot: expired deadline -> `TimedOut`; known drained -> park until an edge;
//! - try the syscall;
//! - `Interrupted` -> try again (F2). Bounded in practice: the kernel returns it only when a
//!   signal arrived during the call, and the simulator caps consecutive injected EINTRs;
//! - `WouldBlock` -> mark the slot drained and loop, which parks (F6, F7: readiness was
//!   spurious, or consumed);
//! - on accept, `ECONNABORTED` and the errors Linux passes up from a connection that died in
//!   the queue (`accept(2)`: "treat them like EAGAIN by retrying") -> try again (F11);
//! - anything else is the caller's.

use std::io;
use std::task::{Context, Poll};

use super::Direction;
use crate::error;
use crate::fd::SlotCheck;
use crate::reactor::Reactor;
use crate::scheduler::{Fd, Scheduler, Token};
use crate::stats::Counters;
use crate::task::TaskId;

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

/// What the loop did besides its result: the task it parked, so the future can un-park on drop.
pub(crate) type Parked = Option<Option<TaskId>>;

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

/// Runs `op` under the retry loop (see the module docs). On `Pending`, `parked` is set to the
/// task now parked on the slot.
#[allow(clippy::too_many_arguments)]
pub(crate) fn poll_io<T>(
    r: &Reactor,
    token: Token,
    fd: Fd,
    dir: Direction,
    mut wait: Wait<'_, '_>,
    retry: Retry,
    parked: &mut Parked,
    mut op: impl FnMut(&mut dyn Scheduler) -> io::Result<T>,
) -> Poll<io::Result<T>> {
    loop {
        let check = {
            let mut fds = r.fds.borrow_mut();
            let Some(pd) = fds.get_mut(token) else {
                return Poll::Ready(Err(error::closed(fd)));
            };
            match &mut wait {
                Wait::Park(cx, owned) => {
                    let task = r.current_task.get();
                    let check = pd.slot(dir).check(cx, task, *owned);
                    if matches!(check, SlotCheck::Parked | SlotCheck::Pending) {
                        *parked = Some(task);
                    }
                    check
                }
                Wait::NoPark => pd.slot(dir).peek(),
            }
        };
        match check {
            SlotCheck::Go => {}
            SlotCheck::Parked => {
                let c = &r.counters;
                Counters::bump(match dir {
                    Direction::Read => &c.read_parks,
                    Direction::Write => &c.write_parks,
                });
                return Poll::Pending;
            }
            SlotCheck::Pending => return Poll::Pending,
            SlotCheck::TimedOut => return Poll::Ready(Err(error::deadline(dir, fd))),
            SlotCheck::WouldBlock => {
                return Poll::Ready(Err(io::Error::from(io::ErrorKind::WouldBlock)))
            }
        }
        let err = match r.with_sched(&mut op) {
            Ok(v) => return Poll::Ready(Ok(v)),
            Err(e) => e,
        };
        let c = &r.counters;
        match err.kind() {
            io::ErrorKind::Interrupted => Counters::bump(&c.eintr_retries),
            io::ErrorKind::WouldBlock => {
                r.drained(token, dir);
                Counters::bump(match dir {
                    Direction::Read => &c.read_would_block,
                    Direction::Write => &c.write_would_block,
                });
            }
            _ if retry == Retry::Accept && accept_retryable(&err) => {
                Counters::bump(&c.accept_retries)
            }
            _ => return Poll::Ready(Err(err)),
        }
    }
}
