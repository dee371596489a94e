//! Runtime counters: how often the retry loop and the poller absorbed what the kernel threw.
//!
//! These exist so a test can prove that a fault really happened (an EINTR storm that was never
//! absorbed proves nothing) and a benchmark can count work per round trip. They are plain cells
//! on the reactor: counting costs one add, never a lock.

use std::cell::Cell;

/// Declares the counters once, as `Cell`s inside the reactor and as a plain snapshot struct.
macro_rules! counters {
    ($( $(#[$doc:meta])* $name:ident ),* $(,)?) => {
        /// A snapshot of one reactor's counters, from [`crate::stats()`] or [`crate::Runtime::stats`].
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct Stats {
            $( $(#[$doc])* pub $name: u64, )*
        }

        /// The live counters inside a reactor.
        #[derive(Debug, Default)]
        pub(crate) struct Counters {
            $( $(#[$doc])* pub(crate) $name: Cell<u64>, )*
        }

        impl Counters {
            /// Copies every counter out.
            pub(crate) fn snapshot(&self) -> Stats {
                Stats { $( $name: self.$name.get(), )* }
            }
        }
    };
}

counters! {
    /// Reactor turns (run tasks, fire timers, poll).
    turns,
    /// Calls to `Scheduler::poll`.
    polls,
    /// Polls that returned `EINTR` and were treated as an empty round.
    poll_interrupted,
    /// Readiness events delivered to a live pollDesc.
    events,
    /// Events dropped because their token was stale (closed or reused descriptor).
    stale_events,
    /// Task polls.
    task_polls,
    /// Tasks spawned.
    tasks_spawned,
    /// Socket calls that returned `EINTR` and were retried.
    eintr_retries,
    /// Accepts that failed with `ECONNABORTED` (or another pending-connection error) and were
    /// retried.
    accept_retries,
    /// Reads (and accepts) that returned `WouldBlock` and parked.
    read_would_block,
    /// Writes that returned `WouldBlock` and parked.
    write_would_block,
    /// Reads cut short, taken as "the queue is drained" without an extra `EAGAIN` call.
    short_reads,
    /// Writes cut short, taken as "the send buffer is full".
    short_writes,
    /// Times a reader (or acceptor) parked because its slot was drained.
    read_parks,
    /// Times a writer parked because the send buffer was full: backpressure, observed.
    write_parks,
    /// Timers that fired (sleeps and deadlines).
    timers_fired,
    /// Deadline timers dropped as stale (the deadline moved, or the descriptor closed).
    stale_timers,
    /// Deadlines that expired and failed (or will fail) an operation with `TimedOut`.
    deadlines_expired,
}

impl Counters {
    /// Adds one to a counter.
    #[inline]
    pub(crate) fn bump(cell: &Cell<u64>) {
        cell.set(cell.get() + 1);
    }
}
