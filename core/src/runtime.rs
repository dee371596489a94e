//! `Runtime`: a reactor you can block on, spawn onto, and step.

use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::driver::scheduler::Scheduler;
use crate::driver::stamp::Label;
use crate::driver::task_id::TaskId;
use crate::reactor::{self, Reactor};
use crate::stats::Stats;
use crate::task::join::JoinHandle;
use crate::task::queue::TaskWaker;

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
    /// A runtime over `sched`, its trace events labelled `main` with the reactor's clock. A
    /// backend that labels its runtimes builds them with [`crate::driver::runtime`].
    pub fn new(sched: Box<dyn Scheduler>) -> Runtime {
        Runtime::labelled(sched, Label::default())
    }

    /// A runtime over `sched` whose trace events carry `label`.
    pub(crate) fn labelled(sched: Box<dyn Scheduler>, label: Label) -> Runtime {
        Runtime {
            reactor: Reactor::new(sched, label),
        }
    }

    /// The reactor, for the driver seam's operations on a runtime.
    pub(crate) fn reactor(&self) -> &Rc<Reactor> {
        &self.reactor
    }

    /// Runs `fut` to completion, running spawned tasks and polling for I/O meanwhile.
    ///
    /// # Panics
    /// If called from inside a doppel task (await the future instead), or if a task panics.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        assert!(
            reactor::current().is_none(),
            "doppel: block_on called from inside a runtime; .await the future instead"
        );
        let mut fut = pin!(fut);
        let flag = TaskWaker::new(TaskId::MAIN, self.reactor.exec.queue.clone());
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
            self.reactor.trace_now.set(self.reactor.io.trace_time());
        }
        reactor::enter(&self.reactor, f)
    }

    /// This runtime's counters.
    pub fn stats(&self) -> Stats {
        self.reactor.counters.snapshot()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.reactor.shutdown();
    }
}
