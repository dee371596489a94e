//! What a run returns: a report, or an error that carries the report and says what went wrong.

use std::fmt;
use std::time::Duration;

use crate::faults::{FaultCounts, FaultPlan, Fired};

/// The outcome of one client's main.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It returned `Ok(())`.
    Ok,
    /// It returned an error (its text).
    Failed(String),
    /// It had not finished when the run ended.
    Unfinished,
}

/// What a run did.
///
/// ```
/// use doppel_sim::{Outcome, SimBuilder};
/// let report = SimBuilder::new(5)
///     .host("server", "10.0.0.1", || async { Ok(()) })
///     .client("client", "10.0.0.2", || async { Ok(()) })
///     .run()
///     .unwrap();
/// assert_eq!(report.clients, [("client".to_string(), Outcome::Ok)]);
/// assert_eq!(report.faults.total(), 0);
/// println!("{report}"); // virtual time, steps, events, hash, faults
/// ```
#[derive(Clone, Debug)]
pub struct Report {
    /// The seed the run was built from: with the plan, all a replay needs.
    pub seed: u64,
    /// The fault plan as resolved for this seed (swarm mode picks concrete probabilities).
    pub plan: FaultPlan,
    /// Virtual time from the start to the end of the run.
    pub elapsed: Duration,
    /// Reactor turns taken.
    pub steps: u64,
    /// Network events delivered.
    pub events: u64,
    /// Injections per fault class.
    pub faults: FaultCounts,
    /// Every injected fault, in order (what `doppel shrink` narrows).
    pub fired: Vec<Fired>,
    /// A hash of every decision and outcome: equal hashes, equal runs.
    pub hash: u64,
    /// Each client's name and outcome.
    pub clients: Vec<(String, Outcome)>,
    /// What the user's assertions (`always!`, `sometimes!`, `reachable!`) did.
    pub coverage: crate::coverage::Coverage,
    /// The run's trace, when the builder asked for one (`SimBuilder::trace`).
    pub trace: Option<doppel_trace::Trace>,
}

impl Report {
    /// The report without its trace (for comparing runs).
    pub fn without_trace(&self) -> Report {
        Report {
            trace: None,
            ..self.clone()
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {} ran {:?} of virtual time in {} steps, {} network events, hash {:016x}; faults: {}",
            self.seed, self.elapsed, self.steps, self.events, self.hash, self.faults
        )
    }
}

/// Why a run failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// A client's main returned an error.
    Client {
        /// The client host whose main failed: what shrinking keeps the same.
        host: String,
        /// The error its main returned, as text.
        error: String,
    },
    /// Nothing could run, nothing was pending, and the clients had not finished: a stall. Each
    /// line names a blocked task and what it waits for.
    Stall {
        /// Blocked tasks, per host.
        blocked: Vec<String>,
    },
    /// The clients had not finished when virtual time reached the limit.
    TimeLimit {
        /// The virtual time the run was given (`SimBuilder::time_limit`).
        limit: Duration,
    },
    /// The run took `steps` steps in a row without going idle (virtual time stood still at
    /// `at`: some task was ready at every turn), so it would never have ended. Each line of
    /// `busy` names a task, a call it kept making and its result, with a count over the last
    /// 1,000 steps (`server: t2 read -> EINTR x997`); empty if the tasks made no socket calls.
    Livelock {
        /// Steps taken without going idle.
        steps: u64,
        /// The virtual instant time stood still at.
        at: Duration,
        /// What the busy tasks called, busiest first.
        busy: Vec<String>,
    },
    /// The liveness phase began at `after` (faults stopped, partitions healed, crashed hosts
    /// restarted) and the clients had not finished `within` later. Each line of `blocked`
    /// names a task and what it waits on, or a reactor's next timer.
    Liveness {
        /// When faults stopped.
        after: Duration,
        /// How long the clients had from then.
        within: Duration,
        /// Blocked tasks and pending timers, per host.
        blocked: Vec<String>,
    },
    /// An `always!` assertion's condition was false.
    Assertion {
        /// The name it was given: what shrinking keeps the same.
        name: String,
        /// Where it is (`FILE:LINE:COLUMN`).
        at: String,
        /// The host it failed on.
        host: String,
    },
}

