//! Sweeping seeds: the one implementation behind `#[doppel::test]`, [`crate::check_seeds`] and
//! the `doppel explore` command. Seeds run on worker threads (each world stays on one thread,
//! so the sweep's parallelism never reaches inside a run); every seed runs to the end of the
//! range (or of a time budget, or of a coverage plateau) whatever fails, and the [`Sweep`]
//! counts what failed, how, which faults fired and what the user's assertions did
//! (`collect.rs` counts the seeds in seed order, whichever thread ran them).

mod collect;

use collect::{Collector, Finished};

use std::collections::BTreeMap;
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::builder::SimBuilder;
use crate::coverage::AssertionSummary;
use crate::faults::{FaultClass, FaultName, FaultPlan};
use crate::report::{ConfigError, Report, SimError};

/// When a sweep checks that a seed replays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Determinism {
    /// Every seed runs twice, each time from a fresh `build(seed)`, and the runs must agree
    /// (`#[doppel::test]` and [`crate::check_seeds`]).
    EverySeed,
    /// Each failing seed runs once more and must fail the same way (`doppel explore`: half
    /// the cost, and every failure it reports is known to replay).
    FailingSeeds,
    /// No second run.
    Off,
}

/// How far a sweep has got, for a progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Seeds finished.
    pub done: u64,
    /// Of them, failed.
    pub failed: u64,
    /// Seeds in the sweep.
    pub total: u64,
}

/// A sweep over a range of seeds: how many threads, which determinism check, an optional
/// fault plan over the builder's, a time budget. Set it up, then [`Explore::run`] it with the
/// function that builds the world for a seed.
///
/// ```
/// use doppel_sim::{explore::Explore, FaultPlan, SimBuilder};
///
/// // A world whose client fails for seeds divisible by 3.
/// fn world(seed: u64) -> SimBuilder {
///     SimBuilder::new(seed)
///         .host("server", "10.0.0.1", || async { Ok(()) })
///         .client("client", "10.0.0.2", move || async move {
///             if seed % 3 == 0 { Err(std::io::Error::other("boom")) } else { Ok(()) }
///         })
/// }
/// let sweep = Explore::new(0..10).jobs(2).faults(FaultPlan::benign(0.01)).run(world).unwrap();
/// assert_eq!((sweep.seeds_run, sweep.failed.len()), (10, 4));
/// assert_eq!(sweep.failed[1].seed, 3);
/// assert!(sweep.failed[1].failure.contains("boom"));
/// ```
pub struct Explore<'a> {
    /// The seeds, `start..end`.
    seeds: Range<u64>,
    /// Worker threads; `None`: one per core.
    jobs: Option<usize>,
    /// When to run a seed a second time.
    determinism: Determinism,
    /// Replaces the builder's random-class probabilities (its partitions and crashes stay).
    faults: Option<FaultPlan>,
    /// Only these faults may fire, when set.
    only: Option<Vec<FaultName>>,
    /// Wall time after which no new seed starts.
    budget: Option<Duration>,
    /// Keep every seed's report in the sweep, in seed order.
    keep_reports: bool,
    /// Called after each seed, from the worker that ran it.
    progress: Option<&'a (dyn Fn(Progress) + Sync)>,
    /// Module prefixes whose catalogued assertions the sweep must see covered (empty: all).
    scope: Vec<String>,
    /// An assertion left uncovered fails the sweep.
    require_coverage: bool,
    /// Stop after this many seeds in a row add no coverage point.
    plateau: Option<u64>,
}

impl std::fmt::Debug for Explore<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Explore")
            .field("seeds", &self.seeds)
            .field("jobs", &self.jobs)
            .field("determinism", &self.determinism)
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

/// One failing seed of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailedSeed {
    /// The seed to replay it with.
    pub seed: u64,
    /// Its run's hash, as 16 hex digits (empty when the run never ended: a panic).
    pub hash: String,
    /// What kind of failure: `client`, `stall`, `time-limit`, `livelock`, `assertion`,
    /// `liveness`, `nondeterministic` or `panic`.
    pub kind: String,
    /// What went wrong, in one line.
    pub failure: String,
    /// How many faults the run injected.
    pub faults: u64,
}

