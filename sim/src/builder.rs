//! `SimBuilder`: the world's setup. Every knob is checked in `build`, before anything runs; an
//! error names the knob and the value.

use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use crate::faults::FaultPlan;
use crate::net::LinkConfig;
use crate::report::ConfigError;
use crate::sched::Strategy;

/// A host's main: called at start, and again after each restart.
pub(crate) type Main = Rc<dyn Fn() -> Pin<Box<dyn Future<Output = io::Result<()>>>>>;

/// Whether the run waits for a host's main.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Runs as long as the world does (servers).
    Server,
    /// The run ends when every client's main has returned.
    Client,
}

/// One host of the setup.
#[derive(Clone)]
pub(crate) struct HostSpec {
    pub(crate) name: String,
    /// Its address, as given.
    pub(crate) addr: String,
    /// Server or client.
    pub(crate) role: Role,
    pub(crate) main: Main,
    /// A group of reactors (main, sub-reactors, workers) instead of one, if set.
    pub(crate) group: Option<doppel_core::group::GroupConfig>,
}

impl HostSpec {
    /// How many reactors (simulated threads) the host runs.
    pub(crate) fn reactors(&self) -> usize {
        self.group.map_or(1, |g| g.reactors())
    }
}

/// Sets up a simulated world: hosts with addresses and mains, links, faults, a time limit.
///
/// ```no_run
/// # use doppel_sim::SimBuilder;
/// let report = SimBuilder::new(42)
///     .host("server", "10.0.0.1", || async { Ok(()) })
///     .client("client", "10.0.0.2", || async { Ok(()) })
///     .run();
/// ```
pub struct SimBuilder {
    /// The seed every random choice derives from.
    pub(crate) seed: u64,
    /// Hosts, in the order given.
    pub(crate) hosts: Vec<HostSpec>,
    /// The default link.
    pub(crate) link: LinkConfig,
    /// Links with their own configuration, by host name.
    pub(crate) links: Vec<(String, String, LinkConfig)>,
    /// Faults.
    pub(crate) plan: FaultPlan,
    /// How much virtual time the run may take.
    pub(crate) limit: Duration,
    /// Receive window per connection direction, bytes.
    pub(crate) window: usize,
    /// Scheduling strategy.
    pub(crate) strategy: Strategy,
    /// Caps every listener's backlog (a small `somaxconn`), if set.
    pub(crate) backlog: Option<u32>,
    /// Record the run's trace into the report.
    pub(crate) trace: bool,
    /// Cut writes into segments at seeded boundaries (the default), or send each write whole
    /// up to the MSS, as loopback does.
    pub(crate) split: bool,
    /// Steps in a row without going idle after which the run is a livelock.
    pub(crate) livelock_steps: u64,
    /// Each UDP socket's receive buffer, bytes.
    pub(crate) dgram_buffer: usize,
    /// Per-message rules, in installation order.
    pub(crate) rules: Vec<crate::rules::RuleSpec>,
    /// The handle that holds and releases links of the world built from this builder.
    pub(crate) control: crate::world::control::NetControl,
    /// The liveness phase, if any.
    pub(crate) liveness: Option<crate::liveness::Liveness>,
    /// A skewed clock's bounds: the largest wall-clock offset, and drift in ppm.
    pub(crate) clock_bounds: (Duration, u32),
}

impl Clone for SimBuilder {
    /// The same setup: the mains are shared and called afresh by each run.
    fn clone(&self) -> Self {
        SimBuilder {
            seed: self.seed,
            hosts: self.hosts.clone(),
            link: self.link,
            links: self.links.clone(),
            plan: self.plan.clone(),
            limit: self.limit,
            window: self.window,
            strategy: self.strategy,
            backlog: self.backlog,
            trace: self.trace,
            split: self.split,
            livelock_steps: self.livelock_steps,
            dgram_buffer: self.dgram_buffer,
            rules: self.rules.clone(),
            control: self.control.clone(),
            liveness: self.liveness,
            clock_bounds: self.clock_bounds,
        }
    }
}

impl std::fmt::Debug for SimBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimBuilder")
            .field("seed", &self.seed)
            .field("hosts", &self.hosts.len())
            .field("plan", &self.plan)
            .finish_non_exhaustive()
    }
}

