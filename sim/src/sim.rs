//! `Sim`: the world's driver. It owns each host's runtime and repeats one rule: if some
//! reactor can make progress, pick one (seeded) and `turn()` it; otherwise jump the clock to the
//! next event (a segment, a timer) and deliver it. Idle virtual time costs nothing.

use doppel_core::driver::Drive;
use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use doppel_core::time::Instant;
use doppel_core::{JoinHandle, Runtime};

use crate::builder::{Main, Role, SimBuilder};
use crate::net::queue::WorldEvent;
use crate::poller::{Pokes, SimPoller};
use crate::report::{ConfigError, Failure, FailureKind, Outcome, Report};
use crate::stepping::Stepping;
use crate::world::{HostRequest, World};

/// A host's runtime and main.
struct HostRt {
    name: String,
    /// Its name as its trace label.
    label: std::sync::Arc<str>,
    /// Server or client.
    role: Role,
    /// Its main, to run again after a restart.
    main: Main,
    /// Its runtimes, one per reactor (simulated thread); empty while crashed.
    rts: Vec<Runtime>,
    /// The shape of its group of reactors, if it runs one.
    group: Option<doppel_core::group::GroupConfig>,
    /// Its reactors' indexes in the world.
    reactors: std::ops::Range<usize>,
    /// Its running main.
    handle: Option<JoinHandle<io::Result<()>>>,
    /// How its main ended, once it has.
    outcome: Option<Outcome>,
}

impl HostRt {
    /// How reports name the host's reactor `k`: the host, then `host#k` for its others.
    fn reactor_label(&self, k: usize) -> String {
        match k {
            0 => self.name.clone(),
            k => format!("{}#{k}", self.name),
        }
    }
}

/// A built world, ready to run. Make one with [`SimBuilder`].
pub struct Sim {
    /// Everything simulated.
    world: Rc<RefCell<World>>,
    /// Which reactors may have work, their timers, and the choice among them.
    stepping: Stepping,
    /// Host runtimes, by host index.
    hosts: Vec<HostRt>,
    /// The host of each reactor.
    reactor_host: Vec<usize>,
    /// Wakes from outside a reactor's turn.
    pokes: Arc<Pokes>,
    /// The virtual time limit.
    limit: Instant,
    seed: u64,
    /// Turns taken.
    steps: u64,
    /// The last step reached the livelock bound (see `spin`).
    livelocked: bool,
    /// Clients whose main has not returned yet (the run ends at zero).
    clients_left: usize,
    /// The first client failure, once one happens.
    failed: Option<FailureKind>,
    /// Record the run's trace.
    traced: bool,
    /// The liveness phase: when the world calms (until it has) and the clients' deadline.
    liveness: Option<Phase>,
}

/// A liveness phase as the driver keeps it.
#[derive(Clone, Copy, Debug)]
struct Phase {
    /// The builder's setting, for the failure report.
    asked: crate::liveness::Liveness,
    /// When the world calms; `None` once it has.
    calm_at: Option<Instant>,
    /// When every client must have finished.
    deadline: Instant,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

impl Sim {
    pub(crate) fn new(b: SimBuilder) -> Result<Sim, ConfigError> {
        let world = World::from_builder(&b);
        let ranges = world.host_reactors.clone();
        let stepping = Stepping {
            ready: Default::default(),
            timers: Default::default(),
            picker: world.tasks.reactor_picker(),
        };
        let world = Rc::new(RefCell::new(world));
        doppel_core::buggify::backend_answers();
        b.control.attach(&world);
        let pokes = Arc::new(Pokes::default());
        let hosts: Vec<HostRt> = b
            .hosts
            .into_iter()
            .zip(ranges)
            .map(|(h, reactors)| HostRt {
                label: std::sync::Arc::from(h.name.as_str()),
                name: h.name,
                role: h.role,
                main: h.main,
                rts: Vec::new(),
                group: h.group,
                reactors,
                handle: None,
                outcome: None,
            })
            .collect();
        let reactor_host = hosts
            .iter()
            .enumerate()
            .flat_map(|(i, h)| h.reactors.clone().map(move |_| i))
            .collect();
        let limit = Instant::ZERO + b.limit;
        let clients_left = hosts
            .iter()
            .filter(|h: &&HostRt| h.role == Role::Client)
            .count();
        Ok(Sim {
            world,
            stepping,
            hosts,
            reactor_host,
            pokes,
            limit,
            seed: b.seed,
            steps: 0,
            livelocked: false,
            clients_left,
            failed: None,
            traced: b.trace,
            liveness: b.liveness.map(|asked| Phase {
                asked,
                calm_at: Some(Instant::ZERO + asked.after),
                deadline: Instant::ZERO + asked.after + asked.within,
            }),
        })
    }

