//! The world's side of the liveness phase (`crate::liveness`): at the calm, every random
//! fault stops, partitions and stalls heal from now on, scheduled crashes are skipped and each
//! crashed host is asked back. Data already sent into a partition keeps the arrival it was
//! given (TCP's retransmission after a heal, at the cut's end).

use doppel_core::time::Instant;

use super::{HostRequest, World};

impl World {
    /// Calms the world at `now`.
    pub(crate) fn calm(&mut self, now: Instant) {
        self.faults.calm = true;
        for cuts in self.links.cuts.values_mut() {
            cuts.retain(|c| c.from < now);
            for c in cuts.iter_mut() {
                c.until = c.until.min(now);
            }
        }
        for until in self.links.stalled.values_mut() {
            *until = (*until).min(now);
        }
        let down: Vec<usize> = (0..self.hosts.len())
            .filter(|&h| !self.hosts[h].up)
            .collect();
        crate::liveness::trace_calm(down.len());
        self.hash.mix(&[0xCA, now.as_nanos(), down.len() as u64]);
        self.requests
            .extend(down.into_iter().map(HostRequest::Restart));
    }
}
