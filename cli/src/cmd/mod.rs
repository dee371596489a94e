//! The verbs: list scenarios, run one seed (simulated or on loopback), explore a seed range,
//! combine shards' reports, replay a seed and check its hash, shrink a failing seed's faults,
//! serve a workload's server alone on the real backend, render a packed trace.
//!
//! Exit status: 0 when everything passed, 1 when a run or a seed failed (or a replay's hash
//! differs), 2 for bad input (an unknown scenario or verb, a malformed spec, a bad seed range or
//! fault plan, an unwritable output path), always with one line that names what was wrong and
//! before any work starts.

mod args;
mod explore;
mod list;
mod replay;
mod run;
mod serve;
mod shrink;
mod summary;
mod sweep;
mod trace;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use doppel_sim::FaultPlan;

use crate::scenario::Scenario;
use crate::Cli;

pub(crate) use args::PlanArgs;

/// Bad input: one line, exit status 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Usage(pub(crate) String);

/// How a verb ended.
#[derive(Debug)]
pub(crate) enum Exit {
    /// Everything passed.
    Ok,
    /// A run or seed failed; what was printed says which.
    Failed,
}

/// Parses `argv` (program name first) and runs the verb.
pub(crate) fn main<I, T>(cli: &Cli, argv: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let command = args::Line::command()
        .name(cli.name.clone())
        .bin_name(cli.name.clone());
    let matches = match command.try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => return clap_exit(&cli.name, &e),
    };
    let line = match args::Line::from_arg_matches(&matches) {
        Ok(l) => l,
        Err(e) => return clap_exit(&cli.name, &e),
    };
    let exit = match line.verb {
        args::Verb::List => list::main(cli),
        args::Verb::Run(a) => run::main(cli, &a),
        args::Verb::Explore(a) => explore::main(cli, &a),
        args::Verb::Combine(a) => sweep::combine_main(&a),
        args::Verb::Replay(a) => replay::main(cli, &a),
        args::Verb::Shrink(a) => shrink::main(cli, &a),
        args::Verb::Serve(a) => serve::main(cli, &a),
        args::Verb::Trace(a) => trace::main(&a),
    };
    match exit {
        Ok(Exit::Ok) => ExitCode::SUCCESS,
        Ok(Exit::Failed) => ExitCode::FAILURE,
        Err(Usage(msg)) => {
            let _ = writeln!(std::io::stderr(), "{}: {msg}", cli.name);
            ExitCode::from(2)
        }
    }
}

/// A clap error or request: help is printed whole (exit 0); an error becomes one line with
/// its tip (a similar verb or flag) and where to look (exit 2).
fn clap_exit(name: &str, e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::from(2);
        }
        _ => {}
    }
    let rendered = e.render().to_string();
    let mut error = String::new();
    let mut tips = Vec::new();
    let mut help = format!("{name} help");
    // The lines right after `error:` (the missing arguments, one a line) belong to it.
    let mut in_error = false;
    for line in rendered.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("error: ") {
            error = m.to_string();
            in_error = true;
        } else if line.is_empty() {
            in_error = false;
        } else if in_error && !line.starts_with("tip: ") && !line.starts_with("Usage: ") {
            let sep = if error.ends_with(':') { " " } else { ", " };
            error.push_str(sep);
            error.push_str(line);
        } else if let Some(t) = line.strip_prefix("tip: ") {
            tips.push(t.to_string());
        } else if let Some(u) = line.strip_prefix("Usage: ") {
            // `Usage: doppel run [OPTIONS] <SCENARIO>`: the verb's own help.
            let words: Vec<&str> = u
                .split_whitespace()
                .take_while(|w| !w.starts_with(['<', '[', '-']))
                .collect();
            if words.len() > 1 {
                help = format!("{} --help", words.join(" "));
            }
        }
    }
    let mut line = error;
    if !tips.is_empty() {
        line.push_str(&format!(" ({})", tips.join("; ")));
    }
    let _ = writeln!(std::io::stderr(), "{name}: {line}; see `{help}`");
    ExitCode::from(2)
}

/// The plan a verb runs with: the scenario's, or `--faults` (keeping the scenario's partitions
/// and crashes), with `--swarm` and `--only`.
pub(crate) fn plan_for(scenario: &Scenario, p: &PlanArgs, swarm: bool) -> FaultPlan {
    let mut plan = match &p.faults {
        None => scenario.faults.clone(),
        Some(parsed) => {
            // A plan string cannot say these, so the replay line's `--faults` keeps them too.
            let mut parsed = parsed.clone();
            parsed.partitions = scenario.faults.partitions.clone();
            parsed.crashes = scenario.faults.crashes.clone();
            parsed.stall_max = scenario.faults.stall_max;
            parsed.max_eintr_streak = scenario.faults.max_eintr_streak;
            parsed
        }
    };
    if swarm && plan.swarm == doppel_sim::Swarm::Off {
        plan.swarm = doppel_sim::Swarm::All;
    }
    if let Some(names) = &p.only {
        plan = plan.only(names.0.iter().cloned());
    }
    plan
}

/// The options a plan override adds to a replay command (`--faults`, `--only`).
pub(crate) fn plan_flags(scenario: &Scenario, plan: &FaultPlan) -> String {
    let mut out = String::new();
    let mut base = plan.clone();
    base.only = None;
    if base != scenario.faults {
        let mut p = base.clone();
        p.partitions.clear();
        p.crashes.clear();
        out.push_str(&format!(" --faults {p}"));
    }
    if let Some(names) = &plan.only {
        out.push_str(&format!(" --only {}", doppel_sim::FaultName::list(names)));
    }
    out
}

/// The command that replays `seed` of `scenario` under `plan`, with the hash to check.
pub(crate) fn replay_command(
    cli: &Cli,
    scenario: &Scenario,
    plan: &FaultPlan,
    seed: u64,
    hash: u64,
) -> String {
    format!(
        "{} replay {} --seed {seed} --hash {hash:016x}{}",
        cli.name,
        scenario.reference,
        plan_flags(scenario, plan)
    )
}

/// The scenario a verb names, or the line that says why there is none.
pub(crate) fn scenario(cli: &Cli, name: &str) -> Result<Scenario, Usage> {
    cli.find(name).map_err(Usage)
}
