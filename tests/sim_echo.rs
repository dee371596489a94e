//! The echo server of the real-backend tests and the `echo` example, unchanged, in the
//! simulator: 100 clients x 100 round trips, every byte checked, with every fault class on,
//! including a partition and a server crash with restart (the datagram classes aside). Each class's counter must be above
//! zero: a class that never fired proved nothing.

use std::net::SocketAddr;
use std::time::Duration;

use doppel::sim::{CrashSpec, FaultClass, FaultPlan, PartitionSpec, SimBuilder};
use doppel_scenarios::echo::{self, ClientPlan};

/// The classes with no opportunity in a TCP echo run.
fn elsewhere(class: FaultClass) -> bool {
    class.name().starts_with("dgram-") || class == FaultClass::Buggify
}

#[test]
fn echo_100_clients_100_round_trips_under_every_fault_class() {
    let server: SocketAddr = "10.0.0.1:7000".parse().unwrap();
    // `all` and every class it leaves out (the opt-in ones, which only a plan naming them fires),
    // but the datagram classes and `buggify`: echo is TCP and has no `buggify!` point, so they
    // have no opportunity here (`tests/udp_faults.rs` and `tests/buggify.rs` prove they fire).
    let plan = FaultClass::RANDOM
        .into_iter()
        .filter(|c| !FaultClass::GROUPED.contains(c) && !elsewhere(*c))
        .fold(FaultPlan::all(0.02), |plan, c| plan.with(c, 0.02))
        .partition(PartitionSpec {
            a: "server".into(),
            b: "client7".into(),
            from: Duration::from_millis(5),
            until: Duration::from_millis(150),
            one_way: false,
        })
        .partition(PartitionSpec {
            a: "client8".into(),
            b: "server".into(),
            from: Duration::from_millis(20),
            until: Duration::from_millis(90),
            one_way: true,
        })
        .crash(CrashSpec {
            host: "server".into(),
            at: Duration::from_millis(40),
            restart_after: Some(Duration::from_millis(30)),
        });
    let client_plan = ClientPlan {
        rounds: 100,
        max_size: 16 * 1024,
        reconnects: 1_000,
        deadline: Some(Duration::from_secs(2)),
    };
    let mut world = SimBuilder::new(7)
        .faults(plan)
        .latency(Duration::from_micros(200))
        .jitter(Duration::from_micros(100))
        .host("server", "10.0.0.1", || {
            echo::bind_and_serve("0.0.0.0:7000")
        });
    for id in 0..100u64 {
        let addr = format!("10.0.{}.{}", 1 + id / 200, 1 + id % 200);
        world = world.client(&format!("client{id}"), &addr, move || async move {
            echo::client(server, id, client_plan).await.map(drop)
        });
    }
    let report = world.check().unwrap_or_else(|e| panic!("{e}"));
    println!("{report}");
    for (class, n) in report.faults.iter() {
        if elsewhere(class) {
            continue;
        }
        assert!(
            n > 0,
            "fault class {class} never fired: the run proved nothing about it"
        );
    }
    assert_eq!(report.clients.len(), 100);
}