/// What a sweep found: seeds run, the failing ones, faults fired per class, and which enabled
/// classes never fired (they proved nothing). Serializes to JSON (`doppel explore --json`).
///
/// ```
/// use doppel_sim::{explore::Explore, FaultClass, FaultPlan, SimBuilder};
/// let world = |seed| {
///     SimBuilder::new(seed)
///         .faults(FaultPlan::none().with(FaultClass::PollEintr, 0.5))
///         .host("server", "10.0.0.1", || async { Ok(()) })
///         .client("client", "10.0.0.2", || async {
///             doppel_core::time::sleep(std::time::Duration::from_millis(1)).await;
///             Ok(())
///         })
/// };
/// let sweep = Explore::new(0..10).jobs(1).run(world).unwrap();
/// assert!(sweep.fired(FaultClass::PollEintr) > 0);
/// assert_eq!(sweep.enabled, ["eintr-poll"]);
/// assert!(sweep.never_fired.is_empty());
/// print!("{}", sweep.text(3));
/// ```
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Sweep {
    /// The seed range asked for, `[start, end)`.
    pub range: [u64; 2],
    /// Seeds run (fewer than the range when the time budget ran out).
    pub seeds_run: u64,
    /// Failing seeds, in seed order.
    pub failed: Vec<FailedSeed>,
    /// Faults fired per class, over every seed (every class, zeros included).
    pub faults: BTreeMap<String, u64>,
    /// The classes the plan enables.
    pub enabled: Vec<String>,
    /// Enabled classes that never fired.
    pub never_fired: Vec<String>,
    /// An order-free digest of every seed's run hash: two sweeps of the same code agree.
    pub digest: String,
    /// Wall time, seconds.
    pub wall_seconds: f64,
    /// Whether every seed of the range ran (false when the time budget or a plateau stopped
    /// it).
    pub complete: bool,
    /// Every assertion the sweep should have seen covered (those that ran, and the catalog's
    /// in scope), by kind and name.
    #[serde(default)]
    pub assertions: Vec<AssertionSummary>,
    /// The `sometimes!` assertions whose condition never held.
    #[serde(default)]
    pub never_held: Vec<String>,
    /// The `reachable!` and `always!` assertions that never ran.
    #[serde(default)]
    pub never_reached: Vec<String>,
    /// Coverage points seen: assertions covered, fault classes fired, and the pairs of the two.
    #[serde(default)]
    pub coverage_points: u64,
    /// The seed at which the sweep stopped because coverage had stopped growing.
    #[serde(default)]
    pub plateau: Option<u64>,
    /// Whether an uncovered assertion fails the sweep ([`Explore::require_coverage`]).
    #[serde(default)]
    pub coverage_required: bool,
    /// Every seed's report, in seed order, when asked for ([`Explore::keep_reports`]); with
    /// its trace if the world was traced.
    #[serde(skip)]
    pub reports: Vec<Report>,
}

/// One seed's result, as the sweep keeps it.
enum Outcome {
    /// It passed (its report).
    Passed(Box<Report>),
    /// It failed (and the report of the run, if it ended).
    Failed(FailedSeed, Option<Box<Report>>),
}

