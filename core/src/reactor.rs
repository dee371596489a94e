//! `Reactor`: one scheduler, its tasks, its pollDescs and its timers, on one thread.
//!
//! Everything here is single-threaded interior mutability (`RefCell`, `Cell`): no lock on the
//! single-reactor path. Borrows are kept short and never held across a task poll, a waker call
//! or a drop of user code, so user code can call back into the reactor from anywhere.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;

use crate::context;
use crate::fd::{Direction, FdTable, PdRef};
use crate::scheduler::{Event, Fd, Scheduler, Token};
use crate::stats::Counters;
use crate::task::queue::{RunQueue, TaskWaker};
use crate::task::slab::{Aborted, Task, TaskSlab};
use crate::task::{JoinHandle, TaskId};
use crate::time::timers::{TimerEntry, TimerKey, Timers};
use crate::time::Instant;
use crate::trace;

/// The source of [`Reactor::id`]s: only ever compared, so its values reach no behaviour.
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The per-thread engine behind a [`crate::Runtime`].
pub(crate) struct Reactor {
    /// Tells this reactor from every other of the process (a `Send` value, such as
    /// [`crate::time::SendSleep`], names the reactor holding its timer by it).
    pub(crate) id: u64,
    /// The world: real poller or simulator.
    pub(crate) sched: RefCell<Box<dyn Scheduler>>,
    /// Registered descriptors.
    pub(crate) fds: RefCell<FdTable>,
    /// Sleeps and deadlines.
    pub(crate) timers: RefCell<Timers>,
    /// The armed deadline timer of each slot that has one. Kept out of the pollDesc because few
    /// sockets use deadlines and every socket pays for pollDesc bytes.
    pub(crate) deadlines: RefCell<BTreeMap<(Token, Direction), TimerKey>>,
    /// Spawned tasks.
    pub(crate) tasks: RefCell<TaskSlab>,
    /// Tasks ready to run this turn, in wake order (the scheduler's `pick` chooses among them).
    pub(crate) runnable: RefCell<VecDeque<TaskId>>,
    /// Where wakers queue tasks, from any thread.
    pub(crate) queue: Arc<RunQueue>,
    /// The event buffer handed to `poll`, reused every round (no allocation per event).
    pub(crate) events: RefCell<Vec<Event>>,
    /// The task being polled, for double-wait detection and traces.
    pub(crate) current_task: Cell<Option<TaskId>>,
    /// I/O operations the task being polled may still complete before it must yield.
    pub(crate) budget: Cell<u32>,
    /// What the runtime absorbed, for tests and benchmarks.
    pub(crate) counters: Counters,
    /// How its trace events are labelled.
    pub(crate) label: crate::trace::Label,
    /// The clock at the start of the current turn, for trace stamps (read without borrowing
    /// the scheduler, which an event raised inside a scheduler call would find busy). The
    /// simulator's clock never moves within a turn, so this is exact there.
    pub(crate) trace_now: Cell<Instant>,
    /// Jobs sent from other reactors and threads.
    pub(crate) inbox: Arc<crate::group::Inbox>,
    /// The group this reactor belongs to, and its index there.
    pub(crate) group: RefCell<Option<(Arc<crate::group::Group>, usize)>>,
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reactor")
            .field("tasks", &self.tasks.borrow().len())
            .field("fds", &self.fds.borrow().len())
            .field("timers", &self.timers.borrow().len())
            .finish_non_exhaustive()
    }
}

impl Reactor {
    /// A reactor over `sched`, labelling its trace events with `label`.
    pub(crate) fn new(sched: Box<dyn Scheduler>, label: crate::trace::Label) -> Rc<Reactor> {
        let queue = Arc::new(RunQueue::new(sched.wake_handle()));
        let inbox = Arc::new(crate::group::Inbox::new(TaskWaker::new(
            TaskId::INBOX,
            queue.clone(),
        )));
        Rc::new(Reactor {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            inbox,
            group: RefCell::new(None),
            sched: RefCell::new(sched),
            fds: RefCell::new(FdTable::default()),
            timers: RefCell::new(Timers::default()),
            deadlines: RefCell::new(BTreeMap::new()),
            tasks: RefCell::new(TaskSlab::default()),
            runnable: RefCell::new(VecDeque::new()),
            queue,
            events: RefCell::new(Vec::with_capacity(8)),
            current_task: Cell::new(None),
            budget: Cell::new(crate::turn::IO_BUDGET),
            counters: Counters::default(),
            label,
            trace_now: Cell::new(Instant::ZERO),
        })
    }

