//! A trace snapshot of the counter world, as a user takes one: `doppel`'s `snapshots` feature
//! gives `doppel::trace::assert_trace_snapshot!`, which writes `snapshots/NAME.snap` beside
//! this crate's `Cargo.toml` (review changes with `cargo insta review`).

use doppel::sim::{FaultPlan, SimBuilder};

/// One connection, three increments, a few benign faults; traced.
fn world(seed: u64) -> SimBuilder {
    SimBuilder::new(seed)
        .faults(FaultPlan::benign(0.1))
        .trace(true)
        .host("server", "10.0.0.1", || {
            counter::bind_and_serve("0.0.0.0:7000")
        })
        .client("client", "10.0.0.2", || {
            counter::check("10.0.0.1:7000".parse().unwrap(), "hits", 1, 3)
        })
}

#[test]
fn three_increments_under_benign_faults() {
    let report = doppel::sim::check_determinism(7, world).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        report.faults.total() > 0,
        "no fault fired: the snapshot would prove little"
    );
    doppel::trace::assert_trace_snapshot!("counter-three-increments", report.trace.unwrap());
}
