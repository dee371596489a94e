//! The echo server, unchanged, in the simulator: one server, a few clients, every random fault
//! class on.
//! `cargo run --release --example sim_echo -- --seed 42 [--clients N] [--faults SPEC] [--trace FILE [--json]]`
//!
//! Prints the run's report (virtual time, steps, faults injected per class, the run hash). The
//! same seed prints the same report, byte for byte. A bad argument ends it with one line and
//! exit status 2; a failing run prints the failure and exits 1.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use doppel::sim::{FaultPlan, SimBuilder};
use doppel_scenarios::echo::{self, ClientPlan};

/// Parsed arguments.
struct Args {
    seed: u64,
    clients: u64,
    faults: FaultPlan,
    trace: Option<std::path::PathBuf>,
    json: bool,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        seed: 42,
        clients: 4,
        faults: FaultPlan::all(0.02),
        trace: None,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--seed" => {
                let v = value()?;
                args.seed = v.trim().parse().map_err(|_| {
                    format!("--seed {v:?}: expected an unsigned 64-bit seed such as 42")
                })?;
            }
            "--clients" => {
                let v = value()?;
                args.clients = v.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                    format!("--clients {v:?}: expected a number of clients, at least 1")
                })?;
            }
            "--faults" => args.faults = value()?.parse().map_err(|e| format!("--faults: {e}"))?,
            "--trace" => args.trace = Some(value()?.into()),
            "--json" => args.json = true,
            other => {
                return Err(format!(
                    "unknown argument {other:?} (expected --seed, --clients, --faults, --trace, --json)"
                ))
            }
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("sim_echo: {e}");
            return ExitCode::from(2);
        }
    };
    if args.json && args.trace.is_none() {
        eprintln!("sim_echo: --json needs --trace FILE");
        return ExitCode::from(2);
    }
    let server: SocketAddr = "10.0.0.1:7000".parse().expect("address");
    let plan = ClientPlan {
        rounds: 50,
        max_size: 16 * 1024,
        reconnects: 100,
        deadline: Some(Duration::from_secs(2)),
    };
    let mut world = SimBuilder::new(args.seed)
        .faults(args.faults)
        .trace(args.trace.is_some())
        .host("server", "10.0.0.1", || {
            echo::bind_and_serve("0.0.0.0:7000")
        });
    for id in 0..args.clients {
        world = world.client(
            &format!("client{id}"),
            &format!("10.0.1.{}", id + 1),
            move || async move { echo::client(server, id, plan).await.map(drop) },
        );
    }
    let result = world.run();
    let trace = match &result {
        Ok(r) => r.trace.as_ref(),
        Err(doppel::sim::SimError::Failed(f)) => f.report.trace.as_ref(),
        Err(_) => None,
    };
    if let (Some(path), Some(trace)) = (&args.trace, trace) {
        let format = if args.json {
            doppel::trace::Format::Json
        } else {
            doppel::trace::Format::Text
        };
        if let Err(e) = trace.write(path, format) {
            eprintln!("sim_echo: {e}");
            return ExitCode::from(2);
        }
    }
    match result {
        Ok(report) => {
            // A closed stdout (say, piped to `head`) is not an error worth a panic.
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", report.without_trace());
            for (name, outcome) in &report.clients {
                let _ = writeln!(out, "  {name}: {outcome:?}");
            }
            if let Some(path) = &args.trace {
                let _ = writeln!(out, "  trace: {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sim_echo: {e}");
            ExitCode::FAILURE
        }
    }
}
