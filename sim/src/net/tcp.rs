//! The TCP model: every socket (listeners, connections and their state), each host's descriptor
//! and port tables, and the model's knobs,
//! and what can be read off them without a clock: readiness, where a write goes and how much
//! fits, what an empty read or a finished stream reports. It draws no dice and keeps no hash;
//! segments in flight, their arrival times and the faults are the world's (`world/`).

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use doppel_core::driver::Ready;

use super::socket::{Kind, Phase, SockRef, Sockets};
use super::tables::HostTables;
use crate::host_id::HostId;

/// An `io::Error` with a raw errno, as the kernel would return it.
pub(crate) fn errno(e: i32) -> io::Error {
    io::Error::from_raw_os_error(e)
}

/// The TCP model's knobs, fixed for a run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TcpConfig {
    /// Receive window per connection direction, bytes.
    pub(crate) window: usize,
    /// The most connections any listener may queue (a small `somaxconn`), if set.
    pub(crate) backlog_cap: Option<u32>,
    /// Largest segment, bytes.
    pub(crate) mss: usize,
    /// Cut writes at seeded boundaries (or send them whole up to the MSS).
    pub(crate) split: bool,
    /// Each UDP socket's receive buffer, bytes (datagrams beyond it are dropped).
    pub(crate) dgram_buffer: usize,
}

/// The sockets and the knobs they follow.
#[derive(Debug)]
pub(crate) struct Tcp {
    /// Every socket.
    pub(crate) socks: Sockets,
    /// Each host's descriptors and ports, by host.
    pub(crate) tables: Vec<HostTables>,
    pub(crate) config: TcpConfig,
}

impl Tcp {
    /// No sockets yet, and empty tables for `hosts` hosts.
    pub(crate) fn new(config: TcpConfig, hosts: usize) -> Tcp {
        Tcp {
            socks: Sockets::default(),
            tables: (0..hosts).map(|_| HostTables::default()).collect(),
            config,
        }
    }

    /// What a socket would report if registered now (registration reports existing readiness).
    pub(crate) fn readiness(&mut self, sock: SockRef) -> Ready {
        let window = self.config.window;
        let (peer, mut r) = match self.socks.get(sock).map(|s| &mut s.kind) {
            Some(Kind::Listener(l)) if !l.queue.is_empty() => return Ready::READABLE,
            Some(Kind::Udp(u)) => return u.readiness(),
            Some(Kind::Stream(st)) => {
                let mut r = Ready::EMPTY;
                if st.readable() > 0 || st.fin_in || st.error.is_some() {
                    r |= Ready::READABLE;
                }
                if st.fin_in {
                    r |= Ready::READ_CLOSED;
                }
                if st.phase == Phase::Dead {
                    r |= Ready::READABLE
                        | Ready::WRITABLE
                        | Ready::READ_CLOSED
                        | Ready::WRITE_CLOSED;
                }
                (st.peer.filter(|_| st.phase == Phase::Established), r)
            }
            _ => return Ready::EMPTY,
        };
        if let Some(p) = peer
            .and_then(|p| self.socks.get(p))
            .and_then(|p| p.stream())
        {
            if p.bytes.len() < window {
                r |= Ready::WRITABLE;
            }
        }
        r
    }

    /// Room in `peer`'s receive window for a write toward it, or `None` if `peer` is gone.
    pub(crate) fn send_space(&mut self, peer: SockRef) -> Option<usize> {
        let window = self.config.window;
        let p = self.socks.get(peer)?.stream()?;
        Some(window.saturating_sub(p.bytes.len()))
    }

    /// A read that found nothing queued: the error, end of stream, or `EAGAIN`.
    pub(crate) fn read_empty(&mut self, sref: SockRef, want: usize) -> io::Result<usize> {
        let st = self
            .socks
            .get(sref)
            .and_then(|s| s.stream())
            .expect("a stream");
        if want == 0 {
            return Ok(0);
        }
        if let Some(e) = st.error.take() {
            return Err(errno(e));
        }
        if st.fin_in || st.read_shut || st.phase == Phase::Dead {
            return Ok(0);
        }
        Err(errno(libc::EAGAIN))
    }

