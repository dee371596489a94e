//! A reactor's inbox: jobs sent to it from any thread (or any other simulated reactor), run at
//! the start of its next step with it current. Sending queues the job and wakes the reactor the
//! way a task wake does (the inbox has its own `TaskId::INBOX` in the run queue), so a reactor
//! blocked in `epoll_wait` is woken by its eventfd and a simulated one is marked ready. Nothing
//! crosses reactors per round trip: a connection handed to a sub-reactor lives there.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// How an inbox wakes its reactor: queues the inbox's turn on the run queue (`ring`), and
/// lets it be queued again once the reactor has taken the jobs (`reset`).
pub(crate) trait Doorbell: Send + Sync {
    /// Wakes the reactor, once until the next `reset`.
    fn ring(&self);
    /// The reactor is taking the jobs: the next send rings again.
    fn reset(&self);
}

/// Work for another reactor: runs once, on that reactor, with it current (so it may spawn
/// tasks, bind or attach sockets there).
pub type Job = Box<dyn FnOnce() + Send>;

/// The jobs waiting for a reactor.
pub(crate) struct Inbox {
    /// Queued jobs, in arrival order.
    jobs: Mutex<Vec<Job>>,
    /// Wakes the reactor: queues `TaskId::INBOX` on its run queue.
    bell: Arc<dyn Doorbell>,
    /// The reactor is gone: jobs are refused.
    closed: AtomicBool,
}

impl Inbox {
    /// An empty inbox waking its reactor through `bell`.
    pub(crate) fn new(bell: Arc<dyn Doorbell>) -> Inbox {
        Inbox {
            jobs: Mutex::new(Vec::new()),
            bell,
            closed: AtomicBool::new(false),
        }
    }

    /// Queues `job`; gives it back if the reactor is gone.
    pub(crate) fn send(&self, job: Job) -> Result<(), Job> {
        {
            let mut jobs = crate::sync::lock(&self.jobs);
            if self.closed.load(Ordering::Acquire) {
                return Err(job);
            }
            jobs.push(job);
        }
        self.bell.ring();
        Ok(())
    }

    /// Takes every queued job (the reactor runs them in order).
    pub(crate) fn take(&self) -> Vec<Job> {
        self.bell.reset();
        std::mem::take(&mut *crate::sync::lock(&self.jobs))
    }

    /// Refuses further jobs and returns the ones never run (dropping them cancels their
    /// callers' handles).
    pub(crate) fn close(&self) -> Vec<Job> {
        let mut jobs = crate::sync::lock(&self.jobs);
        self.closed.store(true, Ordering::Release);
        std::mem::take(&mut *jobs)
    }
}

/// A handle on a reactor that any thread may hold: sends it jobs.
#[derive(Clone)]
pub struct Remote {
    /// The reactor's inbox.
    pub(crate) inbox: Arc<Inbox>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote").finish_non_exhaustive()
    }
}

impl Remote {
    /// Sends `job` to run on the reactor; gives it back if the reactor is gone.
    pub fn send(&self, job: Job) -> Result<(), Job> {
        self.inbox.send(job)
    }
}
