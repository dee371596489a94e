//! Per-message rules and `NetControl`'s hold and release, as a user's test installs them:
//! dropping exactly the third reply fails a client that does not retry and passes one that
//! does; a dropped TCP segment is retransmitted (the stream arrives whole, 200 ms late); a
//! delay, a duplicate, a held link released; every verdict in the trace; an unknown host named
//! before the run; the same seed, the same run.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use doppel::net::{TcpListener, TcpStream, UdpSocket};
use doppel::sim::{Proto, SimBuilder, SimError, Verdict};
use doppel::time::{sleep, timeout, Instant};

/// A UDP server on `server` that answers each request with `ok:` and the request.
async fn answer() -> io::Result<()> {
    let sock = UdpSocket::bind("0.0.0.0:53")?;
    let mut buf = [0u8; 512];
    loop {
        let (n, from) = sock.recv_from(&mut buf).await?;
        let mut reply = b"ok:".to_vec();
        reply.extend_from_slice(&buf[..n]);
        sock.send_to(&reply, from).await?;
    }
}

/// Asks five questions, waiting 50 ms for each answer and trying `tries` times.
async fn ask(tries: u32) -> io::Result<()> {
    let sock = UdpSocket::bind("0.0.0.0:0")?;
    sock.connect("10.0.0.1:53")?;
    let mut buf = [0u8; 512];
    for q in 0..5u8 {
        let mut answered = false;
        for _ in 0..tries {
            sock.send(&[q]).await?;
            match timeout(Duration::from_millis(50), sock.recv(&mut buf)).await {
                Ok(n) => {
                    assert_eq!(&buf[..n?], &[b'o', b'k', b':', q]);
                    answered = true;
                    break;
                }
                Err(_) => continue,
            }
        }
        if !answered {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("question {q} unanswered"),
            ));
        }
    }
    Ok(())
}

/// The world, dropping the third datagram the server sends the client.
fn world(seed: u64, tries: u32) -> SimBuilder {
    SimBuilder::new(seed)
        .host("server", "10.0.0.1", answer)
        .client("client", "10.0.0.2", move || ask(tries))
        .rule("server", "client", |m| match (m.proto, m.index) {
            (Proto::Udp, 2) => Verdict::Drop,
            _ => Verdict::Pass,
        })
        .trace(true)
}

#[test]
fn dropping_exactly_the_third_reply_fails_a_client_that_does_not_retry() {
    let err = world(1, 1).run().unwrap_err();
    let SimError::Failed(f) = err else {
        panic!("expected a failure, got {err}");
    };
    assert!(f.to_string().contains("question 2 unanswered"), "{f}");
    let rules = f.report.trace.as_ref().unwrap().lines_of("doppel::rule");
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert!(
        rules[0].contains("drop") && rules[0].contains("n=2"),
        "{}",
        rules[0]
    );
    let passed = world(1, 3).run().expect("a client that retries passes");
    let rules = passed.trace.as_ref().unwrap().lines_of("doppel::rule");
    assert_eq!(rules.len(), 1, "exactly one reply dropped: {rules:?}");
}

#[test]
fn the_same_seed_with_rules_is_the_same_run() {
    let a = world(4, 3).run().unwrap();
    let b = world(4, 3).run().unwrap();
    assert_eq!(a.hash, b.hash);
    assert_eq!(a.trace.unwrap().body(), b.trace.unwrap().body());
}