    /// The scheduler's clock.
    pub(crate) fn now(&self) -> Instant {
        self.sched.borrow().now()
    }

    /// Runs `f` against the scheduler.
    pub(crate) fn with_sched<T>(&self, f: impl FnOnce(&mut dyn Scheduler) -> T) -> T {
        f(&mut **self.sched.borrow_mut())
    }

    /// Spawns `fut` as a task of this reactor; it runs in a later step of the current turn (or
    /// the next turn).
    pub(crate) fn spawn<F>(self: &Rc<Self>, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let cell = crate::task::join_cell();
        let id = self.tasks.borrow_mut().reserve();
        let flag = TaskWaker::new(id, self.queue.clone());
        let task = Task {
            future: Box::pin(crate::task::wrap(fut, cell.clone())),
            waker: Waker::from(flag.clone()),
            flag,
        };
        task.waker.wake_by_ref();
        self.tasks.borrow_mut().fill(id, task);
        Counters::bump(&self.counters.tasks_spawned);
        trace::event!("doppel::task", "spawn", task = id.number());
        JoinHandle::new(id, cell, Rc::downgrade(self))
    }

    /// A handle other reactors and threads use to send this one jobs.
    pub(crate) fn remote(&self) -> crate::group::Remote {
        crate::group::Remote {
            inbox: self.inbox.clone(),
        }
    }

    /// The group this reactor belongs to, with its index there.
    pub(crate) fn group(&self) -> Option<(Arc<crate::group::Group>, usize)> {
        self.group.borrow().clone()
    }

    /// Makes this reactor number `index` of `group`.
    pub(crate) fn join_group(&self, group: Arc<crate::group::Group>, index: usize) {
        *self.group.borrow_mut() = Some((group, index));
    }

    /// Runs every job waiting in the inbox, in arrival order, with this reactor current.
    pub(crate) fn run_inbox(self: &Rc<Self>) {
        for job in self.inbox.take() {
            job();
        }
    }

    /// Aborts a task (see [`JoinHandle::abort`]).
    pub(crate) fn abort(self: &Rc<Self>, id: TaskId) {
        trace::event!("doppel::task", "abort", task = id.number());
        let aborted = self.tasks.borrow_mut().abort(id);
        if let Aborted::Now(task) = aborted {
            context::enter(self, || drop(task));
        }
    }

    /// Drops every task (runtime shutdown), inside the reactor's context so their destructors can
    /// close sockets. Bounded: a destructor that spawns gets its task dropped in the next round,
    /// and after 64 rounds the rest are left to leak rather than loop forever.
    pub(crate) fn shutdown(self: &Rc<Self>) {
        let unrun = self.inbox.close();
        context::enter(self, || drop(unrun));
        self.group.borrow_mut().take();
        for _ in 0..64 {
            let tasks = self.tasks.borrow_mut().drain();
            if tasks.is_empty() {
                break;
            }
            context::enter(self, || drop(tasks));
        }
        self.runnable.borrow_mut().clear();
        let timers = std::mem::take(&mut *self.timers.borrow_mut());
        drop(timers);
        self.deadlines.borrow_mut().clear();
    }

    /// Registers `fd` and returns its pollDesc.
    pub(crate) fn register(&self, fd: Fd) -> io::Result<PdRef> {
        let pd = self.fds.borrow_mut().insert(fd);
        let token = pd.borrow().token;
        trace::event!("doppel::poll", "register", fd = fd.0, token = token.0);
        if let Err(e) = self.with_sched(|s| s.register(fd, token)) {
            self.fds.borrow_mut().remove(token);
            return Err(e);
        }
        Ok(pd)
    }

    /// Closes a registered descriptor: marks it closed, retires its token (so late events and
    /// timers are stale), wakes both waiters so they fail at once (Go's `pollUnblock`), cancels
    /// its deadlines, and closes the fd. Closing removes the fd from the poller, so no separate
    /// deregister call is made. An interrupted close has closed the fd (Linux guarantees it,
    /// and retrying could close a descriptor another thread just opened): never retried.
    pub(crate) fn close(&self, pd: &PdRef) -> io::Result<()> {
        let (fd, wakers) = self.retire(pd);
        let closed = self.with_sched(|s| s.close(fd));
        trace::event!(
            "doppel::net",
            "close",
            fd = fd.0,
            errno = closed.as_ref().err().map_or(0, trace::errno_of)
        );
        let closed = match closed {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            other => other,
        };
        for w in wakers.into_iter().flatten() {
            w.wake();
        }
        closed
    }

