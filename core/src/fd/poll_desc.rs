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
//! A new registration's read slot starts `Empty` and its write slot `Ready`: registering reports
//! readiness that is already there as an edge (epoll and kqueue both do, and the simulator
//! mirrors it), so a read never pays for a speculative `EAGAIN`, while the first write of a fresh
//! connection goes straight to the syscall. An edge moves `Empty` or `Waiting` to `Ready`
//! (waking the waiter); `WouldBlock` or a short transfer moves `Ready` to `Empty`. This is what
//! lets a read that returns less than asked skip the `EAGAIN` call Go would make.
//!
//! Hang-up is final and therefore sticky: once an edge says the peer closed its half
//! (`READ_CLOSED` for the reader, `WRITE_CLOSED` for the writer), the slot never goes back to
//! `Empty`. Without this, a short read just before end of stream would park the reader forever:
//! the FIN's edge has already been consumed and no other edge will ever come (tokio's
//! `clear_readiness` masks out closed states for the same reason).
//!
//! Each socket holds its pollDesc directly (`Rc<RefCell<PollDesc>>`), as Go's `netFD` holds its
//! `pollDesc`: the I/O path needs no table lookup. The reactor's table maps tokens to pollDescs
//! only to deliver events, and checks the token's generation there.

use std::task::{Context, Waker};

use crate::driver::fd::{Fd, Token};
use crate::driver::ready::Direction;
use crate::driver::task_id::TaskId;

/// The readiness state of one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Known drained; the next operation must wait for an edge.
    Empty,
    /// Readiness may be present; the next operation tries the syscall.
    Ready,
    /// A task is parked on this slot.
    Waiting,
}

/// What a slot tells an operation that wants to proceed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SlotCheck {
    /// Try the syscall.
    Go,
    /// Newly parked (the slot was drained); the task is woken by an edge, a deadline, or a
    /// close. Carries the park ticket that un-parks it on drop.
    Parked(u32),
    /// Already parked; polled again before anything happened.
    Pending(u32),
    /// The socket was closed by this process.
    Closed,
    /// The slot's deadline has passed.
    TimedOut,
    /// Known drained, and the caller asked not to park (`try_read`, `try_write`).
    WouldBlock,
}

/// One direction of a pollDesc: readiness, the parked task, the deadline.
#[derive(Debug)]
pub(crate) struct Slot {
    /// Readiness.
    state: State,
    /// The deadline has passed: operations fail with `TimedOut` until the deadline is reset.
    expired: bool,
    /// The socket was closed by this process (kept in each slot so the fast path is one test).
    closed: bool,
    /// This half has hung up: readiness is final, `drained` no longer parks.
    hung_up: bool,
    /// The parked waiter is one of doppel's own futures, which un-park themselves on drop: two
    /// of those from different tasks on one slot at once is the "double wait" bug. Waits through
    /// `AsyncRead`/`AsyncWrite` have no drop hook, so a later poll from another task replaces
    /// them, as tokio's `poll_read` does.
    owned: bool,
    /// Numbers each park, so a dropped future un-parks only its own wait.
    ticket: u32,
    /// The spawn number of the parked task (`u64::MAX` outside any task), for the double-wait
    /// check and stall reports.
    owner: u64,
    /// The parked task's waker, kept after it is woken: the same task parking again (the common
    /// case) costs a pointer compare instead of a clone.
    waker: Option<Waker>,
}

impl Slot {
    fn new(state: State) -> Slot {
        Slot {
            state,
            expired: false,
            closed: false,
            hung_up: false,
            owned: false,
            ticket: 0,
            owner: u64::MAX,
            waker: None,
        }
    }

    /// Decides whether an operation may try its syscall now. With a context, a drained slot
    /// parks the task; without one it reports `WouldBlock`.
    ///
    /// # Panics
    /// "double wait": two of doppel's own futures from different tasks parked on one slot.
    #[inline]
    ///
    /// `caller` is the ticket of the park the caller is already in, if any: a caller that joins
    /// someone else's wait gets a fresh ticket, so dropping either future never un-parks the
    /// other's wait.
    pub(crate) fn check(
        &mut self,
        cx: Option<&Context<'_>>,
        task: impl FnOnce() -> Option<TaskId>,
        owned: bool,
        caller: Option<u32>,
    ) -> SlotCheck {
        if self.state == State::Ready && !(self.expired | self.closed) {
            return SlotCheck::Go;
        }
        self.check_slow(cx, task, owned, caller)
    }