impl<'a> Explore<'a> {
    /// A sweep of `seeds`: one thread per core, every seed checked for determinism, the
    /// builder's own faults, no time budget.
    pub fn new(seeds: Range<u64>) -> Explore<'a> {
        Explore {
            seeds,
            jobs: None,
            determinism: Determinism::EverySeed,
            faults: None,
            only: None,
            budget: None,
            keep_reports: false,
            progress: None,
            scope: Vec::new(),
            require_coverage: false,
            plateau: None,
        }
    }

    /// Worker threads (at least 1; more than seeds are not started).
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = Some(jobs);
        self
    }

    /// When to run a seed a second time (default [`Determinism::EverySeed`]).
    pub fn determinism(mut self, when: Determinism) -> Self {
        self.determinism = when;
        self
    }

    /// Runs every seed under `plan` instead of the builder's random-class probabilities; the
    /// builder's scheduled partitions and crashes stay.
    pub fn faults(mut self, plan: FaultPlan) -> Self {
        self.faults = Some(plan);
        self
    }

    /// Lets only the named faults fire (see [`FaultPlan::only`]).
    pub fn only(mut self, names: Vec<FaultName>) -> Self {
        self.only = Some(names);
        self
    }

    /// Starts no new seed after `budget` of wall time (the sweep says it is incomplete).
    pub fn time_budget(mut self, budget: Duration) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Keeps every seed's report (with its trace, if the world records one) in
    /// [`Sweep::reports`].
    pub fn keep_reports(mut self, on: bool) -> Self {
        self.keep_reports = on;
        self
    }

    /// Checks only the catalogued assertions of modules under these prefixes
    /// (`my_server::cache`; default: every assertion linked into the binary). One binary may
    /// hold several servers' assertions; a sweep of one of them names its own.
    pub fn coverage_scope(mut self, modules: Vec<String>) -> Self {
        self.scope = modules;
        self
    }

    /// Fails the sweep when a `sometimes!` never held or a `reachable!` or `always!` never ran
    /// ([`Sweep::passed`] is false even if every seed passed).
    pub fn require_coverage(mut self, on: bool) -> Self {
        self.require_coverage = on;
        self
    }

    /// Stops the sweep once `seeds` seeds in a row, in seed order, added no coverage point (an
    /// assertion covered, a fault class fired, or a pair of the two not seen before). Seeds are
    /// counted in order whatever the threads, so the stop is the same for any `jobs`.
    pub fn plateau(mut self, seeds: u64) -> Self {
        self.plateau = Some(seeds);
        self
    }

    /// Calls `f` after each seed (from the worker thread that ran it).
    pub fn on_progress(mut self, f: &'a (dyn Fn(Progress) + Sync)) -> Self {
        self.progress = Some(f);
        self
    }

    /// The world for `seed`: `build(seed)` with this sweep's faults and `only` list.
    pub fn world(&self, build: &dyn Fn(u64) -> SimBuilder, seed: u64) -> SimBuilder {
        let mut b = build(seed);
        if let Some(plan) = &self.faults {
            b.plan = merge(plan, &b.plan);
        }
        if let Some(only) = &self.only {
            b.plan = b.plan.clone().only(only.iter().cloned());
        }
        b
    }

    /// The plan the sweep's worlds run under (for the never-fired check).
    fn plan(&self, build: &dyn Fn(u64) -> SimBuilder) -> Result<FaultPlan, ConfigError> {
        let first = self.world(build, self.seeds.start);
        let plan = first.plan.clone();
        first.build()?;
        Ok(plan)
    }

    /// Runs the sweep. The first seed's world is built (not run) before anything else, so a
    /// bad setup is an error before any work starts; so are 0 jobs.
    pub fn run<F>(&self, build: F) -> Result<Sweep, ConfigError>
    where
        F: Fn(u64) -> SimBuilder + Sync,
    {
        if self.jobs == Some(0) {
            return Err(ConfigError(
                "jobs: 0; a sweep needs at least one thread".into(),
            ));
        }
        if self.plateau == Some(0) {
            return Err(ConfigError(
                "plateau: 0 seeds; a plateau is at least 1 seed without new coverage".into(),
            ));
        }
        let total = self.seeds.end.saturating_sub(self.seeds.start);
        let plan = if total == 0 {
            FaultPlan::none()
        } else {
            self.plan(&build)?
        };
        let jobs = self
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .clamp(1, total.clamp(1, 1024) as usize);
        #[allow(clippy::disallowed_methods)] // The sweep's budget and speed; no run sees it.
        let started = std::time::Instant::now();
        let shared = Shared {
            next: AtomicU64::new(0),
            stop: AtomicU64::new(total),
            tally: (AtomicU64::new(0), AtomicU64::new(0)),
            collector: Mutex::new(Collector::new(self.keep_reports, self.plateau)),
            started,
        };
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..jobs)
                .map(|_| s.spawn(|| self.worker(&build, total, &shared)))
                .collect();
            // A worker that panicked outside a run (in the progress callback) takes the sweep
            // down with its panic, rather than losing its seeds quietly.
            for w in workers {
                w.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            }
        });
        let collector = shared
            .collector
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        Ok(self.finish(collector, &plan, started.elapsed().as_secs_f64()))
    }

    /// One worker: takes the next seed until none are left (or the budget is spent, or a
    /// plateau has stopped the sweep).
    fn worker(&self, build: &(dyn Fn(u64) -> SimBuilder + Sync), total: u64, shared: &Shared) {
        let tally = &shared.tally;
        loop {
            if self.budget.is_some_and(|b| shared.started.elapsed() >= b) {
                return;
            }
            let i = shared.next.fetch_add(1, Ordering::Relaxed);
            if i >= total.min(shared.stop.load(Ordering::Relaxed)) {
                return;
            }
            let seed = self.seeds.start + i;
            let done = match self.run_seed(build, seed) {
                Outcome::Passed(r) => Finished {
                    report: Some(r),
                    failed: None,
                },
                Outcome::Failed(f, report) => Finished {
                    report,
                    failed: Some(f),
                },
            };
            let failed = done.failed.is_some();
            let stopped = shared
                .collector
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .file(i, done);
            if let Some(at) = stopped {
                shared.stop.fetch_min(at + 1, Ordering::Relaxed);
            }
            let done = tally.0.fetch_add(1, Ordering::Relaxed) + 1;
            let bad = tally.1.fetch_add(u64::from(failed), Ordering::Relaxed) + u64::from(failed);
            if let Some(f) = self.progress {
                f(Progress {
                    done,
                    failed: bad,
                    total,
                });
            }
        }
    }

    /// Runs one seed, with the determinism check asked for; a panic is a failure of the seed.
    fn run_seed(&self, build: &dyn Fn(u64) -> SimBuilder, seed: u64) -> Outcome {
        let world = |s: u64| self.world(build, s);
        let run = catch_unwind(AssertUnwindSafe(|| match self.determinism {
            Determinism::EverySeed => crate::check::check_determinism(seed, world),
            _ => world(seed).run(),
        }));
        let result = match run {
            Ok(r) => r,
            Err(panic) => return Outcome::Failed(panicked(seed, &*panic), None),
        };
        match result {
            Ok(report) => Outcome::Passed(Box::new(report)),
            Err(SimError::Failed(f)) => {
                let mut failed = FailedSeed {
                    seed,
                    hash: format!("{:016x}", f.report.hash),
                    kind: kind_name(&f.kind).into(),
                    failure: f.kind.line(),
                    faults: f.report.faults.total(),
                };
                if self.determinism == Determinism::FailingSeeds && !self.replays(build, seed, &f) {
                    failed.kind = "nondeterministic".into();
                    failed.failure.push_str(
                        " (NOT REPRODUCIBLE: a second run differed; something outside the seed \
                         leaks in)",
                    );
                }
                Outcome::Failed(failed, Some(Box::new(f.report)))
            }
            Err(e @ SimError::Nondeterministic(_)) => {
                Outcome::Failed(other_failure(seed, "nondeterministic", &e), None)
            }
            Err(e @ SimError::Config(_)) => {
                Outcome::Failed(other_failure(seed, "config", &e), None)
            }
        }
    }

    /// Whether a failing seed fails again with the same hash.
    fn replays(
        &self,
        build: &dyn Fn(u64) -> SimBuilder,
        seed: u64,
        first: &crate::report::Failure,
    ) -> bool {
        let again = catch_unwind(AssertUnwindSafe(|| self.world(build, seed).run()));
        matches!(again, Ok(Err(SimError::Failed(f))) if f.report.hash == first.report.hash)
    }

    /// The sweep's report, from what the collector counted.
    fn finish(&self, collector: Collector, plan: &FaultPlan, wall: f64) -> Sweep {
        let stopped_at = collector.stopped_at;
        let all = collector.all;
        let total = self.seeds.end.saturating_sub(self.seeds.start);
        let mut sweep = Sweep {
            range: [self.seeds.start, self.seeds.end],
            seeds_run: all.run,
            failed: all.failed,
            faults: all
                .counts
                .iter()
                .map(|(c, n)| (c.name().to_string(), n))
                .collect(),
            enabled: FaultClass::ALL
                .into_iter()
                .filter(|c| plan.enabled(*c))
                .map(|c| c.name().to_string())
                .collect(),
            never_fired: Vec::new(),
            digest: format!("{:016x}", all.digest),
            wall_seconds: wall,
            complete: all.run == total,
            assertions: crate::coverage::summarize(&all.coverage, &self.scope),
            never_held: Vec::new(),
            never_reached: Vec::new(),
            coverage_points: all.points.len() as u64,
            plateau: stopped_at.map(|i| self.seeds.start + i),
            coverage_required: self.require_coverage,
            reports: all.reports,
        };
        sweep.settle();
        sweep
    }
}

