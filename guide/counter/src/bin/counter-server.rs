//! The counter server on the real backend: `cargo run --bin counter-server -- 127.0.0.1:7001`.

fn main() -> std::process::ExitCode {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7001".into());
    let served = doppel::real::runtime().and_then(|rt| {
        rt.block_on(async {
            let listener = doppel::net::TcpListener::bind(addr.as_str())?;
            println!("counter listening on {}", listener.local_addr()?);
            counter::serve(listener).await
        })
    });
    match served {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("counter-server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