    #[inline(never)]
    fn check_slow(
        &mut self,
        cx: Option<&Context<'_>>,
        task: impl FnOnce() -> Option<TaskId>,
        owned: bool,
        caller: Option<u32>,
    ) -> SlotCheck {
        if self.closed {
            return SlotCheck::Closed;
        }
        if self.expired {
            return SlotCheck::TimedOut;
        }
        let Some(cx) = cx else {
            return match self.state {
                State::Ready => SlotCheck::Go,
                State::Empty | State::Waiting => SlotCheck::WouldBlock,
            };
        };
        let owner = task().map_or(u64::MAX, TaskId::number);
        match self.state {
            State::Ready => SlotCheck::Go,
            State::Empty => {
                self.park(cx, owner, owned, true);
                SlotCheck::Parked(self.ticket)
            }
            State::Waiting => {
                if self.owned && owned && self.owner != owner {
                    double_wait(owner, self.owner);
                }
                self.park(cx, owner, owned, caller != Some(self.ticket));
                SlotCheck::Pending(self.ticket)
            }
        }
    }

    /// Records the parked task, reusing the cached waker when it is the same; `fresh` issues a
    /// new ticket (a new park, or a new waiter joining).
    #[inline]
    fn park(&mut self, cx: &Context<'_>, owner: u64, owned: bool, fresh: bool) {
        if !self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            self.waker = Some(cx.waker().clone());
        }
        if fresh {
            self.ticket = self.ticket.wrapping_add(1);
        }
        self.state = State::Waiting;
        self.owner = owner;
        self.owned = owned;
    }

    /// An edge arrived: the slot becomes `Ready`. Returns whether a task was parked (the
    /// caller wakes it with [`Slot::take_waker`]). `hung_up` marks a final edge (the peer
    /// closed this half), after which the slot stays `Ready`.
    #[inline]
    pub(crate) fn on_edge(&mut self, hung_up: bool) -> bool {
        self.hung_up |= hung_up;
        std::mem::replace(&mut self.state, State::Ready) == State::Waiting
    }

    /// Lends the cached waker out so it can be woken with no borrow held; give it back with
    /// [`Slot::return_waker`].
    #[inline]
    pub(crate) fn take_waker(&mut self) -> Option<Waker> {
        self.waker.take()
    }

    /// Returns a lent waker to the cache unless a newer one arrived meanwhile.
    #[inline]
    pub(crate) fn return_waker(&mut self, waker: Waker) {
        if self.waker.is_none() {
            self.waker = Some(waker);
        }
    }

    /// Whether a final (hang-up) edge has arrived.
    pub(crate) fn is_hung_up(&self) -> bool {
        self.hung_up
    }

    /// A short transfer: the queue is drained, unless this half has hung up (then the next
    /// call must run, to see end of stream).
    #[inline]
    pub(crate) fn drained(&mut self) {
        if self.state == State::Ready && !self.hung_up {
            self.state = State::Empty;
        }
    }

    /// The call said `WouldBlock`: nothing is there, hang-up or not. A kernel never says this
    /// after a hang-up edge, but if one did, trusting the sticky hang-up would spin the retry
    /// loop forever; waiting for the next edge is always safe.
    #[inline]
    pub(crate) fn would_block(&mut self) {
        self.hung_up = false;
        if self.state == State::Ready {
            self.state = State::Empty;
        }
    }

    /// A doppel future parked under `ticket` was dropped: un-park it (no edge came, so `Empty`).
    #[inline]
    pub(crate) fn disarm(&mut self, ticket: u32) {
        if self.state == State::Waiting && self.ticket == ticket {
            self.state = State::Empty;
        }
    }

    /// A new deadline was set (or the old one cleared): operations may run again.
    pub(crate) fn clear_expiry(&mut self) {
        self.expired = false;
    }

    /// The deadline passed: operations fail with `TimedOut` from now on. Returns whether a task
    /// was parked (to wake with [`Slot::take_waker`]).
    pub(crate) fn expire(&mut self) -> bool {
        self.expired = true;
        let parked = self.state == State::Waiting;
        if parked {
            self.state = State::Empty;
        }
        parked
    }

    /// The fd is closing: hands back the parked task's waker, if one is parked.
    pub(crate) fn close(&mut self) -> Option<Waker> {
        self.closed = true;
        let parked = self.state == State::Waiting;
        self.state = State::Empty;
        self.waker.take().filter(|_| parked)
    }

    /// The spawn number of the parked task, if one is parked (for stall reports).
    pub(crate) fn waiter(&self) -> Option<u64> {
        (self.state == State::Waiting).then_some(self.owner)
    }
}

