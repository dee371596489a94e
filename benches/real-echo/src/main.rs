//! The real-backend benchmark: doppel-real's echo server beside tokio's current-thread runtime
//! and a plain mio event loop, driven by one load generator.
//!
//! | module     | what                                                                  |
//! |------------|-----------------------------------------------------------------------|
//! | `servers`  | the three echo servers, each in its idiomatic best form               |
//! | `load`     | the load generator (a mio loop of 64-byte ping-pong) and idle holders |
//! | `measure`  | perf syscall counts, callgrind instructions, RSS, paired throughput   |
//!
//! `cargo run --release -- all` runs everything and prints the README table;
//! `cargo run --release -- serve doppel|tokio|mio` runs one server (prints its port).

mod load;
mod measure;
mod servers;

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage:\n  real-echo all [--pairs N] [--secs S] [--only syscalls|instructions|rss|throughput]...\n  \
         real-echo serve doppel|tokio|mio [--exit-after N]   run one server on 127.0.0.1:0"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["serve", which, rest @ ..] => {
            let exit_after = match rest {
                [] => None,
                ["--exit-after", n] => match n.parse() {
                    Ok(n) => Some(n),
                    Err(_) => return usage(),
                },
                _ => return usage(),
            };
            match servers::Impl::parse(which) {
                Some(i) => servers::serve(i, exit_after),
                None => usage(),
            }
        }
        ["all", rest @ ..] => match measure::Options::parse(rest) {
            Some(opts) => measure::all(&opts),
            None => usage(),
        },
        _ => usage(),
    }
}
