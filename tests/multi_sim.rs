//! The multi-reactor runtime in the simulator: a host runs a main reactor, sub-reactors and
//! workers as simulated threads; connections are served on the sub-reactors, every seed replays
//! (each run twice and compared), and overload is refused at the limit.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use doppel::group::GroupConfig;
use doppel::net::{serve, TcpListener, TcpStream};
use doppel::sim::{check_seeds, FaultPlan, SimBuilder};
use doppel_scenarios::echo::{self, ClientPlan};

/// Echo behind `serve`, on a group host.
fn world(seed: u64, config: GroupConfig, clients: u32) -> SimBuilder {
    let server: SocketAddr = "10.0.0.1:7000".parse().unwrap();
    let mut b = SimBuilder::new(seed).host_group("server", "10.0.0.1", config, || async {
        let listener = TcpListener::bind("0.0.0.0:7000")?;
        serve(listener, |conn: TcpStream| async move {
            let _ = echo::handle(conn).await;
            Ok(())
        })
        .await
    });
    let plan = ClientPlan {
        rounds: 10,
        max_size: 3000,
        reconnects: 50,
        deadline: Some(Duration::from_secs(2)),
    };
    for i in 0..clients {
        b = b.client(
            &format!("c{i}"),
            &format!("10.0.1.{}", i + 1),
            move || async move { echo::client(server, u64::from(i), plan).await.map(drop) },
        );
    }
    b
}

#[test]
fn connections_run_on_sub_reactors_and_every_seed_replays() {
    let cfg = GroupConfig::default().sub_reactors(3).workers(1);
    let reports = check_seeds(0..30, |seed| {
        world(seed, cfg, 4).faults(FaultPlan::all(0.02))
    });
    assert!(reports.iter().map(|r| r.faults.total()).sum::<u64>() > 0);
    let traced = world(7, cfg, 4).trace(true).run().expect("seed 7");
    let trace = traced.trace.expect("a trace").lines();
    for sub in 1..=3 {
        let on = format!("server#{sub} ");
        assert!(
            trace
                .iter()
                .any(|l| l.contains(&on) && l.contains(" net read ")),
            "no reads on sub-reactor {sub}"
        );
    }
    assert!(trace
        .iter()
        .any(|l| l.contains("server#0 ") && l.contains(" net handoff ")));
    assert!(!trace
        .iter()
        .any(|l| l.contains("server#0 ") && l.contains(" net read ")));
}

#[test]
fn a_bad_group_shape_is_a_setup_error() {
    let e = world(1, GroupConfig::default().sub_reactors(0), 1)
        .run()
        .unwrap_err();
    assert!(e.to_string().contains("sub_reactors(0)"), "{e}");
}

#[test]
fn workers_and_spawn_on_work_in_the_simulator() {
    let cfg = GroupConfig::default().sub_reactors(1).workers(2);
    let r = SimBuilder::new(3)
        .host_group("server", "10.0.0.1", cfg, || async {
            let sum = doppel::reactors::run_blocking(|| (1..=10u64).sum::<u64>()).await;
            assert_eq!(sum, Ok(55));
            let on = doppel::reactors::spawn_on(1, || async { doppel::reactors::index() })?;
            assert_eq!(on.await, Ok(1));
            let e = doppel::reactors::run_blocking(|| -> u8 { panic!("boom") }).await;
            assert!(
                matches!(e, Err(doppel::reactors::WorkerError::Panicked(_))),
                "{e:?}"
            );
            std::future::pending::<io::Result<()>>().await
        })
        .client("c", "10.0.1.1", || async {
            doppel::time::sleep(Duration::from_millis(10)).await;
            Ok(())
        })
        .check();
    assert!(r.is_ok(), "{r:?}");
}
