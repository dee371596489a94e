//! doppel-sim: the simulated backend. One world, one OS thread, one seed: virtual time, a
//! virtual TCP network, and the syscall-level faults real kernels produce rarely, behind the
//! same `Scheduler` seam as the real poller, so server code runs unchanged.
//!
//! # Module map
//!
//! | module      | concept                                                                 |
//! |-------------|-------------------------------------------------------------------------|
//! | `builder`   | [`SimBuilder`]: hosts, links, faults, limits; validated before running   |
//! | `sim`       | [`Sim`]: the driver loop (step a ready reactor, or jump the clock)       |
//! | `stepping`  | the driver's ready set, timer index and choice of reactor                |
//! | `world`     | the kernel: `syscalls.rs` (calls), `deliver.rs`, `verdicts.rs` and `injector.rs` (faults), `hash.rs` |
//! | `poller`    | `SimPoller`: a reactor's `Scheduler` view of the world                  |
//! | `net`       | the TCP and UDP models (`tcp.rs`, `udp.rs`, `tables.rs`, `socket.rs`), the event queue, links |
//! | `classes`   | the one table of fault classes, and [`FaultClass`] from it               |
//! | [`coverage`](mod@coverage) | what the user's `always!`/`sometimes!`/`reachable!` did in a run and a sweep, against the binary's catalog |
//! | [`faults`]  | [`FaultPlan`], [`FaultCounts`]                                           |
//! | `sched`     | [`Strategy`]: seeded random choice (of reactor, of task), and PCT       |
//! | `liveness`  | [`Liveness`]: the phase where faults stop and the clients must finish (`world/calm.rs`) |
//! | [`clock`](mod@clock) | each host's own clock: offset and drift under `clock-skew`, mapped to and from the world's |
//! | `spin`      | livelock detection: steps without going idle, and what the busy tasks called |
//! | `seeds`     | [`SeedRange`] (`A..B`, `A..=B`, `N`) and [`Shard`] (`K/N`)              |
//! | `rng`       | named ChaCha8 streams derived from the seed, and the fault dice         |
//! | `check`     | [`check_seeds`], [`check_determinism`]: run seeds twice, honour `DOPPEL_SEED` |
//! | [`explore`](mod@explore) | [`Explore`], [`Sweep`]: the one seed sweep (threads, budget, counts)   |
//! | [`shrink`](mod@shrink)  | [`Shrink`], [`Shrunk`]: a failing seed's faults, down to a 1-minimal set |
//! | [`testing`] | what `#[doppel::test]` runs: sweep, shrink, replay commands, traces  |
//! | `report`    | [`Report`], [`Failure`], [`SimError`]                                   |
//! | `trace`     | the simulator's fault events; tracing a run (`SimBuilder::trace`)       |
//! | `rules`     | [`Verdict`]s on each [`Message`] a link carries (and `world/control.rs`: [`NetControl`], hold and release) |
//!
//! # Determinism
//!
//! Nothing a world runs reads the wall clock, spawns a thread, or iterates a hash map (clippy's
//! `disallowed-*` lists enforce it); every random choice comes from the seed. Outside any world,
//! the sweep ([`explore`](mod@explore)), the shrinker and [`testing`] run seeds on threads and
//! time their own budgets, each world still on one thread.
//! The same seed gives the same run, event for event, and the same [`Report::hash`].

mod builder;
mod check;
pub mod clock;
#[macro_use]
mod classes;
pub mod coverage;
pub mod explore;
pub mod faults;
mod host;
mod host_id;
mod liveness;
mod net;
mod poller;
mod report;
mod rng;
mod rules;
mod sched;
mod seeds;
pub mod shrink;
mod sim;
mod site;
mod spin;
mod stepping;
pub mod testing;
mod trace;
mod world;

pub use builder::SimBuilder;
pub use check::{
    check_determinism, check_seeds, parse_seed, replay_command, replay_seed, SeedError,
};
pub use coverage::Coverage;
pub use explore::{explore, Explore, Sweep};
pub use faults::{
    CrashSpec, FaultClass, FaultCounts, FaultName, FaultPlan, Fired, PartitionSpec, Swarm,
};
pub use liveness::Liveness;
pub use net::LinkConfig;
pub use report::{one_line, ConfigError, Failure, FailureKind, Outcome, Report, SimError};
pub use rules::{Message, Proto, Verdict};
pub use sched::{Strategy, MAX_PCT_DEPTH};
pub use seeds::{SeedRange, Shard};
pub use shrink::{shrink, Shrink, Shrunk};
pub use sim::Sim;
pub use spin::DEFAULT_LIVELOCK_STEPS;
pub use world::control::NetControl;
