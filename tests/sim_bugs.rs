//! The faults find bugs: four broken servers, each a real bug class, fail within the first
//! 1,000 seeds under the benign fault plan, and each also passes a plain loopback run; the
//! correct server passes all 1,000 seeds.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use doppel::net::TcpListener;
use doppel::sim::{FaultPlan, SimBuilder};
use doppel_scenarios::upper::{self, ClientPlan, Variant};

const SEEDS: u64 = 1_000;

/// A world with the server variant and two clients.
fn world(seed: u64, variant: Variant) -> SimBuilder {
    let server: SocketAddr = "10.0.0.1:7000".parse().unwrap();
    let mut b = SimBuilder::new(seed)
        .faults(FaultPlan::benign(0.05))
        .time_limit(Duration::from_secs(120))
        .host("server", "10.0.0.1", move || {
            upper::serve("0.0.0.0:7000", variant)
        });
    for id in 0..2u64 {
        b = b.client(
            &format!("client{id}"),
            &format!("10.0.1.{}", id + 1),
            move || upper::client(server, id, ClientPlan::default()),
        );
    }
    b
}

/// The first failing seed of `variant` in 0..SEEDS, with the failure.
fn first_failure(variant: Variant) -> Option<(u64, String)> {
    (0..SEEDS).find_map(|seed| {
        world(seed, variant)
            .check()
            .err()
            .map(|e| (seed, e.to_string()))
    })
}

#[test]
fn the_correct_server_passes_every_seed() {
    if let Some((seed, e)) = first_failure(Variant::Correct) {
        panic!("the correct server failed at seed {seed}: {e}");
    }
}

#[test]
fn each_broken_server_fails_within_1000_seeds() {
    for v in [
        Variant::Framing,
        Variant::ShortWrite,
        Variant::EintrFatal,
        Variant::NoDrain,
    ] {
        match first_failure(v) {
            Some((seed, e)) => println!(
                "{}: fails at seed {seed}: {}",
                v.name(),
                e.lines().next().unwrap_or("")
            ),
            None => panic!(
                "{} passed all {SEEDS} seeds: the simulator missed its bug",
                v.name()
            ),
        }
    }
}

#[test]
fn each_broken_server_passes_a_plain_loopback_run() {
    for v in Variant::ALL {
        common::run_real(Duration::from_secs(20), async move {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let addr = listener.local_addr()?;
            let server = doppel::spawn(async move {
                loop {
                    let (conn, _) = listener.accept().await?;
                    doppel::spawn(upper::handle(conn, v));
                }
                #[allow(unreachable_code)]
                std::io::Result::Ok(())
            });
            // A casual loopback test: short requests, one at a time. Every twin passes it.
            let plan = ClientPlan {
                max_burst: 1,
                max_line: 12,
                ..ClientPlan::default()
            };
            for id in 0..2 {
                upper::client(addr, id, plan).await?;
            }
            server.abort();
            Ok(())
        });
    }
}