    /// Starts a host: a fresh runtime per reactor (joined into a group if the host runs one),
    /// its main spawned on the first, every reactor ready.
    fn boot(&mut self, host: usize) {
        self.world.borrow_mut().draw_clock(host);
        let rts: Vec<Runtime> = self.hosts[host]
            .reactors
            .clone()
            .enumerate()
            .map(|(k, reactor)| {
                let poller = SimPoller {
                    world: self.world.clone(),
                    reactor,
                    host,
                    pokes: self.pokes.clone(),
                };
                let label = doppel_core::driver::Label {
                    host: self.hosts[host].label.clone(),
                    reactor: k as u32,
                    time: true,
                };
                doppel_core::driver::runtime(Box::new(poller), label)
            })
            .collect();
        if let Some(config) = self.hosts[host].group {
            let remotes = rts.iter().map(Runtime::remote).collect();
            let group = doppel_core::group::Group::new(config, remotes)
                .expect("doppel: a group validated by the builder");
            for (k, rt) in rts.iter().enumerate() {
                rt.join_group(group.clone(), k);
            }
        }
        let h = &mut self.hosts[host];
        h.handle = Some(rts[0].spawn((h.main)()));
        if h.outcome.take().is_some() && h.role == Role::Client {
            self.clients_left += 1; // a restarted client runs its main again
        }
        h.rts = rts;
        let reactors = h.reactors.clone();
        self.stepping.file_woken(&mut self.world.borrow_mut().woken);
        for r in reactors {
            self.stepping.ready.insert(r);
        }
    }

    /// The runtime of reactor `r`, if its host is up.
    fn runtime(&self, r: usize) -> Option<&Runtime> {
        let h = &self.hosts[self.reactor_host[r]];
        h.rts.get(r - h.reactors.start)
    }

    /// Runs until every client's main has returned, a client fails, the world stalls, or the
    /// time limit passes. With tracing on, the report carries the run's trace.
    pub fn run(self) -> Result<Report, Box<Failure>> {
        if !self.traced {
            return self.run_untraced();
        }
        let plan = self.world.borrow().faults.plan.to_string();
        let header = doppel_trace::Header::new("sim", Some(self.seed), plan);
        let (mut result, store) = doppel_trace::capture(move || self.run_untraced());
        let trace = Some(doppel_trace::Trace::new(header, store));
        match &mut result {
            Ok(report) => report.trace = trace,
            Err(failure) => failure.report.trace = trace,
        }
        result
    }

    /// Runs as [`Sim::run`] does, writing the run's trace to `path` as it goes (`format`: text
    /// or JSON lines, the same bytes `Trace::write` gives), with the trace's memory bounded by
    /// [`doppel_trace::STREAM_BYTES`]: for runs whose whole trace would not fit in memory. A
    /// regular file is replaced whole when the run ends, failing or not; the report carries no
    /// trace. The outer error is the trace file's (opening or writing it), naming the path.
    ///
    /// ```no_run
    /// # fn main() -> std::io::Result<()> {
    /// use doppel_sim::SimBuilder;
    /// let world = SimBuilder::new(7).client("c", "10.0.0.1", || async { Ok(()) });
    /// let sim = world.build().expect("a valid world");
    /// let outcome = sim.run_trace_to("run.trace".as_ref(), doppel_trace::Format::Text)?;
    /// assert!(outcome.is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub fn run_trace_to(
        self,
        path: &std::path::Path,
        format: doppel_trace::Format,
    ) -> io::Result<Result<Report, Box<Failure>>> {
        self.run_streamed(path, |header, out, run| {
            doppel_trace::capture_to(header, format, out, run)
        })
    }

