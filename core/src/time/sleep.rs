//! `sleep` and `sleep_until`: a task waits for the reactor's clock.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::timers::TimerKey;
use crate::driver::instant::Instant;
use crate::reactor::{self, Reactor};

/// Waits until `duration` has passed on the current reactor's clock. In the simulator the clock
/// jumps, so an hour's sleep costs microseconds.
///
/// # Panics
/// Outside a doppel runtime (the deadline is fixed when `sleep` is called).
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now() + duration)
}

/// Waits until the current reactor's clock reaches `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        armed: None,
        done: false,
    }
}

/// The future of [`sleep`] and [`sleep_until`]. Dropping it cancels its timer.
#[derive(Debug)]
pub struct Sleep {
    /// When it completes.
    deadline: Instant,
    /// The timer, once the first poll armed it, and the reactor that holds it.
    armed: Option<(Rc<Reactor>, TimerKey)>,
    /// Completed; further polls return at once.
    done: bool,
}

impl Sleep {
    /// When this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline (re-arming on the next poll), like re-creating the sleep.
    pub fn reset(&mut self, deadline: Instant) {
        self.disarm();
        self.deadline = deadline;
        self.done = false;
    }

    /// Whether the sleep has completed.
    pub fn is_elapsed(&self) -> bool {
        self.done
    }

    fn disarm(&mut self) {
        if let Some((r, key)) = self.armed.take() {
            r.cancel_sleep(key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        if let Some((r, key)) = &self.armed {
            if r.sleep_pending(*key, cx.waker()) {
                return Poll::Pending;
            }
            self.armed = None;
            self.done = true;
            return Poll::Ready(());
        }
        let r = reactor::with_current(Rc::clone);
        if r.now() >= self.deadline {
            self.done = true;
            return Poll::Ready(());
        }
        let key = r.add_sleep(self.deadline);
        r.sleep_pending(key, cx.waker());
        self.armed = Some((r, key));
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some((r, key)) = &self.armed {
            if r.sleep_armed(*key) {
                r.cancel_sleep(*key);
            }
        }
    }
}
