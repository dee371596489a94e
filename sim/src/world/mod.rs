//! The world, the simulated kernel: one clock, the TCP model (`net::tcp`), the network's links
//! and event queue, the fault injector, the hosts, each reactor's queue of readiness events
//! (an event for a reactor off the driver's ready set rings the driver, through `woken`), the
//! choice of a task a reactor asks for, and the run's ledger (hash, deliveries, requests for
//! the driver). A call goes faults (`verdicts.rs`) → TCP model → ledger in `syscalls.rs` (datagrams:
//! `datagram.rs`); the network's deliveries are `deliver.rs`. The driver (`sim.rs`, with `stepping.rs`) owns the
//! runtimes, the ready set, the timer index and the choice of reactor.

mod calm;
pub(crate) mod control;
mod datagram;
mod deliver;
mod hash;
mod hold;
pub(crate) mod injector;
mod setup;
mod skew;
mod syscalls;
mod verdicts;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use doppel_core::driver::{Event, Ready, Token};
use doppel_core::time::Instant;

use crate::host::{HostId, HostState};
use crate::net::link::Links;
use crate::net::queue::{EventQueue, WorldEvent};
use crate::net::socket::{SockRef, Sockets};
use crate::net::tcp::Tcp;
use crate::rng::Rngs;
use crate::site::{Label, Peer, Site};

use hash::RunHash;
use injector::Injector;

/// A reactor as the world sees it: whose it is and what is waiting for its next `poll`.
#[derive(Debug)]
pub(crate) struct ReactorState {
    pub(crate) host: HostId,
    /// Where its own faults are numbered (`eintr-poll`, `spurious`): `HOST#N`.
    pub(crate) site: Site,
    /// Readiness events for its next `poll`, in arrival order (consecutive edges for one
    /// token coalesce, as epoll's ready list does).
    pub(crate) pending: Vec<Event>,
    /// Tokens registered with it (for spurious edges).
    pub(crate) registered: std::collections::BTreeSet<Token>,
    /// Injected `EINTR`s in a row, capped by the plan.
    pub(crate) eintr_streak: u32,
    /// Rung in `World::woken` and not yet taken off the driver's ready set since.
    pub(crate) listed: bool,
    /// When its next timer falls due, as the driver last filed it (the timeout its `poll`
    /// would block for): what `deadline-race` aims segments at.
    pub(crate) next_timer: Option<Instant>,
}

/// Where a fault opportunity belongs: a socket or a reactor (crashes count at their host).
/// Each site numbers its own opportunities, so what happens at one moves nothing at another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum At {
    /// A socket: its connection's (or listener's) own site, or its host's while it is fresh.
    Sock(SockRef),
    /// A reactor (`eintr-poll`, `spurious`).
    Reactor(usize),
}

/// The site of socket `s`: its own, its host's while it has none (a fresh socket), or the
/// world's fallback once it is gone. A free function over the world's fields, so a caller can
/// hold it beside a borrow of the links.
pub(crate) fn sock_site<'a>(
    socks: &'a mut Sockets,
    hosts: &'a mut [HostState],
    fallback: &'a mut Site,
    s: SockRef,
) -> &'a mut Site {
    match socks.get(s) {
        Some(sock) => match &mut sock.site {
            Some(site) => site,
            None => &mut hosts[sock.host].site,
        },
        None => fallback,
    }
}

/// Host-level requests the world cannot carry out itself (the driver owns the runtimes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostRequest {
    /// Crash the host, restarting it after the duration if given.
    Crash(HostId, Option<Duration>),
    /// Restart a crashed host.
    Restart(HostId),
}

