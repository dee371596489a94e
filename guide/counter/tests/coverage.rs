//! The counter's coverage assertion, checked by a sweep: the seeds must show two connections'
//! increments interleaving (`sometimes!` in `src/lib.rs`), or the test fails; the sweep stops
//! once 40 seeds in a row add no coverage.

use doppel::sim::SimBuilder;

#[doppel::test(
    seeds = 0..200,
    faults = "benign=0.05",
    require_coverage = true,
    coverage_scope = "counter",
    plateau = 40
)]
fn increments_interleave_in_some_seed(seed: u64) -> SimBuilder {
    counter::world(seed)
}
