//! doppel's simulator on the shared simulator benchmark: one echo server and N clients, each
//! its own simulated host, doing R round trips of 64 bytes over L ms links; and seeds per
//! second for a tiny scenario. Prints the same lines as the turmoil and madsim harnesses in
//! `benches/sim-peers`.
//!
//! ```text
//! sim-bench-doppel rt --clients N --rounds R --latency-ms L
//! sim-bench-doppel seeds --count S
//! ```

use std::cell::Cell;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use doppel::net::{TcpListener, TcpStream};
use doppel::sim::SimBuilder;

const MSG: usize = 64;

/// Echoes 64-byte messages until the peer closes.
async fn serve() -> io::Result<()> {
    let listener = TcpListener::bind("0.0.0.0:7000")?;
    loop {
        let (conn, _) = listener.accept().await?;
        doppel::spawn(async move {
            let mut buf = [0u8; 4096];
            loop {
                match conn.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if conn.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
}

/// `rounds` round trips of 64 bytes, each reply checked.
async fn client(server: SocketAddr, id: u64, rounds: u64, done: Rc<Cell<u64>>) -> io::Result<()> {
    let conn = TcpStream::connect(server).await?;
    let mut back = [0u8; MSG];
    for r in 0..rounds {
        let msg = [(id as u8).wrapping_add(r as u8); MSG];
        conn.write_all(&msg).await?;
        let mut got = 0;
        while got < MSG {
            match conn.read(&mut back[got..]).await? {
                0 => return Err(io::Error::other("early EOF")),
                n => got += n,
            }
        }
        if back != msg {
            return Err(io::Error::other("a reply came back wrong"));
        }
        done.set(done.get() + 1);
    }
    Ok(())
}

/// The world: a server and `clients` client hosts.
fn world(seed: u64, clients: u64, rounds: u64, latency: Duration, done: &Rc<Cell<u64>>) -> SimBuilder {
    let traced = std::env::args().any(|a| a == "--trace");
    let server: SocketAddr = "10.0.0.1:7000".parse().expect("address");
    let mut b = SimBuilder::new(seed)
        .latency(latency)
                .time_limit(Duration::from_secs(24 * 3600))
        .trace(traced)
        .host("server", "10.0.0.1", serve);
    for id in 0..clients {
        let addr = format!("10.{}.{}.{}", 1 + id / 65536, (id / 256) % 256, id % 256);
        let done = done.clone();
        b = b.client(&format!("client{id}"), &addr, move || client(server, id, rounds, done.clone()));
    }
    b
}

#[allow(clippy::disallowed_methods)] // The wall clock measures the benchmark, not the runtime.
fn rt(clients: u64, rounds: u64, latency_ms: u64) -> Result<(), String> {
    let done = Rc::new(Cell::new(0));
    let start = Instant::now();
    let stream_to = trace_to()?;
    let built = world(1, clients, rounds, Duration::from_millis(latency_ms), &done);
    let report = match stream_to {
        // The trace streams to a file as the run goes (bounded memory).
        // With --packed, as the collector encodes it (rendered later by `doppel trace FILE`).
        Some(path) => {
            let sim = built.build().map_err(|e| e.to_string())?;
            let run = match std::env::args().any(|a| a == "--packed") {
                true => sim.run_trace_packed(path.as_ref()),
                false => sim.run_trace_to(path.as_ref(), doppel::trace::Format::Text),
            };
            run.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?
        }
        None => built.run().map_err(|e| e.to_string())?,
    };
        let wall = start.elapsed().as_secs_f64();
    let drop_start = Instant::now();
    let events = report.trace.as_ref().map_or(0, |t| t.len());
    let steps = report.steps;
    let virtual_s = report.elapsed.as_secs_f64();
    drop(report);
    let drop_s = drop_start.elapsed().as_secs_f64();
    if done.get() != clients * rounds {
        return Err(format!("{} round trips, expected {}", done.get(), clients * rounds));
    }
    println!(
                        "rt clients={clients} rounds={rounds} latency_ms={latency_ms} wall_s={wall:.4} round_trips={} rt_per_sec={:.0} virtual_s={virtual_s:.3} steps={steps} trace_events={events} drop_s={drop_s:.4} peak_rss_kib={}",
        done.get(),
        done.get() as f64 / wall,
        peak_rss_kib(),
    );
    Ok(())
}

/// `--trace-to FILE`: stream the run's trace to FILE (an error if FILE is missing).
fn trace_to() -> Result<Option<String>, String> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--trace-to") {
        None => Ok(None),
        Some(i) => match args.get(i + 1) {
            Some(path) if !path.starts_with("--") => Ok(Some(path.clone())),
            _ => Err("--trace-to needs a file path".into()),
        },
    }
}

/// The process's peak resident set (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[allow(clippy::disallowed_methods)] // The wall clock measures the benchmark, not the runtime.
fn seeds(count: u64) -> Result<(), String> {
    let start = Instant::now();
    for seed in 0..count {
        let done = Rc::new(Cell::new(0));
        world(seed, 2, 10, Duration::from_millis(1), &done)
            .run()
            .map_err(|e| format!("seed {seed}: {e}"))?;
        if done.get() != 20 {
            return Err(format!("seed {seed}: {} round trips, expected 20", done.get()));
        }
    }
    let wall = start.elapsed().as_secs_f64();
    println!("seeds count={count} wall_s={wall:.4} seeds_per_sec={:.0}", count as f64 / wall);
    Ok(())
}

/// `--name value` pairs.
fn flag(args: &[String], name: &str) -> Option<u64> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let res = match args.first().map(String::as_str) {
        Some("rt") => match (flag(&args, "--clients"), flag(&args, "--rounds"), flag(&args, "--latency-ms")) {
            (Some(c), Some(r), Some(l)) if c > 0 && r > 0 => rt(c, r, l),
            _ => Err("usage: rt --clients N --rounds R --latency-ms L [--trace | --trace-to FILE [--packed]]".into()),
        },
        Some("seeds") => match flag(&args, "--count") {
            Some(n) if n > 0 => seeds(n),
            _ => Err("usage: seeds --count S".into()),
        },
        _ => Err("usage: sim-bench-doppel rt --clients N --rounds R --latency-ms L [--trace | --trace-to FILE [--packed]] | seeds --count S".into()),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sim-bench-doppel: {e}");
            ExitCode::from(2)
        }
    }
}
