//! From TOML to a checked [`Spec`]: the file's shape first (types, unknown keys, with the key's
//! path and line), then every value's meaning (names, ranges, durations, hosts), each error
//! naming the file, the line and the key.

use std::time::Duration;

use doppel_core::group::{GroupConfig, Placement};
use doppel_sim::{CrashSpec, FaultPlan, LinkConfig, PartitionSpec, Strategy};
use toml::Spanned;

use super::raw::{RawFaults, RawLoad, RawNetwork, RawServer, RawSpec, Text};
use super::{duration, Network, SeedRange, Spec, SpecError};
use crate::run::client_name;
use crate::workload::{self, Load, Workload};

/// Deserializes the file's shape, with the path of the key that failed.
pub(crate) fn deserialize(file: &str, text: &str) -> Result<RawSpec, SpecError> {
    let de = toml::de::Deserializer::parse(text).map_err(|e| {
        SpecError::at(
            file,
            text,
            e.span().map(|s| s.start),
            None,
            e.message().to_string(),
        )
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        // `Spanned` values deserialize through a private inner key; it is no key of the file.
        let key = e
            .path()
            .to_string()
            .replace(".$__serde_spanned_private_value", "");
        let inner = e.into_inner();
        let message = inner.message().to_string();
        SpecError::at(
            file,
            text,
            inner.span().map(|s| s.start),
            Some(key),
            message,
        )
    })
}

/// Checks values against their meaning, naming the file and line of each.
pub(crate) struct Checker<'a> {
    /// The file's name.
    pub(crate) file: &'a str,
    /// Its text (for line numbers).
    pub(crate) text: &'a str,
    /// The workloads a spec may name.
    pub(crate) workloads: &'a [&'static dyn Workload],
}

