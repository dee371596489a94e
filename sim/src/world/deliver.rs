//! What happens when a network event's instant comes: handshakes, data, FIN, RST, window
//! updates and late edges.

use std::time::Duration;

use doppel_core::driver::Ready;

use super::verdicts::Edge;
use super::{HostRequest, World};
use crate::net::queue::WorldEvent;
use crate::net::socket::{Kind, Phase, SockRef, Socket, TcpConn};
use crate::net::tcp::{Landing, Target};

/// Linux's SYN retransmissions before `connect` fails with `ETIMEDOUT` (`tcp_syn_retries`).
const SYN_RETRIES: u32 = 6;

impl World {
    /// Raises readiness on a socket: queues an event for the reactor watching it (late, if
    /// the fault says so).
    pub(crate) fn raise(&mut self, sock: SockRef, ready: Ready) {
        let Some((reactor, token)) = self.tcp.socks.get(sock).and_then(|s| s.reg) else {
            return;
        };
        match self.edge(sock) {
            Edge::Now => self.queue_edge(reactor, token, ready),
            Edge::Late(delay) => self.edge_after(delay, reactor, token, ready),
        }
    }

    /// Carries out one network event.
    pub(crate) fn deliver(&mut self, event: WorldEvent) {
        self.delivered += 1;
        match event {
            WorldEvent::Syn { from, to } => self.on_syn(from, to),
            WorldEvent::SynRetry { sock } => self.on_syn_retry(sock),
            WorldEvent::SynAck { to, server } => self.on_syn_ack(to, server),
            WorldEvent::Data { to, from, len } => self.on_data(to, from, len),
            WorldEvent::Fin { to } => self.on_fin(to),
            WorldEvent::Rst { to, errno } => self.on_rst(to, errno),
            WorldEvent::Window { to } => self.raise(to, Ready::WRITABLE),
            WorldEvent::Edge {
                reactor,
                token,
                ready,
            } => self.queue_edge(reactor, token, ready),
            WorldEvent::Datagram(d) => self.on_datagram(*d),
            WorldEvent::Unreachable(u) => self.on_unreachable(u.0, u.1),
            WorldEvent::Crash {
                host,
                restart_after,
            } => self.requests.push(HostRequest::Crash(host, restart_after)),
            WorldEvent::Restart { host } => self.requests.push(HostRequest::Restart(host)),
        }
    }

    /// A SYN arrives: refused if nobody listens, dropped if the backlog is full (the client
    /// retries), otherwise a new connection waits in the listener's queue.
    fn on_syn(&mut self, from: SockRef, to: std::net::SocketAddr) {
        let Some(client) = self.tcp.socks.get(from) else {
            return;
        };
        let client_host = client.host;
        let client_local = match client.stream() {
            Some(st) if matches!(st.phase, Phase::SynSent { .. }) => st.local,
            _ => return,
        };
        let Some(dest) = self.resolve(client_host, to) else {
            return;
        };
        let listener = self.tcp.tables[dest].listeners.get(&to.port()).copied();
        let accepting = listener.and_then(|l| match self.tcp.socks.get(l).map(|s| &s.kind) {
            Some(Kind::Listener(l)) => Some(l.queue.len() < l.backlog),
            _ => None,
        });
        let (listener, has_room) = match (listener, accepting) {
            (Some(l), Some(room)) => (l, room),
            _ => {
                let at = self.arrive(dest, client_host, from);
                let e = libc::ECONNREFUSED;
                self.queue.push(at, WorldEvent::Rst { to: from, errno: e });
                return;
            }
        };
        if !has_room || self.drops_syn(from) {
            self.schedule_syn_retry(from);
            return;
        }
        let local = if to.ip().is_unspecified() {
            std::net::SocketAddr::new(self.hosts[dest].ip, to.port())
        } else {
            to
        };
        let mut st = TcpConn::new(local, client_local, Phase::Established);
        st.peer = Some(from);
        let site = Some(self.conn_site(dest, local, client_local, client_host));
        let server = self.tcp.socks.insert(Socket {
            host: dest,
            site,
            reg: None,
            kind: Kind::Stream(Box::new(st)),
        });
        if let Some(Kind::Listener(l)) = self.tcp.socks.get(listener).map(|s| &mut s.kind) {
            l.queue.push_back(server);
        }
        self.raise(listener, Ready::READABLE);
        let at = self.arrive(dest, client_host, server);
        self.queue.push(at, WorldEvent::SynAck { to: from, server });
    }

