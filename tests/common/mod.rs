//! Helpers shared by the integration tests: a bounded real-backend runner, one body run on both
//! backends (`both`, `both_fault_free`), an echo server, the deterministic payload (re-exported
//! from `doppel_scenarios::wire`), and an fd counter. Every real run binds 127.0.0.1 only.
#![allow(dead_code)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use doppel::net::{TcpListener, TcpStream};
use doppel::{JoinHandle, Runtime};

/// Runs `body` on a fresh real runtime, failing the test if it takes longer than `limit`.
pub fn run_real<F, T>(limit: Duration, body: F) -> (T, Runtime)
where
    F: Future<Output = io::Result<T>>,
{
    let rt = doppel::real::runtime().expect("create the real runtime");
    let out = rt.block_on(async { doppel::time::timeout(limit, body).await });
    match out {
        Ok(Ok(v)) => (v, rt),
        Ok(Err(e)) => panic!("test body failed: {e}"),
        Err(e) => panic!("test body exceeded its time bound of {limit:?} ({e})"),
    }
}

/// Echoes one connection until EOF.
pub async fn echo(conn: TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        conn.write_all(&buf[..n]).await?;
    }
}

/// Starts an echo server on an ephemeral loopback port; abort the handle to stop it.
pub fn echo_server() -> io::Result<(SocketAddr, JoinHandle<io::Result<()>>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = doppel::spawn(async move {
        loop {
            let (conn, _) = listener.accept().await?;
            doppel::spawn(async move {
                echo(conn).await.expect("echo connection failed");
            });
        }
    });
    Ok((addr, server))
}

/// The checking clients' byte pattern: one definition, in `doppel_scenarios::wire`.
#[allow(unused_imports)] // Each test binary uses a different part of this module.
pub use doppel_scenarios::wire::{fill, pattern};

/// How many descriptors this process has open.
pub fn open_fds() -> usize {
    let dir = if std::path::Path::new("/proc/self/fd").exists() {
        "/proc/self/fd"
    } else {
        "/dev/fd"
    };
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {dir}: {e}"))
        .count()
}

/// Runs `body` on the real backend (loopback) and in the simulator (one host, then again under
/// the benign fault plan), in this one test binary, and checks all three give the same result.
/// The body must bind and connect only to what it finds itself (for example `127.0.0.1:0` and
/// the listener's `local_addr`), which works on both backends.
pub fn both<F, Fut, T>(name: &str, body: F) -> T
where
    F: Fn() -> Fut + Clone + 'static,
    Fut: Future<Output = io::Result<T>> + 'static,
    T: PartialEq + std::fmt::Debug + Clone + 'static,
{
    let plans = [
        doppel::sim::FaultPlan::none(),
        doppel::sim::FaultPlan::benign(0.05),
    ];
    both_under(name, &plans, body)
}

/// [`both`], with the simulator's runs under no faults only: for bodies that assert timing
/// the benign plan's link stalls (up to 500 ms) would legitimately change.
pub fn both_fault_free<F, Fut, T>(name: &str, body: F) -> T
where
    F: Fn() -> Fut + Clone + 'static,
    Fut: Future<Output = io::Result<T>> + 'static,
    T: PartialEq + std::fmt::Debug + Clone + 'static,
{
    both_under(name, &[doppel::sim::FaultPlan::none()], body)
}

/// Runs `body` on the real backend, then in the simulator under each of `plans` for seeds
/// 0..8, and checks every result equals the real one.
pub fn both_under<F, Fut, T>(name: &str, plans: &[doppel::sim::FaultPlan], body: F) -> T
where
    F: Fn() -> Fut + Clone + 'static,
    Fut: Future<Output = io::Result<T>> + 'static,
    T: PartialEq + std::fmt::Debug + Clone + 'static,
{
    let (real, _) = run_real(Duration::from_secs(60), body());
    for plan in plans {
        for seed in 0..8 {
            let out = std::rc::Rc::new(std::cell::RefCell::new(None));
            let (b, o) = (body.clone(), out.clone());
            let report = doppel::sim::SimBuilder::new(seed)
                .faults(plan.clone())
                .client("host", "10.0.0.1", move || {
                    let (b, o) = (b.clone(), o.clone());
                    async move {
                        *o.borrow_mut() = Some(b().await?);
                        Ok(())
                    }
                })
                .check()
                .unwrap_or_else(|e| panic!("{name}: simulated seed {seed}: {e}"));
            let sim = out.borrow_mut().take().expect("the body finished");
            assert_eq!(
                sim, real,
                "{name}: seed {seed} ({}) disagrees with the real run",
                report.faults
            );
        }
    }
    real
}
