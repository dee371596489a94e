//! Per-message rules: a test's own verdict on each message a link carries (a TCP segment or a
//! datagram); `world/control.rs` holds and releases a link at a point of the test. A rule
//! sees the message (its bytes, protocol, hosts, addresses, time and its number on the link)
//! and answers with a [`Verdict`]; rules run in the order they were installed and the first
//! answer that is not [`Verdict::Pass`] wins (turmoil-net's chain of rules). A rule is a plain
//! `Fn`: it runs at a point of the seeded run, so what it answers is as deterministic as the
//! run itself, and every verdict but `Pass` is traced (`doppel::rule`) and in the run's hash.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use crate::host_id::HostId;

/// Which protocol a message belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// A TCP segment (its payload bytes).
    Tcp,
    /// A UDP datagram.
    Udp,
}

/// One message on a link, as a rule sees it.
#[derive(Debug)]
pub struct Message<'a> {
    /// TCP segment or datagram.
    pub proto: Proto,
    /// The sending host's name.
    pub from: &'a str,
    /// The receiving host's name.
    pub to: &'a str,
    /// The sending socket's address.
    pub src: SocketAddr,
    /// Where it is going.
    pub dst: SocketAddr,
    /// The payload.
    pub bytes: &'a [u8],
    /// Virtual time since the run started.
    pub at: Duration,
    /// Its number among the messages this directed link (`from` to `to`) has carried, from 0.
    pub index: u64,
}

/// What happens to a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Delivered as the link and the fault plan say.
    Pass,
    /// A datagram is lost. A TCP segment is lost and retransmitted: it arrives 200 ms (Linux's
    /// minimum retransmission timeout) late, and the stream's later bytes wait behind it, so
    /// no byte of a stream is ever lost.
    Drop,
    /// Delivered this much later (a TCP stream's later bytes wait behind it).
    Delay(Duration),
    /// A datagram arrives twice, the copy 1 µs after it. TCP discards duplicate segments, so
    /// for a segment this is [`Verdict::Pass`].
    Duplicate,
}

impl Verdict {
    /// Its name in the trace.
    fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Drop => "drop",
            Verdict::Delay(_) => "delay",
            Verdict::Duplicate => "duplicate",
        }
    }
}

/// A rule's verdict function.
pub(crate) type Judge = Rc<dyn Fn(&Message<'_>) -> Verdict>;

/// A rule as the builder holds it: a link by host names (`"*"`: any) and the verdict function.
#[derive(Clone)]
pub(crate) struct RuleSpec {
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) judge: Judge,
}

impl std::fmt::Debug for RuleSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rule {} -> {}", self.from, self.to)
    }
}

/// The rules of one world, with their links resolved to hosts, and each link's message count.
#[derive(Default)]
pub(crate) struct Rules {
    /// In installation order: from (`None`: any), to, verdict.
    rules: Vec<(Option<HostId>, Option<HostId>, Judge)>,
    /// Messages each directed link has carried (only counted while a rule exists).
    counts: BTreeMap<(HostId, HostId), u64>,
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} rules", self.rules.len())
    }
}

impl Rules {
    /// The builder's rules, their host names resolved by `index` (names validated already).
    pub(crate) fn new(specs: &[RuleSpec], index: impl Fn(&str) -> HostId) -> Rules {
        let host = |n: &str| (n != "*").then(|| index(n));
        Rules {
            rules: specs
                .iter()
                .map(|r| (host(&r.from), host(&r.to), r.judge.clone()))
                .collect(),
            counts: BTreeMap::new(),
        }
    }

    /// Whether any rule is installed (the common case, none, costs this one check).
    #[inline]
    pub(crate) fn any(&self) -> bool {
        !self.rules.is_empty()
    }

    /// The verdict on a message from host `from` to host `to`; `make` builds the message
    /// given its number on the link.
    pub(crate) fn judge<'m>(
        &mut self,
        (from, to): (HostId, HostId),
        make: impl FnOnce(u64) -> Message<'m>,
    ) -> Verdict {
        let n = self.counts.entry((from, to)).or_insert(0);
        let index = *n;
        *n += 1;
        let msg = make(index);
        for (f, t, judge) in &self.rules {
            if f.is_none_or(|f| f == from) && t.is_none_or(|t| t == to) {
                let v = judge(&msg);
                if v != Verdict::Pass {
                    let proto = match msg.proto {
                        Proto::Tcp => "tcp",
                        Proto::Udp => "udp",
                    };
                    let delay = match v {
                        Verdict::Delay(d) => d.as_nanos() as u64,
                        _ => 0,
                    };
                    crate::trace::rule(v.name(), (msg.from, msg.to), proto, msg.index, delay);
                    return v;
                }
            }
        }
        Verdict::Pass
    }
}
