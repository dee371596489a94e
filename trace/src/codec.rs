//! The byte encoding of records: a header byte, LEB128 varints for numbers (zigzag for signed
//! ones and for time, which is stored as the difference from the previous timed record), and a
//! zero byte after the last field. A typical runtime event takes about a dozen bytes where a
//! fixed layout took sixty: the collector's cost is mostly the kernel handing out fresh pages,
//! so bytes are what matter.

/// Header bits: the kind (two bits), then which optional parts follow.
pub(crate) const HAS_TIME: u8 = 1 << 2;
/// The record carries a task number.
pub(crate) const HAS_TASK: u8 = 1 << 3;
/// The record carries a host and reactor.
pub(crate) const HAS_HOST: u8 = 1 << 4;
/// The record is a runtime event named by its schema (callsite and field keys) instead of a
/// callsite with keyed fields: its values follow in the schema's key order, with no end mark.
pub(crate) const HAS_SCHEMA: u8 = 1 << 5;

/// Field value tags.
pub(crate) const TAG_U64: u8 = 0;
/// A signed integer (zigzag).
pub(crate) const TAG_I64: u8 = 1;
/// A boolean (one byte).
pub(crate) const TAG_BOOL: u8 = 2;
/// A float (eight bytes, little-endian bits).
pub(crate) const TAG_F64: u8 = 3;
/// A string, by index into the store's string table.
pub(crate) const TAG_STR: u8 = 4;

/// Appends `v` as an unsigned LEB128 varint.
#[inline]
pub(crate) fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zigzag-encoded (small magnitudes, either sign, stay small).
#[inline]
pub(crate) fn put_signed(out: &mut Vec<u8>, v: i64) {
    put(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Encodes one record on the stack, then appends it with one copy: the collector's hot path
/// pays no capacity check per byte.
pub(crate) struct Enc {
    /// The bytes so far.
    buf: [u8; Enc::MAX],
    /// How many.
    n: usize,
}

impl Enc {
    /// The largest record it holds: a full header and four fields of the longest encoding.
    pub(crate) const MAX: usize = 1 + 5 + 10 + 10 + 5 + 5 + 4 * (3 + 1 + 10) + 1;

    /// An empty record.
    #[inline]
    pub(crate) fn new() -> Enc {
        Enc {
            buf: [0; Enc::MAX],
            n: 0,
        }
    }

    /// Appends a byte.
    #[inline]
    pub(crate) fn byte(&mut self, b: u8) {
        self.buf[self.n] = b;
        self.n += 1;
    }

    /// Appends an unsigned varint.
    #[inline]
    pub(crate) fn put(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.byte((v as u8) | 0x80);
            v >>= 7;
        }
        self.byte(v as u8);
    }

    /// Appends a zigzag varint.
    #[inline]
    pub(crate) fn put_signed(&mut self, v: i64) {
        self.put(((v << 1) ^ (v >> 63)) as u64);
    }

    /// The encoded bytes.
    #[inline]
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf[..self.n]
    }
}

/// Reads bytes from an encoded stream.
pub(crate) struct Reader<'a> {
    /// The stream.
    pub(crate) bytes: &'a [u8],
    /// Where the next byte is.
    pub(crate) at: usize,
}

impl Reader<'_> {
    /// The next byte (0 past the end: a well-formed stream never gets there).
    #[inline]
    pub(crate) fn byte(&mut self) -> u8 {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    /// The next unsigned varint.
    #[inline]
    pub(crate) fn get(&mut self) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = self.byte();
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 || shift >= 63 {
                return v;
            }
            shift += 7;
        }
    }

    /// The next zigzag varint.
    #[inline]
    pub(crate) fn get_signed(&mut self) -> i64 {
        let u = self.get();
        ((u >> 1) as i64) ^ -((u & 1) as i64)
    }

    /// The next eight bytes as a little-endian word.
    pub(crate) fn word(&mut self) -> u64 {
        let mut b = [0u8; 8];
        for x in &mut b {
            *x = self.byte();
        }
        u64::from_le_bytes(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        let mut out = Vec::new();
        let vals = [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX];
        let signed = [0i64, -1, 1, -64, 64, i64::MIN, i64::MAX];
        for v in vals {
            put(&mut out, v);
        }
        for v in signed {
            put_signed(&mut out, v);
        }
        let mut r = Reader { bytes: &out, at: 0 };
        for v in vals {
            assert_eq!(r.get(), v);
        }
        for v in signed {
            assert_eq!(r.get_signed(), v);
        }
        assert_eq!(r.at, out.len());
    }
}
