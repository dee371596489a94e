//! The simulated kernel's socket calls. Each returns what Linux would (same raw errnos), and
//! each injected fault keeps the kernel's contract (see `faults.rs`).

use std::collections::VecDeque;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use doppel_core::driver::{Event, Ready, Token};

use super::verdicts::Race;
use super::{errno, sock_site, At, World};
use crate::faults::FaultClass;
use crate::host::HostId;
use crate::net::queue::WorldEvent;
use crate::net::socket::{Kind, Listener, Phase, SockRef, Socket, TcpConn};

/// The listen backlog when none is given: Linux's `somaxconn` default.
const DEFAULT_BACKLOG: usize = 4096;

impl World {
    /// `socket` + `bind` + `listen`.
    pub(crate) fn sys_listen(
        &mut self,
        host: HostId,
        addr: SocketAddr,
        backlog: Option<u32>,
    ) -> io::Result<i32> {
        let ip = addr.ip();
        if !(ip.is_unspecified() || ip.is_loopback() || ip == self.hosts[host].ip) {
            return Err(errno(libc::EADDRNOTAVAIL));
        }
        let h = &mut self.tcp.tables[host];
        let port = match addr.port() {
            0 => h.ephemeral_port().ok_or_else(|| errno(libc::EADDRINUSE))?,
            p if h.listeners.contains_key(&p) || !h.ports.insert(p) => {
                return Err(errno(libc::EADDRINUSE))
            }
            p => p,
        };
        let listener = Listener {
            addr: SocketAddr::new(ip, port),
            backlog: backlog.map_or(DEFAULT_BACKLOG, |b| b.max(1) as usize).min(
                self.tcp
                    .config
                    .backlog_cap
                    .map_or(usize::MAX, |c| c as usize),
            ),
            queue: VecDeque::new(),
        };
        let site = Some(self.listener_site(host, port));
        let sock = self.tcp.socks.insert(Socket {
            host,
            site,
            reg: None,
            kind: Kind::Listener(listener),
        });
        let h = &mut self.tcp.tables[host];
        h.listeners.insert(port, sock);
        Ok(h.alloc_fd(sock))
    }

    /// `accept4`. The `accept-abort` fault takes a queued connection, resets it (its client sees
    /// `ECONNRESET`) and reports `ECONNABORTED`, as Linux does for a client that reset while
    /// queued.
    pub(crate) fn sys_accept(&mut self, reactor: usize, fd: i32) -> io::Result<(i32, SocketAddr)> {
        let host = self.reactors[reactor].host;
        let lref = self.fd(host, fd)?;
        if self.interrupts(reactor, FaultClass::Eintr, At::Sock(lref)) {
            return Err(errno(libc::EINTR));
        }
        let conn = match self.tcp.socks.get(lref).map(|s| &mut s.kind) {
            Some(Kind::Listener(l)) => l.queue.pop_front(),
            _ => return Err(errno(libc::EINVAL)),
        };
        let Some(conn) = conn else {
            return Err(errno(libc::EAGAIN));
        };
        if self.aborts_accept(conn) {
            self.reset(conn, libc::ECONNRESET);
            self.free(conn);
            return Err(errno(libc::ECONNABORTED));
        }
        let peer = match self.tcp.socks.get(conn).and_then(|s| s.stream()) {
            Some(st) => st.peer_addr,
            None => return Err(errno(libc::ECONNABORTED)),
        };
        let newfd = self.tcp.tables[host].alloc_fd(conn);
        self.hash.mix(&[0xAC, host as u64, newfd as u64]);
        Ok((newfd, peer))
    }

    /// `socket`: a fresh stream socket.
    pub(crate) fn sys_socket(&mut self, host: HostId) -> io::Result<i32> {
        let sock = self.tcp.socks.insert(Socket {
            host,
            site: None,
            reg: None,
            kind: Kind::Fresh,
        });
        Ok(self.tcp.tables[host].alloc_fd(sock))
    }

