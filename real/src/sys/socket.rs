//! Non-blocking stream sockets (datagrams are `datagram.rs`): every call one syscall, every
//! error the raw errno.
//!
//! The platform differences live here and nowhere else: Linux and FreeBSD create and accept
//! sockets non-blocking and close-on-exec in one call and suppress `SIGPIPE` per send with
//! `MSG_NOSIGNAL`; macOS needs `fcntl` after the fact and `SO_NOSIGPIPE` on the socket.

use std::io;
use std::mem::{size_of, MaybeUninit};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

/// A socket address in the kernel's form.
pub(super) struct RawAddr {
    /// Big enough for any family.
    storage: libc::sockaddr_storage,
    /// How much of it is used.
    pub(super) len: libc::socklen_t,
}

impl RawAddr {
    pub(super) fn as_ptr(&self) -> *const libc::sockaddr {
        (&self.storage as *const libc::sockaddr_storage).cast()
    }
}

/// Converts a socket address to the kernel's form.
pub(super) fn raw_addr(addr: &SocketAddr) -> RawAddr {
    // SAFETY: sockaddr_storage is plain old data; all-zero is valid.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
            let sin = unsafe {
                &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>()
            };
            sin.sin_family = libc::AF_INET as _;
            sin.sin_port = a.port().to_be();
            sin.sin_addr = libc::in_addr {
                s_addr: u32::from_ne_bytes(a.ip().octets()),
            };
            set_len(&mut storage, size_of::<libc::sockaddr_in>());
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in6.
            let sin6 = unsafe {
                &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            sin6.sin6_family = libc::AF_INET6 as _;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: a.ip().octets(),
            };
            sin6.sin6_scope_id = a.scope_id();
            set_len(&mut storage, size_of::<libc::sockaddr_in6>());
            size_of::<libc::sockaddr_in6>()
        }
    };
    RawAddr {
        storage,
        len: len as libc::socklen_t,
    }
}

/// BSD socket addresses carry their own length.
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "dragonfly"
))]
fn set_len(storage: &mut libc::sockaddr_storage, len: usize) {
    storage.ss_len = len as u8;
}

/// Linux socket addresses do not carry their length.
#[cfg(not(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "dragonfly"
)))]
fn set_len(_: &mut libc::sockaddr_storage, _: usize) {}

/// Converts the kernel's form back.
pub(super) fn socket_addr(storage: &libc::sockaddr_storage) -> io::Result<SocketAddr> {
    match i32::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Ok(SocketAddrV4::new(ip, u16::from_be(sin.sin_port)).into())
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let sin6 = unsafe {
                &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            let port = u16::from_be(sin6.sin6_port);
            Ok(SocketAddrV6::new(ip, port, sin6.sin6_flowinfo, sin6.sin6_scope_id).into())
        }
        family => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unsupported address family {family}"),
        )),
    }
}

/// The family constant for an address.
fn domain(addr: &SocketAddr) -> libc::c_int {
    match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    }
}

/// A new non-blocking, close-on-exec socket of type `kind` (`SOCK_STREAM`, `SOCK_DGRAM`).
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
pub(super) fn new_socket(addr: &SocketAddr, kind: libc::c_int) -> io::Result<OwnedFd> {
    let ty = kind | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: socket takes a family, a type and a protocol.
    let fd = syscall!(socket(domain(addr), ty, 0))?;
    // SAFETY: socket returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A new non-blocking, close-on-exec socket of type `kind` that never raises `SIGPIPE`.
#[cfg(any(target_os = "macos", target_os = "ios"))]
pub(super) fn new_socket(addr: &SocketAddr, kind: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: socket takes a family, a type and a protocol.
    let fd = syscall!(socket(domain(addr), kind, 0))?;
    // SAFETY: socket returned a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    prepare_accepted(fd.as_raw_fd())?;
    Ok(fd)
}

/// macOS: make a new descriptor non-blocking, close-on-exec, and free of `SIGPIPE`.
#[cfg(any(target_os = "macos", target_os = "ios"))]
fn prepare_accepted(fd: RawFd) -> io::Result<()> {
    // SAFETY: plain fcntl/setsockopt calls on a descriptor the caller owns.
    syscall!(fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK))?;
    // SAFETY: as above.
    syscall!(fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC))?;
    set_int_opt(fd, libc::SOL_SOCKET, libc::SO_NOSIGPIPE, 1)
}

/// Sets an integer socket option.
fn set_int_opt(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    let len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: passes a pointer to a live c_int and its exact size.
    syscall!(setsockopt(
        fd,
        level,
        name,
        (&value as *const libc::c_int).cast(),
        len
    ))
    .map(drop)
}

/// The listen backlog when the caller gave none: the system's maximum. On Linux that is
/// `/proc/sys/net/core/somaxconn` (4096 on current kernels), never a fixed 128.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn default_backlog() -> libc::c_int {
    std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(4096)
}

/// The listen backlog when the caller gave none: -1, which BSD kernels clamp to
/// `kern.ipc.somaxconn`.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn default_backlog() -> libc::c_int {
    -1
}

/// Binds and listens.
pub(crate) fn listen(addr: SocketAddr, backlog: Option<u32>) -> io::Result<RawFd> {
    let fd = new_socket(&addr, libc::SOCK_STREAM)?;
    set_int_opt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    let raw = raw_addr(&addr);
    // SAFETY: `raw` holds a valid sockaddr of `raw.len` bytes.
    syscall!(bind(fd.as_raw_fd(), raw.as_ptr(), raw.len))?;
    let backlog = backlog.map_or_else(default_backlog, |b| b.min(i32::MAX as u32) as libc::c_int);
    // SAFETY: listen on a bound socket we own.
    syscall!(listen(fd.as_raw_fd(), backlog))?;
    Ok(fd.into_raw_fd())
}

