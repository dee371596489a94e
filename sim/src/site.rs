//! Sites: where fault opportunities and network draws are numbered. A site is a socket (a
//! listener, or one end of a connection), a reactor, or a host, named by a stable label
//! (`server:7000`, `c0:49152/server:7000`, `server#0`, `server`). Each site numbers its own
//! opportunities per fault class and its own network draws, and every draw is a pure function
//! of (seed, site, class, number): what happens on one connection moves no draw of another, so a
//! change to one connection's behaviour leaves every other connection's faults and segment
//! boundaries where they were.
//!
//! A label is kept as a few numbers (hosts by index, ports, a reuse count) and written out as
//! text only when a fault fires or a run names faults by `--only`: a connection costs no string.

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::host_id::HostId;
use crate::rng::{mix, GOLDEN};

/// The far end of a connection, as a label names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Peer {
    /// A host of the world (by name).
    Host(HostId),
    /// An address no host has.
    Addr(IpAddr),
}

/// A site's name, as numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Label {
    /// Draws that belong to no live socket: `net`.
    Net,
    /// A host (crashes, and its sockets before they have an address): `HOST`.
    Host(HostId),
    /// A reactor of a host: `HOST#N`.
    Reactor(HostId, u32),
    /// A listener: `HOST:PORT`, then `HOST:PORT~N` for the N-th time the port is bound again.
    Listener {
        host: HostId,
        port: u16,
        /// How many times the host bound this port before.
        again: u32,
    },
    /// One end of a connection: `HOST:PORT/PEER:PORT`, then `~N` once the client's ephemeral
    /// ports have wrapped N times (so a reused port names a new site).
    Conn {
        host: HostId,
        /// Its local port.
        port: u16,
        /// The far end.
        peer: Peer,
        /// The far end's port.
        peer_port: u16,
        /// How many times the client's ephemeral ports had wrapped.
        again: u32,
    },
    /// A `buggify!` call site: its file, line and column.
    Code(&'static str),
    /// A bound UDP socket: `HOST:PORT/udp`, then `~N` for the N-th time the port is bound
    /// again.
    Udp {
        host: HostId,
        port: u16,
        /// How many times the host bound this UDP port before.
        again: u32,
    },
}

/// What a label needs of the hosts it names: their names (rendered) and name hashes (keyed).
pub(crate) trait HostNames {
    /// The host's name.
    fn name(&self, host: HostId) -> &str;
    /// A hash of the host's name.
    fn name_hash(&self, host: HostId) -> u64;
}

impl Label {
    /// A number that differs between labels: what a site's key is derived from.
    fn identity(&self, hosts: &impl HostNames) -> u64 {
        let host = |h: HostId| hosts.name_hash(h);
        let words: [u64; 5] = match *self {
            Label::Net => [1, 0, 0, 0, 0],
            Label::Host(h) => [2, host(h), 0, 0, 0],
            Label::Reactor(h, k) => [3, host(h), u64::from(k), 0, 0],
            Label::Listener {
                host: h,
                port,
                again,
            } => [4, host(h), u64::from(port), u64::from(again), 0],
            Label::Udp {
                host: h,
                port,
                again,
            } => [6, host(h), u64::from(port), u64::from(again), 0],
            Label::Code(at) => [7, crate::rng::name_hash(at), 0, 0, 0],
            Label::Conn {
                host: h,
                port,
                peer,
                peer_port,
                again,
            } => {
                let peer = match peer {
                    Peer::Host(p) => host(p),
                    Peer::Addr(IpAddr::V4(a)) => u64::from(u32::from(a)) | 1 << 40,
                    Peer::Addr(IpAddr::V6(a)) => {
                        let b = u128::from(a);
                        (b as u64) ^ ((b >> 64) as u64).rotate_left(7) ^ 1 << 41
                    }
                };
                let ports = u64::from(port) << 16 | u64::from(peer_port);
                [5, host(h), peer, ports, u64::from(again)]
            }
        };
        words.iter().fold(0, |acc: u64, w| {
            mix(acc.wrapping_add(*w).wrapping_mul(GOLDEN))
        })
    }