/// What the workers share: the next seed, where to stop, the progress tallies, the collector.
struct Shared {
    /// The index of the next seed to take.
    next: AtomicU64,
    /// No seed at or past this index starts (a plateau lowers it).
    stop: AtomicU64,
    /// Seeds done, and of them failed, for the progress display.
    tally: (AtomicU64, AtomicU64),
    collector: Mutex<Collector>,
    /// When the sweep started (its budget's clock).
    started: std::time::Instant,
}

/// `plan`'s probabilities with `builder`'s scheduled partitions and crashes, and its knobs no
/// plan string can set (the longest stall, the longest `EINTR` streak).
fn merge(plan: &FaultPlan, builder: &FaultPlan) -> FaultPlan {
    let mut p = plan.clone();
    p.partitions = builder.partitions.clone();
    p.crashes = builder.crashes.clone();
    p.stall_max = builder.stall_max;
    p.max_eintr_streak = builder.max_eintr_streak;
    if p.only.is_none() {
        p.only = builder.only.clone();
    }
    p
}

/// The `kind` of a failure report.
fn kind_name(kind: &crate::report::FailureKind) -> &'static str {
    match kind {
        crate::report::FailureKind::Client { .. } => "client",
        crate::report::FailureKind::Stall { .. } => "stall",
        crate::report::FailureKind::TimeLimit { .. } => "time-limit",
        crate::report::FailureKind::Livelock { .. } => "livelock",
        crate::report::FailureKind::Assertion { .. } => "assertion",
        crate::report::FailureKind::Liveness { .. } => "liveness",
    }
}

