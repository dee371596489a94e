//! Gathering a sweep's seeds in seed order, whichever worker finished them first: so what a
//! sweep counts, and where a coverage plateau stops it, is the same for any number of threads.

use std::collections::{BTreeMap, BTreeSet};

use super::FailedSeed;
use crate::coverage::Coverage;
use crate::faults::FaultCounts;
use crate::report::Report;

/// What the sweep has gathered, over the seeds taken in order so far.
#[derive(Default)]
pub(super) struct Gathered {
    /// Seeds counted.
    pub(super) run: u64,
    /// Faults fired.
    pub(super) counts: FaultCounts,
    /// Failing seeds.
    pub(super) failed: Vec<FailedSeed>,
    /// Sum of run hashes.
    pub(super) digest: u64,
    /// Reports kept.
    pub(super) reports: Vec<Report>,
    /// What the assertions did.
    pub(super) coverage: Coverage,
    /// Coverage points seen: assertions covered, classes fired, and their pairs.
    pub(super) points: BTreeSet<String>,
}

/// One finished seed: its report, if the run ended, and its failure, if it failed.
pub(super) struct Finished {
    pub(super) report: Option<Box<Report>>,
    pub(super) failed: Option<FailedSeed>,
}

/// Takes finished seeds in any order and counts them in seed order, stopping at a plateau.
pub(super) struct Collector {
    /// The index (from the range's start) of the next seed to count.
    next: u64,
    /// Seeds finished ahead of `next`.
    waiting: BTreeMap<u64, Finished>,
    /// What has been counted.
    pub(super) all: Gathered,
    /// Keep every report.
    keep: bool,
    /// Stop once this many seeds in a row add no coverage point.
    plateau: Option<u64>,
    /// Seeds in a row, up to `next`, that added no point.
    stale: u64,
    /// The index of the seed at which the plateau stopped the sweep: later ones are not
    /// counted.
    pub(super) stopped_at: Option<u64>,
}

impl Collector {
    pub(super) fn new(keep: bool, plateau: Option<u64>) -> Collector {
        Collector {
            next: 0,
            waiting: BTreeMap::new(),
            all: Gathered::default(),
            keep,
            plateau,
            stale: 0,
            stopped_at: None,
        }
    }

    /// Files seed `index`'s result and counts every seed now in order. Returns the index past
    /// which no seed need start, once a plateau has stopped the sweep.
    pub(super) fn file(&mut self, index: u64, done: Finished) -> Option<u64> {
        if self.stopped_at.is_none() {
            self.waiting.insert(index, done);
            while let Some(next) = self.waiting.remove(&self.next) {
                self.count(next);
                self.next += 1;
                if self.stopped_at.is_some() {
                    self.waiting.clear();
                    break;
                }
            }
        }
        self.stopped_at
    }

    /// Counts one seed, the next in order.
    fn count(&mut self, done: Finished) {
        let all = &mut self.all;
        all.run += 1;
        let before = all.points.len();
        if let Some(report) = done.report {
            all.counts.add(&report.faults);
            all.digest = all.digest.wrapping_add(report.hash);
            all.coverage.merge(&report.coverage);
            report.coverage.points(&report.faults, &mut all.points);
            if self.keep {
                all.reports.push(*report);
            }
        }
        all.failed.extend(done.failed);
        self.stale = if all.points.len() > before {
            0
        } else {
            self.stale + 1
        };
        if self.plateau.is_some_and(|n| self.stale >= n) {
            self.stopped_at = Some(self.next);
        }
    }
}
