//! What a checking client knows about its own keys, kept exact across lost replies.
//!
//! Each client writes only its own keys, with values no other write shares, so every value a
//! `GET` returns names the one `SET` that wrote it. A write whose reply never came is one of two
//! kinds:
//!
//! - **ambiguous** (the connection was reset, or the client's deadline passed): it may have
//!   applied, and since its bytes may still be on the wire of the dead connection it may also
//!   apply *later*, even after newer acknowledged writes. It stays possible until a `GET` sees
//!   it (a request applies at most once) — an exact rule where "the last acknowledged value or a
//!   newer unacknowledged one" would blame a correct server for a delayed segment.
//! - **not applied** (the server closed the connection in order before answering it): the
//!   server answers everything it reads before it closes, so the write never ran. A `GET` that
//!   sees its value has caught a server that executed a request and dropped its reply.

/// One key's possible states.
#[derive(Clone, Debug, Default)]
struct Key {
    /// The value after the last acknowledged `SET` or `DEL`, or the last one a `GET` saw.
    known: Option<Vec<u8>>,
    /// Ambiguous writes that may still apply: `Some(v)` for `SET v`, `None` for `DEL`.
    maybe: Vec<Option<Vec<u8>>>,
    /// Values of `SET`s the server closed the connection on without answering: never applied.
    dropped: Vec<Vec<u8>>,
}

/// How a request's reply was lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lost {
    /// A reset or a timeout: the request may have applied, now or later.
    Ambiguous,
    /// An orderly close before the reply: the request did not apply.
    NotApplied,
}

/// A client's keys, by number.
#[derive(Clone, Debug)]
pub struct Model {
    keys: Vec<Key>,
}

/// A value for messages: its start, and its length when it is long.
pub fn show(v: Option<&[u8]>) -> String {
    match v {
        None => "nil".to_string(),
        Some(v) if v.len() > 24 => {
            format!(
                "{:?}... ({} bytes)",
                String::from_utf8_lossy(&v[..24]),
                v.len()
            )
        }
        Some(v) => format!("{:?}", String::from_utf8_lossy(v)),
    }
}

impl Model {
    /// `keys` keys, none of them set.
    pub fn new(keys: usize) -> Model {
        Model {
            keys: vec![Key::default(); keys],
        }
    }

    /// A `SET key value` was acknowledged.
    pub fn set(&mut self, key: usize, value: Vec<u8>) {
        self.keys[key].known = Some(value);
    }

    /// A `DEL` of `keys` (distinct) answered `count`: checks the count against what may be set.
    pub fn del(&mut self, keys: &[usize], count: i64) -> Result<(), String> {
        let (mut min, mut max) = (0, 0);
        for &k in keys {
            let key = &self.keys[k];
            let may_be_set = key.known.is_some() || key.maybe.iter().any(Option::is_some);
            let may_be_unset = key.known.is_none() || key.maybe.iter().any(Option::is_none);
            min += i64::from(!may_be_unset);
            max += i64::from(may_be_set);
        }
        if !(min..=max).contains(&count) {
            return Err(format!(
                "DEL of {} keys removed {count}, but between {min} and {max} were set",
                keys.len()
            ));
        }
        for &k in keys {
            self.keys[k].known = None;
        }
        Ok(())
    }

    /// A `GET key` returned `got`: checks it is a value the key may hold.
    pub fn get(&mut self, key: usize, got: Option<&[u8]>) -> Result<(), String> {
        let k = &mut self.keys[key];
        if k.known.as_deref() == got {
            return Ok(());
        }
        if let Some(v) = got {
            if k.dropped.iter().any(|d| d == v) {
                return Err(format!(
                    "GET returned {}, written by a SET whose connection the server closed \
                     without answering it: the server executed a request and lost its reply",
                    show(got)
                ));
            }
        }
        let hit = k.maybe.iter().position(|m| m.as_deref() == got);
        match hit {
            Some(i) => {
                k.maybe.swap_remove(i);
                k.known = got.map(<[u8]>::to_vec);
                Ok(())
            }
            None => Err(format!(
                "GET returned {}, but the key holds {}{}",
                show(got),
                show(k.known.as_deref()),
                if k.maybe.is_empty() {
                    String::new()
                } else {
                    format!(" (or one of {} unacknowledged writes)", k.maybe.len())
                }
            )),
        }
    }

    /// The reply to `SET key value` was lost, as `how` says.
    pub fn lost_set(&mut self, key: usize, value: Vec<u8>, how: Lost) {
        match how {
            Lost::Ambiguous => self.keys[key].maybe.push(Some(value)),
            Lost::NotApplied => self.keys[key].dropped.push(value),
        }
    }

    /// The reply to `DEL keys` was lost, as `how` says.
    pub fn lost_del(&mut self, keys: &[usize], how: Lost) {
        if how == Lost::Ambiguous {
            for &k in keys {
                self.keys[k].maybe.push(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledged_writes_must_be_seen() {
        let mut m = Model::new(2);
        m.set(0, b"a".to_vec());
        assert!(m.get(0, Some(b"a")).is_ok());
        assert!(m.get(0, None).is_err());
        assert!(m.get(1, Some(b"a")).is_err());
        assert!(m.del(&[0, 1], 2).is_err());
        assert!(m.del(&[0, 1], 1).is_ok());
        assert!(m.get(0, None).is_ok());
    }

    #[test]
    fn an_ambiguous_write_may_apply_late_but_only_once() {
        let mut m = Model::new(1);
        m.set(0, b"a".to_vec());
        m.lost_set(0, b"b".to_vec(), Lost::Ambiguous);
        m.set(0, b"c".to_vec());
        assert!(m.get(0, Some(b"c")).is_ok());
        assert!(m.get(0, Some(b"b")).is_ok(), "the lost write landed late");
        assert!(m.get(0, Some(b"b")).is_ok(), "and is the value now");
        m.set(0, b"d".to_vec());
        assert!(m.get(0, Some(b"b")).is_err(), "it cannot apply twice");
        assert!(m.del(&[0], 0).is_err());
    }

    #[test]
    fn a_write_dropped_by_an_orderly_close_must_never_be_seen() {
        let mut m = Model::new(1);
        m.lost_set(0, b"x".to_vec(), Lost::NotApplied);
        assert!(m.get(0, None).is_ok());
        let e = m.get(0, Some(b"x")).expect_err("a violation");
        assert!(e.contains("lost its reply"), "{e}");
    }
}
