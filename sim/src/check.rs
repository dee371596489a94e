//! Running seeds in tests: `DOPPEL_SEED` picks one seed to replay, and a failure names its seed
//! and the one command that replays it.

use std::fmt;
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::builder::SimBuilder;
use crate::report::{Report, SimError};

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

/// The command that replays `seed` of the current test.
pub fn replay_command(seed: u64) -> String {
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
    match (bin, test) {
        (Some(bin), Some(test)) => {
            format!("DOPPEL_SEED={seed} cargo test --test {bin} -- {test} --exact")
        }
        _ => format!("DOPPEL_SEED={seed} (re-run the same command)"),
    }
}

/// Runs `build(seed)` for every seed in `seeds`, or only for `DOPPEL_SEED` when it is set, and
/// returns the reports. The first failure (an error or a panic) panics with the seed, the
/// replay command and what went wrong.
///
/// # Panics
/// On the first failing seed, and on a `DOPPEL_SEED` that is not a number.
pub fn check_seeds(seeds: Range<u64>, build: impl Fn(u64) -> SimBuilder) -> Vec<Report> {
    let seeds: Vec<u64> = match replay_seed() {
        Ok(Some(s)) => vec![s],
        Ok(None) => seeds.collect(),
        Err(e) => panic!("doppel: {e}"),
    };
    let mut reports = Vec::with_capacity(seeds.len());
    for seed in seeds {
        let run = catch_unwind(AssertUnwindSafe(|| build(seed).run()));
        let why = match run {
            Ok(Ok(report)) => {
                reports.push(report);
                continue;
            }
            Ok(Err(SimError::Config(e))) => panic!("doppel: bad simulation setup: {e}"),
            Ok(Err(e)) => e.to_string(),
            Err(panic) => panic_text(&panic),
        };
        panic!(
            "doppel: seed {seed} failed: {why}\n  replay: {}",
            replay_command(seed)
        );
    }
    reports
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