impl FailureKind {
    /// The failure as one line (a stall names its first blocked task and how many there are).
    ///
    /// ```
    /// use doppel_sim::FailureKind;
    /// let k = FailureKind::Client { host: "c0".into(), error: "wrong echo".into() };
    /// assert_eq!(k.line(), "client c0 failed: wrong echo");
    /// ```
    pub fn line(&self) -> String {
        match self {
            FailureKind::Client { host, error } => {
                format!("client {host} failed: {}", one_line(error))
            }
            FailureKind::Stall { blocked } => match blocked.first() {
                Some(b) => format!(
                    "stall: nothing can run and nothing is pending ({b}; {} blocked)",
                    blocked.len()
                ),
                None => "stall: nothing can run and nothing is pending".into(),
            },
            FailureKind::TimeLimit { limit } => {
                format!("the clients had not finished at the time limit of {limit:?}")
            }
            FailureKind::Livelock { steps, at, busy } => {
                let what = match busy.first() {
                    Some(b) => format!("{b}; {} busy", busy.len()),
                    None => "no socket calls: a task was ready at every turn".into(),
                };
                format!("livelock: {steps} steps without virtual time moving, at {at:?} ({what})")
            }
            FailureKind::Assertion { name, at, host } => {
                format!("always!({:?}) failed on {host} at {at}", one_line(name))
            }
            FailureKind::Liveness {
                after,
                within,
                blocked,
            } => {
                let first = blocked
                    .first()
                    .map_or_else(String::new, |b| format!(" ({b}; {} lines)", blocked.len()));
                format!(
                    "liveness: faults stopped at {after:?} and the clients had not finished {within:?} later{first}"
                )
            }
        }
    }

    /// Whether `other` is the same kind of failure, which is what shrinking keeps: an error of
    /// the same client (its text may differ: fewer faults, another round), a stall, or the time
    /// limit.
    pub fn same_kind(&self, other: &FailureKind) -> bool {
        match (self, other) {
            (FailureKind::Client { host: a, .. }, FailureKind::Client { host: b, .. }) => a == b,
            (FailureKind::Assertion { name: a, .. }, FailureKind::Assertion { name: b, .. }) => {
                a == b
            }
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

/// A failed run: what went wrong, and the report up to that point.
#[derive(Clone, Debug)]
pub struct Failure {
    /// What went wrong.
    pub kind: FailureKind,
    /// The run so far.
    pub report: Report,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FailureKind::Client { host, error } => write!(f, "client {host} failed: {error}")?,
            FailureKind::Stall { blocked } => {
                write!(f, "stall: nothing can run and nothing is pending")?;
                for b in blocked {
                    write!(f, "\n  {b}")?;
                }
            }
            FailureKind::TimeLimit { limit } => write!(
                f,
                "the clients had not finished at the time limit of {limit:?}"
            )?,
            FailureKind::Livelock { steps, at, busy } => {
                write!(
                    f,
                    "livelock: {steps} steps without virtual time moving, at {at:?}"
                )?;
                for b in busy {
                    write!(f, "\n  {b}")?;
                }
            }
            FailureKind::Assertion { .. } => f.write_str(&self.kind.line())?,
            FailureKind::Liveness {
                after,
                within,
                blocked,
            } => {
                write!(
                    f,
                    "liveness: faults stopped at {after:?} and the clients had not finished {within:?} later"
                )?;
                for b in blocked {
                    write!(f, "\n  {b}")?;
                }
            }
        }
        write!(f, "\n  ({})", self.report)
    }
}

impl std::error::Error for Failure {}

/// A bad simulation setup, found before anything runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Either kind of error `SimBuilder::run` can return.
#[derive(Clone, Debug)]
pub enum SimError {
    /// The setup was invalid; nothing ran.
    Config(ConfigError),
    /// The run failed.
    Failed(Box<Failure>),
    /// Two runs of one seed differed: something outside the seed leaked into the run (a wall
    /// clock, a thread, OS randomness, hash-map order).
    Nondeterministic(Box<Nondeterminism>),
}

/// Two runs of one seed that differed, and where.
#[derive(Clone, Debug)]
pub struct Nondeterminism {
    /// The seed whose two runs differed.
    pub seed: u64,
    /// The first differing event (`None` if the traces agree although the runs' hashes or
    /// outcomes differ).
    pub divergence: Option<doppel_trace::Divergence>,
    /// The two runs' hashes.
    pub hashes: (u64, u64),
}

impl fmt::Display for Nondeterminism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {} is not deterministic: two runs gave hashes {:016x} and {:016x}",
            self.seed, self.hashes.0, self.hashes.1
        )?;
        match &self.divergence {
            Some(d) => write!(f, "; {d}"),
            None => write!(
                f,
                "; their traces agree, so the difference is in something untraced"
            ),
        }
    }
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Config(e) => write!(f, "bad simulation setup: {e}"),
            SimError::Failed(e) => e.fmt(f),
            SimError::Nondeterministic(n) => n.fmt(f),
        }
    }
}

impl std::error::Error for SimError {}

impl From<ConfigError> for SimError {
    fn from(e: ConfigError) -> Self {
        SimError::Config(e)
    }
}

impl From<Box<Failure>> for SimError {
    fn from(e: Box<Failure>) -> Self {
        SimError::Failed(e)
    }
}

/// `text` fit for one line of a summary: control characters (a newline, a carriage return, a
/// tab, an escape) are written as Rust escapes (`\n`, `\u{1b}`), everything else as it is.
///
/// ```
/// assert_eq!(doppel_sim::one_line("bad\nname"), "bad\\nname");
/// assert_eq!(doppel_sim::one_line("plain ok"), "plain ok");
/// ```
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
