//! An echo server on the real backend: `cargo run --release --example echo -- 127.0.0.1:7000`.
//!
//! Serves until Ctrl-C. A bad or busy address ends it with one line and exit status 1.

use std::process::ExitCode;

use doppel::net::{TcpListener, TcpStream};

/// Echoes one connection until the peer closes it.
async fn echo(conn: TcpStream) -> std::io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        conn.write_all(&buf[..n]).await?;
    }
}

/// Binds, then accepts forever.
async fn serve(addr: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    println!("doppel echo listening on {}", listener.local_addr()?);
    loop {
        let (conn, peer) = listener.accept().await?;
        doppel::spawn(async move {
            if let Err(e) = echo(conn).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

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
    let result = doppel::real::runtime().and_then(|rt| rt.block_on(serve(&addr)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo: {e}");
            ExitCode::FAILURE
        }
    }
}
