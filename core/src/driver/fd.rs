//! The descriptor and the registration it is watched under: the names a backend and the core
//! share for one socket.

use std::fmt;

/// A descriptor number as the backend knows it: a real fd, or a virtual one in the simulator.
///
/// The simulator hands out the lowest free number as the kernel does, so fd reuse (and the stale
/// events it invites) happens in simulation exactly as it does on Linux.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fd(pub(crate) i32);

impl Fd {
    /// The descriptor numbered `raw` (a real fd, or a simulated one).
    pub const fn new(raw: i32) -> Fd {
        Fd(raw)
    }

    /// Its number, for the syscall that takes it.
    pub const fn raw(self) -> i32 {
        self.0
    }
}

impl fmt::Display for Fd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fd={}", self.0)
    }
}

/// Names a registration: a pollDesc slot and the generation it had when the fd was registered.
///
/// Go's netpoll tags each epoll event with `fdseq` for the same reason: an event or a deadline
/// timer that names an old generation belongs to a closed (and perhaps reused) descriptor, and
/// must be dropped rather than delivered to the new owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(pub(crate) u64);

impl Token {
    /// The token of the backend's own wake-up source; never a pollDesc.
    pub const WAKE: Token = Token(u64::MAX);

    /// Packs a slot index and a generation.
    pub fn new(slot: u32, generation: u32) -> Token {
        Token((u64::from(generation) << 32) | u64::from(slot))
    }

    /// The token whose packed value is `raw` (what a poller stored with the registration, as
    /// epoll's `data.u64` or kqueue's `udata`).
    pub const fn from_raw(raw: u64) -> Token {
        Token(raw)
    }

    /// The packed value, for a poller to store with the registration and hand back.
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// The pollDesc slot this token names.
    pub fn slot(self) -> u32 {
        self.0 as u32
    }

    /// The generation the slot had when this token was issued.
    pub fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_packs_slot_and_generation() {
        let t = Token::new(7, 3);
        assert_eq!(t.slot(), 7);
        assert_eq!(t.generation(), 3);
        assert_ne!(Token::new(7, 4), t);
        assert_ne!(Token::WAKE, Token::new(u32::MAX, u32::MAX - 1));
    }
}
