//! `timeout` and `timeout_at`: bound a future by a deadline.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use super::sleep::sleep_until;
use crate::driver::instant::Instant;

/// The deadline passed before the future completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed {
    /// The deadline that passed.
    pub deadline: Instant,
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "deadline {} elapsed", self.deadline)
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(e: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, e)
    }
}

/// Runs `fut` until it completes or `duration` passes. The deadline is fixed now, at the call,
/// so re-polling never stretches it.
///
/// # Panics
/// Outside a doppel runtime.
pub fn timeout<F: Future>(
    duration: Duration,
    fut: F,
) -> impl Future<Output = Result<F::Output, Elapsed>> {
    timeout_at(Instant::now() + duration, fut)
}

/// Runs `fut` until it completes or the clock reaches `deadline`. The future is polled before
/// the clock is checked, so an output ready at the deadline instant wins.
pub async fn timeout_at<F: Future>(deadline: Instant, fut: F) -> Result<F::Output, Elapsed> {
    let mut fut = pin!(fut);
    let mut sleep = pin!(sleep_until(deadline));
    poll_fn(|cx| {
        if let Poll::Ready(out) = fut.as_mut().poll(cx) {
            return Poll::Ready(Ok(out));
        }
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed { deadline })),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}
