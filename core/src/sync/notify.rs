//! `Notify`: wakes one waiting task (or stores one permit if none waits), or every waiting
//! task. For "something changed, look again" between reactors.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::Mutex;
use std::task::{Poll, Waker};

use super::lock::lock;

/// The shared state.
#[derive(Default)]
struct State {
    /// A notify_one with nobody waiting, kept for the next `notified`.
    permit: bool,
    /// Waiting tasks, first come first served, each with its ticket.
    waiters: VecDeque<(u64, Waker)>,
    /// Tickets handed to woken waiters, not yet collected, each with whether the wake came
    /// from `notify_one` (only those are passed on when their waiter gives up).
    woken: Vec<(u64, bool)>,
    /// The next ticket.
    next: u64,
}

/// Wakes tasks that wait for it.
#[derive(Default)]
pub struct Notify {
    state: Mutex<State>,
}

impl std::fmt::Debug for Notify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notify").finish_non_exhaustive()
    }
}

impl Notify {
    /// A notify with no permit and no waiters.
    pub fn new() -> Notify {
        Notify::default()
    }

    /// Wakes the longest-waiting task, or stores a permit for the next one to wait.
    pub fn notify_one(&self) {
        let waker = {
            let mut s = lock(&self.state);
            match s.waiters.pop_front() {
                Some((t, w)) => {
                    s.woken.push((t, true));
                    Some(w)
                }
                None => {
                    s.permit = true;
                    None
                }
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Wakes every task waiting now (stores no permit).
    pub fn notify_waiters(&self) {
        let waiting: Vec<Waker> = {
            let mut s = lock(&self.state);
            let all: Vec<(u64, Waker)> = s.waiters.drain(..).collect();
            s.woken.extend(all.iter().map(|(t, _)| (*t, false)));
            all.into_iter().map(|(_, w)| w).collect()
        };
        for w in waiting {
            w.wake();
        }
    }

    /// Waits for a notification (takes a stored permit at once). The waiter registers on its
    /// first poll: a `notify_waiters` before that is not seen (a `notify_one` is, as a permit),
    /// so check the condition you wait for after registering, in a loop.
    pub async fn notified(&self) {
        let mut ticket: Option<u64> = None;
        let mut guard = Unwait {
            notify: self,
            ticket: None,
        };
        poll_fn(|cx| {
            let mut s = lock(&self.state);
            if let Some(t) = ticket {
                if let Some(i) = s.woken.iter().position(|w| w.0 == t) {
                    s.woken.swap_remove(i);
                    guard.ticket = None;
                    return Poll::Ready(());
                }
                if let Some(e) = s.waiters.iter_mut().find(|(w, _)| *w == t) {
                    e.1 = cx.waker().clone();
                }
                return Poll::Pending;
            }
            if std::mem::take(&mut s.permit) {
                return Poll::Ready(());
            }
            let t = s.next;
            s.next += 1;
            s.waiters.push_back((t, cx.waker().clone()));
            ticket = Some(t);
            guard.ticket = Some(t);
            Poll::Pending
        })
        .await;
    }
}

/// Takes a waiter out of the queue if its `notified` is dropped before it is woken, and hands
/// a `notify_one` it received but never collected to the next waiter (a `notify_waiters` wake
/// is not passed on: it stores no permit).
struct Unwait<'a> {
    notify: &'a Notify,
    /// The ticket still registered.
    ticket: Option<u64>,
}

impl Drop for Unwait<'_> {
    fn drop(&mut self) {
        let Some(t) = self.ticket else { return };
        let mut s = lock(&self.notify.state);
        s.waiters.retain(|(w, _)| *w != t);
        if let Some(i) = s.woken.iter().position(|w| w.0 == t) {
            let (_, from_one) = s.woken.swap_remove(i);
            drop(s);
            if from_one {
                self.notify.notify_one();
            }
        }
    }
}
