//! The reactor's timer queue: sleeps and fd deadlines, ordered by `(deadline, sequence)`.

use std::collections::BTreeMap;
use std::task::Waker;

use crate::driver::fd::Token;
use crate::driver::instant::Instant;
use crate::driver::ready::Direction;

/// Where a timer sits in the queue. The sequence number breaks ties, so two timers due at the
/// same instant always fire in the order they were set (async-io's `(Instant, usize)` key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerKey {
    /// When the timer is due.
    pub(crate) deadline: Instant,
    /// The reactor-wide order in which timers were set.
    pub(crate) seq: u64,
}

/// What happens when a timer fires.
#[derive(Debug)]
pub(crate) enum TimerEntry {
    /// A `sleep`: wake its task (the waker is filled on first poll).
    Wake(Option<Waker>),
    /// A read or write deadline of a pollDesc. The reactor keeps the key of the one armed
    /// deadline per `(token, direction)`; a timer whose key is not that one, or whose token's
    /// generation has moved on, is stale (Go's `rseq`/`wseq`) and is dropped.
    Deadline {
        /// The registration whose deadline this is.
        token: Token,
        /// Which of its slots.
        dir: Direction,
    },
}

/// The queue itself. Insertion, removal and "next due" are O(log n); firing is done by the
/// reactor, which pops due entries one at a time so no borrow is held while waking.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    /// Pending timers in firing order.
    queue: BTreeMap<TimerKey, TimerEntry>,
    /// The next tie-breaking sequence number (never reused, so a key also names one arming).
    next_seq: u64,
}

impl TimerKey {
    /// A key no timer has (a sleep that completed without arming one).
    pub(crate) const NONE: TimerKey = TimerKey {
        deadline: Instant::MAX,
        seq: u64::MAX,
    };
}

impl Timers {
    /// Adds a timer and returns its key (to cancel or re-arm it).
    pub(crate) fn insert(&mut self, deadline: Instant, entry: TimerEntry) -> TimerKey {
        let key = TimerKey {
            deadline,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        self.queue.insert(key, entry);
        key
    }

    /// Cancels a timer; a no-op if it already fired.
    pub(crate) fn remove(&mut self, key: TimerKey) {
        self.queue.remove(&key);
    }

    /// Whether the timer is still pending (false once fired or cancelled).
    pub(crate) fn contains(&self, key: TimerKey) -> bool {
        self.queue.contains_key(&key)
    }

    /// Stores the waker of a pending `sleep`; returns false if it already fired.
    pub(crate) fn set_waker(&mut self, key: TimerKey, waker: &Waker) -> bool {
        match self.queue.get_mut(&key) {
            Some(TimerEntry::Wake(slot)) => {
                match slot {
                    Some(w) if w.will_wake(waker) => {}
                    _ => *slot = Some(waker.clone()),
                }
                true
            }
            Some(TimerEntry::Deadline { .. }) => unreachable!("sleep key names a deadline timer"),
            None => false,
        }
    }

    /// The earliest pending deadline, which bounds how long the reactor may poll.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.queue.first_key_value().map(|(k, _)| k.deadline)
    }

    /// Removes and returns the earliest timer if it is due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(TimerKey, TimerEntry)> {
        let entry = self.queue.first_entry()?;
        if entry.key().deadline > now {
            return None;
        }
        Some(entry.remove_entry())
    }

    /// Whether no timer is pending (the reactor then skips reading the clock).
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// How many timers are pending.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ns: u64) -> Instant {
        Instant::from_nanos(ns)
    }

    #[test]
    fn ties_fire_in_insertion_order() {
        let mut t = Timers::default();
        let a = t.insert(at(10), TimerEntry::Wake(None));
        let b = t.insert(at(5), TimerEntry::Wake(None));
        let c = t.insert(at(10), TimerEntry::Wake(None));
        assert_eq!(t.next_deadline(), Some(at(5)));
        assert_eq!(t.pop_due(at(4)).map(|e| e.0), None);
        let order: Vec<_> = std::iter::from_fn(|| t.pop_due(at(10)).map(|e| e.0)).collect();
        assert_eq!(order, vec![b, a, c]);
        assert!(t.is_empty());
    }

    #[test]
    fn removed_timers_never_fire() {
        let mut t = Timers::default();
        let a = t.insert(at(1), TimerEntry::Wake(None));
        t.remove(a);
        assert!(!t.contains(a));
        assert!(t.pop_due(at(100)).is_none());
        assert_eq!(t.len(), 0);
    }
}
