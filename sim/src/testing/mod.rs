//! What `#[doppel::test]` runs: a seed sweep of one test's world over threads, each seed
//! checked for determinism, the whole range run whatever fails; then, for the first failing
//! seeds, the shrunk 1-minimal fault set, a replay command that works as typed, the shrunk
//! run's whole trace on disk and the events around its decisive fault. `DOPPEL_SEED` replays
//! one seed (see [`env`](self) for the variables).
//!
//! The attribute fills in a [`TestSpec`] and calls [`run`]; a test may also call [`run`]
//! itself, with a [`Target`] from [`target!`](crate::target).

mod env;
mod target;

use std::fmt::Write as _;
use std::ops::Range;
use std::time::Duration;

pub use target::{replay_command, test_path, Target, TargetKind};

use crate::builder::SimBuilder;
use crate::explore::{Explore, FailedSeed, Sweep};
use crate::faults::FaultPlan;
use crate::report::SimError;
use crate::sched::Strategy;
use crate::shrink::{Shrink, Shrunk};

/// One seeded test: what `#[doppel::test(...)]` says, and where the test lives.
#[derive(Clone, Debug)]
pub struct TestSpec {
    /// The test function's name.
    pub name: &'static str,
    /// `module_path!()` where it is defined.
    pub module: &'static str,
    /// The seeds swept (`seeds = A..B`; default `0..100`).
    pub seeds: Range<u64>,
    /// A fault plan over the builder's (`faults = "PLAN"`).
    pub faults: Option<&'static str>,
    /// A scheduling strategy over the builder's (`strategy = "pct:3"`).
    pub strategy: Option<&'static str>,
    /// Worker threads (`jobs = N`; default one per core).
    pub jobs: Option<usize>,
    /// Wall time each failing seed may spend shrinking (`shrink_time = "10s"`).
    pub shrink_time: Duration,
    /// How many failing seeds are shrunk and shown (`show = N`; default 3).
    pub show: usize,
    /// Fail the test when an assertion is left uncovered (`require_coverage = true`).
    pub require_coverage: bool,
    /// Stop the sweep once this many seeds in a row add no coverage point (`plateau = N`).
    pub plateau: Option<u64>,
    /// The modules whose assertions the sweep checks (`coverage_scope = "my_server::cache"`,
    /// a comma list; empty: every assertion in the test binary).
    pub coverage_scope: &'static [&'static str],
    /// Whether the test carries an `ignore` attribute (its replay command needs `--ignored`).
    pub ignored: bool,
    /// The crate and target it was compiled into.
    pub target: Target,
}

impl TestSpec {
    /// The test's path as libtest names it.
    pub fn path(&self) -> String {
        test_path(self.module, self.name)
    }
}

/// The seeds a test sweeps when its attribute names none.
pub const DEFAULT_SEEDS: Range<u64> = 0..100;

/// `start..=end` as the half-open range the sweep takes (`seeds = A..=B` expands to it).
///
/// # Panics
/// When `end` is the largest seed: no half-open range of `u64` holds it.
#[track_caller]
pub fn inclusive(start: u64, end: u64) -> Range<u64> {
    match end.checked_add(1) {
        Some(e) => start..e,
        None => panic!(
            "doppel: seeds {start}..={end}: the last seed is too large to include (end the range \
             at {} or below, or replay it alone with DOPPEL_SEED={end})",
            u64::MAX - 1
        ),
    }
}

/// Fills in a [`Target`] from the calling crate's compile-time environment (what
/// `#[doppel::test]` expands to); the features are listed by the caller, which knows its own.
#[macro_export]
macro_rules! target {
    ($features:expr, $no_default_features:expr) => {
        $crate::testing::Target {
            package: env!("CARGO_PKG_NAME"),
            manifest_dir: env!("CARGO_MANIFEST_DIR"),
            crate_name: env!("CARGO_CRATE_NAME"),
            kind: if option_env!("CARGO_TARGET_TMPDIR").is_some() {
                $crate::testing::TargetKind::Test
            } else if option_env!("CARGO_BIN_NAME").is_some() {
                $crate::testing::TargetKind::Bin
            } else {
                $crate::testing::TargetKind::Lib
            },
            bin: option_env!("CARGO_BIN_NAME"),
            release: !cfg!(debug_assertions),
            features: $features,
            no_default_features: $no_default_features,
        }
    };
}

