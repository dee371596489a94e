//! Every fault decision of the simulated kernel, as a closed set of verdicts: each opportunity
//! (a call, an edge, a segment) asks here, and the answer says what to do. Each verdict's
//! follow-up contract is stated beside it, and the kernel (`syscalls.rs`, `deliver.rs`) carries
//! it out; no other code of the world rolls a fault's dice. A verdict names the class it is
//! asked for where several classes share its shape (`interrupts`, `refuses`), so a new class of
//! an existing shape is its row in `classes.rs` and the call at its opportunity.
//!
//! | opportunity            | class            | verdict                                      |
//! |------------------------|------------------|----------------------------------------------|
//! | a socket call, a poll  | `eintr`, `eintr-poll` | `true`: `EINTR` instead (close: after closing) |
//! | a read of n > 1 bytes  | `short-read`     | [`Short`]: n' bytes, the rest re-queued      |
//! | a write of n > 1 bytes | `short-write`    | [`Short`]: n' bytes, a writable edge later   |
//! | a write with room      | `eagain-write`   | `refuses`: `EAGAIN` now, a writable edge after a delay |
//! | an accept              | `accept-abort`   | `true`: that client is reset, `ECONNABORTED` |
//! | an edge                | `late`           | [`Edge`]: now, or late (and so coalesced)    |
//! | a poll                 | `spurious`       | an edge with nothing behind it               |
//! | a segment sent         | `stall`          | how long its link stalls                     |
//! | a segment scheduled    | `deadline-race`  | [`Race`]: as planned, or on the receiver's timer |
//! | a segment delivered    | `reset`          | `true`: the connection is reset, both ends   |
//! | a SYN delivered        | `backlog`        | `true`: dropped as if the backlog were full  |
//! | a `buggify!` call      | `buggify`        | `true`: the user's rare path runs            |
//! | a datagram sent        | `dgram-loss`, `dgram-dup`, `dgram-reorder`, `dgram-delay` | [`Fate`]: lost, or sent once or twice after an extra hold |

use std::time::Duration;

use doppel_core::driver::{Event, Ready};
use doppel_core::time::Instant;

use super::{sock_site, At, World};
use crate::classes::FaultClass;
use crate::net::socket::SockRef;

/// A transfer cut short: how many bytes it moves, and when what it left arrives (a read's rest,
/// as its own segment with its own edge) or when buffer space shows again (a write's writable
/// edge).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Short {
    /// Bytes moved, in `1..n`.
    pub(crate) n: usize,
    /// Delay of the follow-up edge.
    pub(crate) then: Duration,
}

/// When an edge is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Edge {
    /// At once.
    Now,
    /// After this delay (edges raised meanwhile coalesce with it).
    Late(Duration),
}

/// What the network does to one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// It never arrives (`dgram-loss`).
    Lost,
    /// It arrives after the link's delay plus `hold` (`dgram-reorder`, `dgram-delay`), and a
    /// copy `copy_after` after the first (`dgram-dup`).
    Sent {
        /// Extra delay.
        hold: Duration,
        /// When a duplicate follows the first arrival, if one does.
        copy_after: Option<Duration>,
    },
}

/// When a segment lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Race {
    /// When the link says.
    Planned,
    /// At this instant: the receiver's next timer, or a nanosecond before it.
    At(Instant),
}

impl World {
    /// Decides whether a random fault of `class` fires at site `at`, recording it if so. A
    /// class at probability zero costs one compare and draws nothing.
    #[inline]
    fn fault(&mut self, class: FaultClass, at: At) -> bool {
        self.faults.armed(class) && self.fault_draw(class, at)
    }

    #[inline(never)]
    fn fault_draw(&mut self, class: FaultClass, at: At) -> bool {
        let site = match at {
            At::Sock(s) => match self.tcp.socks.get(s) {
                Some(_) => sock_site(&mut self.tcp.socks, &mut self.hosts, &mut self.net_site, s),
                None => return false,
            },
            At::Reactor(r) => &mut self.reactors[r].site,
        };
        match self.faults.roll(class, site) {
            Some(op) => {
                let label = site.label().render(&self.hosts);
                let when = (self.clock, self.spin.tripped);
                self.faults.inject(class, label, op, when, &mut self.hash)
            }
            None => false,
        }
    }

    /// `EINTR` for a call on `reactor` at site `at` (`eintr`, or `eintr-poll` for a poll),
    /// capped at the plan's streak so no storm can livelock a retry loop. Contract: the call
    /// moves no byte (a `connect`'s handshake goes on; a `close` has closed).
    #[inline]
    pub(crate) fn interrupts(&mut self, reactor: usize, class: FaultClass, at: At) -> bool {
        if !self.faults.armed(class) {
            return false;
        }
        if self.reactors[reactor].eintr_streak >= self.faults.plan.max_eintr_streak {
            self.reactors[reactor].eintr_streak = 0;
            return false;
        }
        let fired = self.fault(class, at);
        let streak = &mut self.reactors[reactor].eintr_streak;
        *streak = if fired { *streak + 1 } else { 0 };
        fired
    }

