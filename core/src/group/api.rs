//! `doppel::reactors`: what server code asks of the group it runs in. Outside a group (the
//! plain single-reactor runtime) there is one reactor, index 0, and no workers.

use std::future::Future;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::inbox::Remote;
use super::Group;
use crate::reactor::with_current;
use crate::sync::oneshot;

/// How many reactors the current runtime has (1 outside a group).
///
/// # Panics
/// Outside a doppel runtime.
pub fn count() -> usize {
    with_current(|r| r.members.group().map_or(1, |(g, _)| g.len()))
}

/// The current reactor's index in its group (0: the main reactor, or a lone reactor).
///
/// # Panics
/// Outside a doppel runtime.
pub fn index() -> usize {
    with_current(|r| r.members.group().map_or(0, |(_, i)| i))
}

/// The current reactor's group, if it belongs to one.
///
/// # Panics
/// Outside a doppel runtime.
pub fn group() -> Option<Arc<Group>> {
    with_current(|r| r.members.group().map(|(g, _)| g))
}

/// Makes the current reactor number `index` of `group` (what a backend sends each reactor
/// thread it starts).
///
/// # Panics
/// Outside a doppel runtime.
pub fn join(group: std::sync::Arc<Group>, index: usize) {
    with_current(|r| r.members.join(group, index));
}

/// The remote of reactor `i` of the current runtime.
fn remote(i: usize) -> io::Result<Remote> {
    with_current(|r| match r.members.group() {
        Some((g, _)) => g.remote(i).cloned().ok_or_else(|| no_reactor(i, g.len())),
        None if i == 0 => Ok(r.members.remote()),
        None => Err(no_reactor(i, 1)),
    })
}

fn no_reactor(i: usize, n: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("no reactor {i}: this runtime has {n} (0 to {})", n - 1),
    )
}

/// The output of a task spawned on another reactor; `Err` if that task was cancelled or its
/// reactor shut down first.
#[derive(Debug)]
pub struct RemoteHandle<T> {
    /// Where the output arrives.
    rx: oneshot::Receiver<T>,
}

impl<T> Future for RemoteHandle<T> {
    type Output = Result<T, oneshot::Canceled>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx).poll(cx)
    }
}

/// Runs `make()` on reactor `reactor` and spawns the future it returns there. `make` crosses
/// threads (so it is `Send`); the future it makes never does, so it may hold `Rc`s and sockets
/// of that reactor. Dropping the handle leaves the task running.
pub fn spawn_on<F, Fut>(reactor: usize, make: F) -> io::Result<RemoteHandle<Fut::Output>>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future + 'static,
    Fut::Output: Send + 'static,
{
    let target = remote(reactor)?;
    let (tx, rx) = oneshot::channel();
    let job = Box::new(move || {
        drop(crate::current::spawn(async move {
            let _ = tx.send(make().await);
        }));
    });
    target
        .send(job)
        .map_err(|_| io::Error::other(format!("reactor {reactor} has shut down")))?;
    Ok(RemoteHandle { rx })
}

/// Why CPU-bound work did not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkerError {
    /// The runtime has no worker reactors (`workers(0)`, or a plain runtime).
    NoWorkers,
    /// The closure panicked; the message, if it had one. The worker goes on serving.
    Panicked(String),
    /// The worker shut down before the closure ran.
    Gone,
}

impl std::fmt::Display for WorkerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkerError::NoWorkers => {
                f.write_str("no worker reactors: build the runtime with workers(n), n > 0")
            }
            WorkerError::Panicked(m) => write!(f, "the worker closure panicked: {m}"),
            WorkerError::Gone => f.write_str("the worker shut down before the closure ran"),
        }
    }
}

impl std::error::Error for WorkerError {}

/// Runs the CPU-bound `work` on one of the group's worker reactors and returns its result to
/// the calling task. Waits first if `worker_queue` closures are already queued or running, so
/// a flood of work pushes back on whoever submits it.
pub async fn run_blocking<T, W>(work: W) -> Result<T, WorkerError>
where
    W: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let group = group().ok_or(WorkerError::NoWorkers)?;
    if group.config().workers == 0 {
        return Err(WorkerError::NoWorkers);
    }
    let permit = group.worker_slots.acquire().await;
    let w = group.next_worker().ok_or(WorkerError::NoWorkers)?;
    let target = group.remote(w).cloned().ok_or(WorkerError::Gone)?;
    let (tx, rx) = oneshot::channel::<Result<T, String>>();
    let job = Box::new(move || {
        let out = catch_unwind(AssertUnwindSafe(work)).map_err(|p| panic_message(&*p));
        let _ = tx.send(out);
        drop(permit);
    });
    target.send(job).map_err(|_| WorkerError::Gone)?;
    match rx.await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(m)) => Err(WorkerError::Panicked(m)),
        Err(_) => Err(WorkerError::Gone),
    }
}

/// The text of a panic payload.
fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// What the current reactor holds now: how much memory its connections can be pinning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Occupancy {
    /// Live tasks.
    pub tasks: usize,
    /// Registered descriptors (sockets and listeners).
    pub descriptors: usize,
    /// Pending timers (sleeps and deadlines).
    pub timers: usize,
}

impl std::ops::Add for Occupancy {
    type Output = Occupancy;
    fn add(self, o: Occupancy) -> Occupancy {
        Occupancy {
            tasks: self.tasks + o.tasks,
            descriptors: self.descriptors + o.descriptors,
            timers: self.timers + o.timers,
        }
    }
}

/// The current reactor's [`Occupancy`] (ask another reactor's with [`spawn_on`]).
///
/// # Panics
/// Outside a doppel runtime.
pub fn occupancy() -> Occupancy {
    with_current(|r| Occupancy {
        tasks: r.exec.tasks.borrow().len(),
        descriptors: r.io.fds.borrow().len(),
        timers: r.timers.borrow().len(),
    })
}
