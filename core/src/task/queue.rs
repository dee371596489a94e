//! The injection queue and task wakers: how a wake, from this thread or any other, makes a task
//! runnable and, if the reactor is blocked in `poll`, breaks the poll.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::driver::scheduler::WakeHandle;
use crate::driver::task_id::TaskId;

/// Tasks woken since the reactor last looked, shared with every waker of the reactor.
///
/// `Waker` must be `Send + Sync`, so a task may be woken from another thread (a worker pool, a
/// user's thread); that is why this is a mutex and not a `RefCell`. Uncontended, the lock is one
/// atomic exchange each way.
pub(crate) struct RunQueue {
    /// Woken task ids in wake order.
    woken: Mutex<VecDeque<TaskId>>,
    /// How many ids `woken` holds, readable without the lock (the reactor checks it every
    /// turn; it takes the lock only when there is something to take).
    len: AtomicUsize,
    /// Set while the reactor is (about to be) blocked in `poll`; a waker that clears it must
    /// break the poll. A Dekker pair with the reactor's re-check of `woken` (both SeqCst).
    parked: AtomicBool,
    /// Breaks a blocked poll.
    wake: Arc<dyn WakeHandle>,
    /// The handle wants every wake from outside the reactor's turn (the simulator's).
    every_wake: bool,
}

impl std::fmt::Debug for RunQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunQueue")
            .field("parked", &self.parked)
            .finish_non_exhaustive()
    }
}

impl RunQueue {
    /// A queue whose wakes break the poll through `wake`.
    pub(crate) fn new(wake: Arc<dyn WakeHandle>) -> RunQueue {
        RunQueue {
            woken: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
            parked: AtomicBool::new(false),
            every_wake: wake.wants_every_wake(),
            wake,
        }
    }

    /// Queues `id` and breaks the poll if the reactor is parked: the wake path from outside
    /// the reactor's own turn.
    #[inline]
    pub(crate) fn push(&self, id: TaskId) {
        {
            let mut q = self.lock();
            q.push_back(id);
            self.len.store(q.len(), Ordering::SeqCst);
        }
        if self.every_wake
            || (self.parked.load(Ordering::SeqCst) && self.parked.swap(false, Ordering::SeqCst))
        {
            self.wake.wake();
        }
    }

    /// Moves every queued id to the end of `out`, keeping wake order. When `out` is empty (the
    /// common case) the two queues are swapped, which moves no ids at all.
    #[inline]
    pub(crate) fn drain_into(&self, out: &mut VecDeque<TaskId>) {
        if self.len.load(Ordering::Acquire) == 0 {
            return;
        }
        let mut q = self.lock();
        if out.is_empty() {
            std::mem::swap(&mut *q, out);
        } else {
            out.extend(q.drain(..));
        }
        self.len.store(0, Ordering::Release);
    }

    /// Announces that the reactor is about to block; returns false (and stays unparked) if a
    /// wake is already queued, in which case the reactor must poll without blocking.
    pub(crate) fn park(&self) -> bool {
        self.parked.store(true, Ordering::SeqCst);
        if self.len.load(Ordering::SeqCst) == 0 {
            true
        } else {
            self.parked.store(false, Ordering::SeqCst);
            false
        }
    }

    /// The reactor is back from `poll`.
    #[inline]
    pub(crate) fn unpark(&self) {
        self.parked.store(false, Ordering::Relaxed);
    }

    /// Whether any wake is queued.
    #[inline]
    pub(crate) fn has_woken(&self) -> bool {
        self.len.load(Ordering::Acquire) != 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<TaskId>> {
        // A panic while holding this lock can only come from an allocation failure inside
        // VecDeque; the queue of ids is still valid, so poisoning is ignored.
        self.woken.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The waker of one task. `queued` de-duplicates wakes: a task is in the queue at most once
/// until it is polled, however many times it is woken.
pub(crate) struct TaskWaker {
    /// The task to queue.
    id: TaskId,
    /// Whether the task is already queued (cleared just before each poll).
    queued: AtomicBool,
    /// The reactor's queue.
    queue: Arc<RunQueue>,
}

impl TaskWaker {
    /// A waker for `id`, not yet queued (spawn wakes it at once).
    pub(crate) fn new(id: TaskId, queue: Arc<RunQueue>) -> Arc<TaskWaker> {
        Arc::new(TaskWaker {
            id,
            queued: AtomicBool::new(false),
            queue,
        })
    }

    /// Called just before the task is polled: wakes from now on queue it again. A
    /// read-modify-write, not a store: a plain store could sit in the store buffer while the
    /// poll reads stale state and another thread's wake still sees `true` and queues nothing
    /// (the lost-wakeup tokio's `transition_to_running` avoids the same way).
    #[inline]
    pub(crate) fn clear(&self) {
        self.queued.swap(false, Ordering::AcqRel);
    }

    /// Marks the task queued; false if it already was (the wake then has nothing to do).
    #[inline]
    pub(crate) fn mark(&self) -> bool {
        !self.queued.swap(true, Ordering::AcqRel)
    }

    /// The task this waker queues.
    #[inline]
    pub(crate) fn id(&self) -> TaskId {
        self.id
    }

    /// The run queue it queues the task on.
    #[inline]
    pub(crate) fn queue(&self) -> &Arc<RunQueue> {
        &self.queue
    }
}
