//! The fault plan: how often each class (the table is `classes.rs`) fires, scheduled partitions
//! and crashes, and the counters that prove each one did (a class that never fired proved
//! nothing: freenet-core#4727).
//!
//! Every injection keeps the kernel's contract: a short read leaves
//! nothing more queued at that moment and the rest arrives later with its own edge; a short write
//! means the send buffer filled and a writable edge follows; a spurious edge is followed by
//! `WouldBlock`; an interrupted `connect` completes in the background; an interrupted `close` has
//! closed; `ECONNABORTED` at accept means that queued connection really is gone.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

pub use crate::classes::{FaultClass, FaultError};

/// A partition between two hosts for a span of virtual time.
#[derive(Clone, Debug, PartialEq)]
pub struct PartitionSpec {
    /// One side (host name).
    pub a: String,
    /// The other side (host name).
    pub b: String,
    /// When it starts, from the start of the run.
    pub from: Duration,
    /// When it heals.
    pub until: Duration,
    /// Only `a -> b` is cut ("A can send but can't receive" is `b -> a` cut).
    pub one_way: bool,
}

/// A host crash, and the restart that may follow.
#[derive(Clone, Debug, PartialEq)]
pub struct CrashSpec {
    /// The host (name).
    pub host: String,
    /// When it crashes, from the start of the run.
    pub at: Duration,
    /// How long until it restarts (its main runs again from scratch); `None`: stays down.
    pub restart_after: Option<Duration>,
}

/// Which classes swarm mode turns on and off per seed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Swarm {
    /// No swarm: the plan's probabilities hold for every seed.
    #[default]
    Off,
    /// Every random class (`swarm`).
    All,
    /// The benign classes only (`swarm=benign`): see [`FaultClass::BENIGN`].
    Benign,
}

impl Swarm {
    /// Whether swarm mode chooses `class`'s probability per seed.
    pub fn covers(self, class: FaultClass) -> bool {
        match self {
            Swarm::Off => false,
            Swarm::All => FaultClass::GROUPED.contains(&class),
            Swarm::Benign => FaultClass::BENIGN.contains(&class),
        }
    }
}

/// How often each fault fires: a probability per opportunity for the random classes, and
/// schedules for partitions and crashes. Build one with [`FaultPlan::none`], [`FaultPlan::all`],
/// [`FaultPlan::with`] or parse one (`"short-read=0.1,eintr=0.02"`).
///
/// ```
/// use std::time::Duration;
/// use doppel_sim::{CrashSpec, FaultClass, FaultPlan};
///
/// let plan: FaultPlan = "benign=0.05,reset=0.001".parse().unwrap();
/// assert_eq!(plan.probability(FaultClass::Reset), 0.001);
/// assert!(plan.enabled(FaultClass::ShortWrite) && !plan.enabled(FaultClass::AcceptAbort));
/// let plan = FaultPlan::none()
///     .with(FaultClass::ShortRead, 0.1)
///     .crash(CrashSpec { host: "server".into(), at: Duration::from_secs(1), restart_after: None });
/// assert_eq!(plan.to_string(), "short-read=0.1,crashes:1");
/// assert!("short-read=2".parse::<FaultPlan>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FaultPlan {
    /// Probability per opportunity, indexed like [`FaultClass::ALL`].
    probability: [f64; FaultClass::COUNT],
    /// Most injected `EINTR`s in a row on one reactor, so a storm cannot livelock a retry loop.
    pub max_eintr_streak: u32,
    /// How long a stalled link holds its segments, at most.
    pub stall_max: Duration,
    /// Scheduled partitions.
    pub partitions: Vec<PartitionSpec>,
    /// Scheduled crashes.
    pub crashes: Vec<CrashSpec>,
    /// Swarm mode: the seed chooses which random classes are on and how often.
    pub swarm: Swarm,
    /// Only these faults may fire, when set: each named by its class, site and opportunity
    /// number (sorted). The other faults that fall due are left out; shrinking narrows a
    /// failing run's faults with it.
    pub only: Option<Vec<FaultName>>,
}

