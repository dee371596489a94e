//! The `doppel` command over this crate's own scenarios: `cargo run --bin counter-sim -- list`.

use doppel::sim::SimBuilder;

/// Two connections of one client increment one counter ten times each, under benign faults.
fn two_connections(seed: u64) -> SimBuilder {
    counter::world(seed).faults(doppel::sim::FaultPlan::benign(0.05))
}

fn main() -> std::process::ExitCode {
    doppel::cli::Cli::new("counter-sim")
        .workload(&counter::Counter)
        .spec("counter", include_str!("../../specs/counter.toml"))
        .world(
            "two-connections",
            "two connections increment one counter ten times each",
            0..1000,
            two_connections,
        )
        .main()
}
