//! Trace snapshots: a tiny echo world, cleanly and under each fault class, a partition and a
//! crash. Each run is checked for determinism, each fault class is proven to have fired, and
//! the trace's body is snapshotted into `snapshots/` (review with `cargo insta review`).

use std::net::SocketAddr;
use std::time::Duration;

use doppel::sim::{CrashSpec, FaultClass, FaultPlan, PartitionSpec, Report, SimBuilder};
use doppel::trace::assert_trace_snapshot;
use doppel_scenarios::echo::{self, ClientPlan};

/// One server, one client, three small round trips with a read deadline, traced.
fn tiny(seed: u64, plan: FaultPlan) -> SimBuilder {
    let server: SocketAddr = "10.0.0.1:7000".parse().unwrap();
    let client_plan = ClientPlan {
        rounds: 3,
        max_size: 64,
        reconnects: 20,
        deadline: Some(Duration::from_millis(50)),
    };
    SimBuilder::new(seed)
        .faults(plan)
        .trace(true)
        .host("server", "10.0.0.1", || {
            echo::bind_and_serve("0.0.0.0:7000")
        })
        .client("client", "10.0.0.2", move || async move {
            echo::client(server, 1, client_plan).await.map(drop)
        })
}

/// Runs a world twice (it must be deterministic) and returns the first report.
fn checked(b: SimBuilder) -> Report {
    b.check().unwrap_or_else(|e| panic!("{e}"))
}

/// The first seed under which `class` fires at a high rate, and its report.
fn firing(class: FaultClass) -> Report {
    (0..50)
        .map(|seed| checked(tiny(seed, FaultPlan::none().with(class, 0.3))))
        .find(|r| r.faults.get(class) > 0)
        .unwrap_or_else(|| panic!("{class} never fired in 50 seeds"))
}

#[test]
fn echo_clean() {
    let r = checked(tiny(1, FaultPlan::none()));
    assert_eq!(r.faults.total(), 0);
    assert_trace_snapshot!("echo-clean", r.trace.unwrap());
}

macro_rules! fault_snapshots {
    ($($test:ident: $class:expr => $name:literal;)*) => {$(
        #[test]
        fn $test() {
            let r = firing($class);
            assert!(r.faults.get($class) > 0);
            let trace = r.trace.unwrap();
            assert!(trace.lines_of("doppel::fault").iter().any(|l| l.contains($class.name())));
            assert_trace_snapshot!($name, trace);
        }
    )*};
}

fault_snapshots! {
    fault_spurious: FaultClass::Spurious => "fault-spurious";
    fault_late: FaultClass::Late => "fault-late";
    fault_eintr_poll: FaultClass::PollEintr => "fault-eintr-poll";
    fault_eintr: FaultClass::Eintr => "fault-eintr";
    fault_accept_abort: FaultClass::AcceptAbort => "fault-accept-abort";
    fault_reset: FaultClass::Reset => "fault-reset";
    fault_short_read: FaultClass::ShortRead => "fault-short-read";
    fault_short_write: FaultClass::ShortWrite => "fault-short-write";
    fault_stall: FaultClass::Stall => "fault-stall";
    fault_deadline_race: FaultClass::DeadlineRace => "fault-deadline-race";
    fault_backlog: FaultClass::Backlog => "fault-backlog";
}

#[test]
fn partition() {
    let plan = FaultPlan::none().partition(PartitionSpec {
        a: "server".into(),
        b: "client".into(),
        from: Duration::from_micros(250),
        until: Duration::from_millis(30),
        one_way: false,
    });
    let r = checked(tiny(2, plan));
    assert_eq!(r.faults.get(FaultClass::Partition), 1);
    assert_trace_snapshot!("partition", r.trace.unwrap());
}

#[test]
fn crash_and_restart() {
    let plan = FaultPlan::none().crash(CrashSpec {
        host: "server".into(),
        at: Duration::from_micros(450),
        restart_after: Some(Duration::from_millis(5)),
    });
    let r = checked(tiny(3, plan));
    assert_eq!(r.faults.get(FaultClass::Crash), 1);
    let trace = r.trace.unwrap();
    assert!(trace
        .lines_of("doppel::fault")
        .iter()
        .any(|l| l.contains("crash")));
    assert_trace_snapshot!("crash", trace);
}

#[test]
#[should_panic(expected = "snapshot name \"bad name/..\" is not usable")]
fn odd_snapshot_names_are_refused_before_anything_is_written() {
    let r = checked(tiny(1, FaultPlan::none()));
    assert_trace_snapshot!("bad name/..", r.trace.unwrap());
}
