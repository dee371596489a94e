//! Livelock detection: a run whose virtual time stops is a finding, not a hang.
//!
//! Virtual time moves only when every reactor is idle and the simulator jumps to the next
//! network event or timer. A task that is always ready (it retries an `EINTR` forever, or spins
//! on `yield_now` waiting for something that never comes) keeps its reactor busy, so the clock
//! never moves, `time_limit` never fires, and the run would go on for ever. The simulator counts
//! the steps since it last went idle, a step being a reactor turn or a failed socket call (a
//! retry loop that meets `EINTR` at every call never ends its turn, so turns alone would not
//! see it); past [`DEFAULT_LIVELOCK_STEPS`] (or `SimBuilder::livelock_steps`) the run ends as a
//! `livelock` failure. A bound reached inside a call trips the counter: from then on no fault
//! fires, so the retry loop's next call goes through and the turn ends, and the driver ends the
//! run there (nothing unwinds through the runtime). For the last [`WINDOW`] steps before the bound it records which task made which
//! call with what result, so the report names the tasks that kept running and what they
//! called; recording is off the rest of the time, so a healthy run pays one comparison a step.

use std::collections::BTreeMap;
use std::io;

/// Steps in a row without the simulator going idle, after which a run is a livelock.
pub const DEFAULT_LIVELOCK_STEPS: u64 = 1_000_000;

/// How many steps before the bound the calls are recorded.
pub(crate) const WINDOW: u64 = 1_000;

/// Distinct (task, call, result) lines kept at most; more are counted together.
const MAX_LINES: usize = 64;

/// Steps since the simulator last went idle, and what the busy tasks called in the last
/// [`WINDOW`] of them.
#[derive(Debug, Default)]
pub(crate) struct Spin {
    /// Steps (turns and socket calls) since the simulator last went idle.
    pub(crate) busy: u64,
    /// The livelock bound.
    pub(crate) bound: u64,
    /// Recording now.
    on: bool,
    /// The bound was reached: no fault fires any more, and the run ends after this turn.
    pub(crate) tripped: bool,
    /// (reactor, task, call, result) to count.
    calls: BTreeMap<(usize, String, &'static str, &'static str), u64>,
    /// Calls beyond [`MAX_LINES`] distinct ones.
    others: u64,
}

impl Spin {
    /// A spin counter that calls `bound` steps without going idle a livelock.
    pub(crate) fn new(bound: u64) -> Spin {
        Spin {
            bound,
            ..Spin::default()
        }
    }

    /// Counts one step; true once the bound is reached (and from then on).
    #[inline]
    pub(crate) fn tick(&mut self) -> bool {
        if self.tripped {
            return true;
        }
        self.busy += 1;
        if self.busy + WINDOW == self.bound {
            self.on = true;
        }
        self.tripped = self.busy >= self.bound;
        self.tripped
    }

    /// Counts one failed socket call on `reactor`, and notes any call's result while
    /// recording (see the module docs).
    #[inline]
    pub(crate) fn note<T>(&mut self, reactor: usize, call: &'static str, r: &io::Result<T>) {
        // A loop inside one call is a retry loop, and it retries errors only: a call that
        // succeeds ends it, so only errors count (successes are noted while recording).
        if r.is_ok() && !self.on {
            return;
        }
        let recording = self.on && !self.tripped;
        self.tick();
        if recording {
            self.record(reactor, call, r);
        }
    }

    /// Adds one call to the record.
    #[cold]
    fn record<T>(&mut self, reactor: usize, call: &'static str, r: &io::Result<T>) {
        let task = doppel_core::current_task().map_or_else(|| "-".to_string(), |t| t.to_string());
        let result = match r {
            Ok(_) => "ok",
            Err(e) => e
                .raw_os_error()
                .and_then(|n| doppel_trace::errno::name(n.into()))
                .unwrap_or("error"),
        };
        let key = (reactor, task, call, result);
        if self.calls.len() >= MAX_LINES && !self.calls.contains_key(&key) {
            self.others += 1;
            return;
        }
        *self.calls.entry(key).or_default() += 1;
    }

    /// Forgets everything: the simulator went idle.
    pub(crate) fn reset(&mut self) {
        self.busy = 0;
        self.tripped = false;
        self.on = false;
        self.calls.clear();
        self.others = 0;
    }

    /// One line per (task, call, result), the busiest first: `server: t2 read -> EINTR x997`,
    /// with `host` naming each reactor.
    pub(crate) fn lines(&self, host: impl Fn(usize) -> String) -> Vec<String> {
        let mut v: Vec<(u64, String)> = self
            .calls
            .iter()
            .map(|((r, task, call, result), n)| {
                (*n, format!("{}: {task} {call} -> {result} x{n}", host(*r)))
            })
            .collect();
        v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let mut lines: Vec<String> = v.into_iter().map(|(_, l)| l).collect();
        if self.others > 0 {
            lines.push(format!("{} more calls", self.others));
        }
        lines
    }
}
