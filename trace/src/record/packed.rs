//! A store's records as one chunk of a packed trace (`crate::packed`): the tables interned since
//! the last chunk, the chunk's strings, and the encoded records as they are, so a streaming
//! collector writes its records with one copy and renders nothing.
//!
//! A chunk is `[sites][keys][hosts][schemas][strings][base time][count][bytes]`: each table a
//! count and its new entries (strings length-prefixed), the time that the first record's delta
//! counts from, then the records' byte length and bytes. Callsites, keys, hosts and schemas
//! accumulate over a trace's chunks; strings and records are the chunk's own.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use crate::codec::{put, Reader};

use super::Store;

/// How many entries of each table earlier chunks carried.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Sent {
    /// Callsites.
    sites: usize,
    /// Field keys.
    keys: usize,
    /// Host labels.
    hosts: usize,
    /// Runtime-event schemas.
    schemas: usize,
}

/// Appends a length-prefixed string.
fn put_str(out: &mut Vec<u8>, s: &str) {
    put(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

impl Store {
    /// The chunk's head: every table entry interned since `sent` and the chunk's strings, base
    /// time, count and byte length. Its records follow it as [`Store::packed_records`].
    pub(crate) fn pack_head(&self, sent: &mut Sent) -> Vec<u8> {
        let mut out = Vec::new();
        put(&mut out, (self.sites.len() - sent.sites) as u64);
        for (target, name) in &self.sites[sent.sites..] {
            put_str(&mut out, target);
            put_str(&mut out, name);
        }
        put(&mut out, (self.keys.len() - sent.keys) as u64);
        for key in &self.keys[sent.keys..] {
            put_str(&mut out, key);
        }
        put(&mut out, (self.hosts.len() - sent.hosts) as u64);
        for host in &self.hosts[sent.hosts..] {
            put_str(&mut out, host);
        }
        put(&mut out, (self.schemas.len() - sent.schemas) as u64);
        for (site, keys) in &self.schemas[sent.schemas..] {
            put(&mut out, u64::from(*site));
            put(&mut out, keys.len() as u64);
            for &k in keys {
                put(&mut out, u64::from(k));
            }
        }
        put(&mut out, self.strings.len() as u64);
        for s in &self.strings {
            put_str(&mut out, s);
        }
        put(
            &mut out,
            self.checkpoints.first().map_or(self.last_time, |c| c.1),
        );
        put(&mut out, self.count as u64);
        put(&mut out, self.bytes.len() as u64);
        *sent = Sent {
            sites: self.sites.len(),
            keys: self.keys.len(),
            hosts: self.hosts.len(),
            schemas: self.schemas.len(),
        };
        out
    }

    /// The records as encoded: what follows [`Store::pack_head`].
    pub(crate) fn packed_records(&self) -> &[u8] {
        &self.bytes
    }

    /// Forgets the records and strings, keeping the tables (after they were packed).
    pub(crate) fn clear_records(&mut self) {
        self.bytes.clear();
        self.checkpoints.clear();
        self.strings.clear();
        self.count = 0;
    }

    /// Reads one chunk from `r` into this store: its tables are added to the ones read so far,
    /// its strings and records replace the last chunk's. A chunk that does not hold together
    /// (a count or index past what is there) is refused, and the store is then unusable.
    pub(crate) fn unpack(&mut self, r: &mut Reader<'_>) -> Result<(), String> {
        for _ in 0..count(r, "callsites")? {
            let target = intern(text(r, "a callsite's target")?);
            let name = intern(text(r, "a callsite's name")?);
            self.sites.push((target, name));
        }
        for _ in 0..count(r, "keys")? {
            self.keys.push(intern(text(r, "a key")?));
        }
        for _ in 0..count(r, "hosts")? {
            self.hosts.push(Arc::from(text(r, "a host")?));
        }
        for _ in 0..count(r, "schemas")? {
            let site = index(r, self.sites.len(), "a schema's callsite")? as u32;
            let keys = (0..count(r, "a schema's keys")?)
                .map(|_| index(r, self.keys.len(), "a schema's key").map(|k| k as u16))
                .collect::<Result<Vec<u16>, String>>()?;
            self.schemas.push((site, keys));
        }
        self.strings.clear();
        for _ in 0..count(r, "strings")? {
            self.strings.push(text(r, "a string")?.into());
        }
        self.last_time = r.get();
        self.count = usize::try_from(r.get()).map_err(|_| "a record count too large")?;
        let len = count(r, "record bytes")?;
        let bytes = r.bytes.get(r.at..r.at + len).ok_or("records cut short")?;
        self.bytes.clear();
        self.bytes.extend_from_slice(bytes);
        r.at += len;
        self.checkpoints.clear();
        self.checkpoints.push((0, self.last_time));
        self.check_records()
    }

    /// Decodes every record once, checking each index against the tables, so that reading the
    /// chunk afterwards cannot go wrong.
    fn check_records(&self) -> Result<(), String> {
        let mut it = self.entries();
        let mut fields = Vec::new();
        for i in 0..self.count {
            match it.try_next_into(fields)? {
                Some(e) => fields = e.fields,
                None => return Err(format!("record {i} of {} missing", self.count)),
            }
        }
        match it.at() == self.bytes.len() {
            true => Ok(()),
            false => Err("bytes left over after the last record".into()),
        }
    }
}

/// A count of things that follow, each taking at least one byte: at most what is left.
fn count(r: &mut Reader<'_>, what: &str) -> Result<usize, String> {
    let n = r.get();
    let left = r.bytes.len().saturating_sub(r.at) as u64;
    match n <= left {
        true => Ok(n as usize),
        false => Err(format!("{what}: a count of {n} with {left} bytes left")),
    }
}

/// An index into a table of `len` entries.
fn index(r: &mut Reader<'_>, len: usize, what: &str) -> Result<usize, String> {
    let i = r.get();
    match i < len as u64 {
        true => Ok(i as usize),
        false => Err(format!("{what}: index {i} of a table of {len}")),
    }
}

/// A length-prefixed UTF-8 string.
fn text<'a>(r: &mut Reader<'a>, what: &str) -> Result<&'a str, String> {
    let len = count(r, what)?;
    let bytes = r.bytes.get(r.at..r.at + len).ok_or("cut short")?;
    r.at += len;
    std::str::from_utf8(bytes).map_err(|_| format!("{what} is not UTF-8"))
}

/// Callsites and keys read from files, each leaked once for the process (records name them as
/// `&'static str`, as the collector's callsites are): bounded by the distinct names read.
static INTERNED: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

/// `s` as a `&'static str`, the same one for every equal string.
pub(crate) fn intern(s: &str) -> &'static str {
    let mut set = INTERNED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(&known) = set.get(s) {
        return known;
    }
    let leaked: &'static str = Box::leak(s.into());
    set.insert(leaked);
    leaked
}
