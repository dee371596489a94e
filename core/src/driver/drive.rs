//! What a backend does to a runtime it hosts: build it with a label, step it one turn at a
//! time, ask what it waits for, and place it in a group of reactors. Server code never needs
//! these; the real backend's `runtime`/`multi` and the simulator's world do.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::instant::Instant;
use super::ready::Direction;
use super::scheduler::Scheduler;
use super::stamp::Label;
use super::turn::Turn;
use crate::group::inbox::Remote;
use crate::group::Group;
use crate::runtime::Runtime;

/// A runtime over `sched` whose trace events carry `label` (host name, reactor number, and
/// whether to print the clock).
pub fn runtime(sched: Box<dyn Scheduler>, label: Label) -> Runtime {
    Runtime::labelled(sched, label)
}

/// The operations a backend performs on a [`Runtime`] it hosts (implemented by `Runtime`; in
/// scope with `use doppel_core::driver::Drive`).
pub trait Drive {
    /// Runs one turn: runnable tasks, due timers, one poll. The simulator steps reactors with
    /// this; a poll blocks only when nothing is runnable, and only until the next timer.
    ///
    /// # Panics
    /// If called from inside one of this runtime's tasks (a nested turn would lose wakes).
    fn turn(&self) -> Turn;

    /// Whether a task is waiting to run (the simulator's world uses this to pick a reactor).
    fn has_runnable(&self) -> bool;

    /// The earliest pending timer, if any (the simulator advances its clock to it).
    fn next_timer(&self) -> Option<Instant>;

    /// A handle any thread may use to send this runtime's reactor jobs.
    fn remote(&self) -> Remote;

    /// Makes this runtime's reactor number `index` of `group` (a backend building a
    /// multi-reactor runtime calls this for the reactors it holds; see [`crate::group`]).
    fn join_group(&self, group: Arc<Group>, index: usize);

    /// How many tasks are alive.
    fn tasks(&self) -> usize;

    /// How many descriptors are registered.
    fn registered(&self) -> usize;

    /// Every live task with what it waits on, for stall reports: `t3 waits read fd=7`, or
    /// `t4 waits (timer, channel or join)` for a task parked on anything else.
    fn blocked(&self) -> Vec<String>;
}

impl Drive for Runtime {
    fn turn(&self) -> Turn {
        let r = self.reactor();
        assert!(
            r.exec.current_task.get().is_none(),
            "doppel: Drive::turn called from inside one of the runtime's own tasks"
        );
        r.turn(None)
    }

    #[inline]
    fn has_runnable(&self) -> bool {
        self.reactor().exec.has_runnable()
    }

    fn next_timer(&self) -> Option<Instant> {
        self.reactor().timers.borrow().next_deadline()
    }

    fn remote(&self) -> Remote {
        self.reactor().members.remote()
    }

    fn join_group(&self, group: Arc<Group>, index: usize) {
        self.reactor().members.join(group, index);
    }

    fn tasks(&self) -> usize {
        self.reactor().exec.tasks.borrow().len()
    }

    fn registered(&self) -> usize {
        self.reactor().io.fds.borrow().len()
    }

    fn blocked(&self) -> Vec<String> {
        let r = self.reactor();
        let mut waits: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        for pd in r.io.fds.borrow().iter() {
            let mut p = pd.borrow_mut();
            let fd = p.fd;
            for dir in [Direction::Read, Direction::Write] {
                if let Some(owner) = p.slot(dir).waiter() {
                    waits.entry(owner).or_default().push(format!("{dir} {fd}"));
                }
            }
        }
        let mut out = Vec::new();
        for id in r.exec.tasks.borrow().ids() {
            match waits.remove(&id.number()) {
                Some(on) => out.push(format!("{id} waits {}", on.join(", "))),
                None => out.push(format!("{id} waits (timer, channel or join)")),
            }
        }
        for (owner, on) in waits {
            let who = if owner == u64::MAX {
                "-".to_string()
            } else {
                format!("t{owner}")
            };
            out.push(format!("{who} waits {}", on.join(", ")));
        }
        if let Some(t) = self.next_timer() {
            out.push(format!("next timer at {t}"));
        }
        out
    }
}
