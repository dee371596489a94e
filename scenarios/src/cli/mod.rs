//! The `doppel` command: list scenarios, run one seed (simulated or on loopback), explore a seed
//! range, replay a seed and check its hash, shrink a failing seed's faults.
//!
//! Exit status: 0 when everything passed, 1 when a run or a seed failed (or a replay's hash
//! differs), 2 for bad input (an unknown scenario, a malformed spec, a bad seed range or fault
//! spec, an unwritable output path), always with one line that names what was wrong.

mod args;
mod explore;
mod list;
mod replay;
mod run;
mod shrink;
mod summary;
mod sweep;

use std::io::Write;
use std::process::ExitCode;

use doppel::sim::FaultPlan;

pub use args::{Args, Usage};

use crate::spec::Spec;

/// How a command ended.
#[derive(Debug)]
pub enum Exit {
    /// Everything passed.
    Ok,
    /// A run or seed failed; what was printed says which.
    Failed,
    /// Bad input.
    Usage(Usage),
}

impl From<Usage> for Exit {
    fn from(u: Usage) -> Exit {
        Exit::Usage(u)
    }
}

/// The usage text.
const USAGE: &str = "usage: doppel <command> ...
  list                                   scenarios and workloads, one line each
  run SPEC --seed N [--trace FILE] [--json] [--faults PLAN] [--only FAULTS]
                                         one seeded run in the simulator
  run SPEC --real [--repeat N] [--trace FILE] [--json]
                                         the same workload on the real backend, over 127.0.0.1
  explore SPEC [--seeds A..B] [--jobs N] [--swarm] [--shard K/N] [--faults PLAN] [--json FILE]
                                         a seed sweep; exit 1 when any seed fails
  combine REPORT.json... [--json FILE]   one report from the shards' JSON reports
  replay SPEC --seed N [--hash H] [--only FAULTS] [--faults PLAN] [--tail N] [--around FAULT]
         [--trace FILE]
                                         the same run again, traced, its hash checked
  shrink SPEC --seed N [--faults PLAN] [--only FAULTS]
                                         the smallest set of injected faults that still fails
SPEC is a built-in scenario's name (see `doppel list`) or a path to a .toml spec. PLAN is a
fault plan (none, all=P, benign=P, swarm, CLASS=P,...); FAULTS names faults as shrink prints
them (short-read:4,late:9).";

/// Runs the command line `argv` (without the program name) and returns the exit status.
pub fn main(argv: &[String]) -> ExitCode {
    let exit = match argv.split_first() {
        None => Err(Usage(format!("no command given\n{USAGE}"))),
        Some((cmd, rest)) => dispatch(cmd, rest),
    };
    match exit.unwrap_or_else(Exit::Usage) {
        Exit::Ok => ExitCode::SUCCESS,
        Exit::Failed => ExitCode::FAILURE,
        Exit::Usage(Usage(msg)) => {
            let _ = writeln!(std::io::stderr(), "doppel: {msg}");
            ExitCode::from(2)
        }
    }
}

/// Runs one command.
fn dispatch(cmd: &str, rest: &[String]) -> Result<Exit, Usage> {
    match cmd {
        "list" => list::main(rest),
        "run" => run::main(rest),
        "explore" => explore::main(rest),
        "combine" => sweep::combine_main(rest),
        "replay" => replay::main(rest),
        "shrink" => shrink::main(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(Exit::Ok)
        }
        other => Err(Usage(format!(
            "unknown command {other:?} (commands: list, run, explore, combine, replay, shrink; try doppel help)"
        ))),
    }
}

/// Loads the spec named by the one positional argument.
fn spec_arg(command: &str, args: &Args) -> Result<Spec, Usage> {
    let name = args.one(command, "SPEC (a scenario name or a .toml path)")?;
    Spec::find(name).map_err(|e| Usage(e.to_string()))
}

/// The fault plan a command runs with: the spec's, or `--faults`, with `--swarm` and `--only`.
fn plan_arg(command: &str, spec: &Spec, args: &Args) -> Result<FaultPlan, Usage> {
    let mut plan = match args.value("--faults") {
        None => spec.faults.clone(),
        Some(p) => {
            let mut parsed: FaultPlan =
                p.parse().map_err(|e: doppel::sim::faults::FaultError| {
                    Usage(format!("{command}: --faults: {e}"))
                })?;
            parsed.partitions = spec.faults.partitions.clone();
            parsed.crashes = spec.faults.crashes.clone();
            parsed
        }
    };
    if args.on("--swarm") && plan.swarm == doppel::sim::Swarm::Off {
        plan.swarm = doppel::sim::Swarm::All;
    }
    if let Some(ids) = args.only(command)? {
        plan = plan.only(ids);
    }
    Ok(plan)
}

/// How the spec is named on a command line the user can paste back.
fn spec_ref(spec: &Spec) -> String {
    match spec.source.strip_prefix("builtin:") {
        Some(name) => name.to_string(),
        None => spec.source.clone(),
    }
}

/// The options a plan override adds to a replay command (`--faults`, `--only`).
fn plan_flags(spec: &Spec, plan: &FaultPlan) -> String {
    let mut out = String::new();
    let mut base = plan.clone();
    base.only = None;
    if base != spec.faults {
        let mut p = base.clone();
        p.partitions.clear();
        p.crashes.clear();
        out.push_str(&format!(" --faults {}", p));
    }
    if let Some(ids) = &plan.only {
        out.push_str(&format!(" --only {}", doppel::sim::FaultName::list(ids)));
    }
    out
}
