//! hyper and tokio-util on doppel, through the `hyper` and `tokio-io` features: an HTTP/1.1 and
//! an HTTP/2 server and client in the simulator under faults, hyper's header-read timeout on
//! virtual time, a dropped hyper sleep giving its timer back, and tokio-util's `LinesCodec`
//! on both backends.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use doppel::compat::hyper::{serve_with, Executor, Http, Options, Timer};
use doppel::net::{TcpListener, TcpStream};
use doppel::sim::{check_seeds, FaultClass, FaultPlan, SimBuilder};
use futures::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};

/// Echoes the request's body, upper-cased, with its path in a header.
async fn upper(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut resp = Response::new(Full::new(Bytes::from(body.to_ascii_uppercase())));
    resp.headers_mut()
        .insert("x-path", path.parse().expect("a header value"));
    Ok(resp)
}

/// The server's main: `upper` over `http` on port 8080.
async fn server(http: Http) -> io::Result<()> {
    let listener = TcpListener::bind("0.0.0.0:8080")?;
    let options = Options {
        http,
        ..Options::default()
    };
    serve_with(listener, options, hyper::service::service_fn(upper)).await
}

/// The server's address in the simulated worlds.
fn addr() -> SocketAddr {
    "10.0.0.1:8080".parse().expect("an address")
}

/// `requests` POSTs on one connection, each answer checked.
async fn client(id: u64, http: Http, requests: u64) -> io::Result<()> {
    let conn = TcpStream::connect(addr()).await?;
    let mut sender = match http {
        Http::One => {
            let (sender, conn) = hyper::client::conn::http1::handshake::<_, Full<Bytes>>(conn)
                .await
                .map_err(io::Error::other)?;
            drop(doppel::spawn(conn));
            Sender::One(sender)
        }
        Http::Two => {
            let (sender, conn) = hyper::client::conn::http2::Builder::new(Executor)
                .timer(Timer)
                .handshake::<_, Full<Bytes>>(conn)
                .await
                .map_err(io::Error::other)?;
            drop(doppel::spawn(conn));
            Sender::Two(sender)
        }
    };
    for i in 0..requests {
        let text = format!(
            "client {id} request {i} {}",
            "x".repeat((i * 37 % 3000) as usize)
        );
        let req = Request::post(format!("http://10.0.0.1:8080/c{id}/{i}"))
            .body(Full::new(Bytes::from(text.clone())))
            .map_err(io::Error::other)?;
        let resp = sender.send(req).await?;
        let path = resp.headers()["x-path"]
            .to_str()
            .unwrap_or_default()
            .to_string();
        let body = resp.into_body().collect().await.map_err(io::Error::other)?;
        if path != format!("/c{id}/{i}") || body.to_bytes() != text.to_ascii_uppercase() {
            return Err(io::Error::other(format!(
                "client {id} request {i}: wrong answer"
            )));
        }
    }
    Ok(())
}

