//! Overload degrades, never collapses: 10,000 connection attempts flood a group server whose
//! limit is 100 live connections, in the simulator. Every admitted client is served, every
//! refused one is told so, nothing panics, and what the server holds (live connections,
//! descriptors, tasks, timers, sampled across all its reactors every virtual millisecond) stays
//! bounded by the limit, not by the flood.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use doppel::group::GroupConfig;
use doppel::net::{serve_with, ServeOptions, TcpListener, TcpStream};
use doppel::reactors::{self, Occupancy};
use doppel::sim::{FaultClass, FaultPlan, SimBuilder};
use doppel::time::{sleep, timeout};

/// Connection attempts in all.
const ATTEMPTS: u32 = 10_000;
/// Client hosts (each makes `ATTEMPTS / HOSTS`).
const HOSTS: u32 = 20;
/// Attempts a client host has in flight at once.
const WAVE: u32 = 50;
/// The server's connection limit.
const MAX: usize = 100;

/// What the clients saw.
#[derive(Debug, Default)]
struct Tally {
    /// Admitted and served (greeted, two round trips).
    served: u32,
    /// Refused with the busy message.
    told: u32,
}

/// The server's handler: greets, then echoes two messages.
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

/// Reads exactly `n` bytes (fewer at EOF).
async fn read_n(c: &TcpStream, n: usize) -> io::Result<Vec<u8>> {
    let mut out = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match c.read(&mut out[got..]).await? {
            0 => break,
            k => got += k,
        }
    }
    out.truncate(got);
    Ok(out)
}

/// One attempt: admitted (greeted, served for a while) or told it is refused.
async fn attempt(server: SocketAddr, id: u32) -> io::Result<bool> {
    let c = TcpStream::connect(server).await?;
    let first = read_n(&c, 3).await?;
    if first == b"bus" {
        let rest = read_n(&c, 16).await?;
        assert_eq!(rest, b"y\n", "attempt {id}: the refusal, then EOF");
        return Ok(false);
    }
    assert_eq!(first, b"ok\n", "attempt {id}: a greeting or a refusal");
    for round in 0..2u8 {
        let msg = [id as u8, (id >> 8) as u8, round, 7];
        c.write_all(&msg).await?;
        assert_eq!(read_n(&c, 4).await?, msg, "attempt {id} round {round}");
        sleep(Duration::from_millis(20)).await;
    }
    Ok(true)
}

/// Every virtual millisecond, sums what every reactor of the group holds; keeps the peaks.
async fn sample(peak: Rc<Cell<(usize, Occupancy)>>) {
    loop {
        sleep(Duration::from_millis(1)).await;
        let mut total = reactors::occupancy();
        for r in 1..reactors::count() {
            if let Ok(h) = reactors::spawn_on(r, || async { reactors::occupancy() }) {
                total = total + h.await.unwrap_or_default();
            }
        }
        let live = reactors::group().map_or(0, |g| g.stats().live);
        let (pl, po) = peak.get();
        peak.set((
            pl.max(live),
            Occupancy {
                tasks: po.tasks.max(total.tasks),
                descriptors: po.descriptors.max(total.descriptors),
                timers: po.timers.max(total.timers),
            },
        ));
    }
}

/// One client host: `ATTEMPTS / HOSTS` attempts in waves of `WAVE`, tallied.
async fn client_host(server: SocketAddr, h: u32, t: Rc<RefCell<Tally>>) -> io::Result<()> {
    for wave in 0..ATTEMPTS / HOSTS / WAVE {
        let tasks: Vec<_> = (0..WAVE)
            .map(|k| h * (ATTEMPTS / HOSTS) + wave * WAVE + k)
            .map(|id| doppel::spawn(timeout(Duration::from_secs(30), attempt(server, id))))
            .collect();
        for task in tasks {
            let admitted = task.await.map_err(io::Error::other)???;
            let mut t = t.borrow_mut();
            if admitted {
                t.served += 1
            } else {
                t.told += 1
            }
        }
    }
    Ok(())
}

/// The flood world: the group server (sampling its peaks into `peak`) and the client hosts.
fn world(peak: &Rc<Cell<(usize, Occupancy)>>, tally: &Rc<RefCell<Tally>>) -> SimBuilder {
    let server: SocketAddr = "10.0.0.1:7000".parse().unwrap();
    let cfg = GroupConfig::default()
        .sub_reactors(2)
        .workers(0)
        .max_connections(MAX);
    let p = peak.clone();
    // Faults a server must absorb without losing anyone: EINTR, short transfers, late and
    // spurious edges, dropped SYNs (clients retry them), stalls below the clients' timeout.
    let mut b = SimBuilder::new(1)
        .faults(FaultPlan::benign(0.01))
        .time_limit(Duration::from_secs(600))
        .host_group("server", "10.0.0.1", cfg, move || {
            let p = p.clone();
            async move {
                let listener = TcpListener::bind("0.0.0.0:7000")?;
                drop(doppel::spawn(sample(p)));
                let opts = ServeOptions {
                    reject_message: b"busy\n".to_vec(),
                };
                serve_with(listener, opts, greet_and_echo).await
            }
        });
    for h in 0..HOSTS {
        let t = tally.clone();
        let addr = format!("10.0.{}.{}", 1 + h / 200, 1 + h % 200);
        b = b.client(&format!("c{h}"), &addr, move || {
            client_host(server, h, t.clone())
        });
    }
    b
}

#[test]
fn a_flood_of_10000_connections_degrades_and_never_collapses() {
    let peak = Rc::new(Cell::new((0usize, Occupancy::default())));
    let tally = Rc::new(RefCell::new(Tally::default()));
    let report = world(&peak, &tally)
        .run()
        .unwrap_or_else(|e| panic!("the flood run failed: {e}"));
    for class in [
        FaultClass::Eintr,
        FaultClass::ShortWrite,
        FaultClass::Backlog,
    ] {
        assert!(
            report.faults.get(class) > 0,
            "{class} never fired: {report}"
        );
    }
    let t = tally.borrow();
    let (live, occ) = peak.get();
    println!(
        "{ATTEMPTS} attempts: {} served, {} told; peak live {live}, peak {occ:?}; {}",
        t.served, t.told, report
    );
    assert_eq!(
        t.served + t.told,
        ATTEMPTS,
        "every attempt ends served or told"
    );
    assert!(
        t.told > 1000,
        "the flood must exceed the limit, or it proves nothing: {t:?}"
    );
    assert!(t.served >= MAX as u32, "{t:?}");
    assert!(live <= MAX, "peak live {live} over the limit {MAX}");
    // Per admitted connection the server holds one descriptor, one task and at most one
    // timer; the rest is the listener, the sampler and the serve loop.
    assert!(occ.descriptors <= MAX + 8, "{occ:?}");
    assert!(occ.tasks <= MAX + 8, "{occ:?}");
}