    /// The other end of a stream, if known.
    pub(crate) fn peer_of(&mut self, sref: SockRef) -> Option<SockRef> {
        self.socks
            .get(sref)
            .and_then(|s| s.stream())
            .and_then(|st| st.peer)
    }

    /// The peer a write on `sref` goes to, or the error the write reports.
    pub(crate) fn writable_peer(&mut self, sref: SockRef) -> io::Result<SockRef> {
        let st = match self.socks.get(sref).map(|s| &mut s.kind) {
            Some(Kind::Stream(st)) => st,
            _ => return Err(errno(libc::ENOTCONN)),
        };
        if let Some(e) = st.error.take() {
            return Err(errno(e));
        }
        match st.phase {
            Phase::Dead => return Err(errno(libc::EPIPE)),
            Phase::SynSent { .. } => return Err(errno(libc::EAGAIN)),
            Phase::Established => {}
        }
        if st.fin_out {
            return Err(errno(libc::EPIPE));
        }
        st.peer.ok_or_else(|| errno(libc::ENOTCONN))
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`).
    pub(crate) fn take_error(&mut self, sref: SockRef) -> Option<i32> {
        self.socks
            .get(sref)
            .and_then(|s| s.stream())
            .and_then(|st| st.error.take())
    }

    /// The address a socket is bound to (`getsockname`): the unspecified address before bind.
    pub(crate) fn local_addr(&mut self, sref: SockRef) -> SocketAddr {
        match self.socks.get(sref).map(|s| &s.kind) {
            Some(Kind::Listener(l)) => l.addr,
            Some(Kind::Stream(st)) => st.local,
            Some(Kind::Udp(u)) => u.local,
            _ => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        }
    }

    /// The peer's address (`getpeername`), `ENOTCONN` until the handshake completes.
    pub(crate) fn peer_addr(&mut self, sref: SockRef) -> io::Result<SocketAddr> {
        match self.socks.get(sref).map(|s| &s.kind) {
            Some(Kind::Stream(st)) if st.phase == Phase::Established => Ok(st.peer_addr),
            Some(Kind::Udp(u)) => u.peer.ok_or_else(|| errno(libc::ENOTCONN)),
            _ => Err(errno(libc::ENOTCONN)),
        }
    }

    /// Resets a connection end: dead, its in-flight bytes lost, its peer forgotten. Returns
    /// where the RST goes: the peer and the two hosts (the world schedules its arrival).
    pub(crate) fn reset(&mut self, sref: SockRef) -> Option<Toward> {
        let sock = self.socks.get(sref)?;
        let host = sock.host;
        let st = sock.stream()?;
        st.phase = Phase::Dead;
        st.lose_in_flight();
        let peer = st.peer.take()?;
        let peer_host = self.socks.get(peer)?.host;
        Some(Toward {
            peer,
            from: host,
            to: peer_host,
        })
    }

    /// Our FIN, once, ordered after every byte already sent: the peer it goes to, if the
    /// stream is established and has not sent one.
    pub(crate) fn fin_out(&mut self, sref: SockRef) -> Option<SockRef> {
        let st = self.socks.get(sref)?.stream()?;
        if st.fin_out || st.phase != Phase::Established {
            return None;
        }
        st.fin_out = true;
        st.peer
    }

    /// The reader of `sref` consumed bytes: if its peer's writer was blocked on the window, the
    /// window update to send it.
    pub(crate) fn window_opened(&mut self, sref: SockRef) -> Option<Toward> {
        let me = self.socks.get(sref)?.host;
        let peer = self.peer_of(sref)?;
        let p = self.socks.get(peer)?;
        let peer_host = p.host;
        let pst = p.stream()?;
        if !pst.writer_blocked {
            return None;
        }
        pst.writer_blocked = false;
        Some(Toward {
            peer,
            from: me,
            to: peer_host,
        })
    }

    /// The SYN-ACK reaches a client end: established with `server` as its peer, or false if
    /// the client gave up meanwhile (the world then resets the server end).
    pub(crate) fn syn_acked(&mut self, to: SockRef, server: SockRef) -> bool {
        match self.socks.get(to).and_then(|s| s.stream()) {
            Some(st) if matches!(st.phase, Phase::SynSent { .. }) => {
                st.phase = Phase::Established;
                st.peer = Some(server);
                true
            }
            _ => false,
        }
    }

    /// Who a segment for `to` finds: nobody (the sender gets an RST), an end its owner closed
    /// (it answers with RST and is freed), or a live end.
    pub(crate) fn data_target(&mut self, to: SockRef) -> Target {
        match self.socks.get(to).and_then(|s| s.stream()) {
            None => Target::Gone,
            Some(st) if st.orphan => Target::Orphan,
            Some(_) => Target::Live,
        }
    }

    /// `len` bytes land at a live end: what to raise (nothing for a reader that shut down or
    /// an end that died: those bytes are dropped). The FIN becomes visible once the bytes
    /// before it have landed.
    pub(crate) fn land(&mut self, to: SockRef, len: usize) -> Option<Ready> {
        let st = self.socks.get(to)?.stream()?;
        let n = len.min(st.in_flight());
        if st.read_shut || st.phase == Phase::Dead {
            let at = st.arrived;
            st.bytes.drain(at..at + n);
            return None;
        }
        st.arrived += n;
        let mut ready = Ready::READABLE;
        if st.in_flight() == 0 && st.fin_pending && !st.fin_in {
            st.fin_in = true;
            ready |= Ready::READ_CLOSED;
        }
        Some(ready)
    }

    /// The peer's FIN arrives: visible once bytes still on the wire (a short read's remainder)
    /// have landed. An end its owner already closed is done.
    pub(crate) fn fin_in(&mut self, to: SockRef) -> Landing {
        let Some(st) = self.socks.get(to).and_then(|s| s.stream()) else {
            return Landing::Nothing;
        };
        if st.orphan {
            return Landing::Free;
        }
        st.fin_pending = true;
        if st.in_flight() == 0 && !st.fin_in {
            st.fin_in = true;
            return Landing::Raise(Ready::READABLE | Ready::READ_CLOSED);
        }
        Landing::Nothing
    }

    /// An RST (or a refusal, or a timeout) arrives: the end reports `errno` once, then end of
    /// stream, and writes fail with `EPIPE`. An end its owner already closed is done.
    pub(crate) fn rst_in(&mut self, to: SockRef, errno: i32) -> Landing {
        let Some(st) = self.socks.get(to).and_then(|s| s.stream()) else {
            return Landing::Nothing;
        };
        if st.orphan {
            return Landing::Free;
        }
        st.phase = Phase::Dead;
        st.error = Some(errno);
        st.lose_in_flight();
        st.peer = None;
        Landing::Raise(hangup())
    }
}

/// Where a control segment (an RST, a window update) goes: the peer end and the hosts it
/// travels between.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Toward {
    pub(crate) peer: SockRef,
    pub(crate) from: HostId,
    pub(crate) to: HostId,
}

/// Who a data segment finds at its destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// No stream: the sender gets an RST.
    Gone,
    /// Its owner closed it: it answers with RST and is freed.
    Orphan,
    /// A live end.
    Live,
}

/// What an arriving FIN or RST asks of the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Landing {
    /// Nothing to do.
    Nothing,
    /// Raise this readiness on the end.
    Raise(Ready),
    /// Free the end: its owner closed it, and now the connection is done.
    Free,
}

/// Everything an RST (or a refusal) makes a socket report.
fn hangup() -> Ready {
    Ready::READABLE | Ready::WRITABLE | Ready::ERROR | Ready::READ_CLOSED | Ready::WRITE_CLOSED
}
