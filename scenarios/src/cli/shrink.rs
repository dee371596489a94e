//! `doppel shrink`: narrows a failing seed's injected faults to a smallest set that still fails
//! the same way. A fault is named by its class and opportunity number (`short-read:4`: the
//! fifth short-read opportunity), and the simulator's fault dice are counter-based, so leaving
//! one fault out moves no other; a run with `--only FAULTS` lets only those fire. Chunks are removed first (halves, quarters, ...), then
//! single faults, until removing any one that is left makes the seed pass or fail differently:
//! a 1-minimal set, as delta debugging defines it.

use std::mem::discriminant;

use doppel::sim::{FailureKind, FaultName, FaultPlan};

use super::args::{opt, Args, Flag, Usage};
use super::summary::{failure_line, replay_command, RunResult};
use super::{plan_arg, spec_arg, Exit};
use crate::spec::Spec;

/// A fault's name: its class and opportunity number.
type F = FaultName;

/// The flags `shrink` takes.
const FLAGS: [Flag; 3] = [opt("--seed"), opt("--faults"), opt("--only")];

/// A shrinking session: the scenario, seed, base plan and the failure to keep.
struct Shrinker<'a> {
    /// The scenario.
    spec: &'a Spec,
    /// The seed.
    seed: u64,
    /// The plan without any `only` list.
    base: FaultPlan,
    /// The original failure (its kind must persist).
    want: FailureKind,
    /// Runs made.
    runs: u64,
}

impl Shrinker<'_> {
    /// Runs with only `ids` allowed; the result if it fails the same way.
    fn fails(&mut self, ids: &[F]) -> Option<RunResult> {
        self.runs += 1;
        let plan = self.base.clone().only(ids.iter().cloned());
        let r = RunResult::from(self.spec.world_with(self.seed, plan).run()).ok()?;
        let same = r
            .failure
            .as_ref()
            .is_some_and(|k| discriminant(k) == discriminant(&self.want));
        same.then_some(r)
    }

    /// Removes chunks, then single ids, while the failure persists.
    fn shrink(&mut self, mut ids: Vec<F>) -> Vec<F> {
        let mut chunk = ids.len() / 2;
        while chunk >= 1 {
            let mut i = 0;
            while i < ids.len() {
                let end = (i + chunk).min(ids.len());
                let trial: Vec<F> = ids[..i].iter().chain(&ids[end..]).cloned().collect();
                match self.fails(&trial) {
                    // Keep only what fired: a removal can stop later faults from falling due.
                    Some(r) => ids = r.report.fired.iter().map(|f| f.name()).collect(),
                    None => i += chunk,
                }
            }
            chunk /= 2;
        }
        // Singles again until nothing more goes: 1-minimal.
        let mut i = 0;
        while i < ids.len() {
            let trial: Vec<F> = ids
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, f)| f.clone())
                .collect();
            match self.fails(&trial) {
                Some(r) => {
                    ids = r.report.fired.iter().map(|f| f.name()).collect();
                    i = 0;
                }
                None => i += 1,
            }
        }
        ids
    }
}

/// `doppel shrink SPEC --seed N [--faults PLAN] [--only IDS]`.
pub(crate) fn main(argv: &[String]) -> Result<Exit, Usage> {
    let args = Args::parse("shrink", argv, &FLAGS)?;
    let spec = spec_arg("shrink", &args)?;
    let seed = args.seed("shrink")?;
    let plan = plan_arg("shrink", &spec, &args)?;
    let first = RunResult::from(spec.world_with(seed, plan.clone()).run())
        .map_err(|e| Usage(format!("shrink: {e}")))?;
    let Some(want) = first.failure.clone() else {
        println!(
            "{} seed {seed} passes: there is no failure to shrink",
            spec.name
        );
        return Ok(Exit::Failed);
    };
    let fired: Vec<F> = first.report.fired.iter().map(|f| f.name()).collect();
    println!(
        "{} seed {seed} fails with {} injected faults: {}",
        spec.name,
        fired.len(),
        failure_line(&want)
    );
    let mut base = plan.clone();
    base.only = None;
    let mut s = Shrinker {
        spec: &spec,
        seed,
        base,
        want,
        runs: 0,
    };
    let kept = s.shrink(fired.clone());
    let last = s.fails(&kept).ok_or_else(|| {
        Usage("shrink: the shrunk set no longer fails; the run is not deterministic".into())
    })?;
    print_result(&spec, &s, &fired, &kept, &last);
    Ok(Exit::Ok)
}

/// Prints the smallest set, its faults, and the command that replays it.
fn print_result(spec: &Spec, s: &Shrinker<'_>, fired: &[F], kept: &[F], last: &RunResult) {
    println!(
        "shrunk {} faults to {} in {} runs",
        fired.len(),
        kept.len(),
        s.runs
    );
    if kept.is_empty() {
        println!("it fails with no injected fault at all: the network's own behaviour (segments split at seeded boundaries, scheduling order) is enough");
    } else {
        println!("the smallest fault set that still fails (without any one of them the seed passes, or fails another way):");
        for f in &last.report.fired {
            println!("  {f}");
        }
    }
    println!("  failure: {}", last.why().unwrap_or_default());
    let plan = s.base.clone().only(kept.iter().cloned());
    println!(
        "replay it: {}",
        replay_command(spec, &plan, s.seed, last.report.hash)
    );
}
