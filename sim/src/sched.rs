//! Scheduling strategies: which reactor steps next, and which task within it. Both replay
//! exactly from the seed.

use doppel_core::TaskId;

use crate::rng::Stream;

/// How the simulator orders work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Strategy {
    /// A seeded uniform choice at every step.
    #[default]
    Random,
    /// PCT (Burckhardt et al., "A Randomized Scheduler with Probabilistic Guarantees of Finding
    /// Bugs"): every task gets a random priority, the highest runnable one runs, and at `depth - 1`
    /// random steps the running task's priority drops below all others. Finds bugs that need a
    /// few specific orderings far more often than uniform choice.
    Pct {
        /// The bug depth aimed for (the number of ordering constraints).
        depth: u32,
    },
}

/// The strategy's state for one run.
#[derive(Debug)]
pub(crate) struct Picker {
    /// The strategy.
    strategy: Strategy,
    /// PCT: priorities by (reactor, task spawn number), assigned on first sight.
    priorities: std::collections::BTreeMap<(usize, u64), u64>,
    /// PCT: the steps at which the chosen task's priority drops.
    change_points: Vec<u64>,
    /// Picks made so far.
    steps: u64,
    /// PCT: the next low priority handed out at a change point.
    low: u64,
}

/// PCT's horizon: change points are drawn from the first this-many picks.
const PCT_HORIZON: u64 = 20_000;

impl Picker {
    /// A picker for one run.
    pub(crate) fn new(strategy: Strategy, rng: &mut Stream) -> Picker {
        let change_points = match strategy {
            Strategy::Pct { depth } => {
                let mut v: Vec<u64> = (1..depth).map(|_| rng.below(PCT_HORIZON)).collect();
                v.sort_unstable();
                v
            }
            Strategy::Random => Vec::new(),
        };
        Picker {
            strategy,
            priorities: Default::default(),
            change_points,
            steps: 0,
            low: 1 << 20,
        }
    }

    /// Picks one of `runnable` on `reactor`.
    pub(crate) fn pick_task(
        &mut self,
        reactor: usize,
        runnable: &[TaskId],
        rng: &mut Stream,
    ) -> usize {
        self.steps += 1;
        match self.strategy {
            Strategy::Random => rng.below(runnable.len() as u64) as usize,
            Strategy::Pct { .. } => self.pick_pct(reactor, runnable, rng),
        }
    }

    fn pick_pct(&mut self, reactor: usize, runnable: &[TaskId], rng: &mut Stream) -> usize {
        let mut best = (0, 0u64);
        for (i, t) in runnable.iter().enumerate() {
            let p = *self
                .priorities
                .entry((reactor, t.number()))
                .or_insert_with(|| (1 << 32) + rng.below(1 << 31));
            if p > best.1 {
                best = (i, p);
            }
        }
        if self.change_points.first() == Some(&self.steps) {
            self.change_points.remove(0);
            self.low = self.low.saturating_sub(1);
            let t = runnable[best.0].number();
            self.priorities.insert((reactor, t), self.low);
        }
        best.0
    }

    /// Picks one of `n` ready reactors.
    pub(crate) fn pick_reactor(&mut self, n: usize, rng: &mut Stream) -> usize {
        rng.below(n as u64) as usize
    }
}
