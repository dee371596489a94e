//! Deterministic payloads for checking clients: a byte pattern that exposes loss, duplication
//! and reordering, a small generator for message sizes, and which errors a client may cure by
//! reconnecting.

/// The byte at `offset` of stream `stream`: no two nearby offsets share a value, so lost,
/// duplicated or reordered bytes show up as a mismatch.
pub fn pattern(stream: u64, offset: u64) -> u8 {
    let x = offset
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
    (x >> 56) as u8 ^ (offset as u8)
}

/// Fills `buf` with `pattern(stream, start..)`.
pub fn fill(buf: &mut [u8], stream: u64, start: u64) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = pattern(stream, start + i as u64);
    }
}

/// A small deterministic generator (splitmix64) for sizes and choices in workloads. Clients
/// use it so that their behaviour depends only on their id, never on the backend.
#[derive(Debug, Clone)]
pub struct Gen(pub u64);

impl Gen {
    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A size from 1 to `max`, log-uniform, so small and large sizes are both common.
    pub fn log_size(&mut self, max: usize) -> usize {
        let bits = u64::from(usize::BITS - max.leading_zeros());
        let b = self.next_u64() % bits;
        let size = (1usize << b) + (self.next_u64() as usize % (1usize << b));
        size.clamp(1, max)
    }
}

/// The network ended or froze the connection (a reset, a refusal, a timeout, an unreachable
/// host): a client that may reconnect tries again; the data was not the problem.
pub fn connection_lost(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionReset
            | ConnectionAborted
            | ConnectionRefused
            | BrokenPipe
            | NotConnected
            | TimedOut
            | HostUnreachable
            | NetworkUnreachable
    )
}

/// [`connection_lost`], or the server closed the connection early: for clients whose server
/// may legitimately vanish mid-conversation (a crash, a restart).
pub fn connection_lost_or_closed(e: &std::io::Error) -> bool {
    connection_lost(e) || e.kind() == std::io::ErrorKind::UnexpectedEof
}