    /// `short-read` on a read of `n > 1` queued bytes of `sref`. Contract: the caller puts
    /// the rest back on the wire, to arrive after [`Short::then`] with an edge of its own, so
    /// nothing more is queued when a read comes up short.
    #[inline]
    pub(crate) fn shortens_read(&mut self, sref: SockRef, n: usize) -> Option<Short> {
        self.shortens(FaultClass::ShortRead, sref, n, 200_000)
    }

    /// `short-write` on a write of `n > 1` bytes that fit. Contract: the caller raises a
    /// writable edge after [`Short::then`], as a kernel does once its full send buffer drains.
    #[inline]
    pub(crate) fn shortens_write(&mut self, sref: SockRef, n: usize) -> Option<Short> {
        self.shortens(FaultClass::ShortWrite, sref, n, 100_000)
    }

    /// A short transfer of `class`: a prefix in `1..n`, and the follow-up edge's delay (1 µs up
    /// to `max_ns`). The common answer (the class is off) costs a compare, inline.
    #[inline]
    fn shortens(
        &mut self,
        class: FaultClass,
        sref: SockRef,
        n: usize,
        max_ns: u64,
    ) -> Option<Short> {
        if n <= 1 || !self.faults.armed(class) {
            return None;
        }
        self.shortens_drawn((class, sref, n, max_ns))
    }

    #[inline(never)]
    fn shortens_drawn(&mut self, at: (FaultClass, SockRef, usize, u64)) -> Option<Short> {
        let (class, sref, n, max_ns) = at;
        if !self.fault_draw(class, At::Sock(sref)) {
            return None;
        }
        let n = self.faults.dice.between(1, n as u64 - 1) as usize;
        let then = Duration::from_nanos(self.faults.dice.between(1_000, max_ns));
        Some(Short { n, then })
    }

    /// A call on `sref` refused by `class` (`eagain-write`: a write that had room): the delay
    /// of the edge that follows. Contract: the call returns `EAGAIN` having moved nothing, and
    /// the caller raises that direction's edge after the delay (the core waits for an edge
    /// after `WouldBlock`; without one it would wait forever). A new class of this shape is its
    /// table row and one call of this.
    #[inline]
    pub(crate) fn refuses(&mut self, class: FaultClass, sref: SockRef) -> Option<Duration> {
        if !self.faults.armed(class) {
            return None;
        }
        self.refuses_drawn(class, sref)
    }

    #[inline(never)]
    fn refuses_drawn(&mut self, class: FaultClass, sref: SockRef) -> Option<Duration> {
        if !self.fault_draw(class, At::Sock(sref)) {
            return None;
        }
        let ns = self.faults.dice.between(1_000, 100_000);
        Some(Duration::from_nanos(ns))
    }

    /// `accept-abort` on an accept that found `conn` queued. Contract: the caller resets
    /// `conn` (its client sees `ECONNRESET`), frees it, and reports `ECONNABORTED`.
    #[inline]
    pub(crate) fn aborts_accept(&mut self, conn: SockRef) -> bool {
        self.fault(FaultClass::AcceptAbort, At::Sock(conn))
    }

    /// `late` on an edge raised on `sock`. Contract: a late edge is queued as a world event and
    /// delivered after the delay; edges raised meanwhile coalesce with it in the poll.
    #[inline]
    pub(crate) fn edge(&mut self, sock: SockRef) -> Edge {
        if !self.fault(FaultClass::Late, At::Sock(sock)) {
            return Edge::Now;
        }
        Edge::Late(Duration::from_nanos(
            self.faults.dice.between(1_000, 2_000_000),
        ))
    }

    /// `spurious` on a poll of `reactor` with `n` registrations: which one (an index into them)
    /// gets an edge, and whether it says readable or writable. Contract: nothing is behind it,
    /// so the call it prompts says `WouldBlock`.
    #[inline]
    pub(crate) fn spurious(&mut self, reactor: usize, n: usize) -> Option<(usize, Ready)> {
        if n == 0 || !self.fault(FaultClass::Spurious, At::Reactor(reactor)) {
            return None;
        }
        let k = self.faults.dice.below(n as u64) as usize;
        let ready = if self.faults.dice.chance(0.5) {
            Ready::READABLE
        } else {
            Ready::WRITABLE
        };
        Some((k, ready))
    }

    /// `stall` on a segment `from` sends: how long its link holds its segments (1 ms up to
    /// the plan's `stall_max`). Contract: the caller stalls the link, so the segment and those
    /// after it arrive no earlier than its end plus the latency, and deadlines fire for real.
    #[inline]
    pub(crate) fn stalls(&mut self, from: SockRef) -> Option<Duration> {
        if !self.fault(FaultClass::Stall, At::Sock(from)) {
            return None;
        }
        let max = self.faults.plan.stall_max.as_nanos().max(1_000_001) as u64;
        Some(Duration::from_nanos(
            self.faults.dice.between(1_000_000, max),
        ))
    }