/// A TCP client that sends 8 KiB in 1 KiB writes and reads them echoed back, timing it.
fn tcp_world(
    rule: impl Fn(&doppel::sim::Message<'_>) -> Verdict + 'static,
) -> (SimBuilder, Rc<RefCell<Duration>>) {
    let took = Rc::new(RefCell::new(Duration::ZERO));
    let t = took.clone();
    let b = SimBuilder::new(2)
        .split_segments(false)
        .host("server", "10.0.0.1", || async {
            let l = TcpListener::bind("0.0.0.0:7")?;
            let (c, _) = l.accept().await?;
            let mut buf = [0u8; 4096];
            loop {
                let n = c.read(&mut buf).await?;
                if n == 0 {
                    return Ok(());
                }
                c.write_all(&buf[..n]).await?;
            }
        })
        .client("client", "10.0.0.2", move || {
            let t = t.clone();
            async move {
                let c = TcpStream::connect("10.0.0.1:7").await?;
                let start = Instant::now();
                let data: Vec<u8> = (0..8192u32).map(|i| (i % 251) as u8).collect();
                for chunk in data.chunks(1024) {
                    c.write_all(chunk).await?;
                }
                let mut back = vec![0u8; data.len()];
                let mut got = 0;
                while got < back.len() {
                    got += c.read(&mut back[got..]).await?;
                }
                assert!(back == data, "the stream arrives whole and in order");
                *t.borrow_mut() = start.elapsed();
                Ok(())
            }
        })
        .rule("client", "server", rule)
        .trace(true);
    (b, took)
}

#[test]
fn a_dropped_tcp_segment_is_retransmitted_never_lost() {
    let (plain, fast) = tcp_world(|_| Verdict::Pass);
    plain.run().unwrap();
    let (b, slow) = tcp_world(|m| match (m.proto, m.index, m.bytes.first()) {
        // The third data segment the client sends (1 KiB writes, unsplit).
        (Proto::Tcp, 2, Some(_)) => Verdict::Drop,
        _ => Verdict::Pass,
    });
    let r = b.run().unwrap();
    let (fast, slow) = (*fast.borrow(), *slow.borrow());
    assert!(
        slow >= fast + Duration::from_millis(200),
        "{fast:?} then {slow:?}"
    );
    let rules = r.trace.unwrap().lines_of("doppel::rule");
    assert!(
        rules.len() == 1 && rules[0].contains("proto=tcp"),
        "{rules:?}"
    );
}

#[test]
fn a_delayed_segment_holds_the_stream_behind_it() {
    let (b, took) = tcp_world(|m| match m.index {
        0 => Verdict::Delay(Duration::from_millis(30)),
        _ => Verdict::Pass,
    });
    b.run().unwrap();
    let took = *took.borrow();
    assert!(
        took >= Duration::from_millis(30) && took < Duration::from_millis(60),
        "{took:?}"
    );
}

#[test]
fn a_duplicated_datagram_arrives_twice() {
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    SimBuilder::new(3)
        .client("rx", "10.0.0.2", move || {
            let g = g.clone();
            async move {
                let s = UdpSocket::bind("0.0.0.0:9")?;
                let mut buf = [0u8; 8];
                for _ in 0..4 {
                    let (n, _) = s.recv_from(&mut buf).await?;
                    g.borrow_mut().push(buf[..n].to_vec());
                }
                Ok(())
            }
        })
        .client("tx", "10.0.0.1", || async {
            sleep(Duration::from_millis(1)).await;
            let s = UdpSocket::bind("0.0.0.0:0")?;
            for m in [b"a", b"b", b"c"] {
                s.send_to(m, "10.0.0.2:9").await?;
            }
            Ok(())
        })
        .rule("tx", "rx", |m| match m.bytes {
            b"b" => Verdict::Duplicate,
            _ => Verdict::Pass,
        })
        .run()
        .unwrap();
    // Sent at one instant: the copy, 1 µs behind its original, comes after all three.
    assert_eq!(*got.borrow(), [&b"a"[..], b"b", b"c", b"b"]);
}

#[test]
fn a_held_link_keeps_its_messages_until_released() {
    let b = SimBuilder::new(5);
    let net = b.net_control();
    let log = Rc::new(RefCell::new(Vec::new()));
    let (l1, l2) = (log.clone(), log.clone());
    b.host("server", "10.0.0.1", move || {
        let l = l1.clone();
        async move {
            let s = UdpSocket::bind("0.0.0.0:53")?;
            let mut buf = [0u8; 8];
            loop {
                let (n, _) = s.recv_from(&mut buf).await?;
                l.borrow_mut().push((Instant::now(), buf[..n].to_vec()));
            }
        }
    })
    .client("client", "10.0.0.2", move || {
        let (net, l) = (net.clone(), l2.clone());
        async move {
            let s = UdpSocket::bind("0.0.0.0:0")?;
            net.hold("client", "server")?;
            s.send_to(b"1", "10.0.0.1:53").await?;
            s.send_to(b"2", "10.0.0.1:53").await?;
            sleep(Duration::from_millis(100)).await;
            assert!(l.borrow().is_empty(), "nothing crossed a held link");
            assert_eq!(net.held("server", "client")?, 2);
            let released = Instant::now();
            assert_eq!(net.release("client", "server")?, 2);
            sleep(Duration::from_millis(10)).await;
            let got = l.borrow().clone();
            assert_eq!(
                got.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>(),
                [b"1".to_vec(), b"2".to_vec()]
            );
            assert!(
                got.iter().all(|(t, _)| *t > released),
                "released in order, after release"
            );
            let err = net.hold("client", "nobody").unwrap_err();
            assert!(
                err.to_string().contains("no host named \"nobody\""),
                "{err}"
            );
            Ok(())
        }
    })
    .run()
    .unwrap();
}

#[test]
fn a_rule_on_an_unknown_host_is_refused_before_the_run() {
    let err = SimBuilder::new(1)
        .client("client", "10.0.0.2", || async { Ok(()) })
        .rule("client", "sever", |_| Verdict::Pass)
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("unknown host name \"sever\""),
        "{err}"
    );
}
