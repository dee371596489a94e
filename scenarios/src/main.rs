//! The `doppel` command (see `doppel_scenarios::cli`): `cargo run --release -- list` from the
//! workspace root.

fn main() -> std::process::ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    doppel_scenarios::cli::main(&argv)
}
