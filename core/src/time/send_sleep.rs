//! `SendSleep`: a sleep that is `Send + Sync`, for libraries that demand it of their timers
//! (hyper's `Timer`). It holds no reference to its reactor, only the reactor's id and the
//! timer's key: polled on a reactor, it arms its timer there; dropped there, it cancels it, so
//! an abandoned sleep leaves no timer behind. Dropped anywhere else (a runtime being torn down),
//! the timer fires once and wakes nobody who still cares.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::timers::TimerKey;
use crate::driver::instant::Instant;
use crate::reactor;

/// Waits until `duration` has passed on the current reactor's clock, as a `Send + Sync` value.
///
/// # Panics
/// Outside a doppel runtime (the deadline is fixed when it is called).
pub fn sleep_send(duration: Duration) -> SendSleep {
    SendSleep::until(Instant::now().saturating_add(duration))
}

/// The `Send + Sync` sleep (see the module docs). Dropping it on its reactor cancels its timer.
#[derive(Debug)]
pub struct SendSleep {
    /// When it completes.
    deadline: Instant,
    /// The reactor holding its timer (by id), and the timer, once a poll armed it.
    armed: Option<(u64, TimerKey)>,
    /// Completed; further polls return at once.
    done: bool,
}

impl SendSleep {
    /// A sleep until `deadline` on the clock of the reactor that polls it.
    pub fn until(deadline: Instant) -> SendSleep {
        SendSleep {
            deadline,
            armed: None,
            done: false,
        }
    }

    /// When it completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline: the old timer is cancelled (when on its reactor) and the next poll
    /// arms a new one.
    pub fn reset(&mut self, deadline: Instant) {
        self.disarm();
        self.deadline = deadline;
        self.done = false;
    }

    /// Whether it has completed.
    pub fn is_elapsed(&self) -> bool {
        self.done
    }

    /// Cancels its timer if it is armed on the reactor running this thread now.
    fn disarm(&mut self) {
        let Some((id, key)) = self.armed.take() else {
            return;
        };
        if let Some(r) = reactor::current() {
            if r.id == id && r.sleep_armed(key) {
                r.cancel_sleep(key);
            }
        }
    }
}

impl Future for SendSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        let deadline = self.deadline;
        let armed = self.armed;
        let (id, key, due) = reactor::with_current(|r| match armed {
            // Armed here: still pending, or it fired.
            Some((id, key)) if id == r.id => (id, key, !r.sleep_pending(key, cx.waker())),
            // First poll, or polled on another reactor than the one that holds its timer.
            _ => {
                if r.now() >= deadline {
                    return (r.id, TimerKey::NONE, true);
                }
                let key = r.add_sleep(deadline);
                r.sleep_pending(key, cx.waker());
                (r.id, key, false)
            }
        });
        if due {
            self.armed = None;
            self.done = true;
            return Poll::Ready(());
        }
        self.armed = Some((id, key));
        Poll::Pending
    }
}

impl Drop for SendSleep {
    fn drop(&mut self) {
        self.disarm();
    }
}
