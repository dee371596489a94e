//! Groups of reactors: Go's netpoll answered by the master-slave reactor. A main reactor
//! accepts; sub-reactors each own their connections' readiness on their own poller; worker
//! reactors run CPU-bound closures. On the real backend each reactor is an OS thread; in the
//! simulator each is a simulated thread, and the world's seeded choice of which steps next
//! decides every race between them.
//!
//! | file        | what                                                                  |
//! |-------------|-----------------------------------------------------------------------|
//! | `config`    | [`GroupConfig`]: how many of each, the limits, [`Placement`]           |
//! | `inbox`     | [`Remote`]: sends a reactor [`Job`]s from anywhere                     |
//! | `api`       | `doppel::reactors`: `spawn_on`, `run_blocking`, `count`, `index`       |
//!
//! A backend builds the reactors, collects their [`Remote`]s into a [`Group`], and joins each
//! reactor to it ([`crate::driver::Drive::join_group`], or a job that does it on the reactor's thread).

pub(crate) mod api;
mod config;
pub(crate) mod inbox;
pub(crate) mod membership;

use std::io;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

pub use config::{GroupConfig, Placement, MAX_SPIN_POLLS};
pub use inbox::{Job, Remote};

use crate::sync::Semaphore;

/// The reactors of one multi-reactor runtime, shared by all of them.
pub struct Group {
    /// The shape and limits.
    config: GroupConfig,
    /// Every reactor: 0 the main one, then the sub-reactors, then the workers.
    reactors: Vec<Remote>,
    /// Live connections on each sub-reactor (indexed from the first sub-reactor).
    load: Vec<AtomicUsize>,
    /// Live connections in all.
    live: AtomicUsize,
    /// Round-robin cursors.
    next_sub: AtomicUsize,
    /// Round-robin cursor over the workers.
    next_worker: AtomicUsize,
    /// Bounds CPU-bound work queued or running.
    pub(crate) worker_slots: Semaphore,
    /// Connections admitted and refused, since the start.
    admitted: AtomicU64,
    /// Connections refused at the limit.
    rejected: AtomicU64,
    /// Tasks that panicked on the group's other reactors (each reactor goes on).
    panicked: AtomicU64,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("config", &self.config)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// What a group's server has done, for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupStats {
    /// Connections live now.
    pub live: usize,
    /// Connections admitted since the start.
    pub admitted: u64,
    /// Connections refused at `max_connections`.
    pub rejected: u64,
    /// Tasks that panicked on a sub-reactor or worker; the task is gone, the reactor went on.
    pub panicked: u64,
}

impl Group {
    /// A group over `reactors` (main, sub-reactors, workers, in that order) shaped by `config`.
    pub fn new(config: GroupConfig, reactors: Vec<Remote>) -> io::Result<Arc<Group>> {
        config.validate()?;
        if reactors.len() != config.reactors() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a group of {} reactors needs {} remotes, got {}",
                    config.reactors(),
                    config.reactors(),
                    reactors.len()
                ),
            ));
        }
        Ok(Arc::new(Group {
            load: (0..config.sub_reactors)
                .map(|_| AtomicUsize::new(0))
                .collect(),
            live: AtomicUsize::new(0),
            next_sub: AtomicUsize::new(0),
            next_worker: AtomicUsize::new(0),
            worker_slots: Semaphore::new(config.worker_queue.max(1)),
            admitted: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            panicked: AtomicU64::new(0),
            config,
            reactors,
        }))
    }

    /// The shape and limits.
    pub fn config(&self) -> &GroupConfig {
        &self.config
    }

    /// How many reactors.
    pub fn len(&self) -> usize {
        self.reactors.len()
    }

    /// Never true: a group has at least its main reactor and one sub-reactor.
    pub fn is_empty(&self) -> bool {
        self.reactors.is_empty()
    }

    /// The reactor with index `i`.
    pub fn remote(&self, i: usize) -> Option<&Remote> {
        self.reactors.get(i)
    }

    /// The sub-reactors' indexes.
    pub fn sub_reactors(&self) -> Range<usize> {
        1..1 + self.config.sub_reactors
    }

    /// The workers' indexes.
    pub fn workers(&self) -> Range<usize> {
        let s = 1 + self.config.sub_reactors;
        s..s + self.config.workers
    }

    /// Joins every reactor to the group by sending each a job that does it on its own thread
    /// (for reactors the caller does not hold, such as other threads').
    pub fn install(self: &Arc<Self>) -> io::Result<()> {
        for (i, r) in self.reactors.iter().enumerate() {
            let g = self.clone();
            r.send(Box::new(move || api::join(g, i)))
                .map_err(|_| io::Error::other(format!("reactor {i} is gone")))?;
        }
        Ok(())
    }

    /// What the group's server has done.
    pub fn stats(&self) -> GroupStats {
        GroupStats {
            live: self.live.load(Ordering::Acquire),
            admitted: self.admitted.load(Ordering::Acquire),
            rejected: self.rejected.load(Ordering::Acquire),
            panicked: self.panicked.load(Ordering::Acquire),
        }
    }

    /// Counts a task that panicked on one of the group's reactors (a backend calls this when it
    /// keeps a reactor thread going after a panic).
    pub fn note_panic(&self) {
        self.panicked.fetch_add(1, Ordering::AcqRel);
    }

    /// Admits a connection if fewer than `max_connections` are live; counts either way.
    pub(crate) fn admit(&self) -> bool {
        if self.live.fetch_add(1, Ordering::AcqRel) >= self.config.max_connections {
            self.live.fetch_sub(1, Ordering::AcqRel);
            self.rejected.fetch_add(1, Ordering::AcqRel);
            return false;
        }
        self.admitted.fetch_add(1, Ordering::AcqRel);
        true
    }

    /// Picks the sub-reactor for a new connection and counts it there.
    pub(crate) fn place(&self) -> usize {
        let n = self.load.len();
        let k = match self.config.placement {
            Placement::RoundRobin => self.next_sub.fetch_add(1, Ordering::AcqRel) % n,
            Placement::LeastLoaded => (0..n)
                .min_by_key(|&k| self.load[k].load(Ordering::Acquire))
                .unwrap_or(0),
        };
        self.load[k].fetch_add(1, Ordering::AcqRel);
        1 + k
    }

    /// A connection on sub-reactor `reactor` ended.
    pub(crate) fn left(&self, reactor: usize) {
        if let Some(l) = reactor.checked_sub(1).and_then(|k| self.load.get(k)) {
            l.fetch_sub(1, Ordering::AcqRel);
        }
        self.live.fetch_sub(1, Ordering::AcqRel);
    }

    /// The next worker, round robin.
    pub(crate) fn next_worker(&self) -> Option<usize> {
        let w = self.workers();
        (!w.is_empty()).then(|| w.start + self.next_worker.fetch_add(1, Ordering::AcqRel) % w.len())
    }
}
