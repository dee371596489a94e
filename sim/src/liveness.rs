//! The liveness phase (TigerBeetle's VOPR liveness mode): a run that survives its faults has
//! shown safety, not progress. After `after` of virtual time the world calms down, every
//! random fault class stops, scheduled partitions and link stalls heal, no scheduled crash is
//! carried out and every crashed host restarts; then every client must finish within
//! `within`, or the run fails as a liveness failure naming each blocked task and what it waits
//! on. It catches a retry loop that gave up, a backoff that grew without a cap, or a waiter
//! that missed its wakeup: bugs that never fail an assertion, only never finish.

use std::time::Duration;

/// When the world calms down, and how long the clients then have to finish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Liveness {
    /// Virtual time, from the start of the run, at which faults stop.
    pub after: Duration,
    /// How long after that every client must have finished.
    pub within: Duration,
}

/// Traces the calm (`doppel::liveness calm`): faults stop, partitions heal, `restarted`
/// crashed hosts come back.
pub(crate) fn trace_calm(restarted: usize) {
    use doppel_core::driver::{on, to_sink, FieldValue, RuntimeEvent};
    if !on() {
        return;
    }
    let fields = [("restarted", FieldValue::U(restarted as u64))];
    let ev = RuntimeEvent {
        target: "doppel::liveness",
        name: "calm",
        fields: &fields,
    };
    if !to_sink(&ev) {
        tracing::event!(name: "calm", target: "doppel::liveness", tracing::Level::TRACE, restarted);
    }
}