    /// The label as faults are named by it.
    pub(crate) fn render(&self, hosts: &impl HostNames) -> String {
        let name = |h: HostId| hosts.name(h);
        let mut out = String::new();
        let _ = match *self {
            Label::Net => write!(out, "net"),
            Label::Host(h) => write!(out, "{}", name(h)),
            Label::Reactor(h, k) => write!(out, "{}#{k}", name(h)),
            Label::Listener { host, port, .. } => write!(out, "{}:{port}", name(host)),
            Label::Udp { host, port, .. } => write!(out, "{}:{port}/udp", name(host)),
            Label::Code(at) => write!(out, "{at}"),
            Label::Conn {
                host,
                port,
                peer,
                peer_port,
                ..
            } => match peer {
                Peer::Host(p) => write!(out, "{}:{port}/{}:{peer_port}", name(host), name(p)),
                Peer::Addr(a) => write!(
                    out,
                    "{}:{port}/{}",
                    name(host),
                    std::net::SocketAddr::new(a, peer_port)
                ),
            },
        };
        let again = match *self {
            Label::Listener { again, .. }
            | Label::Conn { again, .. }
            | Label::Udp { again, .. } => again,
            _ => 0,
        };
        if again > 0 {
            let _ = write!(out, "~{again}");
        }
        out
    }
}

/// A site: its label, its key, and how far it has drawn.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    /// What faults at it are named.
    label: Label,
    /// Its key: the seed and the label's identity, mixed.
    key: u64,
    /// Per fault class: the next opportunity's number.
    next: [u64; crate::classes::FaultClass::COUNT],
    /// Network draws taken (segment boundaries, jitter).
    net: u64,
}

/// The stream of a site's network draws, apart from its fault classes'.
const NET_SALT: u64 = 0x6e65_745f_7369_7465;

impl Site {
    /// The site with `label`, in the run seeded with `seed`; `identity` tells it from the
    /// others.
    pub(crate) fn new(seed: u64, label: Label, identity: u64) -> Site {
        Site {
            label,
            key: mix(seed ^ identity.rotate_left(29)),
            next: [0; crate::classes::FaultClass::COUNT],
            net: 0,
        }
    }

    /// The site with `label` of a world whose hosts are `hosts`.
    pub(crate) fn of(seed: u64, label: Label, hosts: &impl HostNames) -> Site {
        Site::new(seed, label, label.identity(hosts))
    }

    /// Its label.
    pub(crate) fn label(&self) -> Label {
        self.label
    }

    /// Its key.
    #[inline]
    pub(crate) fn key(&self) -> u64 {
        self.key
    }

    /// The number of class `class`'s next opportunity here, counted.
    #[inline]
    pub(crate) fn take(&mut self, class: usize) -> u64 {
        let k = self.next[class];
        self.next[class] += 1;
        k
    }

    /// The next network draw (64 random bits).
    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.net += 1;
        mix((self.key ^ NET_SALT).wrapping_add(self.net.wrapping_mul(GOLDEN)))
    }

    /// A network draw in `0..n` (`n > 0`).
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three hosts, their name hashes as the world computes them.
    struct Names(Vec<&'static str>);

    impl HostNames for Names {
        fn name(&self, host: HostId) -> &str {
            self.0[host]
        }

        fn name_hash(&self, host: HostId) -> u64 {
            crate::rng::name_hash(self.0[host])
        }
    }

    fn hosts() -> Names {
        Names(vec!["server", "c0", "c1"])
    }

    #[test]
    fn labels_render_and_differ() {
        let h = hosts();
        let conn = |host, peer, again| Label::Conn {
            host,
            port: 7000,
            peer: Peer::Host(peer),
            peer_port: 49152,
            again,
        };
        assert_eq!(conn(0, 1, 0).render(&h), "server:7000/c0:49152");
        assert_eq!(conn(0, 1, 2).render(&h), "server:7000/c0:49152~2");
        assert_eq!(Label::Reactor(2, 1).render(&h), "c1#1");
        let l = Label::Listener {
            host: 0,
            port: 7000,
            again: 1,
        };
        assert_eq!(l.render(&h), "server:7000~1");
        let ids = [
            conn(0, 1, 0).identity(&h),
            conn(0, 2, 0).identity(&h),
            conn(0, 1, 1).identity(&h),
            Label::Reactor(0, 0).identity(&h),
            Label::Host(0).identity(&h),
            l.identity(&h),
        ];
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
    }

    #[test]
    fn sites_draw_alike_for_the_same_label_and_seed_only() {
        let h = hosts();
        let draws = |seed, label: Label| {
            let mut s = Site::of(seed, label, &h);
            (0..4).map(|_| s.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draws(1, Label::Host(1)), draws(1, Label::Host(1)));
        assert_ne!(draws(1, Label::Host(1)), draws(1, Label::Host(2)));
        assert_ne!(
            draws(1, Label::Reactor(0, 0)),
            draws(2, Label::Reactor(0, 0))
        );
    }
}
