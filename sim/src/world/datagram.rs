//! The simulated kernel's datagram calls and deliveries: `bind`, `connect`, `sendto`,
//! `recvfrom` on UDP sockets, a datagram's arrival (queued, dropped by a full receive buffer or
//! a connected socket's filter, or answered with ICMP port-unreachable), and that answer's
//! arrival. The datagram faults are decided in `verdicts.rs` ([`super::verdicts::Fate`]).

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use doppel_core::driver::Ready;

use super::verdicts::Fate;
use super::{errno, At, World};
use crate::faults::FaultClass;
use crate::host::HostId;
use crate::net::queue::{InFlight, WorldEvent};
use crate::net::socket::{Kind, SockRef, Socket};
use crate::net::udp::{UdpSock, MAX_DATAGRAM};
use crate::rules::{Proto, Verdict};
use crate::site::{Label, Site};

impl World {
    /// `socket(SOCK_DGRAM)` + `bind`: port 0 takes a free ephemeral port.
    pub(crate) fn sys_bind_datagram(&mut self, host: HostId, addr: SocketAddr) -> io::Result<i32> {
        let ip = addr.ip();
        if !(ip.is_unspecified() || ip.is_loopback() || ip == self.hosts[host].ip) {
            return Err(errno(libc::EADDRNOTAVAIL));
        }
        let h = &mut self.tcp.tables[host];
        let port = match addr.port() {
            0 => h
                .ephemeral_udp_port()
                .ok_or_else(|| errno(libc::EADDRINUSE))?,
            p if h.udp.contains_key(&p) => return Err(errno(libc::EADDRINUSE)),
            p => p,
        };
        let site = Some(self.udp_site(host, port));
        let local = SocketAddr::new(ip, port);
        let sock = UdpSock::new(local, self.tcp.config.dgram_buffer);
        let sref = self.tcp.socks.insert(Socket {
            host,
            site,
            reg: None,
            kind: Kind::Udp(Box::new(sock)),
        });
        let h = &mut self.tcp.tables[host];
        h.udp.insert(port, sref);
        Ok(h.alloc_fd(sref))
    }

    /// A fresh site for `host`'s UDP socket on `port`: `HOST:PORT/udp`, `~N` when bound again.
    fn udp_site(&mut self, host: HostId, port: u16) -> Site {
        let again = self.tcp.tables[host].udp_binds.entry(port).or_insert(0);
        let label = Label::Udp {
            host,
            port,
            again: *again,
        };
        *again += 1;
        Site::of(self.seed, label, &self.hosts)
    }

    /// `connect` on a datagram socket: records the peer (and, for a socket bound to the
    /// unspecified address, the source address the route gives), at once.
    pub(crate) fn sys_connect_datagram(
        &mut self,
        host: HostId,
        fd: i32,
        addr: SocketAddr,
    ) -> io::Result<()> {
        let sref = self.fd(host, fd)?;
        let source = self.source_ip(host, addr);
        let u = self.udp(sref)?;
        if u.local.ip().is_unspecified() {
            u.local.set_ip(source);
        }
        u.peer = Some(addr);
        Ok(())
    }

    /// `sendto` (`to`) or `send` (`None`: the connected peer). The datagram leaves whole or
    /// not at all; a pending `ECONNREFUSED` is reported first, once.
    pub(crate) fn sys_send_to(
        &mut self,
        reactor: usize,
        fd: i32,
        buf: &[u8],
        to: Option<SocketAddr>,
    ) -> io::Result<usize> {
        let (host, sref) = self.datagram_call(reactor, fd)?;
        let u = self.udp(sref)?;
        let dest = to.or(u.peer).ok_or_else(|| errno(libc::EDESTADDRREQ))?;
        if buf.len() > MAX_DATAGRAM {
            return Err(errno(libc::EMSGSIZE));
        }
        let local = u.local;
        let from = match local.ip().is_unspecified() {
            true => SocketAddr::new(self.source_ip(host, dest), local.port()),
            false => local,
        };
        self.hash
            .mix(&[0xD5, host as u64, fd as u64, buf.len() as u64]);
        self.route(sref, (host, from), dest, buf);
        Ok(buf.len())
    }

    /// Puts a datagram on the wire from `sref` (at `from` on `host`) to `dest`: lost if no
    /// host has that address or a partition cuts the link, else as its [`Fate`] says.
    fn route(
        &mut self,
        sref: SockRef,
        (host, from): (HostId, SocketAddr),
        dest: SocketAddr,
        buf: &[u8],
    ) {
        let Some(to_host) = self.resolve(host, dest) else {
            return;
        };
        if self.links.is_cut(host, to_host, self.clock) {
            return;
        }
        let verdict = match self.rules.any() {
            true => self.rule_verdict(Proto::Udp, (host, from), (to_host, dest), buf),
            false => Verdict::Pass,
        };
        let (extra, copy) = match verdict {
            Verdict::Pass => (Duration::ZERO, None),
            Verdict::Drop => return,
            Verdict::Delay(d) => (d, None),
            Verdict::Duplicate => (Duration::ZERO, Some(Duration::from_micros(1))),
        };
        let latency = self.links.config(host, to_host).latency;
        let Fate::Sent { hold, copy_after } = self.datagram_fate(sref, latency) else {
            return;
        };
        let at = self.arrive(host, to_host, sref) + hold + extra;
        let datagram = |bytes: Box<[u8]>| {
            WorldEvent::Datagram(Box::new(InFlight {
                to: dest,
                host: to_host,
                from,
                sender: sref,
                bytes,
            }))
        };
        let link = (host, to_host);
        for after in [copy, copy_after].into_iter().flatten() {
            self.dispatch(link, at + after, datagram(buf.into()));
        }
        self.dispatch(link, at, datagram(buf.into()));
    }

