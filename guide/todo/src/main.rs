//! The to-do API on epoll (kqueue on macOS and FreeBSD): `cargo run -p todo -- [ADDR]`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    let served = doppel::real::runtime().and_then(|rt| {
        rt.block_on(async {
            let listener = doppel::net::TcpListener::bind(addr.as_str())?;
            println!("todo listening on http://{}", listener.local_addr()?);
            todo::serve(listener).await
        })
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("todo: {e}");
            ExitCode::FAILURE
        }
    }
}
