//! EINTR storm on the real backend (Go's testprogcgo/eintr.go, sharper): a `SIGUSR1` handler
//! without `SA_RESTART`, a thread signalling the reactor thread at 10 kHz or more, while 64
//! connections echo 64 MiB. No error reaches the server or the clients, every byte arrives, and
//! the counters show how many interruptions the runtime really absorbed.

mod common;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use common::{echo_server, fill, run_real};
use doppel::net::TcpStream;
use doppel::real::SignalStorm;

const CONNECTIONS: u64 = 64;
const PER_CONNECTION: usize = 1024 * 1024;
const CHUNK: usize = 16 * 1024;

/// Sends 1 MiB in chunks and checks it comes back, pausing now and then so the reactor blocks
/// in `epoll_wait` (where a signal must land as EINTR) rather than always finding work.
async fn client(addr: SocketAddr, id: u64) -> io::Result<()> {
    let conn = TcpStream::connect(addr).await?;
    let mut out = vec![0u8; CHUNK];
    let mut back = vec![0u8; CHUNK];
    let mut offset = 0u64;
    while (offset as usize) < PER_CONNECTION {
        fill(&mut out, id, offset);
        let read_back = async {
            let mut got = 0;
            while got < CHUNK {
                match conn.read(&mut back[got..]).await? {
                    0 => return Err(io::Error::other("early EOF")),
                    n => got += n,
                }
            }
            Ok(())
        };
        let (w, r) = futures::join!(conn.write_all(&out), read_back);
        w?;
        r?;
        assert!(
            out == back,
            "connection {id}: bytes at offset {offset} differ"
        );
        offset += CHUNK as u64;
        if offset % (64 * 1024) == 0 {
            doppel::time::sleep(Duration::from_millis(2)).await;
        }
    }
    Ok(())
}

#[test]
fn eintr_storm_at_10khz_is_absorbed_and_every_byte_arrives() {
    let run = || {
        run_real(Duration::from_secs(120), async {
            let (addr, server) = echo_server()?;
            let clients: Vec<_> = (0..CONNECTIONS)
                .map(|id| doppel::spawn(client(addr, id)))
                .collect();
            for c in clients {
                c.await.expect("client task")?;
            }
            server.abort();
            Ok(())
        })
    };
    let ((_, rt), report) = SignalStorm::run(Duration::from_micros(80), run).expect("storm");
    let s = rt.stats();
    println!(
        "storm: {} signals in {:?} = {:.0} Hz, {} handled; absorbed: {} interrupted polls, \
         {} retried syscalls",
        report.sent,
        report.elapsed,
        report.rate_hz(),
        report.handled,
        s.poll_interrupted,
        s.eintr_retries
    );
    assert!(
        report.rate_hz() >= 10_000.0,
        "storm too slow: {:.0} Hz",
        report.rate_hz()
    );
    assert!(
        s.poll_interrupted + s.eintr_retries > 0,
        "no EINTR was absorbed, so the test proved nothing"
    );
}
