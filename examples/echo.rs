//! An echo server on the real backend: `cargo run --release --example echo -- 127.0.0.1:7000`.
//!
//! Serves until Ctrl-C. A bad or busy address ends it with one line and exit status 1. The
//! server is `doppel_scenarios::echo`, the same code the simulator runs in `tests/sim_echo.rs`.

use std::process::ExitCode;

use doppel::net::TcpListener;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = match args.as_slice() {
        [addr] => addr.clone(),
        [] => "127.0.0.1:7000".to_string(),
        _ => {
            eprintln!("usage: echo [IP:PORT]   (default 127.0.0.1:7000)");
            return ExitCode::from(2);
        }
    };
    let result = doppel::real::runtime().and_then(|rt| {
        rt.block_on(async {
            let listener = TcpListener::bind(addr.as_str())?;
            println!("doppel echo listening on {}", listener.local_addr()?);
            doppel_scenarios::echo::serve(listener).await
        })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo: {e}");
            ExitCode::FAILURE
        }
    }
}
