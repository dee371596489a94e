//! `TaskId`: how the core names a task to a backend's `pick`, to traces and to stall reports.

use std::fmt;

/// Names a task: its slab slot and its spawn number (unique within a reactor, never reused).
///
/// The spawn number is what traces print (`t3`), so a trace reads the same from run to run;
/// the slot makes lookup O(1); together they reject a stale wake aimed at a finished task
/// whose slot has been reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId {
    /// The slab slot.
    slot: u32,
    /// The spawn number: 0 for the `block_on` future, then 1, 2, 3, ...
    number: u64,
}

impl TaskId {
    /// The `block_on` future, which lives on the caller's stack rather than in the slab.
    pub const MAIN: TaskId = TaskId {
        slot: u32::MAX,
        number: 0,
    };

    /// The reactor's inbox of jobs from other reactors (see `group::Remote`): queued
    /// like a task when a job arrives, run at its turn in the queue.
    pub const INBOX: TaskId = TaskId {
        slot: u32::MAX - 1,
        number: u64::MAX,
    };

    /// Builds an id: the slab's job alone.
    pub(crate) const fn new(slot: u32, number: u64) -> TaskId {
        TaskId { slot, number }
    }

    /// The slab slot.
    pub fn slot(self) -> u32 {
        self.slot
    }

    /// The spawn number, stable across runs of one seed.
    pub fn number(self) -> u64 {
        self.number
    }

    /// Renders an optional task for messages: `t3`, or `-` outside any task.
    pub fn display(task: Option<TaskId>) -> String {
        task.map_or_else(|| "-".to_string(), |t| t.to_string())
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{}", self.number)
    }
}
