//! Each host's own clock. A real cluster's clocks disagree: each is offset from true time and
//! runs at its own rate. Under the `clock-skew` fault class a host's clock is drawn once per
//! seed, within the builder's bounds: its monotonic `Instant` runs `ppm` parts per million fast
//! or slow, and its wall clock adds an offset on top. The world's clock stays the one truth the
//! network, the timers' order and the trace run on; a host's readings are mapped from it, and
//! its timers back to it.

use std::time::Duration;

use doppel_core::time::Instant;

/// The simulator's epoch for wall clocks: 2026-01-01T00:00:00Z, as time since the Unix epoch
/// (a true host's `wall_clock()` at virtual time zero).
pub const SIM_EPOCH: Duration = Duration::from_secs(1_767_225_600);

/// The largest wall-clock offset the builder takes: a day.
pub const MAX_OFFSET: Duration = Duration::from_secs(86_400);

/// The default bound on a skewed host's wall-clock offset.
pub const DEFAULT_MAX_OFFSET: Duration = Duration::from_millis(500);

/// The default bound on a skewed host's drift, parts per million.
pub const DEFAULT_MAX_DRIFT_PPM: u32 = 1_000;

/// The largest drift the builder takes: 20% fast or slow.
pub const MAX_DRIFT_PPM: u32 = 200_000;

/// One host's clock: true unless the plan skewed it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct HostClock {
    /// Wall-clock offset from true time, nanoseconds (either sign).
    pub(crate) offset_ns: i64,
    /// Rate error, parts per million (either sign; at most [`MAX_DRIFT_PPM`] either way).
    pub(crate) ppm: i32,
}

impl HostClock {
    /// The host's `Instant` at world time `world`.
    #[inline]
    pub(crate) fn local(&self, world: Instant) -> Instant {
        if self.ppm == 0 {
            return world;
        }
        Instant::from_nanos(self.drifted(world.as_nanos()))
    }

    /// `g` nanoseconds of world time as this host's clock counts them (saturating).
    fn drifted(&self, g: u64) -> u64 {
        let extra = (i128::from(g) * i128::from(self.ppm)).div_euclid(1_000_000);
        u64::try_from((i128::from(g) + extra).max(0)).unwrap_or(u64::MAX)
    }

    /// The earliest world time at which this host's `Instant` reads `local` or later: when a
    /// timer it set for `local` falls due.
    #[inline]
    pub(crate) fn world(&self, local: Instant) -> Instant {
        if self.ppm == 0 || local == Instant::MAX {
            return local;
        }
        let t = local.as_nanos();
        let rate = 1_000_000 + i128::from(self.ppm);
        let mut g = u64::try_from(i128::from(t) * 1_000_000 / rate).unwrap_or(u64::MAX);
        while g < u64::MAX && self.drifted(g) < t {
            g += 1;
        }
        while g > 0 && self.drifted(g - 1) >= t {
            g -= 1;
        }
        Instant::from_nanos(g)
    }

    /// The host's wall clock at world time `world`, as time since the Unix epoch.
    pub(crate) fn wall(&self, world: Instant) -> Duration {
        let local = self.local(world).as_nanos();
        let base = SIM_EPOCH.as_nanos() as i128 + i128::from(local) + i128::from(self.offset_ns);
        Duration::from_nanos(u64::try_from(base.max(0)).unwrap_or(u64::MAX))
    }
}

/// Traces a host's skewed clock (`doppel::clock skew`): its offset and drift.
pub(crate) fn trace_skew(host: &str, clock: HostClock) {
    use doppel_core::driver::{on, to_sink, FieldValue, RuntimeEvent};
    if !on() {
        return;
    }
    let fields = [
        ("host", FieldValue::S(host)),
        ("offset_ns", FieldValue::I(clock.offset_ns)),
        ("ppm", FieldValue::I(i64::from(clock.ppm))),
    ];
    let ev = RuntimeEvent {
        target: "doppel::clock",
        name: "skew",
        fields: &fields,
    };
    if !to_sink(&ev) {
        tracing::event!(name: "skew", target: "doppel::clock", tracing::Level::TRACE, host, offset_ns = clock.offset_ns, ppm = clock.ppm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timer_maps_back_to_the_first_world_instant_the_host_reads_it() {
        for ppm in [-200_000, -1_000, -1, 1, 999, 200_000] {
            let c = HostClock { offset_ns: 0, ppm };
            for t in [0u64, 1, 999, 1_000_000, 1_234_567_891, u64::MAX / 4] {
                let g = c.world(Instant::from_nanos(t)).as_nanos();
                assert!(c.drifted(g) >= t, "ppm {ppm} t {t}");
                assert!(g == 0 || c.drifted(g - 1) < t, "ppm {ppm} t {t}");
            }
        }
        let fast = HostClock {
            offset_ns: -5,
            ppm: 10_000,
        };
        assert_eq!(
            fast.local(Instant::from_nanos(1_000_000)).as_nanos(),
            1_010_000
        );
        assert_eq!(
            fast.wall(Instant::ZERO),
            SIM_EPOCH - Duration::from_nanos(5)
        );
    }
}
