//! Coverage assertions in a user's own code (`doppel::always!`, `sometimes!`, `reachable!`),
//! through the facade as a user writes them: a sweep reports the `sometimes!` that never held
//! and the `reachable!` that never ran, fails under `require_coverage`, and stops at a coverage
//! plateau at the same seed whatever its threads; a false `always!` fails the run, names its
//! site and host, and shrinks to the fault that broke it; on the real backend they are inert.

use std::time::Duration;

use doppel::sim::explore::Explore;
use doppel::sim::{shrink, FailureKind, FaultClass, FaultPlan, SimBuilder, SimError};

/// The sleeper's module: the sweeps here check only its assertions (one test binary holds
/// every test's, and each test's sweep names its own).
fn here() -> Vec<String> {
    vec![format!("{}::naps", module_path!())]
}

use naps::sleeper;

mod naps {
    use super::*;

    /// A client that sleeps a seeded number of milliseconds, asserting about it as it goes.
    pub(super) fn sleeper(seed: u64) -> SimBuilder {
        SimBuilder::new(seed).client("c", "10.0.0.1", move || async move {
            let naps = seed % 4;
            for _ in 0..naps {
                doppel::time::sleep(Duration::from_millis(1)).await;
            }
            doppel::always!(naps < 4, "naps stay under four");
            doppel::sometimes!(naps == 3, "a client napped three times");
            doppel::sometimes!(naps == 7, "a client napped seven times");
            doppel::reachable!("the client woke up");
            if naps > 5 {
                doppel::reachable!("a client overslept");
            }
            Ok(())
        })
    }
}

#[test]
fn a_sweep_reports_the_sometimes_that_never_held_and_the_reachable_that_never_ran() {
    let sweep = Explore::new(0..20)
        .jobs(2)
        .coverage_scope(here())
        .run(sleeper)
        .unwrap();
    assert!(sweep.passed(), "{}", sweep.text(3));
    assert_eq!(sweep.never_held, ["a client napped seven times"]);
    assert_eq!(sweep.never_reached, ["a client overslept"]);
    let three = sweep
        .assertions
        .iter()
        .find(|a| a.name == "a client napped three times")
        .unwrap();
    assert_eq!((three.reached, three.held), (20, 5), "{three:?}");
    assert!(three.at.starts_with("tests/coverage.rs:"), "{}", three.at);
    let text = sweep.text(3);
    assert!(
        text.contains("warning: sometimes!(\"a client napped seven times\") at tests/coverage.rs:")
            && text.contains("ran 20 times but never held in 20 seeds"),
        "{text}"
    );
    assert!(
        text.contains("reachable!(\"a client overslept\")") && text.contains("never ran"),
        "{text}"
    );
    assert!(
        text.contains("coverage: 3 of 5 assertions covered"),
        "{text}"
    );
}

#[test]
fn requiring_coverage_fails_a_sweep_whose_seeds_all_passed() {
    let sweep = Explore::new(0..20)
        .jobs(1)
        .coverage_scope(here())
        .require_coverage(true)
        .run(sleeper)
        .unwrap();
    assert!(sweep.failed.is_empty());
    assert!(!sweep.passed(), "coverage is required and two gaps remain");
    assert!(
        sweep
            .text(0)
            .contains("coverage FAILED: 2 assertions not covered"),
        "{}",
        sweep.text(0)
    );
    assert_eq!(sweep.never_reached, ["a client overslept"]);
}

#[test]
fn a_sweep_stops_at_a_coverage_plateau_at_the_same_seed_for_any_threads() {
    let run = |jobs| {
        Explore::new(0..100_000)
            .jobs(jobs)
            .coverage_scope(here())
            .plateau(30)
            .run(sleeper)
            .unwrap()
    };
    let (one, two) = (run(1), run(2));
    // Seeds 0..4 cover everything the sleeper can; 30 seeds later the sweep stops.
    assert_eq!(one.plateau, Some(33), "{}", one.text(0));
    assert_eq!(one.seeds_run, 34);
    assert!(!one.complete);
    assert_eq!(
        (two.plateau, two.seeds_run, &two.digest),
        (one.plateau, one.seeds_run, &one.digest)
    );
    assert!(one.text(0).contains("coverage stopped growing"));
    let refused = Explore::new(0..10).plateau(0).run(sleeper);
    assert!(refused.unwrap_err().to_string().contains("plateau: 0"));
}

