//! The chat workload: the correct server on loopback and in the simulator under every random
//! fault class (each seed run twice and compared); a reset fails a client that may not
//! reconnect; malformed clients are disconnected alone; a member that stops reading is
//! disconnected without holding up the others; and the `write-departed` twin passes loopback
//! but the simulator finds it, where the correct server passes the same seed.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use doppel::net::TcpStream;
use doppel::sim::{check_seeds, FaultClass, FaultPlan, SimBuilder, SimError};
use doppel_scenarios::chat::{proto, Chat};
use doppel_scenarios::run;
use doppel_scenarios::workload::{self, Load, Workload};

/// Five clients, pipelined, messages up to 3000 bytes; no reconnects: on loopback a lost
/// connection is a failure.
fn busy() -> Load {
    Load {
        clients: 5,
        rounds: 16,
        max_size: 3000,
        pipeline: 4,
        reconnects: 0,
        deadline: Some(Duration::from_secs(5)),
    }
}

/// `tests/workloads.rs`'s casual load: what a hand-written loopback test would use.
fn casual() -> Load {
    Load {
        clients: 3,
        rounds: 12,
        max_size: 12,
        pipeline: 1,
        reconnects: 3,
        deadline: Some(Duration::from_secs(5)),
    }
}

/// The twin's index.
fn twin() -> usize {
    workload::variant(&Chat, "write-departed").expect("the twin is registered")
}

#[test]
fn chat_is_registered() {
    let w = workload::find("chat").expect("registered");
    assert_eq!(w.variants()[0], workload::CORRECT);
    assert_eq!(w.variants()[twin()].name, "write-departed");
}

#[test]
fn correct_server_passes_on_loopback() {
    let out = run::real(&Chat, 0, &busy(), Duration::from_secs(30)).expect("loopback run");
    assert_eq!(out.failure(), None);
    assert_eq!(out.clients.len(), 5);
}

#[test]
fn correct_server_passes_the_simulator_with_every_fault() {
    let load = Load {
        clients: 4,
        rounds: 12,
        pipeline: 3,
        reconnects: 50,
        ..busy()
    };
    let reports = check_seeds(0..30, |seed| {
        run::sim(&Chat, 0, &load, seed).faults(FaultPlan::all(0.05))
    });
    let fired = |c: FaultClass| -> u64 { reports.iter().map(|r| r.faults.get(c)).sum() };
    for class in [
        FaultClass::Reset,
        FaultClass::AcceptAbort,
        FaultClass::ShortWrite,
        FaultClass::ShortRead,
        FaultClass::Eintr,
        FaultClass::Spurious,
        FaultClass::Stall,
    ] {
        assert!(fired(class) > 0, "{class} never fired in 30 seeds");
    }
    println!(
        "faults over 30 seeds: reset {}, accept-abort {}, short-write {}, stall {}",
        fired(FaultClass::Reset),
        fired(FaultClass::AcceptAbort),
        fired(FaultClass::ShortWrite),
        fired(FaultClass::Stall)
    );
}

#[test]
fn without_reconnects_a_reset_fails_the_client() {
    let load = Load {
        reconnects: 0,
        ..casual()
    };
    let plan = FaultPlan::none().with(FaultClass::Reset, 0.05);
    let failed = (0..50u64).find_map(|seed| {
        match run::sim(&Chat, 0, &load, seed).faults(plan.clone()).run() {
            Err(SimError::Failed(f)) => Some(f),
            _ => None,
        }
    });
    let f = failed.expect("some seed resets a connection");
    assert!(f.to_string().contains("connection lost"), "{f}");
}

