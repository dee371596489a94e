//! Echo on the real backend: 200 concurrent clients x 100 round trips, sizes from 1 B to 64 KiB,
//! every byte checked. Server and client are `doppel_scenarios::echo`, the same code the
//! simulator runs in `tests/sim_echo.rs`.

mod common;

use std::time::Duration;

use common::run_real;
use doppel::net::TcpListener;
use doppel_scenarios::echo::{self, ClientPlan};

const CLIENTS: u64 = 200;

#[test]
fn echo_200_clients_100_round_trips_every_byte_checked() {
    let plan = ClientPlan {
        rounds: 100,
        max_size: 64 * 1024,
        reconnects: 0,
        deadline: None,
    };
    let (total, rt) = run_real(Duration::from_secs(120), async move {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = doppel::spawn(echo::serve(listener));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| doppel::spawn(echo::client(addr, id, plan)))
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
        total >= CLIENTS * (1 + 64 * 1024),
        "every client sent its rounds"
    );
    assert!(
        stats.short_reads > 0,
        "the short-read shortcut was exercised"
    );
}