    /// [`Sim::run_trace_to`], with the trace packed as the collector encoded it instead of
    /// rendered as it goes: tracing a run this way costs about what keeping the trace in memory
    /// does, with memory still bounded. Render the file later with
    /// [`doppel_trace::render_packed`] or `doppel trace FILE`.
    pub fn run_trace_packed(
        self,
        path: &std::path::Path,
    ) -> io::Result<Result<Report, Box<Failure>>> {
        self.run_streamed(path, |header, out, run| {
            doppel_trace::capture_packed(header, out, run)
        })
    }

    /// Opens `path`, then runs with `capture` streaming the trace there.
    fn run_streamed(
        self,
        path: &std::path::Path,
        capture: impl FnOnce(
            &doppel_trace::Header,
            doppel_trace::StreamOutput,
            Box<dyn FnOnce() -> Result<Report, Box<Failure>> + '_>,
        ) -> (Result<Report, Box<Failure>>, io::Result<u64>),
    ) -> io::Result<Result<Report, Box<Failure>>> {
        let named = |e: io::Error| {
            io::Error::new(
                e.kind(),
                format!("writing trace to {}: {e}", path.display()),
            )
        };
        let out = doppel_trace::StreamOutput::create(path).map_err(named)?;
        let plan = self.world.borrow().faults.plan.to_string();
        let header = doppel_trace::Header::new("sim", Some(self.seed), plan);
        let (result, written) = capture(&header, out, Box::new(move || self.run_untraced()));
        written.map_err(named)?;
        Ok(result)
    }

    fn run_untraced(mut self) -> Result<Report, Box<Failure>> {
        for h in 0..self.hosts.len() {
            self.boot(h);
        }
        loop {
            self.absorb_pokes();
            self.carry_out_requests();
            if let Some(kind) = self.failed.take() {
                return Err(self.fail(kind));
            }
            if self.clients_left == 0 {
                return Ok(self.report());
            }
            let pick = {
                let mut w = self.world.borrow_mut();
                let st = &mut self.stepping;
                st.file_woken(&mut w.woken);
                let n = st.ready.len();
                (n > 0).then(|| st.ready.nth(st.picker.pick(n, w.clock)))
            };
            match pick {
                Some(r) => {
                    self.step(r);
                    if let Some(kind) = self.livelock() {
                        return Err(self.fail(kind));
                    }
                }
                None => {
                    self.world.borrow_mut().spin.reset();
                    if let Err(kind) = self.advance() {
                        return Err(self.fail(kind));
                    }
                }
            }
        }
    }

    /// Turns reactor `r` once, then files it as ready or idle.
    fn step(&mut self, r: usize) {
        if self.runtime(r).is_none() {
            self.stepping
                .unlist(r, &mut self.world.borrow_mut().reactors[r].listed);
            return;
        }
        self.steps += 1;
        let Some(rt) = self.runtime(r) else { return };
        self.world.borrow_mut().hash.mix(&[0x57, r as u64]);
        rt.turn();
        let (runnable, next) = (rt.has_runnable(), rt.next_timer());
        let mut w = self.world.borrow_mut();
        // The reactor's timers are on its host's clock; the driver files them on the world's.
        let next = next.map(|t| w.hosts[self.reactor_host[r]].clock.world(t));
        self.livelocked = w.spin.tick();
        if let Some((site, host)) = w.violation.take() {
            self.failed.get_or_insert(FailureKind::Assertion {
                name: site.name.into(),
                at: site.at(),
                host: w.hosts[host].name.clone(),
            });
        }
        let due = next.is_some_and(|t| t <= w.clock);
        self.stepping.file_woken(&mut w.woken);
        if !(runnable || due || !w.reactors[r].pending.is_empty()) {
            self.stepping.unlist(r, &mut w.reactors[r].listed);
        }
        self.stepping.timers.set(r, next);
        w.reactors[r].next_timer = next;
        drop(w);
        self.collect_outcome(self.reactor_host[r]);
    }