/// Runs test `spec` over the world `build` makes for each seed (called afresh for every run,
/// the determinism re-run included). Prints a summary; on a failure, or a bad setup or
/// environment, panics with the report. `#[doppel::test]` expands to a call of this.
///
/// ```
/// use doppel_sim::testing::{run, TestSpec};
/// use doppel_sim::SimBuilder;
///
/// fn world(seed: u64) -> SimBuilder {
///     SimBuilder::new(seed)
///         .host("server", "10.0.0.1", || async { Ok(()) })
///         .client("client", "10.0.0.2", || async { Ok(()) })
/// }
/// let spec = TestSpec {
///     name: "passes",
///     module: module_path!(),
///     seeds: 0..10,
///     faults: Some("benign=0.05"),
///     strategy: None,
///     jobs: Some(1),
///     shrink_time: std::time::Duration::from_secs(5),
///     show: 3,
///     require_coverage: false,
///     plateau: None,
///     coverage_scope: &[],
///     ignored: false,
///     target: doppel_sim::target!(Vec::new(), false),
/// };
/// run(&spec, world);
/// ```
#[track_caller]
pub fn run(spec: &TestSpec, build: impl Fn(u64) -> SimBuilder + Sync) {
    if let Err(report) = try_run(spec, build) {
        panic!("{report}");
    }
}

/// [`run`], returning the failure report instead of panicking with it.
pub fn try_run(spec: &TestSpec, build: impl Fn(u64) -> SimBuilder + Sync) -> Result<(), String> {
    let path = spec.path();
    let ov = env::overrides(&path).map_err(|e| format!("doppel: {path}: {e}"))?;
    let strategy = spec
        .strategy
        .map(str::parse::<Strategy>)
        .transpose()
        .map_err(|e| format!("doppel: {path}: strategy {e}"))?;
    let world = move |seed: u64| match strategy {
        Some(s) => build(seed).strategy(s),
        None => build(seed),
    };
    let seeds = ov.seeds.clone().unwrap_or_else(|| spec.seeds.clone());
    if ov.seed.is_none() && seeds.is_empty() {
        return Err(format!(
            "doppel: {path}: seeds {}..{} is empty: nothing would run",
            seeds.start, seeds.end
        ));
    }
    let mut explore = Explore::new(match ov.seed {
        Some(s) => s..s.saturating_add(1),
        None => seeds,
    });
    let attr_faults = spec
        .faults
        .map(str::parse::<FaultPlan>)
        .transpose()
        .map_err(|e| format!("doppel: {path}: faults = {:?}: {e}", spec.faults))?;
    if let Some(plan) = ov.faults.clone().or(attr_faults) {
        explore = explore.faults(plan);
    }
    if let Some(only) = ov.only.clone() {
        explore = explore.only(only);
    }
    if let Some(jobs) = spec.jobs {
        explore = explore.jobs(jobs);
    }
    explore = explore
        .require_coverage(spec.require_coverage)
        .coverage_scope(spec.coverage_scope.iter().map(|m| m.to_string()).collect());
    if let Some(n) = spec.plateau {
        explore = explore.plateau(n);
    }
    let session = Session {
        spec,
        path,
        explore,
        only_set: ov.only.is_some(),
        carried: ov.carried.clone(),
    };
    match ov.seed {
        Some(seed) => session.replay(seed, &world),
        None => session.sweep(&world),
    }
}

/// One test's run: its spec, its path and its sweep.
struct Session<'a> {
    /// The test.
    spec: &'a TestSpec,
    path: String,
    /// The sweep, with the environment's overrides.
    explore: Explore<'a>,
    /// Whether `DOPPEL_ONLY` is set (the replay commands carry it on).
    only_set: bool,
    /// `DOPPEL_FAULTS` and `DOPPEL_ONLY` as this run got them: its replay commands set them
    /// too, or they would replay another run.
    carried: Vec<(&'static str, String)>,
}

