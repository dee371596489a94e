//! A counting semaphore with first-come-first-served waiters: bounds how much work is in
//! flight (the worker pool's queue), so a full queue makes the submitter wait instead of
//! growing memory.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use super::lock::lock;

/// The shared state.
struct State {
    /// Permits free now.
    free: usize,
    /// Waiting tasks with their tickets, first come first served.
    waiters: VecDeque<(u64, Waker)>,
    /// The next ticket.
    next: u64,
}

/// A semaphore; clone it to share.
#[derive(Clone)]
pub struct Semaphore {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Semaphore")
            .field("free", &self.available())
            .finish()
    }
}

/// One permit, given back when dropped.
#[derive(Debug)]
pub struct Permit {
    /// Its semaphore.
    sem: Semaphore,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            state: Arc::new(Mutex::new(State {
                free: permits,
                waiters: VecDeque::new(),
                next: 0,
            })),
        }
    }

    /// Permits free now.
    pub fn available(&self) -> usize {
        lock(&self.state).free
    }

    /// A permit if one is free now and nobody is waiting ahead.
    pub fn try_acquire(&self) -> Option<Permit> {
        let mut s = lock(&self.state);
        (s.free > 0 && s.waiters.is_empty()).then(|| {
            s.free -= 1;
            Permit { sem: self.clone() }
        })
    }

    /// Waits for a permit, in arrival order.
    pub async fn acquire(&self) -> Permit {
        let mut ticket = None;
        let mut guard = Leave {
            sem: self,
            ticket: None,
        };
        poll_fn(|cx| {
            let mut s = lock(&self.state);
            let first = match ticket {
                None => s.waiters.is_empty(),
                Some(t) => s.waiters.front().is_some_and(|(w, _)| *w == t),
            };
            if first && s.free > 0 {
                s.free -= 1;
                if ticket.is_some() {
                    s.waiters.pop_front();
                }
                guard.ticket = None;
                // The next in line may be able to go too.
                let next = (s.free > 0)
                    .then(|| s.waiters.front().map(|(_, w)| w.clone()))
                    .flatten();
                drop(s);
                if let Some(w) = next {
                    w.wake();
                }
                return Poll::Ready(Permit { sem: self.clone() });
            }
            match ticket {
                Some(t) => {
                    if let Some(e) = s.waiters.iter_mut().find(|(w, _)| *w == t) {
                        e.1 = cx.waker().clone();
                    }
                }
                None => {
                    let t = s.next;
                    s.next += 1;
                    s.waiters.push_back((t, cx.waker().clone()));
                    ticket = Some(t);
                    guard.ticket = Some(t);
                }
            }
            Poll::Pending
        })
        .await
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let waker = {
            let mut s = lock(&self.sem.state);
            s.free += 1;
            s.waiters.front().map(|(_, w)| w.clone())
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// Leaves the queue if an `acquire` is dropped while waiting, waking the next in line.
struct Leave<'a> {
    /// The semaphore.
    sem: &'a Semaphore,
    /// The ticket still queued.
    ticket: Option<u64>,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        let Some(t) = self.ticket else { return };
        let waker = {
            let mut s = lock(&self.sem.state);
            s.waiters.retain(|(w, _)| *w != t);
            (s.free > 0)
                .then(|| s.waiters.front().map(|(_, w)| w.clone()))
                .flatten()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}
