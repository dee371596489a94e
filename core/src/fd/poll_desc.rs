//! `PollDesc`: the per-descriptor readiness state machine (Go's `runtime/netpoll.go` pollDesc).
//!
//! Each direction has a slot in one of three states:
//!
//! | state     | meaning                                                        | Go        |
//! |-----------|----------------------------------------------------------------|-----------|
//! | `Ready`   | readiness may be there: try the syscall                        | `pdReady` |
//! | `Empty`   | known drained (`WouldBlock` or a short transfer): wait         | `nil`     |
//! | `Waiting` | a task is parked until an edge, a deadline or a close          | `pdWait`/g|
//!
//! A new registration starts `Ready` (nothing is known yet). An edge moves `Empty` or `Waiting`
//! to `Ready` (waking the waiter); `WouldBlock` or a short transfer moves `Ready` to `Empty`.
//! This is what lets a read that returns less than asked skip the `EAGAIN` call Go would make.
//!
//! Hang-up is final and therefore sticky: once an edge says the peer closed its half
//! (`READ_CLOSED` for the reader, `WRITE_CLOSED` for the writer), the slot never goes back to
//! `Empty`. Without this, a short read just before end of stream would park the reader forever:
//! the FIN's edge has already been consumed and no other edge will ever come (tokio's
//! `clear_readiness` masks out closed states for the same reason).

use std::fmt;
use std::task::{Context, Waker};

use super::Direction;
use crate::scheduler::Fd;
use crate::task::TaskId;
use crate::time::timers::TimerKey;

/// The readiness state of one direction.
#[derive(Debug)]
enum SlotState {
    /// Known drained; the next operation must wait for an edge.
    Empty,
    /// Readiness may be present; the next operation tries the syscall.
    Ready,
    /// A task is parked on this slot.
    Waiting(Waiter),
}

/// The task parked on a slot.
#[derive(Debug)]
struct Waiter {
    /// The task that parked (None outside a doppel task, e.g. a foreign executor's poll).
    task: Option<TaskId>,
    /// True for doppel's own futures, which un-park themselves on drop: two of those on one slot
    /// at once is the "double wait" bug. Waits through `AsyncRead`/`AsyncWrite` have no drop
    /// hook, so a later poll from another task replaces them, as tokio's `poll_read` does.
    owned: bool,
    /// Wakes the parked task.
    waker: Waker,
}

impl Waiter {
    /// A parked slot is polled again: by the same task (refresh the waker), by another task
    /// through `AsyncRead`/`AsyncWrite` (replace it), or by a second doppel future (a bug).
    #[cold]
    fn rewait(&mut self, cx: &Context<'_>, task: Option<TaskId>, owned: bool) {
        if self.owned && owned && self.task != task {
            panic!(
                "doppel: double wait: task {} tried to wait on a slot where task {} \
                 is already waiting (two tasks reading or writing one socket at once)",
                TaskId::display(task),
                TaskId::display(self.task)
            );
        }
        if !self.waker.will_wake(cx.waker()) {
            self.waker = cx.waker().clone();
        }
        self.task = task;
        self.owned = owned;
    }
}

/// What a slot tells an operation that wants to proceed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SlotCheck {
    /// Try the syscall.
    Go,
    /// Newly parked (the slot was drained); the task is woken by an edge, a deadline, or a
    /// close.
    Parked,
    /// Already parked; polled again before anything happened.
    Pending,
    /// The slot's deadline has passed.
    TimedOut,
    /// Known drained, and the caller asked not to park (`try_read`, `try_write`).
    WouldBlock,
}

/// One direction of a pollDesc: readiness, the deadline, and its stale-timer guard.
#[derive(Debug)]
pub(crate) struct Slot {
    /// Readiness and the parked task, if any.
    state: SlotState,
    /// The armed deadline timer, so it can be cancelled when the deadline moves or the fd closes.
    timer: Option<TimerKey>,
    /// Bumped on every deadline change; a timer carrying an older value is stale (Go's rseq).
    seq: u32,
    /// The deadline has passed: operations fail with `TimedOut` until the deadline is reset.
    expired: bool,
    /// This half has hung up: readiness is final, `drained` no longer parks.
    hung_up: bool,
}