    /// Takes a registered descriptor away from this reactor without closing it, for another
    /// reactor to attach: marks it closed here (so its waiters fail and its `Registration`'s
    /// drop does nothing), retires its token, cancels its deadlines and deregisters it. If the
    /// poller refuses to let go, the descriptor is closed and the error returned.
    pub(crate) fn detach(&self, pd: &PdRef) -> io::Result<Fd> {
        let (fd, wakers) = self.retire(pd);
        let out = self.with_sched(|s| s.deregister(fd));
        trace::event!("doppel::net", "detach", fd = fd.0);
        for w in wakers.into_iter().flatten() {
            w.wake();
        }
        match out {
            Ok(()) => Ok(fd),
            Err(e) => {
                let _ = self.with_sched(|s| s.close(fd));
                Err(e)
            }
        }
    }

    /// What closing and detaching share: marks the pollDesc closed, cancels its deadlines and
    /// retires its token (so late events and timers are stale). Returns the descriptor and the
    /// waiters to wake once the descriptor has been dealt with.
    fn retire(&self, pd: &PdRef) -> (Fd, [Option<Waker>; 2]) {
        let (fd, token, wakers) = {
            let mut p = pd.borrow_mut();
            p.closed = true;
            let wakers = [p.read.close(), p.write.close()];
            (p.fd, p.token, wakers)
        };
        for dir in [Direction::Read, Direction::Write] {
            self.disarm_deadline(token, dir);
        }
        self.fds.borrow_mut().remove(token);
        (fd, wakers)
    }

    /// Cancels the armed deadline of a slot, if any.
    fn disarm_deadline(&self, token: Token, dir: Direction) {
        let removed = self.deadlines.borrow_mut().remove(&(token, dir));
        if let Some(key) = removed {
            self.timers.borrow_mut().remove(key);
        }
    }

    /// Sets (or, with `None`, clears) the absolute deadline of one slot. A deadline at or before
    /// now expires at once, failing even an operation whose data is ready (Go's semantics).
    pub(crate) fn set_deadline(
        &self,
        pd: &PdRef,
        dir: Direction,
        deadline: Option<Instant>,
    ) -> io::Result<()> {
        let (token, fd) = {
            let p = pd.borrow();
            (p.token, p.fd)
        };
        self.disarm_deadline(token, dir);
        pd.borrow_mut().slot(dir).clear_expiry();
        let at = deadline.map_or(-1, |d| d.as_nanos() as i64);
        trace::event!(
            "doppel::time",
            "deadline",
            fd = fd.0,
            dir = dir as u8,
            at_ns = at
        );
        match deadline {
            None => {}
            Some(d) if d <= self.now() => self.expire_slot(pd, dir),
            Some(d) => {
                let key = self
                    .timers
                    .borrow_mut()
                    .insert(d, TimerEntry::Deadline { token, dir });
                self.deadlines.borrow_mut().insert((token, dir), key);
            }
        }
        Ok(())
    }

    /// A deadline timer fired: expire its slot, unless the timer is stale (its deadline was
    /// moved or cleared, or its descriptor closed and perhaps reused).
    pub(crate) fn fire_deadline(&self, key: TimerKey, token: Token, dir: Direction) {
        let current = {
            let mut armed = self.deadlines.borrow_mut();
            let current = armed.get(&(token, dir)) == Some(&key);
            if current {
                armed.remove(&(token, dir));
            }
            current
        };
        let pd = self.fds.borrow().get(token).cloned();
        match pd {
            Some(pd) if current => self.expire_slot(&pd, dir),
            _ => {
                trace::event!(
                    "doppel::time",
                    "stale_deadline",
                    token = token.0,
                    dir = dir as u8
                );
                Counters::bump(&self.counters.stale_timers)
            }
        }
    }

    /// Marks a slot's deadline as passed and wakes the task parked on it.
    fn expire_slot(&self, pd: &PdRef, dir: Direction) {
        Counters::bump(&self.counters.deadlines_expired);
        trace::event!(
            "doppel::time",
            "expired",
            fd = pd.borrow().fd.0,
            dir = dir as u8
        );
        let waker = {
            let mut p = pd.borrow_mut();
            let slot = p.slot(dir);
            if slot.expire() {
                slot.take_waker()
            } else {
                None
            }
        };
        if let Some(w) = waker {
            w.wake_by_ref();
            pd.borrow_mut().slot(dir).return_waker(w);
        }
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
