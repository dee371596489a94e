//! Errors the runtime itself reports, and the context added to syscall errors at the API edge.
//!
//! Below the public API, errors are exactly what the scheduler returned (raw errnos, identical
//! on both backends), so the retry loop can match on them. At the public API each error gains
//! what was being done and to which address or fd, Go-style (`connect 127.0.0.1:9: Connection
//! refused (os error 111)`), while keeping its [`io::ErrorKind`]; [`errno`] recovers the raw
//! number.

use std::fmt;
use std::io;

use crate::driver::fd::Fd;
use crate::driver::ready::Direction;

/// A syscall error with what was being done and to what.
#[derive(Debug)]
pub struct NetError {
    /// The operation: `bind`, `connect`, `accept`, `read`, ...
    pub op: &'static str,
    /// The address or fd it was applied to.
    pub target: String,
    /// The error the scheduler returned.
    pub source: io::Error,
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.op, self.target, self.source)
    }
}

impl std::error::Error for NetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Wraps `source` with the operation and target, keeping its kind.
pub(crate) fn context(op: &'static str, target: impl fmt::Display, source: io::Error) -> io::Error {
    if source.get_ref().is_some_and(|e| e.is::<NetError>()) {
        return source;
    }
    io::Error::new(
        source.kind(),
        NetError {
            op,
            target: target.to_string(),
            source,
        },
    )
}

/// The raw OS errno behind an error, looking through doppel's context.
pub fn errno(e: &io::Error) -> Option<i32> {
    e.raw_os_error().or_else(|| {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<NetError>())
            .and_then(|n| n.source.raw_os_error())
    })
}

/// The socket was closed by this process while (or before) the operation ran; Go's
/// `ErrNetClosing`.
pub(crate) fn closed(fd: Fd) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        format!("use of closed socket ({fd} was closed by this process)"),
    )
}

/// A read or write deadline passed (Go's `ErrDeadlineExceeded`).
pub(crate) fn deadline(dir: Direction, fd: Fd) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("{dir} deadline exceeded on {fd}"),
    )
}

/// A call that needs a runtime was made outside one.
pub(crate) fn no_runtime(what: &str) -> io::Error {
    io::Error::other(format!(
        "{what}: no doppel runtime on this thread (call it inside Runtime::block_on or a task)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_keeps_kind_and_errno() {
        let e = context(
            "connect",
            "127.0.0.1:9",
            io::Error::from_raw_os_error(libc::ECONNREFUSED),
        );
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(errno(&e), Some(libc::ECONNREFUSED));
        assert!(e.to_string().starts_with("connect 127.0.0.1:9: "), "{e}");
        let twice = context("read", "fd=3", e);
        assert!(
            twice.to_string().starts_with("connect "),
            "no double wrapping"
        );
    }
}
