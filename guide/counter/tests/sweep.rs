//! The counter server in the simulator, swept with `#[doppel::test]`.

use doppel::sim::SimBuilder;

/// The server at 10.0.0.1:7000, and one client host whose two connections increment one
/// counter ten times each, then check it says twenty.
fn world(seed: u64) -> SimBuilder {
    SimBuilder::new(seed)
        .host("server", "10.0.0.1", || {
            counter::bind_and_serve("0.0.0.0:7000")
        })
        .client("client", "10.0.0.2", || {
            counter::check("10.0.0.1:7000".parse().unwrap(), "hits", 2, 10)
        })
}

#[doppel::test(seeds = 0..200, faults = "benign=0.05")]
fn increments_add_up(seed: u64) -> SimBuilder {
    world(seed)
}
