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

/// The seed to replay, from `DOPPEL_SEED` (`None` when unset).
pub fn replay_seed() -> Result<Option<u64>, SeedError> {
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

/// The command that replays `seed` of the current test.
pub fn replay_command(seed: u64) -> String {
    match test_identity() {
        (Some(bin), Some(test)) => {
            format!("DOPPEL_SEED={seed} cargo test --test {bin} -- {test} --exact")
        }
        _ => format!("DOPPEL_SEED={seed} (re-run the same command)"),
    }
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

/// Runs the setup twice and checks the runs agree (hash, clients' outcomes, failure). The first
/// run's result is returned; on a difference, both runs are repeated with traces and the first
/// differing event is reported (`SimError::Nondeterministic`).
pub fn check_determinism(builder: SimBuilder) -> Result<Report, SimError> {
    let seed = builder.seed;
    let first = builder.clone().run();
    if let Err(SimError::Config(_)) = first {
        return first;
    }
    let second = builder.clone().run();
    let Some(hashes) = same(&first, &second) else {
        return first;
    };
    let a = builder.clone().trace(true).run();
    let b = builder.trace(true).run();
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
/// twice with the runs compared, and returns the first run's reports.
///
/// # Panics
/// On the first failing or nondeterministic seed, with the seed, the replay command, the last
/// 50 events and the path of the whole trace; and on a `DOPPEL_SEED` that is not a number.
pub fn check_seeds(seeds: Range<u64>, build: impl Fn(u64) -> SimBuilder) -> Vec<Report> {
    let seeds: Vec<u64> = match replay_seed() {
        Ok(Some(s)) => vec![s],
        Ok(None) => seeds.collect(),
        Err(e) => panic!("doppel: {e}"),
    };
    let mut reports = Vec::with_capacity(seeds.len());
    for seed in seeds {
        let run = catch_unwind(AssertUnwindSafe(|| check_determinism(build(seed))));
        let why = match run {
            Ok(Ok(report)) => {
                reports.push(report);
                continue;
            }
            Ok(Err(SimError::Config(e))) => panic!("doppel: bad simulation setup: {e}"),
            Ok(Err(e @ SimError::Nondeterministic(_))) => e.to_string(),
            Ok(Err(e)) => format!("{e}{}", evidence(seed, &build)),
            Err(panic) => format!("{}{}", panic_text(&*panic), evidence(seed, &build)),
        };
        panic!(
            "doppel: seed {seed} failed: {why}\n  replay: {}",
            replay_command(seed)
        );
    }
    reports
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
fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        format!("panicked: {s}")
    } else if let Some(s) = p.downcast_ref::<String>() {
        format!("panicked: {s}")
    } else {
        "panicked".to_string()
    }
}
