//! `FdTable`: token -> pollDesc, for delivering events and deadline timers. Slots carry
//! generations, so a token outlives nothing.

use std::cell::RefCell;
use std::rc::Rc;

use super::poll_desc::PollDesc;
use crate::driver::fd::{Fd, Token};

/// A pollDesc shared between its socket and the table.
pub(crate) type PdRef = Rc<RefCell<PollDesc>>;

/// One slab slot: its current generation and, while registered, the pollDesc.
#[derive(Debug, Default)]
struct Entry {
    /// Bumped each time the slot is freed, so tokens of the previous occupant go stale.
    generation: u32,
    /// The pollDesc while the slot is in use.
    pd: Option<PdRef>,
}

/// The reactor's registered descriptors. Lookup by token is O(1) and checks the generation, so
/// an event or a timer for a closed descriptor finds nothing even if the slot (or the fd
/// number) has been reused: Go's `fdseq` check, and the fix for creytiv/re#266.
#[derive(Debug, Default)]
pub(crate) struct FdTable {
    /// The slab.
    entries: Vec<Entry>,
    /// Free slots, reused last-freed-first (deterministic, and cache-warm).
    free: Vec<u32>,
    /// How many slots are in use.
    live: usize,
}

impl FdTable {
    /// Stores a new pollDesc for `fd` and returns it (its token is inside).
    pub(crate) fn insert(&mut self, fd: Fd) -> PdRef {
        self.live += 1;
        let slot = self.free.pop().unwrap_or_else(|| {
            self.entries.push(Entry::default());
            u32::try_from(self.entries.len() - 1).expect("doppel: more than 2^32 registrations")
        });
        let e = &mut self.entries[slot as usize];
        let pd = Rc::new(RefCell::new(PollDesc::new(
            fd,
            Token::new(slot, e.generation),
        )));
        e.pd = Some(pd.clone());
        pd
    }

    /// The pollDesc `token` names, or `None` if it has been removed since (stale).
    #[inline]
    pub(crate) fn get(&self, token: Token) -> Option<&PdRef> {
        let e = self.entries.get(token.slot() as usize)?;
        if e.generation != token.generation() {
            return None;
        }
        e.pd.as_ref()
    }

    /// Removes the pollDesc `token` names and retires the token.
    pub(crate) fn remove(&mut self, token: Token) -> Option<PdRef> {
        let e = self.entries.get_mut(token.slot() as usize)?;
        if e.generation != token.generation() {
            return None;
        }
        let pd = e.pd.take()?;
        e.generation = e.generation.wrapping_add(1);
        self.free.push(token.slot());
        self.live -= 1;
        Some(pd)
    }

    /// How many descriptors are registered.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Every live pollDesc, in slot order (for stall reports).
    pub(crate) fn iter(&self) -> impl Iterator<Item = &PdRef> {
        self.entries.iter().filter_map(|e| e.pd.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reused_slot_rejects_old_token() {
        let mut t = FdTable::default();
        let a = t.insert(Fd(7)).borrow().token;
        assert!(t.remove(a).is_some());
        let b = t.insert(Fd(7)).borrow().token;
        assert_eq!(a.slot(), b.slot(), "the slot is reused");
        assert!(t.get(a).is_none(), "the old token is stale");
        assert!(t.remove(a).is_none());
        assert_eq!(t.get(b).map(|pd| pd.borrow().fd), Some(Fd(7)));
        assert_eq!(t.len(), 1);
    }
}
