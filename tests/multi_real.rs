//! The multi-reactor runtime on the real backend, over 127.0.0.1: the main reactor accepts and
//! hands connections to sub-reactors, where they are served; work runs on workers; overload is
//! refused at the limit; bad shapes and panicking work are errors, not crashes.

use std::io;
use std::time::Duration;

use doppel::group::{GroupConfig, MAX_SPIN_POLLS};
use doppel::net::{serve, serve_with, ServeOptions, TcpListener, TcpStream};
use doppel::reactors::{self, WorkerError};

/// Echoes one connection, tagging nothing: the handler every test serves.
async fn echo(conn: TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; 4096];
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        conn.write_all(&buf[..n]).await?;
    }
}

/// One round trip of `msg`.
async fn round_trip(conn: &TcpStream, msg: &[u8]) -> io::Result<Vec<u8>> {
    conn.write_all(msg).await?;
    let mut got = vec![0u8; msg.len()];
    let mut n = 0;
    while n < msg.len() {
        match conn.read(&mut got[n..]).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            k => n += k,
        }
    }
    Ok(got)
}

#[test]
fn connections_are_served_on_sub_reactors() {
    let rt = doppel::real::multi(GroupConfig::default().sub_reactors(2).workers(1)).unwrap();
    let (served_on, stats) = rt
        .block_on(async {
            assert_eq!(reactors::count(), 4);
            assert_eq!(reactors::index(), 0);
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let addr = listener.local_addr()?;
            let server = doppel::spawn(serve(listener, |conn| async move {
                // Tell the client which reactor serves it, then echo.
                conn.write_all(&[reactors::index() as u8]).await?;
                echo(conn).await
            }));
            let mut on = Vec::new();
            for i in 0..6u8 {
                let c = TcpStream::connect(addr).await?;
                let mut tag = [0u8; 1];
                c.read(&mut tag).await?;
                on.push(tag[0]);
                assert_eq!(round_trip(&c, &[i; 100]).await?, vec![i; 100]);
            }
            server.abort();
            io::Result::Ok((on, reactors::group().unwrap().stats()))
        })
        .unwrap();
    assert_eq!(
        served_on,
        vec![1, 2, 1, 2, 1, 2],
        "round robin over the two sub-reactors"
    );
    assert_eq!(stats.admitted, 6);
}

#[test]
fn work_runs_on_workers_and_a_panic_is_an_error() {
    let rt = doppel::real::multi(GroupConfig::default().sub_reactors(1).workers(2)).unwrap();
    rt.block_on(async {
        let on = reactors::run_blocking(|| (1..=1000u64).sum::<u64>()).await;
        assert_eq!(on, Ok(500_500));
        let e = reactors::run_blocking(|| -> u64 { panic!("bad input 7") }).await;
        assert_eq!(e, Err(WorkerError::Panicked("bad input 7".into())));
        // The workers go on serving.
        assert_eq!(reactors::run_blocking(|| 2 + 2).await, Ok(4));
        let remote = reactors::spawn_on(1, || async { reactors::index() }).unwrap();
        assert_eq!(remote.await, Ok(1));
        assert!(reactors::spawn_on(9, || async {}).is_err());
    });
}

#[test]
fn no_workers_is_an_error_and_bad_shapes_are_refused() {
    let rt = doppel::real::multi(GroupConfig::default().sub_reactors(1).workers(0)).unwrap();
    rt.block_on(async {
        assert_eq!(
            reactors::run_blocking(|| 1).await,
            Err(WorkerError::NoWorkers)
        );
    });
    let e = doppel::real::multi(GroupConfig::default().sub_reactors(0)).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("sub_reactors(0)"), "{e}");
    let e = doppel::real::multi(GroupConfig::default().max_connections(0)).unwrap_err();
    assert!(e.to_string().contains("max_connections(0)"), "{e}");
    let too_long = GroupConfig::default().spin_polls(MAX_SPIN_POLLS + 1);
    let e = doppel::real::multi(too_long).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("spin_polls(2001)"), "{e}");
}

