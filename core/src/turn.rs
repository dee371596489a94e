//! One turn of the reactor: Go's `findrunnable`, one step at a time.
//!
//! 1. Run what is runnable, in the order the scheduler picks, until the queue is empty or the
//!    turn's budget is spent. Tasks woken while running run in the same turn, so a close that
//!    wakes a blocked reader is seen without another poll.
//! 2. Fire due timers.
//! 3. Poll, with timeout zero if something is runnable, else the time until the next timer
//!    (`None` if there is none): `netpoll(delay)`.
//! 4. Wake the waiters of every ready descriptor (`netpollready`), and fire timers that fell
//!    due while polling.
//!
//! `turn` is public through [`crate::Runtime::turn`] so the simulator can interleave many
//! reactors; the real runtime simply loops.

use std::io;
use std::rc::Rc;
use std::time::Duration;

use crate::context;
use crate::scheduler::Ready;
use crate::stats::Counters;
use crate::task::TaskId;
use crate::time::timers::TimerEntry;
use crate::trace;

use crate::reactor::Reactor;

/// Task polls per turn before the reactor polls for I/O again, so a task that keeps waking
/// itself cannot starve the network (tokio's `event_interval` and Go's 61 serve the same end).
const TASK_BUDGET: usize = 128;

/// I/O operations a task may complete in one poll before it must yield (tokio's coop budget):
/// a task looping on always-ready I/O still lets timers, deadlines and other tasks run.
pub(crate) const IO_BUDGET: u32 = 128;

/// Releases a task's slab entry and clears the current task if its poll unwinds.
struct PollGuard<'a> {
    reactor: &'a Reactor,
    /// The task being polled.
    id: TaskId,
}

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        self.reactor.current_task.set(None);
        if let Ok(mut tasks) = self.reactor.tasks.try_borrow_mut() {
            tasks.release(self.id);
        }
    }
}

/// The `block_on` future, polled when its id is picked; returns true once it has completed.
pub(crate) type MainPoll<'a> = &'a mut dyn FnMut() -> bool;

/// What one turn did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Turn {
    /// Task polls made.
    pub ran: usize,
    /// Whether the `block_on` future completed (always false outside `block_on`).
    pub main_done: bool,
}

impl Reactor {
    /// Runs one turn (see the module docs), with this reactor current throughout so wakes from
    /// its own thread take the local path.
    pub(crate) fn turn(self: &Rc<Self>, main: Option<MainPoll<'_>>) -> Turn {
        context::enter(self, || self.turn_inner(main))
    }

    fn turn_inner(self: &Rc<Self>, mut main: Option<MainPoll<'_>>) -> Turn {
        Counters::bump(&self.counters.turns);
        if self.label.time && trace::on() {
            self.trace_now.set(self.now());
        }
        let (ran, main_done) = self.run_runnable(&mut main);
        if main_done {
            return Turn { ran, main_done };
        }
        self.fire_timers();
        self.poll_io();
        self.fire_timers();
        Turn { ran, main_done }
    }

    /// Whether a task is ready to run.
    #[inline]
    pub(crate) fn has_runnable(&self) -> bool {
        !self.runnable.borrow().is_empty() || self.queue.has_woken()
    }

    /// Step 1: run runnable tasks in the scheduler's order, within the budget.
    fn run_runnable(self: &Rc<Self>, main: &mut Option<MainPoll<'_>>) -> (usize, bool) {
        let mut ran = 0;
        while ran < TASK_BUDGET {
            let Some(id) = self.next_runnable() else {
                break;
            };
            ran += 1;
            if id == TaskId::INBOX {
                self.run_inbox();
                continue;
            }
            if id != TaskId::MAIN {
                self.run_task(id);
                continue;
            }
            if let Some(poll_main) = main.as_mut() {
                self.budget.set(IO_BUDGET);
                self.current_task.set(Some(TaskId::MAIN));
                let done = poll_main();
                self.current_task.set(None);
                if done {
                    return (ran, true);
                }
            }
        }
        (ran, false)
    }

    /// Takes the next task to run, as the scheduler picks among the runnable ones.
    #[inline]
    fn next_runnable(&self) -> Option<TaskId> {
        let mut q = self.runnable.borrow_mut();
        self.queue.drain_into(&mut q);
        let idx = match q.len() {
            0 => return None,
            1 => return q.pop_front(),
            n => {
                let idx = self.sched.borrow_mut().pick(q.make_contiguous());
                assert!(
                    idx < n,
                    "doppel: Scheduler::pick returned {idx} of {n} runnable tasks"
                );
                idx
            }
        };
        q.remove(idx)
    }

