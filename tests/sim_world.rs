//! The simulated world's promises: free idle time, stalls reported as findings, bad setups
//! refused before anything runs, failing seeds named with their replay command.

use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use doppel::net::{TcpListener, TcpStream};
use doppel::sim::{
    check_seeds, FailureKind, FaultClass, FaultPlan, PartitionSpec, SimBuilder, SimError,
};
use doppel::time::{sleep, Instant};

#[test]
#[allow(clippy::disallowed_methods)] // The wall clock measures the test, not the runtime.
fn an_hour_of_virtual_sleep_takes_milliseconds() {
    let wall = std::time::Instant::now();
    let report = SimBuilder::new(1)
        .time_limit(Duration::from_secs(7200))
        .client("sleeper", "10.0.0.1", || async {
            let start = Instant::now();
            sleep(Duration::from_secs(3600)).await;
            assert_eq!(Instant::now() - start, Duration::from_secs(3600));
            Ok(())
        })
        .check()
        .unwrap();
    assert_eq!(report.elapsed, Duration::from_secs(3600));
    assert!(
        wall.elapsed() < Duration::from_millis(100),
        "took {:?}",
        wall.elapsed()
    );
}

#[test]
fn a_stall_is_a_finding_that_names_each_blocked_task() {
    let err = SimBuilder::new(1)
        .host("server", "10.0.0.1", || async {
            let l = TcpListener::bind("0.0.0.0:80")?;
            let (_conn, _) = l.accept().await?; // accepts, then never reads or writes
            std::future::pending::<()>().await;
            Ok(())
        })
        .client("client", "10.0.0.2", || async {
            let c = TcpStream::connect("10.0.0.1:80").await?;
            c.read(&mut [0u8; 8]).await?; // waits for a reply that never comes
            Ok(())
        })
        .check()
        .unwrap_err();
    let SimError::Failed(f) = err else {
        panic!("expected a failure")
    };
    let FailureKind::Stall { blocked } = &f.kind else {
        panic!("expected a stall: {f}")
    };
    let text = blocked.join("\n");
    assert!(text.contains("client: t1 waits read fd=3"), "{text}");
    assert!(
        text.contains("server: t1 waits (timer, channel or join)"),
        "{text}"
    );
}

#[test]
fn a_partition_surfaces_as_delay_and_deadlines_fire_for_real() {
    let report = SimBuilder::new(2)
        .faults(FaultPlan::none().partition(PartitionSpec {
            a: "server".into(),
            b: "client".into(),
            from: Duration::ZERO,
            until: Duration::from_secs(5),
            one_way: false,
        }))
        .host("server", "10.0.0.1", || {
            doppel_scenarios::echo::bind_and_serve("0.0.0.0:7")
        })
        .client("client", "10.0.0.2", || async {
            let start = Instant::now();
            let c = TcpStream::connect("10.0.0.1:7").await?; // the SYN waits out the partition
            assert!(Instant::now() - start >= Duration::from_secs(5));
            c.set_read_deadline(Some(Instant::now() + Duration::from_millis(10)))?;
            let e = c.read(&mut [0u8; 1]).await.unwrap_err(); // nothing was sent: times out
            assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
            Ok(())
        })
        .check()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.faults.get(FaultClass::Partition), 1);
}

#[test]
fn connecting_to_a_closed_port_is_refused_and_a_full_backlog_delays() {
    SimBuilder::new(3)
        .backlog(1)
        .host("server", "10.0.0.1", || async {
            let _l = TcpListener::bind("0.0.0.0:80")?; // listens, never accepts
            std::future::pending::<()>().await;
            Ok(())
        })
        .client("client", "10.0.0.2", || async {
            let e = TcpStream::connect("10.0.0.1:81").await.unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{e}");
            let addr: SocketAddr = "10.0.0.1:80".parse().unwrap();
            let _first = TcpStream::connect(addr).await?; // fills the backlog of 1
            let start = Instant::now();
            let second =
                doppel::time::timeout(Duration::from_secs(2), TcpStream::connect(addr)).await;
            assert!(
                second.is_err(),
                "the second SYN is dropped and retried, so it waits"
            );
            assert!(Instant::now() - start >= Duration::from_secs(2));
            Ok(())
        })
        .check()
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn bad_setups_name_the_knob_and_the_value() {
    let client = || async { Ok(()) };
    let cases: Vec<(SimBuilder, &str)> = vec![
        (
            SimBuilder::new(0)
                .client("c", "10.0.0.1", client)
                .faults(FaultPlan::none().with(FaultClass::ShortRead, 1.5)),
            "fault short-read: probability 1.5",
        ),
        (
            SimBuilder::new(0).client("c", "10.0.0.1", client).link(
                "c",
                "nobody",
                Default::default(),
            ),
            "unknown host name \"nobody\"",
        ),
        (
            SimBuilder::new(0)
                .client("c", "10.0.0.1", client)
                .backlog(0),
            "backlog: 0",
        ),
        (
            SimBuilder::new(0)
                .client("c", "10.0.0.1", client)
                .time_limit(Duration::ZERO),
            "time limit: 0s",
        ),
        (
            SimBuilder::new(0).client("c", "10.0.0.x", client),
            "address \"10.0.0.x\"",
        ),
        (
            SimBuilder::new(0)
                .client("c", "10.0.0.1", client)
                .client("c", "10.0.0.2", client),
            "already used",
        ),
        (
            SimBuilder::new(0)
                .client("c", "10.0.0.1", client)
                .client("d", "10.0.0.1", client),
            "host d: name or address 10.0.0.1 already used by host c",
        ),
        (
            SimBuilder::new(0).host("s", "10.0.0.1", client),
            "no client",
        ),
    ];
    for (builder, want) in cases {
        let err = builder.build().map(drop).unwrap_err();
        assert!(
            err.to_string().contains(want),
            "{err:?} should mention {want:?}"
        );
    }
}

#[test]
fn a_failing_seed_is_reported_with_its_replay_command() {
    let failing = |seed: u64| {
        SimBuilder::new(seed).client("c", "10.0.0.1", move || async move {
            if seed == 3 {
                return Err(std::io::Error::other("boom at seed 3"));
            }
            Ok(())
        })
    };
    let panic = catch_unwind(AssertUnwindSafe(|| check_seeds(0..10, failing))).unwrap_err();
    let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("seed 3 failed: client c failed: boom at seed 3"),
        "{msg}"
    );
    assert!(
        msg.contains("replay: DOPPEL_TEST=a_failing_seed_is_reported_with_its_replay_command DOPPEL_SEED=3 cargo test --test sim_world -- a_failing_seed_is_reported_with_its_replay_command --exact"),
        "{msg}"
    );
    assert_eq!(
        check_seeds(0..3, failing).len(),
        3,
        "passing seeds return their reports"
    );
}

#[test]
fn a_bad_doppel_seed_is_one_clear_error() {
    let err = doppel::sim::parse_seed("forty-two").unwrap_err();
    assert!(
        err.to_string()
            .contains("DOPPEL_SEED=\"forty-two\" is not a number"),
        "{err}"
    );
    assert_eq!(doppel::sim::parse_seed(" 42 "), Ok(42));
}
