//! The `doppel` command over this crate's UDP workload: `cargo run --bin lookup-sim -- explore
//! lossy`.

fn main() -> std::process::ExitCode {
    doppel::cli::Cli::new("lookup-sim")
        .workload(&lookup::Lookup)
        .spec(
            "lossy",
            "about = \"lookups under datagram loss, duplication and delay\"\n\
             workload = \"lookup\"\nseeds = \"0..500\"\n\
             [load]\nclients = 3\nrounds = 10\nreconnects = 9\n\
             [faults]\nplan = \"dgram-loss=0.1,dgram-dup=0.1,dgram-delay=0.05\"\n",
        )
        .main()
}