    /// `connect`: sends a SYN and reports `EINPROGRESS` (or, by the `eintr` fault, `EINTR`:
    /// the handshake goes on in the background either way, F3).
    pub(crate) fn sys_connect(
        &mut self,
        reactor: usize,
        fd: i32,
        addr: SocketAddr,
    ) -> io::Result<()> {
        let host = self.reactors[reactor].host;
        let sref = self.fd(host, fd)?;
        match self.tcp.socks.get(sref).map(|s| &s.kind) {
            Some(Kind::Fresh) => {}
            Some(Kind::Stream(st)) if matches!(st.phase, Phase::SynSent { .. }) => {
                return Err(errno(libc::EALREADY))
            }
            Some(Kind::Stream(_)) => return Err(errno(libc::EISCONN)),
            _ => return Err(errno(libc::EINVAL)),
        }
        let dest = self.resolve(host, addr);
        let local_ip = if addr.ip().is_loopback() {
            addr.ip()
        } else {
            self.hosts[host].ip
        };
        let port = self.tcp.tables[host]
            .ephemeral_port()
            .ok_or_else(|| errno(libc::EADDRNOTAVAIL))?;
        let local = SocketAddr::new(local_ip, port);
        let stream = TcpConn::new(local, addr, Phase::SynSent { retries: 0 });
        let site = Some(self.conn_site(host, local, addr, host));
        let sock = self.tcp.socks.get(sref).expect("checked above");
        sock.kind = Kind::Stream(Box::new(stream));
        sock.site = site;
        match dest {
            Some(to_host) => {
                let at = self.arrive(host, to_host, sref);
                self.queue.push(
                    at,
                    WorldEvent::Syn {
                        from: sref,
                        to: addr,
                    },
                );
            }
            None => {
                let at = self.clock + Duration::from_secs(3);
                let e = libc::EHOSTUNREACH;
                self.queue.push(at, WorldEvent::Rst { to: sref, errno: e });
            }
        }
        if self.interrupts(reactor, FaultClass::Eintr, At::Sock(sref)) {
            return Err(errno(libc::EINTR));
        }
        Err(errno(libc::EINPROGRESS))
    }

    /// `getsockopt(SO_ERROR)`: reads and clears the pending error.
    pub(crate) fn sys_take_error(
        &mut self,
        host: HostId,
        fd: i32,
    ) -> io::Result<Option<io::Error>> {
        let sref = self.fd(host, fd)?;
        Ok(self.tcp.take_error(sref).map(errno))
    }

    /// `read`. Queued bytes come first, then a pending error, then end of stream. The
    /// `short-read` fault returns a prefix and puts the rest back on the wire, to arrive as its
    /// own segment with its own edge: nothing more is queued when a read comes up short.
    pub(crate) fn sys_read(
        &mut self,
        reactor: usize,
        fd: i32,
        buf: &mut [u8],
    ) -> io::Result<usize> {
        let host = self.reactors[reactor].host;
        let sref = self.fd(host, fd)?;
        if self.interrupts(reactor, FaultClass::Eintr, At::Sock(sref)) {
            return Err(errno(libc::EINTR));
        }
        let (avail, fin) = match self.tcp.socks.get(sref).map(|s| &mut s.kind) {
            Some(Kind::Stream(st)) => (st.readable(), st.fin_in || st.fin_pending),
            _ => return Err(errno(libc::ENOTCONN)),
        };
        if avail == 0 || buf.is_empty() {
            return self.tcp.read_empty(sref, buf.len());
        }
        let mut n = avail.min(buf.len());
        // Once the FIN is in, everything before it is queued: a kernel never comes up short
        // then, so neither does the fault (it could not put the rest back ahead of the FIN).
        let short = if fin {
            None
        } else {
            self.shortens_read(sref, n)
        };
        if let Some(s) = short {
            n = s.n;
        }
        let st = self
            .tcp
            .socks
            .get(sref)
            .and_then(|s| s.stream())
            .expect("a stream");
        st.take(&mut buf[..n]);
        if let Some(s) = short {
            self.requeue_rest(sref, s.then);
        }
        self.opened_window(sref);
        self.hash.mix(&[0x5E, host as u64, fd as u64, n as u64]);
        self.hash.mix_bytes(&buf[..n]);
        Ok(n)
    }

    /// After a short read: puts what is left back on the wire (ahead of anything still in
    /// flight) and schedules its arrival, so it comes with an edge of its own.
    fn requeue_rest(&mut self, sref: SockRef, delay: Duration) {
        let st = self
            .tcp
            .socks
            .get(sref)
            .and_then(|s| s.stream())
            .expect("a stream");
        let rest = st.arrived;
        if rest == 0 {
            return;
        }
        st.arrived = 0;
        let from = st.peer;
        let at = self.clock + delay;
        self.queue.push(
            at,
            WorldEvent::Data {
                to: sref,
                from,
                len: rest,
            },
        );
    }