impl Default for FaultPlan {
    fn default() -> Self {
        FaultPlan::none()
    }
}

impl FaultPlan {
    /// No faults.
    pub fn none() -> FaultPlan {
        FaultPlan {
            probability: [0.0; FaultClass::COUNT],
            max_eintr_streak: 3,
            stall_max: Duration::from_millis(500),
            partitions: Vec::new(),
            crashes: Vec::new(),
            swarm: Swarm::Off,
            only: None,
        }
    }

    /// Every random class at probability `p` per opportunity (resets and stalls, which end a
    /// connection or freeze it, at a tenth of that), but the `opt_in` ones (see
    /// [`FaultClass::GROUPED`]).
    pub fn all(p: f64) -> FaultPlan {
        let mut plan = FaultPlan::none();
        for c in FaultClass::GROUPED {
            let scaled = match c {
                FaultClass::Reset | FaultClass::Stall => p / 10.0,
                _ => p,
            };
            plan.probability[c.index()] = scaled;
        }
        plan
    }

    /// The faults a correct server and client absorb without any visible error: spurious and
    /// late edges, `EINTR` everywhere, short reads and writes, link stalls (up to half a second)
    /// and dropped SYNs, each at probability `p`. Resets, aborted accepts and deadline races are
    /// left out: a correct program may legitimately report those.
    pub fn benign(p: f64) -> FaultPlan {
        let mut plan = FaultPlan::none();
        for c in FaultClass::BENIGN {
            plan.probability[c.index()] = p;
        }
        plan
    }

    /// Swarm mode: per seed, each random class is on or off by a coin flip, at a probability
    /// drawn between 0.1% and 10% (spec `swarm`).
    pub fn swarm() -> FaultPlan {
        FaultPlan {
            swarm: Swarm::All,
            ..FaultPlan::none()
        }
    }

    /// Swarm mode over the benign classes only (those of [`FaultPlan::benign`]), for servers
    /// that must absorb every fault without a visible error (spec `swarm=benign`).
    ///
    /// ```
    /// use doppel_sim::{FaultClass, FaultPlan};
    /// let plan: FaultPlan = "swarm=benign".parse().unwrap();
    /// assert_eq!(plan, FaultPlan::swarm_benign());
    /// assert!(plan.enabled(FaultClass::ShortWrite) && !plan.enabled(FaultClass::Reset));
    /// ```
    pub fn swarm_benign() -> FaultPlan {
        FaultPlan {
            swarm: Swarm::Benign,
            ..FaultPlan::none()
        }
    }

    /// Sets one class's probability. Invalid values are reported by [`FaultPlan::validate`]
    /// (the simulator's builder calls it before anything runs).
    pub fn with(mut self, class: FaultClass, p: f64) -> FaultPlan {
        self.probability[class.index()] = p;
        self
    }

    /// Adds a partition.
    pub fn partition(mut self, spec: PartitionSpec) -> FaultPlan {
        self.partitions.push(spec);
        self
    }

    /// Adds a crash.
    pub fn crash(mut self, spec: CrashSpec) -> FaultPlan {
        self.crashes.push(spec);
        self
    }

    /// Lets only these faults fire (see [`FaultPlan::only`]).
    ///
    /// ```
    /// use doppel_sim::{FaultName, FaultPlan};
    /// let names: Vec<FaultName> = vec!["short-write@c0:49152/server:7000:3".parse().unwrap()];
    /// let plan = FaultPlan::all(0.02).only(names);
    /// assert!(plan.to_string().ends_with("only:short-write@c0:49152/server:7000:3"));
    /// ```
    pub fn only(mut self, faults: impl IntoIterator<Item = FaultName>) -> FaultPlan {
        let mut f: Vec<FaultName> = faults.into_iter().collect();
        f.sort_unstable();
        f.dedup();
        self.only = Some(f);
        self
    }

    /// Whether opportunity `op` of `class` at `site` may fire.
    #[inline]
    pub fn allows(&self, class: FaultClass, site: &str, op: u64) -> bool {
        self.only.as_ref().is_none_or(|f| {
            f.binary_search_by(|n| (n.class, n.site.as_str(), n.op).cmp(&(class, site, op)))
                .is_ok()
        })
    }

