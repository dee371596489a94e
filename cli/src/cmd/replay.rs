//! `replay`: the same seed again, traced, run twice to prove it replays, its hash checked
//! against the one recorded when it failed, and the trace's last events (the failure's
//! surroundings) printed, or with `--around CLASS@SITE:OP` the events around one injected fault.

use doppel_sim::SimError;

use super::args::ReplayArgs;
use super::run::write_trace;
use super::summary::{self, RunResult};
use super::{plan_for, scenario, Exit, Usage};
use crate::Cli;

/// `replay SCENARIO --seed N [--hash H] [--only FAULTS] [--faults PLAN] [--tail N]
/// [--around FAULT] [--trace FILE] [--json]`.
pub(crate) fn main(cli: &Cli, a: &ReplayArgs) -> Result<Exit, Usage> {
    let sc = scenario(cli, &a.scenario)?;
    let seed = a.seed;
    let plan = plan_for(&sc, &a.plan, false);
    let world = |s: u64| sc.world_with(s, plan.clone()).trace(true);
    let r = match RunResult::from(doppel_sim::check_determinism(seed, world)) {
        Ok(r) => r,
        Err(e @ SimError::Nondeterministic(_)) => {
            println!("replay {} seed {seed}: {e}", sc.name);
            return Ok(Exit::Failed);
        }
        Err(e) => return Err(Usage(format!("replay: {e}"))),
    };
    if let (Some(path), Some(trace)) = (&a.trace, &r.report.trace) {
        write_trace(trace, path, a.json)?;
    }
    print!("{}", summary::text(cli, &sc, &plan, &r));
    println!("  replayed twice in this process: the same run, event for event");
    if let Some(trace) = &r.report.trace {
        show_events(trace, a)?;
    }
    if let Some(p) = &a.trace {
        println!("  whole trace: {}", p.display());
    }
    match a.hash {
        Some(h) if h != r.report.hash => {
            println!(
                "HASH MISMATCH: recorded {h:016x}, this run {:016x}: the code, the scenario or the toolchain changed since it was recorded",
                r.report.hash
            );
            Ok(Exit::Failed)
        }
        Some(_) => {
            println!("  hash {:016x} matches the recorded one", r.report.hash);
            Ok(Exit::Ok)
        }
        None => Ok(Exit::Ok),
    }
}

/// Prints the last `--tail` events, or that many around the fault `--around` names.
fn show_events(trace: &doppel_trace::Trace, a: &ReplayArgs) -> Result<(), Usage> {
    let n = usize::try_from(a.tail).unwrap_or(usize::MAX);
    let Some(fault) = &a.around else {
        let tail = trace.tail(n);
        println!("  last {} of {} events:", tail.len(), trace.len());
        for line in tail {
            println!("    {line}");
        }
        return Ok(());
    };
    let around = trace.around(&fault.to_string(), n).ok_or_else(|| {
        Usage(format!(
            "replay: --around {fault}: that fault did not fire in this run"
        ))
    })?;
    println!("  {}", around.to_string().replace('\n', "\n  "));
    Ok(())
}
