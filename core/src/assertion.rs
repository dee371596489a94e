//! Coverage assertions in the user's own code, with the Antithesis SDK's semantics:
//! [`always!`](crate::always!) must hold every time it runs (and run at least once),
//! [`sometimes!`](crate::sometimes!) must hold at least once over a whole sweep, and
//! [`reachable!`](crate::reachable!) must run at least once over a sweep. A green sweep says
//! nothing about paths that never ran; these say which ones did.
//!
//! Every call site is laid down at compile time in one [`catalog`] (a linker section, through
//! `linkme`), so a sweep knows of the assertions that never ran at all, not only of those that
//! ran and failed. At run time a site asks the backend
//! ([`Scheduler::assertion`](crate::driver::Scheduler::assertion)); only the simulator listens,
//! and in a process without it an assertion costs its condition and one relaxed load.

#[doc(hidden)]
pub use linkme as __linkme;

/// Which promise an assertion makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AssertKind {
    /// True every time it runs, and it runs at least once ([`always!`](crate::always!)).
    Always,
    /// True at least once over a sweep ([`sometimes!`](crate::sometimes!)).
    Sometimes,
    /// Runs at least once over a sweep ([`reachable!`](crate::reachable!)).
    Reachable,
}

impl AssertKind {
    /// The macro's name, as reports print it (`sometimes`).
    pub fn name(self) -> &'static str {
        match self {
            AssertKind::Always => "always",
            AssertKind::Sometimes => "sometimes",
            AssertKind::Reachable => "reachable",
        }
    }
}

/// One assertion call site, as the macros lay it down in the [`catalog`]: what it promises,
/// its name (the key reports group by) and where it is.
#[derive(Debug)]
pub struct AssertSite {
    /// What it promises.
    pub kind: AssertKind,
    /// The name the user gave it: sites of one kind and name count as one assertion.
    pub name: &'static str,
    /// The source file (`file!()`).
    pub file: &'static str,
    /// The line (`line!()`).
    pub line: u32,
    /// The column (`column!()`).
    pub column: u32,
    /// The module it is in (`module_path!()`): what a sweep's scope filters on.
    pub module: &'static str,
}

impl AssertSite {
    /// `FILE:LINE:COLUMN`, as reports print where an assertion is.
    pub fn at(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Every assertion call site linked into this binary.
#[linkme::distributed_slice]
#[linkme(crate = crate::assertion::__linkme)]
pub static CATALOG: [AssertSite] = [..];

/// Every assertion call site linked into this binary, in link order: those a sweep must see
/// run (sort them for a stable order).
pub fn catalog() -> &'static [AssertSite] {
    &CATALOG
}

/// Records one evaluation of the assertion at `site` (`held`: its condition): what the macros
/// expand to. Nothing happens where no backend answers.
#[doc(hidden)]
#[inline]
pub fn record(site: &'static AssertSite, held: bool) {
    if crate::buggify::answered() {
        record_asked(site, held);
    }
}

/// [`record`] in a process with a backend that answers: tells the current reactor's.
#[inline(never)]
fn record_asked(site: &'static AssertSite, held: bool) {
    if let Some(r) = crate::reactor::current() {
        r.with_sched(|s| s.assertion(site, held));
    }
}

/// Lays down an assertion's site in the catalog and records one evaluation of it.
#[doc(hidden)]
#[macro_export]
macro_rules! __assertion {
    ($kind:ident, $held:expr, $name:expr) => {{
        #[$crate::assertion::__linkme::distributed_slice($crate::assertion::CATALOG)]
        #[linkme(crate = $crate::assertion::__linkme)]
        static SITE: $crate::assertion::AssertSite = $crate::assertion::AssertSite {
            kind: $crate::assertion::AssertKind::$kind,
            name: $name,
            file: file!(),
            line: line!(),
            column: column!(),
            module: module_path!(),
        };
        $crate::assertion::record(&SITE, $held);
    }};
}

/// Promises that `cond` holds every time this line runs, and that it runs in some seed of a
/// sweep. In the simulator a false condition fails the run (`assertion always!("name") failed
/// at FILE:LINE`), shrunk and replayed like any failure; a sweep where it never ran reports it.
/// Elsewhere it costs `cond` and one load, and checks nothing (use `assert!` for that).
///
/// ```
/// let queue_len = 3;
/// doppel_core::always!(queue_len <= 64, "the queue stays bounded");
/// ```
#[macro_export]
macro_rules! always {
    ($cond:expr, $name:expr $(,)?) => {
        $crate::__assertion!(Always, $cond, $name)
    };
}

/// Promises that `cond` holds at least once over a sweep: an interesting case (a retry taken,
/// a reply split across reads, a reset mid-request) that the sweep must show it reached. A
/// sweep reports every `sometimes!` that never held; `--require-coverage` makes that a failure.
///
/// ```
/// let retried = false;
/// doppel_core::sometimes!(retried, "a client retried after a timeout");
/// ```
#[macro_export]
macro_rules! sometimes {
    ($cond:expr, $name:expr $(,)?) => {
        $crate::__assertion!(Sometimes, $cond, $name)
    };
}

/// Promises that this line runs at least once over a sweep. A sweep reports every
/// `reachable!` that never ran; `--require-coverage` makes that a failure.
///
/// ```
/// fn on_failover() {
///     doppel_core::reachable!("the standby took over");
/// }
/// ```
#[macro_export]
macro_rules! reachable {
    ($name:expr $(,)?) => {
        $crate::__assertion!(Reachable, true, $name)
    };
}
