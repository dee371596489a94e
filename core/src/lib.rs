//! doppel-core: the part of doppel that is the same on every backend.
//!
//! Server code is written against these types; the backend under them is a value chosen when
//! the [`Runtime`] is built: `doppel-real`'s epoll/kqueue poller, or `doppel-sim`'s simulated
//! world. The repository's README draws the whole picture.
//!
//! # Module map
//!
//! | module        | concept                                                               |
//! |---------------|-----------------------------------------------------------------------|
//! | [`assertion`] | [`always!`], [`sometimes!`], [`reachable!`]: coverage a sweep can see  |
//! | `buggify`     | [`buggify!`]: a fault point in the user's own code, on in the simulator only |
//! | [`compat`]    | tokio's I/O traits and hyper's `rt` traits on doppel's types (features)  |
//! | [`driver`]    | the seam: [`Scheduler`] and its contract, the vocabulary a backend shares, [`driver::Drive`] (stepping a hosted runtime), the trace collector's sink and stamps |
//! | [`runtime`]   | [`Runtime`]: `new`, `block_on`, `spawn`, `enter`, `stats`              |
//! | `current`     | [`spawn`], [`stats()`], [`current_task`]: the runtime code runs in     |
//! | `reactor`     | the per-thread engine, composed of rooms, and the one thread-local    |
//! | `turn`        | one reactor turn: Go's `findrunnable` (run, timers, poll, dispatch)    |
//! | [`task`]      | the executor, the task slab, wakers and the run queue, [`JoinHandle`]  |
//! | `fd`          | the fd driver, the pollDesc layer and the one I/O retry loop           |
//! | [`net`]       | [`net::TcpListener`], [`net::TcpStream`], [`net::UdpSocket`], [`net::Chunk`] (reads into the reactor's buffers) |
//! | [`time`]      | [`time::Instant`], [`time::sleep`], [`time::timeout`]                  |
//! | [`error`]     | error context at the API edge; [`error::errno`]                        |
//! | [`stats`](mod@stats) | per-reactor counters that prove faults were absorbed                   |
//! | [`group`]     | groups of reactors: main, sub-reactors, workers; [`group::Remote`]     |
//! | [`reactors`]  | what server code asks of its group: `spawn_on`, `run_blocking`         |
//! | [`sync`]      | channels, oneshot, notify, semaphore: correct across reactors         |
//! | `trace`       | runtime events through `tracing` or the collector's direct sink        |
//!
//! # Rules this crate keeps
//!
//! - No `std::time`, no threads, no OS randomness, no hash-order iteration: the simulator runs
//!   every line of it (enforced by clippy's `disallowed-*` lists in `clippy.toml`).
//! - No `unsafe`: it lives only in `doppel-real`'s sys code.
//! - No allocation per event or per I/O call on the hot path; no lock on the single-reactor path
//!   except the uncontended run-queue mutex that makes wakers `Send`.

pub mod assertion;
#[doc(hidden)]
pub mod buggify;
pub mod compat;
mod current;
pub mod driver;
pub mod error;
mod fd;
pub mod group;
pub mod net;
mod reactor;
pub mod runtime;
pub mod stats;
pub mod sync;
pub mod task;
pub mod time;
mod trace;
mod turn;

pub use current::{current_task, spawn, stats};

/// What server code asks of the group of reactors it runs in (see [`group`]).
pub mod reactors {
    pub use crate::group::api::{
        count, group, index, join, occupancy, run_blocking, spawn_on, Occupancy, RemoteHandle,
        WorkerError,
    };
}
pub use driver::{Direction, Scheduler, TaskId};
pub use runtime::Runtime;
pub use stats::Stats;
pub use task::{JoinError, JoinHandle};

#[cfg(test)]
mod layout {
    /// Per-connection memory is a feature (the README's RSS row): these guard the layouts a
    /// change could silently grow. Sizes are for 64-bit targets.
    #[test]
    fn per_connection_structures_stay_compact() {
        use std::mem::size_of;
        assert!(size_of::<std::cell::RefCell<crate::fd::poll_desc::PollDesc>>() <= 104);
        assert!(size_of::<crate::task::queue::TaskWaker>() <= 32);
        assert!(size_of::<crate::task::JoinCell<()>>() <= 32);
        assert!(size_of::<crate::task::slab::Task>() <= 40);
        assert!(size_of::<crate::net::TcpStream>() <= 24);
        assert!(size_of::<crate::net::Read<'static>>() <= 48);
    }
}