impl Slot {
    fn new() -> Slot {
        Slot {
            state: SlotState::Ready,
            timer: None,
            seq: 0,
            expired: false,
            hung_up: false,
        }
    }

    /// Decides whether an operation may try its syscall now, parking the task if not.
    ///
    /// # Panics
    /// "double wait": two of doppel's own futures from different tasks parked on one slot.
    #[inline]
    pub(crate) fn check(
        &mut self,
        cx: &Context<'_>,
        task: Option<TaskId>,
        owned: bool,
    ) -> SlotCheck {
        if self.expired {
            return SlotCheck::TimedOut;
        }
        match &mut self.state {
            SlotState::Ready => SlotCheck::Go,
            SlotState::Empty => {
                self.state = SlotState::Waiting(Waiter {
                    task,
                    owned,
                    waker: cx.waker().clone(),
                });
                SlotCheck::Parked
            }
            SlotState::Waiting(w) => {
                w.rewait(cx, task, owned);
                SlotCheck::Pending
            }
        }
    }

    /// Like [`Slot::check`] without parking: `WouldBlock` where `check` would park.
    #[inline]
    pub(crate) fn peek(&self) -> SlotCheck {
        if self.expired {
            return SlotCheck::TimedOut;
        }
        match self.state {
            SlotState::Ready => SlotCheck::Go,
            SlotState::Empty | SlotState::Waiting(_) => SlotCheck::WouldBlock,
        }
    }

    /// An edge arrived: the slot becomes `Ready`, and a parked task is handed back to wake.
    /// `hung_up` marks a final edge (the peer closed this half), after which the slot stays
    /// `Ready`.
    #[inline]
    pub(crate) fn on_edge(&mut self, hung_up: bool) -> Option<Waker> {
        self.hung_up |= hung_up;
        match std::mem::replace(&mut self.state, SlotState::Ready) {
            SlotState::Waiting(w) => Some(w.waker),
            SlotState::Empty | SlotState::Ready => None,
        }
    }

    /// The operation saw `WouldBlock` or a short transfer: the queue is drained.
    #[inline]
    pub(crate) fn drained(&mut self) {
        if self.hung_up {
            return;
        }
        if let SlotState::Ready = self.state {
            self.state = SlotState::Empty;
        }
    }

    /// A doppel future that parked here was dropped: un-park it (no edge came, so `Empty`).
    #[inline]
    pub(crate) fn disarm(&mut self, task: Option<TaskId>) {
        if let SlotState::Waiting(w) = &self.state {
            if w.task == task {
                self.state = SlotState::Empty;
            }
        }
    }

    /// Arms a new deadline: bumps the sequence, clears expiry, and returns the sequence for the
    /// new timer together with the old timer to cancel.
    pub(crate) fn rearm(&mut self) -> (u32, Option<TimerKey>) {
        self.seq = self.seq.wrapping_add(1);
        self.expired = false;
        (self.seq, self.timer.take())
    }

    /// Records the timer armed for the current sequence.
    pub(crate) fn set_timer(&mut self, key: TimerKey) {
        self.timer = Some(key);
    }

    /// A deadline timer fired (or a deadline was set in the past). Returns `None` if the timer is
    /// stale (its sequence is old); otherwise marks the slot expired and returns the parked task,
    /// if any, to wake.
    pub(crate) fn expire(&mut self, seq: u32) -> Option<Option<Waker>> {
        if seq != self.seq {
            return None;
        }
        self.expired = true;
        self.timer = None;
        match std::mem::replace(&mut self.state, SlotState::Empty) {
            SlotState::Waiting(w) => Some(Some(w.waker)),
            other => {
                self.state = other;
                Some(None)
            }
        }
    }

