//! Peer benchmark for the turmoil simulator.
//!
//! Runs the same echo workload as the doppel simulator benchmarks and the
//! madsim peer crate, so the numbers can be compared side by side:
//!
//! * `rt --clients N --rounds R --latency-ms L`: one echo server host and N
//!   client hosts (each its own simulated host with its own IP) in a single
//!   simulation. Every client opens one TCP connection to the server and does
//!   R sequential round trips of 64 bytes (write 64, read exactly 64 back,
//!   compare). The server spawns one task per accepted connection.
//! * `seeds --count S`: the tiny scenario (1 server, 2 clients, 10 round
//!   trips, 1 ms links) run S times with seeds 0..S in this one process.
//!
//! Wall-clock time is measured around building *and* running each simulation.

use std::cell::Cell;
use std::process::exit;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use turmoil::net::{TcpListener, TcpStream};

/// Port the echo server listens on.
const PORT: u16 = 7000;
/// Payload size of one round trip.
const MSG: usize = 64;
/// Seed used by the `rt` mode.
const RT_SEED: u64 = 1;

/// Echo server: accept forever, one spawned task per connection.
async fn server() -> turmoil::Result {
    let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
    loop {
        let (mut stream, _peer) = listener.accept().await?;
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            loop {
                match stream.read(&mut buf).await {
                    // Peer closed (or the connection broke): end this task.
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        // Flush mirrors the madsim crate (no-op here).
                        if stream.write_all(&buf[..n]).await.is_err()
                            || stream.flush().await.is_err()
                        {
                            return;
                        }
                    }
                }
            }
        });
    }
}

/// One client: connect, then `rounds` sequential 64-byte echo round trips.
/// Every completed, verified round trip bumps the shared counter.
async fn client(id: usize, rounds: u64, done: Rc<Cell<u64>>) -> turmoil::Result {
    let mut stream = TcpStream::connect(("server", PORT)).await?;
    let mut out = [0u8; MSG];
    let mut back = [0u8; MSG];
    for round in 0..rounds {
        // A payload that differs per client and per round, so a mixed-up
        // echo would be caught by the comparison below.
        for (k, b) in out.iter_mut().enumerate() {
            *b = (id as u64)
                .wrapping_mul(31)
                .wrapping_add(round)
                .wrapping_add(k as u64) as u8;
        }
        stream.write_all(&out).await?;
        // A no-op for turmoil, but required on madsim; kept for symmetry.
        stream.flush().await?;
        stream.read_exact(&mut back).await?;
        assert_eq!(out, back, "client {id} round {round}: echo mismatch");
        done.set(done.get() + 1);
    }
    Ok(())
}

/// Build and run one simulation; returns the number of round trips the
/// clients completed.
fn run_sim(seed: u64, clients: usize, rounds: u64, latency: Duration) -> u64 {
    // Simulated-time budget: every round trip costs two one-way latencies
    // (at least one 1 ms tick each). Give plenty of headroom so the default
    // 10 s limit never cuts a run short.
    let per_rt = latency.max(Duration::from_millis(1)) * 2 + Duration::from_millis(2);
    let budget = per_rt * (rounds as u32 + 10) * 4 + Duration::from_secs(60);

    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        // min == max: every message takes exactly `latency` (no random jitter).
        .min_message_latency(latency)
        .max_message_latency(latency)
        .simulation_duration(budget)
        // turmoil panics ("server socket buffer full") when more SYNs are
        // queued on a listener than `tcp_capacity` (default 64), so size the
        // accept backlog for all clients connecting at once.
        .tcp_capacity(clients.max(64) + 16)
        .build();

    sim.host("server", server);

    let done = Rc::new(Cell::new(0u64));
    for id in 0..clients {
        let done = done.clone();
        sim.client(format!("client{id}"), client(id, rounds, done));
    }

    if let Err(e) = sim.run() {
        eprintln!("simulation failed: {e}");
        exit(1);
    }
    verbose_sim_time(sim.elapsed());
    done.get()
}

/// With `SIM_BENCH_VERBOSE=1`, report the simulated duration on stderr
/// (a sanity check that the latency setting took effect).
fn verbose_sim_time(sim: Duration) {
    if std::env::var_os("SIM_BENCH_VERBOSE").is_some() {
        eprintln!("sim_time_s={:.6}", sim.as_secs_f64());
    }
}

/// Value of the `--name value` flag `name`, parsed as an integer.
fn flag(args: &[String], name: &str) -> u64 {
    let pos = args.iter().position(|a| a == name).unwrap_or_else(|| {
        eprintln!("missing {name}");
        usage()
    });
    args.get(pos + 1)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            eprintln!("bad value for {name}");
            usage()
        })
}

fn usage() -> ! {
    eprintln!(
        "usage:\n  sim-bench-turmoil rt --clients N --rounds R --latency-ms L\n  \
         sim-bench-turmoil seeds --count S"
    );
    exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("rt") => {
            let clients = flag(&args, "--clients");
            let rounds = flag(&args, "--rounds");
            let latency_ms = flag(&args, "--latency-ms");

            let start = Instant::now();
            let round_trips = run_sim(
                RT_SEED,
                clients as usize,
                rounds,
                Duration::from_millis(latency_ms),
            );
            let wall = start.elapsed().as_secs_f64();

            assert_eq!(round_trips, clients * rounds, "not every round trip completed");
            println!(
                "rt clients={clients} rounds={rounds} latency_ms={latency_ms} wall_s={wall:.3} \
                 round_trips={round_trips} rt_per_sec={:.0}",
                round_trips as f64 / wall
            );
        }
        Some("seeds") => {
            let count = flag(&args, "--count");

            let start = Instant::now();
            for seed in 0..count {
                let n = run_sim(seed, 2, 10, Duration::from_millis(1));
                assert_eq!(n, 20, "seed {seed}: not every round trip completed");
            }
            let wall = start.elapsed().as_secs_f64();

            println!(
                "seeds count={count} wall_s={wall:.3} seeds_per_sec={:.1}",
                count as f64 / wall
            );
        }
        _ => usage(),
    }
}
