//! Peer benchmark for the madsim simulator.
//!
//! Runs the same echo workload as the doppel simulator benchmarks and the
//! turmoil peer crate, so the numbers can be compared side by side:
//!
//! * `rt --clients N --rounds R --latency-ms L`: one echo server node and N
//!   client nodes (each its own simulated node with its own IP) in a single
//!   simulation. Every client opens one TCP connection to the server and does
//!   R sequential round trips of 64 bytes (write 64, read exactly 64 back,
//!   compare). The server spawns one task per accepted connection.
//! * `seeds --count S`: the tiny scenario (1 server, 2 clients, 10 round
//!   trips, 1 ms links) run S times with seeds 0..S in this one process.
//!
//! Wall-clock time is measured around building *and* running each simulation.
//! The measurement happens outside `block_on`: inside a madsim context
//! `Instant::now()` returns *simulated* time (madsim overrides
//! `clock_gettime`), outside it is the real clock.
//!
//! Must be built with `RUSTFLAGS="--cfg madsim"`; `tokio` here is
//! `madsim-tokio`, which maps `tokio::net`/`tokio::spawn` onto the simulator.

#[cfg(not(madsim))]
compile_error!("build this crate with RUSTFLAGS=\"--cfg madsim\" (see ../README.md)");

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::exit;
use std::time::{Duration, Instant};

use madsim::runtime::{Handle, Runtime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Port the echo server listens on.
const PORT: u16 = 7000;
/// Payload size of one round trip.
const MSG: usize = 64;
/// Seed used by the `rt` mode.
const RT_SEED: u64 = 1;
/// Simulated IP of the server node; clients get 10.1.x.y.
const SERVER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

/// Echo server: bind, report readiness, then accept forever with one spawned
/// task per connection.
async fn server(ready: oneshot::Sender<()>) {
    let listener = TcpListener::bind(SocketAddr::new(IpAddr::V4(SERVER_IP), PORT))
        .await
        .expect("server bind");
    let _ = ready.send(());
    loop {
        let (mut stream, _peer) = listener.accept().await.expect("accept");
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            loop {
                match stream.read(&mut buf).await {
                    // Peer closed (or the connection broke): end this task.
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        // madsim's TcpStream buffers writes until flush, so
                        // flush after every echo (a no-op cost on real TCP).
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
/// Returns the number of completed, verified round trips.
async fn client(id: usize, rounds: u64) -> u64 {
    let mut stream = TcpStream::connect(SocketAddr::new(IpAddr::V4(SERVER_IP), PORT))
        .await
        .expect("connect");
    let mut out = [0u8; MSG];
    let mut back = [0u8; MSG];
    let mut done = 0;
    for round in 0..rounds {
        // A payload that differs per client and per round, so a mixed-up
        // echo would be caught by the comparison below.
        for (k, b) in out.iter_mut().enumerate() {
            *b = (id as u64)
                .wrapping_mul(31)
                .wrapping_add(round)
                .wrapping_add(k as u64) as u8;
        }
        stream.write_all(&out).await.expect("write");
        // Required on madsim: data is only sent on flush.
        stream.flush().await.expect("flush");
        stream.read_exact(&mut back).await.expect("read");
        assert_eq!(out, back, "client {id} round {round}: echo mismatch");
        done += 1;
    }
    done
}

/// Build and run one simulation; returns the number of round trips the
/// clients completed.
fn run_sim(seed: u64, clients: usize, rounds: u64, latency: Duration) -> u64 {
    let mut config = madsim::Config::default();
    // `send_latency` is a half-open range sampled per message; a 1 ns wide
    // range pins every message's latency to `latency` (no random jitter).
    config.net.send_latency = latency..latency + Duration::from_nanos(1);
    config.net.packet_loss_rate = 0.0;

    let rt = Runtime::with_seed_and_config(seed, config);
    rt.block_on(async move {
        let handle = Handle::current();
        // Inside the simulation this is simulated time.
        let sim_start = madsim::time::Instant::now();

        // Server node; wait until it is listening so no client is refused
        // (madsim schedules tasks in a seeded random order).
        let server_node = handle
            .create_node()
            .name("server")
            .ip(IpAddr::V4(SERVER_IP))
            .build();
        let (ready_tx, ready_rx) = oneshot::channel();
        server_node.spawn(server(ready_tx));
        ready_rx.await.expect("server failed to start");

        // One node (own IP) per client.
        let mut joins = Vec::with_capacity(clients);
        for id in 0..clients {
            let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 1, 0, 0)) + id as u32 + 1);
            let node = handle
                .create_node()
                .name(format!("client{id}"))
                .ip(IpAddr::V4(ip))
                .build();
            joins.push(node.spawn(client(id, rounds)));
        }

        let mut total = 0;
        for j in joins {
            total += j.await.expect("client task failed");
        }
        verbose_sim_time(sim_start.elapsed());
        total
    })
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
        "usage:\n  sim-bench-madsim rt --clients N --rounds R --latency-ms L\n  \
         sim-bench-madsim seeds --count S"
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