/// Sends `bytes` on a fresh connection to `addr` and reads until the server closes it.
async fn disconnected_after(addr: SocketAddr, bytes: &[u8]) -> io::Result<()> {
    let conn = TcpStream::connect(addr).await?;
    conn.set_read_deadline(Some(doppel::time::Instant::now() + Duration::from_secs(5)))?;
    conn.write_all(bytes).await?;
    let mut buf = vec![0u8; 4096];
    loop {
        match conn.read(&mut buf).await {
            Ok(0) => return Ok(()),
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

#[test]
fn malformed_clients_are_disconnected_alone() {
    let rt = doppel::real::runtime().expect("runtime");
    let out: io::Result<()> = rt.block_on(async {
        let listener = doppel::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = doppel::spawn(Chat.server(0, listener));
        let long = vec![b'x'; proto::MAX_LINE + 10];
        for bad in [
            &b"HELLO there\n"[..],
            b"MSG 0 0 before joining\n",
            b"JOIN 0\nJOIN 0\n",
            b"JOIN 0\nMSG 1 0 speaking for another\n",
            b"JOIN 0\nMSG 0 5 skipping ahead\n",
            &long,
        ] {
            disconnected_after(addr, bad)
                .await
                .map_err(|e| io::Error::other(format!("after {:?}: {e}", proto::lossy(bad))))?;
        }
        let load = Load {
            clients: 2,
            ..casual()
        };
        let a = doppel::spawn(Chat.client(addr, 0, &load));
        let b = doppel::spawn(Chat.client(addr, 1, &load));
        let ra = doppel::time::timeout(Duration::from_secs(10), a).await;
        let rb = doppel::time::timeout(Duration::from_secs(10), b).await;
        server.abort();
        assert!(matches!(ra, Ok(Ok(Ok(())))), "{ra:?}");
        assert!(matches!(rb, Ok(Ok(Ok(())))), "{rb:?}");
        Ok(())
    });
    out.expect("loopback");
}

/// Lines the talker sends in the slow-member test: more than an outbox holds plus what the
/// lurker's receive window absorbs.
const TALK: u64 = 5000;

/// Joins as 0 and never reads; after the talk, the server must have closed the connection.
async fn lurker(addr: SocketAddr) -> io::Result<()> {
    let conn = TcpStream::connect(addr).await?;
    conn.write_all(&proto::join(0)).await?;
    doppel::time::sleep(Duration::from_secs(60)).await;
    disconnected_now(&conn).await
}

/// Reads what is queued on `conn` until EOF; an error if the server left it open.
async fn disconnected_now(conn: &TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        conn.set_read_deadline(Some(doppel::time::Instant::now() + Duration::from_secs(1)))?;
        match conn.read(&mut buf).await {
            Ok(0) => return Ok(()),
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                return Err(io::Error::other(
                    "a member that never reads was not disconnected",
                ))
            }
            Err(e) => return Err(e),
        }
    }
}

/// Joins as 1 and says [`TALK`] lines in bursts of 100, reading each burst's echoes before
/// the next: it must hear all of them, and `LEFT 0` (the lurker disconnected).
async fn talker(addr: SocketAddr) -> io::Result<()> {
    let conn = TcpStream::connect(addr).await?;
    conn.write_all(&proto::join(1)).await?;
    let text = vec![b't'; 100];
    let (mut heard, mut lurker_left) = (0u64, false);
    let mut pending = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    for burst in 0..TALK / 100 {
        let mut out = Vec::new();
        for seq in burst * 100..(burst + 1) * 100 {
            out.extend_from_slice(&proto::msg(1, seq, &text));
        }
        conn.write_all(&out).await?;
        while heard < (burst + 1) * 100 {
            conn.set_read_deadline(Some(doppel::time::Instant::now() + Duration::from_secs(5)))?;
            let n = conn.read(&mut buf).await?;
            if n == 0 {
                return Err(io::Error::other("the talker was disconnected"));
            }
            pending.extend_from_slice(&buf[..n]);
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                heard += u64::from(pending.starts_with(b"MSG 1 "));
                lurker_left |= pending.starts_with(b"LEFT 0 ");
                pending.drain(..=end);
            }
        }
    }
    if !lurker_left {
        return Err(io::Error::other(
            "no LEFT 0: the lurker was never disconnected",
        ));
    }
    Ok(())
}

#[test]
fn a_member_that_stops_reading_is_disconnected_and_holds_up_nobody() {
    let server: SocketAddr = SocketAddr::new(run::SERVER_IP.parse().expect("ip"), Chat.port());
    check_seeds(0..3, |seed| {
        SimBuilder::new(seed)
            .window(16 * 1024)
            .host("server", run::SERVER_IP, move || async move {
                let listener = doppel::net::TcpListener::bind(SocketAddr::from((
                    [0, 0, 0, 0],
                    server.port(),
                )))?;
                Chat.server(0, listener).await
            })
            .client("lurker", &run::client_ip(0), move || lurker(server))
            .client("talker", &run::client_ip(1), move || talker(server))
    });
}

#[test]
fn the_write_departed_twin_passes_loopback_and_the_simulator_finds_it() {
    let load = casual();
    let out = run::real(&Chat, twin(), &load, Duration::from_secs(30)).expect("loopback run");
    assert_eq!(out.failure(), None, "the twin passes a plain loopback run");
    let plan = FaultPlan::benign(0.05).with(FaultClass::AcceptAbort, 0.05);
    // Wall time of the hunt, outside any simulated world.
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    let found = (0..2000u64).find_map(|seed| {
        match run::sim(&Chat, twin(), &load, seed)
            .faults(plan.clone())
            .run()
        {
            Err(SimError::Failed(f)) => Some((seed, f)),
            _ => None,
        }
    });
    let took = started.elapsed();
    let (seed, failure) = found.expect("the twin fails within 2000 seeds");
    println!("chat/write-departed: first failing seed {seed}, found in {took:?}: {failure}");
    assert!(failure.report.faults.total() > 0);
    // The hub died: the room went quiet, and clients timed out until out of reconnects.
    assert!(
        failure.to_string().contains("deadline exceeded"),
        "{failure}"
    );
    let correct = run::sim(&Chat, 0, &load, seed).faults(plan).run();
    assert!(
        correct.is_ok(),
        "the correct server fails seed {seed} too: {correct:?}"
    );
}