    /// The fd is closing: hands back the parked task to wake and the timer to cancel.
    pub(crate) fn close(&mut self) -> (Option<Waker>, Option<TimerKey>) {
        let waker = match std::mem::replace(&mut self.state, SlotState::Empty) {
            SlotState::Waiting(w) => Some(w.waker),
            _ => None,
        };
        (waker, self.timer.take())
    }

    /// The task parked here, for stall reports.
    pub(crate) fn waiter(&self) -> Option<Option<TaskId>> {
        match &self.state {
            SlotState::Waiting(w) => Some(w.task),
            _ => None,
        }
    }
}

/// The pollDesc of one registered descriptor.
#[derive(Debug)]
pub(crate) struct PollDesc {
    /// The descriptor, for syscalls and error messages.
    pub(crate) fd: Fd,
    /// The reader's slot (read, accept).
    pub(crate) read: Slot,
    /// The writer's slot (write, connect).
    pub(crate) write: Slot,
}

impl PollDesc {
    /// A fresh pollDesc: both slots `Ready`, no deadlines.
    pub(crate) fn new(fd: Fd) -> PollDesc {
        PollDesc {
            fd,
            read: Slot::new(),
            write: Slot::new(),
        }
    }

    /// The slot for `dir`.
    #[inline]
    pub(crate) fn slot(&mut self, dir: Direction) -> &mut Slot {
        match dir {
            Direction::Read => &mut self.read,
            Direction::Write => &mut self.write,
        }
    }
}

impl fmt::Display for PollDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.fd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn cx() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    #[test]
    fn short_transfer_then_edge_cycle() {
        let mut s = Slot::new();
        assert_eq!(s.check(&cx(), None, true), SlotCheck::Go);
        s.drained();
        assert_eq!(s.check(&cx(), None, true), SlotCheck::Parked);
        assert_eq!(s.check(&cx(), None, true), SlotCheck::Pending);
        assert!(
            s.on_edge(false).is_some(),
            "the parked task is woken by the edge"
        );
        assert_eq!(s.check(&cx(), None, true), SlotCheck::Go);
    }

    #[test]
    fn hang_up_is_sticky_so_eof_after_a_short_read_is_seen() {
        let mut s = Slot::new();
        s.drained();
        s.check(&cx(), None, true);
        assert!(s.on_edge(true).is_some());
        s.drained(); // a short read of the last bytes before the FIN
        assert_eq!(
            s.check(&cx(), None, true),
            SlotCheck::Go,
            "the read that returns 0 runs"
        );
    }

    #[test]
    fn stale_deadline_sequence_is_ignored() {
        let mut s = Slot::new();
        let (old, _) = s.rearm();
        let (new, _) = s.rearm();
        assert!(
            s.expire(old).is_none(),
            "a timer of an earlier deadline is stale"
        );
        assert_eq!(s.check(&cx(), None, true), SlotCheck::Go);
        assert!(s.expire(new).is_some());
        assert_eq!(s.check(&cx(), None, true), SlotCheck::TimedOut);
        s.rearm();
        assert_eq!(
            s.check(&cx(), None, true),
            SlotCheck::Go,
            "reset clears expiry"
        );
    }

    #[test]
    #[should_panic(expected = "double wait")]
    fn double_wait_panics() {
        let mut s = Slot::new();
        s.drained();
        let a = Some(TaskId::new(1, 1));
        let b = Some(TaskId::new(2, 2));
        assert_eq!(s.check(&cx(), a, true), SlotCheck::Parked);
        s.check(&cx(), b, true);
    }

    #[test]
    fn trait_waits_are_replaced_not_fatal() {
        let mut s = Slot::new();
        s.drained();
        s.check(&cx(), Some(TaskId::new(1, 1)), false);
        assert_eq!(
            s.check(&cx(), Some(TaskId::new(2, 2)), true),
            SlotCheck::Pending
        );
        s.disarm(Some(TaskId::new(2, 2)));
        assert!(s.waiter().is_none());
    }
}