    /// A livelock, once the run has taken its bound of steps without going idle (see `spin`).
    fn livelock(&mut self) -> Option<FailureKind> {
        if !self.livelocked {
            return None;
        }
        let w = self.world.borrow();
        let busy = w.spin.busy;
        let name = |r: usize| {
            let h = &self.hosts[self.reactor_host[r]];
            h.reactor_label(r - h.reactors.start)
        };
        Some(FailureKind::Livelock {
            steps: busy,
            at: w.clock - Instant::ZERO,
            busy: w.spin.lines(name),
        })
    }

    /// Records a client's outcome once its main has returned.
    fn collect_outcome(&mut self, host: usize) {
        let h = &mut self.hosts[host];
        if h.role != Role::Client || h.outcome.is_some() {
            return;
        }
        let Some(handle) = h.handle.as_mut().filter(|j| j.is_finished()) else {
            return;
        };
        let mut cx = Context::from_waker(Waker::noop());
        let Poll::Ready(res) = Pin::new(handle).poll(&mut cx) else {
            return;
        };
        let outcome = match res {
            Ok(Ok(())) => Outcome::Ok,
            Ok(Err(e)) => Outcome::Failed(e.to_string()),
            Err(e) => Outcome::Failed(e.to_string()),
        };
        if let (Outcome::Failed(error), None) = (&outcome, &self.failed) {
            self.failed = Some(FailureKind::Client {
                host: h.name.clone(),
                error: error.clone(),
            });
        }
        h.outcome = Some(outcome);
        self.clients_left -= 1;
    }

    /// Nothing can run: jump to the next event and deliver everything due then.
    fn advance(&mut self) -> Result<(), FailureKind> {
        let mut w = self.world.borrow_mut();
        let calm_at = self.liveness.and_then(|p| p.calm_at);
        let next = [w.queue.next_at(), self.stepping.timers.first(), calm_at]
            .into_iter()
            .flatten()
            .min();
        if let Some(p) = self
            .liveness
            .filter(|p| next.is_none_or(|n| n > p.deadline))
        {
            w.clock = p.deadline; // The clients had until then, and nothing happened before it.
            return Err(FailureKind::Liveness {
                after: p.asked.after,
                within: p.asked.within,
                blocked: Vec::new(),
            });
        }
        let next = next.ok_or(FailureKind::Stall {
            blocked: Vec::new(),
        })?;
        if next > self.limit {
            return Err(FailureKind::TimeLimit {
                limit: self.limit - Instant::ZERO,
            });
        }
        if next > w.clock {
            w.clock = next;
            let t = next.as_nanos();
            w.hash.mix(&[0xC1, t]);
        }
        let now = w.clock;
        let calm = calm_at.is_some_and(|c| c <= now);
        doppel_core::driver::with_stamp(crate::trace::net_stamp(now), || {
            if calm {
                w.calm(now);
            }
            while let Some(ev) = w.queue.pop_due(now) {
                w.deliver(ev);
            }
        });
        if let Some(p) = self.liveness.as_mut().filter(|_| calm) {
            p.calm_at = None;
        }
        let st = &mut self.stepping;
        st.file_woken(&mut w.woken);
        let due: Vec<usize> = st.timers.due(now).collect();
        for r in due {
            st.ready.insert(r);
        }
        Ok(())
    }

