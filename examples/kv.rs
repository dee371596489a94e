//! The KV server on the real backend, for `redis-cli` and `redis-benchmark`:
//! `cargo run --release --example kv -- --addr 127.0.0.1:6380`.
//!
//! Prints its address once it listens, then serves until killed. A bad argument or address
//! ends it with one line on stderr and exit status 2; a failure to bind or serve, with exit
//! status 1. The server is `doppel_scenarios::kv`, the code the simulator runs in `tests/kv.rs`.

use std::net::SocketAddr;
use std::process::ExitCode;

use doppel::net::TcpListener;
use doppel_scenarios::kv::{self, Config, Variant};

/// The address when none is given (6380, so it does not collide with a local Redis).
const DEFAULT_ADDR: &str = "127.0.0.1:6380";

/// The listen address from the command line, or a one-line reason it is not one.
fn parse_args(args: &[String]) -> Result<SocketAddr, String> {
    let text = match args {
        [] => DEFAULT_ADDR,
        [flag, addr] if flag == "--addr" => addr.as_str(),
        _ => {
            return Err(format!(
                "usage: kv [--addr IP:PORT]   (default {DEFAULT_ADDR})"
            ))
        }
    };
    text.parse().map_err(|_| {
        format!("invalid address {text:?}: expected IP:PORT such as {DEFAULT_ADDR} or [::1]:6380")
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = match parse_args(&args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("kv: {e}");
            return ExitCode::from(2);
        }
    };
    let result = doppel::real::runtime().and_then(|rt| {
        rt.block_on(async {
            let listener = TcpListener::bind(addr)?;
            println!("doppel kv listening on {}", listener.local_addr()?);
            let store = kv::store::shared();
            kv::serve(listener, store, Config::default(), Variant::Correct).await
        })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kv: {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}
