//! The multi-reactor runtime on the real backend: the calling thread runs the main reactor
//! (`block_on`), and each sub-reactor and worker is an OS thread with its own poller (epoll or
//! kqueue) running its reactor until the runtime is dropped. Reactors reach each other only
//! through their inboxes (a mutex and one eventfd write per job), so a connection handed to a
//! sub-reactor costs nothing per round trip afterwards. Sub-reactors spin briefly before they
//! block (`GroupConfig::spin_polls`, `RealPoller::spinning`); the main reactor and the workers
//! never do.

use doppel_core::driver::Drive;
use std::future::Future;
use std::io;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use doppel_core::group::{Group, GroupConfig, Remote};
use doppel_core::sync::oneshot;
use doppel_core::Runtime;

use crate::poller::RealPoller;

/// A group of real reactors: see the module docs.
pub struct MultiRuntime {
    /// The main reactor, run by `block_on` on the caller's thread (an `Option` only so that
    /// `drop` can shut it down before it stops the others).
    main: Option<Runtime>,
    /// The group every reactor belongs to.
    group: Arc<Group>,
    /// Dropping these stops the other reactors.
    stops: Vec<oneshot::Sender<()>>,
    /// Their threads.
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for MultiRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiRuntime")
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

/// A runtime labelled as reactor `index` of the real backend, its poller spinning up to
/// `spin_polls` polls before it blocks.
fn reactor(index: usize, spin_polls: u32) -> io::Result<Runtime> {
    let label = doppel_core::driver::Label {
        host: Arc::from("real"),
        reactor: u32::try_from(index).unwrap_or(u32::MAX),
        time: false,
    };
    Ok(doppel_core::driver::runtime(
        Box::new(RealPoller::spinning(spin_polls)?),
        label,
    ))
}

/// What a reactor thread reports once its runtime exists.
type Started = io::Result<(usize, Remote, oneshot::Sender<()>)>;

/// Starts reactor thread `index` (spinning up to `spin_polls` before it blocks); it reports its
/// remote on `ready`, then runs until stopped.
fn start(
    index: usize,
    spin_polls: u32,
    name: String,
    ready: mpsc::Sender<Started>,
) -> io::Result<JoinHandle<()>> {
    #[allow(clippy::disallowed_methods)] // The real backend's reactors are OS threads by design.
    std::thread::Builder::new().name(name).spawn(move || {
        let rt = match reactor(index, spin_polls) {
            Ok(rt) => rt,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let (stop, stopped) = oneshot::channel::<()>();
        if ready.send(Ok((index, rt.remote(), stop))).is_err() {
            return;
        }
        drop(ready);
        serve_until_stopped(&rt, stopped);
    })
}

/// Runs a reactor thread's runtime until it is told to stop. A task that panics is gone (its
/// future dropped on the way out, its sockets closed), but the reactor goes on serving its
/// other connections and jobs: one bad request must not take down a sub-reactor and leave the
/// main reactor handing connections to a dead inbox. The panic is counted in the group's
/// stats (and printed by the panic hook as usual).
fn serve_until_stopped(rt: &Runtime, mut stopped: oneshot::Receiver<()>) {
    loop {
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async {
                let _ = (&mut stopped).await;
            })
        }));
        match run {
            Ok(()) => return,
            Err(_) => rt.enter(|| {
                if let Some(g) = doppel_core::reactors::group() {
                    g.note_panic();
                }
            }),
        }
    }
}

impl MultiRuntime {
    /// Builds the group `config` describes; an invalid shape (`sub_reactors(0)`, ...) is an
    /// `InvalidInput` error naming the knob.
    pub fn new(config: GroupConfig) -> io::Result<MultiRuntime> {
        config.validate()?;
        let main = reactor(0, 0)?;
        let (ready, started) = mpsc::channel::<Started>();
        let mut threads = Vec::new();
        for i in 1..config.reactors() {
            let (role, spin) = if i <= config.sub_reactors {
                ("sub", config.spin_polls)
            } else {
                ("worker", 0)
            };
            threads.push(start(i, spin, format!("doppel-{role}-{i}"), ready.clone())?);
        }
        drop(ready);
        let mut remotes = vec![None; config.reactors()];
        remotes[0] = Some(main.remote());
        let mut stops = Vec::new();
        for s in started {
            let (i, remote, stop) = s?;
            remotes[i] = Some(remote);
            stops.push(stop);
        }
        let remotes: Option<Vec<Remote>> = remotes.into_iter().collect();
        let remotes =
            remotes.ok_or_else(|| io::Error::other("a reactor thread died while starting"))?;
        let group = Group::new(config, remotes)?;
        main.join_group(group.clone(), 0);
        for i in 1..group.len() {
            let g = group.clone();
            let join = Box::new(move || doppel_core::reactors::join(g, i));
            if let Some(r) = group.remote(i) {
                r.send(join)
                    .map_err(|_| io::Error::other(format!("reactor {i} is gone")))?;
            }
        }
        Ok(MultiRuntime {
            main: Some(main),
            group,
            stops,
            threads,
        })
    }

    /// Runs `fut` on the main reactor to completion (the sub-reactors and workers run on their
    /// own threads meanwhile).
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.main().block_on(fut)
    }

    /// The main reactor's runtime.
    pub fn main(&self) -> &Runtime {
        self.main
            .as_ref()
            .expect("the main runtime lives until drop")
    }

    /// The group: its shape, its reactors' remotes, its server's counters.
    pub fn group(&self) -> &Arc<Group> {
        &self.group
    }
}

impl Drop for MultiRuntime {
    /// Shuts the main reactor down first (its tasks dropped, its listener closed), then stops
    /// every other reactor (their tasks dropped, closing their sockets) and waits for their
    /// threads: nothing on another thread can be left waiting on a main-reactor task.
    fn drop(&mut self) {
        drop(self.main.take());
        for s in self.stops.drain(..) {
            let _ = s.send(());
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
