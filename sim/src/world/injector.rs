//! The fault injector: the plan resolved for this seed, the counter-based dice, and the ledger
//! of what fired (counts per class, and every injection in order). It answers one question,
//! whether opportunity `k` of a class at a site fires, and records the answer; the verdicts
//! built on it, and the contract each keeps, are in `verdicts.rs`.

use doppel_core::time::Instant;

use super::hash::RunHash;
use crate::faults::{FaultClass, FaultCounts, FaultPlan, Fired};
use crate::rng::FaultDice;
use crate::site::Site;

/// Faults as data, and the one object that decides them.
#[derive(Debug)]
pub(crate) struct Injector {
    /// The fault plan, resolved for this seed.
    pub(crate) plan: FaultPlan,
    /// Whether and how each fault fires: a pure function of (seed, class, site, opportunity).
    pub(crate) dice: FaultDice,
    /// Injections per class.
    pub(crate) counts: FaultCounts,
    /// Every fault injected, in order (a fault's id is its place here, from 1).
    pub(crate) fired: Vec<Fired>,
    /// The liveness phase has begun: no fault fires any more.
    pub(crate) calm: bool,
}

impl Injector {
    /// An injector for `plan` with the run's `dice`; scheduled partitions count as fired.
    pub(crate) fn new(plan: FaultPlan, dice: FaultDice) -> Injector {
        let mut counts = FaultCounts::default();
        for _ in &plan.partitions {
            counts.bump(FaultClass::Partition);
        }
        Injector {
            plan,
            dice,
            counts,
            fired: Vec::new(),
            calm: false,
        }
    }

    /// Whether `class` can fire at all (a class at probability zero draws nothing).
    #[inline]
    pub(crate) fn armed(&self, class: FaultClass) -> bool {
        self.plan.probability(class) > 0.0 && !self.calm
    }

    /// Rolls the next opportunity of `class` at `site`: its number if it falls due. The
    /// follow-up draws of the verdict come from [`Injector::dice`] after it.
    #[inline]
    pub(crate) fn roll(&mut self, class: FaultClass, site: &mut Site) -> Option<u64> {
        if self.calm {
            return None;
        }
        let p = self.plan.probability(class);
        self.dice.roll(site, class.index(), p)
    }

    /// Opportunity `op` of `class` at the site called `site` falls due: unless the plan's
    /// [`FaultPlan::only`] list leaves it out, or the run is `quiet` (a livelock is near: a
    /// run must be able to go idle), it is counted, traced, hashed and recorded, and fires.
    pub(crate) fn inject(
        &mut self,
        class: FaultClass,
        site: String,
        op: u64,
        (at, quiet): (Instant, bool),
        hash: &mut RunHash,
    ) -> bool {
        if !self.plan.allows(class, &site, op) || quiet || self.calm {
            return false;
        }
        self.counts.bump(class);
        crate::trace::fault(class, &site, op);
        hash.mix(&[0xFA, class as u64, at.as_nanos()]);
        let id = self.fired.len() as u64 + 1;
        self.fired.push(Fired {
            id,
            class,
            site,
            op,
            at,
        });
        true
    }
}