/// Eight clients at once, `rounds` round trips of 64 bytes each, every byte checked.
async fn eight_clients(addr: std::net::SocketAddr, rounds: usize) -> io::Result<()> {
    let clients: Vec<_> = (0..8u8)
        .map(|i| {
            doppel::spawn(async move {
                let c = TcpStream::connect(addr).await?;
                for _ in 0..rounds {
                    assert_eq!(round_trip(&c, &[i; 64]).await?, vec![i; 64]);
                }
                io::Result::Ok(())
            })
        })
        .collect();
    for c in clients {
        c.await.map_err(|e| io::Error::other(format!("{e:?}")))??;
    }
    Ok(())
}

#[test]
fn a_spinning_sub_reactor_still_sees_every_connection_job_and_timer() {
    // With eight busy connections the sub-reactor's polls find several events at once, so with
    // a spin it tries non-blocking polls before it blocks; a job or a timer that falls in the
    // spin must be seen as promptly as one that falls in the blocking poll.
    for spin in [0, 1, MAX_SPIN_POLLS] {
        let cfg = GroupConfig::default()
            .sub_reactors(1)
            .workers(0)
            .spin_polls(spin);
        let rt = doppel::real::multi(cfg).unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let addr = listener.local_addr()?;
            let server = doppel::spawn(serve(listener, echo));
            eight_clients(addr, 200).await?;
            let job = reactors::spawn_on(1, || async {
                doppel::time::sleep(Duration::from_millis(5)).await;
                reactors::index()
            })?;
            let on = doppel::time::timeout(Duration::from_secs(5), job).await?;
            assert_eq!(on, Ok(1), "spin_polls({spin})");
            eight_clients(addr, 20).await?;
            server.abort();
            io::Result::Ok(())
        })
        .unwrap();
    }
}

#[test]
fn beyond_max_connections_clients_are_told_and_refused() {
    let cfg = GroupConfig::default()
        .sub_reactors(2)
        .workers(0)
        .max_connections(3);
    let rt = doppel::real::multi(cfg).unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let opts = ServeOptions {
            reject_message: b"busy\n".to_vec(),
        };
        let server = doppel::spawn(serve_with(listener, opts, echo));
        let mut kept = Vec::new();
        for i in 0..3u8 {
            let c = TcpStream::connect(addr).await?;
            assert_eq!(round_trip(&c, &[i; 10]).await?, vec![i; 10]);
            kept.push(c);
        }
        for _ in 0..5 {
            let c = TcpStream::connect(addr).await?;
            let mut buf = [0u8; 16];
            let n = doppel::time::timeout(Duration::from_secs(5), c.read(&mut buf)).await??;
            assert_eq!(&buf[..n], b"busy\n");
        }
        let stats = reactors::group().unwrap().stats();
        assert_eq!((stats.admitted, stats.rejected, stats.live), (3, 5, 3));
        drop(kept);
        // Room again once they leave.
        doppel::time::sleep(Duration::from_millis(50)).await;
        let c = TcpStream::connect(addr).await?;
        assert_eq!(round_trip(&c, b"again").await?, b"again");
        server.abort();
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn a_panicking_handler_costs_its_connection_not_its_reactor() {
    let rt = doppel::real::multi(GroupConfig::default().sub_reactors(1).workers(0)).unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = doppel::spawn(serve(listener, |conn: TcpStream| async move {
            let mut b = [0u8; 4];
            let n = conn.read(&mut b).await?;
            assert_ne!(&b[..n], b"boom", "a handler bug");
            conn.write_all(&b[..n]).await
        }));
        let bad = TcpStream::connect(addr).await?;
        bad.write_all(b"boom").await?;
        let mut b = [0u8; 4];
        assert_eq!(
            bad.read(&mut b).await.unwrap_or(0),
            0,
            "its connection is closed"
        );
        // The one sub-reactor goes on serving.
        for _ in 0..3 {
            let c = TcpStream::connect(addr).await?;
            assert_eq!(round_trip(&c, b"fine").await?, b"fine");
        }
        let stats = reactors::group().unwrap().stats();
        assert_eq!((stats.panicked, stats.admitted), (1, 4));
        server.abort();
        io::Result::Ok(())
    })
    .unwrap();
}
