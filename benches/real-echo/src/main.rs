//! The real-backend benchmark: doppel-real's echo server beside tokio's current-thread runtime
//! and a plain mio event loop, and doppel's multi-reactor runtime beside tokio's multi-thread
//! runtime, driven by one load generator.
//!
//! | module          | what                                                                  |
//! |-----------------|-----------------------------------------------------------------------|
//! | `servers`       | the single-threaded echo servers, and the dispatch to every server    |
//! | `multi_servers` | `doppel-multi` (main + 2 sub-reactors) and `tokio-mt` (2 workers)     |
//! | `load`          | the load generator (a mio loop of 64-byte ping-pong) and idle holders |
//! | `latency`       | the bounded histogram the load records round-trip latencies into     |
//! | `syscalls`      | perf syscall counts per call and per thread, eventfd writes apart     |
//! | `measure`       | `all`: syscalls, callgrind instructions, RSS, paired throughput       |
//! | `multi`         | `multi`: syscalls, paired throughput and latency of the multi runtimes |
//! | `examples`      | `examples`: `examples/echo` and `examples/kv` as users run them, beside peers |
//!
//! `cargo run --release -- all` runs the single-threaded comparison and prints its README table;
//! `cargo run --release -- multi` runs the multi-threaded one;
//! `cargo run --release -- examples` measures the README's example servers;
//! `cargo run --release -- serve doppel|tokio|mio|doppel-multi|tokio-mt` runs one server
//! (prints its port).

mod examples;
mod latency;
mod load;
mod measure;
mod multi;
mod multi_servers;
mod servers;
mod syscalls;

use std::process::ExitCode;

/// Prints the usage; exit status 2.
fn usage() -> ExitCode {
    eprintln!(
        "usage:\n  real-echo all [--pairs N] [--secs S] [--only syscalls|instructions|rss|throughput]...\n  \
         real-echo multi [--pairs N] [--secs S] [--conns N]... [--only syscalls|instructions|throughput]...\n  \
         real-echo examples [--only syscalls|instructions|rss]...\n  \
         real-echo serve doppel|tokio|mio|doppel-multi|tokio-mt [--exit-after N]   run one server on 127.0.0.1:0"
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
        ["examples", rest @ ..] => match measure::Options::parse(rest) {
            Some(opts) => examples::run(&opts),
            None => usage(),
        },
        ["multi", rest @ ..] => match measure::Options::parse(rest) {
            Some(opts) => multi::run(&opts),
            None => usage(),
        },
        _ => usage(),
    }
}
