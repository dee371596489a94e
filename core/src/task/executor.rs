//! The executor: a reactor's tasks, the ones ready to run, and the task being polled.
//!
//! It owns the slab and the run queues; the turn asks it for the next task (the backend's
//! `pick` chooses among several) and has it poll one. Nothing here touches descriptors or
//! timers.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::Arc;

use super::queue::RunQueue;
use super::slab::{Aborted, Task, TaskSlab};
use crate::driver::scheduler::WakeHandle;
use crate::driver::task_id::TaskId;
use crate::stats::Counters;
use crate::trace;

/// Task polls per turn before the reactor polls for I/O again, so a task that keeps waking
/// itself cannot starve the network (tokio's `event_interval` and Go's 61 serve the same end).
pub(crate) const TASK_BUDGET: usize = 128;

/// I/O operations a task may complete in one poll before it must yield (tokio's coop budget):
/// a task looping on always-ready I/O still lets timers, deadlines and other tasks run.
pub(crate) const IO_BUDGET: u32 = 128;

/// A reactor's tasks and their scheduling state.
pub(crate) struct Executor {
    /// Spawned tasks.
    pub(crate) tasks: RefCell<TaskSlab>,
    /// Tasks ready to run this turn, in wake order (the scheduler's `pick` chooses among them).
    pub(crate) runnable: RefCell<VecDeque<TaskId>>,
    /// Where wakers queue tasks, from any thread.
    pub(crate) queue: Arc<RunQueue>,
    /// The task being polled, for double-wait detection and traces.
    pub(crate) current_task: Cell<Option<TaskId>>,
    /// I/O operations the task being polled may still complete before it must yield.
    pub(crate) budget: Cell<u32>,
}

/// Releases a task's slab entry and clears the current task if its poll unwinds.
struct PollGuard<'a> {
    exec: &'a Executor,
    /// The task being polled.
    id: TaskId,
}

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        self.exec.current_task.set(None);
        if let Ok(mut tasks) = self.exec.tasks.try_borrow_mut() {
            tasks.release(self.id);
        }
    }
}

impl Executor {
    /// An executor whose cross-thread wakes break the backend's poll through `wake`.
    pub(crate) fn new(wake: Arc<dyn WakeHandle>) -> Executor {
        Executor {
            tasks: RefCell::new(TaskSlab::default()),
            runnable: RefCell::new(VecDeque::new()),
            queue: Arc::new(RunQueue::new(wake)),
            current_task: Cell::new(None),
            budget: Cell::new(IO_BUDGET),
        }
    }

    /// Whether a task is ready to run.
    #[inline]
    pub(crate) fn has_runnable(&self) -> bool {
        !self.runnable.borrow().is_empty() || self.queue.has_woken()
    }

    /// Queues `id` locally if `queue` is this executor's: a wake from the reactor's own thread
    /// during its turn, which needs no lock. False if the wake belongs to another reactor.
    #[inline]
    pub(crate) fn push_local(&self, queue: &Arc<RunQueue>, id: TaskId) -> bool {
        if !Arc::ptr_eq(&self.queue, queue) {
            return false;
        }
        self.runnable.borrow_mut().push_back(id);
        true
    }

    /// Takes the next task to run; `pick` chooses among several (the backend's strategy).
    #[inline]
    pub(crate) fn next_runnable(&self, pick: impl FnOnce(&[TaskId]) -> usize) -> Option<TaskId> {
        let mut q = self.runnable.borrow_mut();
        self.queue.drain_into(&mut q);
        let idx = match q.len() {
            0 => return None,
            1 => return q.pop_front(),
            n => {
                let idx = pick(q.make_contiguous());
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
    pub(crate) fn run_task(&self, id: TaskId, counters: &Counters) {
        let Some(mut task) = self.tasks.borrow_mut().take(id) else {
            return;
        };
        task.flag.clear();
        Counters::bump(&counters.task_polls);
        self.budget.set(IO_BUDGET);
        let mut cx = std::task::Context::from_waker(&task.waker);
        let guard = PollGuard { exec: self, id };
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

    /// Polls the `block_on` future through `poll_main`; true once it has completed.
    pub(crate) fn run_main(&self, poll_main: &mut dyn FnMut() -> bool) -> bool {
        self.budget.set(IO_BUDGET);
        self.current_task.set(Some(TaskId::MAIN));
        let done = poll_main();
        self.current_task.set(None);
        done
    }

    /// Puts a new task in the slab and queues it; returns its id.
    pub(crate) fn insert(&self, make: impl FnOnce(TaskId, &Arc<RunQueue>) -> Task) -> TaskId {
        let id = self.tasks.borrow_mut().reserve();
        let task = make(id, &self.queue);
        task.waker.wake_by_ref();
        self.tasks.borrow_mut().fill(id, task);
        id
    }

    /// Aborts a task; the caller drops what comes back with the reactor current.
    pub(crate) fn abort(&self, id: TaskId) -> Aborted {
        self.tasks.borrow_mut().abort(id)
    }
}