impl Checker<'_> {
    /// An error at `span`'s line under `key`.
    fn err(&self, at: usize, key: &str, message: String) -> SpecError {
        SpecError::at(
            self.file,
            self.text,
            Some(at),
            Some(key.to_string()),
            message,
        )
    }

    /// A duration value, at most [`MAX_DURATION`].
    fn duration(&self, v: &Text, key: &str) -> Result<Duration, SpecError> {
        let d = duration::parse(v.get_ref()).map_err(|m| self.err(v.span().start, key, m))?;
        self.bounded(d, v, key)
    }

    /// An optional duration, or `default`.
    fn duration_or(
        &self,
        v: &Option<Text>,
        key: &str,
        default: Duration,
    ) -> Result<Duration, SpecError> {
        v.as_ref().map_or(Ok(default), |v| self.duration(v, key))
    }

    /// A number that must lie in `min..=max` (its documented range), or `default` if absent.
    fn between<T: Copy + PartialOrd + std::fmt::Display>(
        &self,
        v: &Option<Spanned<T>>,
        key: &str,
        (min, max): (T, T),
        default: T,
    ) -> Result<T, SpecError> {
        let Some(s) = v else {
            return Ok(default);
        };
        let n = *s.get_ref();
        let size = if n < min {
            "small"
        } else if n > max {
            "large"
        } else {
            return Ok(n);
        };
        Err(self.err(
            s.span().start,
            key,
            format!("{n} is too {size} (expected {min} to {max})"),
        ))
    }

    /// A duration at most [`MAX_DURATION`].
    fn bounded(&self, d: Duration, v: &Text, key: &str) -> Result<Duration, SpecError> {
        if d > MAX_DURATION {
            return Err(self.err(
                v.span().start,
                key,
                format!(
                    "{} is too long (expected at most {})",
                    v.get_ref().trim(),
                    duration::show(MAX_DURATION)
                ),
            ));
        }
        Ok(d)
    }

    /// The whole spec.
    pub(crate) fn spec(&self, raw: RawSpec, stem: String) -> Result<Spec, SpecError> {
        let w = workload::find(self.workloads, raw.workload.get_ref())
            .map_err(|m| self.err(raw.workload.span().start, "workload", m))?;
        let variant = match &raw.variant {
            None => 0,
            Some(v) => workload::variant(w, v.get_ref())
                .map_err(|m| self.err(v.span().start, "variant", m))?,
        };
        let seeds = match &raw.seeds {
            None => SeedRange {
                start: 0,
                end: 1000,
            },
            Some(s) => {
                SeedRange::parse(s.get_ref()).map_err(|m| self.err(s.span().start, "seeds", m))?
            }
        };
        let load = self.load(&raw.load)?;
        let hosts = Hosts(load.clients);
        let network = self.network(&raw.network, &hosts)?;
        let faults = self.faults(&raw.faults, &hosts)?;
        let server = self.server(&raw.server)?;
        let time_limit =
            self.duration_or(&raw.time_limit, "time_limit", Duration::from_secs(600))?;
        if time_limit.is_zero() {
            let at = raw.time_limit.as_ref().map_or(0, |t| t.span().start);
            return Err(self.err(
                at,
                "time_limit",
                "0 leaves the run no virtual time (expected a positive duration)".into(),
            ));
        }
        let liveness = self.liveness(&raw.liveness, time_limit)?;
        Ok(Spec {
            name: doppel_sim::one_line(&raw.name.unwrap_or(stem)),
            source: self.file.to_string(),
            about: doppel_sim::one_line(&raw.about.unwrap_or_default()),
            workload: w,
            variant,
            load,
            seeds,
            time_limit,
            real_time_limit: self.duration_or(
                &raw.real_time_limit,
                "real_time_limit",
                Duration::from_secs(60),
            )?,
            network,
            faults,
            server,
            liveness,
        })
    }

    /// `[liveness]`: a positive `within`, and the phase inside the time limit.
    fn liveness(
        &self,
        raw: &Option<super::raw::RawLiveness>,
        limit: Duration,
    ) -> Result<Option<doppel_sim::Liveness>, SpecError> {
        let Some(raw) = raw else {
            return Ok(None);
        };
        let after = self.duration(&raw.after, "liveness.after")?;
        let within = self.duration(&raw.within, "liveness.within")?;
        if within.is_zero() {
            return Err(self.err(
                raw.within.span().start,
                "liveness.within",
                "0 leaves the clients no time to finish (expected a positive duration)".into(),
            ));
        }
        if after.saturating_add(within) > limit {
            return Err(self.err(
                raw.within.span().start,
                "liveness.within",
                format!(
                    "faults stop at {after:?} and the clients have {within:?} more, past the time limit of {limit:?} (raise time_limit)"
                ),
            ));
        }
        Ok(Some(doppel_sim::Liveness { after, within }))
    }

    /// `[server]`: the group of reactors the server runs on, when the table is there; every
    /// key is optional and defaults to `GroupConfig::default()`'s.
    fn server(&self, raw: &Option<RawServer>) -> Result<Option<GroupConfig>, SpecError> {
        let Some(raw) = raw else {
            return Ok(None);
        };
        let d = GroupConfig::default();
        let n = |v: &Option<Spanned<u64>>, key: &str, range: (u64, u64), default: usize| {
            self.between(v, key, range, default as u64)
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        };
        let config = GroupConfig {
            sub_reactors: n(
                &raw.sub_reactors,
                "server.sub_reactors",
                (1, MAX_REACTORS),
                d.sub_reactors,
            )?,
            workers: n(&raw.workers, "server.workers", (0, MAX_REACTORS), d.workers)?,
            max_connections: n(
                &raw.max_connections,
                "server.max_connections",
                (1, MAX_CONNECTIONS),
                d.max_connections,
            )?,
            worker_queue: n(
                &raw.worker_queue,
                "server.worker_queue",
                (1, MAX_WORKER_QUEUE),
                d.worker_queue,
            )?,
            placement: self.placement(&raw.placement)?,
            spin_polls: d.spin_polls,
        };
        Ok(Some(config))
    }

    /// `server.placement`: `round-robin` or `least-loaded`.
    fn placement(&self, raw: &Option<Text>) -> Result<Placement, SpecError> {
        let Some(t) = raw else {
            return Ok(Placement::default());
        };
        match t.get_ref().trim() {
            "round-robin" => Ok(Placement::RoundRobin),
            "least-loaded" => Ok(Placement::LeastLoaded),
            other => Err(self.err(
                t.span().start,
                "server.placement",
                format!("{other:?}: expected \"round-robin\" or \"least-loaded\""),
            )),
        }
    }

    /// `[load]`.
    fn load(&self, raw: &RawLoad) -> Result<Load, SpecError> {
        let d = Load::default();
        let deadline = match &raw.deadline {
            Some(t) if t.get_ref().trim() == "none" => None,
            Some(t) => Some(self.duration(t, "load.deadline")?),
            None => d.deadline,
        };
        let max_size = self.between(
            &raw.max_size,
            "load.max_size",
            (1, MAX_SIZE),
            d.max_size as u64,
        )?;
        Ok(Load {
            clients: self.between(&raw.clients, "load.clients", (1, MAX_CLIENTS), d.clients)?,
            rounds: self.between(&raw.rounds, "load.rounds", (1, MAX_ROUNDS), d.rounds)?,
            max_size: usize::try_from(max_size).unwrap_or(usize::MAX),
            pipeline: self.between(
                &raw.pipeline,
                "load.pipeline",
                (1, MAX_PIPELINE),
                d.pipeline,
            )?,
            reconnects: self.between(
                &raw.reconnects,
                "load.reconnects",
                (0, MAX_RECONNECTS),
                d.reconnects,
            )?,
            deadline,
        })
    }

    /// `[network]`.
    fn network(&self, raw: &RawNetwork, hosts: &Hosts) -> Result<Network, SpecError> {
        let d = LinkConfig::default();
        let link = LinkConfig {
            latency: self.duration_or(&raw.latency, "network.latency", d.latency)?,
            jitter: self.duration_or(&raw.jitter, "network.jitter", d.jitter)?,
        };
        let mut links = Vec::new();
        for (i, l) in raw.link.iter().enumerate() {
            let key = |k: &str| format!("network.link[{i}].{k}");
            let a = self.host(&l.a, &key("a"), hosts)?;
            let b = self.host(&l.b, &key("b"), hosts)?;
            let cfg = LinkConfig {
                latency: self.duration_or(&l.latency, &key("latency"), link.latency)?,
                jitter: self.duration_or(&l.jitter, &key("jitter"), link.jitter)?,
            };
            links.push((a, b, cfg));
        }
        let window = match &raw.window {
            Some(_) => Some(self.between(&raw.window, "network.window", (1, MAX_WINDOW), 0)?),
            None => None,
        };
        let backlog = match &raw.backlog {
            Some(_) => Some(self.between(&raw.backlog, "network.backlog", (1, MAX_BACKLOG), 0)?),
            None => None,
        };
        Ok(Network {
            link,
            links,
            window: window.map(|w| usize::try_from(w).unwrap_or(usize::MAX)),
            backlog,
            split: raw.split.unwrap_or(true),
            strategy: self.strategy(&raw.strategy)?,
            clock_skew: self.clock_skew(raw)?,
        })
    }

    /// `network.clock_offset` (at most a day) and `network.clock_drift_ppm`.
    fn clock_skew(&self, raw: &RawNetwork) -> Result<(Duration, u32), SpecError> {
        use doppel_sim::clock::{
            DEFAULT_MAX_DRIFT_PPM, DEFAULT_MAX_OFFSET, MAX_DRIFT_PPM, MAX_OFFSET,
        };
        let offset = self.duration_or(
            &raw.clock_offset,
            "network.clock_offset",
            DEFAULT_MAX_OFFSET,
        )?;
        if let Some(v) = raw.clock_offset.as_ref().filter(|_| offset > MAX_OFFSET) {
            return Err(self.err(
                v.span().start,
                "network.clock_offset",
                format!("{offset:?} is too large (expected at most 86400s, a day)"),
            ));
        }
        let drift = self.between(
            &raw.clock_drift_ppm,
            "network.clock_drift_ppm",
            (0, MAX_DRIFT_PPM),
            DEFAULT_MAX_DRIFT_PPM,
        )?;
        Ok((offset, drift))
    }

    /// `network.strategy`: `random` or `pct:DEPTH`.
    fn strategy(&self, raw: &Option<Text>) -> Result<Strategy, SpecError> {
        let Some(t) = raw else {
            return Ok(Strategy::Random);
        };
        t.get_ref()
            .parse()
            .map_err(|e| self.err(t.span().start, "network.strategy", e))
    }

    /// A host name: `server` or a client (`c0` ... `cN-1`).
    fn host(&self, v: &Text, key: &str, hosts: &Hosts) -> Result<String, SpecError> {
        let name = v.get_ref();
        if hosts.contains(name) {
            return Ok(name.clone());
        }
        Err(self.err(
            v.span().start,
            key,
            format!("no host {name:?} (hosts: {})", hosts.describe()),
        ))
    }

    /// `[faults]`.
    fn faults(&self, raw: &RawFaults, hosts: &Hosts) -> Result<FaultPlan, SpecError> {
        let mut plan = match &raw.plan {
            None => FaultPlan::none(),
            Some(p) => p
                .get_ref()
                .parse()
                .map_err(|e: doppel_sim::faults::FaultError| {
                    self.err(p.span().start, "faults.plan", e.0)
                })?,
        };
        for (class, v) in raw.classes() {
            let Some(v) = v else { continue };
            let p = *v.get_ref();
            if !(0.0..=1.0).contains(&p) {
                return Err(self.err(
                    v.span().start,
                    &format!("faults.{class}"),
                    format!("{p} is not a probability (expected 0 to 1)"),
                ));
            }
            plan = plan.with(class, p);
        }
        if raw.swarm.unwrap_or(false) && plan.swarm == doppel_sim::Swarm::Off {
            plan.swarm = doppel_sim::Swarm::All;
        }
        plan.max_eintr_streak = self.between(
            &raw.max_eintr_streak,
            "faults.max_eintr_streak",
            (1, MAX_EINTR_STREAK),
            plan.max_eintr_streak,
        )?;
        plan.stall_max = self.duration_or(&raw.stall_max, "faults.stall_max", plan.stall_max)?;
        for (i, p) in raw.partition.iter().enumerate() {
            let key = |k: &str| format!("faults.partition[{i}].{k}");
            let spec = PartitionSpec {
                a: self.host(&p.a, &key("a"), hosts)?,
                b: self.host(&p.b, &key("b"), hosts)?,
                from: self.duration(&p.from, &key("from"))?,
                until: self.duration(&p.until, &key("until"))?,
                one_way: p.one_way.unwrap_or(false),
            };
            if spec.until <= spec.from {
                return Err(self.err(
                    p.until.span().start,
                    &key("until"),
                    "the partition must heal after it starts".into(),
                ));
            }
            plan = plan.partition(spec);
        }
        for (i, c) in raw.crash.iter().enumerate() {
            let key = |k: &str| format!("faults.crash[{i}].{k}");
            let restart_after = match &c.restart_after {
                Some(t) => Some(self.duration(t, &key("restart_after"))?),
                None => None,
            };
            plan = plan.crash(CrashSpec {
                host: self.host(&c.host, &key("host"), hosts)?,
                at: self.duration(&c.at, &key("at"))?,
                restart_after,
            });
        }
        Ok(plan)
    }
}

