//! `SignalStorm`: drive `EINTR` into a real reactor thread, as Go's `testprogcgo/eintr.go` does.
//!
//! Installs a `SIGUSR1` handler *without* `SA_RESTART`, then a thread sends `SIGUSR1` to the
//! reactor's thread at a fixed rate. Every blocking call on that thread (`epoll_wait` above all,
//! which is never restarted whatever the flags) returns `EINTR` when a signal lands in it. A
//! server that survives a storm with every byte intact handles F1 and F2 for real.

use std::io;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Signals handled by the process since it started.
static HANDLED: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_signal(_: libc::c_int) {
    // Only an atomic add: async-signal-safe.
    HANDLED.fetch_add(1, Ordering::Relaxed);
}

/// The target thread, sendable to the storm thread.
struct Target(libc::pthread_t);

// SAFETY: a pthread_t is an opaque handle; sending it to another thread only lets that thread
// name the target in pthread_kill. `SignalStorm::run` stops and joins the storm thread before it
// returns (or unwinds), on the target thread itself, so the target outlives every pthread_kill.
// The joining guard is private: no caller can leak it with `mem::forget`.
unsafe impl Send for Target {}

/// What a storm did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StormReport {
    /// Signals sent.
    pub sent: u64,
    /// Signals handled process-wide while the storm ran (standard signals do not queue, so
    /// this can be lower than `sent`).
    pub handled: u64,
    /// How long the storm ran.
    pub elapsed: Duration,
}

impl StormReport {
    /// Signals sent per second.
    pub fn rate_hz(&self) -> f64 {
        self.sent as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A storm of `SIGUSR1` at one thread, for as long as a closure runs: see [`SignalStorm::run`].
#[derive(Debug)]
pub struct SignalStorm {
    /// Tells the storm thread to finish.
    stop: Arc<AtomicBool>,
    /// The storm thread; returns its report.
    thread: Option<std::thread::JoinHandle<StormReport>>,
    /// `!Send`: the storm ends on the thread it targets.
    _not_send: PhantomData<*const ()>,
}

/// Installs the `SIGUSR1` handler without `SA_RESTART`.
fn install_handler() -> io::Result<()> {
    // SAFETY: sigaction is plain old data; all-zero is valid and the fields that matter are set.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    sa.sa_flags = 0;
    // SAFETY: `sa.sa_mask` is a live sigset_t.
    syscall!(sigemptyset(&mut sa.sa_mask))?;
    // SAFETY: installs a handler that only does an atomic add; the old action is not needed.
    syscall!(sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut())).map(drop)
}

/// Linux: make the storm thread's sleeps precise (the default 50 µs timer slack would halve
/// the rate).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn tighten_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes a plain integer and affects only the calling thread.
    let _ = unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong) };
}

/// Other systems have no per-thread timer slack to tighten.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn tighten_timer_slack() {}

impl SignalStorm {
    /// Runs `body` on the calling thread while another thread sends it `SIGUSR1` every `period`
    /// (10 kHz is 100 µs; late sends catch up, so the average rate holds when a sleep
    /// overshoots). The handler is installed without `SA_RESTART`, so blocking calls on this
    /// thread return `EINTR`. The storm is stopped and joined before `run` returns, even if
    /// `body` panics.
    pub fn run<R>(period: Duration, body: impl FnOnce() -> R) -> io::Result<(R, StormReport)> {
        install_handler()?;
        // SAFETY: pthread_self has no preconditions.
        let target = Target(unsafe { libc::pthread_self() });
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        // The storm thread is real-backend test machinery; the simulator never runs it.
        #[allow(clippy::disallowed_methods)]
        let thread = std::thread::Builder::new()
            .name("doppel-signal-storm".into())
            .spawn(move || storm(target, period, &flag))?;
        let mut storm = SignalStorm {
            stop,
            thread: Some(thread),
            _not_send: PhantomData,
        };
        let out = body();
        let report = storm.finish();
        Ok((out, report))
    }

    fn finish(&mut self) -> StormReport {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(report)) => report,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => StormReport {
                sent: 0,
                handled: 0,
                elapsed: Duration::ZERO,
            },
        }
    }
}

impl Drop for SignalStorm {
    /// Joins the storm thread if `body` unwound.
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.stop.store(true, Ordering::Relaxed);
            let _ = t.join();
        }
    }
}

/// The storm thread's loop.
#[allow(clippy::disallowed_methods)] // Wall-clock pacing, on a real-backend test thread only.
fn storm(target: Target, period: Duration, stop: &AtomicBool) -> StormReport {
    tighten_timer_slack();
    let handled_before = HANDLED.load(Ordering::Relaxed);
    let start = std::time::Instant::now();
    let mut next = start;
    let mut sent = 0u64;
    while !stop.load(Ordering::Relaxed) {
        // SAFETY: the target thread is alive until the storm is stopped (see `Target`).
        let rc = unsafe { libc::pthread_kill(target.0, libc::SIGUSR1) };
        assert_eq!(
            rc, 0,
            "doppel: pthread_kill(SIGUSR1) failed with errno {rc}"
        );
        sent += 1;
        next += period;
        let now = std::time::Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
    }
    StormReport {
        sent,
        handled: HANDLED.load(Ordering::Relaxed) - handled_before,
        elapsed: start.elapsed(),
    }
}
