//! The key-value map the server's connections share: ordered (a `BTreeMap`, never a hash map,
//! so nothing about it depends on a per-process hash seed), one per server. On a group of
//! reactors the connections live on several sub-reactors (threads), so the map is shared as a
//! [`Shared`]: an `Arc<Mutex<Store>>`, locked once per batch of requests read and never held
//! across an `await` (so a lock is held for microseconds, and on one reactor it is never
//! contended).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The store as the server's connections share it, on one reactor or across several.
pub type Shared = Arc<Mutex<Store>>;

/// A new, empty shared store.
pub fn shared() -> Shared {
    Arc::new(Mutex::new(Store::new()))
}

/// Locks the shared store. A panic while holding the lock can only come from the allocator
/// (every method leaves the map consistent between calls), so a poisoned lock is still a
/// consistent map and is used as is.
pub fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Keys to values, both byte strings.
#[derive(Clone, Debug, Default)]
pub struct Store {
    /// The data.
    map: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Connections closed for a reply beyond `Config::max_reply_bytes`.
    reply_limit_closes: u64,
}

impl Store {
    /// An empty store.
    pub fn new() -> Store {
        Store::default()
    }

    /// The value of `key`, if it is set.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.map.get(key).map(Vec::as_slice)
    }

    /// Sets `key` to `value`. Overwriting reuses the old value's allocation when it is big
    /// enough, so a benchmark that sets one key over and over allocates nothing.
    pub fn set(&mut self, key: &[u8], value: &[u8]) {
        match self.map.get_mut(key) {
            Some(old) => {
                old.clear();
                old.extend_from_slice(value);
            }
            None => {
                self.map.insert(key.to_vec(), value.to_vec());
            }
        }
    }

    /// Removes `key`; true if it was set.
    pub fn del(&mut self, key: &[u8]) -> bool {
        self.map.remove(key).is_some()
    }

    /// How many keys are set.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// How many connections the server closed for a reply beyond its limit.
    pub fn reply_limit_closes(&self) -> u64 {
        self.reply_limit_closes
    }

    /// Counts one such close.
    pub fn count_reply_limit_close(&mut self) {
        self.reply_limit_closes += 1;
    }

    /// True if no key is set.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_overwrite_and_delete() {
        let mut s = Store::new();
        assert_eq!(s.get(b"k"), None);
        s.set(b"k", b"long value");
        s.set(b"k", b"v");
        assert_eq!(s.get(b"k"), Some(&b"v"[..]));
        assert_eq!(s.len(), 1);
        assert!(s.del(b"k"));
        assert!(!s.del(b"k"));
        assert!(s.is_empty());
    }
}
