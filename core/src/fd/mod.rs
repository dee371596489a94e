//! The fd layer, Go's pollDesc: per registered descriptor a read slot and a write slot, the
//! deadlines, the generation-tagged table, and the one retry loop every socket call goes through.

mod poll_desc;
pub(crate) mod registration;
pub(crate) mod retry;
mod table;

pub(crate) use poll_desc::{PollDesc, SlotCheck};
pub(crate) use table::{FdTable, PdRef};

use std::fmt;

/// Which half of a pollDesc: the reader's slot or the writer's.
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
