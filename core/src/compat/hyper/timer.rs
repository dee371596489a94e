//! hyper's `Timer` on the scheduler's clock. hyper asks a timer for `now()` and gives it
//! deadlines as `std::time::Instant`s; this one answers with instants a fixed anchor plus the
//! reactor's clock, and maps deadlines back the same way, so hyper's timeouts run on virtual
//! time in the simulator (and on the real clock on epoll/kqueue). Its sleeps are
//! [`SendSleep`]s: `Send + Sync` as hyper requires, and an abandoned one cancels its timer.

use std::pin::Pin;
use std::sync::OnceLock;
use std::time::Duration;

use crate::time::{Instant, SendSleep};

/// The anchor `std::time::Instant`s are counted from. Its value never reaches a run: hyper only
/// compares and subtracts the instants it gets, and every one maps back to the reactor's clock.
fn anchor() -> std::time::Instant {
    static ANCHOR: OnceLock<std::time::Instant> = OnceLock::new();
    #[allow(clippy::disallowed_methods)] // The anchor only; no run sees its value.
    *ANCHOR.get_or_init(std::time::Instant::now)
}

/// The reactor's clock reading `t` as a `std::time::Instant`.
fn to_std(t: Instant) -> std::time::Instant {
    anchor() + Duration::from_nanos(t.as_nanos())
}

/// A `std::time::Instant` from [`to_std`] back on the reactor's clock.
fn from_std(t: std::time::Instant) -> Instant {
    Instant::ZERO.saturating_add(t.saturating_duration_since(anchor()))
}

/// A hyper `Timer` on the current reactor's clock (set it with `Builder::timer`; [`serve`]
/// does).
///
/// [`serve`]: super::serve
#[derive(Clone, Copy, Debug, Default)]
pub struct Timer;

/// A [`SendSleep`] as hyper's `Sleep`.
struct HyperSleep(SendSleep);

impl std::future::Future for HyperSleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl hyper::rt::Sleep for HyperSleep {}

impl hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep(crate::time::sleep_send(duration)))
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep(SendSleep::until(from_std(deadline))))
    }

    fn now(&self) -> std::time::Instant {
        to_std(Instant::now())
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: std::time::Instant) {
        match sleep.as_mut().downcast_mut_pin::<HyperSleep>() {
            Some(s) => s.get_mut().0.reset(from_std(new_deadline)),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
