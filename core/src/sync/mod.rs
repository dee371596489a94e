//! Primitives that cross reactors: channels (bounded and unbounded mpsc, oneshot), a notify and
//! a semaphore. Each is a small mutex-guarded state plus the wakers of the tasks waiting on it,
//! so it is correct between OS threads on the real backend; in the simulator every reactor runs
//! on one thread and the world's seeded choice of which reactor steps next decides every race
//! between them, so a race is a seed that replays.
//!
//! Waiters are served first come, first served, and a closed channel or a dropped sender is an
//! error the caller sees ([`SendError`], `None` from `recv`, [`Canceled`]), never a hang or a
//! panic.

mod lock;
pub mod mpsc;
pub mod notify;
pub mod oneshot;
pub mod semaphore;

pub use mpsc::{channel, unbounded, Receiver, SendError, Sender, TrySendError};
pub use notify::Notify;
pub use oneshot::Canceled;
pub use semaphore::{Permit, Semaphore};

pub(crate) use lock::lock;
