//! A request's arguments as byte ranges: the first [`INLINE`] in place, more on the heap. Most
//! commands have at most three arguments (`GET k`, `SET k v`), so a parser, and the idle
//! connection that owns it, holds no allocation for them; a longer request (`MSET`, `DEL` of
//! many keys) spills to a vector that lives until the next request starts.

use std::ops::Range;

/// Arguments kept in place before the rest spill to the heap.
pub const INLINE: usize = 3;

/// The argument ranges of the request being parsed.
#[derive(Clone, Debug, Default)]
pub struct Args {
    /// The arguments, while there are at most [`INLINE`].
    inline: [Range<usize>; INLINE],
    /// How many arguments there are.
    len: usize,
    /// Every argument, once there are more than [`INLINE`].
    spill: Vec<Range<usize>>,
}

impl Args {
    /// Forgets every argument (and the heap room a long request took).
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
        if self.spill.capacity() > 0 {
            self.spill = Vec::new();
        }
    }

    /// Appends one argument.
    #[inline]
    pub fn push(&mut self, r: Range<usize>) {
        if self.len < INLINE {
            self.inline[self.len] = r;
        } else {
            self.spill_one(r);
        }
        self.len += 1;
    }

    /// Appends an argument beyond the [`INLINE`]th, moving the first ones to the heap with the
    /// first such.
    #[cold]
    fn spill_one(&mut self, r: Range<usize>) {
        if self.len == INLINE {
            self.spill.reserve(2 * INLINE);
            self.spill.extend(self.inline.iter().cloned());
        }
        self.spill.push(r);
    }

    /// The arguments, in order.
    #[inline]
    pub fn as_slice(&self) -> &[Range<usize>] {
        if self.len <= INLINE {
            &self.inline[..self.len]
        } else {
            &self.spill
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_stay_in_order_across_the_spill_and_clear_frees_it() {
        let mut a = Args::default();
        assert!(a.is_empty());
        for n in 0..INLINE {
            a.push(n..n + 1);
        }
        assert_eq!(a.spill.capacity(), 0, "three fit in place");
        a.push(7..9);
        a.push(9..12);
        let want: Vec<Range<usize>> = vec![0..1, 1..2, 2..3, 7..9, 9..12];
        assert_eq!(a.as_slice(), want.as_slice());
        a.clear();
        assert!(a.is_empty());
        assert_eq!(a.spill.capacity(), 0, "a long request's room is given back");
        a.push(4..5);
        assert_eq!(a.as_slice(), &[Range { start: 4, end: 5 }]);
    }
}
