//! Seed ranges as the command line and specs write them: `A..B` (B excluded), `A..=B`, or one
//! seed `N`; and shards of a range, `K/N`, for sweeps spread over many machines.

use std::fmt;
use std::ops::Range;

/// A non-empty, half-open range of seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedRange {
    /// The first seed.
    pub start: u64,
    /// One past the last seed.
    pub end: u64,
}

impl SeedRange {
    /// Parses `A..B`, `A..=B` or `N`; a reversed or empty range is an error that says so.
    pub fn parse(text: &str) -> Result<SeedRange, String> {
        let t = text.trim();
        let num = |s: &str| -> Result<u64, String> {
            s.trim().parse().map_err(|_| {
                format!("seed range {text:?}: {s:?} is not a seed (an unsigned 64-bit number)")
            })
        };
        let (start, end) = if let Some((a, b)) = t.split_once("..=") {
            let b = num(b)?;
            let end = b.checked_add(1).ok_or_else(|| {
                format!("seed range {text:?}: the last seed is too large to include")
            })?;
            (num(a)?, end)
        } else if let Some((a, b)) = t.split_once("..") {
            (num(a)?, num(b)?)
        } else {
            let n = num(t)?;
            let end = n.checked_add(1).ok_or_else(|| {
                format!(
                    "seed range {text:?}: seed {n} is the one seed no range holds (sweep up to {}; \
                     replay it alone with --seed or DOPPEL_SEED)",
                    n - 1
                )
            })?;
            (n, end)
        };
        if end < start {
            return Err(format!(
                "seed range {text:?} is reversed: {start} comes after {end}"
            ));
        }
        if end == start {
            return Err(format!(
                "seed range {text:?} is empty (A..B excludes B; write {start}..={start} for one seed)"
            ));
        }
        Ok(SeedRange { start, end })
    }

    /// How many seeds.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Never true: a range is checked non-empty when made (here for clippy's sake).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// As a `Range`.
    ///
    /// ```
    /// use doppel_sim::SeedRange;
    /// let r = SeedRange::parse("18446744073709551610..18446744073709551615").unwrap();
    /// assert_eq!(r.len(), 5);
    /// assert_eq!(SeedRange::parse("5..=7").unwrap().range(), 5..8);
    /// ```
    pub fn range(&self) -> Range<u64> {
        self.start..self.end
    }

    /// The `k`-th (from 1) of `n` disjoint, contiguous slices, which together cover the range.
    /// A slice may be empty when `n` exceeds the number of seeds.
    pub fn shard(&self, shard: Shard) -> Range<u64> {
        let len = u128::from(self.len());
        let at = |i: u64| self.start + (len * u128::from(i) / u128::from(shard.of)) as u64;
        at(shard.index - 1)..at(shard.index)
    }
}

impl fmt::Display for SeedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// Which slice of a sweep this machine runs: `index` of `of`, from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This slice, from 1.
    pub index: u64,
    /// How many slices.
    pub of: u64,
}

impl Shard {
    /// The whole range as one slice.
    pub const WHOLE: Shard = Shard { index: 1, of: 1 };

    /// Parses `K/N` with 1 <= K <= N.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("shard {text:?}: expected K/N with 1 <= K <= N, as in 2/8");
        let (k, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: u64 = k.trim().parse().map_err(|_| bad())?;
        let of: u64 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || of == 0 || index > of {
            return Err(bad());
        }
        Ok(Shard { index, of })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse() {
        assert_eq!(SeedRange::parse("0..10").unwrap().range(), 0..10);
        assert_eq!(SeedRange::parse("5..=7").unwrap().range(), 5..8);
        assert_eq!(SeedRange::parse("42").unwrap().range(), 42..43);
        let e = SeedRange::parse("10..3").unwrap_err();
        assert!(e.contains("reversed"), "{e}");
        let e = SeedRange::parse("3..3").unwrap_err();
        assert!(e.contains("empty"), "{e}");
        let e = SeedRange::parse("a..b").unwrap_err();
        assert!(e.contains("\"a\" is not a seed"), "{e}");
        assert!(SeedRange::parse("0..=18446744073709551615").is_err());
    }

    #[test]
    fn shards_are_disjoint_and_cover_the_range() {
        let r = SeedRange::parse("3..1000").unwrap();
        for n in [1, 2, 3, 7, 2000] {
            let mut next = r.start;
            for k in 1..=n {
                let s = r.shard(Shard { index: k, of: n });
                assert_eq!(s.start, next);
                next = s.end;
            }
            assert_eq!(next, r.end);
        }
        assert!(Shard::parse("0/3").is_err());
        assert!(Shard::parse("4/3").is_err());
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, of: 3 }));
    }
}
