//! `doppel replay`: the same seed again, traced, run twice to prove it replays, its hash checked
//! against the one recorded when it failed, and the trace's last events (the failure's
//! surroundings) printed, or with `--around CLASS:OP` the events around one injected fault.

use super::args::{opt, switch, Args, Flag, Usage};
use super::run::write_trace;
use super::summary::{self, RunResult};
use super::{plan_arg, spec_arg, Exit};

/// The flags `replay` takes.
const FLAGS: [Flag; 8] = [
    opt("--seed"),
    opt("--around"),
    opt("--hash"),
    opt("--only"),
    opt("--faults"),
    opt("--tail"),
    opt("--trace"),
    switch("--json"),
];

/// `doppel replay SPEC --seed N [--hash H] [--only IDS] [--faults PLAN] [--tail N]
/// [--trace FILE] [--json]`.
pub(crate) fn main(argv: &[String]) -> Result<Exit, Usage> {
    let args = Args::parse("replay", argv, &FLAGS)?;
    let spec = spec_arg("replay", &args)?;
    let seed = args.seed("replay")?;
    let recorded = match args.value("--hash") {
        None => None,
        Some(h) => Some(u64::from_str_radix(h.trim(), 16).map_err(|_| {
            Usage(format!(
                "replay: --hash {h:?}: expected the 16 hex digits a run printed"
            ))
        })?),
    };
    let tail = args.count("replay", "--tail", 40)? as usize;
    let trace_path = args.out_path("replay", "--trace")?;
    let plan = plan_arg("replay", &spec, &args)?;
    let world = spec.world_with(seed, plan.clone()).trace(true);
    let r = match RunResult::from(world.check()) {
        Ok(r) => r,
        Err(e @ doppel::sim::SimError::Nondeterministic(_)) => {
            println!("replay {} seed {seed}: {e}", spec.name);
            return Ok(Exit::Failed);
        }
        Err(e) => return Err(Usage(format!("replay: {e}"))),
    };
    if let (Some(path), Some(trace)) = (&trace_path, &r.report.trace) {
        write_trace(trace, path, args.on("--json"))?;
    }
    print!("{}", summary::text(&spec, &plan, &r));
    println!("  replayed twice in this process: the same run, event for event");
    if let Some(trace) = &r.report.trace {
        show_events(trace, args.value("--around"), tail)?;
    }
    if let Some(p) = &trace_path {
        println!("  whole trace: {}", p.display());
    }
    match recorded {
        Some(h) if h != r.report.hash => {
            println!(
                "HASH MISMATCH: recorded {h:016x}, this run {:016x}: the code, the spec or the toolchain changed since it was recorded",
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

/// Prints the last `n` events, or the `n` events around the fault `around` (`CLASS:OP`).
fn show_events(trace: &doppel::trace::Trace, around: Option<&str>, n: usize) -> Result<(), Usage> {
    let lines = trace.lines();
    let Some(fault) = around else {
        println!("  last {} of {} events:", n.min(lines.len()), lines.len());
        for line in &lines[lines.len().saturating_sub(n)..] {
            println!("    {line}");
        }
        return Ok(());
    };
    let name: doppel::sim::FaultName = fault
        .parse()
        .map_err(|e: doppel::sim::faults::FaultError| Usage(format!("replay: --around: {e}")))?;
    let at = around_fault(&lines, &name).ok_or_else(|| {
        Usage(format!(
            "replay: --around {fault}: that fault did not fire in this run"
        ))
    })?;
    let from = at.saturating_sub(n / 2);
    let to = (at + n - n / 2).min(lines.len());
    println!("  events {from}..{to} of {}, around {fault}:", lines.len());
    for (i, line) in lines[from..to].iter().enumerate() {
        let mark = if from + i == at { ">>" } else { "  " };
        println!("  {mark}{line}");
    }
    Ok(())
}

/// The line of the trace where fault `name` fired.
fn around_fault(lines: &[String], name: &doppel::sim::FaultName) -> Option<usize> {
    let (class, site, op) = (
        format!(" fault {} ", name.class),
        format!(" site={} ", name.site),
        format!(" op={}", name.op),
    );
    lines.iter().position(|l| {
        l.contains(&class)
            && l.contains(&site)
            && (l.ends_with(&op) || l.contains(&format!("{op} ")))
    })
}
