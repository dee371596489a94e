//! Read and write deadlines with Go's semantics (net/timeout_test.go), each body run on the
//! real backend and in the simulator (without faults where the body asserts timing that the
//! benign plan's link stalls would change). Bound stated: a deadline fires no earlier than its
//! instant and at most 250 ms after it.

mod common;

use std::io;
use std::time::Duration;

use common::{both, both_fault_free};
use doppel::net::{TcpListener, TcpStream};
use doppel::time::{sleep, timeout, Instant};

const SLACK: Duration = Duration::from_millis(250);

/// A connected pair on loopback.
async fn pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
    Ok((client?, accepted?.0))
}

#[test]
fn read_deadline_times_out_within_bound() {
    both_fault_free("read deadline", || async {
        let (a, _b) = pair().await?;
        let start = Instant::now();
        a.set_read_deadline(Some(start + Duration::from_millis(50)))?;
        let err = a.read(&mut [0u8; 16]).await.unwrap_err();
        let took = start.elapsed();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        assert!(err.to_string().contains("read deadline exceeded"), "{err}");
        assert!(took >= Duration::from_millis(50), "fired early: {took:?}");
        assert!(
            took <= Duration::from_millis(50) + SLACK,
            "fired late: {took:?}"
        );
        Ok(())
    });
}

#[test]
fn deadline_moved_later_before_expiry_does_not_fire() {
    let expired = both_fault_free("moved deadline", || async {
        let (a, b) = pair().await?;
        let start = Instant::now();
        a.set_read_deadline(Some(start + Duration::from_millis(50)))?;
        let a = std::rc::Rc::new(a);
        let mover = {
            let a = a.clone();
            doppel::spawn(async move {
                sleep(Duration::from_millis(20)).await;
                a.set_read_deadline(Some(Instant::now() + Duration::from_millis(400)))
            })
        };
        let sender = doppel::spawn(async move {
            sleep(Duration::from_millis(150)).await;
            b.write_all(b"late but in time").await.map(|_| b)
        });
        let mut buf = [0u8; 64];
        let n = a.read(&mut buf).await?;
        assert_eq!(&buf[..n], b"late but in time");
        assert!(start.elapsed() >= Duration::from_millis(150));
        mover.await.expect("mover")?;
        drop(sender.await.expect("sender")?);
        Ok(doppel::stats().deadlines_expired)
    });
    assert_eq!(expired, 0, "the moved deadline never fired");
}

#[test]
fn past_deadline_fails_at_once_even_with_data_ready_and_clearing_it_blocks_again() {
    both_fault_free("past deadline", || async {
        let (a, b) = pair().await?;
        b.write_all(b"ready data").await?;
        sleep(Duration::from_millis(20)).await; // the data is queued at `a`
        a.set_read_deadline(Some(Instant::now()))?;
        let start = Instant::now();
        let err = a.read(&mut [0u8; 16]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        assert!(
            start.elapsed() < Duration::from_millis(50),
            "a past deadline fails at once"
        );
        a.set_read_deadline(None)?;
        let mut buf = [0u8; 16];
        let n = a.read(&mut buf).await?;
        assert_eq!(&buf[..n], b"ready data", "cleared: the ready data is read");
        let blocked = timeout(Duration::from_millis(100), a.read(&mut buf)).await;
        assert!(blocked.is_err(), "cleared: an empty socket blocks again");
        Ok(())
    });
}

#[test]
fn write_deadline_times_out_when_the_peer_never_reads() {
    both_fault_free("write deadline", || async {
        let (a, _b) = pair().await?;
        let start = Instant::now();
        a.set_write_deadline(Some(start + Duration::from_millis(100)))?;
        let chunk = vec![7u8; 1 << 20];
        let err = loop {
            if let Err(e) = a.write_all(&chunk).await {
                break e;
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        assert!(start.elapsed() >= Duration::from_millis(100));
        assert!(start.elapsed() <= Duration::from_millis(100) + SLACK);
        Ok(())
    });
}

#[test]
fn accept_deadline_times_out() {
    both("accept deadline", || async {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_deadline(Some(Instant::now() + Duration::from_millis(30)))?;
        let err = listener.accept().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        Ok(())
    });
}
