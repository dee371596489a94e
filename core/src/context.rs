//! The current reactor: a `scoped-tls` slot set around each task poll, so server code finds its
//! runtime without a handle or a generic parameter.

use std::future::Future;
use std::io;
use std::rc::Rc;

use crate::reactor::Reactor;
use crate::stats::Stats;
use crate::task::JoinHandle;

scoped_tls::scoped_thread_local!(static CURRENT: Rc<Reactor>);

/// Runs `f` with `reactor` as the current reactor (nesting is allowed: the simulator runs many
/// reactors on one thread, each current only while it is stepped).
pub(crate) fn enter<R>(reactor: &Rc<Reactor>, f: impl FnOnce() -> R) -> R {
    CURRENT.set(reactor, f)
}

/// Queues `id` on the current reactor's local run queue if `queue` is that reactor's: the
/// lock-free path for the common case, a wake from the reactor's own thread during its turn.
/// Returns false when the wake must take the cross-thread path.
#[inline]
pub(crate) fn push_local(
    queue: &std::sync::Arc<crate::task::queue::RunQueue>,
    id: crate::TaskId,
) -> bool {
    CURRENT.is_set()
        && CURRENT.with(|r| {
            if !std::sync::Arc::ptr_eq(&r.queue, queue) {
                return false;
            }
            r.runnable.borrow_mut().push_back(id);
            true
        })
}

/// The current reactor, if code is running inside one.
pub(crate) fn current() -> Option<Rc<Reactor>> {
    CURRENT.is_set().then(|| CURRENT.with(Rc::clone))
}

/// The current reactor, or an error naming the call that needed it.
pub(crate) fn current_or_err(what: &str) -> io::Result<Rc<Reactor>> {
    current().ok_or_else(|| crate::error::no_runtime(what))
}

/// Runs `f` against the current reactor.
///
/// # Panics
/// Outside a doppel runtime (calling `sleep` or `Instant::now` from a plain thread is a bug in
/// the caller, as in tokio).
pub(crate) fn with_current<R>(f: impl FnOnce(&Rc<Reactor>) -> R) -> R {
    assert!(
        CURRENT.is_set(),
        "doppel: no runtime on this thread: call this from inside Runtime::block_on or a task"
    );
    CURRENT.with(f)
}

/// Spawns a task on the current reactor. The future need not be `Send`: a reactor is one thread.
///
/// # Panics
/// Outside a doppel runtime.
pub fn spawn<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    with_current(|r| r.spawn(fut))
}

/// The current reactor's counters.
///
/// # Panics
/// Outside a doppel runtime.
pub fn stats() -> Stats {
    with_current(|r| r.counters.snapshot())
}

/// The id of the task being polled, or `None` outside a task (traces and diagnostics use it).
pub fn current_task() -> Option<crate::task::TaskId> {
    current().and_then(|r| r.current_task.get())
}
