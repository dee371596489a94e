//! Scenario specs: TOML files that name a workload (a built-in one, or one a user's crate
//! registers with [`crate::Cli::workload`]) and its server variant, the load, the
//! network, the fault plan, a virtual-time limit, a seed range and, optionally, the group of
//! reactors the server runs on. A spec is checked whole before
//! anything runs; an error names the file, the line and the key, and says what is expected.
//! `docs/specs.md` lists every key with its type, its range and its default.
//!
//! ```toml
//! about = "echo under every random fault class"
//! workload = "echo"            # `doppel list` shows the workloads and their variants
//! variant = "correct"
//! seeds = "0..1000"            # what `doppel explore` sweeps by default
//! time_limit = "60s"           # virtual time
//!
//! [load]
//! clients = 4
//! rounds = 20
//! max_size = 4096
//! reconnects = 50
//! deadline = "5s"
//!
//! [network]
//! latency = "100us"
//! jitter = "20us"
//!
//! [faults]
//! plan = "all=0.02"            # or one key per class: `short-read = 0.1`
//!
//! [[faults.crash]]
//! host = "server"
//! at = "2s"
//! restart_after = "100ms"
//!
//! [liveness]                   # optional: faults stop at `after`; clients must finish `within`
//! after = "2s"
//! within = "10s"
//!
//! [server]                     # optional: serve on a group of reactors instead of one
//! sub_reactors = 3             # reactors that own connections (1 to 64)
//! workers = 1                  # reactors for CPU-bound work (0 to 64)
//! max_connections = 10000      # beyond it a new connection is refused at once
//! worker_queue = 64            # CPU-bound jobs queued or running at most
//! placement = "round-robin"    # or "least-loaded"
//! ```
//!
//! With `[server]`, the simulated server host runs a main reactor, the sub-reactors and the
//! workers as simulated threads (`SimBuilder::host_group`), and a loopback run
//! (`doppel run SPEC --real`) uses `doppel::real::multi`; in both the main reactor runs the
//! server's main (and, on loopback, the clients), and `doppel::net::serve` hands each accepted
//! connection to a sub-reactor.

mod check;
pub mod duration;
mod error;
mod raw;

use std::path::Path;
use std::time::Duration;

use doppel_core::group::{GroupConfig, Placement};
use doppel_sim::{FaultPlan, LinkConfig, SeedRange, SimBuilder, Strategy};

use crate::workload::{Load, Workload};

pub use error::SpecError;

/// A checked scenario.
#[derive(Clone)]
pub struct Spec {
    /// Its name (the file's stem unless the file says otherwise).
    pub name: String,
    /// Where it came from: a path, or `builtin:NAME`.
    pub source: String,
    /// One line on what it shows.
    pub about: String,
    /// The server and checking client it runs, from `workload = "..."`.
    pub workload: &'static dyn Workload,
    /// The server variant, as an index into the workload's variants.
    pub variant: usize,
    /// The clients' load.
    pub load: Load,
    /// The seeds `explore` sweeps unless told otherwise.
    pub seeds: SeedRange,
    /// Virtual time a simulated run may take.
    pub time_limit: Duration,
    /// Wall time a loopback run may take.
    pub real_time_limit: Duration,
    /// Links and kernel limits.
    pub network: Network,
    /// The fault plan.
    pub faults: FaultPlan,
    /// The server's group of reactors (`[server]`); `None`: one reactor.
    pub server: Option<GroupConfig>,
    /// The liveness phase (`[liveness]`), if any.
    pub liveness: Option<doppel_sim::Liveness>,
}

/// The simulated network of a spec.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// Every link's latency and jitter.
    pub link: LinkConfig,
    /// Links with their own configuration (host names).
    pub links: Vec<(String, String, LinkConfig)>,
    /// Receive window per connection direction, bytes.
    pub window: Option<usize>,
    /// Listen backlog cap.
    pub backlog: Option<u32>,
    /// Cut writes at seeded boundaries.
    pub split: bool,
    /// How the simulator picks the next reactor and task.
    pub strategy: Strategy,
    /// A skewed host's largest wall-clock offset and drift in ppm (the `clock-skew` class).
    pub clock_skew: (Duration, u32),
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("name", &self.name)
            .field("workload", &self.workload.name())
            .field("variant", &self.variant_name())
            .field("load", &self.load)
            .field("faults", &self.faults.to_string())
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Spec {
    /// Parses and checks the text of a spec whose workload is one of `workloads`; `file`
    /// names it in errors (`builtin:NAME` for a built-in one).
    pub fn parse_with(
        file: &str,
        text: &str,
        workloads: &[&'static dyn Workload],
    ) -> Result<Spec, SpecError> {
        let raw = check::deserialize(file, text)?;
        let stem = Path::new(file.strip_prefix("builtin:").unwrap_or(file))
            .file_stem()
            .map_or_else(|| file.to_string(), |s| s.to_string_lossy().into_owned());
        check::Checker {
            file,
            text,
            workloads,
        }
        .spec(raw, stem)
    }

    /// Reads and checks the spec at `path`.
    pub fn read(path: &Path, workloads: &[&'static dyn Workload]) -> Result<Spec, SpecError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| SpecError {
            file: file.clone(),
            line: None,
            key: None,
            message: format!("cannot read it: {e}"),
        })?;
        Spec::parse_with(&file, &text, workloads)
    }

    /// The server variant's name.
    pub fn variant_name(&self) -> &'static str {
        self.workload.variants()[self.variant].name
    }

    /// The server's shape in a few words, when it runs on a group: `main + 3 sub-reactors + 1
    /// worker, round-robin, at most 10000 connections`.
    pub fn server_shape(&self) -> Option<String> {
        self.server.map(|g| {
            let plural = |n: usize, what: &str| match n {
                1 => format!("1 {what}"),
                n => format!("{n} {what}s"),
            };
            let placement = match g.placement {
                Placement::RoundRobin => "round-robin",
                Placement::LeastLoaded => "least-loaded",
            };
            format!(
                "main + {} + {}, {placement}, at most {} connections",
                plural(g.sub_reactors, "sub-reactor"),
                plural(g.workers, "worker"),
                g.max_connections
            )
        })
    }

    /// The simulated world for `seed`, with the spec's faults.
    pub fn world(&self, seed: u64) -> SimBuilder {
        self.world_with(seed, self.faults.clone())
    }

    /// The simulated world for `seed` with another fault plan (`--swarm`, `shrink`).
    pub fn world_with(&self, seed: u64, faults: FaultPlan) -> SimBuilder {
        let n = &self.network;
        let mut b = crate::run::sim_on(self.workload, self.variant, &self.load, seed, self.server)
            .faults(faults)
            .time_limit(self.time_limit)
            .latency(n.link.latency)
            .jitter(n.link.jitter)
            .split_segments(n.split)
            .strategy(n.strategy)
            .clock_skew(n.clock_skew.0, n.clock_skew.1);
        if let Some(l) = self.liveness {
            b = b.liveness(l.after, l.within);
        }
        for (a, z, cfg) in &n.links {
            b = b.link(a, z, *cfg);
        }
        if let Some(w) = n.window {
            b = b.window(w);
        }
        if let Some(k) = n.backlog {
            b = b.backlog(k);
        }
        b
    }
}
