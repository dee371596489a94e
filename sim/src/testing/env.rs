//! The environment a seeded test honours: `DOPPEL_SEED=N` (replay one seed), `DOPPEL_SEEDS=A..B`
//! (narrow or widen the sweep), `DOPPEL_FAULTS=PLAN` (another fault plan), `DOPPEL_ONLY=NAMES`
//! (only these faults), and `DOPPEL_TEST=PATH`, which confines the others to the one test whose
//! path it names (the replay commands set it, so replaying one test leaves every other test in
//! the binary as it was). A value that does not parse is an error naming the variable.

use std::ops::Range;

use crate::faults::{FaultName, FaultPlan};
use crate::seeds::SeedRange;

/// What the environment asks of one test.
#[derive(Clone, Debug, Default)]
pub(crate) struct Overrides {
    /// `DOPPEL_SEED`: replay this seed only.
    pub(crate) seed: Option<u64>,
    /// `DOPPEL_SEEDS`: sweep these seeds instead.
    pub(crate) seeds: Option<Range<u64>>,
    /// `DOPPEL_FAULTS`: run under this plan instead.
    pub(crate) faults: Option<FaultPlan>,
    /// `DOPPEL_ONLY`: let only these faults fire.
    pub(crate) only: Option<Vec<FaultName>>,
    /// `DOPPEL_FAULTS` and `DOPPEL_ONLY` as given, for the replay commands to carry on.
    pub(crate) carried: Vec<(&'static str, String)>,
}

/// Reads one variable: `None` when unset, an error when it is not UTF-8.
fn var(name: &str) -> Result<Option<String>, String> {
    match std::env::var(name) {
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(v)) => Err(format!("{name}={v:?} is not UTF-8")),
    }
}

/// What the environment asks of the test at `path`.
pub(crate) fn overrides(path: &str) -> Result<Overrides, String> {
    if let Some(test) = var("DOPPEL_TEST")? {
        if test.trim() != path {
            return Ok(Overrides::default());
        }
    }
    let seed = var("DOPPEL_SEED")?
        .map(|v| crate::check::parse_seed(&v).map_err(|e| e.0))
        .transpose()?;
    let seeds = var("DOPPEL_SEEDS")?
        .map(|v| {
            SeedRange::parse(&v)
                .map(|r| r.range())
                .map_err(|e| format!("DOPPEL_SEEDS={v:?}: {e}"))
        })
        .transpose()?;
    let faults = var("DOPPEL_FAULTS")?
        .map(|v| {
            v.parse::<FaultPlan>()
                .map_err(|e| format!("DOPPEL_FAULTS={v:?}: {e}"))
        })
        .transpose()?;
    let only = var("DOPPEL_ONLY")?
        .map(|v| FaultName::parse_list(&v).map_err(|e| format!("DOPPEL_ONLY={v:?}: {e}")))
        .transpose()?;
    let mut carried = Vec::new();
    for name in ["DOPPEL_FAULTS", "DOPPEL_ONLY"] {
        if let Some(v) = var(name)? {
            carried.push((name, v));
        }
    }
    Ok(Overrides {
        seed,
        seeds,
        faults,
        only,
        carried,
    })
}
