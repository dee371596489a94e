//! Host names: in a simulated world every host answers to its name, and `localhost` is the host
//! itself; on the real backend `localhost` (and the system's resolver) works. A name that does
//! not resolve is the error `getaddrinfo` gives, on both.

use std::io;

use doppel::net::{TcpListener, TcpStream};
use doppel::sim::SimBuilder;

/// Echoes one message.
async fn echo_once(listener: TcpListener) -> io::Result<()> {
    loop {
        let (conn, _) = listener.accept().await?;
        let mut buf = [0u8; 16];
        let n = conn.read(&mut buf).await?;
        conn.write_all(&buf[..n]).await?;
    }
}

/// Sends `ping` to `to` and checks it comes back.
async fn ping(to: &str) -> io::Result<()> {
    let conn = TcpStream::connect(to).await?;
    conn.write_all(b"ping").await?;
    let mut buf = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        got += conn.read(&mut buf[got..]).await?;
    }
    assert_eq!(&buf, b"ping");
    Ok(())
}

#[test]
fn simulated_hosts_answer_to_their_names() {
    doppel::sim::check_seeds(0..20, |seed| {
        SimBuilder::new(seed)
            .host("server", "10.0.0.1", || async {
                echo_once(TcpListener::bind("0.0.0.0:7000")?).await
            })
            .client("client", "10.0.0.2", || async {
                ping("server:7000").await?;
                // `localhost` is the host itself.
                let here = TcpListener::bind("localhost:7100")?;
                let served = doppel::spawn(echo_once(here));
                ping("localhost:7100").await?;
                served.abort();
                let e = TcpStream::connect("nosuch:7000").await.unwrap_err();
                assert_eq!(
                    e.to_string(),
                    "nosuch: failed to lookup address information: Name or service not known"
                );
                Ok(())
            })
    });
}

#[test]
fn localhost_works_on_the_real_backend_and_unknown_names_fail_as_the_os_says() {
    doppel::real::runtime()
        .unwrap()
        .block_on(async {
            let listener = TcpListener::bind("localhost:0")?;
            let port = listener.local_addr()?.port();
            let served = doppel::spawn(echo_once(listener));
            ping(&format!("localhost:{port}")).await?;
            served.abort();
            let e = TcpStream::connect("nosuch.invalid:80").await.unwrap_err();
            assert!(
                e.to_string().contains("nosuch.invalid")
                    && e.to_string()
                        .contains("failed to lookup address information"),
                "{e}"
            );
            Ok::<(), io::Error>(())
        })
        .unwrap();
}
