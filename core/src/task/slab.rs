//! `TaskSlab`: the reactor's tasks, addressed by slot, with spawn numbers that reject stale ids.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Waker;

use super::queue::TaskWaker;
use super::TaskId;

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

/// What a slot holds.
#[derive(Debug)]
enum Slot {
    /// Free.
    Vacant,
    /// A task waiting to be polled.
    Idle(u64, Task),
    /// A task taken out to be polled; `true` once it has been aborted meanwhile, so it is
    /// dropped instead of put back.
    Running(u64, bool),
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
    slots: Vec<Slot>,
    /// Free slots, reused last-freed-first.
    free: Vec<u32>,
    /// Live tasks (idle or running).
    live: usize,
    /// The next spawn number (0 is the `block_on` future).
    next_number: u64,
}

impl TaskSlab {
    /// Reserves an id for a task about to be spawned.
    pub(crate) fn reserve(&mut self) -> TaskId {
        self.next_number += 1;
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(Slot::Vacant);
            u32::try_from(self.slots.len() - 1).expect("doppel: more than 2^32 live tasks")
        });
        self.slots[slot as usize] = Slot::Running(self.next_number, false);
        self.live += 1;
        TaskId::new(slot, self.next_number)
    }

    /// Fills a reserved id with its task.
    pub(crate) fn fill(&mut self, id: TaskId, task: Task) {
        let slot = &mut self.slots[id.slot() as usize];
        assert!(
            matches!(slot, Slot::Running(n, false) if *n == id.number()),
            "doppel: fill of unreserved task {id}"
        );
        *slot = Slot::Idle(id.number(), task);
    }

    /// Takes a task out to poll it; `None` if the id is stale (finished, or its slot reused).
    pub(crate) fn take(&mut self, id: TaskId) -> Option<Task> {
        let slot = self.slots.get_mut(id.slot() as usize)?;
        match std::mem::replace(slot, Slot::Vacant) {
            Slot::Idle(n, task) if n == id.number() => {
                *slot = Slot::Running(n, false);
                Some(task)
            }
            other => {
                *slot = other;
                None
            }
        }
    }

    /// Returns a polled, unfinished task; hands it back if it was aborted during the poll.
    pub(crate) fn put_back(&mut self, id: TaskId, task: Task) -> Option<Task> {
        let slot = &mut self.slots[id.slot() as usize];
        match slot {
            Slot::Running(_, false) => {
                *slot = Slot::Idle(id.number(), task);
                None
            }
            Slot::Running(_, true) => {
                self.release(id);
                Some(task)
            }
            _ => unreachable!("doppel: task {id} put back while not running"),
        }
    }

    /// Frees the slot of a task that finished (or was aborted while running).
    pub(crate) fn release(&mut self, id: TaskId) {
        self.slots[id.slot() as usize] = Slot::Vacant;
        self.free.push(id.slot());
        self.live -= 1;
    }

    /// Aborts a task.
    pub(crate) fn abort(&mut self, id: TaskId) -> Aborted {
        let Some(slot) = self.slots.get_mut(id.slot() as usize) else {
            return Aborted::Gone;
        };
        match slot {
            Slot::Idle(n, _) if *n == id.number() => {
                let Slot::Idle(_, task) = std::mem::replace(slot, Slot::Vacant) else {
                    unreachable!()
                };
                self.free.push(id.slot());
                self.live -= 1;
                Aborted::Now(task)
            }
            Slot::Running(n, aborted) if *n == id.number() => {
                *aborted = true;
                Aborted::AfterPoll
            }
            _ => Aborted::Gone,
        }
    }

    /// Removes every idle task (runtime shutdown); the caller drops them outside any borrow.
    pub(crate) fn drain(&mut self) -> Vec<Task> {
        let mut out = Vec::new();
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if let Slot::Idle(..) = slot {
                let Slot::Idle(_, task) = std::mem::replace(slot, Slot::Vacant) else {
                    unreachable!()
                };
                self.free.push(i as u32);
                self.live -= 1;
                out.push(task);
            }
        }
        out
    }

    /// How many tasks are alive.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// The ids of every live task, in slot order (for stall reports).
    pub(crate) fn ids(&self) -> Vec<TaskId> {
        let mut ids: Vec<TaskId> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                Slot::Idle(n, _) | Slot::Running(n, _) => Some(TaskId::new(i as u32, *n)),
                Slot::Vacant => None,
            })
            .collect();
        ids.sort_by_key(|t| t.number());
        ids
    }
}
