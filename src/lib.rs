//! # doppel
//!
//! A runtime for network servers that runs the same server code two ways: on a real
//! epoll/kqueue poller, and on a simulated poller with seeded virtual time and a virtual
//! network that injects the faults real kernels produce rarely.
//!
//! ```no_run
//! fn main() -> std::io::Result<()> {
//!     doppel::real::runtime()?.block_on(async {
//!         let listener = doppel::net::TcpListener::bind("127.0.0.1:7000")?;
//!         loop {
//!             let (conn, _) = listener.accept().await?;
//!             doppel::spawn(async move { futures::io::copy(&conn, &mut &conn).await });
//!         }
//!     })
//! }
//! ```
//!
//! # Map
//!
//! | path                  | crate         | what                                                     |
//! |-----------------------|---------------|----------------------------------------------------------|
//! | [`Runtime`], [`spawn`]| doppel-core   | the single-threaded executor; `block_on`, `spawn`, `enter` |
//! | [`net`]               | doppel-core   | `TcpListener`, `TcpStream`: Go's retry loop, deadlines    |
//! | [`time`]              | doppel-core   | `Instant`, `sleep`, `timeout` on the scheduler's clock    |
//! | [`driver`]            | doppel-core   | the seam: `Scheduler`, its contract, what a backend may do |
//! | [`task`]              | doppel-core   | `JoinHandle`, `TaskId`                                    |
//! | [`error`]             | doppel-core   | context on syscall errors; `errno`                        |
//! | [`stats`](mod@stats)  | doppel-core   | counters that prove what the runtime absorbed            |
//! | [`sync`]              | doppel-core   | channels, oneshot, notify, semaphore across reactors     |
//! | [`group`], [`reactors`]| doppel-core  | the master-slave reactor: `GroupConfig`, `spawn_on`, ... |
//! | [`real`]              | doppel-real   | `RealPoller` (epoll/kqueue), `runtime()`, `multi()`      |
//! | [`sim`]               | doppel-sim    | `SimBuilder`, `FaultPlan`, `explore`, `shrink`: the simulator |
//! | [`test`](macro@test)  | doppel-macros | `#[doppel::test]`: a seed sweep as a `#[test]`            |
//! | [`trace`]             | doppel-trace  | `capture`, `Trace`, `assert_trace_snapshot!`: traces     |
//! | [`compat`]            | doppel-core   | tokio's I/O traits, hyper (features `tokio-io`, `hyper`)  |
//! | [`cli`]               | doppel-cli    | `Cli`, `Workload`, `Spec`: the command over your scenarios |
//!
//! The backend is a value passed to [`Runtime::new`], never a `cfg`: one binary can run the
//! same body on the real poller and in the simulator.
//!
//! # Testing a server
//!
//! `#[doppel::test]` turns a function that builds a simulated world for a seed into a test
//! that sweeps seeds on every core, checks each replays, and on a failure shrinks its faults and
//! prints a replay command (the README's "Testing your own server" walks through it):
//!
//! ```
//! use doppel::sim::SimBuilder;
//!
//! #[doppel::test(seeds = 0..200, faults = "benign=0.05")]
//! fn echo_survives_benign_faults(seed: u64) -> SimBuilder {
//!     SimBuilder::new(seed)
//!         .host("server", "10.0.0.1", || async {
//!             let listener = doppel::net::TcpListener::bind("0.0.0.0:7000")?;
//!             loop {
//!                 let (conn, _) = listener.accept().await?;
//!                 doppel::spawn(async move { futures::io::copy(&conn, &mut &conn).await });
//!             }
//!         })
//!         .client("client", "10.0.0.2", || async {
//!             let conn = doppel::net::TcpStream::connect("10.0.0.1:7000".parse().unwrap()).await?;
//!             conn.write_all(b"ping").await
//!         })
//! }
//! # fn main() {}
//! ```

pub use doppel_core::{
    always, assertion, buggify, compat, current_task, driver, error, group, net, reachable,
    reactors, sometimes, spawn, stats, sync, task, time, Direction, JoinError, JoinHandle, Runtime,
    Scheduler, Stats, TaskId,
};

/// Traces: the collector, rendering, comparison, snapshots.
pub mod trace {
    pub use doppel_core::driver::{stamp, with_stamp, Label, Stamp};
    pub use doppel_trace::*;
}

/// The simulator: seeded virtual time, a virtual network, syscall-level faults.
#[cfg(feature = "sim")]
pub mod sim {
    pub use doppel_sim::*;
}

#[cfg(feature = "sim")]
pub use doppel_macros::test;

/// The `doppel` command as a library: `run`, `explore`, `replay`, `shrink`, `combine` over a
/// crate's own scenarios, workloads and TOML specs.
#[cfg(feature = "cli")]
pub mod cli {
    pub use doppel_cli::*;
}

/// The real backend: epoll on Linux, kqueue on macOS and FreeBSD.
#[cfg(feature = "real")]
pub mod real {
    pub use doppel_real::{multi, runtime, MultiRuntime, RealPoller, SignalStorm, StormReport};
}
