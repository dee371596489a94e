//! Runtime events: raised through `tracing`, or handed straight to a collector's sink, and the
//! stamp of events raised outside any reactor. The targets and names of the events, and what a
//! collector uses, are in the driver seam's docs ([`crate::driver`]); the stamp of an event
//! raised inside a reactor is the reactor's (`reactor::stamp`).

use std::cell::RefCell;
use std::io;
use std::time::Duration;

use crate::driver::fd::Fd;
use crate::driver::ready::Direction;
use crate::driver::sink::{FieldValue, RuntimeEvent, Sink};
use crate::driver::stamp::{Stamp, StampRef};

thread_local! {
    /// The stamp for events raised outside any reactor (the simulator's network, between turns).
    static OUTSIDE: RefCell<Option<Stamp>> = const { RefCell::new(None) };
    /// doppel's own collector, when it is listening on this thread: runtime events go to it
    /// directly instead of through `tracing`'s dispatcher (a tenth of the cost per event).
    static SINK: RefCell<Option<std::rc::Rc<dyn Sink>>> = const { RefCell::new(None) };
}

/// Installs (or, with `None`, removes) this thread's direct sink; returns the previous one.
/// Events reach it only while some `tracing` subscriber enables TRACE (see [`on`]): doppel's
/// collector installs one alongside its sink, so a disabled runtime pays one load per event.
pub fn set_sink(sink: Option<std::rc::Rc<dyn Sink>>) -> Option<std::rc::Rc<dyn Sink>> {
    SINK.with(|s| s.replace(sink))
}

/// Hands `event` to the direct sink if one is installed; false if none is.
#[inline]
pub fn to_sink(event: &RuntimeEvent<'_>) -> bool {
    SINK.with(|s| match &*s.borrow() {
        Some(sink) => {
            sink.record(event);
            true
        }
        None => false,
    })
}

/// Calls `f` with the stamp set by [`with_stamp`], for an event raised outside any reactor.
pub(crate) fn with_outside_stamp<R>(f: impl FnOnce(Option<StampRef<'_>>) -> R) -> R {
    OUTSIDE.with(|s| match &*s.borrow() {
        Some(st) => f(Some((st.time, &st.host, st.reactor, st.task))),
        None => f(None),
    })
}

/// The stamp set by [`with_stamp`], for an event raised outside any reactor.
pub(crate) fn outside_stamp() -> Option<Stamp> {
    OUTSIDE.with(|s| s.borrow().clone())
}

/// Runs `f` with `stamp` on the events it raises outside any reactor (the simulator stamps its
/// network's events this way).
pub fn with_stamp<R>(stamp: Stamp, f: impl FnOnce() -> R) -> R {
    /// Puts the previous stamp back, also when `f` panics.
    struct Restore(Option<Stamp>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            OUTSIDE.with(|s| *s.borrow_mut() = prev);
        }
    }
    let _restore = Restore(OUTSIDE.with(|s| s.replace(Some(stamp))));
    f()
}

/// Whether anyone listens at TRACE level at all: `tracing`'s global maximum level, one relaxed
/// load. doppel's collector (and any TRACE subscriber) raises it; with nobody listening a
/// runtime event costs this load and a branch.
#[inline]
pub fn on() -> bool {
    tracing::level_enabled!(tracing::Level::TRACE)
}