    /// Polls one task; a stale id (finished task) is skipped. Every destructor runs with no
    /// borrow held, so it may spawn or abort; a task that panics is released on the way out.
    fn run_task(self: &Rc<Self>, id: TaskId) {
        let Some(mut task) = self.tasks.borrow_mut().take(id) else {
            return;
        };
        task.flag.clear();
        Counters::bump(&self.counters.task_polls);
        self.budget.set(IO_BUDGET);
        let mut cx = std::task::Context::from_waker(&task.waker);
        let guard = PollGuard { reactor: self, id };
        self.current_task.set(Some(id));
        trace::event!("doppel::task", "poll");
        let poll = task.future.as_mut().poll(&mut cx);
        std::mem::forget(guard);
        self.current_task.set(None);
        if poll.is_ready() {
            trace::event!("doppel::task", "done", task = id.number());
            self.tasks.borrow_mut().release(id);
            drop(task);
        } else {
            let aborted = self.tasks.borrow_mut().put_back(id, task);
            drop(aborted);
        }
    }

    /// Steps 2 and 4: fire every timer due now. Skips the clock read when no timer is set.
    #[inline]
    fn fire_timers(&self) {
        if !self.timers.borrow().is_empty() {
            self.fire_due_timers();
        }
    }

    #[inline(never)]
    fn fire_due_timers(&self) {
        let now = self.now();
        loop {
            let due = self.timers.borrow_mut().pop_due(now);
            let Some((key, entry)) = due else {
                break;
            };
            Counters::bump(&self.counters.timers_fired);
            trace::event!("doppel::time", "fired", at_ns = key.deadline.as_nanos());
            match entry {
                TimerEntry::Wake(waker) => waker.into_iter().for_each(|w| w.wake()),
                TimerEntry::Deadline { token, dir } => self.fire_deadline(key, token, dir),
            }
        }
    }

    /// How long `poll` may block: zero if work is waiting, else until the next timer.
    fn poll_timeout(&self) -> Option<Duration> {
        if self.has_runnable() {
            return Some(Duration::ZERO);
        }
        let next = self.timers.borrow().next_deadline()?;
        Some(next.saturating_duration_since(self.now()))
    }

    /// Step 3 and the dispatch of step 4.
    fn poll_io(&self) {
        let mut timeout = self.poll_timeout();
        let blocking = timeout != Some(Duration::ZERO);
        if blocking && !self.queue.park() {
            timeout = Some(Duration::ZERO);
        }
        let mut events = self.events.borrow_mut();
        events.clear();
        let polled = self.sched.borrow_mut().poll(timeout, &mut events);
        if blocking {
            self.queue.unpark();
        }
        Counters::bump(&self.counters.polls);
        match polled {
            Ok(()) => {
                trace::event!(
                    "doppel::poll",
                    "poll",
                    timeout_ns = trace::timeout_ns(timeout),
                    events = events.len()
                );
                self.dispatch(&events)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                trace::event!("doppel::poll", "interrupted");
                Counters::bump(&self.counters.poll_interrupted);
            }
            Err(e) => panic!("doppel: Scheduler::poll failed: {e}"),
        }
    }

    /// Wakes the waiters of every ready descriptor; drops events for stale tokens. Wakers are
    /// lent out of the slot and woken with no borrow held, then returned to the cache.
    fn dispatch(&self, events: &[crate::scheduler::Event]) {
        for ev in events {
            let Some(pd) = self.fds.borrow().get(ev.token).cloned() else {
                trace::event!(
                    "doppel::poll",
                    "stale",
                    token = ev.token.0,
                    ready = ev.ready.bits()
                );
                Counters::bump(&self.counters.stale_events);
                continue;
            };
            Counters::bump(&self.counters.events);
            let ready = ev.ready;
            trace::event!(
                "doppel::poll",
                "ready",
                fd = pd.borrow().fd.0,
                ready = ready.bits()
            );
            let (reader, writer) = {
                let mut p = pd.borrow_mut();
                let r = ready.wakes_reader() && p.read.on_edge(ready.contains(Ready::READ_CLOSED));
                let w =
                    ready.wakes_writer() && p.write.on_edge(ready.contains(Ready::WRITE_CLOSED));
                let r = if r { p.read.take_waker() } else { None };
                let w = if w { p.write.take_waker() } else { None };
                (r, w)
            };
            if let Some(w) = reader {
                w.wake_by_ref();
                pd.borrow_mut().read.return_waker(w);
            }
            if let Some(w) = writer {
                w.wake_by_ref();
                pd.borrow_mut().write.return_waker(w);
            }
        }
    }
}