    /// The reader consumed bytes: if its peer's writer was blocked on the window, send it a
    /// window update (it arrives after the link's latency and raises a writable edge).
    fn opened_window(&mut self, sref: SockRef) {
        if let Some(update) = self.tcp.window_opened(sref) {
            let at = self.arrive(update.from, update.to, sref);
            self.queue.push(at, WorldEvent::Window { to: update.peer });
        }
    }

    /// `send`. Takes what fits in the peer's receive window, cut into segments at seeded
    /// boundaries. The `short-write` fault takes less than fits, and a writable edge follows
    /// shortly, as if the send buffer had filled and then drained.
    pub(crate) fn sys_write(&mut self, reactor: usize, fd: i32, buf: &[u8]) -> io::Result<usize> {
        let host = self.reactors[reactor].host;
        let sref = self.fd(host, fd)?;
        if self.interrupts(reactor, FaultClass::Eintr, At::Sock(sref)) {
            return Err(errno(libc::EINTR));
        }
        let peer = self.tcp.writable_peer(sref)?;
        let Some(space) = self.tcp.send_space(peer) else {
            return Err(errno(libc::EPIPE));
        };
        if buf.is_empty() {
            return Ok(0);
        }
        if space == 0 {
            let st = self
                .tcp
                .socks
                .get(sref)
                .and_then(|s| s.stream())
                .expect("a stream");
            st.writer_blocked = true;
            return Err(errno(libc::EAGAIN));
        }
        if let Some(then) = self.refuses(FaultClass::EagainWrite, sref) {
            self.writable_after(sref, then);
            return Err(errno(libc::EAGAIN));
        }
        let mut n = buf.len().min(space);
        if let Some(short) = self.shortens_write(sref, n) {
            n = short.n;
            self.writable_after(sref, short.then);
        } else if n == space {
            // The write filled the window: the socket is not writable now, as a kernel's is
            // not after a short write, and the reader's freeing space raises the edge. (A
            // runtime may wait for that edge instead of writing again to see `EAGAIN`.)
            if let Some(st) = self.tcp.socks.get(sref).and_then(|s| s.stream()) {
                st.writer_blocked = true;
            }
        }
        let p = self
            .tcp
            .socks
            .get(peer)
            .and_then(|s| s.stream())
            .expect("checked above");
        p.bytes.extend(&buf[..n]);
        match self.controlled {
            false => self.send_segments(sref, peer, n),
            true => self.send_segments_controlled(sref, peer, &buf[..n]),
        }
        self.hash.mix(&[0x3E, host as u64, fd as u64, n as u64]);
        Ok(n)
    }

    /// Schedules a writable edge for `sref` `delay` from now (after a short or refused write).
    fn writable_after(&mut self, sref: SockRef, delay: Duration) {
        let Some((reactor, token)) = self.tcp.socks.get(sref).and_then(|s| s.reg) else {
            return;
        };
        self.edge_after(delay, reactor, token, Ready::WRITABLE);
    }

    /// Cuts `n` bytes just added to `to`'s wire into segments and schedules their arrivals.
    fn send_segments(&mut self, from: SockRef, to: SockRef, mut n: usize) {
        while n > 0 {
            let seg = self.segment_len(from, n);
            let at = self.arrival(from, to);
            self.queue.push(
                at,
                WorldEvent::Data {
                    to,
                    from: Some(from),
                    len: seg,
                },
            );
            n -= seg;
        }
    }

    /// [`World::send_segments`] in a world with a rule or a held link: each segment of
    /// `bytes` goes through them.
    #[inline(never)]
    fn send_segments_controlled(&mut self, from: SockRef, to: SockRef, bytes: &[u8]) {
        let mut sent = 0;
        while sent < bytes.len() {
            let seg = self.segment_len(from, bytes.len() - sent);
            let at = self.arrival(from, to);
            let data = WorldEvent::Data {
                to,
                from: Some(from),
                len: seg,
            };
            self.send_controlled((from, to), at, &bytes[sent..sent + seg], data);
            sent += seg;
        }
    }

    /// The next segment's length, of `n` bytes left: whole up to the MSS, or, split at
    /// seeded boundaries, one draw whose top two bits keep the rest whole three times in four
    /// while the others cut a segment of 1..=max bytes.
    #[inline(always)]
    fn segment_len(&mut self, from: SockRef, n: usize) -> usize {
        let max = n.min(self.tcp.config.mss);
        if !self.tcp.config.split {
            return max;
        }
        let site = sock_site(
            &mut self.tcp.socks,
            &mut self.hosts,
            &mut self.net_site,
            from,
        );
        let x = site.next_u64();
        if max == n && x >> 62 != 0 {
            n
        } else {
            1 + ((u128::from(x << 2) * max as u128) >> 64) as usize
        }
    }

