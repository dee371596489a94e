//! Time on the scheduler's clock: [`Instant`], [`sleep`], [`sleep_until`], [`timeout`], and
//! the host's [`wall_clock`].
//!
//! Every reading comes from [`crate::Scheduler::now`], so the same code sleeps for real on epoll
//! and for free in the simulator. Deadlines are absolute instants; a relative duration is turned
//! into one at the API edge ([`sleep`], [`timeout`]), so re-polling never stretches a timeout.

pub(crate) mod deadlines;
mod now;
pub use now::wall_clock;
mod send_sleep;
mod sleep;
mod timeout;
pub(crate) mod timers;

pub use crate::driver::instant::Instant;
pub use send_sleep::{sleep_send, SendSleep};
pub use sleep::{sleep, sleep_until, Sleep};

/// How many timers (sleeps and armed deadlines) the current reactor holds: a test's way to see
/// that an abandoned sleep gave its timer back.
///
/// # Panics
/// Outside a doppel runtime.
pub fn pending_timers() -> usize {
    crate::reactor::with_current(|r| r.timers.borrow().len())
}
pub use timeout::{timeout, timeout_at, Elapsed};
