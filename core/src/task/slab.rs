//! `TaskSlab`: the reactor's tasks, addressed by slot, with spawn numbers that reject stale ids.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Waker;

use super::queue::TaskWaker;
use crate::driver::task_id::TaskId;

/// A spawned task: its future and its waker.
pub(crate) struct Task {
    /// The future, boxed once at spawn (never per poll).
    pub(crate) future: Pin<Box<dyn Future<Output = ()>>>,
    /// The waker handed to the future, built once at spawn.
    pub(crate) waker: Waker,
    /// The same waker's state, to clear its queued flag before each poll.
    pub(crate) flag: Arc<TaskWaker>,
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task").finish_non_exhaustive()
    }
}

/// One slab slot. The task is taken out while it is polled (so the poll can spawn, abort or
/// drop other tasks) and put back after; `running` and `aborted` track that window.
#[derive(Debug, Default)]
struct Entry {
    /// The spawn number of the task in this slot; 0 when vacant.
    number: u64,
    /// The task, when it is idle (not being polled).
    task: Option<Task>,
    /// Being polled right now.
    running: bool,
    /// Aborted while being polled: drop it instead of putting it back.
    aborted: bool,
}

/// Outcome of aborting a task.
#[derive(Debug)]
pub(crate) enum Aborted {
    /// The task was idle: here it is, for the caller to drop outside any borrow.
    Now(Task),
    /// The task is being polled; it is dropped when its poll returns.
    AfterPoll,
    /// The task has already finished.
    Gone,
}

/// The tasks of one reactor.
#[derive(Debug, Default)]
pub(crate) struct TaskSlab {
    /// The slab.
    slots: Vec<Entry>,
    /// Free slots, reused last-freed-first.
    free: Vec<u32>,
    /// Live tasks (idle or running).
    live: usize,
    /// The last spawn number handed out (0 is the `block_on` future).
    next_number: u64,
}

impl TaskSlab {
    /// Reserves an id for a task about to be spawned.
    pub(crate) fn reserve(&mut self) -> TaskId {
        self.next_number += 1;
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(Entry::default());
            u32::try_from(self.slots.len() - 1).expect("doppel: more than 2^32 live tasks")
        });
        let e = &mut self.slots[slot as usize];
        *e = Entry {
            number: self.next_number,
            task: None,
            running: true,
            aborted: false,
        };
        self.live += 1;
        TaskId::new(slot, self.next_number)
    }

    /// Fills a reserved id with its task.
    pub(crate) fn fill(&mut self, id: TaskId, task: Task) {
        let e = &mut self.slots[id.slot() as usize];
        assert!(
            e.number == id.number() && e.running,
            "doppel: fill of unreserved task {id}"
        );
        e.running = false;
        e.task = Some(task);
    }

    /// The live entry `id` names, if it is not stale.
    #[inline]
    fn entry(&mut self, id: TaskId) -> Option<&mut Entry> {
        self.slots
            .get_mut(id.slot() as usize)
            .filter(|e| e.number == id.number())
    }

    /// Takes a task out to poll it; `None` if the id is stale (finished, or its slot reused).
    #[inline]
    pub(crate) fn take(&mut self, id: TaskId) -> Option<Task> {
        let e = self.entry(id)?;
        let task = e.task.take()?;
        e.running = true;
        Some(task)
    }

    /// Returns a polled, unfinished task; hands it back if it was aborted during the poll.
    #[inline]
    pub(crate) fn put_back(&mut self, id: TaskId, task: Task) -> Option<Task> {
        let e = &mut self.slots[id.slot() as usize];
        debug_assert!(
            e.running && e.number == id.number(),
            "doppel: task {id} put back while not running"
        );
        if e.aborted {
            self.release(id);
            return Some(task);
        }
        e.running = false;
        e.task = Some(task);
        None
    }

    /// Frees the slot of a task that finished (or was aborted while running).
    pub(crate) fn release(&mut self, id: TaskId) {
        self.slots[id.slot() as usize] = Entry::default();
        self.free.push(id.slot());
        self.live -= 1;
    }

    /// Aborts a task.
    pub(crate) fn abort(&mut self, id: TaskId) -> Aborted {
        let Some(e) = self.entry(id) else {
            return Aborted::Gone;
        };
        if e.running {
            e.aborted = true;
            return Aborted::AfterPoll;
        }
        let task = e.task.take().expect("doppel: an idle task has its future");
        self.release(id);
        Aborted::Now(task)
    }

    /// Removes every idle task (runtime shutdown); the caller drops them outside any borrow.
    pub(crate) fn drain(&mut self) -> Vec<Task> {
        let mut out = Vec::new();
        for i in 0..self.slots.len() {
            let e = &mut self.slots[i];
            if e.number != 0 && !e.running {
                if let Some(task) = e.task.take() {
                    *e = Entry::default();
                    self.free.push(i as u32);
                    self.live -= 1;
                    out.push(task);
                }
            }
        }
        out
    }

    /// How many tasks are alive.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// The ids of every live task, by spawn number (for stall reports).
    pub(crate) fn ids(&self) -> Vec<TaskId> {
        let mut ids: Vec<TaskId> = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, e)| e.number != 0)
            .map(|(i, e)| TaskId::new(i as u32, e.number))
            .collect();
        ids.sort_by_key(|t| t.number());
        ids
    }
}
