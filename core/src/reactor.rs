//! `Reactor`: one thread's runtime, composed of rooms of one concept each, and the thread-local
//! that makes it the current one while it runs.
//!
//! | room                               | holds                                                    |
//! |------------------------------------|----------------------------------------------------------|
//! | [`IoDriver`] (`fd/driver.rs`)      | the backend, registered descriptors, event delivery      |
//! | [`Executor`] (`task/executor.rs`)  | tasks, the run queues, the task being polled, its budget |
//! | [`Timers`] (`time/timers.rs`)      | sleeps and deadline timers, by deadline                  |
//! | [`Deadlines`] (`time/deadlines.rs`)| which timer is armed for which socket slot               |
//! | [`Membership`] (`group/membership.rs`) | the inbox and the reactor's group                     |
//!
//! `turn.rs` composes them into one turn. Only this file holds the thread-local: leaf types
//! reach the current reactor through [`with_current`] and [`current`].
//!
//! Everything here is single-threaded interior mutability (`RefCell`, `Cell`): no lock on the
//! single-reactor path. Borrows are kept short and never held across a task poll, a waker call
//! or a drop of user code, so user code can call back into the reactor from anywhere.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Wake, Waker};

use crate::driver::fd::Fd;
use crate::driver::instant::Instant;
use crate::driver::ready::Direction;
use crate::driver::scheduler::Scheduler;
use crate::driver::stamp::{Label, Stamp, StampRef};
use crate::driver::task_id::TaskId;
use crate::fd::driver::IoDriver;
use crate::fd::table::PdRef;
use crate::group::inbox::Doorbell;
use crate::group::membership::Membership;
use crate::stats::Counters;
use crate::task::executor::Executor;
use crate::task::join::{Abort, JoinHandle};
use crate::task::queue::{RunQueue, TaskWaker};
use crate::task::slab::{Aborted, Task};
use crate::time::deadlines::Deadlines;
use crate::time::timers::{TimerEntry, TimerKey, Timers};
use crate::trace;

scoped_tls::scoped_thread_local!(static CURRENT: Rc<Reactor>);

/// The source of [`Reactor::id`]s: only ever compared, so its values reach no behaviour.
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The per-thread engine behind a `Runtime`.
pub(crate) struct Reactor {
    /// Tells this reactor from every other of the process (a `Send` value, such as
    /// `time::SendSleep`, names the reactor holding its timer by it).
    pub(crate) id: u64,
    pub(crate) io: IoDriver,
    pub(crate) exec: Executor,
    pub(crate) timers: RefCell<Timers>,
    pub(crate) deadlines: Deadlines,
    pub(crate) members: Membership,
    /// What the runtime absorbed, for tests and benchmarks.
    pub(crate) counters: Counters,
    /// The read buffers `TcpStream::read_chunk` lends.
    pub(crate) chunks: Rc<crate::net::chunk::ChunkPool>,
    /// How its trace events are labelled.
    pub(crate) label: Label,
    /// The clock at the start of the current turn, for trace stamps (read without borrowing
    /// the backend, which an event raised inside a backend call would find busy). The
    /// simulator's clock never moves within a turn, so this is exact there.
    pub(crate) trace_now: Cell<Instant>,
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reactor")
            .field("tasks", &self.exec.tasks.borrow().len())
            .field("fds", &self.io.fds.borrow().len())
            .field("timers", &self.timers.borrow().len())
            .finish_non_exhaustive()
    }
}

/// Runs `f` with `reactor` as the current reactor (nesting is allowed: the simulator runs many
/// reactors on one thread, each current only while it is stepped).
pub(crate) fn enter<R>(reactor: &Rc<Reactor>, f: impl FnOnce() -> R) -> R {
    CURRENT.set(reactor, f)
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

/// A task's wake is the reactor's: only the reactor knows which reactor is current.
impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    /// Queues the task once. On the reactor's own thread during its turn the id goes straight
    /// onto the local run queue; from anywhere else it goes through the mutex and, if the
    /// reactor is blocked in `poll`, breaks the poll.
    #[inline]
    fn wake_by_ref(self: &Arc<Self>) {
        Doorbell::ring(&**self);
    }
}

