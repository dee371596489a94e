//! The run hash: equal hashes, equal runs (decisions, outcomes and the bytes readers got).

/// A 64-bit hash over the run's decisions and outcomes: equal hashes, equal runs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RunHash(pub(crate) u64);

impl RunHash {
    /// Mixes words in, a word at a time (FxHash's step: a rotate, an xor, a multiply).
    #[inline]
    pub(crate) fn mix(&mut self, words: &[u64]) {
        for &w in words {
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    /// Mixes in bytes a reader got: a rotate and an xor per eight bytes, then one step of the
    /// hash, so two runs that deliver the same lengths but different bytes hash differently
    /// (a checksum against accidents, not against an adversary).
    #[inline]
    pub(crate) fn mix_bytes(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        let mut acc = 0u64;
        for w in &mut words {
            acc = acc.rotate_left(7) ^ u64::from_le_bytes(w.try_into().expect("eight bytes"));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            acc = acc.rotate_left(7) ^ u64::from_le_bytes(last);
        }
        self.mix(&[acc]);
    }
}
