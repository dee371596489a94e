//! Helpers shared by the real-backend integration tests: a bounded runner, an echo server, a
//! deterministic payload, and an fd counter. Every test binds 127.0.0.1 only.
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

/// The byte at `offset` of stream `stream`: a pattern that catches loss, duplication and
/// reordering (no two nearby offsets share a value).
pub fn pattern(stream: u64, offset: u64) -> u8 {
    let x = offset
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
    (x >> 56) as u8 ^ (offset as u8)
}

/// Fills `buf` with `pattern(stream, start..)`.
pub fn fill(buf: &mut [u8], stream: u64, start: u64) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = pattern(stream, start + i as u64);
    }
}

/// A small deterministic generator (splitmix64) for sizes and choices in tests.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A size from 1 to `max`, log-uniform, so small and large sizes are both common.
    pub fn log_size(&mut self, max: usize) -> usize {
        let bits = (usize::BITS - max.leading_zeros()) as u64;
        let b = self.next() % bits;
        let size = (1usize << b) + (self.next() as usize % (1usize << b));
        size.clamp(1, max)
    }
}

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
    let (real, _) = run_real(Duration::from_secs(60), body());
    for plan in [
        doppel::sim::FaultPlan::none(),
        doppel::sim::FaultPlan::benign(0.05),
    ] {
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
