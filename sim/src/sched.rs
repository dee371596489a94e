//! Scheduling strategies: which reactor steps next, and which task within it. Both replay
//! exactly from the seed.

use doppel_core::time::Instant;
use doppel_core::TaskId;

use crate::rng::{mix, Stream, GOLDEN};

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
        /// The bug depth aimed for (the number of ordering constraints), 1 to
        /// [`MAX_PCT_DEPTH`] (a larger one set in code runs as `MAX_PCT_DEPTH`).
        depth: u32,
    },
}

/// The deepest PCT a strategy may ask for: a run draws `depth - 1` change points, and bugs of
/// depth beyond a handful are out of PCT's reach anyway (its guarantee falls as `1/k^(d-1)`).
pub const MAX_PCT_DEPTH: u32 = 1_000;

impl std::str::FromStr for Strategy {
    type Err = String;

    /// `random` or `pct:DEPTH` (DEPTH from 1 to [`MAX_PCT_DEPTH`]).
    ///
    /// ```
    /// use doppel_sim::Strategy;
    /// assert_eq!("pct:3".parse(), Ok(Strategy::Pct { depth: 3 }));
    /// assert!("pct:0".parse::<Strategy>().is_err());
    /// assert!("pct:4294967295".parse::<Strategy>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Strategy, String> {
        let s = s.trim();
        if s == "random" {
            return Ok(Strategy::Random);
        }
        match s.strip_prefix("pct:").map(|d| d.trim().parse::<u32>()) {
            Some(Ok(depth)) if (1..=MAX_PCT_DEPTH).contains(&depth) => Ok(Strategy::Pct { depth }),
            _ => Err(format!(
                "{s:?}: expected \"random\" or \"pct:DEPTH\" with DEPTH from 1 to {MAX_PCT_DEPTH}"
            )),
        }
    }
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Strategy::Random => f.write_str("random"),
            Strategy::Pct { depth } => write!(f, "pct:{depth}"),
        }
    }
}

/// The driver's choice of which ready reactor steps next: seeded, and the same under every
/// strategy (PCT orders tasks, not reactors).
#[derive(Debug)]
pub(crate) struct ReactorPicker {
    /// The key every choice is derived from (the task picker's).
    key: u64,
    /// The instant of the last choice, and how many were made then.
    picks: (Instant, u64),
}

impl ReactorPicker {
    /// Picks one of `n` ready reactors at `now`.
    pub(crate) fn pick(&mut self, n: usize, now: Instant) -> usize {
        if n == 1 {
            return 0;
        }
        let k = next_at(&mut self.picks, now);
        choose(self.key, now, 0, k, n)
    }
}

/// The strategy's state for one run: the choice of task within a reactor.
#[derive(Debug)]
pub(crate) struct Picker {
    strategy: Strategy,
    /// PCT: priorities by (reactor, task spawn number), assigned on first sight.
    priorities: std::collections::BTreeMap<(usize, u64), u64>,
    /// PCT: the steps at which the chosen task's priority drops.
    change_points: Vec<u64>,
    /// Picks made so far.
    steps: u64,
    /// PCT: the next low priority handed out at a change point.
    low: u64,
    /// Random: the key every choice is derived from.
    key: u64,
    /// Random: per reactor, the instant of its last choice of task and how many were made
    /// then.
    task_picks: Vec<(Instant, u64)>,
}

/// A choice among `n` drawn from (key, instant, which site, how many choices that site made at
/// that instant): a pure function of them, so extra steps at one instant (one connection doing
/// one write more) move no choice made at another.
fn choose(key: u64, at: Instant, site: u64, k: u64, n: usize) -> usize {
    let x = mix(key ^ mix(at.as_nanos() ^ site.wrapping_mul(GOLDEN)))
        .wrapping_add(k.wrapping_mul(GOLDEN));
    ((u128::from(mix(x)) * n as u128) >> 64) as usize
}

/// The next choice's number at `now`, given the last instant and count.
fn next_at(last: &mut (Instant, u64), now: Instant) -> u64 {
    if last.0 != now {
        *last = (now, 0);
    }
    last.1 += 1;
    last.1
}

/// PCT's horizon: change points are drawn from the first this-many picks.
const PCT_HORIZON: u64 = 20_000;

impl Picker {
    /// A picker for one run.
    pub(crate) fn new(strategy: Strategy, rng: &mut Stream) -> Picker {
        let change_points = match strategy {
            Strategy::Pct { depth } => {
                // A depth set in code, past the parser's check, is held to its bound too.
                let depth = depth.min(MAX_PCT_DEPTH);
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
            key: rng.next_u64(),
            task_picks: Vec::new(),
        }
    }

    /// The driver's reactor picker, sharing this run's key.
    pub(crate) fn reactor_picker(&self) -> ReactorPicker {
        ReactorPicker {
            key: self.key,
            picks: (Instant::ZERO, 0),
        }
    }

    /// Picks one of `runnable` on `reactor` at `now`.
    pub(crate) fn pick_task(
        &mut self,
        reactor: usize,
        runnable: &[TaskId],
        now: Instant,
        rng: &mut Stream,
    ) -> usize {
        self.steps += 1;
        match self.strategy {
            Strategy::Random if runnable.len() == 1 => 0,
            Strategy::Random => {
                if self.task_picks.len() <= reactor {
                    self.task_picks.resize(reactor + 1, (Instant::ZERO, 0));
                }
                let k = next_at(&mut self.task_picks[reactor], now);
                choose(self.key, now, reactor as u64 + 1, k, runnable.len())
            }
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
}
