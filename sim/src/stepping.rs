//! The driver's state of what can make progress: a ready set with O(1) insert, remove and
//! seeded pick, an index of reactor timers in deadline order, and the choice of reactor. Neither
//! is ever scanned whole per step. The world only rings (`World::woken`); the driver files.

use std::collections::BTreeSet;

use doppel_core::time::Instant;

use crate::sched::ReactorPicker;

/// What the driver chooses the next step from: which reactors may have work, when each one's
/// next timer falls due, and the seeded choice among the ready ones. (The choice of a task
/// within a reactor answers that reactor's `Scheduler::pick`, so it is the pollers', in the
/// world.)
#[derive(Debug)]
pub(crate) struct Stepping {
    /// Reactors that may have work now.
    pub(crate) ready: ReadySet,
    /// Each reactor's next timer, and the index of them in order.
    pub(crate) timers: TimerIndex,
    /// Chooses which ready reactor steps next.
    pub(crate) picker: ReactorPicker,
}

impl Stepping {
    /// Files the reactors the world rang since the driver last looked. Called before any other
    /// change to the ready set or pick from it, so the set's order is the order things happened
    /// in, as if the world had filed them itself.
    #[inline]
    pub(crate) fn file_woken(&mut self, woken: &mut Vec<usize>) {
        if woken.is_empty() {
            return;
        }
        for &r in woken.iter() {
            self.ready.insert(r);
        }
        woken.clear();
    }

    /// Takes reactor `r` off the ready set, and clears the world's note that it was rung
    /// (`listed`), so the world rings again on its next event.
    #[inline]
    pub(crate) fn unlist(&mut self, r: usize, listed: &mut bool) {
        self.ready.remove(r);
        *listed = false;
    }
}

/// Reactors that may have work now (events queued, tasks runnable, a timer due).
#[derive(Debug, Default)]
pub(crate) struct ReadySet {
    /// The members, in an order that depends only on the run's history.
    items: Vec<usize>,
    /// Each reactor's position in `items`, if a member.
    pos: Vec<Option<u32>>,
}

impl ReadySet {
    /// Adds a reactor (idempotent).
    pub(crate) fn insert(&mut self, r: usize) {
        if self.pos.len() <= r {
            self.pos.resize(r + 1, None);
        }
        if self.pos[r].is_none() {
            self.pos[r] = Some(self.items.len() as u32);
            self.items.push(r);
        }
    }

    /// Removes a reactor (idempotent).
    pub(crate) fn remove(&mut self, r: usize) {
        let Some(Some(i)) = self.pos.get(r).copied() else {
            return;
        };
        self.pos[r] = None;
        let last = self.items.pop().expect("a member exists");
        if last != r {
            self.items[i as usize] = last;
            self.pos[last] = Some(i);
        }
    }

    /// The member at index `i` (`i < len`).
    pub(crate) fn nth(&self, i: usize) -> usize {
        self.items[i]
    }

    /// How many members.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether `r` is a member.
    #[cfg(test)]
    pub(crate) fn contains(&self, r: usize) -> bool {
        self.pos.get(r).is_some_and(Option::is_some)
    }
}

/// Each reactor's next timer, indexed by deadline.
#[derive(Debug, Default)]
pub(crate) struct TimerIndex {
    /// Per reactor.
    next: Vec<Option<Instant>>,
    /// `(deadline, reactor)` for every reactor with a timer.
    order: BTreeSet<(Instant, usize)>,
}

impl TimerIndex {
    /// Records reactor `r`'s next timer.
    pub(crate) fn set(&mut self, r: usize, at: Option<Instant>) {
        if self.next.len() <= r {
            self.next.resize(r + 1, None);
        }
        if self.next[r] == at {
            return;
        }
        if let Some(old) = self.next[r] {
            self.order.remove(&(old, r));
        }
        if let Some(new) = at {
            self.order.insert((new, r));
        }
        self.next[r] = at;
    }

    /// The earliest timer of any reactor.
    pub(crate) fn first(&self) -> Option<Instant> {
        self.order.first().map(|&(t, _)| t)
    }

    /// Reactors whose timer is due at `now`.
    pub(crate) fn due(&self, now: Instant) -> impl Iterator<Item = usize> + '_ {
        self.order
            .iter()
            .take_while(move |&&(t, _)| t <= now)
            .map(|&(_, r)| r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_set_insert_remove_pick() {
        let mut s = ReadySet::default();
        s.insert(3);
        s.insert(1);
        s.insert(3);
        assert_eq!(s.len(), 2);
        s.remove(3);
        assert_eq!((s.len(), s.nth(0)), (1, 1));
        assert!(!s.contains(3) && s.contains(1));
        s.remove(1);
        s.remove(1);
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn timer_index_orders_and_replaces() {
        let mut t = TimerIndex::default();
        t.set(0, Some(Instant::from_nanos(50)));
        t.set(1, Some(Instant::from_nanos(10)));
        t.set(0, Some(Instant::from_nanos(5)));
        assert_eq!(t.first(), Some(Instant::from_nanos(5)));
        assert_eq!(
            t.due(Instant::from_nanos(10)).collect::<Vec<_>>(),
            vec![0, 1]
        );
        t.set(0, None);
        assert_eq!(t.first(), Some(Instant::from_nanos(10)));
    }
}
