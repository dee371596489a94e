//! Drawing a host's clock (`crate::clock`) at its first boot: under `clock-skew`, a host is
//! skewed with the class's probability, its offset and drift drawn within the builder's
//! bounds; the skew is counted, traced and named by its host like any fault (`clock-skew@HOST:0`),
//! so `--only` replays it and the shrinker can drop it.

use super::World;
use crate::clock::HostClock;
use crate::faults::FaultClass;
use crate::host::HostId;

impl World {
    /// Draws `host`'s clock, once per run.
    pub(crate) fn draw_clock(&mut self, host: HostId) {
        if std::mem::replace(&mut self.hosts[host].clock_drawn, true) {
            return;
        }
        let class = FaultClass::ClockSkew;
        if !self.faults.armed(class) {
            return;
        }
        let Some(op) = self.faults.roll(class, &mut self.hosts[host].site) else {
            return;
        };
        let (max_offset, max_ppm) = self.clock_bounds;
        let dice = &mut self.faults.dice;
        let offset = dice.between(0, max_offset.saturating_mul(2)) as i128 - max_offset as i128;
        let ppm = dice.between(0, u64::from(max_ppm) * 2) as i64 - i64::from(max_ppm);
        let clock = HostClock {
            offset_ns: i64::try_from(offset).unwrap_or(0),
            ppm: i32::try_from(ppm).unwrap_or(0),
        };
        let label = self.hosts[host].site.label().render(&self.hosts);
        let when = (self.clock, self.spin.tripped);
        if self.faults.inject(class, label, op, when, &mut self.hash) {
            crate::clock::trace_skew(&self.hosts[host].name, clock);
            self.hash
                .mix(&[0xC5, clock.offset_ns as u64, clock.ppm as u64]);
            self.hosts[host].clock = clock;
        }
    }
}
