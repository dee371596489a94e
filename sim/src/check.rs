//! Running seeds in tests: every seed runs twice and the runs must agree; `DOPPEL_SEED` picks
//! one seed to replay; a failure names its seed, the command that replays it, the last events,
//! and where the whole trace was written.

use std::fmt;
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::builder::SimBuilder;
use crate::report::{Nondeterminism, Report, SimError};

/// How many events a failure prints.
const TAIL: usize = 50;

/// `DOPPEL_SEED` was set to something that is not a seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedError(pub String);

impl fmt::Display for SeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SeedError {}

/// Parses a `DOPPEL_SEED` value.
pub fn parse_seed(value: &str) -> Result<u64, SeedError> {
    value.trim().parse().map_err(|_| {
        SeedError(format!(
            "DOPPEL_SEED={value:?} is not a number (expected an unsigned 64-bit seed such as 42)"
        ))
    })
}

/// The seed to replay, from `DOPPEL_SEED` (`None` when unset, or when `DOPPEL_TEST` names
/// another test than the one running on this thread).
pub fn replay_seed() -> Result<Option<u64>, SeedError> {
    if let (Ok(only), (_, Some(this))) = (std::env::var("DOPPEL_TEST"), test_identity()) {
        if only.trim() != this {
            return Ok(None);
        }
    }
    match std::env::var("DOPPEL_SEED") {
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(v)) => Err(SeedError(format!(
            "DOPPEL_SEED={v:?} is not a number (expected an unsigned 64-bit seed such as 42)"
        ))),
        Ok(v) => parse_seed(&v).map(Some),
    }
}

/// The current test's name and binary, when running under the test harness.
fn test_identity() -> (Option<String>, Option<String>) {
    let test = std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map(str::to_string);
    let bin = std::env::current_exe().ok().and_then(|p| {
        let stem = p.file_stem()?.to_string_lossy().to_string();
        Some(match stem.rsplit_once('-') {
            Some((name, hash))
                if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                name.to_string()
            }
            _ => stem,
        })
    });
    (bin, test)
}

/// The command that replays `seed` of the current test, for an integration test (the test's
/// name comes from the thread libtest runs it on; `#[doppel::test]` knows more, and prints a
/// command for every kind of target, profile and feature set).
pub fn replay_command(seed: u64) -> String {
    match test_identity() {
        (Some(bin), Some(test)) => format!(
            "DOPPEL_TEST={test} DOPPEL_SEED={seed} cargo test --test {bin} -- {test} --exact"
        ),
        _ => format!("DOPPEL_SEED={seed} (re-run the same command)"),
    }
}

/// Runs a builder twice (the clones share its mains: state they capture survives into the
/// second run; prefer [`check_determinism`] with a build function).
pub(crate) fn check_builder(builder: SimBuilder) -> Result<Report, SimError> {
    let b = builder;
    check_determinism(b.seed, move |_| b.clone())
}

/// Whether two results of one seed are the same run.
fn same(a: &Result<Report, SimError>, b: &Result<Report, SimError>) -> Option<(u64, u64)> {
    let key = |r: &Result<Report, SimError>| match r {
        Ok(rep) => Some((rep.hash, format!("{:?}", rep.clients))),
        Err(SimError::Failed(f)) => Some((f.report.hash, format!("{:?}", f.kind))),
        Err(_) => None,
    };
    match (key(a), key(b)) {
        (Some(x), Some(y)) if x != y => Some((x.0, y.0)),
        _ => None,
    }
}

/// The trace of a traced result.
fn trace_of(r: &Result<Report, SimError>) -> Option<&doppel_trace::Trace> {
    match r {
        Ok(rep) => rep.trace.as_ref(),
        Err(SimError::Failed(f)) => f.report.trace.as_ref(),
        Err(_) => None,
    }
}

/// Runs `build(seed)` twice, each a fresh world from a fresh call of `build`, and checks the
/// runs agree (hash, clients' outcomes, failure). The first run's result is returned; on a
/// difference, both runs are repeated with traces and the first differing event is reported
/// ([`SimError::Nondeterministic`]).
///
/// State a world needs (a ledger the server and client share, a counter) belongs inside
/// `build`: anything `build` captures from outside survives into the second run.
///
/// ```
/// use doppel_sim::{check_determinism, SimBuilder};
/// let world = |seed| {
///     SimBuilder::new(seed)
///         .host("server", "10.0.0.1", || async { Ok(()) })
///         .client("client", "10.0.0.2", || async { Ok(()) })
/// };
/// let report = check_determinism(7, world).unwrap();
/// assert_eq!(report.seed, 7);
/// ```
pub fn check_determinism(seed: u64, build: impl Fn(u64) -> SimBuilder) -> Result<Report, SimError> {
    let first = build(seed).run();
    if let Err(SimError::Config(_)) = first {
        return first;
    }
    let second = build(seed).run();
    let Some(hashes) = same(&first, &second) else {
        return first;
    };
    let a = build(seed).trace(true).run();
    let b = build(seed).trace(true).run();
    let divergence = match (trace_of(&a), trace_of(&b)) {
        (Some(x), Some(y)) => x.diverges_from(y),
        _ => None,
    };
    Err(SimError::Nondeterministic(Box::new(Nondeterminism {
        seed,
        divergence,
        hashes,
    })))
}