/// A timeout as a trace field: nanoseconds, or `-1` for "until something happens".
pub(crate) fn timeout_ns(t: Option<Duration>) -> i64 {
    t.map_or(-1, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// The raw errno of a syscall error (0 when it has none).
pub(crate) fn errno_of(e: &io::Error) -> i64 {
    i64::from(e.raw_os_error().unwrap_or(0))
}

/// A socket call's outcome, for [`call`].
pub(crate) enum Outcome<'a> {
    /// Succeeded with this value (bytes, or a new descriptor).
    Ok(u64),
    /// Failed.
    Err(&'a io::Error),
}

/// The socket calls the core traces; one callsite each, so every event has a static name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Call {
    /// `read`.
    Read,
    /// `write`.
    Write,
    /// `accept`.
    Accept,
    /// `sendto` (and `send` on a connected datagram socket).
    SendTo,
    /// `recvfrom` (and `recv`, and a peek).
    RecvFrom,
    /// A wait that makes no syscall (readable, writable, connect's wait).
    Wait,
}

/// Traces one attempt of a socket call: with nobody listening, the one load and branch of
/// [`on`], inlined at the call site (the event itself is built out of line).
#[inline(always)]
pub(crate) fn call(c: Call, fd: Fd, out: Outcome<'_>) {
    if on() {
        call_traced(c, fd, out);
    }
}

/// [`call`]'s event, once someone listens.
#[inline(never)]
fn call_traced(c: Call, fd: Fd, out: Outcome<'_>) {
    let name = match c {
        Call::Read => "read",
        Call::Write => "write",
        Call::Accept => "accept",
        Call::SendTo => "send_to",
        Call::RecvFrom => "recv_from",
        Call::Wait => return,
    };
    let value = match out {
        Outcome::Ok(n) if c == Call::Accept => ("new_fd", FieldValue::U(n)),
        Outcome::Ok(n) => ("n", FieldValue::U(n)),
        Outcome::Err(e) => ("errno", FieldValue::I(errno_of(e))),
    };
    let fields = [("fd", FieldValue::I(i64::from(fd.0))), value];
    let ev = RuntimeEvent {
        target: "doppel::net",
        name,
        fields: &fields,
    };
    if to_sink(&ev) {
        return;
    }
    let fd = i64::from(fd.0);
    macro_rules! ev {
        ($name:literal) => {
            match out {
                Outcome::Ok(n) => tracing::event!(name: $name, target: "doppel::net", tracing::Level::TRACE, fd, n),
                Outcome::Err(e) => tracing::event!(name: $name, target: "doppel::net", tracing::Level::TRACE, fd, errno = errno_of(e)),
            }
        };
    }
    match c {
        Call::Read => ev!("read"),
        Call::Write => ev!("write"),
        Call::SendTo => ev!("send_to"),
        Call::RecvFrom => ev!("recv_from"),
        Call::Accept => match out {
            Outcome::Ok(n) => {
                tracing::event!(name: "accept", target: "doppel::net", tracing::Level::TRACE, fd, new_fd = n)
            }
            Outcome::Err(e) => {
                tracing::event!(name: "accept", target: "doppel::net", tracing::Level::TRACE, fd, errno = errno_of(e))
            }
        },
        Call::Wait => {}
    }
}

/// Traces one raw call (`read_once`, `write_once`): the bytes asked for, and what came back.
pub(crate) fn raw_call(c: Call, fd: Fd, asked: usize, got: &io::Result<usize>) {
    if !on() {
        return;
    }
    let fd = fd.0;
    match (c, got) {
        (Call::Read, Ok(n)) => event!("doppel::net", "read_once", fd = fd, asked = asked, n = *n),
        (Call::Read, Err(e)) => event!(
            "doppel::net",
            "read_once",
            fd = fd,
            asked = asked,
            errno = errno_of(e)
        ),
        (_, Ok(n)) => event!("doppel::net", "write_once", fd = fd, asked = asked, n = *n),
        (_, Err(e)) => event!(
            "doppel::net",
            "write_once",
            fd = fd,
            asked = asked,
            errno = errno_of(e)
        ),
    }
}

/// Traces a raw wait for an edge: its start (`ended` is `None`), and how it ended.
pub(crate) fn raw_wait(fd: Fd, dir: Direction, ended: Option<&io::Result<()>>) {
    if !on() {
        return;
    }
    let (fd, dir) = (fd.0, dir as u8);
    match ended {
        None => event!("doppel::net", "wait_edge", fd = fd, dir = dir),
        Some(Ok(())) => event!("doppel::net", "edge", fd = fd, dir = dir),
        Some(Err(e)) => event!(
            "doppel::net",
            "edge",
            fd = fd,
            dir = dir,
            errno = errno_of(e)
        ),
    }
}

/// Emits one runtime event: `event!(target, name, field = value, ...)`: straight to doppel's
/// collector when it listens on this thread, otherwise as a `tracing` event at TRACE level.
macro_rules! event {
    ($target:literal, $name:literal $(, $k:ident = $v:expr)* $(,)?) => {{
        if $crate::trace::on() {
            let fields = [$((stringify!($k), $crate::driver::sink::FieldValue::from($v))),*];
            let ev = $crate::driver::sink::RuntimeEvent { target: $target, name: $name, fields: &fields };
            if !$crate::trace::to_sink(&ev) {
                tracing::event!(name: $name, target: $target, tracing::Level::TRACE, { $($k = $v),* });
            }
        }
    }};
}
pub(crate) use event;