    /// The probability of `class`.
    #[inline]
    pub fn probability(&self, class: FaultClass) -> f64 {
        self.probability[class.index()]
    }

    /// Whether `class` can fire at all under this plan.
    pub fn enabled(&self, class: FaultClass) -> bool {
        match class {
            FaultClass::Partition => !self.partitions.is_empty(),
            FaultClass::Crash => !self.crashes.is_empty(),
            c => self.swarm.covers(c) || self.probability(c) > 0.0,
        }
    }

    /// Checks every knob; the error names the knob and the value.
    pub fn validate(&self) -> Result<(), FaultError> {
        for c in FaultClass::ALL {
            let p = self.probability(c);
            if !p.is_finite() || !(0.0..=1.0).contains(&p) {
                return Err(FaultError(format!(
                    "fault {c}: probability {p} is not between 0 and 1"
                )));
            }
        }
        for p in &self.partitions {
            if p.until <= p.from {
                return Err(FaultError(format!(
                    "partition {}-{}: heals at {:?}, not after it starts at {:?}",
                    p.a, p.b, p.until, p.from
                )));
            }
        }
        Ok(())
    }

    /// Resolves swarm mode for one seed: the returned plan has concrete probabilities.
    pub(crate) fn resolve(&self, swarm: &mut crate::rng::Stream) -> FaultPlan {
        if self.swarm == Swarm::Off {
            return self.clone();
        }
        let mut plan = self.clone();
        for c in FaultClass::GROUPED {
            let on = swarm.chance(0.5);
            let p = 0.001 * 100f64.powf(swarm.below(1 << 20) as f64 / (1 << 20) as f64);
            if self.swarm.covers(c) {
                plan.probability[c.index()] = if on { p } else { 0.0 };
            }
        }
        plan
    }
}

impl fmt::Display for FaultPlan {
    /// The plan as a spec (`none`, `swarm`, `short-read=0.1,eintr=0.02`) that parses back when
    /// it has no schedule and no `only` list: scheduled partitions and crashes are summarised as
    /// counts, and an `only` list is shown as `only:NAME+NAME` (both for reading, not parsing).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = FaultClass::RANDOM
            .into_iter()
            .filter(|c| self.probability(*c) > 0.0)
            .map(|c| format!("{c}={}", self.probability(c)))
            .collect();
        match self.swarm {
            Swarm::Off => {}
            Swarm::All => parts.insert(0, "swarm".into()),
            Swarm::Benign => parts.insert(0, "swarm=benign".into()),
        }
        if !self.partitions.is_empty() {
            parts.push(format!("partitions:{}", self.partitions.len()));
        }
        if !self.crashes.is_empty() {
            parts.push(format!("crashes:{}", self.crashes.len()));
        }
        if let Some(f) = &self.only {
            let f: Vec<String> = f.iter().map(FaultName::to_string).collect();
            parts.push(format!("only:{}", f.join("+")));
        }
        if parts.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&parts.join(","))
        }
    }
}

impl FromStr for FaultPlan {
    type Err = FaultError;

