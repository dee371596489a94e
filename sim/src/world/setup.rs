//! Building the initial world from a setup, and tearing a host down in a crash.

use doppel_core::time::Instant;

use super::hash::RunHash;
use super::injector::Injector;
use super::{ReactorState, World};
use crate::builder::SimBuilder;
use crate::faults::FaultPlan;
use crate::host::HostState;
use crate::net::link::{Cut, Links};
use crate::net::queue::{EventQueue, WorldEvent};
use crate::net::socket::Kind;
use crate::net::tcp::{Tcp, TcpConfig};
use crate::rng::Rngs;
use crate::sched::Picker;
use crate::site::{Label, Site};

/// The links of a setup: the default, per-pair configurations, and scheduled partitions.
fn links(b: &SimBuilder, plan: &FaultPlan, index: &dyn Fn(&str) -> usize) -> Links {
    let mut links = Links {
        default: b.link,
        ..Links::default()
    };
    for (a, bn, cfg) in &b.links {
        links.config.insert((index(a), index(bn)), *cfg);
        links.config.insert((index(bn), index(a)), *cfg);
    }
    for p in &plan.partitions {
        let cut = Cut {
            from: Instant::ZERO + p.from,
            until: Instant::ZERO + p.until,
        };
        links
            .cuts
            .entry((index(&p.a), index(&p.b)))
            .or_default()
            .push(cut);
        if !p.one_way {
            links
                .cuts
                .entry((index(&p.b), index(&p.a)))
                .or_default()
                .push(cut);
        }
    }
    links
}

/// The network queue at the start: the scheduled crashes.
fn crashes(plan: &FaultPlan, index: &dyn Fn(&str) -> usize) -> EventQueue {
    let mut queue = EventQueue::default();
    for c in &plan.crashes {
        let host = index(&c.host);
        let restart_after = c.restart_after;
        queue.push(
            Instant::ZERO + c.at,
            WorldEvent::Crash {
                host,
                restart_after,
            },
        );
    }
    queue
}

/// The builder's hosts, each with its site.
fn host_states(b: &SimBuilder) -> Vec<HostState> {
    let mut hosts: Vec<HostState> = b
        .hosts
        .iter()
        .map(|h| HostState::new(b.seed, h.name.clone(), h.addr.parse().expect("validated")))
        .collect();
    let sites: Vec<Site> = (0..hosts.len())
        .map(|h| Site::of(b.seed, Label::Host(h), &hosts))
        .collect();
    for (h, site) in hosts.iter_mut().zip(sites) {
        h.site = site;
    }
    hosts
}

/// Each host's range of reactor indexes, and the reactors.
fn reactor_states(
    b: &SimBuilder,
    hosts: &Vec<HostState>,
) -> (Vec<std::ops::Range<usize>>, Vec<ReactorState>) {
    let mut host_reactors = Vec::new();
    let mut reactors = Vec::new();
    for (host, spec) in b.hosts.iter().enumerate() {
        let start = reactors.len();
        reactors.extend((0..spec.reactors()).map(|k| ReactorState {
            host,
            site: Site::of(b.seed, Label::Reactor(host, k as u32), hosts),
            pending: Vec::new(),
            registered: Default::default(),
            eintr_streak: 0,
            listed: false,
            next_timer: None,
        }));
        host_reactors.push(start..reactors.len());
    }
    (host_reactors, reactors)
}

impl World {
    /// The initial world for a setup (already validated).
    pub(crate) fn from_builder(b: &SimBuilder) -> World {
        let (mut rng, dice) = Rngs::new(b.seed);
        let plan = b.plan.resolve(&mut rng.swarm);
        let picker = Picker::new(b.strategy, &mut rng.sched);
        let hosts = host_states(b);
        let index = |n: &str| hosts.iter().position(|h| h.name == n).expect("validated");
        let links = links(b, &plan, &index);
        let queue = crashes(&plan, &index);
        let rules = crate::rules::Rules::new(&b.rules, index);
        let (host_reactors, reactors) = reactor_states(b, &hosts);
        let net_site = Site::of(b.seed, Label::Net, &hosts);
        let mut hash = RunHash(0xcbf2_9ce4_8422_2325);
        hash.mix(&[b.seed]);
        let n_hosts = hosts.len();
        World {
            clock: Instant::ZERO,
            spin: crate::spin::Spin::new(b.livelock_steps),
            faults: Injector::new(plan, dice),
            rng,
            queue,
            links,
            by_ip: hosts.iter().enumerate().map(|(i, h)| (h.ip, i)).collect(),
            hosts,
            host_reactors,
            reactors,
            tcp: Tcp::new(
                TcpConfig {
                    window: b.window,
                    backlog_cap: b.backlog,
                    mss: 1460,
                    split: b.split,
                    dgram_buffer: b.dgram_buffer,
                },
                n_hosts,
            ),
            tasks: picker,
            woken: Vec::new(),
            hash,
            delivered: 0,
            requests: Vec::new(),
            seed: b.seed,
            net_site,
            controlled: rules.any(),
            code_sites: Default::default(),
            coverage: Default::default(),
            violation: None,
            clock_bounds: (
                u64::try_from(b.clock_bounds.0.as_nanos()).unwrap_or(u64::MAX),
                b.clock_bounds.1,
            ),
            rules,
            holds: Default::default(),
            held: Vec::new(),
        }
    }

    /// A crash, in the world: connections reset toward their peers, sockets and descriptors
    /// gone, the reactor's queue emptied (the driver drops its reactors from the ready set).
    pub(crate) fn crash_host(&mut self, host: usize) {
        let socks: Vec<_> = self.tcp.tables[host].open().collect();
        for s in socks {
            let queued: Vec<_> = match self.tcp.socks.get(s).map(|x| &mut x.kind) {
                Some(Kind::Listener(l)) => l.queue.drain(..).collect(),
                _ => Vec::new(),
            };
            for q in queued.into_iter().chain([s]) {
                self.reset(q, libc::ECONNRESET);
                self.free(q);
            }
        }
        self.tcp.tables[host].wipe();
        self.hosts[host].up = false;
        for r in self.host_reactors[host].clone() {
            self.reactors[r].pending.clear();
            self.reactors[r].registered.clear();
        }
    }
}
