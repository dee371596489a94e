//! Bad input and failing syscalls: each is an `io::Error` naming the address or fd and what
//! happened, with the same errno on the real backend and in the simulator (each body runs on
//! both); nothing panics.

mod common;

use std::io;
use std::time::Duration;

use common::both;
use doppel::net::{TcpListener, TcpStream};

#[test]
fn connecting_to_a_closed_port_names_the_address() {
    both("refused", || async {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0")?;
            l.local_addr()?.port()
        };
        let addr = format!("127.0.0.1:{port}");
        let err = TcpStream::connect(addr.as_str()).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        assert!(
            err.to_string().starts_with(&format!("connect {addr}: ")),
            "{err}"
        );
        assert_eq!(doppel::error::errno(&err), Some(libc::ECONNREFUSED));
        Ok(())
    });
}

#[test]
fn binding_a_busy_or_bad_address_names_it() {
    both("bind errors", || async {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let busy = l.local_addr()?;
        let err = TcpListener::bind(busy).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
        assert!(err.to_string().contains(&busy.to_string()), "{err}");
        let err = TcpListener::bind("not an address").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("\"not an address\""), "{err}");
        let err = TcpListener::bind_with_backlog("127.0.0.1:0", 0).unwrap_err();
        assert!(err.to_string().contains("backlog"), "{err}");
        Ok(())
    });
}

#[test]
fn reading_a_closed_stream_names_the_fd() {
    both("closed stream", || async {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let s = TcpStream::connect(l.local_addr()?).await?;
        let fd = s.fd();
        s.close()?;
        let err = s.read(&mut [0u8; 4]).await.unwrap_err();
        assert!(err.to_string().contains(&fd.to_string()), "{err}");
        assert!(s.peer_addr().is_err());
        assert!(s.close().is_ok(), "close is idempotent");
        Ok(())
    });
}

#[test]
fn peer_reset_is_an_error_not_a_panic() {
    both("peer reset", || async {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let (c, a) = futures::join!(TcpStream::connect(l.local_addr()?), l.accept());
        let (c, (a, _)) = (c?, a?);
        c.write_all(b"unread").await?;
        doppel::time::sleep(Duration::from_millis(10)).await;
        drop(a); // closing with unread data sends RST
        doppel::time::sleep(Duration::from_millis(10)).await;
        let mut res = Ok(());
        for _ in 0..4 {
            if let Err(e) = c.write_all(&[0u8; 1024]).await {
                res = Err(e);
                break;
            }
        }
        let err = res.unwrap_err();
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn calls_outside_a_runtime_are_errors() {
    let err = TcpListener::bind("127.0.0.1:0").unwrap_err();
    assert!(err.to_string().contains("no doppel runtime"), "{err}");
}