/// The inbox's doorbell is a task waker for `TaskId::INBOX`, rung as any task is woken.
impl Doorbell for TaskWaker {
    #[inline]
    fn ring(&self) {
        if self.mark() && !push_local(self.queue(), self.id()) {
            self.queue().push(self.id());
        }
    }

    fn reset(&self) {
        self.clear();
    }
}

/// Queues `id` on the current reactor's local run queue if `queue` is that reactor's: the
/// lock-free path for the common case, a wake from the reactor's own thread during its turn.
/// Returns false when the wake must take the cross-thread path.
#[inline]
fn push_local(queue: &Arc<RunQueue>, id: TaskId) -> bool {
    CURRENT.is_set() && CURRENT.with(|r| r.exec.push_local(queue, id))
}

/// The stamp of an event raised now on this thread: the current reactor's, or the one set by
/// [`crate::driver::with_stamp`] outside any reactor.
pub fn stamp() -> Option<Stamp> {
    if let Some(r) = current() {
        let label = &r.label;
        return Some(Stamp {
            time: label.time.then(|| r.trace_now.get()),
            host: label.host.clone(),
            reactor: label.reactor,
            task: r.exec.current_task.get(),
        });
    }
    trace::outside_stamp()
}

/// Calls `f` with the stamp of an event raised now, borrowed rather than cloned (the
/// collector's per-event path).
#[inline]
pub fn with_current_stamp<R>(f: impl FnOnce(Option<StampRef<'_>>) -> R) -> R {
    if CURRENT.is_set() {
        return CURRENT.with(|r| {
            let label = &r.label;
            let time = label.time.then(|| r.trace_now.get());
            let task = r.exec.current_task.get();
            f(Some((time, &label.host, label.reactor, task)))
        });
    }
    trace::with_outside_stamp(f)
}

impl Abort for Reactor {
    fn abort(self: Rc<Self>, id: TaskId) {
        trace::event!("doppel::task", "abort", task = id.number());
        if let Aborted::Now(task) = self.exec.abort(id) {
            enter(&self, || drop(task));
        }
    }
}

impl Reactor {
    /// A reactor over `sched`, labelling its trace events with `label`.
    pub(crate) fn new(sched: Box<dyn Scheduler>, label: Label) -> Rc<Reactor> {
        let exec = Executor::new(sched.wake_handle());
        let members = Membership::new(&exec.queue);
        Rc::new(Reactor {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            io: IoDriver::new(sched),
            exec,
            timers: RefCell::new(Timers::default()),
            deadlines: Deadlines::default(),
            members,
            counters: Counters::default(),
            chunks: Rc::default(),
            label,
            trace_now: Cell::new(Instant::ZERO),
        })
    }

    /// The backend's clock.
    pub(crate) fn now(&self) -> Instant {
        self.io.now()
    }

    /// Runs `f` against the backend.
    pub(crate) fn with_sched<T>(&self, f: impl FnOnce(&mut dyn Scheduler) -> T) -> T {
        self.io.with_sched(f)
    }

    /// Spawns `fut` as a task of this reactor; it runs in a later step of the current turn (or
    /// the next turn).
    pub(crate) fn spawn<F>(self: &Rc<Self>, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let cell = crate::task::join_cell();
        let output = cell.clone();
        let id = self.exec.insert(|id, queue| {
            let flag = TaskWaker::new(id, queue.clone());
            Task {
                future: Box::pin(crate::task::wrap(fut, output)),
                waker: Waker::from(flag.clone()),
                flag,
            }
        });
        Counters::bump(&self.counters.tasks_spawned);
        trace::event!("doppel::task", "spawn", task = id.number());
        let me: std::rc::Weak<dyn Abort> = Rc::downgrade(self) as _;
        JoinHandle::new(id, cell, me)
    }

    /// Runs every job waiting in the inbox, in arrival order, with this reactor current.
    pub(crate) fn run_inbox(self: &Rc<Self>) {
        for job in self.members.take_jobs() {
            job();
        }
    }

    /// Drops every task (runtime shutdown), inside the reactor's context so their destructors can
    /// close sockets. Bounded: a destructor that spawns gets its task dropped in the next round,
    /// and after 64 rounds the rest are left to leak rather than loop forever.
    pub(crate) fn shutdown(self: &Rc<Self>) {
        let unrun = self.members.close();
        enter(self, || drop(unrun));
        for _ in 0..64 {
            let tasks = self.exec.tasks.borrow_mut().drain();
            if tasks.is_empty() {
                break;
            }
            enter(self, || drop(tasks));
        }
        self.exec.runnable.borrow_mut().clear();
        let timers = std::mem::take(&mut *self.timers.borrow_mut());
        drop(timers);
        self.deadlines.clear();
    }

    /// Registers `fd` and returns its pollDesc.
    pub(crate) fn register(&self, fd: Fd) -> io::Result<PdRef> {
        self.io.register(fd)
    }

    /// Closes a registered descriptor: marks it closed, retires its token and cancels its
    /// deadlines (so late events and timers are stale), closes the fd and wakes both waiters so
    /// they fail at once (see [`IoDriver::close`]).
    pub(crate) fn close(&self, pd: &PdRef) -> io::Result<()> {
        let (fd, wakers) = self.retire(pd);
        self.io.close(fd, wakers)
    }

    /// Takes a registered descriptor away from this reactor without closing it, for another
    /// reactor to attach: retired as by `close` (so its waiters fail and its `Registration`'s
    /// drop does nothing), then deregistered (see [`IoDriver::detach`]).
    pub(crate) fn detach(&self, pd: &PdRef) -> io::Result<Fd> {
        let (fd, wakers) = self.retire(pd);
        self.io.detach(fd, wakers)
    }

    /// What closing and detaching share: the pollDesc retires from the driver and its deadlines
    /// from the timers.
    fn retire(&self, pd: &PdRef) -> (Fd, [Option<Waker>; 2]) {
        let (fd, token, wakers) = self.io.retire(pd);
        for dir in [Direction::Read, Direction::Write] {
            self.deadlines.disarm(&self.timers, token, dir);
        }
        (fd, wakers)
    }

    /// Sets (or, with `None`, clears) the absolute deadline of one slot.
    pub(crate) fn set_deadline(
        &self,
        pd: &PdRef,
        dir: Direction,
        deadline: Option<Instant>,
    ) -> io::Result<()> {
        let now = || self.now();
        self.deadlines
            .set(&self.timers, now, pd, dir, deadline, &self.counters);
        Ok(())
    }

    /// Adds a sleep timer.
    pub(crate) fn add_sleep(&self, deadline: Instant) -> TimerKey {
        trace::event!("doppel::time", "sleep", until_ns = deadline.as_nanos());
        self.timers
            .borrow_mut()
            .insert(deadline, TimerEntry::Wake(None))
    }

    /// Stores a sleep's waker; false once the timer has fired.
    pub(crate) fn sleep_pending(&self, key: TimerKey, waker: &Waker) -> bool {
        self.timers.borrow_mut().set_waker(key, waker)
    }

    /// Cancels a sleep (dropped before it fired).
    pub(crate) fn cancel_sleep(&self, key: TimerKey) {
        self.timers.borrow_mut().remove(key);
    }

    /// Whether a sleep's timer is still pending.
    pub(crate) fn sleep_armed(&self, key: TimerKey) -> bool {
        self.timers.borrow().contains(key)
    }
}
