//! Primitives that cross reactors: channels (bounded and unbounded mpsc, oneshot), a notify and
//! a semaphore. Each is a small mutex-guarded state plus the wakers of the tasks waiting on it,
//! so it is correct between OS threads on the real backend; in the simulator every reactor runs
//! on one thread and the world's seeded choice of which reactor steps next decides every race
//! between them, so a race is a seed that replays.
//!
//! Waiters are served first come, first served, and a closed channel or a dropped sender is an
//! error the caller sees ([`SendError`], `None` from `recv`, [`Canceled`]), never a hang or a
//! panic.

pub mod mpsc;
pub mod notify;
pub mod oneshot;
pub mod semaphore;

pub use mpsc::{channel, unbounded, Receiver, SendError, Sender, TrySendError};
pub use notify::Notify;
pub use oneshot::Canceled;
pub use semaphore::{Permit, Semaphore};

/// Locks a primitive's state. A panic while holding it can only come from user code run under
/// no lock of ours (we never call out while locked), so a poisoned state is still consistent.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
