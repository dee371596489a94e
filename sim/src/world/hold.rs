//! Where a message leaves for the wire: straight into the event queue, or, on a held link,
//! into the held list until [`crate::NetControl::release`]; and the rule verdicts on TCP
//! segments (datagrams ask in `datagram.rs`).

use std::net::SocketAddr;
use std::time::Duration;

use doppel_core::time::Instant;

use super::World;
use crate::host_id::HostId;
use crate::net::queue::WorldEvent;
use crate::net::socket::SockRef;
use crate::rules::{Message, Proto, Verdict};

/// What a dropped TCP segment costs: Linux's minimum retransmission timeout.
const RTO_MIN: Duration = Duration::from_millis(200);

/// A message waiting on a held link.
#[derive(Debug)]
pub(crate) struct Held {
    pub(crate) from: HostId,
    pub(crate) to: HostId,
    pub(crate) event: WorldEvent,
}

impl World {
    /// Sends `event` from host `from` to host `to`, due at `at`: queued, or held.
    #[inline]
    pub(crate) fn dispatch(
        &mut self,
        (from, to): (HostId, HostId),
        at: Instant,
        event: WorldEvent,
    ) {
        if self.holds.contains(&(from, to)) {
            self.held.push(Held { from, to, event });
            return;
        }
        self.queue.push(at, event);
    }

    /// A TCP segment from `from` to `to`, due at `at`, through the rules and the holds (the
    /// path only a world with a rule or a held link takes).
    #[inline(never)]
    pub(crate) fn send_controlled(
        &mut self,
        (from, to): (SockRef, SockRef),
        at: Instant,
        bytes: &[u8],
        data: WorldEvent,
    ) {
        let at = match self.rules.any() {
            true => self.segment_verdict(from, (to, at), bytes),
            false => at,
        };
        let link = self.hosts_of(from, to);
        self.dispatch(link, at, data);
    }

    /// Holds both directions between `a` and `b`.
    pub(crate) fn hold(&mut self, a: HostId, b: HostId) {
        self.holds.insert((a, b));
        self.holds.insert((b, a));
        self.controlled = true;
        self.hash.mix(&[0x40, a as u64, b as u64]);
    }

    /// Releases both directions between `a` and `b`: what waited leaves now, in order, each
    /// after its link's latency. How many left.
    pub(crate) fn release(&mut self, a: HostId, b: HostId) -> usize {
        self.holds.remove(&(a, b));
        self.holds.remove(&(b, a));
        self.controlled = self.rules.any() || !self.holds.is_empty();
        let (go, stay): (Vec<Held>, Vec<Held>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|h| (h.from, h.to) == (a, b) || (h.from, h.to) == (b, a));
        self.held = stay;
        let n = go.len();
        for h in go {
            let at = self.clock + self.links.config(h.from, h.to).latency;
            if let WorldEvent::Data { from: Some(s), .. } = &h.event {
                self.keep_behind(*s, at);
            }
            self.queue.push(at, h.event);
        }
        self.hash.mix(&[0x41, a as u64, b as u64, n as u64]);
        n
    }

    /// Messages waiting between `a` and `b`.
    pub(crate) fn held_count(&self, a: HostId, b: HostId) -> usize {
        let on = |h: &&Held| (h.from, h.to) == (a, b) || (h.from, h.to) == (b, a);
        self.held.iter().filter(on).count()
    }

    /// Keeps a stream's later segments behind one released at `at`.
    fn keep_behind(&mut self, sender: SockRef, at: Instant) {
        if let Some(st) = self.tcp.socks.get(sender).and_then(|s| s.stream()) {
            st.last_arrival = st.last_arrival.max(at);
        }
    }

    /// The rules' verdict on a TCP segment of `bytes` from `from` to `to`, due at `at`: when
    /// it arrives (a drop is a retransmission, `RTO_MIN` later; a duplicate is ignored, as TCP
    /// does). A later arrival holds the stream's later segments behind it.
    fn segment_verdict(
        &mut self,
        from: SockRef,
        (to, at): (SockRef, Instant),
        bytes: &[u8],
    ) -> Instant {
        let extra = self.segment_extra(from, to, bytes);
        if extra.is_zero() {
            return at;
        }
        let later = at + extra;
        self.keep_behind(from, later);
        later
    }

    /// The extra delay the rules give a segment.
    fn segment_extra(&mut self, from: SockRef, to: SockRef, bytes: &[u8]) -> Duration {
        let (Some(src), Some(dst)) = (self.endpoint(from), self.endpoint(to)) else {
            return Duration::ZERO;
        };
        match self.rule_verdict(Proto::Tcp, src, dst, bytes) {
            Verdict::Pass | Verdict::Duplicate => Duration::ZERO,
            Verdict::Drop => RTO_MIN,
            Verdict::Delay(d) => d,
        }
    }

    /// The rules' verdict on a message of `proto` from `src` (host, address) to `dst`, in the
    /// run's hash.
    pub(crate) fn rule_verdict(
        &mut self,
        proto: Proto,
        (src, from): (HostId, SocketAddr),
        (dst, to): (HostId, SocketAddr),
        bytes: &[u8],
    ) -> Verdict {
        let at = self.clock - Instant::ZERO;
        let hosts = &self.hosts;
        let verdict = self.rules.judge((src, dst), |index| Message {
            proto,
            from: &hosts[src].name,
            to: &hosts[dst].name,
            src: from,
            dst: to,
            bytes,
            at,
            index,
        });
        let tag = match proto {
            Proto::Tcp => 0x42,
            Proto::Udp => 0x43,
        };
        self.hash.mix(&[tag, verdict_code(verdict)]);
        verdict
    }

    /// A stream end's host and local address.
    fn endpoint(&mut self, s: SockRef) -> Option<(HostId, SocketAddr)> {
        let sock = self.tcp.socks.get(s)?;
        let host = sock.host;
        Some((host, sock.stream()?.local))
    }
}

/// A verdict as a number for the run's hash.
pub(crate) fn verdict_code(v: Verdict) -> u64 {
    match v {
        Verdict::Pass => 0,
        Verdict::Drop => 1,
        Verdict::Delay(d) => 2 ^ (d.as_nanos() as u64).rotate_left(8),
        Verdict::Duplicate => 3,
    }
}
