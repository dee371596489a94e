//! A run whose virtual time stops is a finding, not a hang: a task that retries `EINTR` for
//! ever, or spins ready without I/O, ends the run as a `livelock` naming what it called, within
//! the step bound, however long the fault streak.

use std::net::SocketAddr;

use doppel::net::{TcpListener, TcpStream};
use doppel::sim::{FailureKind, FaultClass, FaultPlan, SimBuilder, SimError};

/// The server's address.
fn addr() -> SocketAddr {
    "10.0.0.1:7".parse().expect("an address")
}

/// An echo server and a client that sends one message and reads it back.
fn echo_world(seed: u64) -> SimBuilder {
    SimBuilder::new(seed)
        .host("server", "10.0.0.1", || async {
            let l = TcpListener::bind("0.0.0.0:7")?;
            loop {
                let (conn, _) = l.accept().await?;
                doppel::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n @ 1..) = conn.read(&mut buf).await {
                        if conn.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        })
        .client("c", "10.0.0.2", || async {
            let c = TcpStream::connect(addr()).await?;
            c.write_all(b"hello").await?;
            let mut buf = [0u8; 5];
            c.read(&mut buf).await?;
            Ok(())
        })
}

/// The failure of `b`'s run, which must be a livelock.
fn livelock(b: SimBuilder) -> (u64, Vec<String>, doppel::sim::Report) {
    let err = b.run().expect_err("a livelock, not a pass");
    let SimError::Failed(f) = err else {
        panic!("expected a failed run: {err}")
    };
    let FailureKind::Livelock { steps, busy, .. } = f.kind.clone() else {
        panic!("expected a livelock: {f}")
    };
    (steps, busy, f.report)
}

#[test]
fn endless_eintr_is_a_livelock_naming_the_call_that_kept_failing() {
    let mut plan = FaultPlan::none().with(FaultClass::Eintr, 1.0);
    plan.max_eintr_streak = u32::MAX;
    let (steps, busy, report) = livelock(echo_world(1).faults(plan).livelock_steps(20_000));
    assert!((20_000..20_010).contains(&steps), "{steps}");
    assert!(
        report.faults.get(FaultClass::Eintr) >= 19_000,
        "the fault fired: {:?}",
        report.faults
    );
    let first = busy.first().expect("the busy calls are named");
    assert!(
        first.contains(" -> EINTR x") && first.contains(": t"),
        "{busy:?}"
    );
    let line = FailureKind::Livelock {
        steps,
        at: report.elapsed,
        busy,
    }
    .line();
    eprintln!("{line}");
    assert!(
        line.starts_with("livelock: 200") && line.contains("steps without virtual time moving"),
        "{line}"
    );
}

#[test]
fn the_default_bound_ends_an_endless_eintr_run() {
    let mut plan = FaultPlan::none().with(FaultClass::Eintr, 1.0);
    plan.max_eintr_streak = u32::MAX;
    let (steps, _, _) = livelock(echo_world(2).faults(plan));
    assert!(steps >= doppel::sim::DEFAULT_LIVELOCK_STEPS, "{steps}");
}

#[test]
fn a_task_ready_at_every_turn_without_io_is_a_livelock_too() {
    let b = SimBuilder::new(3)
        .livelock_steps(5_000)
        .client("spinner", "10.0.0.2", || async {
            loop {
                doppel::task::yield_now().await;
            }
        });
    let (steps, busy, _) = livelock(b);
    assert!((5_000..5_010).contains(&steps), "{steps}");
    assert!(busy.is_empty(), "no socket calls: {busy:?}");
}

#[test]
fn a_long_busy_but_progressing_run_is_no_livelock() {
    // Far more steps in all than the bound, but the world goes idle between them.
    let report = echo_world(4)
        .livelock_steps(1_000)
        .faults(FaultPlan::none().with(FaultClass::Eintr, 0.3))
        .run()
        .expect("passes");
    assert!(report.steps > 0);
}

#[test]
fn a_bound_below_the_recording_window_is_refused_before_anything_runs() {
    let err = echo_world(5).livelock_steps(10).run().unwrap_err();
    assert!(
        err.to_string().contains("livelock steps: 10 is too few"),
        "{err}"
    );
}
