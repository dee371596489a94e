//! Linux: edge-triggered epoll, woken through an eventfd.
//!
//! Each fd is registered once for its whole life with `EPOLLIN | EPOLLOUT | EPOLLRDHUP |
//! EPOLLET`, so readiness costs no `epoll_ctl` per operation (Go's `netpollopen`). The eventfd
//! is registered edge-triggered too, under [`Token::WAKE`]; its events are consumed here and
//! never reach the core. `kqueue.rs` has the same shape.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use doppel_core::driver::{Event, Ready, Token, WakeHandle};

/// How many events one `epoll_wait` may return; more wait for the next round.
const EVENTS_CAPACITY: usize = 1024;

/// An epoll instance and its wake-up eventfd.
#[derive(Debug)]
pub(crate) struct Selector {
    /// The epoll descriptor.
    ep: OwnedFd,
    /// The kernel's output buffer, reused every round.
    raw: Vec<libc::epoll_event>,
    /// The eventfd that breaks `epoll_wait` (shared with every wake handle).
    wake: Arc<EventFd>,
}

/// An eventfd; writing to it makes the selector's `epoll_wait` return.
#[derive(Debug)]
struct EventFd(OwnedFd);

impl WakeHandle for EventFd {
    fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to an eventfd this handle owns. EAGAIN (the
        // counter is saturated) means a wake-up is already pending, so the result is ignored.
        let _ = unsafe { libc::write(self.0.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }
}

impl Selector {
    /// A new epoll instance with its eventfd registered.
    pub(crate) fn new() -> io::Result<Selector> {
        // SAFETY: epoll_create1 takes only flags.
        let ep = syscall!(epoll_create1(libc::EPOLL_CLOEXEC))?;
        // SAFETY: epoll_create1 returned a fresh descriptor that nothing else owns.
        let ep = unsafe { OwnedFd::from_raw_fd(ep) };
        // SAFETY: eventfd takes an initial value and flags.
        let efd = syscall!(eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK))?;
        // SAFETY: eventfd returned a fresh descriptor that nothing else owns.
        let wake = Arc::new(EventFd(unsafe { OwnedFd::from_raw_fd(efd) }));
        let sel = Selector {
            ep,
            raw: Vec::with_capacity(EVENTS_CAPACITY),
            wake,
        };
        // The eventfd is watched for input only: with EPOLLOUT too, every read that resets it
        // would raise a writable edge and cost an empty round.
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLET) as u32,
            u64: Token::WAKE.raw(),
        };
        let (ep, efd) = (sel.ep.as_raw_fd(), sel.wake.0.as_raw_fd());
        // SAFETY: `ev` is a valid epoll_event for the duration of the call.
        syscall!(epoll_ctl(ep, libc::EPOLL_CTL_ADD, efd, &mut ev))?;
        Ok(sel)
    }

    /// How many entries the last `select` took from the kernel, the wake-up included: a caller
    /// sees a wake that added no event.
    pub(crate) fn seen(&self) -> usize {
        self.raw.len()
    }

    /// Waits up to `timeout` and appends the events to `out`. `EINTR` is returned as is.
    pub(crate) fn select(
        &mut self,
        timeout: Option<Duration>,
        out: &mut Vec<Event>,
    ) -> io::Result<()> {
        let timeout_ms = timeout.map_or(-1, round_up_ms);
        self.raw.clear();
        // SAFETY: `raw` has capacity for EVENTS_CAPACITY entries, which is the max passed.
        let n = syscall!(epoll_wait(
            self.ep.as_raw_fd(),
            self.raw.as_mut_ptr(),
            EVENTS_CAPACITY as i32,
            timeout_ms
        ))?;
        // SAFETY: epoll_wait initialised the first `n` entries (n <= capacity).
        unsafe { self.raw.set_len(n as usize) };
        for ev in &self.raw {
            let token = Token::from_raw(ev.u64);
            if token == Token::WAKE {
                self.drain_wake();
                continue;
            }
            out.push(Event {
                token,
                ready: ready_of(ev.events),
            });
        }
        Ok(())
    }

    /// Watches `fd` for everything, edge-triggered.
    pub(crate) fn register(&self, fd: RawFd, token: Token) -> io::Result<()> {
        let flags = libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET;
        let mut ev = libc::epoll_event {
            events: flags as u32,
            u64: token.raw(),
        };
        // SAFETY: `ev` is a valid epoll_event for the duration of the call.
        syscall!(epoll_ctl(
            self.ep.as_raw_fd(),
            libc::EPOLL_CTL_ADD,
            fd,
            &mut ev
        ))
        .map(drop)
    }

    /// Stops watching `fd`.
    pub(crate) fn deregister(&self, fd: RawFd) -> io::Result<()> {
        // SAFETY: EPOLL_CTL_DEL ignores the event pointer (null is allowed since Linux 2.6.9).
        syscall!(epoll_ctl(
            self.ep.as_raw_fd(),
            libc::EPOLL_CTL_DEL,
            fd,
            std::ptr::null_mut()
        ))
        .map(drop)
    }

    /// A handle that breaks `select` from any thread.
    pub(crate) fn wake_handle(&self) -> Arc<dyn WakeHandle> {
        self.wake.clone()
    }

    /// Resets the eventfd counter so it can never saturate.
    fn drain_wake(&self) {
        let mut buf = 0u64;
        // SAFETY: reads 8 bytes into a live u64 from an eventfd we own; EAGAIN (already drained)
        // is fine and ignored.
        let _ = unsafe { libc::read(self.wake.0.as_raw_fd(), (&mut buf as *mut u64).cast(), 8) };
    }
}

/// epoll's millisecond timeout, rounded up so a timer is never polled for early in a busy loop
/// (a 0.3 ms wait must not become 0 ms).
fn round_up_ms(d: Duration) -> i32 {
    let ms = d.as_nanos().div_ceil(1_000_000);
    i32::try_from(ms).unwrap_or(i32::MAX)
}

/// What an epoll event means to the core.
fn ready_of(bits: u32) -> Ready {
    let bits = bits as i32;
    let mut r = Ready::EMPTY;
    if bits & (libc::EPOLLIN | libc::EPOLLPRI) != 0 {
        r |= Ready::READABLE;
    }
    if bits & libc::EPOLLOUT != 0 {
        r |= Ready::WRITABLE;
    }
    if bits & libc::EPOLLRDHUP != 0 {
        r |= Ready::READ_CLOSED;
    }
    if bits & libc::EPOLLHUP != 0 {
        r |= Ready::READ_CLOSED | Ready::WRITE_CLOSED;
    }
    if bits & libc::EPOLLERR != 0 {
        r |= Ready::ERROR;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_round_up_never_down() {
        assert_eq!(round_up_ms(Duration::from_micros(300)), 1);
        assert_eq!(round_up_ms(Duration::from_millis(2)), 2);
        assert_eq!(round_up_ms(Duration::from_nanos(2_000_001)), 3);
        assert_eq!(round_up_ms(Duration::ZERO), 0);
        assert_eq!(round_up_ms(Duration::MAX), i32::MAX);
    }
}