/// An HTTP/1.1 or HTTP/2 request sender.
enum Sender {
    /// HTTP/1.1.
    One(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    /// HTTP/2.
    Two(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    /// Sends one request.
    async fn send(&mut self, req: Request<Full<Bytes>>) -> io::Result<Response<Incoming>> {
        let r = match self {
            Sender::One(s) => s.send_request(req).await,
            Sender::Two(s) => s.send_request(req).await,
        };
        r.map_err(io::Error::other)
    }
}

/// A server and three clients of 8 requests each, under benign faults.
fn world(seed: u64, http: Http) -> SimBuilder {
    let mut b = SimBuilder::new(seed).faults(FaultPlan::benign(0.05)).host(
        "server",
        "10.0.0.1",
        move || server(http),
    );
    for id in 0..3u64 {
        let ip = format!("10.0.1.{}", id + 1);
        b = b.client(&format!("c{id}"), &ip, move || client(id, http, 8));
    }
    b
}

#[test]
fn http1_clients_pass_every_seed_under_benign_faults() {
    let reports = check_seeds(0..200, |seed| world(seed, Http::One));
    let short = reports
        .iter()
        .map(|r| r.faults.get(FaultClass::ShortWrite))
        .sum::<u64>();
    let reads = reports
        .iter()
        .map(|r| r.faults.get(FaultClass::ShortRead))
        .sum::<u64>();
    assert!(
        short > 0 && reads > 0,
        "short writes {short}, short reads {reads}"
    );
}

#[test]
fn http2_clients_pass_every_seed_under_benign_faults() {
    let reports = check_seeds(0..100, |seed| world(seed, Http::Two));
    let fired: u64 = reports.iter().map(|r| r.faults.total()).sum();
    assert!(fired > 0);
}

/// A client that sends half a request head and waits: hyper's header-read timeout (2 s here)
/// closes the connection at 2 s of virtual time.
#[test]
fn the_header_read_timeout_fires_on_virtual_time() {
    let world = |seed| {
        SimBuilder::new(seed)
            .host("server", "10.0.0.1", || async {
                let listener = TcpListener::bind("0.0.0.0:8080")?;
                let options = Options {
                    header_read_timeout: Some(Duration::from_secs(2)),
                    ..Options::default()
                };
                serve_with(listener, options, hyper::service::service_fn(upper)).await
            })
            .client("slow", "10.0.1.1", || async {
                let conn = TcpStream::connect(addr()).await?;
                let sent = doppel::time::Instant::now();
                conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await?;
                let mut buf = [0u8; 256];
                loop {
                    if conn.read(&mut buf).await? == 0 {
                        break;
                    }
                }
                let waited = sent.elapsed();
                // 2 s, give or take the link's 100 µs each way and hyper's own rounding.
                if waited < Duration::from_secs(2) || waited > Duration::from_millis(2001) {
                    return Err(io::Error::other(format!("closed after {waited:?}")));
                }
                Ok(())
            })
            .time_limit(Duration::from_secs(60))
    };
    check_seeds(0..10, world);
}

/// A hyper sleep polled once, then dropped: its timer is gone from the reactor.
#[test]
fn a_dropped_hyper_sleep_gives_its_timer_back() {
    use hyper::rt::Timer as _;
    doppel::real::runtime().unwrap().block_on(async {
        let before = doppel::time::pending_timers();
        let mut sleep = Timer.sleep(Duration::from_secs(3600));
        let polled = futures::poll!(sleep.as_mut());
        assert!(polled.is_pending());
        assert_eq!(
            doppel::time::pending_timers(),
            before + 1,
            "the sleep armed a timer"
        );
        drop(sleep);
        assert_eq!(
            doppel::time::pending_timers(),
            before,
            "the timer went with the sleep"
        );
        // Reset moves the one timer, never adds a second.
        let mut sleep = Timer.sleep(Duration::from_secs(3600));
        let _ = futures::poll!(sleep.as_mut());
        Timer.reset(&mut sleep, Timer.now() + Duration::from_millis(1));
        let _ = futures::poll!(sleep.as_mut());
        assert_eq!(doppel::time::pending_timers(), before + 1);
        sleep.await;
        assert_eq!(doppel::time::pending_timers(), before);
    });
}

/// Lines through tokio-util's `Framed` and `LinesCodec`, echoed, on `world`'s backend.
async fn lines_round_trip(listener: TcpListener, to: SocketAddr) -> io::Result<()> {
    let server = doppel::spawn(async move {
        let (conn, _) = listener.accept().await?;
        let mut framed = tokio_util::codec::Framed::new(conn, tokio_util::codec::LinesCodec::new());
        while let Some(line) = framed.next().await {
            let line = line.map_err(io::Error::other)?;
            framed
                .send(line.to_uppercase())
                .await
                .map_err(io::Error::other)?;
        }
        Ok::<(), io::Error>(())
    });
    let conn = TcpStream::connect(to).await?;
    let mut framed = tokio_util::codec::Framed::new(conn, tokio_util::codec::LinesCodec::new());
    for i in 0..50 {
        let line = format!("line {i} {}", "abc".repeat(i * 7));
        framed.send(line.clone()).await.map_err(io::Error::other)?;
        let back = framed.next().await.transpose().map_err(io::Error::other)?;
        if back.as_deref() != Some(line.to_uppercase().as_str()) {
            return Err(io::Error::other(format!("line {i} came back as {back:?}")));
        }
    }
    drop(framed);
    server.await.map_err(io::Error::other)?
}

#[test]
fn tokio_util_codecs_run_on_epoll() {
    doppel::real::runtime()
        .unwrap()
        .block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let to = listener.local_addr()?;
            lines_round_trip(listener, to).await
        })
        .unwrap();
}

#[test]
fn tokio_util_codecs_run_in_the_simulator_under_faults() {
    let reports = check_seeds(0..100, |seed| {
        SimBuilder::new(seed)
            .faults(FaultPlan::benign(0.1))
            .host("server", "10.0.0.1", || async { Ok(()) })
            .client("c", "10.0.1.1", || async {
                let listener = TcpListener::bind("127.0.0.1:9000")?;
                lines_round_trip(listener, "127.0.0.1:9000".parse().unwrap()).await
            })
    });
    assert!(reports
        .iter()
        .any(|r| r.faults.get(FaultClass::ShortRead) > 0));
}
