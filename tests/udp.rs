//! `doppel::net::UdpSocket`'s contract, each body run on the real backend over 127.0.0.1 and in
//! the simulator (no faults, then the benign plan, seeds 0..8) with the same result: datagrams
//! whole and in their sender's order on loopback, truncation to the buffer, peeking, `EMSGSIZE`,
//! `EDESTADDRREQ`, `ECONNREFUSED` on a connected socket after the peer's port closed, receive
//! deadlines, and connected sockets hearing their peer only.

mod common;

use std::io;
use std::time::Duration;

use common::{both, both_fault_free};
use doppel::error::errno;
use doppel::net::UdpSocket;
use doppel::time::Instant;

/// Two sockets on loopback, ports the system picked.
fn pair() -> io::Result<(UdpSocket, UdpSocket)> {
    Ok((
        UdpSocket::bind("127.0.0.1:0")?,
        UdpSocket::bind("127.0.0.1:0")?,
    ))
}

#[test]
fn datagrams_arrive_whole_in_order_with_their_sender() {
    let got = both("udp order", || async {
        let (a, b) = pair()?;
        let to = b.local_addr()?;
        for i in 0..20u8 {
            let n = a.send_to(&vec![i; usize::from(i) + 1], to).await?;
            assert_eq!(n, usize::from(i) + 1);
        }
        let mut out = Vec::new();
        let mut buf = [0u8; 64];
        for _ in 0..20 {
            let (n, from) = b.recv_from(&mut buf).await?;
            assert_eq!(from, a.local_addr()?, "the sender's address");
            out.push((n, buf[0]));
        }
        Ok(out)
    });
    let want: Vec<(usize, u8)> = (0..20u8).map(|i| (usize::from(i) + 1, i)).collect();
    assert_eq!(got, want);
}

#[test]
fn a_long_datagram_is_cut_to_the_buffer_and_its_rest_is_lost() {
    let got = both("udp truncation", || async {
        let (a, b) = pair()?;
        let to = b.local_addr()?;
        a.send_to(b"0123456789abcdef", to).await?;
        a.send_to(b"next", to).await?;
        let mut small = [0u8; 4];
        let (n, _) = b.recv_from(&mut small).await?;
        let first = small[..n].to_vec();
        let mut buf = [0u8; 64];
        let (m, _) = b.recv_from(&mut buf).await?;
        Ok((first, buf[..m].to_vec()))
    });
    assert_eq!(got, (b"0123".to_vec(), b"next".to_vec()));
}

#[test]
fn a_peek_leaves_the_datagram_for_the_next_receive() {
    let got = both("udp peek", || async {
        let (a, b) = pair()?;
        a.send_to(b"hello", b.local_addr()?).await?;
        let mut buf = [0u8; 16];
        let (n, from) = b.peek_from(&mut buf).await?;
        let peeked = (buf[..n].to_vec(), from == a.local_addr()?);
        let (m, _) = b.recv_from(&mut buf).await?;
        let taken = buf[..m].to_vec();
        let empty = b.try_recv_from(&mut buf).map(|_| ()).map_err(|e| e.kind());
        Ok((peeked, taken, empty))
    });
    assert_eq!(
        got,
        (
            (b"hello".to_vec(), true),
            b"hello".to_vec(),
            Err(io::ErrorKind::WouldBlock)
        )
    );
}

#[test]
fn an_empty_datagram_is_a_datagram() {
    let got = both("udp empty", || async {
        let (a, b) = pair()?;
        a.send_to(b"", b.local_addr()?).await?;
        let mut buf = [0u8; 8];
        let (n, from) = b.recv_from(&mut buf).await?;
        Ok((n, from == a.local_addr()?))
    });
    assert_eq!(got, (0, true));
}

#[test]
fn sizes_and_destinations_are_checked_with_the_kernels_errnos() {
    let got = both("udp errnos", || async {
        let (a, b) = pair()?;
        let code = |r: io::Result<usize>| r.err().as_ref().and_then(errno);
        let too_big = code(a.send_to(&vec![0u8; 65_508], b.local_addr()?).await);
        let largest = a.send_to(&vec![7u8; 65_507], b.local_addr()?).await?;
        let nowhere = code(a.send(b"x").await);
        let unconnected = a.peer_addr().err().as_ref().and_then(errno);
        Ok((too_big, largest, nowhere, unconnected))
    });
    assert_eq!(
        got,
        (
            Some(libc::EMSGSIZE),
            65_507,
            Some(libc::EDESTADDRREQ),
            Some(libc::ENOTCONN)
        )
    );
}

#[test]
fn a_connected_socket_learns_its_peers_port_is_closed() {
    let got = both("udp refused", || async {
        let a = UdpSocket::bind("127.0.0.1:0")?;
        let gone = UdpSocket::bind("127.0.0.1:0")?;
        let closed = gone.local_addr()?;
        drop(gone);
        a.connect(closed)?;
        assert_eq!(a.peer_addr()?, closed);
        a.send(b"anyone?").await?;
        let mut buf = [0u8; 16];
        let err = a.recv(&mut buf).await.unwrap_err();
        let first = errno(&err);
        // Reported once: the socket works again after.
        a.set_read_deadline(Some(Instant::now() + Duration::from_millis(30)))?;
        let then = a.recv(&mut buf).await.unwrap_err().kind();
        Ok((first, then))
    });
    assert_eq!(got, (Some(libc::ECONNREFUSED), io::ErrorKind::TimedOut));
}

#[test]
fn a_connected_socket_hears_its_peer_only() {
    let got = both("udp connected filter", || async {
        let (a, b) = pair()?;
        let stranger = UdpSocket::bind("127.0.0.1:0")?;
        b.connect(a.local_addr()?)?;
        stranger.send_to(b"not for you", b.local_addr()?).await?;
        a.send_to(b"from a", b.local_addr()?).await?;
        let mut buf = [0u8; 32];
        let n = b.recv(&mut buf).await?;
        let first = buf[..n].to_vec();
        b.send(b"reply").await?;
        let (m, from) = a.recv_from(&mut buf).await?;
        Ok((first, buf[..m].to_vec(), from == b.local_addr()?))
    });
    assert_eq!(got, (b"from a".to_vec(), b"reply".to_vec(), true));
}

#[test]
fn a_receive_deadline_fires_and_a_cleared_one_lets_it_wait() {
    let got = both_fault_free("udp deadline", || async {
        let (a, b) = pair()?;
        let start = Instant::now();
        b.set_read_deadline(Some(start + Duration::from_millis(50)))?;
        let mut buf = [0u8; 8];
        let err = b.recv_from(&mut buf).await.unwrap_err();
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(50), "early: {took:?}");
        assert!(took < Duration::from_millis(300), "late: {took:?}");
        b.set_read_deadline(None)?;
        let to = b.local_addr()?;
        let sender = doppel::spawn(async move {
            doppel::time::sleep(Duration::from_millis(20)).await;
            a.send_to(b"late", to).await
        });
        let (n, _) = b.recv_from(&mut buf).await?;
        sender.await.map_err(io::Error::other)??;
        Ok((err.kind(), buf[..n].to_vec()))
    });
    assert_eq!(got, (io::ErrorKind::TimedOut, b"late".to_vec()));
}

#[test]
fn binding_a_taken_port_is_eaddrinuse() {
    let got = both("udp bind", || async {
        let a = UdpSocket::bind("127.0.0.1:0")?;
        let again = UdpSocket::bind(a.local_addr()?)
            .err()
            .as_ref()
            .and_then(errno);
        Ok(again)
    });
    assert_eq!(got, Some(libc::EADDRINUSE));
}