impl Session<'_> {
    /// The world of `seed`, with the sweep's overrides.
    fn world(&self, build: &dyn Fn(u64) -> SimBuilder, seed: u64) -> SimBuilder {
        self.explore.world(build, seed)
    }

    /// Sweeps the seeds; on failures, explains the first few.
    fn sweep(&self, build: &(dyn Fn(u64) -> SimBuilder + Sync)) -> Result<(), String> {
        let sweep = self
            .explore
            .run(build)
            .map_err(|e| format!("doppel: {}: bad simulation setup: {e}", self.path))?;
        if !sweep.passed() {
            return Err(self.failure_report(&sweep, build));
        }
        let rate = sweep.seeds_run as f64 / sweep.wall_seconds.max(1e-9);
        println!(
            "doppel: {}: seeds {}..{} passed in {:.2} s ({rate:.0} seeds/s)",
            self.path, sweep.range[0], sweep.range[1], sweep.wall_seconds
        );
        print!("{}", sweep.text(0));
        Ok(())
    }

    /// The report of a failing sweep: the counts, then the first failing seeds explained.
    fn failure_report(&self, sweep: &Sweep, build: &dyn Fn(u64) -> SimBuilder) -> String {
        let mut out = format!(
            "doppel: {}: seeds {}..{} in {:.2} s: {}",
            self.path,
            sweep.range[0],
            sweep.range[1],
            sweep.wall_seconds,
            sweep.text(0)
        );
        for f in sweep.failed.iter().take(self.spec.show) {
            out.push('\n');
            out.push_str(&self.explain(f, build));
        }
        if sweep.failed.len() > self.spec.show {
            let rest: Vec<String> = sweep.failed[self.spec.show..]
                .iter()
                .take(20)
                .map(|f| f.seed.to_string())
                .collect();
            let _ = writeln!(
                out,
                "\n{} more failing seeds: {}{}",
                sweep.failed.len() - self.spec.show,
                rest.join(", "),
                if sweep.failed.len() - self.spec.show > 20 {
                    ", ..."
                } else {
                    ""
                }
            );
        }
        out
    }

    /// The replay command for `seed`, with `only` as `DOPPEL_ONLY` if given.
    fn replay_line(&self, seed: u64, only: Option<String>) -> String {
        let mut env = vec![
            ("DOPPEL_TEST", self.path.clone()),
            ("DOPPEL_SEED", seed.to_string()),
        ];
        for (k, v) in &self.carried {
            if !(only.is_some() && *k == "DOPPEL_ONLY") {
                env.push((k, v.clone()));
            }
        }
        if let Some(o) = only {
            env.push(("DOPPEL_ONLY", o));
        }
        replay_command(&self.spec.target, &self.path, self.spec.ignored, &env)
    }

    /// One failing seed: its error, its replay command, its shrunk faults and their replay,
    /// the shrunk run's trace file and the events around the decisive fault.
    fn explain(&self, f: &FailedSeed, build: &dyn Fn(u64) -> SimBuilder) -> String {
        let hash = if f.hash.is_empty() {
            String::new()
        } else {
            format!(" (hash {})", f.hash)
        };
        let mut out = format!("seed {}{hash} failed: {}\n", f.seed, f.failure);
        let _ = writeln!(out, "  replay: {}", self.replay_line(f.seed, None));
        if f.kind == "nondeterministic" || f.kind == "panic" || self.only_set {
            return out;
        }
        let world = |s: u64| self.world(build, s);
        let shrunk = Shrink::new()
            .time_budget(Some(self.spec.shrink_time))
            .run(f.seed, world);
        match shrunk {
            Ok(s) => out.push_str(&self.explain_shrunk(&s, build)),
            Err(e) => {
                let _ = writeln!(out, "  could not shrink it: {e}");
            }
        }
        out
    }

    /// The shrunk part of [`Session::explain`].
    fn explain_shrunk(&self, s: &Shrunk, build: &dyn Fn(u64) -> SimBuilder) -> String {
        let mut out = format!(
            "  shrunk: {} injected faults to {} in {} runs (hash {:016x}; {})\n",
            s.original,
            s.faults.len(),
            s.runs,
            s.report.hash,
            if s.minimal {
                "1-minimal: without any one of them the seed passes or fails another way"
            } else {
                "the time budget ran out first: smaller, not yet 1-minimal"
            }
        );
        if s.faults.is_empty() {
            out.push_str("    no injected fault at all: the network's own behaviour and the scheduling order are enough\n");
        }
        for fired in &s.faults {
            let _ = writeln!(out, "    {fired}");
        }
        let _ = writeln!(out, "    failure: {}", s.failure.line());
        let _ = writeln!(
            out,
            "  replay the shrunk run: {}",
            self.replay_line(s.seed, Some(s.only()))
        );
        let mut traced = self.world(build, s.seed).trace(true);
        traced.plan = s.plan.clone();
        if let Err(SimError::Failed(f)) = traced.run() {
            if let Some(trace) = &f.report.trace {
                let decisive = s.decisive().map(|d| d.name());
                out.push_str(&self.show_trace(trace, &format!("seed{}-shrunk", s.seed), decisive));
            }
        }
        out
    }

    /// Writes a trace beside the build's other traces, as `TEST-WHAT.trace`; the path and the
    /// events that matter: those around `fault`, or the last ones.
    fn show_trace(
        &self,
        trace: &doppel_trace::Trace,
        what: &str,
        fault: Option<crate::faults::FaultName>,
    ) -> String {
        let mut out = String::new();
        let file = format!(
            "{}-{what}.trace",
            self.path
                .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
        );
        let dir = doppel_trace::trace_dir();
        let written = std::fs::create_dir_all(&dir)
            .and_then(|()| trace.write(&dir.join(&file), doppel_trace::Format::Text));
        match written {
            Ok(()) => {
                let _ = writeln!(out, "  whole trace: {}", dir.join(&file).display());
            }
            Err(e) => {
                let _ = writeln!(out, "  could not write the whole trace: {e}");
            }
        }
        let around = fault.and_then(|name| trace.around(&name.to_string(), 16));
        match around {
            Some(a) => {
                let _ = writeln!(out, "  {}", a.to_string().replace('\n', "\n  "));
            }
            None => {
                let tail = trace.tail(16);
                let _ = writeln!(out, "  last {} of {} events:", tail.len(), trace.len());
                for line in tail {
                    let _ = writeln!(out, "      {line}");
                }
            }
        }
        out
    }

    /// `DOPPEL_SEED=N`: runs that seed twice (it must replay), traced; prints its hash and
    /// the trace's path, and fails the test if the seed fails.
    fn replay(&self, seed: u64, build: &dyn Fn(u64) -> SimBuilder) -> Result<(), String> {
        let world = |s: u64| self.world(build, s).trace(true);
        world(seed)
            .build()
            .map_err(|e| format!("doppel: {}: bad simulation setup: {e}", self.path))?;
        let result = crate::check::check_determinism(seed, world);
        let (report, failure) = match result {
            Ok(r) => (r, None),
            Err(SimError::Failed(f)) => (f.report, Some(f.kind)),
            Err(e) => return Err(format!("doppel: {} seed {seed}: {e}", self.path)),
        };
        let verdict = match &failure {
            None => "passed".to_string(),
            Some(k) => format!("failed: {}", k.line()),
        };
        let mut out = format!(
            "doppel: {} seed {seed} (hash {:016x}) {verdict}\n  replayed twice: the same run, event for event\n  faults: {} (plan: {})\n",
            self.path, report.hash, report.faults, report.plan
        );
        if let Some(trace) = &report.trace {
            let last = report.fired.last().map(crate::faults::Fired::name);
            let what = if self.only_set {
                format!("seed{seed}-only")
            } else {
                format!("seed{seed}")
            };
            out.push_str(&self.show_trace(trace, &what, last.filter(|_| self.only_set)));
        }
        match failure {
            None => {
                print!("{out}");
                Ok(())
            }
            Some(_) => Err(out),
        }
    }
}
