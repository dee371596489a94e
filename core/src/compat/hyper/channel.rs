//! `Channel`: one HTTP/2 client connection as a tower `Service`, for clients built on tower
//! (tonic's generated clients take any such service). tonic's own `Channel` runs on tokio
//! (`tokio::spawn`, `tokio::time`, `tokio::net`), so on doppel this one stands in for it.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Body, Incoming};
use hyper::client::conn::http2;
use hyper::http::uri::{Authority, Scheme, Uri};
use hyper::{Request, Response};

use super::executor::Executor;
use super::timer::Timer;
use crate::net::TcpStream;

/// What hyper asks of an error a request body may end with.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One HTTP/2 connection (prior knowledge, as gRPC speaks it) to an origin, usable as a tower
/// `Service<Request<B>>` by tonic's generated clients and tower middleware. Requests whose URI
/// is a path only are sent to the channel's origin. Clones share the connection. When it is
/// lost (a reset, the server closing), every call fails with hyper's error and the channel
/// stays broken: connect a new one. No reconnection, no load balancing: that is tonic's
/// `Channel`, which needs tokio.
pub struct Channel<B> {
    /// The connection's request half; its driver runs as a task of its own.
    sender: http2::SendRequest<B>,
    /// `http`.
    scheme: Scheme,
    /// `HOST:PORT`, as given to [`Channel::connect`].
    authority: Authority,
}

impl<B> Clone for Channel<B> {
    fn clone(&self) -> Self {
        Channel {
            sender: self.sender.clone(),
            scheme: self.scheme.clone(),
            authority: self.authority.clone(),
        }
    }
}

impl<B> fmt::Debug for Channel<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field(
                "origin",
                &format_args!("{}://{}", self.scheme, self.authority),
            )
            .finish()
    }
}

/// A bad origin, named.
fn bad_origin(origin: &str, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{origin:?}: not an origin ({why}); write http://HOST:PORT"),
    )
}

/// Splits `http://HOST:PORT` into its scheme and authority, refusing anything else.
fn parse_origin(origin: &str) -> io::Result<(Scheme, Authority)> {
    let uri: Uri = origin
        .parse()
        .map_err(|e| bad_origin(origin, &format!("{e}")))?;
    let scheme = uri
        .scheme()
        .cloned()
        .ok_or_else(|| bad_origin(origin, "no scheme"))?;
    if scheme != Scheme::HTTP {
        return Err(bad_origin(origin, "only http: doppel has no TLS"));
    }
    let authority = uri
        .authority()
        .cloned()
        .ok_or_else(|| bad_origin(origin, "no host"))?;
    if authority.port_u16().is_none() {
        return Err(bad_origin(origin, "no port"));
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err(bad_origin(origin, "a path or query"));
    }
    Ok((scheme, authority))
}

impl<B> Channel<B>
where
    B: Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// Connects to `origin` (`http://HOST:PORT`; a host name resolves as
    /// `TcpStream::connect` resolves it: a simulated world's host by name; on the real backend
    /// `localhost`, then the system's resolver) and makes the HTTP/2 handshake. A bad origin is `InvalidInput`, an
    /// unknown host the resolver's error, a refused connection `ECONNREFUSED`.
    pub async fn connect(origin: &str) -> io::Result<Self> {
        let (scheme, authority) = parse_origin(origin)?;
        let conn = TcpStream::connect(authority.as_str()).await?;
        let _ = conn.set_nodelay(true);
        let (sender, driver) = http2::Builder::new(Executor)
            .timer(Timer)
            .handshake(conn)
            .await
            .map_err(|e| io::Error::other(format!("{origin}: HTTP/2 handshake: {e}")))?;
        drop(crate::current::spawn(driver));
        Ok(Channel {
            sender,
            scheme,
            authority,
        })
    }

    /// Whether the connection is closed (every call would fail).
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }
}

/// The answer to one call.
pub type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<Response<Incoming>, hyper::Error>> + Send>>;

impl<B> tower_service::Service<Request<B>> for Channel<B>
where
    B: Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Incoming>;
    type Error = hyper::Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.sender.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        if req.uri().authority().is_none() {
            let mut parts = req.uri().clone().into_parts();
            parts.scheme = Some(self.scheme.clone());
            parts.authority = Some(self.authority.clone());
            if parts.path_and_query.is_none() {
                parts.path_and_query = Some(hyper::http::uri::PathAndQuery::from_static("/"));
            }
            if let Ok(uri) = Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
        Box::pin(self.sender.send_request(req))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_origin;

    #[test]
    fn origins_are_checked_before_any_connection() {
        assert!(parse_origin("http://server:50051").is_ok());
        assert!(parse_origin("http://localhost:8080/").is_ok());
        for (bad, why) in [
            ("server:50051", "no scheme"),
            ("https://server:443", "no TLS"),
            ("http://server", "no port"),
            ("http://server:1/x", "a path"),
            ("http://", "not an origin"),
        ] {
            let e = parse_origin(bad).expect_err(bad).to_string();
            assert!(e.contains(why), "{bad}: {e}");
            assert!(e.contains(bad), "{bad}: {e}");
        }
    }
}