    /// The hosts of two sockets (a gone one counts as host 0, as the link lookup does).
    pub(crate) fn hosts_of(&mut self, from: SockRef, to: SockRef) -> (HostId, HostId) {
        (
            self.tcp.socks.get(from).map_or(0, |s| s.host),
            self.tcp.socks.get(to).map_or(0, |s| s.host),
        )
    }

    /// When the next segment from `from` reaches `to`: the link's delay, any stall (a fault
    /// that makes deadlines fire for real), the `deadline-race` fault (land exactly on the
    /// receiver's next timer, or a nanosecond before it), and never before the previous one.
    pub(crate) fn arrival(&mut self, from: SockRef, to: SockRef) -> doppel_core::time::Instant {
        let (fh, th) = self.hosts_of(from, to);
        let mut at = self.arrive(fh, th, from);
        if let Some(stall) = self.stalls(from) {
            let until = self.clock + stall;
            self.links.stall(fh, th, until);
            at = at.max(until + self.links.config(fh, th).latency);
        }
        let reactor = self
            .tcp
            .socks
            .get(to)
            .and_then(|s| s.reg)
            .map_or(self.host_reactors[th].start, |(r, _)| r);
        if let Race::At(t) = self.races(reactor, from, at) {
            at = t;
        }
        let st = self
            .tcp
            .socks
            .get(from)
            .and_then(|s| s.stream())
            .expect("a stream sends");
        at = at.max(st.last_arrival);
        st.last_arrival = at;
        at
    }