    /// `recvfrom`, or a peek: the oldest datagram, cut to `buf`, and its sender; a pending
    /// error first; `EAGAIN` with nothing queued.
    pub(crate) fn sys_recv_from(
        &mut self,
        reactor: usize,
        fd: i32,
        buf: &mut [u8],
        peek: bool,
    ) -> io::Result<(usize, SocketAddr)> {
        let (host, sref) = self.datagram_call(reactor, fd)?;
        let u = self.udp(sref)?;
        let (n, from) = u.take(buf, peek).ok_or_else(|| errno(libc::EAGAIN))?;
        self.hash.mix(&[0xDA, host as u64, fd as u64, n as u64]);
        self.hash.mix_bytes(&buf[..n]);
        Ok((n, from))
    }

    /// A datagram reaches `host`: queued on the socket bound to its port (a readable edge),
    /// dropped by a full receive buffer or a socket connected elsewhere, or, with nobody
    /// bound, answered with ICMP port-unreachable. A crashed host drops it.
    #[cold]
    pub(crate) fn on_datagram(&mut self, d: InFlight) {
        let InFlight {
            to,
            host,
            from,
            sender,
            bytes,
        } = d;
        if !self.hosts[host].up {
            return;
        }
        let bound = self.tcp.tables[host].udp.get(&to.port()).copied();
        let Some(sref) = bound.filter(|&s| self.bound_at(s, to)) else {
            self.unreachable(host, sender, to);
            return;
        };
        let len = bytes.len();
        let Ok(u) = self.udp(sref) else {
            return;
        };
        if !u.accepts(from) {
            return;
        }
        let port = u.local.port();
        if u.enqueue(crate::net::udp::Datagram { from, bytes }) {
            self.raise(sref, Ready::READABLE);
        } else {
            crate::trace::dgram_drop(port, len, "overflow");
        }
    }

    /// Whether `sref` is bound where a datagram for `to` lands (its address, or any).
    fn bound_at(&mut self, sref: SockRef, to: SocketAddr) -> bool {
        let ip = to.ip();
        self.udp(sref).is_ok_and(|u| {
            let local = u.local.ip();
            local.is_unspecified() || local == ip || (ip.is_loopback() && local.is_loopback())
        })
    }

    /// Sends `sender` the ICMP port-unreachable for its datagram to `dest`, from `host`.
    fn unreachable(&mut self, host: HostId, sender: SockRef, dest: SocketAddr) {
        let Some(back) = self.tcp.socks.get(sender).map(|s| s.host) else {
            return;
        };
        let at = self.arrive(host, back, sender);
        self.queue
            .push(at, WorldEvent::Unreachable(Box::new((sender, dest))));
    }

    /// The port-unreachable arrives: a socket connected to `dest` reports `ECONNREFUSED` on
    /// its next call (an unconnected one is not told, as on Linux).
    #[cold]
    pub(crate) fn on_unreachable(&mut self, sender: SockRef, dest: SocketAddr) {
        let Ok(u) = self.udp(sender) else {
            return;
        };
        if u.peer != Some(dest) {
            return;
        }
        u.error = Some(libc::ECONNREFUSED);
        self.raise(sender, Ready::READABLE | Ready::ERROR);
    }

    /// What every datagram call on `fd` of `reactor`'s host does first: finds the socket,
    /// takes its `eintr` fault, and reports (once) a pending error. The host and the socket.
    fn datagram_call(&mut self, reactor: usize, fd: i32) -> io::Result<(HostId, SockRef)> {
        let host = self.reactors[reactor].host;
        let sref = self.fd(host, fd)?;
        if self.interrupts(reactor, FaultClass::Eintr, At::Sock(sref)) {
            return Err(errno(libc::EINTR));
        }
        if let Some(e) = self.udp(sref)?.error.take() {
            return Err(errno(e));
        }
        Ok((host, sref))
    }

    /// The datagram socket `sref`, or the error a call on another kind of socket gets.
    fn udp(&mut self, sref: SockRef) -> io::Result<&mut UdpSock> {
        match self.tcp.socks.get(sref).map(|s| &mut s.kind) {
            Some(Kind::Udp(u)) => Ok(u),
            _ => Err(errno(libc::EOPNOTSUPP)),
        }
    }

    /// The source address a datagram from `host` to `dest` gets (loopback for loopback).
    fn source_ip(&self, host: HostId, dest: SocketAddr) -> IpAddr {
        match dest.ip().is_loopback() {
            true => IpAddr::V4(Ipv4Addr::LOCALHOST),
            false => self.hosts[host].ip,
        }
    }
}