    /// `none`, `all=P`, `benign=P`, `swarm`, `swarm=benign`, or a comma list of `class=P`
    /// (`short-read=0.1,eintr=0.02`); later items override earlier ones (`all=0.02,reset=0`).
    fn from_str(spec: &str) -> Result<FaultPlan, FaultError> {
        let mut plan = FaultPlan::none();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if item == "none" {
                continue;
            }
            if item == "swarm" {
                plan.swarm = Swarm::All;
                continue;
            }
            if let Some(which) = item.strip_prefix("swarm=") {
                plan.swarm = match which.trim() {
                    "all" => Swarm::All,
                    "benign" => Swarm::Benign,
                    other => {
                        return Err(FaultError(format!(
                            "fault spec item {item:?}: swarm takes all or benign, not {other:?}"
                        )))
                    }
                };
                continue;
            }
            let (key, value) = item.split_once('=').ok_or_else(|| {
                FaultError(format!(
                    "fault spec item {item:?}: expected NAME=PROBABILITY"
                ))
            })?;
            let p: f64 = value.trim().parse().map_err(|_| {
                FaultError(format!("fault {}: {value:?} is not a number", key.trim()))
            })?;
            if key.trim() == "all" || key.trim() == "benign" {
                let keep = (plan.swarm, plan.max_eintr_streak);
                plan = if key.trim() == "all" {
                    FaultPlan::all(p)
                } else {
                    FaultPlan::benign(p)
                };
                (plan.swarm, plan.max_eintr_streak) = keep;
            } else {
                let class: FaultClass = key.trim().parse()?;
                if !FaultClass::RANDOM.contains(&class) {
                    return Err(FaultError(format!(
                        "fault {class} is scheduled, not random: give it in the scenario's \
                         partitions or crashes"
                    )));
                }
                plan.probability[class.index()] = p;
            }
        }
        plan.validate()?;
        Ok(plan)
    }
}

/// A fault's name: its class, its site and its opportunity number at that site, written
/// `CLASS@SITE:OP` (`short-write@c0:49152/server:7000:3`: the fourth write on client `c0`'s
/// connection from port 49152 to the server's port 7000 that could have come up short).
///
/// Sites are sockets (`HOST:PORT/PEER:PORT` for a connection, `HOST:PORT` for a listener),
/// reactors (`HOST#N`) and hosts (`HOST`). Opportunities are numbered per site, so a change on
/// one connection leaves every other connection's faults, and their names, where they were.
///
/// ```
/// use doppel_sim::{FaultClass, FaultName};
/// let n: FaultName = "eintr-poll@server#0:12".parse().unwrap();
/// assert_eq!((n.class, n.site.as_str(), n.op), (FaultClass::PollEintr, "server#0", 12));
/// assert_eq!(n.to_string(), "eintr-poll@server#0:12");
/// assert!("eintr-poll:12".parse::<FaultName>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FaultName {
    /// The class, the name's first part (`CLASS@SITE:OP`).
    pub class: FaultClass,
    /// Where it was decided (a socket, a reactor or a host).
    pub site: String,
    /// Which opportunity of its class at its site it was, from 0.
    pub op: u64,
}

impl fmt::Display for FaultName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}:{}", self.class, self.site, self.op)
    }
}

impl FromStr for FaultName {
    type Err = FaultError;

    /// `CLASS@SITE:OP`, as [`Fired`] and shrinking print it.
    fn from_str(s: &str) -> Result<FaultName, FaultError> {
        let bad = |why: String| {
            FaultError(format!(
                "fault {s:?}: {why} (expected CLASS@SITE:OP as a failure prints it, e.g. \
                 short-read@c0:49152/server:7000:4)"
            ))
        };
        let (class, rest) = s
            .trim()
            .split_once('@')
            .ok_or_else(|| bad("no '@'".into()))?;
        let (site, op) = rest
            .rsplit_once(':')
            .ok_or_else(|| bad("no ':OP'".into()))?;
        let class: FaultClass = class.parse().map_err(|e: FaultError| bad(e.0))?;
        if site.is_empty() {
            return Err(bad("no site".into()));
        }
        let op = op
            .parse()
            .map_err(|_| bad(format!("{op:?} is not an opportunity number")))?;
        Ok(FaultName {
            class,
            site: site.to_string(),
            op,
        })
    }
}

impl FaultName {
    /// Parses a comma list of names (`none` or nothing: no fault at all), as `--only` and
    /// `DOPPEL_ONLY` take them.
    pub fn parse_list(list: &str) -> Result<Vec<FaultName>, FaultError> {
        let list = list.trim();
        if list.is_empty() || list == "none" {
            return Ok(Vec::new());
        }
        list.split(',').map(str::parse).collect()
    }