    /// `shutdown`.
    pub(crate) fn sys_shutdown(&mut self, host: HostId, fd: i32, how: Shutdown) -> io::Result<()> {
        let sref = self.fd(host, fd)?;
        let st = match self.tcp.socks.get(sref).map(|s| &mut s.kind) {
            Some(Kind::Stream(st)) if st.phase != Phase::Dead || st.peer.is_some() => st,
            Some(Kind::Stream(_)) | Some(Kind::Fresh) => return Err(errno(libc::ENOTCONN)),
            _ => return Err(errno(libc::ENOTCONN)),
        };
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            st.read_shut = true;
            st.discard();
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            self.send_fin(sref);
        }
        Ok(())
    }

    /// Sends our FIN (once), ordered after every byte already sent.
    fn send_fin(&mut self, sref: SockRef) {
        if let Some(peer) = self.tcp.fin_out(sref) {
            let at = self.arrival(sref, peer);
            let fin = WorldEvent::Fin { to: peer };
            match self.controlled {
                false => self.queue.push(at, fin),
                true => {
                    let link = self.hosts_of(sref, peer);
                    self.dispatch(link, at, fin)
                }
            }
        }
    }

    /// `close`. A stream with unread data is reset (Linux sends RST); otherwise it sends FIN and
    /// lingers until the peer's FIN. The `eintr` fault reports `EINTR` *after* closing (F4).
    pub(crate) fn sys_close(&mut self, reactor: usize, fd: i32) -> io::Result<()> {
        let host = self.reactors[reactor].host;
        let sref = self.tcp.tables[host]
            .free_fd(fd)
            .ok_or_else(|| errno(libc::EBADF))?;
        if let Some(sock) = self.tcp.socks.get(sref) {
            if let Some((r, token)) = sock.reg.take() {
                self.reactors[r].registered.remove(&token);
            }
        }
        // Decided at the socket's site while it still has one; reported after the close.
        let interrupted = self.interrupts(reactor, FaultClass::Eintr, At::Sock(sref));
        self.close_sock(host, sref);
        if interrupted {
            return Err(errno(libc::EINTR));
        }
        Ok(())
    }

    /// Closes a socket that no descriptor names any more.
    fn close_sock(&mut self, host: HostId, sref: SockRef) {
        let Some(sock) = self.tcp.socks.get(sref) else {
            return;
        };
        match &mut sock.kind {
            Kind::Fresh => {
                self.free(sref);
            }
            Kind::Udp(u) => {
                let port = u.local.port();
                self.tcp.tables[host].udp.remove(&port);
                self.free(sref);
            }
            Kind::Listener(l) => {
                let port = l.addr.port();
                let queued: Vec<SockRef> = l.queue.drain(..).collect();
                let h = &mut self.tcp.tables[host];
                h.listeners.remove(&port);
                h.ports.remove(&port);
                for conn in queued {
                    self.reset(conn, libc::ECONNRESET);
                    self.free(conn);
                }
                self.free(sref);
            }
            Kind::Stream(st) => {
                let unread = st.readable() > 0;
                let (dead, fin_in) = (st.phase != Phase::Established, st.fin_in);
                self.release_port(host, sref);
                if dead {
                    self.free(sref);
                } else if unread {
                    self.reset(sref, libc::ECONNRESET);
                    self.free(sref);
                } else {
                    self.send_fin(sref);
                    if fin_in {
                        self.free(sref);
                    } else if let Some(st) = self.tcp.socks.get(sref).and_then(|s| s.stream()) {
                        st.orphan = true;
                    }
                }
            }
        }
    }

    /// Frees the local port of a connecting (not accepted) stream.
    fn release_port(&mut self, host: HostId, sref: SockRef) {
        let Some(st) = self.tcp.socks.get(sref).and_then(|s| s.stream()) else {
            return;
        };
        let port = st.local.port();
        let h = &mut self.tcp.tables[host];
        if !h.listeners.contains_key(&port) {
            h.ports.remove(&port);
        }
    }

    /// `getsockname`.
    pub(crate) fn sys_local_addr(&mut self, host: HostId, fd: i32) -> io::Result<SocketAddr> {
        let sref = self.fd(host, fd)?;
        Ok(self.tcp.local_addr(sref))
    }

    /// `getpeername` (`ENOTCONN` until the handshake completes).
    pub(crate) fn sys_peer_addr(&mut self, host: HostId, fd: i32) -> io::Result<SocketAddr> {
        let sref = self.fd(host, fd)?;
        self.tcp.peer_addr(sref)
    }

    /// Watches a socket; readiness already there arrives as an edge on the next poll.
    pub(crate) fn sys_register(&mut self, reactor: usize, fd: i32, token: Token) -> io::Result<()> {
        let host = self.reactors[reactor].host;
        let sref = self.fd(host, fd)?;
        self.tcp.socks.get(sref).expect("fd names a socket").reg = Some((reactor, token));
        self.reactors[reactor].registered.insert(token);
        let now = self.tcp.readiness(sref);
        if now != Ready::EMPTY {
            self.queue_edge(reactor, token, now);
        }
        Ok(())
    }

    /// Stops watching a socket.
    pub(crate) fn sys_deregister(&mut self, reactor: usize, fd: i32) -> io::Result<()> {
        let host = self.reactors[reactor].host;
        let sref = self.fd(host, fd)?;
        if let Some((r, token)) = self.tcp.socks.get(sref).and_then(|s| s.reg.take()) {
            self.reactors[r].registered.remove(&token);
        }
        Ok(())
    }

    /// `epoll_wait` with a zero timeout: hands over the queued events. The `eintr-poll` fault
    /// fails it instead; the `spurious` fault adds an edge with nothing behind it.
    pub(crate) fn sys_poll(&mut self, reactor: usize, out: &mut Vec<Event>) -> io::Result<()> {
        if self.interrupts(reactor, FaultClass::PollEintr, At::Reactor(reactor)) {
            return Err(errno(libc::EINTR));
        }
        let n = self.reactors[reactor].registered.len();
        if let Some((k, ready)) = self.spurious(reactor, n) {
            let ev = self.spurious_event(reactor, k, ready);
            self.reactors[reactor].pending.push(ev);
        }
        let pending = &mut self.reactors[reactor].pending;
        self.hash.mix(&[0x90, reactor as u64, pending.len() as u64]);
        out.append(pending);
        Ok(())
    }

    /// Resets a connection end: it reports `errno` once, and its peer gets an RST after the
    /// link's latency.
    pub(crate) fn reset(&mut self, sref: SockRef, peer_errno: i32) {
        if let Some(rst) = self.tcp.reset(sref) {
            let at = self.arrive(rst.from, rst.to, sref);
            let to = rst.peer;
            self.queue.push(
                at,
                WorldEvent::Rst {
                    to,
                    errno: peer_errno,
                },
            );
        }
    }

    /// Frees a socket for good.
    pub(crate) fn free(&mut self, sref: SockRef) {
        if let Some(sock) = self.tcp.socks.remove(sref) {
            if let Some((r, token)) = sock.reg {
                self.reactors[r].registered.remove(&token);
            }
        }
    }
}