    /// `deadline-race` on a segment `from` sends to a socket of `reactor`, due at `at`: if that
    /// reactor has a timer pending (a deadline, a `timeout`, a sleep) after now and within ten
    /// seconds of `at`, the segment lands on that very instant or a nanosecond before it, so
    /// data and timer meet in both orders (F18).
    #[inline]
    pub(crate) fn races(&mut self, reactor: usize, from: SockRef, at: Instant) -> Race {
        if !self.faults.armed(FaultClass::DeadlineRace) {
            return Race::Planned;
        }
        let Some(t) = self.reactors[reactor].next_timer else {
            return Race::Planned;
        };
        let reach = at + Duration::from_secs(10);
        if t <= self.clock || t > reach || !self.fault(FaultClass::DeadlineRace, At::Sock(from)) {
            return Race::Planned;
        }
        if self.faults.dice.chance(0.5) {
            Race::At(t)
        } else {
            Race::At(Instant::from_nanos(t.as_nanos() - 1))
        }
    }

    /// `reset` on a segment delivered to `to`. Contract: the caller resets the connection,
    /// both ends (`ECONNRESET` here, an RST to the peer).
    #[inline]
    pub(crate) fn resets(&mut self, to: SockRef) -> bool {
        self.fault(FaultClass::Reset, At::Sock(to))
    }

    /// `backlog` on a SYN from `from` that found room. Contract: the caller drops it as if
    /// the backlog were full, and the client retries after 1, 2, 4 s.
    #[inline]
    pub(crate) fn drops_syn(&mut self, from: SockRef) -> bool {
        self.fault(FaultClass::Backlog, At::Sock(from))
    }

    /// The datagram classes on a datagram `from` sends over a link of `latency`, in a fixed
    /// order (loss, then duplication, reordering, delay), each drawn only if armed. Contract:
    /// a lost datagram is reported sent (UDP cannot tell); a held one arrives `hold` late; a
    /// duplicate is a second, identical arrival 1 µs to 1 ms after the first.
    pub(crate) fn datagram_fate(&mut self, from: SockRef, latency: Duration) -> Fate {
        if self.fault(FaultClass::DgramLoss, At::Sock(from)) {
            return Fate::Lost;
        }
        let copy_after = self
            .fault(FaultClass::DgramDup, At::Sock(from))
            .then(|| Duration::from_nanos(self.faults.dice.between(1_000, 1_000_000)));
        let mut hold = Duration::ZERO;
        if self.fault(FaultClass::DgramReorder, At::Sock(from)) {
            let max = (latency.as_nanos() as u64 * 4).max(1_000_000);
            hold += Duration::from_nanos(self.faults.dice.between(1_000, max));
        }
        if self.fault(FaultClass::DgramDelay, At::Sock(from)) {
            let max = self.faults.plan.stall_max.as_nanos().max(1_000_001) as u64;
            hold += Duration::from_nanos(self.faults.dice.between(1_000_000, max));
        }
        Fate::Sent { hold, copy_after }
    }

    /// `buggify` at the call site `at`, firing at `rate` if the site is on for this run (the
    /// class's probability is the chance it is). Contract: none beyond the user's own; the
    /// answer is counted, traced and named `buggify@FILE:LINE:COL:OP` like any fault.
    pub(crate) fn buggify(&mut self, at: &'static str, rate: f64) -> bool {
        let class = FaultClass::Buggify;
        if !self.faults.armed(class) {
            return false;
        }
        let (seed, p) = (self.seed, self.faults.plan.probability(class));
        let (site, on) = match self.code_sites.entry(at) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let site = crate::site::Site::of(seed, crate::site::Label::Code(at), &self.hosts);
                let on = self.faults.dice.site_on(&site, class.index(), p);
                e.insert((site, on))
            }
        };
        if !*on {
            return false;
        }
        let Some(op) = self.faults.dice.roll(site, class.index(), rate) else {
            return false;
        };
        let label = site.label().render(&self.hosts);
        let when = (self.clock, self.spin.tripped);
        self.faults.inject(class, label, op, when, &mut self.hash)
    }

    /// Counts a scheduled crash of `host` at its site: whether it is carried out (an `only`
    /// list may leave it out).
    pub(crate) fn crash_due(&mut self, host: usize) -> bool {
        let crash = FaultClass::Crash;
        let site = &mut self.hosts[host].site;
        let op = self.faults.dice.count(site, crash.index());
        let label = site.label().render(&self.hosts);
        let when = (self.clock, self.spin.tripped);
        self.faults.inject(crash, label, op, when, &mut self.hash)
    }

    /// A spurious edge's event for the `k`-th registration of `reactor`.
    pub(crate) fn spurious_event(&self, reactor: usize, k: usize, ready: Ready) -> Event {
        let token = *self.reactors[reactor]
            .registered
            .iter()
            .nth(k)
            .expect("k < n");
        Event { token, ready }
    }
}