    /// The dropped SYN's retransmission timer, doubling from one second as Linux's does.
    fn schedule_syn_retry(&mut self, sock: SockRef) {
        let retries = match self
            .tcp
            .socks
            .get(sock)
            .and_then(|s| s.stream())
            .map(|st| st.phase)
        {
            Some(Phase::SynSent { retries }) => retries,
            _ => return,
        };
        let at = self.clock + Duration::from_secs(1u64 << retries.min(6));
        self.queue.push(at, WorldEvent::SynRetry { sock });
    }

    /// Resends a SYN, or gives up with `ETIMEDOUT`.
    fn on_syn_retry(&mut self, sock: SockRef) {
        let Some(s) = self.tcp.socks.get(sock) else {
            return;
        };
        let host = s.host;
        let Some(st) = s.stream() else {
            return;
        };
        let Phase::SynSent { retries } = st.phase else {
            return;
        };
        if retries >= SYN_RETRIES {
            self.on_rst(sock, libc::ETIMEDOUT);
            return;
        }
        st.phase = Phase::SynSent {
            retries: retries + 1,
        };
        let to = st.peer_addr;
        let dest = self.resolve(host, to).unwrap_or(host);
        let at = self.arrive(host, dest, sock);
        self.queue.push(at, WorldEvent::Syn { from: sock, to });
    }

    /// The SYN-ACK completes the client's connect; a client that gave up meanwhile resets the
    /// server end.
    fn on_syn_ack(&mut self, to: SockRef, server: SockRef) {
        if self.tcp.syn_acked(to, server) {
            let writable = self.tcp.readiness(to) | Ready::WRITABLE;
            self.raise(to, writable);
        } else {
            self.on_rst(server, libc::ECONNRESET);
        }
    }

    /// Bytes arrive. A socket whose owner closed it answers with RST; the `reset` fault resets
    /// the connection here, mid-stream.
    fn on_data(&mut self, to: SockRef, from: Option<SockRef>, len: usize) {
        match self.tcp.data_target(to) {
            Target::Gone => {
                if let Some(from) = from {
                    self.on_rst(from, libc::ECONNRESET);
                }
            }
            Target::Orphan => {
                self.reset(to, libc::ECONNRESET);
                self.free(to);
            }
            Target::Live if self.resets(to) => {
                self.reset(to, libc::ECONNRESET);
                self.on_rst(to, libc::ECONNRESET);
            }
            Target::Live => {
                if let Some(ready) = self.tcp.land(to, len) {
                    self.raise(to, ready);
                }
            }
        }
    }

    /// The peer's FIN arrives (see [`crate::net::tcp::Tcp::fin_in`]).
    fn on_fin(&mut self, to: SockRef) {
        let landing = self.tcp.fin_in(to);
        self.carry_out(to, landing);
    }

    /// An RST (or a refusal, or a timeout) arrives (see [`crate::net::tcp::Tcp::rst_in`]).
    pub(crate) fn on_rst(&mut self, to: SockRef, errno: i32) {
        let landing = self.tcp.rst_in(to, errno);
        self.carry_out(to, landing);
    }

    /// Does what an arrival's landing asks.
    fn carry_out(&mut self, to: SockRef, landing: Landing) {
        match landing {
            Landing::Nothing => {}
            Landing::Raise(ready) => self.raise(to, ready),
            Landing::Free => self.free(to),
        }
    }
}