/// Everything simulated.
#[derive(Debug)]
pub(crate) struct World {
    /// Virtual time.
    pub(crate) clock: Instant,
    /// What busy tasks call as a livelock nears.
    pub(crate) spin: crate::spin::Spin,
    /// The seeded streams.
    pub(crate) rng: Rngs,
    /// The fault plan, the dice, and what fired.
    pub(crate) faults: Injector,
    /// What the network does next.
    pub(crate) queue: EventQueue,
    /// Latencies, stalls, partitions.
    pub(crate) links: Links,
    pub(crate) hosts: Vec<HostState>,
    /// Hosts by address, so a SYN finds its host in O(log n).
    pub(crate) by_ip: std::collections::BTreeMap<std::net::IpAddr, HostId>,
    /// The reactors of each host (its simulated threads): a contiguous range of indexes.
    pub(crate) host_reactors: Vec<std::ops::Range<usize>>,
    pub(crate) reactors: Vec<ReactorState>,
    /// The TCP model: every socket, and the knobs.
    pub(crate) tcp: Tcp,
    /// Chooses a task within a reactor, when its `Scheduler::pick` asks.
    pub(crate) tasks: crate::sched::Picker,
    /// Reactors that have events waiting since the driver last looked, each once: the driver
    /// moves them into its ready set (`crate::stepping`) before it next files or picks.
    pub(crate) woken: Vec<usize>,
    /// The run's hash.
    pub(crate) hash: RunHash,
    /// Network events delivered.
    pub(crate) delivered: u64,
    /// Crash and restart requests for the driver.
    pub(crate) requests: Vec<HostRequest>,
    /// The seed (new sites derive their keys from it).
    pub(crate) seed: u64,
    /// Network draws that belong to no live socket.
    pub(crate) net_site: Site,
    /// The test's per-message rules.
    pub(crate) rules: crate::rules::Rules,
    /// Held directed links (`NetControl::hold`).
    pub(crate) holds: std::collections::BTreeSet<(HostId, HostId)>,
    /// Messages waiting on held links, in the order they were sent.
    pub(crate) held: Vec<hold::Held>,
    /// Each `buggify!` call site met so far: its site, and whether it is on for this run.
    pub(crate) code_sites: std::collections::BTreeMap<&'static str, (Site, bool)>,
    /// A rule is installed or a link is held: TCP segments take the slower path that asks.
    pub(crate) controlled: bool,
    /// The bounds of a skewed clock: the largest wall-clock offset (ns) and drift (ppm).
    pub(crate) clock_bounds: (u64, u32),
    /// What the user's assertions did this run.
    pub(crate) coverage: crate::coverage::Coverage,
    /// The first `always!` that failed, and on which host: the driver ends the run with it.
    pub(crate) violation: Option<(&'static doppel_core::assertion::AssertSite, HostId)>,
}

pub(crate) use crate::net::tcp::errno;

impl World {
    /// The host whose IP is `ip` (loopback and unspecified addresses mean `local`).
    pub(crate) fn resolve(&self, local: HostId, addr: SocketAddr) -> Option<HostId> {
        let ip = addr.ip();
        if ip.is_loopback() || ip.is_unspecified() {
            return Some(local);
        }
        self.by_ip.get(&ip).copied().filter(|&h| self.hosts[h].up)
    }

    /// The socket behind a descriptor of `host`, or `EBADF`.
    pub(crate) fn fd(&self, host: HostId, fd: i32) -> io::Result<SockRef> {
        self.tcp.tables[host]
            .sock(fd)
            .ok_or_else(|| errno(libc::EBADF))
    }

    /// A fresh site for a listener of `host` on `port`: `HOST:PORT`, with `~N` when the host
    /// binds the port again.
    pub(crate) fn listener_site(&mut self, host: HostId, port: u16) -> Site {
        let again = self.tcp.tables[host].listens.entry(port).or_insert(0);
        let label = Label::Listener {
            host,
            port,
            again: *again,
        };
        *again += 1;
        Site::of(self.seed, label, &self.hosts)
    }

    /// A fresh site for `host`'s end of a connection from `local` to `peer`: `HOST:PORT/PEER:PORT`
    /// (hosts by name, an unknown peer by address), with `~N` once `client`'s ephemeral ports
    /// have wrapped N times.
    pub(crate) fn conn_site(
        &self,
        host: HostId,
        local: SocketAddr,
        peer: SocketAddr,
        client: HostId,
    ) -> Site {
        let ip = peer.ip();
        let peer_host = if ip.is_loopback() || ip.is_unspecified() {
            Peer::Host(host)
        } else {
            self.by_ip
                .get(&ip)
                .map_or(Peer::Addr(ip), |&h| Peer::Host(h))
        };
        let label = Label::Conn {
            host,
            port: local.port(),
            peer: peer_host,
            peer_port: peer.port(),
            again: self.tcp.tables[client].port_wraps,
        };
        Site::of(self.seed, label, &self.hosts)
    }

    /// When something `sock` sends from host `from` to host `to` now arrives (the link's
    /// latency, stalls and partitions, and a jitter draw from `sock`'s own site).
    pub(crate) fn arrive(&mut self, from: HostId, to: HostId, sock: SockRef) -> Instant {
        let site = sock_site(
            &mut self.tcp.socks,
            &mut self.hosts,
            &mut self.net_site,
            sock,
        );
        self.links.arrival(from, to, self.clock, site)
    }

    /// Schedules an edge for `reactor`'s `token` `delay` from now (a late edge, or the writable
    /// edge that follows a short write).
    pub(crate) fn edge_after(
        &mut self,
        delay: Duration,
        reactor: usize,
        token: Token,
        ready: Ready,
    ) {
        let at = self.clock + delay;
        self.queue.push(
            at,
            WorldEvent::Edge {
                reactor,
                token,
                ready,
            },
        );
    }

    /// Counts one evaluation of an assertion on `host`; a false `always!` is the run's end.
    pub(crate) fn assertion(
        &mut self,
        host: HostId,
        site: &'static doppel_core::assertion::AssertSite,
        held: bool,
    ) {
        self.coverage.record(site, held);
        if !held && site.kind == doppel_core::assertion::AssertKind::Always {
            self.violation.get_or_insert((site, host));
        }
    }

    /// Queues an event for a reactor's next `poll`.
    pub(crate) fn queue_edge(&mut self, reactor: usize, token: Token, ready: Ready) {
        let pending = &mut self.reactors[reactor].pending;
        match pending.last_mut() {
            Some(last) if last.token == token => last.ready |= ready,
            _ => pending.push(Event { token, ready }),
        }
        let state = &mut self.reactors[reactor];
        if !state.listed {
            state.listed = true;
            self.woken.push(reactor);
        }
    }
}
