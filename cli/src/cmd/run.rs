//! `run`: one seeded run in the simulator, or the same workload on the real backend over
//! 127.0.0.1 with `--real`; the summary, and with `--trace` the whole trace.

use std::path::Path;

use doppel_trace::{Format, Header, Trace};

use super::args::RunArgs;
use super::summary::{self, RunResult};
use super::{plan_for, scenario, Exit, Usage};
use crate::run::RealOutcome;
use crate::scenario::Scenario;
use crate::Cli;

/// `run SCENARIO --seed N [--trace FILE [--packed]] [--json] [--faults PLAN] [--only FAULTS]` or
/// `run SCENARIO --real [--repeat N] [--trace FILE] [--json]`.
pub(crate) fn main(cli: &Cli, a: &RunArgs) -> Result<Exit, Usage> {
    let sc = scenario(cli, &a.scenario)?;
    if a.real {
        if sc.server == "world" {
            return Err(Usage(format!(
                "run: {} is a simulated world with no loopback run (--real runs a spec's workload)",
                sc.name
            )));
        }
        if let Some(n) = a.repeat.filter(|&n| n > 1) {
            return repeated(&sc, n);
        }
        return real(&sc, a.trace.as_deref(), a.json);
    }
    let seed = a.seed.expect("clap requires --seed without --real");
    let plan = plan_for(&sc, &a.plan, false);
    let world = sc.world_with(seed, plan.clone());
    let outcome = match &a.trace {
        // Streamed as the run goes: a long run's trace never has to fit in memory.
        Some(path) => {
            let sim = world.build().map_err(|e| Usage(format!("run: {e}")))?;
            let format = if a.json { Format::Json } else { Format::Text };
            let run = match a.packed {
                true => sim.run_trace_packed(path),
                false => sim.run_trace_to(path, format),
            };
            let run = run.map_err(|e| Usage(e.to_string()))?;
            run.map_err(doppel_sim::SimError::from)
        }
        None => world.run(),
    };
    let r = RunResult::from(outcome).map_err(|e| Usage(format!("run: {e}")))?;
    if a.json {
        println!("{}", summary::json(cli, &sc, &plan, &r));
    } else {
        print!("{}", summary::text(cli, &sc, &plan, &r));
        match (&a.trace, a.packed) {
            (Some(p), true) => println!(
                "  trace: {} (packed: `{} trace {}` renders it)",
                p.display(),
                cli.name,
                p.display()
            ),
            (Some(p), false) => println!("  trace: {}", p.display()),
            (None, _) => {}
        }
    }
    Ok(if r.failure.is_none() {
        Exit::Ok
    } else {
        Exit::Failed
    })
}

/// Writes a trace, text or JSON lines.
pub(crate) fn write_trace(trace: &Trace, path: &Path, json: bool) -> Result<(), Usage> {
    let format = if json { Format::Json } else { Format::Text };
    trace.write(path, format).map_err(|e| Usage(e.to_string()))
}

/// One loopback run of the scenario's workload.
fn loopback(sc: &Scenario) -> Result<RealOutcome, Usage> {
    sc.real()
        .expect("checked: the scenario has a loopback run")
        .map_err(|e| Usage(format!("run --real: {e}")))
}

/// `--real --repeat N`: the loopback run N times, stopping at the first failure.
fn repeated(sc: &Scenario, n: u64) -> Result<Exit, Usage> {
    for i in 1..=n {
        let out = loopback(sc)?;
        if let Some(f) = out.failure() {
            println!(
                "{} ({}) on loopback: run {i} of {n} FAILED: {f}",
                sc.name, sc.server
            );
            return Ok(Exit::Failed);
        }
    }
    println!(
        "{} ({}) on loopback: {n} of {n} runs passed",
        sc.name, sc.server
    );
    Ok(Exit::Ok)
}

/// The workload on the real backend over loopback.
fn real(sc: &Scenario, trace_path: Option<&Path>, json: bool) -> Result<Exit, Usage> {
    let go = || loopback(sc);
    let (out, store) = match trace_path {
        Some(_) => {
            let (out, store) = doppel_trace::capture(go);
            (out, Some(store))
        }
        None => (go(), None),
    };
    let out = out?;
    if let (Some(path), Some(store)) = (trace_path, store) {
        let trace = Trace::new(Header::new("real", None, "none"), store);
        write_trace(&trace, path, json)?;
    }
    let failure = out.failure();
    if json {
        println!("{}", real_json(sc, &out));
    } else {
        print!("{}", real_text(sc, &out, trace_path));
    }
    Ok(if failure.is_none() {
        Exit::Ok
    } else {
        Exit::Failed
    })
}

/// A loopback run as one JSON object.
fn real_json(sc: &Scenario, out: &RealOutcome) -> serde_json::Value {
    let failure = out.failure();
    let clients: Vec<serde_json::Value> = out
        .clients
        .iter()
        .map(|(n, e)| serde_json::json!({"name": n, "error": e}))
        .collect();
    let group = out.group.map(|g| {
        serde_json::json!({
            "shape": sc.shape,
            "admitted": g.admitted,
            "rejected": g.rejected,
        })
    });
    serde_json::json!({
        "scenario": sc.name,
        "backend": "real",
        "passed": failure.is_none(),
        "failure": failure,
        "clients": clients,
        "server": group,
    })
}

/// A loopback run as text: the verdict, each client, and on a group what its `serve` did.
fn real_text(sc: &Scenario, out: &RealOutcome, trace_path: Option<&Path>) -> String {
    let verdict = out
        .failure()
        .map_or("passed".to_string(), |f| format!("FAILED: {f}"));
    let mut text = format!("{} ({}) on loopback: {verdict}\n", sc.name, sc.server);
    for (name, e) in &out.clients {
        let what = e
            .as_deref()
            .map_or("ok".to_string(), |e| format!("failed: {e}"));
        text.push_str(&format!("  {name}: {what}\n"));
    }
    if let (Some(shape), Some(g)) = (&sc.shape, out.group) {
        text.push_str(&format!(
            "  server: {shape}; {} connections admitted, {} refused\n",
            g.admitted, g.rejected
        ));
        if let Some(path) = trace_path {
            // The collector listens on the calling thread, which runs the main reactor.
            text.push_str(&format!(
                "  trace: {} (the main reactor's thread only: the sub-reactors' threads are \
                 not traced)\n",
                path.display()
            ));
        }
    }
    text
}
