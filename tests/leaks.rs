//! Leaks: the process's open descriptors are the same before and after 10,000
//! connect/accept/echo/close cycles and 2,000 runtime create/drop cycles. One test in its own
//! binary, so no other test opens descriptors meanwhile.

mod common;

use std::time::Duration;

use common::{echo_server, open_fds, run_real};
use doppel::net::{TcpListener, TcpStream};

const CYCLES: usize = 10_000;
const RUNTIMES: usize = 2_000;

#[test]
fn no_descriptor_leaks_across_connections_and_runtimes() {
    let before = open_fds();
    let (_, rt) = run_real(Duration::from_secs(120), async {
        let (addr, server) = echo_server()?;
        let mut buf = [0u8; 16];
        for i in 0..CYCLES {
            let conn = TcpStream::connect(addr).await?;
            let msg = (i as u128).to_le_bytes();
            conn.write_all(&msg).await?;
            let mut got = 0;
            while got < msg.len() {
                got += conn.read(&mut buf[got..]).await?;
            }
            assert_eq!(buf, msg);
            conn.close()?;
        }
        server.abort();
        Ok(())
    });
    drop(rt);
    for _ in 0..RUNTIMES {
        let rt = doppel::real::runtime().expect("runtime");
        rt.block_on(async {
            let l = TcpListener::bind("127.0.0.1:0").expect("bind");
            // A task left parked in accept: dropping the runtime must close its listener.
            doppel::spawn(async move { l.accept().await.map(drop) });
            doppel::task::yield_now().await;
        });
    }
    let after = open_fds();
    assert_eq!(
        before, after,
        "descriptors leaked: {before} open before, {after} after"
    );
}