// Every number's range, as `docs/specs.md` documents it. Each bound keeps one run's memory and
// time within what a sweep can afford: a spec beyond one is an error before anything runs.

/// The most sub-reactors (or workers) a spec may ask for: each is an OS thread on loopback.
pub(crate) const MAX_REACTORS: u64 = 64;
/// `server.max_connections` at most.
pub(crate) const MAX_CONNECTIONS: u64 = 1_000_000;
/// `server.worker_queue` at most.
pub(crate) const MAX_WORKER_QUEUE: u64 = 1_000_000;
/// `load.clients` at most: each is a simulated host (a task on loopback).
pub(crate) const MAX_CLIENTS: u32 = 10_000;
/// `load.rounds` at most.
pub(crate) const MAX_ROUNDS: u32 = 10_000_000;
/// `load.max_size` at most (16 MiB): a client holds a few messages of this size at once.
pub(crate) const MAX_SIZE: u64 = 16 * 1024 * 1024;
/// `load.pipeline` at most: requests in flight per client.
pub(crate) const MAX_PIPELINE: u32 = 1024;
/// `load.reconnects` at most.
pub(crate) const MAX_RECONNECTS: u32 = 1_000_000;
/// `network.window` at most (16 MiB), bytes per connection direction.
pub(crate) const MAX_WINDOW: u64 = 16 * 1024 * 1024;
/// `network.backlog` at most (a listen backlog is 16 bits in Linux's `listen`).
pub(crate) const MAX_BACKLOG: u32 = 65_535;
/// `faults.max_eintr_streak` at most.
pub(crate) const MAX_EINTR_STREAK: u32 = 1_000;
/// Every duration in a spec at most: about 11.6 days, of virtual time or wall time.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(1_000_000);

/// The hosts of the default world: `server` and `load.clients` clients.
struct Hosts(u32);

impl Hosts {
    /// Whether `name` is one of them.
    fn contains(&self, name: &str) -> bool {
        name == "server" || (0..self.0).any(|i| client_name(i) == name)
    }

    /// A short list for errors.
    fn describe(&self) -> String {
        match self.0 {
            1 => "server, c0".into(),
            n => format!("server, c0 ... c{}", n - 1),
        }
    }
}