/// The double-wait bug: two tasks parked on one slot.
#[cold]
#[inline(never)]
fn double_wait(new: u64, old: u64) -> ! {
    panic!(
        "doppel: double wait: task t{new} tried to wait on a slot where task t{old} is already \
         waiting (two tasks reading or writing one socket at once)"
    );
}

/// The pollDesc of one registered descriptor.
#[derive(Debug)]
pub(crate) struct PollDesc {
    /// The descriptor, for syscalls and error messages.
    pub(crate) fd: Fd,
    /// The token events for it carry (and its timers name).
    pub(crate) token: Token,
    /// Closed by this process: every operation fails with "use of closed socket".
    pub(crate) closed: bool,
    /// The reader's slot (read, accept).
    pub(crate) read: Slot,
    /// The writer's slot (write, connect).
    pub(crate) write: Slot,
}

impl PollDesc {
    /// A fresh pollDesc: nothing to read until an edge says so, writes go ahead.
    pub(crate) fn new(fd: Fd, token: Token) -> PollDesc {
        PollDesc {
            fd,
            token,
            closed: false,
            read: Slot::new(State::Empty),
            write: Slot::new(State::Ready),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn cx() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    fn task(n: u64) -> impl FnOnce() -> Option<TaskId> {
        move || Some(TaskId::new(n as u32, n))
    }

    #[test]
    fn short_transfer_then_edge_cycle() {
        let mut s = Slot::new(State::Ready);
        assert_eq!(s.check(Some(&cx()), task(1), true, None), SlotCheck::Go);
        s.drained();
        assert_eq!(
            s.check(Some(&cx()), task(1), true, None),
            SlotCheck::Parked(1)
        );
        assert_eq!(
            s.check(Some(&cx()), task(1), true, Some(1)),
            SlotCheck::Pending(1)
        );
        assert!(s.on_edge(false), "the parked task is woken by the edge");
        assert_eq!(s.check(Some(&cx()), task(1), true, None), SlotCheck::Go);
        assert_eq!(s.check(None, task(1), true, None), SlotCheck::Go);
        s.drained();
        assert_eq!(s.check(None, task(1), true, None), SlotCheck::WouldBlock);
    }

    #[test]
    fn hang_up_is_sticky_so_eof_after_a_short_read_is_seen() {
        let mut s = Slot::new(State::Empty);
        s.check(Some(&cx()), task(1), true, None);
        assert!(s.on_edge(true));
        s.drained(); // a short read of the last bytes before the FIN
        assert_eq!(
            s.check(Some(&cx()), task(1), true, None),
            SlotCheck::Go,
            "the read of EOF runs"
        );
    }

    #[test]
    fn expiry_fails_operations_until_cleared() {
        let mut s = Slot::new(State::Ready);
        assert!(!s.expire(), "nobody was parked");
        assert_eq!(
            s.check(Some(&cx()), task(1), true, None),
            SlotCheck::TimedOut
        );
        s.clear_expiry();
        assert_eq!(
            s.check(Some(&cx()), task(1), true, None),
            SlotCheck::Go,
            "reset clears expiry"
        );
        s.drained();
        s.check(Some(&cx()), task(1), true, None);
        assert!(s.expire(), "the parked task is handed back to wake");
    }

    #[test]
    #[should_panic(expected = "double wait")]
    fn double_wait_panics() {
        let mut s = Slot::new(State::Empty);
        assert_eq!(
            s.check(Some(&cx()), task(1), true, None),
            SlotCheck::Parked(1)
        );
        s.check(Some(&cx()), task(2), true, None);
    }

    #[test]
    fn trait_waits_are_replaced_and_dropped_futures_unpark_only_themselves() {
        let mut s = Slot::new(State::Empty);
        assert_eq!(
            s.check(Some(&cx()), task(1), false, None),
            SlotCheck::Parked(1)
        );
        assert_eq!(
            s.check(Some(&cx()), task(2), true, None),
            SlotCheck::Pending(2),
            "a joiner gets its own ticket"
        );
        s.disarm(1);
        assert_eq!(
            s.waiter(),
            Some(2),
            "the first future's drop leaves the joiner parked"
        );
        s.disarm(2);
        assert_eq!(s.waiter(), None);
    }
}
