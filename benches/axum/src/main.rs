//! `axum-bench RUNTIME ADDR`: serves guide/todo's `app()` on ADDR until killed, on one of
//!
//! | RUNTIME    | how                                                                       |
//! |------------|---------------------------------------------------------------------------|
//! | `doppel`   | `todo::serve` on `doppel::real::runtime()`: exactly what the README shows   |
//! | `tokio-ct` | hyper's http1 `serve_connection` per connection on tokio's current-thread runtime |
//! | `tokio-mt` | the same on tokio's multi-thread runtime with 2 workers                    |
//!
//! Both sides serve HTTP/1.1 with keep-alive, a 30 s header-read timeout, TCP_NODELAY and no
//! automatic `Date` header (doppel's defaults), so they do the same work per request.

use std::io;
use std::process::ExitCode;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;

/// The doppel side.
fn doppel_main(addr: &str) -> io::Result<()> {
    doppel::real::runtime()?.block_on(async {
        let listener = doppel::net::TcpListener::bind(addr)?;
        println!("doppel listening on {}", listener.local_addr()?);
        todo::serve(listener).await
    })
}

/// The tokio side, on `rt`.
fn tokio_main(rt: tokio::runtime::Runtime, name: &str, addr: &str) -> io::Result<()> {
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        println!("{name} listening on {}", listener.local_addr()?);
        let app = todo::app();
        loop {
            let (conn, _) = listener.accept().await?;
            let _ = conn.set_nodelay(true);
            let service = TowerToHyperService::new(app.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(30))
                    .keep_alive(true)
                    .auto_date_header(false)
                    .serve_connection(TokioIo::new(conn), service)
                    .await;
            });
        }
    })
}

/// Runs the named runtime.
fn run(runtime: &str, addr: &str) -> io::Result<()> {
    match runtime {
        "doppel" => doppel_main(addr),
        "tokio-ct" => {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            tokio_main(rt, runtime, addr)
        }
        "tokio-mt" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            tokio_main(rt, runtime, addr)
        }
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown runtime {other:?} (doppel, tokio-ct or tokio-mt)"),
        )),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [runtime, addr] = args.as_slice() else {
        eprintln!("usage: axum-bench doppel|tokio-ct|tokio-mt ADDR");
        return ExitCode::from(2);
    };
    match run(runtime, addr) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("axum-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
