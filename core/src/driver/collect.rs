//! What a trace collector uses: its direct sink, the stamp of the event being raised, and the
//! stamp of events raised outside any reactor.

use std::rc::Rc;

use super::sink::{RuntimeEvent, Sink};
use super::stamp::{Stamp, StampRef};
use crate::{reactor, trace};

/// Installs (or, with `None`, removes) this thread's direct sink; returns the previous one.
/// Events reach it only while some `tracing` subscriber enables TRACE (see [`on`]): doppel's
/// collector installs one alongside its sink, so a disabled runtime pays one load per event.
pub fn set_sink(sink: Option<Rc<dyn Sink>>) -> Option<Rc<dyn Sink>> {
    trace::set_sink(sink)
}

/// Hands `event` to the direct sink if one is installed; false if none is (a backend's own
/// events, such as the simulator's faults, take this path too).
#[inline]
pub fn to_sink(event: &RuntimeEvent<'_>) -> bool {
    trace::to_sink(event)
}

/// Whether runtime events are being recorded at all (some subscriber enables TRACE).
#[inline]
pub fn on() -> bool {
    trace::on()
}

/// The stamp of an event raised now on this thread: the current reactor's, or the one set by
/// [`with_stamp`] outside any reactor.
pub fn stamp() -> Option<Stamp> {
    reactor::stamp()
}

/// Calls `f` with the stamp of an event raised now, borrowed rather than cloned (the
/// collector's per-event path).
#[inline]
pub fn with_current_stamp<R>(f: impl FnOnce(Option<StampRef<'_>>) -> R) -> R {
    reactor::with_current_stamp(f)
}

/// Runs `f` with `stamp` on the events it raises outside any reactor (the simulator stamps its
/// network's events this way).
pub fn with_stamp<R>(stamp: Stamp, f: impl FnOnce() -> R) -> R {
    trace::with_stamp(stamp, f)
}