/// Accepts one connection, non-blocking and close-on-exec.
pub(crate) fn accept(listener: RawFd) -> io::Result<(RawFd, SocketAddr)> {
    let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let fd = accept_raw(listener, storage.as_mut_ptr().cast(), &mut len)?;
    // SAFETY: zero-initialised, then filled by the kernel.
    let storage = unsafe { storage.assume_init() };
    match socket_addr(&storage) {
        Ok(peer) => Ok((fd.into_raw_fd(), peer)),
        Err(e) => Err(e),
    }
}

/// `accept4` where it exists.
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
fn accept_raw(
    listener: RawFd,
    addr: *mut libc::sockaddr,
    len: &mut libc::socklen_t,
) -> io::Result<OwnedFd> {
    let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: `addr` points to a sockaddr_storage and `len` holds its size.
    let fd = syscall!(accept4(listener, addr, len, flags))?;
    // SAFETY: accept4 returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `accept` plus `fcntl` on macOS.
#[cfg(any(target_os = "macos", target_os = "ios"))]
fn accept_raw(
    listener: RawFd,
    addr: *mut libc::sockaddr,
    len: &mut libc::socklen_t,
) -> io::Result<OwnedFd> {
    // SAFETY: `addr` points to a sockaddr_storage and `len` holds its size.
    let fd = syscall!(accept(listener, addr, len))?;
    // SAFETY: accept returned a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    prepare_accepted(fd.as_raw_fd())?;
    Ok(fd)
}

/// A new unconnected socket for `addr`'s family.
pub(crate) fn socket(addr: SocketAddr) -> io::Result<RawFd> {
    new_socket(&addr, libc::SOCK_STREAM).map(IntoRawFd::into_raw_fd)
}

/// Starts a connect; `EINPROGRESS` is returned as an error for the core to wait on.
pub(crate) fn connect(fd: RawFd, addr: SocketAddr) -> io::Result<()> {
    let raw = raw_addr(&addr);
    // SAFETY: `raw` holds a valid sockaddr of `raw.len` bytes.
    syscall!(connect(fd, raw.as_ptr(), raw.len)).map(drop)
}

/// Reads and clears `SO_ERROR`.
pub(crate) fn take_error(fd: RawFd) -> io::Result<Option<io::Error>> {
    let mut value: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: passes a pointer to a live c_int and its size.
    syscall!(getsockopt(
        fd,
        libc::SOL_SOCKET,
        libc::SO_ERROR,
        (&mut value as *mut libc::c_int).cast(),
        &mut len
    ))?;
    Ok((value != 0).then(|| io::Error::from_raw_os_error(value)))
}

/// One `read`.
pub(crate) fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is a live, writable slice of `buf.len()` bytes.
    syscall!(read(fd, buf.as_mut_ptr().cast(), buf.len())).map(|n| n as usize)
}

/// One `send` with `MSG_NOSIGNAL`: a closed peer is `EPIPE`, never a `SIGPIPE`.
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
pub(crate) fn write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is a live slice of `buf.len()` bytes.
    syscall!(send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL)).map(|n| n as usize)
}

/// One `write`; the socket has `SO_NOSIGPIPE`, so a closed peer is `EPIPE`.
#[cfg(any(target_os = "macos", target_os = "ios"))]
pub(crate) fn write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is a live slice of `buf.len()` bytes.
    syscall!(write(fd, buf.as_ptr().cast(), buf.len())).map(|n| n as usize)
}

/// Shuts down one or both halves.
pub(crate) fn shutdown(fd: RawFd, how: Shutdown) -> io::Result<()> {
    let how = match how {
        Shutdown::Read => libc::SHUT_RD,
        Shutdown::Write => libc::SHUT_WR,
        Shutdown::Both => libc::SHUT_RDWR,
    };
    // SAFETY: shutdown takes an fd and a constant.
    syscall!(shutdown(fd, how)).map(drop)
}

/// Closes `fd`. The caller never retries, whatever the result.
pub(crate) fn close(fd: RawFd) -> io::Result<()> {
    // SAFETY: the core closes each fd it owns exactly once.
    syscall!(close(fd)).map(drop)
}

/// `getsockname` or `getpeername`.
fn name_of(
    fd: RawFd,
    f: unsafe extern "C" fn(libc::c_int, *mut libc::sockaddr, *mut libc::socklen_t) -> libc::c_int,
) -> io::Result<SocketAddr> {
    let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `storage` is a sockaddr_storage and `len` its size, as both calls require.
    if unsafe { f(fd, storage.as_mut_ptr().cast(), &mut len) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: zero-initialised, then filled by the kernel.
    socket_addr(unsafe { &storage.assume_init() })
}

/// The local address.
pub(crate) fn local_addr(fd: RawFd) -> io::Result<SocketAddr> {
    name_of(fd, libc::getsockname)
}

/// The peer's address (`ENOTCONN` while a connect is still in progress).
pub(crate) fn peer_addr(fd: RawFd) -> io::Result<SocketAddr> {
    name_of(fd, libc::getpeername)
}

/// Sets `TCP_NODELAY`.
pub(crate) fn set_nodelay(fd: RawFd, nodelay: bool) -> io::Result<()> {
    set_int_opt(
        fd,
        libc::IPPROTO_TCP,
        libc::TCP_NODELAY,
        libc::c_int::from(nodelay),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_through_the_kernel_form() {
        for a in ["127.0.0.1:7000", "[::1]:443", "10.1.2.3:0"] {
            let addr: SocketAddr = a.parse().unwrap();
            assert_eq!(socket_addr(&raw_addr(&addr).storage).unwrap(), addr);
        }
    }
}
