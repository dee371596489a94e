//! A scenario, as every command sees it: a name, a world per seed, the plan it runs under by
//! default, the seeds `explore` sweeps, and optionally a loopback run. Both kinds a [`Cli`]
//! knows become one: a TOML spec over a [`Workload`], and a user's own world function.
//!
//! [`Cli`]: crate::Cli
//! [`Workload`]: crate::Workload

use std::io;
use std::sync::Arc;

use doppel_sim::{FaultPlan, SeedRange, SimBuilder};

use crate::run::RealOutcome;
use crate::spec::Spec;

/// Builds a scenario's world for a seed.
pub(crate) type Build = Arc<dyn Fn(u64) -> SimBuilder + Send + Sync>;

/// Runs a scenario on loopback.
pub(crate) type Loopback = Arc<dyn Fn() -> io::Result<RealOutcome> + Send + Sync>;

/// One scenario, ready to run.
#[derive(Clone)]
pub struct Scenario {
    /// What summaries and reports call it (a spec's `name`, or its file's stem).
    pub name: String,
    /// One line on what it shows.
    pub about: String,
    /// How a command line names it again: the name of a registered one, or a spec's path.
    pub reference: String,
    /// What runs as the server: `workload/variant` for a spec, `world` for a world function.
    pub server: String,
    /// The seeds `explore` sweeps unless told otherwise.
    pub seeds: SeedRange,
    /// The plan it runs under unless told otherwise.
    pub faults: FaultPlan,
    /// The server's group of reactors in a few words, when it runs on one.
    pub shape: Option<String>,
    /// The modules whose assertions its sweeps check ([`crate::Workload::coverage_scope`];
    /// empty: every assertion in the binary).
    pub coverage_scope: Vec<String>,
    /// Builds the world for a seed, under `faults`.
    build: Build,
    /// The loopback run, if it has one.
    real: Option<Loopback>,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario")
            .field("name", &self.name)
            .field("server", &self.server)
            .field("seeds", &self.seeds)
            .finish_non_exhaustive()
    }
}

impl Scenario {
    /// A scenario from a checked spec; `reference` is how a command line names it.
    pub(crate) fn from_spec(spec: Spec, reference: String) -> Scenario {
        let spec = Arc::new(spec);
        let (s1, s2) = (spec.clone(), spec.clone());
        Scenario {
            name: spec.name.clone(),
            about: spec.about.clone(),
            reference,
            server: format!("{}/{}", spec.workload.name(), spec.variant_name()),
            seeds: spec.seeds,
            faults: spec.faults.clone(),
            shape: spec.server_shape(),
            coverage_scope: spec
                .workload
                .coverage_scope()
                .iter()
                .map(|m| m.to_string())
                .collect(),
            build: Arc::new(move |seed| s1.world(seed)),
            real: Some(Arc::new(move || {
                crate::run::real_on(
                    s2.workload,
                    s2.variant,
                    &s2.load,
                    s2.real_time_limit,
                    s2.server,
                )
            })),
        }
    }

    /// A scenario from a world function (its plan is the one the function's builder sets);
    /// an error if building its first seed's world panics.
    pub(crate) fn from_world(
        name: &str,
        about: &str,
        seeds: SeedRange,
        build: Build,
    ) -> Result<Scenario, String> {
        let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            build(seeds.start).plan().clone()
        }));
        let faults = first.map_err(|p| {
            let why = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            format!(
                "scenario {name}: building the world for seed {} panicked: {why}",
                seeds.start
            )
        })?;
        Ok(Scenario {
            name: name.to_string(),
            about: about.to_string(),
            reference: name.to_string(),
            server: "world".to_string(),
            seeds,
            faults,
            shape: None,
            coverage_scope: Vec::new(),
            build,
            real: None,
        })
    }

    /// The world for `seed` under its own plan.
    pub fn world(&self, seed: u64) -> SimBuilder {
        (self.build)(seed)
    }

    /// The world for `seed` under `plan` instead; under its own plan when `plan` is it (so a
    /// world function whose plan depends on the seed keeps it).
    pub fn world_with(&self, seed: u64, plan: FaultPlan) -> SimBuilder {
        if plan == self.faults {
            return (self.build)(seed);
        }
        (self.build)(seed).faults(plan)
    }

    /// Runs it on loopback, if it has a loopback run.
    pub(crate) fn real(&self) -> Option<io::Result<RealOutcome>> {
        self.real.as_ref().map(|r| r())
    }
}
