//! Shrinking a failing seed's faults to a 1-minimal set: the one implementation behind
//! `#[doppel::test]` and `doppel shrink`. A fault is named by its class, site and opportunity
//! number ([`FaultName`]); the fault dice are counter-based, so leaving one fault out moves no
//! other, and a run with [`FaultPlan::only`] lets only the named ones fire. Chunks are removed
//! first (halves, quarters, ...), then single faults, until removing any one that is left makes
//! the seed pass or fail another way: a 1-minimal set, as delta debugging defines it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use crate::builder::SimBuilder;
use crate::faults::{FaultName, FaultPlan, Fired};
use crate::report::{ConfigError, FailureKind, Report, SimError};

/// How long shrinking may take: a wall-time budget and a cap on runs.
///
/// ```
/// use doppel_sim::shrink::Shrink;
/// use doppel_sim::{FaultClass, FaultPlan, SimBuilder};
///
/// // A client that fails whatever the faults: shrinking finds it needs none of them.
/// fn world(seed: u64) -> SimBuilder {
///     SimBuilder::new(seed)
///         .faults(FaultPlan::none().with(FaultClass::PollEintr, 0.5))
///         .host("server", "10.0.0.1", || async { Ok(()) })
///         .client("client", "10.0.0.2", || async {
///             doppel_core::time::sleep(std::time::Duration::from_millis(5)).await;
///             Err(std::io::Error::other("always"))
///         })
/// }
/// let shrunk = Shrink::new().run(3, world).unwrap();
/// assert!(shrunk.minimal);
/// assert!(shrunk.faults.is_empty(), "it fails with no fault at all");
/// assert_eq!(shrunk.only(), "none");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Shrink {
    /// Wall time after which shrinking stops with what it has.
    budget: Option<Duration>,
    /// Runs after which shrinking stops with what it has.
    max_runs: u64,
}

impl Default for Shrink {
    fn default() -> Self {
        Shrink::new()
    }
}

/// What shrinking found: the smallest fault set that still fails the same way, the run with
/// only those faults, and the line that replays it.
///
/// ```
/// use doppel_sim::{FaultClass, FaultPlan, Shrink, SimBuilder};
/// // The client fails if poll was interrupted at least once on its reactor.
/// fn world(seed: u64) -> SimBuilder {
///     SimBuilder::new(seed)
///         .faults(FaultPlan::none().with(FaultClass::PollEintr, 0.3))
///         .host("server", "10.0.0.1", || async { Ok(()) })
///         .client("client", "10.0.0.2", || async {
///             doppel_core::time::sleep(std::time::Duration::from_millis(1)).await;
///             let interrupted = doppel_core::stats().poll_interrupted;
///             if interrupted > 0 { Err(std::io::Error::other("interrupted")) } else { Ok(()) }
///         })
/// }
/// let failing = (0..50).find(|&s| world(s).run().is_err()).unwrap();
/// let shrunk = Shrink::new().run(failing, world).unwrap();
/// assert!(shrunk.minimal);
/// assert_eq!(shrunk.faults.len(), 1, "one interrupted poll is enough");
/// assert!(shrunk.only().starts_with("eintr-poll@client#0:"));
/// ```
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The failing seed the shrink started from (and its replay needs).
    pub seed: u64,
    /// How many faults the original failing run injected.
    pub original: usize,
    /// The faults kept, as they fired in the shrunk run (in firing order).
    pub faults: Vec<Fired>,
    /// The shrunk run's failure.
    pub failure: FailureKind,
    /// The shrunk run's report.
    pub report: Report,
    /// The plan that replays it (the original plan, with [`FaultPlan::only`] the kept faults).
    pub plan: FaultPlan,
    /// Runs made while shrinking.
    pub runs: u64,
    /// Whether the set is 1-minimal (false when the budget stopped shrinking first).
    pub minimal: bool,
}

impl Shrunk {
    /// The kept faults' names.
    pub fn names(&self) -> Vec<FaultName> {
        self.faults.iter().map(Fired::name).collect()
    }

    /// The kept faults as `--only` and `DOPPEL_ONLY` take them (`none` for none).
    pub fn only(&self) -> String {
        FaultName::list(&self.names())
    }

    /// The fault that decided the failure: the last one to fire before it.
    pub fn decisive(&self) -> Option<&Fired> {
        self.faults.last()
    }
}

/// Why a seed could not be shrunk.
#[derive(Clone, Debug)]
pub enum ShrinkError {
    /// The seed passes: there is nothing to shrink.
    Passes(u64),
    /// The setup is bad.
    Config(ConfigError),
    /// The seed does not replay: a run with the kept faults no longer fails, or something
    /// panicked where it had not.
    NotReproducible(String),
}

impl std::fmt::Display for ShrinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShrinkError::Passes(seed) => {
                write!(f, "seed {seed} passes: there is no failure to shrink")
            }
            ShrinkError::Config(e) => write!(f, "bad simulation setup: {e}"),
            ShrinkError::NotReproducible(why) => write!(f, "the seed does not replay: {why}"),
        }
    }
}

impl std::error::Error for ShrinkError {}

/// A run of the seed with only some faults, and whether it failed the way the original did.
struct Session<'a> {
    /// Builds the world.
    build: &'a dyn Fn(u64) -> SimBuilder,
    seed: u64,
    /// The plan, without an `only` list.
    base: FaultPlan,
    /// The failure to keep.
    want: FailureKind,
    /// Runs made.
    runs: u64,
    limits: Shrink,
    /// When shrinking started.
    started: std::time::Instant,
}

