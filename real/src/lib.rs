//! doppel-real: the real backend. Edge-triggered epoll on Linux, kqueue with `EV_CLEAR` on
//! macOS and FreeBSD, behind one [`RealPoller`] that implements doppel's `Scheduler` seam.
//!
//! # Module map
//!
//! | module            | concept                                                          |
//! |-------------------|------------------------------------------------------------------|
//! | `multi`           | [`MultiRuntime`]: main reactor + sub-reactor and worker threads  |
//! | `poller`          | [`RealPoller`]: the `Scheduler` over the kernel                  |
//! | `sys`             | all the `unsafe`: the `syscall!` wrapper and the three sys files |
//! | `sys/epoll.rs`    | Linux `Selector`: epoll + eventfd                                |
//! | `sys/kqueue.rs`   | BSD `Selector`: kqueue + `EVFILT_USER` (same names as epoll.rs)  |
//! | `sys/socket.rs`   | non-blocking sockets, raw errnos, no `SIGPIPE`                   |
//! | `sys/signal.rs`   | [`SignalStorm`]: `EINTR` on demand, for proving robustness       |
//!
//! `target_os` appears only in this crate's `sys/` files; nothing above them knows which kernel
//! is underneath.
#![deny(clippy::undocumented_unsafe_blocks)]

mod multi;
mod poller;
mod sys;

pub use multi::MultiRuntime;
pub use poller::RealPoller;
pub use sys::signal::{SignalStorm, StormReport};

use doppel_core::Runtime;

/// A runtime on the real backend: `doppel::real::runtime()?.block_on(server)`. Its trace
/// events are labelled `real` and carry no time (wall time would make every run differ), so a
/// real run's trace lines up with a simulated run's.
pub fn runtime() -> std::io::Result<Runtime> {
    let label = doppel_core::driver::Label {
        host: std::sync::Arc::from("real"),
        reactor: 0,
        time: false,
    };
    Ok(doppel_core::driver::runtime(
        Box::new(RealPoller::new()?),
        label,
    ))
}

/// A multi-reactor runtime on the real backend: `config` says how many sub-reactors and
/// workers, and the limits (see [`MultiRuntime`]).
pub fn multi(config: doppel_core::group::GroupConfig) -> std::io::Result<MultiRuntime> {
    MultiRuntime::new(config)
}
