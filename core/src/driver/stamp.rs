//! How a runtime labels its events, and the stamp each event carries: the vocabulary a trace
//! collector reads (the functions that produce stamps are [`super::stamp`] and
//! [`super::with_current_stamp`]).

use std::sync::Arc;

use super::instant::Instant;
use super::task_id::TaskId;

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

/// A stamp borrowed for one event: virtual time (if shown), host label, reactor number, task.
pub type StampRef<'a> = (Option<Instant>, &'a Arc<str>, u32, Option<TaskId>);
