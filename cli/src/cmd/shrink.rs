//! `shrink`: narrows a failing seed's injected faults to a 1-minimal set that still fails the
//! same way, through `doppel::sim::Shrink` (the shrinker `#[doppel::test]` uses), and prints
//! the command that replays it.

use doppel_sim::shrink::{Shrink, ShrinkError};

use super::args::ShrinkArgs;
use super::summary::RunResult;
use super::{plan_for, replay_command, scenario, Exit, Usage};
use crate::Cli;

/// `shrink SCENARIO --seed N [--faults PLAN] [--only FAULTS]`.
pub(crate) fn main(cli: &Cli, a: &ShrinkArgs) -> Result<Exit, Usage> {
    let sc = scenario(cli, &a.scenario)?;
    let seed = a.seed;
    let plan = plan_for(&sc, &a.plan, false);
    let world = |s: u64| sc.world_with(s, plan.clone());
    let first = RunResult::from(world(seed).run()).map_err(|e| Usage(format!("shrink: {e}")))?;
    let Some(want) = first.failure.clone() else {
        println!(
            "{} seed {seed} passes: there is no failure to shrink",
            sc.name
        );
        return Ok(Exit::Failed);
    };
    println!(
        "{} seed {seed} fails with {} injected faults: {}",
        sc.name,
        first.report.fired.len(),
        want.line()
    );
    let shrunk = match Shrink::new().time_budget(None).run(seed, world) {
        Ok(s) => s,
        Err(ShrinkError::Config(e)) => return Err(Usage(format!("shrink: {e}"))),
        Err(e) => {
            println!("shrink: {e}");
            return Ok(Exit::Failed);
        }
    };
    println!(
        "shrunk {} faults to {} in {} runs",
        shrunk.original,
        shrunk.faults.len(),
        shrunk.runs
    );
    if shrunk.faults.is_empty() {
        println!("it fails with no injected fault at all: the network's own behaviour (segments split at seeded boundaries, scheduling order) is enough");
    } else {
        if shrunk.minimal {
            println!("the smallest fault set that still fails (without any one of them the seed passes, or fails another way):");
        } else {
            println!("a smaller fault set that still fails (the run limit stopped shrinking before it was 1-minimal):");
        }
        for f in &shrunk.faults {
            println!("  {f}");
        }
    }
    println!("  failure: {}", shrunk.failure.line());
    println!(
        "replay it: {}",
        replay_command(cli, &sc, &shrunk.plan, seed, shrunk.report.hash)
    );
    Ok(Exit::Ok)
}
