//! fd reuse: after a close, a new socket that gets the same fd number never receives the old
//! one's deadline or events. One test in its own binary, so the kernel's lowest-free-fd rule
//! hands the number straight back; the same body runs in the simulator, whose descriptor
//! tables follow the same rule, with and without benign faults.

mod common;

use std::time::Duration;

use common::both;
use doppel::net::{TcpListener, TcpStream};
use doppel::time::{sleep, Instant};

#[test]
fn a_reused_fd_number_never_sees_the_old_deadline_or_events() {
    let expired = both("fd reuse", || async {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let old = TcpStream::connect(addr).await?;
        let (old_peer, _) = listener.accept().await?;
        // The old socket: a deadline 30 ms out, and unread data with its edge queued.
        old.set_read_deadline(Some(Instant::now() + Duration::from_millis(30)))?;
        old_peer.write_all(b"for the old socket only").await?;
        let old_fd = old.fd();
        old.close()?;
        let new = TcpStream::connect(addr).await?;
        assert_eq!(new.fd(), old_fd, "the kernel reused the fd number");
        let (new_peer, _) = listener.accept().await?;
        let sender = doppel::spawn(async move {
            sleep(Duration::from_millis(100)).await;
            new_peer.write_all(b"new").await.map(|_| new_peer)
        });
        let start = Instant::now();
        let mut buf = [0u8; 64];
        let n = new.read(&mut buf).await?;
        assert_eq!(&buf[..n], b"new", "only the new socket's bytes");
        assert!(
            start.elapsed() >= Duration::from_millis(100),
            "the new socket waited for its own data"
        );
        drop(sender.await.expect("sender")?);
        drop(old_peer);
        Ok(doppel::stats().deadlines_expired)
    });
    assert_eq!(expired, 0, "the old deadline never fired");
}
