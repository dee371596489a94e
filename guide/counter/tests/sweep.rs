//! The counter server in the simulator, swept with `#[doppel::test]`.

use doppel::sim::SimBuilder;

#[doppel::test(seeds = 0..200, faults = "benign=0.05")]
fn increments_add_up(seed: u64) -> SimBuilder {
    counter::world(seed)
}
