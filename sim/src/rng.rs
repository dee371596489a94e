//! Seeded randomness, all derived from the run's seed: named ChaCha8 streams for the
//! scheduler's setup and swarm mode, and counter-based draws (splitmix64 read at a position)
//! for faults and the network, one sequence per class at each site (a socket, a reactor, a host).
//!
//! Streams are keyed by stable names ("sched", "swarm", "faults/CLASS"), never by creation
//! order, and sites by stable labels, so turning one knob (say, the fault plan drawing more
//! often) leaves the other draws alone (shadow#2074, tigerbeetle#3237). ChaCha8 and splitmix64
//! are named, portable algorithms: the same seed gives the same numbers on every machine and
//! every build (rand's `StdRng` and `SmallRng` promise neither); golden-vector tests below pin
//! them.

use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::site::Site;
use rand_chacha::ChaCha8Rng;

/// One seeded stream.
#[derive(Debug, Clone)]
pub struct Stream(ChaCha8Rng);

/// FNV-1a over the name, to mix it into the key.
pub(crate) fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// splitmix64: spreads a 64-bit value over the key's bytes.
fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Stream {
    /// The stream called `name` of the run seeded with `seed`.
    pub fn new(seed: u64, name: &str) -> Stream {
        let mut state = seed ^ name_hash(name).rotate_left(17);
        let mut key = [0u8; 32];
        for chunk in key.chunks_mut(8) {
            chunk.copy_from_slice(&splitmix(&mut state).to_le_bytes());
        }
        Stream(ChaCha8Rng::from_seed(key))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A number in `0..n` (`n > 0`), by Lemire's multiply-shift (bias below 2^-32 for the small
    /// ranges used here).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0, "below(0)");
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `p` (0.0 never draws: a disabled knob disturbs nothing).
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64) < p
    }
}

/// Fault randomness that is counter-based: each class has its own key, and the dice for the
/// `k`-th opportunity of a class at a site are a pure function of (seed, class, site, `k`):
/// splitmix64 read at position `k` (SplittableRandom's generator, with random access). Whether
/// one fault fires never moves another's dice, so `doppel shrink` can leave a fault out and
/// every other fault of the run still falls where it did, as long as the run reaches the same
/// opportunities; and opportunities are numbered per site, so a change on one connection
/// leaves the other connections' faults alone.
#[derive(Debug, Clone)]
pub struct FaultDice {
    /// Per class: the key of its sequence.
    keys: [u64; crate::classes::FaultClass::COUNT],
    /// The follow-up draws of the last roll: its base and how many were taken.
    detail: (u64, u64),
}

/// Positions per opportunity: one for the decision, the rest for its follow-up draws.
const SPAN: u64 = 16;

