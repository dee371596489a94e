//! macOS and FreeBSD: kqueue with `EV_CLEAR` (edge-triggered) on both filters, woken through
//! `EVFILT_USER`.
//!
//! The same shape as `epoll.rs`: each fd is registered once, for reading and writing, with
//! `EV_CLEAR`, carrying its token in `udata`; the wake-up source lives under [`Token::WAKE`] and
//! never reaches the core. This file is type-checked in CI for `x86_64-apple-darwin` and
//! `x86_64-unknown-freebsd` (the two `kevent` structs differ: FreeBSD's has an `ext` field, so
//! events are built from a zeroed value rather than a struct literal).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use doppel_core::driver::{Event, Ready, Token, WakeHandle};

/// How many events one `kevent` may return; more wait for the next round.
const EVENTS_CAPACITY: usize = 1024;

/// The `EVFILT_USER` identifier of the wake-up source.
const WAKE_IDENT: usize = 0;

/// A kqueue instance; the descriptor is shared with the wake handles.
#[derive(Debug)]
pub(crate) struct Selector {
    /// The kqueue descriptor (shared, so a wake never writes to a closed or reused fd).
    kq: Arc<Kqueue>,
    /// The kernel's output buffer, reused every round.
    raw: Vec<libc::kevent>,
}

/// The kqueue descriptor; triggering its `EVFILT_USER` event makes `kevent` return.
#[derive(Debug)]
struct Kqueue(OwnedFd);

impl WakeHandle for Kqueue {
    fn wake(&self) {
        let ev = kevent(
            WAKE_IDENT,
            libc::EVFILT_USER,
            0,
            libc::NOTE_TRIGGER,
            Token::WAKE,
        );
        // An error here (EINTR included) leaves the reactor to wake on its next event or timer;
        // a trigger on a registered EVFILT_USER cannot otherwise fail.
        let _ = apply(self.0.as_raw_fd(), &[ev]);
    }
}

/// Builds one `kevent`. Zeroed first, because the struct differs between macOS and FreeBSD.
fn kevent(ident: usize, filter: i16, flags: u16, fflags: u32, token: Token) -> libc::kevent {
    // SAFETY: kevent is plain old data; all-zero is a valid value, and the fields that matter
    // are set below.
    let mut ev: libc::kevent = unsafe { std::mem::zeroed() };
    ev.ident = ident as _;
    ev.filter = filter as _;
    ev.flags = flags as _;
    ev.fflags = fflags as _;
    ev.udata = token.raw() as usize as _;
    ev
}

/// Applies a changelist. `EINTR` means every change was applied (FreeBSD's kevent(2): "When
/// kevent() call fails with EINTR error, all changes in the changelist have been applied"),
/// so it counts as success (F5).
fn apply(kq: RawFd, changes: &[libc::kevent]) -> io::Result<()> {
    // SAFETY: `changes` is a live slice of initialised kevents; no event list is passed.
    let res = syscall!(kevent(
        kq,
        changes.as_ptr(),
        changes.len() as _,
        std::ptr::null_mut(),
        0,
        std::ptr::null()
    ));
    match res {
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
        other => other.map(drop),
    }
}

impl Selector {
    /// A new kqueue with its `EVFILT_USER` wake-up source registered.
    pub(crate) fn new() -> io::Result<Selector> {
        // SAFETY: kqueue takes no arguments.
        let kq = syscall!(kqueue())?;
        // SAFETY: kqueue returned a fresh descriptor that nothing else owns.
        let kq = unsafe { OwnedFd::from_raw_fd(kq) };
        // SAFETY: sets FD_CLOEXEC on the descriptor just created.
        syscall!(fcntl(kq.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC))?;
        let sel = Selector {
            kq: Arc::new(Kqueue(kq)),
            raw: Vec::with_capacity(EVENTS_CAPACITY),
        };
        let flags = libc::EV_ADD | libc::EV_CLEAR;
        let ev = kevent(WAKE_IDENT, libc::EVFILT_USER, flags, 0, Token::WAKE);
        apply(sel.kq.0.as_raw_fd(), &[ev])?;
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
        let ts = timeout.map(|d| libc::timespec {
            tv_sec: d.as_secs().min(i32::MAX as u64) as _,
            tv_nsec: d.subsec_nanos() as _,
        });
        let ts_ptr = ts
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        self.raw.clear();
        // SAFETY: the event list has room for EVENTS_CAPACITY entries; `ts_ptr` is null or
        // points to a live timespec.
        let n = syscall!(kevent(
            self.kq.0.as_raw_fd(),
            std::ptr::null(),
            0,
            self.raw.as_mut_ptr(),
            EVENTS_CAPACITY as _,
            ts_ptr
        ))?;
        // SAFETY: kevent initialised the first `n` entries (n <= capacity).
        unsafe { self.raw.set_len(n as usize) };
        for ev in &self.raw {
            if ev.filter == libc::EVFILT_USER {
                continue;
            }
            out.push(Event {
                token: Token::from_raw(ev.udata as usize as u64),
                ready: ready_of(ev),
            });
        }
        Ok(())
    }

    /// Watches `fd` for reading and writing, edge-triggered (`EV_CLEAR`).
    pub(crate) fn register(&self, fd: RawFd, token: Token) -> io::Result<()> {
        let flags = libc::EV_ADD | libc::EV_CLEAR;
        let changes = [
            kevent(fd as usize, libc::EVFILT_READ, flags, 0, token),
            kevent(fd as usize, libc::EVFILT_WRITE, flags, 0, token),
        ];
        apply(self.kq.0.as_raw_fd(), &changes)
    }

    /// Stops watching `fd`.
    pub(crate) fn deregister(&self, fd: RawFd) -> io::Result<()> {
        let changes = [
            kevent(
                fd as usize,
                libc::EVFILT_READ,
                libc::EV_DELETE,
                0,
                Token::from_raw(0),
            ),
            kevent(
                fd as usize,
                libc::EVFILT_WRITE,
                libc::EV_DELETE,
                0,
                Token::from_raw(0),
            ),
        ];
        apply(self.kq.0.as_raw_fd(), &changes)
    }

    /// A handle that breaks `select` from any thread.
    pub(crate) fn wake_handle(&self) -> Arc<dyn WakeHandle> {
        self.kq.clone()
    }
}

/// What a kqueue event means to the core. kqueue reports read and write separately; the core
/// handles each on its own.
fn ready_of(ev: &libc::kevent) -> Ready {
    let mut r = Ready::EMPTY;
    let eof = ev.flags & libc::EV_EOF != 0;
    if ev.filter == libc::EVFILT_READ {
        r |= Ready::READABLE;
        if eof {
            r |= Ready::READ_CLOSED;
        }
    } else if ev.filter == libc::EVFILT_WRITE {
        r |= Ready::WRITABLE;
        if eof {
            r |= Ready::WRITE_CLOSED;
        }
    }
    if ev.flags & libc::EV_ERROR != 0 || (eof && ev.fflags != 0) {
        r |= Ready::ERROR;
    }
    r
}
