//! The lookup service swept with `#[doppel::test]` under every datagram fault class.

use doppel::sim::SimBuilder;

#[doppel::test(
    seeds = 0..200,
    faults = "dgram-loss=0.1,dgram-dup=0.1,dgram-reorder=0.1,dgram-delay=0.05,eintr=0.05"
)]
fn lookups_survive_lost_duplicated_and_late_datagrams(seed: u64) -> SimBuilder {
    lookup::world(seed)
}
