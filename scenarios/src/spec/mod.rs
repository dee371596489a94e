//! Scenario specs: TOML files that name a workload and its server variant, the load, the
//! network, the fault plan, a virtual-time limit and a seed range. A spec is checked whole before
//! anything runs; an error names the file, the line and the key, and says what is expected.
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
//! ```

mod builtin;
mod check;
pub mod duration;
mod error;
mod raw;
pub mod seeds;

use std::path::Path;
use std::time::Duration;

use doppel::sim::{FaultPlan, LinkConfig, SimBuilder, Strategy};

use crate::workload::{Load, Workload};

pub use builtin::{builtin, BUILTIN};
pub use error::SpecError;
pub use seeds::{SeedRange, Shard};

/// A checked scenario.
#[derive(Clone)]
pub struct Spec {
    /// Its name (the file's stem unless the file says otherwise).
    pub name: String,
    /// Where it came from: a path, or `builtin:NAME`.
    pub source: String,
    /// One line on what it shows.
    pub about: String,
    /// The workload.
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
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("name", &self.name)
            .field("workload", &self.workload.name())
            .field("variant", &self.variant_name())
            .field("load", &self.load)
            .field("faults", &self.faults.to_string())
            .finish_non_exhaustive()
    }
}

impl Spec {
    /// Parses and checks the text of a spec; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Spec, SpecError> {
        let raw = check::deserialize(file, text)?;
        let stem = Path::new(file.strip_prefix("builtin:").unwrap_or(file))
            .file_stem()
            .map_or_else(|| file.to_string(), |s| s.to_string_lossy().into_owned());
        check::Checker { file, text }.spec(raw, stem)
    }

    /// Reads and checks the spec at `path`.
    pub fn read(path: &Path) -> Result<Spec, SpecError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| SpecError {
            file: file.clone(),
            line: None,
            key: None,
            message: format!("cannot read it: {e}"),
        })?;
        Spec::parse(&file, &text)
    }

    /// A spec by built-in name (`doppel list` shows them) or by path to a `.toml` file.
    pub fn find(name_or_path: &str) -> Result<Spec, SpecError> {
        let path = Path::new(name_or_path);
        if name_or_path.ends_with(".toml") || path.components().count() > 1 {
            return Spec::read(path);
        }
        match builtin(name_or_path) {
            Some(text) => Spec::parse(&format!("builtin:{name_or_path}"), text),
            None => Err(SpecError {
                file: name_or_path.to_string(),
                line: None,
                key: None,
                message: format!(
                    "no such scenario (built in: {}; or give a path to a .toml file)",
                    BUILTIN.map(|(n, _)| n).join(", ")
                ),
            }),
        }
    }

    /// The server variant's name.
    pub fn variant_name(&self) -> &'static str {
        self.workload.variants()[self.variant].name
    }

    /// The simulated world for `seed`, with the spec's faults.
    pub fn world(&self, seed: u64) -> SimBuilder {
        self.world_with(seed, self.faults.clone())
    }

    /// The simulated world for `seed` with another fault plan (`--swarm`, `shrink`).
    pub fn world_with(&self, seed: u64, faults: FaultPlan) -> SimBuilder {
        let n = &self.network;
        let mut b = crate::run::sim(self.workload, self.variant, &self.load, seed)
            .faults(faults)
            .time_limit(self.time_limit)
            .latency(n.link.latency)
            .jitter(n.link.jitter)
            .split_segments(n.split)
            .strategy(n.strategy);
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
