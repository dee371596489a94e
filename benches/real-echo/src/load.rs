//! The load generator: one mio loop driving N connections in ping-pong (one message
//! outstanding per connection: 64-byte echo, or a RESP `GET`), optionally timing every round trip into a histogram, and a
//! holder of idle connections.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream as StdStream};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::latency::Histogram;

/// The message size.
pub const MSG: usize = 64;

/// What a round trip is: the request a client sends, and how many bytes its reply has.
#[derive(Clone, Copy, Debug)]
pub struct Proto {
    /// The request.
    pub request: &'static [u8],
    /// The reply's length.
    pub reply: usize,
}

/// Echo: 64 bytes out, the same 64 back.
pub const ECHO: Proto = Proto {
    request: &[b'x'; MSG],
    reply: MSG,
};

/// A RESP `GET key` of a key never set, answered `$-1\r\n` (by `examples/kv` and by
/// redis-server alike).
pub const KV_GET: Proto = Proto {
    request: b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n",
    reply: 5,
};

/// Connected clients, ready to ping-pong.
pub struct Load {
    /// The load's own poller.
    poll: Poll,
    /// The client sockets; a connection's token is its index.
    conns: Vec<TcpStream>,
    /// Bytes of the current reply received, per connection.
    got: Vec<usize>,
    /// When the current message was sent, per connection (read only when timing).
    sent: Vec<Instant>,
    /// What each round trip sends and expects.
    proto: Proto,
}

/// When a run ends.
#[derive(Clone, Copy, Debug)]
pub enum Until {
    /// Every connection completes this many round trips.
    Rounds(u64),
    /// Wall time.
    Time(Duration),
}

/// Opens `n` blocking connections (then switches them to non-blocking).
pub fn connect_std(addr: SocketAddr, n: usize) -> Vec<StdStream> {
    (0..n)
        .map(|i| {
            let mut tries = 0;
            loop {
                match StdStream::connect(addr) {
                    Ok(s) => break s,
                    Err(e) if tries < 50 => {
                        tries += 1;
                        let _ = e;
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(e) => panic!("connection {i} to {addr}: {e}"),
                }
            }
        })
        .collect()
}

impl Load {
    /// Connects `n` echo clients to `addr`.
    pub fn connect(addr: SocketAddr, n: usize) -> Load {
        Load::connect_with(addr, n, ECHO)
    }

    /// Connects `n` clients to `addr` that speak `proto`.
    pub fn connect_with(addr: SocketAddr, n: usize, proto: Proto) -> Load {
        let poll = Poll::new().expect("poll");
        let mut conns = Vec::with_capacity(n);
        for (i, s) in connect_std(addr, n).into_iter().enumerate() {
            s.set_nodelay(true).expect("nodelay");
            s.set_nonblocking(true).expect("nonblocking");
            let mut s = TcpStream::from_std(s);
            poll.registry()
                .register(&mut s, Token(i), Interest::READABLE)
                .expect("register");
            conns.push(s);
        }
        Load {
            poll,
            got: vec![0; n],
            sent: Vec::with_capacity(n),
            conns,
            proto,
        }
    }

    /// Runs ping-pong; returns completed round trips and the time taken. In `Time` mode the
    /// replies still in flight when time is up are drained but not counted.
    pub fn run(&mut self, until: Until) -> (u64, Duration) {
        self.drive(until, None)
    }

    /// [`Load::run`], also recording each counted round trip's latency (from the write of the
    /// message to the last byte of its echo) into `lat`. Costs one clock read per round trip
    /// in the load generator, the same whichever server it drives.
    pub fn run_timed(&mut self, until: Until, lat: &mut Histogram) -> (u64, Duration) {
        self.drive(until, Some(lat))
    }

    /// The ping-pong loop behind [`Load::run`] and [`Load::run_timed`].
    fn drive(&mut self, until: Until, mut lat: Option<&mut Histogram>) -> (u64, Duration) {
        let (msg, reply) = (self.proto.request, self.proto.reply);
        let mut buf = [0u8; 4096];
        let n = self.conns.len();
        let mut rounds = vec![0u64; n];
        let mut inflight = n;
        let mut total = 0u64;
        let mut stopped: Option<Duration> = None;
        let mut events = Events::with_capacity(1024);
        let start = Instant::now();
        self.sent.clear();
        self.sent.resize(n, start);
        for (c, sent) in self.conns.iter_mut().zip(&mut self.sent) {
            if lat.is_some() {
                *sent = Instant::now();
            }
            c.write_all(msg).expect("first write");
        }
        while inflight > 0 {
            let timeout = match (until, stopped) {
                (Until::Time(d), None) => d.saturating_sub(start.elapsed()),
                _ => Duration::from_secs(10),
            };
            match self.poll.poll(&mut events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => panic!("poll: {e}"),
            }
            if events.is_empty() && !matches!((until, stopped), (Until::Time(_), None)) {
                panic!("load stalled: no reply for 10 s ({inflight} of {n} still waiting)");
            }
            for ev in &events {
                let i = ev.token().0;
                let c = &mut self.conns[i];
                loop {
                    match c.read(&mut buf) {
                        Ok(0) => panic!("server closed connection {i}"),
                        Ok(k) => self.got[i] += k,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) => panic!("read {i}: {e}"),
                    }
                }
                let now = lat.as_ref().map(|_| Instant::now());
                while self.got[i] >= reply {
                    self.got[i] -= reply;
                    inflight -= 1;
                    if stopped.is_some() {
                        continue;
                    }
                    rounds[i] += 1;
                    total += 1;
                    if let (Some(h), Some(now)) = (lat.as_deref_mut(), now) {
                        h.record(now.saturating_duration_since(self.sent[i]));
                    }
                    let more = match until {
                        Until::Rounds(r) => rounds[i] < r,
                        Until::Time(_) => true,
                    };
                    if more {
                        if let Some(now) = now {
                            // The next message leaves now: the clock read after this reply
                            // serves as its send time (one read per round trip, not two).
                            self.sent[i] = now;
                        }
                        c.write_all(msg).expect("write");
                        inflight += 1;
                    }
                }
            }
            if let (Until::Time(d), None) = (until, stopped) {
                if start.elapsed() >= d {
                    stopped = Some(start.elapsed());
                }
            }
        }
        (total, stopped.unwrap_or_else(|| start.elapsed()))
    }
}
