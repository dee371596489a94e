//! Per-socket deadlines (Go's `SetReadDeadline` / `SetWriteDeadline`): which timer is armed for
//! which pollDesc slot, and what happens when one fires.
//!
//! Kept out of the pollDesc because few sockets use deadlines and every socket pays for
//! pollDesc bytes. A timer names its slot by token, so a deadline of a closed (and perhaps
//! reused) descriptor fires into nothing.

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::timers::{TimerEntry, TimerKey, Timers};
use crate::driver::fd::Token;
use crate::driver::instant::Instant;
use crate::driver::ready::Direction;
use crate::fd::table::{FdTable, PdRef};
use crate::stats::Counters;
use crate::trace;

/// The armed deadline timer of each slot that has one.
#[derive(Default)]
pub(crate) struct Deadlines {
    armed: RefCell<BTreeMap<(Token, Direction), TimerKey>>,
}

impl Deadlines {
    /// Cancels the armed deadline of a slot, if any.
    pub(crate) fn disarm(&self, timers: &RefCell<Timers>, token: Token, dir: Direction) {
        let removed = self.armed.borrow_mut().remove(&(token, dir));
        if let Some(key) = removed {
            timers.borrow_mut().remove(key);
        }
    }

    /// Sets (or, with `None`, clears) the absolute deadline of one slot. A deadline at or before
    /// now expires at once, failing even an operation whose data is ready (Go's semantics).
    pub(crate) fn set(
        &self,
        timers: &RefCell<Timers>,
        now: impl FnOnce() -> Instant,
        pd: &PdRef,
        dir: Direction,
        deadline: Option<Instant>,
        counters: &Counters,
    ) {
        let (token, fd) = {
            let p = pd.borrow();
            (p.token, p.fd)
        };
        self.disarm(timers, token, dir);
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
            Some(d) if d <= now() => expire_slot(pd, dir, counters),
            Some(d) => {
                let key = timers
                    .borrow_mut()
                    .insert(d, TimerEntry::Deadline { token, dir });
                self.armed.borrow_mut().insert((token, dir), key);
            }
        }
    }

    /// A deadline timer fired: expire its slot, unless the timer is stale (its deadline was
    /// moved or cleared, or its descriptor closed and perhaps reused).
    pub(crate) fn fire(
        &self,
        fds: &RefCell<FdTable>,
        key: TimerKey,
        token: Token,
        dir: Direction,
        counters: &Counters,
    ) {
        let current = {
            let mut armed = self.armed.borrow_mut();
            let current = armed.get(&(token, dir)) == Some(&key);
            if current {
                armed.remove(&(token, dir));
            }
            current
        };
        let pd = fds.borrow().get(token).cloned();
        match pd {
            Some(pd) if current => expire_slot(&pd, dir, counters),
            _ => {
                trace::event!(
                    "doppel::time",
                    "stale_deadline",
                    token = token.0,
                    dir = dir as u8
                );
                Counters::bump(&counters.stale_timers)
            }
        }
    }

    /// Forgets every armed deadline (runtime shutdown).
    pub(crate) fn clear(&self) {
        self.armed.borrow_mut().clear();
    }
}

/// Marks a slot's deadline as passed and wakes the task parked on it.
fn expire_slot(pd: &PdRef, dir: Direction, counters: &Counters) {
    Counters::bump(&counters.deadlines_expired);
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