/// A seed whose run never ended because something panicked.
fn panicked(seed: u64, panic: &(dyn std::any::Any + Send)) -> FailedSeed {
    FailedSeed {
        seed,
        hash: String::new(),
        kind: "panic".into(),
        failure: crate::check::panic_text(panic),
        faults: 0,
    }
}

/// A seed that failed with no run report (nondeterminism, a setup error).
fn other_failure(seed: u64, kind: &str, e: &SimError) -> FailedSeed {
    FailedSeed {
        seed,
        hash: String::new(),
        kind: kind.into(),
        failure: e.to_string().lines().collect::<Vec<_>>().join(" / "),
        faults: 0,
    }
}

impl Sweep {
    /// Recomputes `never_fired` from `enabled` and `faults`, and sorts what merging shuffles.
    pub fn settle(&mut self) {
        self.never_fired = never_fired(&self.enabled, &self.faults);
        self.failed.sort_by_key(|f| f.seed);
        let uncovered = |kinds: &[&str]| -> Vec<String> {
            self.assertions
                .iter()
                .filter(|a| !a.covered && kinds.contains(&a.kind.as_str()))
                .map(|a| a.name.clone())
                .collect()
        };
        self.never_held = uncovered(&["sometimes"]);
        self.never_reached = uncovered(&["reachable", "always"]);
    }

