//! A connection flood on the real backend, over 127.0.0.1: a multi-reactor server with a
//! connection limit (a child process, so its memory is measured alone), and a client making
//! `--attempts` connection attempts, `--concurrency` at a time. Each admitted connection is greeted, makes two round trips and
//! holds for 20 ms; each refused one is told `busy`. Prints what was served and refused, the
//! peak live connections, and the process's peak RSS, so runs with different limits show what
//! the limit buys:
//!
//! `cargo run --release --example flood -- --attempts 5000 --max 100`
//! `cargo run --release --example flood -- --attempts 5000 --max 5000`
//!
//! Bounded: every attempt has a 10 s timeout, and the whole run stops after `attempts`.

use std::cell::Cell;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use doppel::group::GroupConfig;
use doppel::net::{serve_with, ServeOptions, TcpListener, TcpStream};
use doppel::time::{sleep, timeout};

/// Parsed arguments.
struct Args {
    /// Run as the server child (prints its address, serves until stdin closes).
    serve: bool,
    /// Connection attempts in all.
    attempts: u32,
    /// The server's connection limit.
    max: usize,
    /// Attempts in flight at once.
    concurrency: u32,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        serve: false,
        attempts: 5000,
        max: 100,
        concurrency: 500,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--serve" {
            a.serve = true;
            continue;
        }
        let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let n: u64 = v
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("{flag} {v:?}: expected a number, at least 1"))?;
        match flag.as_str() {
            "--attempts" => a.attempts = n as u32,
            "--max" => a.max = n as usize,
            "--concurrency" => a.concurrency = n as u32,
            _ => {
                return Err(format!(
                    "unknown argument {flag:?} (expected --attempts, --max, --concurrency)"
                ))
            }
        }
    }
    Ok(a)
}

/// The server's handler: greets, echoes, holds the connection until the client leaves.
async fn greet_and_echo(conn: TcpStream) -> io::Result<()> {
    conn.write_all(b"ok\n").await?;
    let mut buf = [0u8; 64];
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        conn.write_all(&buf[..n]).await?;
    }
}

/// One attempt: true if admitted and served, false if told it was refused.
async fn attempt(server: SocketAddr) -> io::Result<bool> {
    let c = TcpStream::connect(server).await?;
    let mut buf = [0u8; 8];
    let n = c.read(&mut buf).await?;
    match &buf[..n] {
        b"ok\n" => {}
        b"busy\n" => return Ok(false),
        other => return Err(io::Error::other(format!("unexpected greeting {other:?}"))),
    }
    for round in 0..2u8 {
        c.write_all(&[round; 4]).await?;
        let mut back = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match c.read(&mut back[got..]).await? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                k => got += k,
            }
        }
        sleep(Duration::from_millis(10)).await;
    }
    Ok(true)
}

/// The peak resident set size of this process, in KiB (`VmHWM`).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The server child: serves on an ephemeral port (printed on stdout) until stdin closes, then
/// prints the peak live connections and its own peak RSS.
fn serve_child(max: usize) -> io::Result<()> {
    let cfg = GroupConfig::default()
        .sub_reactors(2)
        .workers(1)
        .max_connections(max);
    let rt = doppel::real::multi(cfg)?;
    let peak = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        println!("{}", listener.local_addr()?);
        let opts = ServeOptions {
            reject_message: b"busy\n".to_vec(),
        };
        let server = doppel::spawn(serve_with(listener, opts, greet_and_echo));
        let peak = Rc::new(Cell::new(0usize));
        let p = peak.clone();
        let sampler = doppel::spawn(async move {
            loop {
                sleep(Duration::from_millis(1)).await;
                let live = doppel::reactors::group().map_or(0, |g| g.stats().live);
                p.set(p.get().max(live));
            }
        });
        // stdin is a pipe from the parent: a worker thread watches it close.
        let done = doppel::reactors::run_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
        });
        let _ = done.await;
        server.abort();
        sampler.abort();
        io::Result::Ok(peak.get())
    })?;
    println!("{peak} {}", peak_rss_kib().unwrap_or(0));
    Ok(())
}

/// Floods the server at `addr`; returns (served, told, failed).
async fn flood(a: &Args, addr: SocketAddr) -> (u32, u32, u32) {
    let (mut served, mut told, mut failed) = (0, 0, 0);
    let mut left = a.attempts;
    while left > 0 {
        let wave = left.min(a.concurrency);
        left -= wave;
        let tasks: Vec<_> = (0..wave)
            .map(|_| doppel::spawn(timeout(Duration::from_secs(10), attempt(addr))))
            .collect();
        for t in tasks {
            match t.await {
                Ok(Ok(Ok(true))) => served += 1,
                Ok(Ok(Ok(false))) => told += 1,
                _ => failed += 1,
            }
        }
    }
    (served, told, failed)
}

/// Starts the server child, floods it, and collects its report: (served, told, failed, peak
/// live, server peak RSS KiB).
fn run(a: &Args) -> io::Result<(u32, u32, u32, usize, u64)> {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let mut child = Command::new(std::env::current_exe()?)
        .args(["--serve", "--max", &a.max.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut out = std::io::BufReader::new(
        child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout"))?,
    );
    let mut line = String::new();
    out.read_line(&mut line)?;
    let addr: SocketAddr = line
        .trim()
        .parse()
        .map_err(|_| io::Error::other(format!("bad address {line:?}")))?;
    let (served, told, failed) = doppel::real::runtime()?.block_on(flood(a, addr));
    drop(child.stdin.take());
    line.clear();
    out.read_line(&mut line)?;
    let _ = child.wait();
    let mut f = line
        .split_whitespace()
        .map(|x| x.parse::<u64>().unwrap_or(0));
    let (live, rss) = (f.next().unwrap_or(0) as usize, f.next().unwrap_or(0));
    Ok((served, told, failed, live, rss))
}

fn main() -> ExitCode {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("flood: {e}");
            return ExitCode::from(2);
        }
    };
    if a.serve {
        return match serve_child(a.max) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("flood --serve: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match run(&a) {
        Ok((served, told, failed, live, rss)) => {
            println!(
                "{} attempts ({} at a time), limit {}: {served} served, {told} told busy, {failed} failed; server: peak live {live}, peak RSS {rss} KiB",
                a.attempts, a.concurrency, a.max
            );
            if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("flood: {e}");
            ExitCode::FAILURE
        }
    }
}