/// A client that reads a 4-byte reply and asserts it came in one read: short reads break it.
fn one_read(seed: u64) -> SimBuilder {
    SimBuilder::new(seed)
        .faults(FaultPlan::none().with(FaultClass::ShortRead, 0.3))
        .host("server", "10.0.0.1", || async {
            let l = doppel::net::TcpListener::bind("10.0.0.1:7000")?;
            loop {
                let (conn, _) = l.accept().await?;
                conn.write_all(b"pong").await?;
                // Held open until the client hangs up, so no FIN rides with the reply.
                let _ = conn.read(&mut [0u8; 1]).await;
            }
        })
        .client("client", "10.0.0.2", || async {
            for _ in 0..5 {
                let conn = doppel::net::TcpStream::connect("10.0.0.1:7000").await?;
                let mut buf = [0u8; 4];
                let n = conn.read(&mut buf).await?;
                doppel::always!(n == 4, "a reply comes in one read");
            }
            Ok(())
        })
}

#[test]
fn a_false_always_fails_the_run_naming_its_site_and_shrinks_to_the_short_read() {
    let sweep = Explore::new(0..20).jobs(1).run(one_read).unwrap();
    let f = sweep.failed.first().expect("some seed reads short");
    assert_eq!(f.kind, "assertion");
    assert!(
        f.failure.starts_with(
            "always!(\"a reply comes in one read\") failed on client at tests/coverage.rs:"
        ),
        "{}",
        f.failure
    );
    let Err(SimError::Failed(failure)) = one_read(f.seed).run() else {
        panic!("seed {} fails again", f.seed)
    };
    assert!(failure.report.faults.get(FaultClass::ShortRead) > 0);
    let shrunk = shrink(f.seed, one_read).unwrap();
    assert!(matches!(shrunk.failure, FailureKind::Assertion { .. }));
    assert_eq!(shrunk.faults.len(), 1, "{:?}", shrunk.faults);
    assert_eq!(shrunk.faults[0].class, FaultClass::ShortRead);
}

#[test]
fn on_the_real_backend_assertions_check_nothing() {
    let rt = doppel::real::runtime().unwrap();
    rt.block_on(async {
        doppel::always!(1 + 1 == 3, "false, and ignored off the simulator");
        doppel::sometimes!(false, "never");
        doppel::reachable!("here");
    });
}

mod covered {
    use super::*;

    /// A client whose every assertion is covered by some seed of 0..8.
    pub(super) fn world(seed: u64) -> SimBuilder {
        SimBuilder::new(seed).client("c", "10.0.0.1", move || async move {
            doppel::sometimes!(seed % 4 == 1, "one seed in four");
            doppel::reachable!("every seed");
            Ok(())
        })
    }
}

#[doppel::test(
    seeds = 0..8,
    jobs = 1,
    require_coverage = true,
    coverage_scope = "coverage::covered",
    plateau = 100
)]
fn a_doppel_test_passes_when_its_coverage_is_whole(seed: u64) -> SimBuilder {
    covered::world(seed)
}

#[test]
fn a_doppel_test_that_requires_coverage_fails_on_a_sometimes_that_never_held() {
    let spec = doppel::sim::testing::TestSpec {
        name: "uncovered",
        module: module_path!(),
        seeds: 0..20,
        faults: None,
        strategy: None,
        jobs: Some(1),
        shrink_time: Duration::from_secs(5),
        show: 3,
        require_coverage: true,
        plateau: None,
        coverage_scope: &["coverage::naps"],
        ignored: false,
        target: doppel::sim::target!(Vec::new(), false),
    };
    let report = doppel::sim::testing::try_run(&spec, sleeper).unwrap_err();
    assert!(
        report.contains("0 of 20 seeds failed")
            && report.contains("sometimes!(\"a client napped seven times\")")
            && report.contains("coverage FAILED: 2 assertions not covered"),
        "{report}"
    );
}
