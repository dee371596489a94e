//! What server code asks of the runtime it runs in, without a handle: spawn a task, read the
//! counters, name the task being polled.

use std::future::Future;

use crate::driver::task_id::TaskId;
use crate::reactor;
use crate::stats::Stats;
use crate::task::join::JoinHandle;

/// Spawns a task on the current reactor. The future need not be `Send`: a reactor is one thread.
///
/// # Panics
/// Outside a doppel runtime.
pub fn spawn<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    reactor::with_current(|r| r.spawn(fut))
}

/// The current reactor's counters.
///
/// # Panics
/// Outside a doppel runtime.
pub fn stats() -> Stats {
    reactor::with_current(|r| r.counters.snapshot())
}

/// The id of the task being polled, or `None` outside a task (traces and diagnostics use it).
pub fn current_task() -> Option<TaskId> {
    reactor::current().and_then(|r| r.exec.current_task.get())
}
