//! `FdTable`: pollDescs in a slab whose slots carry generations, so a token outlives nothing.

use super::PollDesc;
use crate::scheduler::{Fd, Token};

/// One slab slot: its current generation and, while registered, the pollDesc.
#[derive(Debug)]
struct Entry {
    /// Bumped each time the slot is freed, so tokens of the previous occupant go stale.
    generation: u32,
    /// The pollDesc while the slot is in use.
    pd: Option<PollDesc>,
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
    /// Stores a new pollDesc for `fd` and returns its token.
    pub(crate) fn insert(&mut self, fd: Fd) -> Token {
        self.live += 1;
        if let Some(slot) = self.free.pop() {
            let e = &mut self.entries[slot as usize];
            e.pd = Some(PollDesc::new(fd));
            return Token::new(slot, e.generation);
        }
        let slot = u32::try_from(self.entries.len()).expect("doppel: more than 2^32 registrations");
        self.entries.push(Entry {
            generation: 0,
            pd: Some(PollDesc::new(fd)),
        });
        Token::new(slot, 0)
    }

    /// The pollDesc `token` names, or `None` if it has been removed since (stale).
    pub(crate) fn get_mut(&mut self, token: Token) -> Option<&mut PollDesc> {
        let e = self.entries.get_mut(token.slot() as usize)?;
        if e.generation != token.generation() {
            return None;
        }
        e.pd.as_mut()
    }

    /// Removes the pollDesc `token` names and retires the token.
    pub(crate) fn remove(&mut self, token: Token) -> Option<PollDesc> {
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

    /// Every live pollDesc with its token, in slot order (for stall reports).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Token, &PollDesc)> {
        self.entries.iter().enumerate().filter_map(|(i, e)| {
            let pd = e.pd.as_ref()?;
            Some((Token::new(i as u32, e.generation), pd))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reused_slot_rejects_old_token() {
        let mut t = FdTable::default();
        let a = t.insert(Fd(7));
        assert!(t.remove(a).is_some());
        let b = t.insert(Fd(7));
        assert_eq!(a.slot(), b.slot(), "the slot is reused");
        assert!(t.get_mut(a).is_none(), "the old token is stale");
        assert!(t.remove(a).is_none());
        assert_eq!(t.get_mut(b).map(|pd| pd.fd), Some(Fd(7)));
        assert_eq!(t.len(), 1);
    }
}
