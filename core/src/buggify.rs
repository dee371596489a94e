//! `buggify!`: a fault point in the user's own code (FoundationDB's `BUGGIFY`). In the
//! simulator a call site is on or off for a whole seed, and an on site fires at its rate, each
//! firing counted, traced and named like every fault (`buggify@src/cache.rs:42:12:0`), so a
//! sweep finds it, the shrinker keeps or drops it and `--only` replays it. The core only asks
//! the backend ([`Scheduler::buggify`](crate::driver::Scheduler::buggify)); every backend but
//! the simulator says no, and in a process with none that answers it costs one relaxed load.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a backend whose [`Scheduler::buggify`](crate::driver::Scheduler::buggify) can say
/// yes exists in this process: until then no reactor is asked.
static ANSWERED: AtomicBool = AtomicBool::new(false);

/// The rate an on site fires at when `buggify!()` names none.
pub const DEFAULT_RATE: f64 = 0.25;

/// Tells `buggify!` a backend may answer: a backend that implements
/// [`Scheduler::buggify`](crate::driver::Scheduler::buggify) calls it before its first runtime
/// (the simulator does, when it builds a world).
#[doc(hidden)]
pub fn backend_answers() {
    ANSWERED.store(true, Ordering::Relaxed);
}

/// Whether the fault point at `site` fires now, at `rate` when its site is on: what
/// [`buggify!`](crate::buggify!) expands to. False where no backend answers.
#[inline]
pub fn fires(site: &'static str, rate: f64) -> bool {
    if !answered() {
        return false;
    }
    fires_asked(site, rate)
}

/// Whether a backend that answers user-code questions (`buggify!`, the coverage assertions)
/// exists in this process: one relaxed load.
#[inline]
pub(crate) fn answered() -> bool {
    ANSWERED.load(Ordering::Relaxed)
}

/// [`fires`] in a process with a backend that answers: asks the current reactor's.
#[inline(never)]
fn fires_asked(site: &'static str, rate: f64) -> bool {
    crate::reactor::current().is_some_and(|r| r.with_sched(|s| s.buggify(site, rate)))
}

/// A fault point in your own code: `if doppel::buggify!() { /* the rare path */ }`, or
/// `buggify!(0.05)` for a rate of its own (default 0.25). In the simulator, with a plan that
/// names `buggify` (`buggify=0.5`: the chance each call site is on for a seed), an on site
/// fires at its rate; on the real backend it is always false.
///
/// ```
/// fn cache_lookup(hit: Option<u64>) -> Option<u64> {
///     if doppel_core::buggify!() {
///         return None; // in the simulator, now and then: a miss the cache did not have
///     }
///     hit
/// }
/// assert_eq!(cache_lookup(Some(7)), Some(7)); // outside the simulator: never buggified
/// ```
#[macro_export]
macro_rules! buggify {
    () => {
        $crate::buggify::fires(
            concat!(file!(), ":", line!(), ":", column!()),
            $crate::buggify::DEFAULT_RATE,
        )
    };
    ($rate:expr) => {
        $crate::buggify::fires(concat!(file!(), ":", line!(), ":", column!()), $rate)
    };
}
