//! Close while waiting: closing a listener or a stream from another task wakes its parked
//! acceptor or reader with an error in the same reactor turn (Go's `pollUnblock`). Each body
//! runs on the real backend and in the simulator, with and without benign faults.

mod common;

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use common::both;
use doppel::net::{TcpListener, TcpStream};
use doppel::time::sleep;

#[test]
fn closing_a_listener_wakes_its_acceptor_in_the_same_turn() {
    both("listener close", || async {
        let listener = Rc::new(TcpListener::bind("127.0.0.1:0")?);
        let closed_at = Rc::new(Cell::new(0));
        let acceptor = {
            let listener = listener.clone();
            doppel::spawn(async move {
                let res = listener.accept().await;
                (res.map(|_| ()), doppel::stats().turns)
            })
        };
        sleep(Duration::from_millis(20)).await;
        closed_at.set(doppel::stats().turns);
        listener.close()?;
        let (res, woke_at) = acceptor.await.expect("acceptor");
        let err = res.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotConnected, "{err}");
        assert!(err.to_string().contains("closed"), "{err}");
        assert_eq!(woke_at, closed_at.get(), "woken in the turn of the close");
        assert!(
            listener.accept().await.is_err(),
            "a closed listener stays closed"
        );
        Ok(())
    });
}

#[test]
fn closing_a_stream_wakes_its_reader_in_the_same_turn() {
    both("stream close", || async {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
        let (client, _peer) = (Rc::new(client?), accepted?);
        let reader = {
            let client = client.clone();
            doppel::spawn(async move {
                let res = client.read(&mut [0u8; 8]).await;
                (res, doppel::stats().turns)
            })
        };
        sleep(Duration::from_millis(20)).await;
        let closed_at = doppel::stats().turns;
        client.close()?;
        let (res, woke_at) = reader.await.expect("reader");
        let err = res.unwrap_err();
        assert!(err.to_string().contains("closed"), "{err}");
        assert_eq!(woke_at, closed_at, "woken in the turn of the close");
        let again = client.write_all(b"x").await.unwrap_err();
        assert!(again.to_string().contains("closed"), "{again}");
        Ok(())
    });
}
