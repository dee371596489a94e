//! Non-blocking datagram sockets: `bind`, `sendto`/`send`, `recvfrom` (with `MSG_PEEK` for a
//! peek), each one syscall with the raw errno. `connect` is the stream socket's call: on a
//! datagram socket it returns at once.

use std::io;
use std::mem::{size_of, MaybeUninit};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, IntoRawFd, RawFd};

use super::socket::{new_socket, raw_addr, socket_addr};

/// `send` flags: no `SIGPIPE` where the flag exists (macOS sets `SO_NOSIGPIPE` instead).
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(any(target_os = "macos", target_os = "ios"))]
const SEND_FLAGS: libc::c_int = 0;

/// A datagram socket bound to `addr`.
pub(crate) fn bind(addr: SocketAddr) -> io::Result<RawFd> {
    let fd = new_socket(&addr, libc::SOCK_DGRAM)?;
    let raw = raw_addr(&addr);
    // SAFETY: `raw` holds a valid sockaddr of `raw.len` bytes.
    syscall!(bind(fd.as_raw_fd(), raw.as_ptr(), raw.len))?;
    Ok(fd.into_raw_fd())
}

/// One datagram to `to`, or with `None` to the connected peer.
pub(crate) fn send_to(fd: RawFd, buf: &[u8], to: Option<SocketAddr>) -> io::Result<usize> {
    let ptr = buf.as_ptr().cast();
    let n = match to {
        Some(to) => {
            let raw = raw_addr(&to);
            // SAFETY: `buf` is a live slice of `buf.len()` bytes; `raw` a sockaddr of its len.
            syscall!(sendto(
                fd,
                ptr,
                buf.len(),
                SEND_FLAGS,
                raw.as_ptr(),
                raw.len
            ))?
        }
        // SAFETY: `buf` is a live slice of `buf.len()` bytes.
        None => syscall!(send(fd, ptr, buf.len(), SEND_FLAGS))?,
    };
    Ok(n as usize)
}

/// The next datagram into `buf` (cut to fit) and its sender; `peek` leaves it queued.
pub(crate) fn recv_from(fd: RawFd, buf: &mut [u8], peek: bool) -> io::Result<(usize, SocketAddr)> {
    let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let flags = if peek { libc::MSG_PEEK } else { 0 };
    // SAFETY: `buf` is a live, writable slice of `buf.len()` bytes; `storage` a
    // sockaddr_storage and `len` its size.
    let n = syscall!(recvfrom(
        fd,
        buf.as_mut_ptr().cast(),
        buf.len(),
        flags,
        storage.as_mut_ptr().cast(),
        &mut len
    ))?;
    // SAFETY: zero-initialised, then filled by the kernel.
    let from = socket_addr(unsafe { &storage.assume_init() })?;
    Ok((n as usize, from))
}