impl SimBuilder {
    /// A world seeded with `seed`: no hosts yet, 100 µs links, no faults, a 10-minute limit.
    pub fn new(seed: u64) -> SimBuilder {
        SimBuilder {
            seed,
            hosts: Vec::new(),
            link: LinkConfig::default(),
            links: Vec::new(),
            plan: FaultPlan::none(),
            limit: Duration::from_secs(600),
            window: 64 * 1024,
            strategy: Strategy::Random,
            backlog: None,
            trace: false,
            split: true,
            livelock_steps: crate::spin::DEFAULT_LIVELOCK_STEPS,
            dgram_buffer: crate::net::udp::DEFAULT_RECV_BUFFER,
            rules: Vec::new(),
            control: Default::default(),
            liveness: None,
            clock_bounds: (
                crate::clock::DEFAULT_MAX_OFFSET,
                crate::clock::DEFAULT_MAX_DRIFT_PPM,
            ),
        }
    }

    fn add<F, Fut>(mut self, role: Role, name: &str, addr: &str, main: F) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = io::Result<()>> + 'static,
    {
        let main: Main = Rc::new(move || Box::pin(main()));
        self.hosts.push(HostSpec {
            name: name.to_string(),
            addr: addr.to_string(),
            role,
            main,
            group: None,
        });
        self
    }

    /// Adds a server host that runs a group of reactors (see `doppel::group`): its main runs on
    /// reactor 0, and each sub-reactor and worker is a simulated thread of the host, stepped
    /// when the world's seeded choice picks it, so races between them replay from the seed.
    pub fn host_group<F, Fut>(
        mut self,
        name: &str,
        addr: &str,
        config: doppel_core::group::GroupConfig,
        main: F,
    ) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = io::Result<()>> + 'static,
    {
        self = self.add(Role::Server, name, addr, main);
        if let Some(h) = self.hosts.last_mut() {
            h.group = Some(config);
        }
        self
    }

    /// Adds a host that serves for the whole run. `main` runs at start and after each restart.
    pub fn host<F, Fut>(self, name: &str, addr: &str, main: F) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = io::Result<()>> + 'static,
    {
        self.add(Role::Server, name, addr, main)
    }

    /// Adds a client: the run ends when every client's main has returned (an error fails it).
    pub fn client<F, Fut>(self, name: &str, addr: &str, main: F) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = io::Result<()>> + 'static,
    {
        self.add(Role::Client, name, addr, main)
    }