    /// Writes names as a comma list that [`FaultName::parse_list`] reads back (`none` for
    /// none).
    pub fn list(names: &[FaultName]) -> String {
        if names.is_empty() {
            return "none".into();
        }
        names
            .iter()
            .map(FaultName::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// One injected fault: its name (class, site, opportunity number), its id in the run, and
/// when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fired {
    /// Injection order in the run, from 1.
    pub id: u64,
    /// What kind of fault fired: with the site and opportunity, its `--only` name.
    pub class: FaultClass,
    /// Its site (the `site` field of its trace event).
    pub site: String,
    /// Which opportunity of its class at its site it was, from 0 (the `op` field of its trace
    /// event).
    pub op: u64,
    /// When it fired.
    pub at: doppel_core::time::Instant,
}

impl Fired {
    /// Its name, as `--only` and [`FaultPlan::only`] take it.
    pub fn name(&self) -> FaultName {
        FaultName {
            class: self.class,
            site: self.site.clone(),
            op: self.op,
        }
    }
}

impl fmt::Display for Fired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.at.as_nanos();
        write!(
            f,
            "{}@{}:{} at {}.{:09}s (fault #{})",
            self.class,
            self.site,
            self.op,
            ns / 1_000_000_000,
            ns % 1_000_000_000,
            self.id
        )
    }
}

/// How many times each class fired in a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts([u64; FaultClass::COUNT]);

impl FaultCounts {
    /// Counts one injection.
    pub(crate) fn bump(&mut self, class: FaultClass) {
        self.0[class.index()] += 1;
    }

    /// How many times `class` fired.
    pub fn get(&self, class: FaultClass) -> u64 {
        self.0[class.index()]
    }

    /// Every class with its count, in catalogue order.
    pub fn iter(&self) -> impl Iterator<Item = (FaultClass, u64)> + '_ {
        FaultClass::ALL.into_iter().map(|c| (c, self.get(c)))
    }

    /// The total number of injections.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Adds another run's counts (sweeps).
    pub fn add(&mut self, other: &FaultCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }
}

impl fmt::Display for FaultCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fired: Vec<String> = self
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(c, n)| format!("{c}={n}"))
            .collect();
        if fired.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&fired.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_the_classes_in_declaration_order() {
        for (i, c) in FaultClass::ALL.into_iter().enumerate() {
            assert_eq!(c.index(), i, "{c}");
        }
    }

    #[test]
    fn specs_parse_and_bad_ones_name_the_problem() {
        let p: FaultPlan = "short-read=0.1, eintr=0.02".parse().unwrap();
        assert_eq!(p.probability(FaultClass::ShortRead), 0.1);
        assert!(p.enabled(FaultClass::Eintr));
        assert!(!p.enabled(FaultClass::Reset));
        let e = "short-read=2".parse::<FaultPlan>().unwrap_err();
        assert!(e.0.contains("short-read") && e.0.contains('2'), "{e}");
        let e = "shortread=0.1".parse::<FaultPlan>().unwrap_err();
        assert!(e.0.contains("unknown fault class \"shortread\""), "{e}");
        let e = "eintr=lots".parse::<FaultPlan>().unwrap_err();
        assert!(e.0.contains("\"lots\" is not a number"), "{e}");
        let e = "crash=0.1".parse::<FaultPlan>().unwrap_err();
        assert!(e.0.contains("scheduled"), "{e}");
        assert_eq!(
            "all=0.01,swarm".parse::<FaultPlan>().unwrap().swarm,
            Swarm::All
        );
        let e = "swarm=most".parse::<FaultPlan>().unwrap_err();
        assert!(e.0.contains("swarm takes all or benign"), "{e}");
        assert!(FaultPlan::none()
            .with(FaultClass::Late, f64::NAN)
            .validate()
            .is_err());
    }

    #[test]
    fn counts_render_only_what_fired() {
        let mut c = FaultCounts::default();
        assert_eq!(c.to_string(), "none");
        c.bump(FaultClass::ShortRead);
        c.bump(FaultClass::ShortRead);
        c.bump(FaultClass::Eintr);
        assert_eq!(c.to_string(), "eintr=1 short-read=2");
        assert_eq!(c.total(), 3);
    }
}
