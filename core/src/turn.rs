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
//! A backend steps a runtime through [`crate::driver::Drive::turn`], so the simulator can
//! interleave many reactors; the real runtime simply loops.

use std::io;
use std::rc::Rc;
use std::time::Duration;

use crate::driver::task_id::TaskId;
use crate::driver::turn::Turn;
use crate::reactor::{self, Reactor};
use crate::stats::Counters;
use crate::task::executor::TASK_BUDGET;
use crate::time::timers::TimerEntry;
use crate::trace;

/// The `block_on` future, polled when its id is picked; returns true once it has completed.
pub(crate) type MainPoll<'a> = &'a mut dyn FnMut() -> bool;

impl Reactor {
    /// Runs one turn (see the module docs), with this reactor current throughout so wakes from
    /// its own thread take the local path.
    pub(crate) fn turn(self: &Rc<Self>, main: Option<MainPoll<'_>>) -> Turn {
        reactor::enter(self, || self.turn_inner(main))
    }

    fn turn_inner(self: &Rc<Self>, mut main: Option<MainPoll<'_>>) -> Turn {
        Counters::bump(&self.counters.turns);
        if self.label.time && trace::on() {
            self.trace_now.set(self.io.trace_time());
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

    /// Step 1: run runnable tasks in the scheduler's order, within the budget.
    fn run_runnable(self: &Rc<Self>, main: &mut Option<MainPoll<'_>>) -> (usize, bool) {
        let mut ran = 0;
        while ran < TASK_BUDGET {
            let next = self
                .exec
                .next_runnable(|ids| self.io.sched.borrow_mut().pick(ids));
            let Some(id) = next else {
                break;
            };
            ran += 1;
            if id == TaskId::INBOX {
                self.run_inbox();
                continue;
            }
            if id != TaskId::MAIN {
                self.exec.run_task(id, &self.counters);
                continue;
            }
            if let Some(poll_main) = main.as_mut() {
                if self.exec.run_main(*poll_main) {
                    return (ran, true);
                }
            }
        }
        (ran, false)
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
                TimerEntry::Deadline { token, dir } => {
                    self.deadlines
                        .fire(&self.io.fds, key, token, dir, &self.counters)
                }
            }
        }
    }

    /// How long `poll` may block: zero if work is waiting, else until the next timer.
    fn poll_timeout(&self) -> Option<Duration> {
        if self.exec.has_runnable() {
            return Some(Duration::ZERO);
        }
        let next = self.timers.borrow().next_deadline()?;
        Some(next.saturating_duration_since(self.now()))
    }

    /// Step 3 and the dispatch of step 4.
    fn poll_io(&self) {
        let mut timeout = self.poll_timeout();
        let blocking = timeout != Some(Duration::ZERO);
        let queue = &self.exec.queue;
        if blocking && !queue.park() {
            timeout = Some(Duration::ZERO);
        }
        let mut events = self.io.events.borrow_mut();
        events.clear();
        let polled = self.io.sched.borrow_mut().poll(timeout, &mut events);
        if blocking {
            queue.unpark();
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
                self.io.dispatch(&events, &self.counters)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                trace::event!("doppel::poll", "interrupted");
                Counters::bump(&self.counters.poll_interrupted);
            }
            Err(e) => panic!("doppel: Scheduler::poll failed: {e}"),
        }
    }
}
