//! Readiness: what an event reports, which half of a descriptor waits, and the event itself.

use std::fmt;

use super::fd::Token;

/// Which kinds of readiness an event reports, as a small bit set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Ready(u8);

impl Ready {
    /// Nothing is ready.
    pub const EMPTY: Ready = Ready(0);
    /// Data (or EOF, or a pending connection) can be read.
    pub const READABLE: Ready = Ready(1);
    /// Buffer space (or a finished connect) is available for writing.
    pub const WRITABLE: Ready = Ready(2);
    /// The peer closed its writing half (EPOLLRDHUP / EV_EOF on the read filter).
    pub const READ_CLOSED: Ready = Ready(4);
    /// The connection is closed for writing (EPOLLHUP / EV_EOF on the write filter).
    pub const WRITE_CLOSED: Ready = Ready(8);
    /// An error is pending on the socket (EPOLLERR); the next call will report it.
    pub const ERROR: Ready = Ready(16);

    /// Whether every bit of `other` is set in `self`.
    pub fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    /// Whether a reader should be woken: readable, read-closed or error.
    pub fn wakes_reader(self) -> bool {
        self.0 & (Self::READABLE.0 | Self::READ_CLOSED.0 | Self::ERROR.0) != 0
    }

    /// Whether a writer should be woken: writable, write-closed or error.
    pub fn wakes_writer(self) -> bool {
        self.0 & (Self::WRITABLE.0 | Self::WRITE_CLOSED.0 | Self::ERROR.0) != 0
    }

    /// The raw bits, for traces.
    pub fn bits(self) -> u8 {
        self.0
    }
}

impl std::ops::BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        Ready(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, rhs: Ready) {
        self.0 |= rhs.0;
    }
}

impl fmt::Display for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(Ready, &str); 5] = [
            (Ready::READABLE, "r"),
            (Ready::WRITABLE, "w"),
            (Ready::READ_CLOSED, "rdhup"),
            (Ready::WRITE_CLOSED, "hup"),
            (Ready::ERROR, "err"),
        ];
        let mut first = true;
        for (bit, name) in NAMES {
            if self.contains(bit) {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("-")?;
        }
        Ok(())
    }
}

/// One readiness event from [`Scheduler::poll`](super::Scheduler::poll): which registration, and what arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// The registration the event is for (possibly stale; the core checks the generation).
    pub token: Token,
    /// What became ready.
    pub ready: Ready,
}

/// Which half of a descriptor an operation waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// Reading (and accepting, which waits for the listener to be readable).
    Read,
    /// Writing (and connecting, which waits for the socket to be writable).
    Write,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Read => "read",
            Direction::Write => "write",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_renders_stably() {
        assert_eq!((Ready::READABLE | Ready::ERROR).to_string(), "r|err");
        assert_eq!(Ready::EMPTY.to_string(), "-");
        assert!((Ready::READ_CLOSED).wakes_reader());
        assert!(!(Ready::READ_CLOSED).wakes_writer());
    }
}