    /// Whether every assertion the sweep should have seen did what it promises.
    pub fn covered(&self) -> bool {
        self.never_held.is_empty() && self.never_reached.is_empty()
    }

    /// How many times `class` fired over the sweep.
    pub fn fired(&self, class: FaultClass) -> u64 {
        self.faults.get(class.name()).copied().unwrap_or(0)
    }

    /// Whether every seed that ran passed, and, when the sweep requires coverage, every
    /// assertion was covered.
    pub fn passed(&self) -> bool {
        self.failed.is_empty() && (self.covered() || !self.coverage_required)
    }

    /// The summary people read: seeds run and failed, faults fired, a warning per enabled
    /// class that never fired, and the first `show` failing seeds.
    pub fn text(&self, show: usize) -> String {
        let mut out = format!(
            "{} of {} seeds failed{}; faults fired: {}\n",
            self.failed.len(),
            self.seeds_run,
            if self.complete {
                String::new()
            } else {
                format!(
                    " ({} stopped the sweep after {} of {} seeds)",
                    if self.plateau.is_some() {
                        "a coverage plateau"
                    } else {
                        "the time budget"
                    },
                    self.seeds_run,
                    self.range[1].saturating_sub(self.range[0])
                )
            },
            fired_summary(&self.faults)
        );
        out.push_str(&never_fired_warnings(&self.never_fired, self.seeds_run));
        out.push_str(&crate::coverage::summary_lines(
            &self.assertions,
            self.coverage_points,
            self.plateau,
            self.coverage_required,
            self.seeds_run,
        ));
        for f in self.failed.iter().take(show) {
            out.push_str(&format!("seed {} FAILED: {}\n", f.seed, f.failure));
        }
        if show > 0 && self.failed.len() > show {
            out.push_str(&format!(
                "... and {} more failing seeds\n",
                self.failed.len() - show
            ));
        }
        out
    }
}

/// The faults fired per class as one line (`eintr=3 short-read=1`, or `none`), as sweeps print
/// them.
pub fn fired_summary(faults: &BTreeMap<String, u64>) -> String {
    let fired: Vec<String> = faults
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(c, n)| format!("{c}={n}"))
        .collect();
    if fired.is_empty() {
        "none".into()
    } else {
        fired.join(" ")
    }
}

/// The `enabled` classes that never fired in `faults`.
pub fn never_fired(enabled: &[String], faults: &BTreeMap<String, u64>) -> Vec<String> {
    enabled
        .iter()
        .filter(|c| faults.get(*c).copied().unwrap_or(0) == 0)
        .cloned()
        .collect()
}

/// A warning line for each class that was enabled but never fired in `seeds` seeds.
pub fn never_fired_warnings(classes: &[String], seeds: u64) -> String {
    classes
        .iter()
        .map(|c| {
            format!(
                "warning: fault class {c} is enabled but never fired in {seeds} seeds: it proved nothing\n"
            )
        })
        .collect()
}

/// Sweeps `seeds` with the defaults of [`Explore::new`]: one thread per core, every seed run
/// twice and compared.
///
/// ```
/// use doppel_sim::{explore, SimBuilder};
/// let world = |seed| {
///     SimBuilder::new(seed)
///         .host("server", "10.0.0.1", || async { Ok(()) })
///         .client("client", "10.0.0.2", || async { Ok(()) })
/// };
/// let sweep = explore(0..50, world).unwrap();
/// assert!(sweep.passed() && sweep.complete);
/// let json = serde_json::to_string(&sweep).unwrap();
/// assert!(json.contains("\"seeds_run\":50"));
/// ```
///
/// # Errors
/// A bad setup (found by building the first seed's world, before anything runs).
pub fn explore<F>(seeds: Range<u64>, build: F) -> Result<Sweep, ConfigError>
where
    F: Fn(u64) -> SimBuilder + Sync,
{
    Explore::new(seeds).run(build)
}