/// splitmix64's step constant.
pub(crate) const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// splitmix64's output function.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform number in [0, 1) from 64 bits.
fn unit(x: u64) -> f64 {
    (x >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

impl FaultDice {
    /// The dice of the run seeded with `seed`; `names` are the classes' names, in index order.
    pub fn new(seed: u64, names: [&str; crate::classes::FaultClass::COUNT]) -> FaultDice {
        let seed_key = mix(seed ^ 0x6661_756c_7473_2f2f);
        FaultDice {
            keys: names.map(|n| mix(seed_key ^ name_hash(n).rotate_left(13))),
            detail: (0, 0),
        }
    }

    /// Rolls the next opportunity of class `class` at `site` at probability `p`: its number if
    /// the fault falls due. Positions the follow-up draws on it either way.
    #[inline]
    pub(crate) fn roll(&mut self, site: &mut Site, class: usize, p: f64) -> Option<u64> {
        let k = site.take(class);
        let base = mix(self.keys[class] ^ site.key())
            .wrapping_add(k.wrapping_mul(SPAN).wrapping_mul(GOLDEN));
        self.detail = (base, 1);
        (p >= 1.0 || unit(mix(base)) < p).then_some(k)
    }

    /// Whether `site` is on for the whole run for class `class`, at probability `p`: one draw
    /// of the site's own key, taken before any opportunity (a `buggify!` call site is on or off
    /// for a seed, as FoundationDB's are).
    pub(crate) fn site_on(&self, site: &Site, class: usize, p: f64) -> bool {
        const ON: u64 = 0x6f6e_5f66_6f72_5f61;
        p >= 1.0 || unit(mix(self.keys[class] ^ site.key() ^ ON)) < p
    }

    /// Counts an opportunity of a scheduled class (a crash) at `site` without rolling: its
    /// number.
    pub(crate) fn count(&mut self, site: &mut Site, class: usize) -> u64 {
        site.take(class)
    }

    /// The next follow-up draw of the last roll (how short, how late, which token).
    pub fn next_u64(&mut self) -> u64 {
        let (base, j) = self.detail;
        debug_assert!(j < SPAN, "too many follow-up draws for one fault");
        self.detail.1 = j + 1;
        mix(base.wrapping_add(j.wrapping_mul(GOLDEN)))
    }

    /// A follow-up number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A follow-up number in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// A follow-up coin with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        unit(self.next_u64()) < p
    }
}

/// The run's streams, one per concern.
#[derive(Debug, Clone)]
pub struct Rngs {
    /// Which reactor steps next, and which task within it.
    pub sched: Stream,
    /// Swarm mode: which fault classes are on, and how often.
    pub swarm: Stream,
}

impl Rngs {
    /// All streams of the run seeded with `seed`, and its fault dice (which the injector
    /// holds).
    pub fn new(seed: u64) -> (Rngs, FaultDice) {
        let rngs = Rngs {
            sched: Stream::new(seed, "sched"),
            swarm: Stream::new(seed, "swarm"),
        };
        let names = crate::classes::FaultClass::ALL.map(|c| c.name());
        (rngs, FaultDice::new(seed, names))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Golden vectors: if these change, every recorded seed replays differently. Never update
    /// them without a note in the changelog.
    #[test]
    fn streams_are_pinned() {
        let mut s = Stream::new(42, "net");
        let got: Vec<u64> = (0..3).map(|_| s.next_u64()).collect();
        assert_eq!(got, GOLDEN_42_NET);
    }

    const GOLDEN_42_NET: [u64; 3] = [
        11_001_513_618_462_152_577,
        9_666_465_271_823_739_745,
        6_027_111_865_886_405_467,
    ];

    #[test]
    fn streams_differ_by_name_and_seed() {
        let a = Stream::new(1, "net").next_u64();
        assert_ne!(a, Stream::new(1, "sched").next_u64());
        assert_ne!(a, Stream::new(2, "net").next_u64());
        assert_eq!(a, Stream::new(1, "net").next_u64());
    }

    #[test]
    fn fault_dice_depend_only_on_class_and_opportunity() {
        let names = crate::classes::FaultClass::ALL.map(|c| c.name());
        let mut a = FaultDice::new(7, names);
        let mut b = FaultDice::new(7, names);
        let site = |identity| Site::new(7, crate::site::Label::Net, identity);
        let (mut sa, mut sb, mut other) = (site(1), site(1), site(2));
        // `b` rolls another class, and the same class at another site, in between: `a`'s and
        // `b`'s class-0 dice at site `s` stay the same.
        for _ in 0..100 {
            let x = a.roll(&mut sa, 0, 0.3);
            b.roll(&mut sb, 5, 0.5);
            b.roll(&mut other, 0, 0.5);
            b.next_u64();
            assert_eq!(x, b.roll(&mut sb, 0, 0.3));
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let fired = (0..10_000)
            .filter(|_| a.roll(&mut sa, 1, 0.25).is_some())
            .count();
        assert!((2_300..2_700).contains(&fired), "{fired}");
    }

    #[test]
    fn ranges_hold() {
        let mut s = Stream::new(3, "x");
        for _ in 0..1000 {
            assert!(s.below(7) < 7);
        }
        assert!(!s.chance(0.0));
        assert!(s.chance(1.0));
    }
}
