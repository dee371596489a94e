//! Smoke tests of the simulator: the echo server, unchanged, on virtual hosts.

use std::net::SocketAddr;

use doppel::sim::{FaultPlan, SimBuilder};
use doppel_scenarios::echo::{self, ClientPlan};

fn world(seed: u64, clients: u64, plan: FaultPlan, client_plan: ClientPlan) -> SimBuilder {
    let server: SocketAddr = "10.0.0.1:7000".parse().unwrap();
    let mut b = SimBuilder::new(seed)
        .faults(plan)
        .host("server", "10.0.0.1", || {
            echo::bind_and_serve("0.0.0.0:7000")
        });
    for id in 0..clients {
        let addr = format!("10.0.1.{}", id + 1);
        b = b.client(&format!("client{id}"), &addr, move || async move {
            echo::client(server, id, client_plan).await.map(drop)
        });
    }
    b
}

#[test]
fn echo_without_faults() {
    let plan = ClientPlan {
        rounds: 20,
        max_size: 4096,
        reconnects: 0,
    };
    let report = world(1, 3, FaultPlan::none(), plan)
        .run()
        .unwrap_or_else(|e| panic!("{e}"));
    println!("{report}");
    assert!(report.events > 0);
}

#[test]
fn echo_under_all_faults() {
    let plan = ClientPlan {
        rounds: 20,
        max_size: 4096,
        reconnects: 50,
    };
    for seed in 0..20 {
        let report = world(seed, 5, FaultPlan::all(0.05), plan)
            .run()
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        println!("{report}");
    }
}