    /// The one-way latency of every link.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.link.latency = latency;
        self
    }

    /// The jitter of every link.
    pub fn jitter(mut self, jitter: Duration) -> Self {
        self.link.jitter = jitter;
        self
    }

    /// Configures the link between two hosts (both directions).
    pub fn link(mut self, a: &str, b: &str, config: LinkConfig) -> Self {
        self.links.push((a.to_string(), b.to_string(), config));
        self
    }

    /// The fault plan this world runs under (what [`SimBuilder::faults`] last set).
    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The fault plan.
    ///
    /// ```
    /// use doppel_sim::{FaultClass, FaultPlan, SimBuilder};
    /// let report = SimBuilder::new(3)
    ///     .faults(FaultPlan::none().with(FaultClass::PollEintr, 0.5))
    ///     .host("server", "10.0.0.1", || async { Ok(()) })
    ///     .client("client", "10.0.0.2", || async {
    ///         doppel_core::time::sleep(std::time::Duration::from_millis(1)).await;
    ///         Ok(())
    ///     })
    ///     .run()
    ///     .unwrap();
    /// assert!(report.faults.get(FaultClass::PollEintr) > 0);
    /// assert!(report.fired.iter().all(|f| f.site.ends_with("#0")));
    /// ```
    pub fn faults(mut self, plan: FaultPlan) -> Self {
        self.plan = plan;
        self
    }

    /// A liveness phase: at `after` of virtual time every random fault stops, scheduled
    /// partitions and stalls heal, scheduled crashes are skipped and crashed hosts restart; the
    /// clients must then finish within `within`, or the run fails as
    /// [`FailureKind::Liveness`](crate::FailureKind::Liveness), naming each blocked task. The
    /// two together must fit in the time limit.
    ///
    /// ```
    /// use std::time::Duration;
    /// use doppel_sim::SimBuilder;
    /// let world = SimBuilder::new(1)
    ///     .liveness(Duration::from_secs(2), Duration::from_secs(5))
    ///     .client("c", "10.0.0.1", || async { Ok(()) });
    /// assert!(world.run().is_ok());
    /// ```
    pub fn liveness(mut self, after: Duration, within: Duration) -> Self {
        self.liveness = Some(crate::liveness::Liveness { after, within });
        self
    }

    /// The bounds of a skewed clock (the `clock-skew` fault class): each skewed host's wall
    /// clock is offset by up to `max_offset` either way, and both its clocks (`Instant` and the
    /// wall clock) run up to `max_drift_ppm` parts per million fast or slow. Defaults: 500 ms
    /// and 1,000 ppm; the drift may be at most 200,000 ppm (20%), the offset at most a day.
    ///
    /// ```
    /// use std::time::Duration;
    /// use doppel_sim::{FaultClass, FaultPlan, SimBuilder};
    /// let report = SimBuilder::new(4)
    ///     .faults(FaultPlan::none().with(FaultClass::ClockSkew, 1.0))
    ///     .clock_skew(Duration::from_secs(2), 50_000)
    ///     .client("c", "10.0.0.1", || async {
    ///         let wall = doppel_core::time::wall_clock();
    ///         let since = wall.duration_since(std::time::UNIX_EPOCH).unwrap();
    ///         assert!(since.as_secs().abs_diff(1_767_225_600) <= 2, "2026, give or take 2 s");
    ///         Ok(())
    ///     })
    ///     .run()
    ///     .unwrap();
    /// assert_eq!(report.faults.get(FaultClass::ClockSkew), 1);
    /// ```
    pub fn clock_skew(mut self, max_offset: Duration, max_drift_ppm: u32) -> Self {
        self.clock_bounds = (max_offset, max_drift_ppm);
        self
    }

    /// How much virtual time the run may take before it fails.
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// How many steps (reactor turns) in a row a run may take without going idle (without
    /// virtual time moving or anything arriving) before it ends as a livelock failure naming
    /// the tasks that kept running and what they called; default
    /// [`DEFAULT_LIVELOCK_STEPS`](crate::DEFAULT_LIVELOCK_STEPS), at least 1,000.
    pub fn livelock_steps(mut self, steps: u64) -> Self {
        self.livelock_steps = steps;
        self
    }

    /// Installs a per-message rule on the link from host `from` to host `to` (`"*"` for any
    /// host): `judge` sees each TCP segment and datagram the link carries and gives its
    /// [`Verdict`](crate::Verdict). Rules run in the order installed; the first answer that is
    /// not `Pass` wins, and is traced (`doppel::rule`). An unknown host name is a
    /// [`ConfigError`] at build.
    ///
    /// ```
    /// use doppel_sim::{Proto, SimBuilder, Verdict};
    /// // Drop the third datagram the server sends the client.
    /// let b = SimBuilder::new(1).rule("server", "client", |m| match (m.proto, m.index) {
    ///     (Proto::Udp, 2) => Verdict::Drop,
    ///     _ => Verdict::Pass,
    /// });
    /// # let _ = b;
    /// ```
    pub fn rule(
        mut self,
        from: &str,
        to: &str,
        judge: impl Fn(&crate::rules::Message<'_>) -> crate::rules::Verdict + 'static,
    ) -> Self {
        self.rules.push(crate::rules::RuleSpec {
            from: from.to_string(),
            to: to.to_string(),
            judge: Rc::new(judge),
        });
        self
    }

    /// The handle a test's code uses to [`hold`](crate::NetControl::hold) and
    /// [`release`](crate::NetControl::release) links of the world this builder builds.
    pub fn net_control(&self) -> crate::world::control::NetControl {
        self.control.clone()
    }

    /// The receive buffer of each UDP socket, in bytes (default 212,992, Linux's
    /// `rmem_default`); each queued datagram is charged its length plus 256. A datagram that
    /// does not fit is dropped on arrival and traced as `dgram_drop reason=overflow`.
    pub fn udp_recv_buffer(mut self, bytes: usize) -> Self {
        self.dgram_buffer = bytes;
        self
    }

    /// The receive window of each connection direction, in bytes.
    pub fn window(mut self, bytes: usize) -> Self {
        self.window = bytes;
        self
    }

    /// The scheduling strategy.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Caps every listener's backlog at `n` pending connections, as a small
    /// `/proc/sys/net/core/somaxconn` does: connects beyond it have their SYN dropped and retry
    /// (F13).
    pub fn backlog(mut self, n: u32) -> Self {
        self.backlog = Some(n);
        self
    }

    /// Whether writes are cut into segments at seeded boundaries (the default: readers see
    /// messages arrive in pieces) or sent whole up to the MSS, as on loopback (to line a
    /// simulated trace up with a real one).
    pub fn split_segments(mut self, on: bool) -> Self {
        self.split = on;
        self
    }

    /// Records the run's trace (every runtime, fault and user `tracing` event, stamped with
    /// virtual time, host and task) into [`Report::trace`](crate::Report::trace).
    ///
    /// ```
    /// use doppel_sim::SimBuilder;
    /// let report = SimBuilder::new(1)
    ///     .trace(true)
    ///     .host("server", "10.0.0.1", || async { Ok(()) })
    ///     .client("client", "10.0.0.2", || async {
    ///         tracing::info!(step = 1, "hello");
    ///         Ok(())
    ///     })
    ///     .run()
    ///     .unwrap();
    /// let trace = report.trace.unwrap();
    /// assert!(trace.lines().iter().any(|l| l.ends_with("hello step=1") || l.contains("step=1")));
    /// ```
    pub fn trace(mut self, on: bool) -> Self {
        self.trace = on;
        self
    }

    /// The numbers with a lower bound of their own.
    fn validate_bounds(&self) -> Result<(), ConfigError> {
        if self.livelock_steps < crate::spin::WINDOW {
            return Err(ConfigError(format!(
                "livelock steps: {} is too few (expected at least {})",
                self.livelock_steps,
                crate::spin::WINDOW
            )));
        }
        Ok(())
    }

    /// The clock-skew bounds and the liveness phase.
    fn validate_phases(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError(m));
        let (offset, drift) = self.clock_bounds;
        if drift > crate::clock::MAX_DRIFT_PPM {
            return bad(format!(
                "clock skew: a drift of {drift} ppm is too large (expected at most {} ppm, 20%)",
                crate::clock::MAX_DRIFT_PPM
            ));
        }
        if offset > crate::clock::MAX_OFFSET {
            return bad(format!(
                "clock skew: an offset of {offset:?} is too large (expected at most a day)"
            ));
        }
        if let Some(l) = self.liveness {
            if l.within.is_zero() {
                return bad("liveness: within 0s; the clients need some time to finish".into());
            }
            if l.after.saturating_add(l.within) > self.limit {
                return bad(format!(
                    "liveness: faults stop at {:?} and the clients have {:?} more, past the time limit of {:?} (raise the time limit)",
                    l.after, l.within, self.limit
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError(m));
        self.validate_bounds()?;
        if self.limit.is_zero() {
            return bad("time limit: 0s; the run needs some virtual time".into());
        }
        self.validate_phases()?;
        if self.backlog == Some(0) {
            return bad(
                "backlog: 0; a listener needs room for at least one pending connection".into(),
            );
        }
        if self.window == 0 {
            return bad("window: 0 bytes; a connection needs room for at least one".into());
        }
        if !self.hosts.iter().any(|h| h.role == Role::Client) {
            return bad(
                "no client: the run ends when every client's main returns, so add one".into(),
            );
        }
        // Lookups only (never iterated): a world of thousands of hosts checks in O(n log n).
        let mut names: std::collections::BTreeSet<&str> = Default::default();
        let mut ips: std::collections::BTreeMap<IpAddr, &str> = Default::default();
        for h in &self.hosts {
            let ip = Self::validate_host(h)?;
            let other = match ips.get(&ip) {
                Some(other) => Some(*other),
                None => names.contains(h.name.as_str()).then_some(h.name.as_str()),
            };
            if let Some(other) = other {
                return bad(format!(
                    "host {}: name or address {ip} already used by host {other}",
                    h.name
                ));
            }
            names.insert(&h.name);
            ips.insert(ip, &h.name);
        }
        self.plan.validate().map_err(|e| ConfigError(e.0))?;
        let known = |n: &str| names.contains(n);
        let names = self.links.iter().flat_map(|(a, b, _)| [a, b]);
        let names = names
            .chain(self.plan.partitions.iter().flat_map(|p| [&p.a, &p.b]))
            .chain(self.plan.crashes.iter().map(|c| &c.host))
            .chain(
                self.rules
                    .iter()
                    .flat_map(|r| [&r.from, &r.to])
                    .filter(|n| *n != "*"),
            );
        for n in names {
            if !known(n) {
                return bad(format!(
                    "unknown host name {n:?} (hosts: {})",
                    self.host_names()
                ));
            }
        }
        Ok(())
    }

    /// One host's own checks: its name, its group, its address; the address parsed.
    fn validate_host(h: &HostSpec) -> Result<IpAddr, ConfigError> {
        let bad = |m: String| Err(ConfigError(m));
        let odd = |c: char| c.is_whitespace() || ",@/:#=~\"".contains(c);
        if h.name.is_empty() || h.name.contains(odd) {
            return bad(format!(
                "host name {:?}: give a non-empty name without spaces or any of , @ / : # = ~ \" \
                 (faults are named after hosts, as in short-write@c0:49152/server:7000:3)",
                h.name
            ));
        }
        if let Some(g) = &h.group {
            g.validate()
                .map_err(|e| ConfigError(format!("host {}: {e}", h.name)))?;
        }
        let ip: IpAddr = h.addr.parse().map_err(|_| {
            ConfigError(format!(
                "host {}: address {:?} is not an IP address",
                h.name, h.addr
            ))
        })?;
        if ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() {
            return bad(format!(
                "host {}: address {ip} cannot be a host's own address",
                h.name
            ));
        }
        Ok(ip)
    }

    fn host_names(&self) -> String {
        self.hosts
            .iter()
            .map(|h| h.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
