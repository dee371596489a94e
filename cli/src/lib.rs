//! doppel-cli: the `doppel` command as a library, re-exported as `doppel::cli` (feature
//! `cli`). A binary hands a [`Cli`] its scenarios (its own world functions, its own
//! [`Workload`]s and the TOML specs that name them) and gets `list`, `run`, `explore`,
//! `combine`, `replay` and `shrink` over them, with `help` and suggestions for misspelled verbs
//! and flags.
//!
//! ```no_run
//! use doppel_sim::SimBuilder;
//!
//! fn world(seed: u64) -> SimBuilder {
//!     SimBuilder::new(seed)
//!         .host("server", "10.0.0.1", || async { Ok(()) })
//!         .client("client", "10.0.0.2", || async { Ok(()) })
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     doppel_cli::Cli::new("myserver-sim")
//!         .world("smoke", "the server starts and a client connects", 0..1000, world)
//!         .main()
//! }
//! ```
//!
//! # Module map
//!
//! | module       | what                                                                  |
//! |--------------|-----------------------------------------------------------------------|
//! | [`Cli`] (here) | the scenarios a binary offers, and its `main`                       |
//! | `scenario`   | [`Scenario`]: a spec or a world function, as every verb sees it         |
//! | [`workload`] | the [`Workload`] trait: a server and its checking client, by name      |
//! | [`spec`]     | TOML scenario specs over workloads: load, network, faults, seeds       |
//! | [`run`]      | a workload simulated or on loopback, on one reactor or a group          |
//! | `cmd`        | the verbs, their flags (clap) and their output                         |

mod cmd;
pub mod run;
mod scenario;
pub mod spec;
pub mod workload;

use std::ffi::OsString;
use std::ops::Range;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use doppel_sim::{SeedRange, SimBuilder};

pub use run::{real, real_on, sim, sim_on, RealOutcome};
pub use scenario::Scenario;
pub use spec::{Spec, SpecError};
pub use workload::{bind_server, Load, Task, Transport, Variant, Workload, CORRECT};

/// The scenarios a binary offers: world functions, workloads and the specs that name them.
/// [`Cli::main`] parses the command line and runs the verb; [`Cli::run`] takes the arguments.
///
/// ```
/// use doppel_sim::SimBuilder;
///
/// fn world(seed: u64) -> SimBuilder {
///     SimBuilder::new(seed)
///         .host("server", "10.0.0.1", || async { Ok(()) })
///         .client("client", "10.0.0.2", || async { Ok(()) })
/// }
/// let cli = || doppel_cli::Cli::new("mytool").world("smoke", "nothing at all", 0..100, world);
/// assert_eq!(cli().run(["mytool", "run", "smoke", "--seed", "3"]), std::process::ExitCode::SUCCESS);
/// assert_eq!(cli().run(["mytool", "explore", "smoke", "--jobs", "0"]), std::process::ExitCode::from(2));
/// assert!(cli().find("smokes").unwrap_err().contains("no such scenario"));
/// ```
pub struct Cli {
    /// The command's name, as its replay lines print it.
    pub(crate) name: String,
    /// Workloads specs may name.
    pub(crate) workloads: Vec<&'static dyn Workload>,
    /// Registered specs: a name and the TOML text.
    pub(crate) specs: Vec<(String, &'static str)>,
    /// Registered world functions: name, about, seeds (or why they are bad), builder.
    pub(crate) worlds: Vec<(String, String, Result<SeedRange, String>, scenario::Build)>,
}

impl std::fmt::Debug for Cli {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cli")
            .field("name", &self.name)
            .field("specs", &self.specs.len())
            .field("worlds", &self.worlds.len())
            .finish_non_exhaustive()
    }
}

impl Cli {
    /// A command called `name` (what its replay lines start with), with no scenarios yet.
    pub fn new(name: &str) -> Cli {
        Cli {
            name: name.to_string(),
            workloads: Vec::new(),
            specs: Vec::new(),
            worlds: Vec::new(),
        }
    }

    /// Offers a workload: TOML specs (registered, or given by path) may name it.
    pub fn workload(mut self, w: &'static dyn Workload) -> Cli {
        self.workloads.push(w);
        self
    }

    /// Offers several workloads.
    pub fn workloads(mut self, ws: &[&'static dyn Workload]) -> Cli {
        self.workloads.extend_from_slice(ws);
        self
    }

    /// Offers a spec by name: `toml` is its text (typically `include_str!("specs/x.toml")`).
    /// It is checked when a verb uses it.
    pub fn spec(mut self, name: &str, toml: &'static str) -> Cli {
        self.specs.push((name.to_string(), toml));
        self
    }

    /// Offers a world function by name: `build(seed)` makes the world for a seed, and is
    /// called afresh for every run. `seeds` is what `explore` sweeps unless told otherwise.
    pub fn world(
        mut self,
        name: &str,
        about: &str,
        seeds: Range<u64>,
        build: impl Fn(u64) -> SimBuilder + Send + Sync + 'static,
    ) -> Cli {
        let range = SeedRange::parse(&format!("{}..{}", seeds.start, seeds.end))
            .map_err(|e| format!("scenario {name}: {e}"));
        self.worlds
            .push((name.to_string(), about.to_string(), range, Arc::new(build)));
        self
    }

    /// Runs the command line this process was started with; the exit status to return from
    /// `main`.
    pub fn main(self) -> ExitCode {
        self.run(std::env::args_os())
    }

    /// Runs `argv` (program name first): 0 passed, 1 failed, 2 bad input.
    pub fn run<I, T>(self, argv: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        cmd::main(&self, argv)
    }

    /// Every registered scenario's name, specs first.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.specs.iter().map(|(n, _)| n.clone()).collect();
        names.extend(self.worlds.iter().map(|w| w.0.clone()));
        names
    }

    /// The scenario `name_or_path` names: a registered one, or a `.toml` spec's path.
    pub fn find(&self, name_or_path: &str) -> Result<Scenario, String> {
        let path = Path::new(name_or_path);
        if name_or_path.ends_with(".toml") || path.components().count() > 1 {
            let spec = Spec::read(path, &self.workloads).map_err(|e| e.to_string())?;
            return Ok(Scenario::from_spec(spec, name_or_path.to_string()));
        }
        if let Some((_, text)) = self.specs.iter().find(|(n, _)| n == name_or_path) {
            let file = format!("builtin:{name_or_path}");
            let spec = Spec::parse_with(&file, text, &self.workloads).map_err(|e| e.to_string())?;
            return Ok(Scenario::from_spec(spec, name_or_path.to_string()));
        }
        if let Some((name, about, seeds, build)) = self.worlds.iter().find(|w| w.0 == name_or_path)
        {
            let seeds = seeds.clone()?;
            return Scenario::from_world(name, about, seeds, build.clone());
        }
        let known = self.names();
        Err(format!(
            "{name_or_path}: no such scenario ({}or give a path to a .toml spec)",
            if known.is_empty() {
                String::new()
            } else {
                format!("known: {}; ", known.join(", "))
            }
        ))
    }
}
