//! A latency histogram in bounded memory: log-linear buckets (HdrHistogram's layout with 32
//! sub-buckets per power of two), so any recorded value is known to within 1/32 (3.1 %) and the
//! whole range of `u64` nanoseconds fits in 1,920 counters, however many values are recorded.

use std::time::Duration;

/// Sub-buckets per power of two, as a bit count: 2^5 = 32.
const SUB_BITS: u32 = 5;
/// Sub-buckets per power of two.
const SUB: usize = 1 << SUB_BITS;
/// Buckets in all: values below 2 * SUB are exact, then SUB per power of two up to 2^64.
const BUCKETS: usize = (64 - SUB_BITS as usize) * SUB + SUB;

/// Round-trip latencies, in nanoseconds.
#[derive(Clone)]
pub struct Histogram {
    /// Values recorded per bucket.
    counts: Box<[u64; BUCKETS]>,
    /// Values recorded in all.
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: Box::new([0; BUCKETS]),
            total: 0,
        }
    }
}

/// The bucket of `v`: exact below 64, else the top six significant bits.
fn bucket(v: u64) -> usize {
    if v < 2 * SUB as u64 {
        return v as usize;
    }
    let shift = 63 - v.leading_zeros() - SUB_BITS;
    shift as usize * SUB + (v >> shift) as usize
}

/// The largest value bucket `i` holds (quantiles report this: never below the truth).
fn upper(i: usize) -> u64 {
    if i < 2 * SUB {
        return i as u64;
    }
    let shift = (i / SUB - 1) as u32;
    let top = (i - shift as usize * SUB) as u64;
    // The last bucket's bound is 2^64 - 1: the shift drops the carry, the subtraction wraps.
    ((top + 1) << shift).wrapping_sub(1)
}

impl Histogram {
    /// Records one latency.
    pub fn record(&mut self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.counts[bucket(ns)] += 1;
        self.total += 1;
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (c, o) in self.counts.iter_mut().zip(other.counts.iter()) {
            *c += o;
        }
        self.total += other.total;
    }

    /// Values recorded.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// The `q` quantile (0.5 for the median, 0.99 for p99) in microseconds, as the upper
    /// bound of its bucket; `None` when nothing was recorded.
    pub fn quantile_us(&self, q: f64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(upper(i) as f64 / 1000.0);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_bound_their_values() {
        let mut last = 0;
        for v in (0..100_000u64).chain([u64::MAX / 3, u64::MAX - 1, u64::MAX]) {
            let b = bucket(v);
            assert!(b < BUCKETS, "{v} -> {b}");
            assert!(b >= last, "buckets must not go backwards at {v}");
            last = b;
            assert!(upper(b) >= v, "{v} above its bucket's bound {}", upper(b));
            assert!(
                upper(b) - v <= v / SUB as u64,
                "{v}: bound {} too loose",
                upper(b)
            );
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn quantiles() {
        let mut h = Histogram::default();
        for us in 1..=100u64 {
            h.record(Duration::from_micros(us));
        }
        let p50 = h.quantile_us(0.5).unwrap();
        let p99 = h.quantile_us(0.99).unwrap();
        assert!((50.0..=50.0 * 1.04).contains(&p50), "{p50}");
        assert!((99.0..=99.0 * 1.04).contains(&p99), "{p99}");
        assert_eq!(Histogram::default().quantile_us(0.5), None);
    }
}
