//! A host's kernel tables: its descriptors (lowest free number first, as the kernel hands them
//! out), its listening ports and ports in use, and the counters that tell a port bound again
//! from its first binding. Part of the TCP model: no clock, no dice, no hash.

use std::collections::{BTreeMap, BTreeSet};

use super::socket::SockRef;

/// One host's descriptor table and ports.
#[derive(Debug)]
pub(crate) struct HostTables {
    /// Open descriptors, indexed by number (they are small and dense, as the kernel's are).
    pub(crate) fds: Vec<Option<SockRef>>,
    /// Freed descriptor numbers below `next_fd` (the lowest is reused first, as the kernel does).
    pub(crate) free_fds: BTreeSet<i32>,
    /// The next never-used descriptor number.
    pub(crate) next_fd: i32,
    /// Listening ports.
    pub(crate) listeners: BTreeMap<u16, SockRef>,
    /// Local ports of streams and listeners.
    pub(crate) ports: BTreeSet<u16>,
    /// The next ephemeral port to try.
    pub(crate) next_port: u16,
    /// How many times each port was bound by a listener (crashes included), so a port bound
    /// again names a new site.
    pub(crate) listens: BTreeMap<u16, u32>,
    /// How many times its ephemeral ports have wrapped around, so a reused port names a new
    /// site.
    pub(crate) port_wraps: u32,
    /// Bound UDP sockets by port (UDP's ports are a space of their own).
    pub(crate) udp: BTreeMap<u16, SockRef>,
    /// The next ephemeral UDP port to try.
    pub(crate) next_udp_port: u16,
    /// How many times each UDP port was bound, so a port bound again names a new site.
    pub(crate) udp_binds: BTreeMap<u16, u32>,
}

impl Default for HostTables {
    fn default() -> Self {
        HostTables {
            fds: Vec::new(),
            free_fds: BTreeSet::new(),
            next_fd: 3,
            listeners: BTreeMap::new(),
            ports: BTreeSet::new(),
            next_port: 49152,
            listens: BTreeMap::new(),
            port_wraps: 0,
            udp: BTreeMap::new(),
            next_udp_port: 49152,
            udp_binds: BTreeMap::new(),
        }
    }
}

impl HostTables {
    /// Gives `sock` the lowest free descriptor number.
    pub(crate) fn alloc_fd(&mut self, sock: SockRef) -> i32 {
        let fd = self.free_fds.pop_first().unwrap_or_else(|| {
            self.next_fd += 1;
            self.next_fd - 1
        });
        let i = fd as usize;
        if self.fds.len() <= i {
            self.fds.resize(i + 1, None);
        }
        self.fds[i] = Some(sock);
        fd
    }

    /// The socket behind descriptor `fd`.
    #[inline]
    pub(crate) fn sock(&self, fd: i32) -> Option<SockRef> {
        self.fds.get(usize::try_from(fd).ok()?).copied().flatten()
    }

    /// Every open descriptor's socket, by descriptor number.
    pub(crate) fn open(&self) -> impl Iterator<Item = SockRef> + '_ {
        self.fds.iter().filter_map(|s| *s)
    }

    /// Frees a descriptor number.
    pub(crate) fn free_fd(&mut self, fd: i32) -> Option<SockRef> {
        let sock = self.fds.get_mut(usize::try_from(fd).ok()?)?.take()?;
        self.free_fds.insert(fd);
        Some(sock)
    }

    /// Picks a free ephemeral port (49152..=65535), or `None` if all are taken.
    pub(crate) fn ephemeral_port(&mut self) -> Option<u16> {
        for _ in 0..16384 {
            let p = self.next_port;
            self.next_port = if p == u16::MAX {
                self.port_wraps += 1;
                49152
            } else {
                p + 1
            };
            if self.ports.insert(p) {
                return Some(p);
            }
        }
        None
    }

    /// Picks a free ephemeral UDP port (49152..=65535), or `None` if all are taken.
    pub(crate) fn ephemeral_udp_port(&mut self) -> Option<u16> {
        for _ in 0..16384 {
            let p = self.next_udp_port;
            self.next_udp_port = if p == u16::MAX { 49152 } else { p + 1 };
            if !self.udp.contains_key(&p) {
                return Some(p);
            }
        }
        None
    }

    /// Forgets everything (a crash): descriptors, ports and listeners.
    pub(crate) fn wipe(&mut self) {
        self.fds.clear();
        self.free_fds.clear();
        self.next_fd = 3;
        self.listeners.clear();
        self.ports.clear();
        self.udp.clear();
    }
}
