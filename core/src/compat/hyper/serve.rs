//! `serve`: a hyper service behind `doppel::net::serve`, one connection per task (or per
//! sub-reactor, on a group of reactors), HTTP/1.1 or HTTP/2, with doppel's [`Timer`] so hyper's
//! timeouts run on the scheduler's clock.

use std::io;
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::service::HttpService;

/// What hyper asks of an error a response body may end with.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

use super::executor::Executor;
use super::timer::Timer;
use crate::net::{ServeOptions, TcpListener, TcpStream};

/// Which protocol a connection speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Http {
    /// HTTP/1.1 (with keep-alive).
    #[default]
    One,
    /// HTTP/2 with prior knowledge (what gRPC clients speak).
    Two,
}

/// How [`serve_with`] serves.
#[derive(Clone, Debug)]
pub struct Options {
    /// The protocol.
    pub http: Http,
    /// HTTP/1.1: how long a client may take to send a request's head before the connection is
    /// closed (hyper's `header_read_timeout`; `None`: forever). hyper starts it when it waits
    /// for a head, which includes a kept-alive connection waiting idle for its next request:
    /// so it also closes connections idle this long.
    pub header_read_timeout: Option<Duration>,
    /// HTTP/1.1: keep connections open between requests.
    pub keep_alive: bool,
    /// Let hyper add a `Date` header to every response. Off by default: hyper reads the wall
    /// clock for it, and a byte that differs between two runs of a seed makes the run
    /// nondeterministic (the simulator's run hash covers every byte delivered, and catches it).
    /// Turn it on for production, or set `Date` from `doppel::time` in the service.
    pub date_header: bool,
    /// Admission control on a group of reactors (see `doppel::net::serve_with`).
    pub serve: ServeOptions,
}

impl Default for Options {
    /// HTTP/1.1, keep-alive, a 30 s header-read timeout (hyper's default), no automatic `Date`.
    fn default() -> Self {
        Options {
            http: Http::One,
            header_read_timeout: Some(Duration::from_secs(30)),
            keep_alive: true,
            date_header: false,
            serve: ServeOptions::default(),
        }
    }
}

/// Serves `service` over HTTP/1.1 on every connection `listener` accepts (see [`Options`]'s
/// defaults).
pub async fn serve<S>(listener: TcpListener, service: S) -> io::Result<()>
where
    S: HttpService<Incoming> + Clone + Send + Sync + 'static,
    S::ResBody: 'static,
    <S::ResBody as Body>::Error: Into<BoxError>,
{
    serve_with(listener, Options::default(), service).await
}

/// [`serve`] with options: the protocol, the header-read timeout, keep-alive, admission.
pub async fn serve_with<S>(listener: TcpListener, options: Options, service: S) -> io::Result<()>
where
    S: HttpService<Incoming> + Clone + Send + Sync + 'static,
    S::ResBody: 'static,
    <S::ResBody as Body>::Error: Into<BoxError>,
{
    let admission = options.serve.clone();
    let handler = move |conn: TcpStream| {
        let (service, options) = (service.clone(), options.clone());
        async move {
            // A connection's failure (a reset, a malformed request, a timeout) ends that
            // connection only.
            let _ = connection(conn, &options, service).await;
            Ok(())
        }
    };
    crate::net::serve_with(listener, admission, handler).await
}

/// Serves one connection until it ends.
async fn connection<S>(conn: TcpStream, options: &Options, service: S) -> Result<(), hyper::Error>
where
    S: HttpService<Incoming> + 'static,
    S::ResBody: 'static,
    <S::ResBody as Body>::Error: Into<BoxError>,
{
    let _ = conn.set_nodelay(true);
    match options.http {
        Http::One => {
            hyper::server::conn::http1::Builder::new()
                .timer(Timer)
                .header_read_timeout(options.header_read_timeout)
                .keep_alive(options.keep_alive)
                .auto_date_header(options.date_header)
                .serve_connection(conn, service)
                .await
        }
        Http::Two => {
            hyper::server::conn::http2::Builder::new(Executor)
                .timer(Timer)
                .auto_date_header(options.date_header)
                .serve_connection(conn, service)
                .await
        }
    }
}