/// Runs `build(seed)` for every seed in `seeds` (or only `DOPPEL_SEED` when it is set), each
/// twice with the runs compared ([`check_determinism`]), on one thread per core, and returns
/// every seed's report in seed order. It is a thin layer over
/// [`crate::explore::Explore`]; `#[doppel::test]` adds shrinking and replay commands.
///
/// ```
/// use doppel_sim::{check_seeds, FaultPlan, SimBuilder};
/// let reports = check_seeds(0..20, |seed| {
///     SimBuilder::new(seed)
///         .faults(FaultPlan::benign(0.05))
///         .host("server", "10.0.0.1", || async { Ok(()) })
///         .client("client", "10.0.0.2", || async { Ok(()) })
/// });
/// assert_eq!(reports.len(), 20);
/// assert_eq!(reports[3].seed, 3);
/// ```
///
/// # Panics
/// After the whole sweep, if any seed failed or was nondeterministic: how many of how many
/// failed, and for the first failing seed its error, the command that replays it, the last 50
/// events and the path of its whole trace. Also on a `DOPPEL_SEED` that is not a number, and
/// on a bad setup.
pub fn check_seeds(seeds: Range<u64>, build: impl Fn(u64) -> SimBuilder + Sync) -> Vec<Report> {
    let seeds = match replay_seed() {
        Ok(Some(u64::MAX)) => return vec![check_top_seed(&build)],
        Ok(Some(s)) => s..s + 1,
        Ok(None) => seeds,
        Err(e) => panic!("doppel: {e}"),
    };
    let sweep = crate::explore::Explore::new(seeds)
        .keep_reports(true)
        .run(&build)
        .unwrap_or_else(|e| panic!("doppel: bad simulation setup: {e}"));
    let Some(first) = sweep.failed.first() else {
        return sweep.reports;
    };
    let seed = first.seed;
    let evidence = match first.kind.as_str() {
        "nondeterministic" => String::new(),
        _ => evidence(seed, &build),
    };
    panic!(
        "doppel: {} of {} seeds failed; seed {seed} failed: {}{evidence}\n  replay: {}",
        sweep.failed.len(),
        sweep.seeds_run,
        first.failure,
        replay_command(seed)
    );
}
/// `DOPPEL_SEED=18446744073709551615`: the one seed no half-open range holds, run alone.
fn check_top_seed(build: &dyn Fn(u64) -> SimBuilder) -> Report {
    let seed = u64::MAX;
    match check_determinism(seed, build) {
        Ok(report) => report,
        Err(e) => panic!(
            "doppel: seed {seed} failed: {}{}\n  replay: {}",
            e.to_string().lines().collect::<Vec<_>>().join(" / "),
            evidence(seed, build),
            replay_command(seed)
        ),
    }
}

/// Replays a failing seed with its trace on: the last events, and the whole trace in a file.
fn evidence(seed: u64, build: &dyn Fn(u64) -> SimBuilder) -> String {
    let rerun = catch_unwind(AssertUnwindSafe(|| build(seed).trace(true).run()));
    let trace = match &rerun {
        Ok(r) => trace_of(r),
        Err(_) => None,
    };
    let Some(trace) = trace else {
        return "\n  (the traced replay panicked before it could report its trace)".into();
    };
    let mut out = format!(
        "\n  last {} of {} events:",
        TAIL.min(trace.len()),
        trace.len()
    );
    for line in trace.tail(TAIL) {
        out.push_str("\n    ");
        out.push_str(&line);
    }
    let name = test_identity().1.unwrap_or_else(|| "sim".into());
    let file = format!(
        "{}-seed{seed}.trace",
        name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
    );
    let dir = doppel_trace::trace_dir();
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| trace.write(&dir.join(&file), doppel_trace::Format::Text));
    match written {
        Ok(()) => out.push_str(&format!("\n  whole trace: {}", dir.join(file).display())),
        Err(e) => out.push_str(&format!("\n  could not write the whole trace: {e}")),
    }
    out
}

/// The text of a panic payload.
pub(crate) fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        format!("panicked: {s}")
    } else if let Some(s) = p.downcast_ref::<String>() {
        format!("panicked: {s}")
    } else {
        "panicked".to_string()
    }
}

/// Checking a world for determinism is one call on its builder.
impl SimBuilder {
    /// Runs twice and checks both runs are the same (hash, and outcome); on a difference,
    /// runs both again with traces and reports the first differing event.
    ///
    /// Both runs share this builder's mains, so state the mains capture (an `Rc` ledger made
    /// outside them) carries over into the second run; [`crate::check_determinism`] with a
    /// function that builds the world afresh has no such trap.
    pub fn check(self) -> Result<Report, SimError> {
        check_builder(self)
    }
}
