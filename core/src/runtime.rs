//! `Runtime`: a reactor you can block on, spawn onto, and step.

use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::context;
use crate::reactor::Reactor;
use crate::scheduler::Scheduler;
use crate::stats::Stats;
use crate::task::queue::TaskWaker;
use crate::task::{JoinHandle, TaskId};
use crate::time::Instant;
use crate::turn::Turn;

/// A single-threaded runtime over one [`Scheduler`]: a real poller or a simulated one.
///
/// The backend is a value, not a `cfg`, so one test binary can run the same server body on
/// epoll and in the simulator. Dropping the runtime cancels every task (their futures are
/// dropped, closing their sockets); [`JoinHandle`]s then report [`crate::JoinError::Cancelled`].
pub struct Runtime {
    /// The reactor, shared with the sockets and handles it created.
    reactor: Rc<Reactor>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("reactor", &self.reactor)
            .finish()
    }
}

impl Runtime {
    /// A runtime over `sched`, its trace events labelled `main` with the reactor's clock.
    pub fn new(sched: Box<dyn Scheduler>) -> Runtime {
        Runtime::with_label(sched, crate::trace::Label::default())
    }

    /// A runtime over `sched` whose trace events carry `label` (host name, reactor number,
    /// and whether to print the clock).
    pub fn with_label(sched: Box<dyn Scheduler>, label: crate::trace::Label) -> Runtime {
        Runtime {
            reactor: Reactor::new(sched, label),
        }
    }

    /// Runs `fut` to completion, running spawned tasks and polling for I/O meanwhile.
    ///
    /// # Panics
    /// If called from inside a doppel task (await the future instead), or if a task panics.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        assert!(
            context::current().is_none(),
            "doppel: block_on called from inside a runtime; .await the future instead"
        );
        let mut fut = pin!(fut);
        let flag = TaskWaker::new(TaskId::MAIN, self.reactor.queue.clone());
        let waker = Waker::from(flag.clone());
        waker.wake_by_ref();
        let mut out = None;
        {
            let mut poll_main = || {
                flag.clear();
                match fut.as_mut().poll(&mut Context::from_waker(&waker)) {
                    Poll::Ready(v) => {
                        out = Some(v);
                        true
                    }
                    Poll::Pending => false,
                }
            };
            while !self.reactor.turn(Some(&mut poll_main)).main_done {}
        }
        out.expect("doppel: block_on finished without an output")
    }

    /// Spawns a task on this runtime (it runs during `block_on` or `turn`).
    pub fn spawn<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.enter(|| self.reactor.spawn(fut))
    }

    /// Runs `f` with this runtime as the current one, so it can bind sockets or spawn tasks
    /// outside `block_on`.
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        if self.reactor.label.time && crate::trace::on() {
            self.reactor.trace_now.set(self.reactor.now());
        }
        context::enter(&self.reactor, f)
    }

    /// Runs one turn: runnable tasks, due timers, one poll. The simulator steps reactors with
    /// this; a poll blocks only when nothing is runnable, and only until the next timer.
    ///
    /// # Panics
    /// If called from inside one of this runtime's tasks (a nested turn would lose wakes).
    pub fn turn(&self) -> Turn {
        assert!(
            self.reactor.current_task.get().is_none(),
            "doppel: Runtime::turn called from inside one of its own tasks"
        );
        self.reactor.turn(None)
    }

    /// A handle any thread may use to send this runtime's reactor jobs.
    pub fn remote(&self) -> crate::group::Remote {
        self.reactor.remote()
    }

    /// Makes this runtime's reactor number `index` of `group` (a backend building a
    /// multi-reactor runtime calls this for the reactors it holds; see [`crate::group`]).
    pub fn join_group(&self, group: std::sync::Arc<crate::group::Group>, index: usize) {
        self.reactor.join_group(group, index);
    }

    /// Whether a task is waiting to run (the simulator's world uses this to pick a reactor).
    pub fn has_runnable(&self) -> bool {
        self.reactor.has_runnable()
    }

    /// The earliest pending timer, if any.
    pub fn next_timer(&self) -> Option<Instant> {
        self.reactor.timers.borrow().next_deadline()
    }

    /// How many tasks are alive.
    pub fn tasks(&self) -> usize {
        self.reactor.tasks.borrow().len()
    }

    /// How many descriptors are registered.
    pub fn registered(&self) -> usize {
        self.reactor.fds.borrow().len()
    }

    /// This runtime's counters.
    pub fn stats(&self) -> Stats {
        self.reactor.counters.snapshot()
    }

    /// Every live task with what it waits on, for stall reports: `t3 waits read fd=7`, or
    /// `t4 waits (timer, channel or join)` for a task parked on anything else.
    pub fn blocked(&self) -> Vec<String> {
        let mut waits: std::collections::BTreeMap<u64, Vec<String>> = Default::default();
        for pd in self.reactor.fds.borrow().iter() {
            let mut p = pd.borrow_mut();
            let fd = p.fd;
            for dir in [crate::Direction::Read, crate::Direction::Write] {
                if let Some(owner) = p.slot(dir).waiter() {
                    waits.entry(owner).or_default().push(format!("{dir} {fd}"));
                }
            }
        }
        let mut out = Vec::new();
        for id in self.reactor.tasks.borrow().ids() {
            match waits.remove(&id.number()) {
                Some(on) => out.push(format!("{id} waits {}", on.join(", "))),
                None => out.push(format!("{id} waits (timer, channel or join)")),
            }
        }
        for (owner, on) in waits {
            let who = if owner == u64::MAX {
                "-".to_string()
            } else {
                format!("t{owner}")
            };
            out.push(format!("{who} waits {}", on.join(", ")));
        }
        if let Some(t) = self.next_timer() {
            out.push(format!("next timer at {t}"));
        }
        out
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.reactor.shutdown();
    }
}
