//! Echo on the real backend: 200 concurrent clients x 100 round trips, sizes from 1 B to 64 KiB,
//! every byte checked.

mod common;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use common::{echo_server, fill, run_real, Rng};
use doppel::net::TcpStream;

const CLIENTS: u64 = 200;
const ROUNDS: usize = 100;
const MAX_SIZE: usize = 64 * 1024;

/// One client: 100 round trips, the first 1 byte and the last 64 KiB, the rest log-uniform.
async fn client(addr: SocketAddr, id: u64) -> io::Result<u64> {
    let conn = TcpStream::connect(addr).await?;
    conn.set_nodelay(true)?;
    let mut rng = Rng(id);
    let mut sent = 0u64;
    let mut out = vec![0u8; MAX_SIZE];
    let mut back = vec![0u8; MAX_SIZE];
    for round in 0..ROUNDS {
        let size = match round {
            0 => 1,
            r if r == ROUNDS - 1 => MAX_SIZE,
            _ => rng.log_size(MAX_SIZE),
        };
        fill(&mut out[..size], id, sent);
        let write = conn.write_all(&out[..size]);
        let read = async {
            let mut got = 0;
            while got < size {
                let n = conn.read(&mut back[got..size]).await?;
                if n == 0 {
                    return Err(io::Error::other(format!("client {id}: early EOF")));
                }
                got += n;
            }
            Ok(())
        };
        let (w, r) = futures::join!(write, read);
        w?;
        r?;
        if out[..size] != back[..size] {
            let at = (0..size).find(|&i| out[i] != back[i]).unwrap_or(0);
            return Err(io::Error::other(format!(
                "client {id} round {round}: byte {at} of {size} differs"
            )));
        }
        sent += size as u64;
    }
    Ok(sent)
}

#[test]
fn echo_200_clients_100_round_trips_every_byte_checked() {
    let (total, rt) = run_real(Duration::from_secs(120), async {
        let (addr, server) = echo_server()?;
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| doppel::spawn(client(addr, id)))
            .collect();
        let mut total = 0;
        for c in clients {
            total += c.await.expect("client task")?;
        }
        server.abort();
        Ok(total)
    });
    let stats = rt.stats();
    println!("echoed {total} bytes in each direction; {stats:?}");
    assert!(
        total >= CLIENTS * (1 + MAX_SIZE as u64),
        "every client sent its rounds"
    );
    assert!(
        stats.short_reads > 0,
        "the short-read shortcut was exercised"
    );
}
