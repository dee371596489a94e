//! `ToSocketAddr`: a literal socket address, or `HOST:PORT` with a host name the backend
//! resolves (`localhost` on the real backend; every host of a simulated world by its name).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Something that names one socket address: a [`SocketAddr`], an `"IP:port"` string, an
/// `(IP, port)` pair, or a `"HOST:PORT"` string whose host the current backend resolves
/// (`TcpStream::connect("server:80")` in a simulated world with a host called `server`). A
/// string that is neither is an `InvalidInput` error that quotes it; a name that does not
/// resolve is the error the OS gives.
pub trait ToSocketAddr {
    /// The address if it is literal, or an error naming the bad input.
    fn to_socket_addr(&self) -> io::Result<SocketAddr>;

    /// The address, resolving a host name through the current reactor's backend. Only
    /// strings carry names; the default is [`ToSocketAddr::to_socket_addr`].
    fn lookup(&self) -> io::Result<SocketAddr> {
        self.to_socket_addr()
    }
}

/// The error `getaddrinfo` gives for a name it does not know, as Rust's standard library words
/// it (`failed to lookup address information: Name or service not known`).
pub fn name_not_known(name: &str) -> io::Error {
    io::Error::other(format!(
        "{name}: failed to lookup address information: Name or service not known"
    ))
}

/// `HOST:PORT` with a host that is not a literal address: the host and the port.
fn split_name(s: &str) -> Option<(&str, u16)> {
    let (host, port) = s.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let plausible = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    plausible.then_some((host, port))
}

/// Resolves `host` through the current reactor and pairs the first address with `port`.
fn resolve(host: &str, port: u16) -> io::Result<SocketAddr> {
    let reactor = crate::reactor::current_or_err("resolve")?;
    let ips = reactor.io.sched.borrow_mut().resolve(host)?;
    crate::trace::event!("doppel::net", "resolve", name = host, n = ips.len());
    ips.first()
        .map(|ip| SocketAddr::new(*ip, port))
        .ok_or_else(|| name_not_known(host))
}

impl ToSocketAddr for SocketAddr {
    fn to_socket_addr(&self) -> io::Result<SocketAddr> {
        Ok(*self)
    }
}

impl ToSocketAddr for str {
    fn to_socket_addr(&self) -> io::Result<SocketAddr> {
        self.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "invalid socket address {self:?}: expected IP:port such as \
                     127.0.0.1:7000 or [::1]:7000, or HOST:PORT such as localhost:7000"
                ),
            )
        })
    }

    fn lookup(&self) -> io::Result<SocketAddr> {
        match (self.to_socket_addr(), split_name(self)) {
            (Ok(a), _) => Ok(a),
            (Err(_), Some((host, port))) => resolve(host, port),
            (Err(e), None) => Err(e),
        }
    }
}

impl ToSocketAddr for String {
    fn to_socket_addr(&self) -> io::Result<SocketAddr> {
        self.as_str().to_socket_addr()
    }

    fn lookup(&self) -> io::Result<SocketAddr> {
        self.as_str().lookup()
    }
}

impl ToSocketAddr for (IpAddr, u16) {
    fn to_socket_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::new(self.0, self.1))
    }
}

impl ToSocketAddr for (Ipv4Addr, u16) {
    fn to_socket_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::new(self.0.into(), self.1))
    }
}

impl ToSocketAddr for (Ipv6Addr, u16) {
    fn to_socket_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::new(self.0.into(), self.1))
    }
}

impl<T: ToSocketAddr + ?Sized> ToSocketAddr for &T {
    fn to_socket_addr(&self) -> io::Result<SocketAddr> {
        (**self).to_socket_addr()
    }

    fn lookup(&self) -> io::Result<SocketAddr> {
        (**self).lookup()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_not_literal_addresses_and_nonsense_is_refused_with_the_input_quoted() {
        let e = "localhost:80".to_socket_addr().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("\"localhost:80\""), "{e}");
        assert_eq!(split_name("server:80"), Some(("server", 80)));
        assert_eq!(split_name("server:http"), None);
        assert_eq!(split_name("a b:80"), None);
        assert_eq!(split_name(":80"), None);
        assert_eq!(
            "127.0.0.1:7000".to_socket_addr().unwrap(),
            SocketAddr::from(([127, 0, 0, 1], 7000))
        );
    }
}
