//! `doppel run`: one seeded run in the simulator, or the same workload on the real backend over
//! 127.0.0.1 with `--real`; the summary, and with `--trace` the whole trace.

use std::path::Path;

use doppel::trace::{Format, Header, Trace};

use super::args::{opt, switch, Args, Usage};
use super::summary::{self, RunResult};
use super::{plan_arg, spec_arg, Exit};
use crate::run::RealOutcome;
use crate::spec::Spec;

/// The flags `run` takes.
const FLAGS: [super::args::Flag; 7] = [
    opt("--seed"),
    opt("--trace"),
    switch("--json"),
    switch("--real"),
    opt("--repeat"),
    opt("--faults"),
    opt("--only"),
];

/// `doppel run SPEC --seed N [--trace FILE] [--json] [--faults PLAN] [--only IDS]` or
/// `doppel run SPEC --real [--trace FILE] [--json]`.
pub(crate) fn main(argv: &[String]) -> Result<Exit, Usage> {
    let args = Args::parse("run", argv, &FLAGS)?;
    let spec = spec_arg("run", &args)?;
    let trace_path = args.out_path("run", "--trace")?;
    if args.on("--real") {
        for f in ["--seed", "--faults", "--only"] {
            if args.on(f) {
                return Err(Usage(format!(
                    "run: {f} has no meaning with --real (the real kernel picks)"
                )));
            }
        }
        let repeat = args.count("run", "--repeat", 1)?;
        if repeat > 1 {
            return repeated(&spec, repeat, trace_path.is_some() || args.on("--json"));
        }
        return real(&spec, trace_path.as_deref(), args.on("--json"));
    }
    if args.on("--repeat") {
        return Err(Usage(
            "run: --repeat goes with --real (a seed's run is the same every time)".into(),
        ));
    }
    let seed = args.seed("run")?;
    let plan = plan_arg("run", &spec, &args)?;
    let world = spec
        .world_with(seed, plan.clone())
        .trace(trace_path.is_some());
    let r = RunResult::from(world.run()).map_err(|e| Usage(format!("run: {e}")))?;
    if let (Some(path), Some(trace)) = (&trace_path, &r.report.trace) {
        write_trace(trace, path, args.on("--json"))?;
    }
    if args.on("--json") {
        println!("{}", summary::json(&spec, &plan, &r));
    } else {
        print!("{}", summary::text(&spec, &plan, &r));
        if let Some(p) = &trace_path {
            println!("  trace: {}", p.display());
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

/// `--real --repeat N`: the loopback run N times, stopping at the first failure.
fn repeated(spec: &Spec, n: u64, traced: bool) -> Result<Exit, Usage> {
    if traced {
        return Err(Usage(
            "run: --repeat takes no --trace or --json (one run's trace is what they give)".into(),
        ));
    }
    for i in 1..=n {
        let out = loopback(spec).map_err(|e| Usage(format!("run --real: {e}")))?;
        if let Some(f) = out.failure() {
            println!(
                "{} ({}/{}) on loopback: run {i} of {n} FAILED: {f}",
                spec.name,
                spec.workload.name(),
                spec.variant_name()
            );
            return Ok(Exit::Failed);
        }
    }
    println!(
        "{} ({}/{}) on loopback: {n} of {n} runs passed",
        spec.name,
        spec.workload.name(),
        spec.variant_name()
    );
    Ok(Exit::Ok)
}

/// One loopback run of the spec's workload, on one reactor or on the spec's group.
fn loopback(spec: &Spec) -> std::io::Result<RealOutcome> {
    crate::run::real_on(
        spec.workload,
        spec.variant,
        &spec.load,
        spec.real_time_limit,
        spec.server,
    )
}

/// The workload on the real backend over loopback.
fn real(spec: &Spec, trace_path: Option<&Path>, json: bool) -> Result<Exit, Usage> {
    let go = || loopback(spec);
    let (out, store) = match trace_path {
        Some(_) => {
            let (out, store) = doppel::trace::capture(go);
            (out, Some(store))
        }
        None => (go(), None),
    };
    let out = out.map_err(|e| Usage(format!("run --real: {e}")))?;
    if let (Some(path), Some(store)) = (trace_path, store) {
        let trace = Trace::new(Header::new("real", None, "none"), store);
        write_trace(&trace, path, json)?;
    }
    let failure = out.failure();
    if json {
        println!("{}", real_json(spec, &out));
    } else {
        print!("{}", real_text(spec, &out, trace_path));
    }
    Ok(if failure.is_none() {
        Exit::Ok
    } else {
        Exit::Failed
    })
}

/// A loopback run as one JSON object.
fn real_json(spec: &Spec, out: &RealOutcome) -> serde_json::Value {
    let failure = out.failure();
    let clients: Vec<serde_json::Value> = out
        .clients
        .iter()
        .map(|(n, e)| serde_json::json!({"name": n, "error": e}))
        .collect();
    let group = out.group.map(|g| {
        serde_json::json!({
            "shape": spec.server_shape(),
            "admitted": g.admitted,
            "rejected": g.rejected,
        })
    });
    serde_json::json!({
        "scenario": spec.name,
        "backend": "real",
        "passed": failure.is_none(),
        "failure": failure,
        "clients": clients,
        "server": group,
    })
}

/// A loopback run as text: the verdict, each client, and on a group what its `serve` did.
fn real_text(spec: &Spec, out: &RealOutcome, trace_path: Option<&Path>) -> String {
    let verdict = out
        .failure()
        .map_or("passed".to_string(), |f| format!("FAILED: {f}"));
    let mut text = format!(
        "{} ({}/{}) on loopback: {verdict}\n",
        spec.name,
        spec.workload.name(),
        spec.variant_name()
    );
    for (name, e) in &out.clients {
        let what = e
            .as_deref()
            .map_or("ok".to_string(), |e| format!("failed: {e}"));
        text.push_str(&format!("  {name}: {what}\n"));
    }
    if let (Some(shape), Some(g)) = (spec.server_shape(), out.group) {
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
