//! The `doppel` command (see `doppel::cli`) over the built-in workloads and specs:
//! `cargo run --release -- list` from the workspace root.

fn main() -> std::process::ExitCode {
    doppel_scenarios::cli().main()
}