impl Session<'_> {
    /// Whether the budget is spent.
    fn spent(&self) -> bool {
        self.runs >= self.limits.max_runs
            || self
                .limits
                .budget
                .is_some_and(|b| self.started.elapsed() >= b)
    }

    /// Runs with only `names` allowed; the failure's report if it fails the same way.
    fn fails(&mut self, names: &[FaultName]) -> Option<(Report, FailureKind)> {
        self.runs += 1;
        let mut b = (self.build)(self.seed);
        b.plan = self.base.clone().only(names.iter().cloned());
        match catch_unwind(AssertUnwindSafe(|| b.run())) {
            Ok(Err(SimError::Failed(f))) if f.kind.same_kind(&self.want) => {
                Some((f.report, f.kind))
            }
            _ => None,
        }
    }

    /// Removes chunks, then single faults, while the failure persists and the budget lasts;
    /// the names kept and whether they are 1-minimal.
    fn shrink(&mut self, mut names: Vec<FaultName>) -> (Vec<FaultName>, bool) {
        let mut chunk = names.len() / 2;
        while chunk >= 1 {
            let mut i = 0;
            while i < names.len() {
                if self.spent() {
                    return (names, false);
                }
                let end = (i + chunk).min(names.len());
                let trial: Vec<FaultName> =
                    names[..i].iter().chain(&names[end..]).cloned().collect();
                match self.fails(&trial) {
                    // Keep only what fired: a removal can stop later faults from falling due.
                    Some((r, _)) => names = distinct(&r.fired),
                    None => i += chunk,
                }
            }
            chunk /= 2;
        }
        let mut i = 0;
        while i < names.len() {
            if self.spent() {
                return (names, false);
            }
            let mut trial = names.clone();
            trial.remove(i);
            match self.fails(&trial) {
                Some((r, _)) => {
                    names = distinct(&r.fired);
                    i = 0;
                }
                None => i += 1,
            }
        }
        (names, true)
    }
}

impl Shrink {
    /// A minute of wall time and 2,000 runs at most.
    pub fn new() -> Shrink {
        Shrink {
            budget: Some(Duration::from_secs(60)),
            max_runs: 2_000,
        }
    }

    /// Stops after `budget` of wall time with the smallest set found so far (`None`: no
    /// limit but the runs').
    pub fn time_budget(mut self, budget: Option<Duration>) -> Shrink {
        self.budget = budget;
        self
    }

    /// Stops after `runs` runs with the smallest set found so far.
    pub fn max_runs(mut self, runs: u64) -> Shrink {
        self.max_runs = runs.max(1);
        self
    }

    /// Shrinks the faults of `build(seed)`'s failing run. `build` is called afresh for every
    /// run.
    ///
    /// # Errors
    /// The seed passes, the setup is bad, or the seed does not replay.
    pub fn run(&self, seed: u64, build: impl Fn(u64) -> SimBuilder) -> Result<Shrunk, ShrinkError> {
        let first = catch_unwind(AssertUnwindSafe(|| build(seed).run()))
            .map_err(|p| ShrinkError::NotReproducible(crate::check::panic_text(&*p)))?;
        let failure = match first {
            Ok(_) => return Err(ShrinkError::Passes(seed)),
            Err(SimError::Config(e)) => return Err(ShrinkError::Config(e)),
            Err(SimError::Nondeterministic(n)) => {
                return Err(ShrinkError::NotReproducible(n.to_string()))
            }
            Err(SimError::Failed(f)) => f,
        };
        let mut base = build(seed).plan.clone();
        base.only = None;
        let original = distinct(&failure.report.fired);
        #[allow(clippy::disallowed_methods)] // Shrinking's budget; no run sees it.
        let started = std::time::Instant::now();
        let mut s = Session {
            build: &build,
            seed,
            base,
            want: failure.kind.clone(),
            runs: 0,
            limits: *self,
            started,
        };
        let (kept, minimal) = s.shrink(original.clone());
        let (report, kind) = s.fails(&kept).ok_or_else(|| {
            ShrinkError::NotReproducible(format!(
                "with only {} the seed no longer fails the same way",
                FaultName::list(&kept)
            ))
        })?;
        Ok(Shrunk {
            seed,
            original: original.len(),
            faults: report.fired.clone(),
            failure: kind,
            plan: s.base.clone().only(kept),
            report,
            runs: s.runs,
            minimal,
        })
    }
}

/// The names of the faults that fired, each once, in firing order.
fn distinct(fired: &[Fired]) -> Vec<FaultName> {
    let mut seen = std::collections::BTreeSet::new();
    fired
        .iter()
        .map(Fired::name)
        .filter(|n| seen.insert(n.clone()))
        .collect()
}

/// Shrinks `build(seed)`'s failing run with the limits of [`Shrink::new`].
///
/// ```
/// use doppel_sim::{shrink, SimBuilder};
/// let passing = |seed| {
///     SimBuilder::new(seed)
///         .host("server", "10.0.0.1", || async { Ok(()) })
///         .client("client", "10.0.0.2", || async { Ok(()) })
/// };
/// let e = shrink(1, passing).unwrap_err();
/// assert_eq!(e.to_string(), "seed 1 passes: there is no failure to shrink");
/// ```
///
/// # Errors
/// The seed passes, the setup is bad, or the seed does not replay.
pub fn shrink(seed: u64, build: impl Fn(u64) -> SimBuilder) -> Result<Shrunk, ShrinkError> {
    Shrink::new().run(seed, build)
}
