//! One test body, two backends: each body runs on epoll over 127.0.0.1 and in the simulator
//! (cleanly and under benign faults), in this one binary, and must give the same results.

mod common;

use std::io;
use std::net::Shutdown;
use std::time::Duration;

use common::both;
use doppel::net::{TcpListener, TcpStream};
use doppel::time::{timeout, Instant};

/// A connected pair.
async fn pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (c, a) = futures::join!(TcpStream::connect(addr), listener.accept());
    Ok((c?, a?.0))
}

#[test]
fn echo_round_trips_give_the_same_bytes() {
    both("echo", || async {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = doppel::spawn(doppel_scenarios::echo::serve(listener));
        let plan = doppel_scenarios::echo::ClientPlan {
            rounds: 20,
            max_size: 20_000,
            reconnects: 0,
            deadline: None,
        };
        let sent = doppel_scenarios::echo::client(addr, 3, plan).await?;
        server.abort();
        Ok(sent)
    });
}

#[test]
fn half_close_reads_eof_and_still_writes() {
    let got = both("half-close", || async {
        let (c, s) = pair().await?;
        c.write_all(b"request").await?;
        c.shutdown(Shutdown::Write)?;
        let mut req = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            match s.read(&mut buf).await? {
                0 => break,
                n => req.extend_from_slice(&buf[..n]),
            }
        }
        s.write_all(b"response after EOF").await?;
        drop(s);
        let mut resp = Vec::new();
        loop {
            match c.read(&mut buf).await? {
                0 => break,
                n => resp.extend_from_slice(&buf[..n]),
            }
        }
        Ok((req, resp))
    });
    assert_eq!(got.0, b"request");
}

#[test]
fn refused_connect_and_deadlines_report_the_same_errors() {
    let (refused, deadline, blocked) = both("errors", || async {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let refused = TcpStream::connect(("127.0.0.1".parse::<std::net::IpAddr>().unwrap(), port))
            .await
            .map(drop)
            .map_err(|e| (e.kind(), doppel::error::errno(&e)));
        let (c, _s) = pair().await?;
        c.set_read_deadline(Some(Instant::now() + Duration::from_millis(30)))?;
        let deadline = c.read(&mut [0u8; 4]).await.map_err(|e| e.kind());
        c.set_read_deadline(None)?;
        let blocked = timeout(Duration::from_millis(30), c.read(&mut [0u8; 4]))
            .await
            .is_err();
        Ok((refused, deadline, blocked))
    });
    let econnrefused = Some(libc::ECONNREFUSED);
    assert_eq!(
        refused,
        Err((io::ErrorKind::ConnectionRefused, econnrefused))
    );
    assert_eq!(deadline, Err(io::ErrorKind::TimedOut));
    assert!(blocked, "a cleared deadline lets reads block again");
}
