//! Runtime events, through `tracing`, and the stamp each one carries.
//!
//! Every runtime event is a `tracing` event at `TRACE` level under a stable target, with a
//! static name and integer fields, so recording one allocates nothing and, with no subscriber
//! listening, costs one relaxed load and a branch:
//!
//! | target          | names                                                              |
//! |-----------------|--------------------------------------------------------------------|
//! | `doppel::task`  | `spawn`, `poll`, `done`, `abort`                                   |
//! | `doppel::poll`  | `poll` (timeout, events), `interrupted`, `ready`, `stale`          |
//! | `doppel::net`   | `listen`, `socket`, `connect`, `accept`, `read`, `write`, `shutdown`, `close`, `so_error`; the raw calls' `read_once`, `write_once`, `wait_edge`, `edge` |
//! | `doppel::time`  | `sleep`, `fired`, `deadline`, `expired`, `stale_deadline`          |
//!
//! Faults are the simulator's (`doppel::fault`). A collector (`doppel-trace`) stamps each
//! event with [`stamp`]: the reactor's clock (virtual in the simulator, elided on the real
//! backend so traces compare across backends), its host label, reactor number and the task
//! being polled.

use std::cell::RefCell;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::context;
use crate::scheduler::Fd;
use crate::task::TaskId;
use crate::time::Instant;

/// Where and when an event happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The reactor's clock, or `None` where time is elided (the real backend).
    pub time: Option<Instant>,
    /// The host (or runtime) label.
    pub host: Arc<str>,
    /// The reactor's number on its host.
    pub reactor: u32,
    /// The task being polled, if any.
    pub task: Option<TaskId>,
}

/// How a runtime labels its events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// The host (or runtime) name printed on each event.
    pub host: Arc<str>,
    /// The reactor's number on its host.
    pub reactor: u32,
    /// Whether events carry the reactor's clock (virtual time) or elide it (wall time would
    /// make two runs differ).
    pub time: bool,
}

impl Default for Label {
    fn default() -> Self {
        Label {
            host: Arc::from("main"),
            reactor: 0,
            time: true,
        }
    }
}

thread_local! {
    /// The stamp for events raised outside any reactor (the simulator's network, between turns).
    static OUTSIDE: RefCell<Option<Stamp>> = const { RefCell::new(None) };
    /// doppel's own collector, when it is listening on this thread: runtime events go to it
    /// directly instead of through `tracing`'s dispatcher (a tenth of the cost per event).
    static SINK: RefCell<Option<std::rc::Rc<dyn Sink>>> = const { RefCell::new(None) };
}

/// A runtime event's field value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// Unsigned.
    U(u64),
    /// Signed.
    I(i64),
    /// Text (a simulated fault's site; rare, so it takes the collector's slower path).
    S(&'a str),
}

macro_rules! field_from {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for FieldValue<'_> {
            fn from(x: $t) -> Self {
                FieldValue::$v(x as _)
            }
        }
    )*};
}

impl<'a> From<&'a str> for FieldValue<'a> {
    fn from(s: &'a str) -> Self {
        FieldValue::S(s)
    }
}
field_from!(u64 => U, u32 => U, u16 => U, u8 => U, usize => U, i64 => I, i32 => I);

/// A runtime event as the direct path delivers it: the same target, name and fields the
/// `tracing` event would carry.
#[derive(Clone, Copy, Debug)]
pub struct RuntimeEvent<'a> {
    /// The target (`doppel::net`, ...).
    pub target: &'static str,
    /// The event's name (`read`, ...).
    pub name: &'static str,
    /// Its fields, in order.
    pub fields: &'a [(&'static str, FieldValue<'a>)],
}

/// Receives runtime events directly (implemented by doppel's collector).
pub trait Sink {
    /// Records one event.
    fn record(&self, event: &RuntimeEvent<'_>);
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

/// The stamp of an event raised now on this thread: the current reactor's, or the one set by
/// [`with_stamp`] outside any reactor.
pub fn stamp() -> Option<Stamp> {
    if let Some(r) = context::current() {
        let label = &r.label;
        return Some(Stamp {
            time: label.time.then(|| r.trace_now.get()),
            host: label.host.clone(),
            reactor: label.reactor,
            task: r.current_task.get(),
        });
    }
    OUTSIDE.with(|s| s.borrow().clone())
}

/// A stamp borrowed for one event: virtual time (if shown), host label, reactor number, task.
pub type StampRef<'a> = (Option<Instant>, &'a Arc<str>, u32, Option<TaskId>);

/// Calls `f` with the stamp of an event raised now, borrowed rather than cloned (the
/// collector's per-event path).
pub fn with_current_stamp<R>(f: impl FnOnce(Option<StampRef<'_>>) -> R) -> R {
    if let Some(r) = context::current() {
        let label = &r.label;
        let time = label.time.then(|| r.trace_now.get());
        return f(Some((
            time,
            &label.host,
            label.reactor,
            r.current_task.get(),
        )));
    }
    OUTSIDE.with(|s| match &*s.borrow() {
        Some(st) => f(Some((st.time, &st.host, st.reactor, st.task))),
        None => f(None),
    })
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
    /// A wait that makes no syscall (readable, writable, connect's wait).
    Wait,
}

/// Traces one attempt of a socket call.
#[inline]
pub(crate) fn call(c: Call, fd: Fd, out: Outcome<'_>) {
    if !on() {
        return;
    }
    let name = match c {
        Call::Read => "read",
        Call::Write => "write",
        Call::Accept => "accept",
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
pub(crate) fn raw_wait(fd: Fd, dir: crate::Direction, ended: Option<&io::Result<()>>) {
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
            let fields = [$((stringify!($k), $crate::trace::FieldValue::from($v))),*];
            let ev = $crate::trace::RuntimeEvent { target: $target, name: $name, fields: &fields };
            if !$crate::trace::to_sink(&ev) {
                tracing::event!(name: $name, target: $target, tracing::Level::TRACE, { $($k = $v),* });
            }
        }
    }};
}
pub(crate) use event;
