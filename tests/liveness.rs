//! The liveness phase from a user's crate: after `after` of virtual time the faults stop,
//! partitions heal and crashed hosts restart, and every client must then finish within
//! `within`. A retry loop whose backoff grows without a cap survives every fault yet never
//! finishes in time: the run fails as a liveness failure naming the client's sleeping task and
//! its timer, while the same client with a capped backoff converges on the same seeds. A host
//! that crashed for good is brought back by the calm, so a client waiting for it finishes.

use std::io;
use std::time::Duration;

use doppel::net::{TcpListener, TcpStream};
use doppel::sim::explore::Explore;
use doppel::sim::{CrashSpec, FailureKind, FaultClass, FaultPlan, SimBuilder, SimError};

/// Fills `buf` from `conn`; end of stream is an error.
async fn read_full(conn: &TcpStream, buf: &mut [u8]) -> io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        match conn.read(&mut buf[got..]).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    Ok(())
}

/// A server answering each 4-byte request with `pong`.
async fn pong_server() -> io::Result<()> {
    let l = TcpListener::bind("10.0.0.1:7000")?;
    loop {
        let (conn, _) = l.accept().await?;
        doppel::spawn(async move {
            let mut buf = [0u8; 4];
            while read_full(&conn, &mut buf).await.is_ok() {
                if conn.write_all(b"pong").await.is_err() {
                    return;
                }
            }
        });
    }
}

/// One request on a fresh connection.
async fn ping() -> io::Result<()> {
    let conn = TcpStream::connect("10.0.0.1:7000").await?;
    conn.write_all(b"ping").await?;
    let mut buf = [0u8; 4];
    let reply = doppel::time::timeout(Duration::from_millis(200), read_full(&conn, &mut buf));
    reply
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
    Ok(())
}

/// A client that needs 20 answered pings, backing off 10 ms after a failure and four times
/// longer after each failure in a row, up to `cap`.
async fn client(cap: Duration) -> io::Result<()> {
    let mut answered = 0;
    let mut backoff = Duration::from_millis(10);
    while answered < 20 {
        match ping().await {
            Ok(()) => {
                answered += 1;
                backoff = Duration::from_millis(10);
            }
            Err(_) => {
                doppel::time::sleep(backoff).await;
                backoff = (backoff * 4).min(cap);
            }
        }
    }
    Ok(())
}

/// Resets on half the calls for the first two seconds; then a second to converge.
fn world(seed: u64, cap: Duration) -> SimBuilder {
    SimBuilder::new(seed)
        .faults(FaultPlan::none().with(FaultClass::Reset, 0.5))
        .liveness(Duration::from_secs(2), Duration::from_secs(1))
        .time_limit(Duration::from_secs(60))
        .host("server", "10.0.0.1", pong_server)
        .client("client", "10.0.0.2", move || client(cap))
}

#[test]
fn an_uncapped_backoff_fails_the_liveness_phase_naming_its_sleeping_task() {
    let uncapped = |seed| world(seed, Duration::MAX);
    let sweep = Explore::new(0..30).jobs(2).run(uncapped).unwrap();
    let f = sweep
        .failed
        .iter()
        .find(|f| f.kind == "liveness")
        .unwrap_or_else(|| panic!("no seed backed off past the bound: {}", sweep.text(5)));
    assert!(
        f.failure.starts_with(
            "liveness: faults stopped at 2s and the clients had not finished 1s later"
        ),
        "{}",
        f.failure
    );
    assert!(sweep.fired(FaultClass::Reset) > 0);
    let Err(SimError::Failed(failure)) = uncapped(f.seed).trace(true).run() else {
        panic!("seed {} fails again", f.seed)
    };
    let FailureKind::Liveness { blocked, .. } = &failure.kind else {
        panic!("{}", failure.kind.line())
    };
    assert!(
        blocked
            .iter()
            .any(|b| b.starts_with("client: t") && b.contains("waits")),
        "{blocked:?}"
    );
    assert!(
        blocked
            .iter()
            .any(|b| b.starts_with("client: next timer at ")),
        "{blocked:?}"
    );
    let trace = failure.report.trace.as_ref().unwrap();
    assert_eq!(trace.lines_of("doppel::liveness").len(), 1, "one calm");
    let faults_after_calm = failure
        .report
        .fired
        .iter()
        .filter(|x| x.at.as_nanos() >= 2_000_000_000);
    assert_eq!(
        faults_after_calm.count(),
        0,
        "no fault fires once the world is calm"
    );
    // The same seeds with the backoff capped at 100 ms all converge.
    let capped = Explore::new(0..30)
        .jobs(2)
        .run(|seed| world(seed, Duration::from_millis(100)))
        .unwrap();
    assert!(capped.passed(), "{}", capped.text(5));
    assert!(capped.fired(FaultClass::Reset) > 0);
}

#[test]
fn the_calm_restarts_a_host_that_crashed_for_good() {
    let crashed = |liveness: bool| {
        let plan = FaultPlan::none().crash(CrashSpec {
            host: "server".into(),
            at: Duration::from_millis(300),
            restart_after: None,
        });
        let w = SimBuilder::new(3)
            .faults(plan)
            .time_limit(Duration::from_secs(30))
            .host("server", "10.0.0.1", pong_server)
            .client("client", "10.0.0.2", || async {
                for _ in 0..40 {
                    while ping().await.is_err() {
                        doppel::time::sleep(Duration::from_millis(50)).await;
                    }
                    doppel::time::sleep(Duration::from_millis(20)).await;
                }
                Ok(())
            });
        if liveness {
            w.liveness(Duration::from_secs(2), Duration::from_secs(3))
        } else {
            w
        }
    };
    let down = crashed(false).run().unwrap_err();
    assert!(down.to_string().contains("time limit"), "{down}");
    let report = crashed(true).run().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.faults.get(FaultClass::Crash), 1);
    assert!(
        report.elapsed > Duration::from_secs(2),
        "{:?}",
        report.elapsed
    );
}

#[test]
fn a_liveness_phase_past_the_time_limit_is_refused_before_anything_runs() {
    let e = SimBuilder::new(1)
        .time_limit(Duration::from_secs(5))
        .liveness(Duration::from_secs(4), Duration::from_secs(2))
        .client("c", "10.0.0.1", || async { Ok(()) })
        .run()
        .unwrap_err();
    assert!(e.to_string().contains("past the time limit of 5s"), "{e}");
    let e = SimBuilder::new(1)
        .liveness(Duration::from_secs(4), Duration::ZERO)
        .client("c", "10.0.0.1", || async { Ok(()) })
        .run()
        .unwrap_err();
    assert!(e.to_string().contains("within 0s"), "{e}");
}
