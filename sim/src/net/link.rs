//! Links: latency and jitter between hosts, stalls and scheduled partitions.
//!
//! A link is looked up by host pair in O(log n); no step ever scans every link (turmoil's
//! super-linear cost as a world grows comes from exactly that).

use std::collections::BTreeMap;
use std::time::Duration;

use doppel_core::time::Instant;

use crate::host::HostId;
use crate::site::Site;

/// Latency and jitter of one direction of a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkConfig {
    /// One-way delay.
    pub latency: Duration,
    /// Up to this much extra delay, drawn per segment (arrival order is kept).
    pub jitter: Duration,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            latency: Duration::from_micros(100),
            jitter: Duration::ZERO,
        }
    }
}

/// A span of virtual time during which a direction is cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cut {
    /// Start.
    pub(crate) from: Instant,
    /// Heal.
    pub(crate) until: Instant,
}

/// Every link's configuration and state.
#[derive(Debug, Default)]
pub(crate) struct Links {
    /// The configuration for pairs without their own.
    pub(crate) default: LinkConfig,
    /// Per directed pair configuration.
    pub(crate) config: BTreeMap<(HostId, HostId), LinkConfig>,
    /// Per directed pair: until when the link is stalled (a fault).
    pub(crate) stalled: BTreeMap<(HostId, HostId), Instant>,
    /// Per directed pair: scheduled partitions.
    pub(crate) cuts: BTreeMap<(HostId, HostId), Vec<Cut>>,
}

impl Links {
    /// The configuration of `from -> to`.
    pub(crate) fn config(&self, from: HostId, to: HostId) -> LinkConfig {
        if from == to {
            return LinkConfig {
                latency: Duration::from_micros(10),
                jitter: Duration::ZERO,
            };
        }
        self.config
            .get(&(from, to))
            .copied()
            .unwrap_or(self.default)
    }

    /// When something sent from `from` to `to` at `now` arrives: after the latency and a jitter
    /// draw, after any stall, and after any partition in force heals (TCP retransmits until it
    /// gets through, so a cut surfaces as delay, never as lost or reordered bytes).
    pub(crate) fn arrival(
        &self,
        from: HostId,
        to: HostId,
        now: Instant,
        rng: &mut Site,
    ) -> Instant {
        let cfg = self.config(from, to);
        let mut depart = now;
        if let Some(&until) = self.stalled.get(&(from, to)) {
            depart = depart.max(until);
        }
        if let Some(cuts) = self.cuts.get(&(from, to)) {
            for c in cuts {
                if c.from <= depart && depart < c.until {
                    depart = c.until;
                }
            }
        }
        let jitter = if cfg.jitter.is_zero() {
            0
        } else {
            rng.below(cfg.jitter.as_nanos() as u64 + 1)
        };
        depart + cfg.latency + Duration::from_nanos(jitter)
    }

    /// Whether `from -> to` is cut by a partition at `now`: a datagram sent then is lost (TCP
    /// would retransmit; UDP does not).
    pub(crate) fn is_cut(&self, from: HostId, to: HostId, now: Instant) -> bool {
        self.cuts
            .get(&(from, to))
            .is_some_and(|cuts| cuts.iter().any(|c| c.from <= now && now < c.until))
    }

    /// Stalls `from -> to` until `until`.
    pub(crate) fn stall(&mut self, from: HostId, to: HostId, until: Instant) {
        let e = self.stalled.entry((from, to)).or_insert(until);
        *e = (*e).max(until);
    }
}
