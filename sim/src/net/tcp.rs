//! The TCP model: every socket (listeners, connections and their state) and the model's knobs,
//! and what can be read off them without a clock: readiness, where a write goes and how much
//! fits, what an empty read or a finished stream reports. It draws no dice and keeps no hash;
//! segments in flight, their arrival times and the faults are the world's (`world/`).

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use doppel_core::driver::Ready;

use super::socket::{Kind, Phase, SockRef, Sockets};

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
}

/// The sockets and the knobs they follow.
#[derive(Debug)]
pub(crate) struct Tcp {
    /// Every socket.
    pub(crate) socks: Sockets,
    pub(crate) config: TcpConfig,
}

impl Tcp {
    /// No sockets yet.
    pub(crate) fn new(config: TcpConfig) -> Tcp {
        Tcp {
            socks: Sockets::default(),
            config,
        }
    }

    /// What a socket would report if registered now (registration reports existing readiness).
    pub(crate) fn readiness(&mut self, sock: SockRef) -> Ready {
        let window = self.config.window;
        let (peer, mut r) = match self.socks.get(sock).map(|s| &mut s.kind) {
            Some(Kind::Listener(l)) if !l.queue.is_empty() => return Ready::READABLE,
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
            _ => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        }
    }

    /// The peer's address (`getpeername`), `ENOTCONN` until the handshake completes.
    pub(crate) fn peer_addr(&mut self, sref: SockRef) -> io::Result<SocketAddr> {
        match self.socks.get(sref).map(|s| &s.kind) {
            Some(Kind::Stream(st)) if st.phase == Phase::Established => Ok(st.peer_addr),
            _ => Err(errno(libc::ENOTCONN)),
        }
    }
}
