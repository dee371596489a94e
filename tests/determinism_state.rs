//! Two ways a determinism check can be wrong, and how doppel's is not:
//!
//! - state a world needs (a ledger its server and client share) is made inside the function
//!   that builds the world, which `check_determinism` and `#[doppel::test]` call afresh for
//!   every run, so the second run starts from nothing, as the first did;
//! - the run hash covers the bytes delivered, so a server that changes one byte of a reply at
//!   random (same lengths, same calls, same trace lines) is caught as nondeterministic.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use doppel::net::{TcpListener, TcpStream};
use doppel::sim::{check_determinism, SimBuilder, SimError};

/// A ledger of the requests the server saw, shared with the client that checks it.
type Ledger = Rc<RefCell<Vec<u8>>>;

/// Echo, recording every byte it echoes in `ledger`; with `noise`, adds a random 1..=5 to the
/// first byte of every reply, from the OS.
async fn serve(ledger: Ledger, noise: bool) -> io::Result<()> {
    let listener = TcpListener::bind("0.0.0.0:7000")?;
    loop {
        let (conn, _) = listener.accept().await?;
        let ledger = ledger.clone();
        doppel::spawn(async move {
            let mut buf = [0u8; 64];
            loop {
                let n = conn.read(&mut buf).await?;
                if n == 0 {
                    return Ok::<(), io::Error>(());
                }
                ledger.borrow_mut().extend_from_slice(&buf[..n]);
                if noise {
                    buf[0] = buf[0].wrapping_add(1 + (os_byte() % 5));
                }
                conn.write_all(&buf[..n]).await?;
            }
        });
    }
}

/// One byte of OS randomness: what no seed controls.
fn os_byte() -> u8 {
    let mut b = [0u8; 1];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom").expect("/dev/urandom"),
        &mut b,
    )
    .expect("a random byte");
    b[0]
}

/// Sends 8 messages of 8 bytes, reads as many bytes back (whatever they are), then checks the
/// server's ledger holds exactly the 64 bytes this run sent.
async fn client(ledger: Ledger) -> io::Result<()> {
    let conn = TcpStream::connect("10.0.0.1:7000".parse::<std::net::SocketAddr>().unwrap()).await?;
    for i in 0..8u8 {
        conn.write_all(&[i; 8]).await?;
        let mut back = [0u8; 8];
        let mut got = 0;
        while got < 8 {
            got += conn.read(&mut back[got..]).await?;
        }
    }
    let seen = ledger.borrow().len();
    if seen != 64 {
        return Err(io::Error::other(format!(
            "the ledger holds {seen} bytes, not 64"
        )));
    }
    Ok(())
}

/// The world, its ledger made inside: every call starts a fresh one.
fn world(seed: u64, noise: bool) -> SimBuilder {
    let ledger = Ledger::default();
    let l2 = ledger.clone();
    SimBuilder::new(seed)
        .host("server", "10.0.0.1", move || serve(ledger.clone(), noise))
        .client("client", "10.0.0.2", move || client(l2.clone()))
}

#[test]
fn state_made_inside_the_build_function_starts_fresh_in_every_run() {
    for seed in 0..20 {
        let report = check_determinism(seed, |s| world(s, false)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.clients[0].1, doppel::sim::Outcome::Ok);
    }
}

#[doppel::test(seeds = 0..50, faults = "benign=0.05")]
fn the_macro_builds_each_run_afresh_too(seed: u64) -> SimBuilder {
    world(seed, false)
}

#[test]
fn a_random_byte_in_a_reply_is_caught_by_the_run_hash() {
    let e = check_determinism(3, |s| world(s, true)).expect_err("the noise went unseen");
    match e {
        SimError::Nondeterministic(n) => {
            assert_ne!(n.hashes.0, n.hashes.1);
            // Same calls, same lengths: the traces agree, and only the bytes differ.
            assert!(n.divergence.is_none(), "{:?}", n.divergence);
        }
        other => panic!("expected a nondeterminism report, got {other}"),
    }
}
