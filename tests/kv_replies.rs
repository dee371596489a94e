//! The KV server's reply memory is bounded: clients that pipeline many `GET`s of a big value
//! and never read the replies make the server hold `FLUSH_AT` and one reply per connection,
//! not every reply (the heap's peak is counted by a global allocator); a client that reads gets
//! every reply whole; and a reply beyond `max_reply_bytes` closes the connection after the
//! replies before it, counted by the store and traced.

use std::net::SocketAddr;
use std::time::Duration;

use cap::Cap;
use doppel::net::{TcpListener, TcpStream};
use doppel::sim::SimBuilder;
use doppel_scenarios::kv::{self, Config, Shared, Variant, WORKLOAD_CONFIG};

#[global_allocator]
static HEAP: Cap<std::alloc::System> = Cap::new(std::alloc::System, usize::MAX);

/// The simulated server's address.
fn server_addr() -> SocketAddr {
    "10.0.0.1:6379".parse().expect("an address")
}

/// `SET key value` as a client sends it.
fn set(key: &str, value: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n",
        key.len(),
        value.len()
    )
    .into_bytes();
    req.extend_from_slice(value);
    req.extend_from_slice(b"\r\n");
    req
}

/// Reads exactly `n` bytes.
async fn read_exact(conn: &TcpStream, n: usize) -> std::io::Result<Vec<u8>> {
    let mut got = vec![0; n];
    let mut at = 0;
    while at < n {
        match conn.read(&mut got[at..]).await? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            k => at += k,
        }
    }
    Ok(got)
}

/// Reads until the server closes.
async fn read_to_close(conn: &TcpStream) -> std::io::Result<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf).await? {
            0 => return Ok(got),
            n => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// A world with the server under `config`, on the store `store` gives each run.
fn world(seed: u64, store: impl Fn() -> Shared + 'static, config: Config) -> SimBuilder {
    SimBuilder::new(seed).host("server", "10.0.0.1", move || {
        let store = store();
        async move {
            let listener = TcpListener::bind("0.0.0.0:6379")?;
            kv::serve(listener, store, config, Variant::Correct).await
        }
    })
}

/// Sets its own key to `size` bytes, pipelines `gets` `GET`s of it in one write, then waits a
/// virtual second without reading a reply.
async fn greedy(i: usize, size: usize, gets: usize) -> std::io::Result<()> {
    let conn = TcpStream::connect(server_addr()).await?;
    let key = format!("k{i}");
    conn.write_all(&set(&key, &vec![b'v'; size])).await?;
    assert_eq!(read_exact(&conn, 5).await?, b"+OK\r\n");
    conn.write_all(format!("GET {key}\r\n").repeat(gets).as_bytes())
        .await?;
    doppel::time::sleep(Duration::from_secs(1)).await;
    Ok(())
}

#[test]
fn clients_that_never_read_their_replies_cost_the_server_a_bounded_amount() {
    const CLIENTS: usize = 300;
    const SIZE: usize = 128 * 1024;
    const GETS: usize = 100;
    let mut sim = world(1, kv::store::shared, WORKLOAD_CONFIG);
    for i in 0..CLIENTS {
        let ip = format!("10.0.{}.{}", 1 + i / 200, 1 + i % 200);
        sim = sim.client(&format!("c{i}"), &ip, move || greedy(i, SIZE, GETS));
    }
    let before = HEAP.allocated();
    sim.check().expect("the run passes");
    let peak = HEAP.max_allocated().saturating_sub(before);
    // Every reply queued at once would be CLIENTS * GETS * SIZE = 3.75 GiB (the server before
    // the bound peaked at 5.1 GB here). Bounded, it is per client the stored value, the read
    // buffer its SET grew, FLUSH_AT and one reply, and the network's windows: under 1 MiB
    // (264 MB in all when measured); 2 MiB leaves room for the tests beside it.
    let bound = CLIENTS * 2 * 1024 * 1024;
    eprintln!("{CLIENTS} clients: the heap peaked {peak} bytes above the run's start");
    assert!(
        peak < bound,
        "the run's heap peaked {peak} bytes above its start (bound {bound})"
    );
}

#[test]
fn a_client_that_reads_gets_every_reply_of_a_long_pipeline_whole() {
    const SIZE: usize = 200 * 1024;
    const GETS: usize = 50;
    world(2, kv::store::shared, WORKLOAD_CONFIG)
        .client("c", "10.0.1.1", || async {
            let conn = TcpStream::connect(server_addr()).await?;
            conn.write_all(&set("k", &vec![b'x'; SIZE])).await?;
            assert_eq!(read_exact(&conn, 5).await?, b"+OK\r\n");
            conn.write_all("GET k\r\n".repeat(GETS).as_bytes()).await?;
            let mut one = format!("${SIZE}\r\n").into_bytes();
            one.extend(std::iter::repeat_n(b'x', SIZE));
            one.extend_from_slice(b"\r\n");
            let got = read_exact(&conn, one.len() * GETS).await?;
            assert!(
                got.chunks(one.len()).all(|r| r == one),
                "every reply is whole"
            );
            Ok(())
        })
        .check()
        .expect("the run passes");
}

#[test]
fn a_reply_beyond_the_limit_closes_the_connection_after_the_replies_before_it() {
    let store = kv::store::shared();
    let config = Config {
        max_reply_bytes: 100 * 1024,
        ..WORKLOAD_CONFIG
    };
    let shared = store.clone();
    // One run (`run`, not `check`'s two), so the store's count is this run's.
    let report = world(3, move || shared.clone(), config)
        .trace(true)
        .client("c", "10.0.1.1", || async {
            let conn = TcpStream::connect(server_addr()).await?;
            conn.write_all(&set("big", &vec![b'b'; 200 * 1024])).await?;
            assert_eq!(read_exact(&conn, 5).await?, b"+OK\r\n");
            conn.write_all(b"PING\r\nGET big\r\nPING\r\n").await?;
            let got = read_to_close(&conn).await?;
            assert_eq!(got, b"+PONG\r\n", "the reply before is sent, nothing after");
            Ok(())
        })
        .run()
        .expect("the run passes");
    assert_eq!(kv::store::lock(&store).reply_limit_closes(), 1);
    let trace = report.trace.expect("traced");
    let traced = trace
        .lines()
        .iter()
        .filter(|l| l.contains(" kv ") && l.contains("reply limit"))
        .count();
    assert_eq!(traced, 1, "the close is in the trace once");
}
