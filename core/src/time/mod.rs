//! Time on the scheduler's clock: [`Instant`], [`sleep`], [`sleep_until`], [`timeout`].
//!
//! Every reading comes from [`crate::Scheduler::now`], so the same code sleeps for real on epoll
//! and for free in the simulator. Deadlines are absolute instants; a relative duration is turned
//! into one at the API edge ([`sleep`], [`timeout`]), so re-polling never stretches a timeout.

mod instant;
mod sleep;
mod timeout;
pub(crate) mod timers;

pub use instant::Instant;
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed};
