//! Reading the current reactor's clock: `Instant::now` and `elapsed`, where server code asks the
//! time (the `Instant` type itself is the seam's, [`crate::driver::Instant`]).

use std::time::Duration;

use crate::driver::instant::Instant;
use crate::reactor;

impl Instant {
    /// The current time on the current reactor's clock.
    ///
    /// # Panics
    /// Outside a doppel runtime, where there is no clock to read.
    pub fn now() -> Instant {
        reactor::with_current(|r| r.now())
    }

    /// The time elapsed on the current reactor's clock since `self`.
    pub fn elapsed(self) -> Duration {
        Instant::now().saturating_duration_since(self)
    }
}

/// The wall clock of the host this code runs on: the system's on a real machine; in the
/// simulator the host's own clock, which under the `clock-skew` fault class is offset and
/// drifts from its peers' (so code that compares one host's timestamps with another's meets
/// the skew real clusters have). For timeouts and leases measured on one host, use
/// [`Instant`], which never jumps.
///
/// # Panics
/// Outside a doppel runtime.
pub fn wall_clock() -> std::time::SystemTime {
    let since_epoch = reactor::with_current(|r| r.with_sched(|s| s.wall_clock()));
    std::time::UNIX_EPOCH + since_epoch
}
