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