    /// Moves wakes from outside a turn into the ready set.
    fn absorb_pokes(&mut self) {
        if !self
            .pokes
            .any
            .swap(false, std::sync::atomic::Ordering::AcqRel)
        {
            return;
        }
        let poked: Vec<usize> =
            std::mem::take(&mut *self.pokes.list.lock().unwrap_or_else(|e| e.into_inner()));
        self.stepping.file_woken(&mut self.world.borrow_mut().woken);
        for r in poked {
            if self.runtime(r).is_some() {
                self.stepping.ready.insert(r);
            }
        }
    }

    /// Carries out crashes and restarts the network scheduled.
    fn carry_out_requests(&mut self) {
        if self.world.borrow().requests.is_empty() {
            return;
        }
        let requests = std::mem::take(&mut self.world.borrow_mut().requests);
        for req in requests {
            match req {
                HostRequest::Crash(host, restart_after) => self.crash(host, restart_after),
                HostRequest::Restart(host) => {
                    if self.hosts[host].rts.is_empty() {
                        self.world.borrow_mut().hosts[host].up = true;
                        self.boot(host);
                    }
                }
            }
        }
    }

    /// Crashes a host: its connections are reset (peers see RST), its sockets and descriptors
    /// vanish, its tasks are dropped; it restarts later if the plan says so.
    fn crash(&mut self, host: usize, restart_after: Option<std::time::Duration>) {
        if self.hosts[host].rts.is_empty() {
            return;
        }
        {
            let mut w = self.world.borrow_mut();
            let now = w.clock;
            let crashed = doppel_core::driver::with_stamp(crate::trace::net_stamp(now), || {
                let due = w.crash_due(host);
                if due {
                    w.crash_host(host);
                }
                due
            });
            if !crashed {
                return;
            }
            self.stepping.file_woken(&mut w.woken);
            for r in self.hosts[host].reactors.clone() {
                self.stepping.unlist(r, &mut w.reactors[r].listed);
                self.stepping.timers.set(r, None);
                w.reactors[r].next_timer = None;
            }
            if let Some(d) = restart_after {
                let at = w.clock + d;
                w.queue.push(at, WorldEvent::Restart { host });
            }
        }
        let rts = std::mem::take(&mut self.hosts[host].rts);
        self.hosts[host].handle = None;
        drop(rts);
    }

    fn report(&self) -> Report {
        let w = self.world.borrow();
        Report {
            seed: self.seed,
            plan: w.faults.plan.clone(),
            elapsed: w.clock - Instant::ZERO,
            steps: self.steps,
            events: w.delivered,
            faults: w.faults.counts,
            fired: w.faults.fired.clone(),
            hash: w.hash.0,
            coverage: w.coverage.clone(),
            clients: self
                .hosts
                .iter()
                .filter(|h| h.role == Role::Client)
                .map(|h| {
                    (
                        h.name.clone(),
                        h.outcome.clone().unwrap_or(Outcome::Unfinished),
                    )
                })
                .collect(),
            trace: None,
        }
    }

    fn fail(&self, mut kind: FailureKind) -> Box<Failure> {
        if let FailureKind::Stall { blocked } | FailureKind::Liveness { blocked, .. } = &mut kind {
            for h in &self.hosts {
                for (k, rt) in h.rts.iter().enumerate() {
                    let who = h.reactor_label(k);
                    blocked.extend(rt.blocked().into_iter().map(|b| format!("{who}: {b}")));
                }
            }
        }
        Box::new(Failure {
            kind,
            report: self.report(),
        })
    }
}

/// Building a world and running it are the last calls on its builder.
impl SimBuilder {
    /// Checks the setup and builds the world.
    pub fn build(self) -> Result<Sim, ConfigError> {
        self.validate()?;
        Sim::new(self)
    }

    /// Builds and runs.
    pub fn run(self) -> Result<Report, crate::report::SimError> {
        Ok(self.build()?.run()?)
    }
}
