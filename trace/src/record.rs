//! Records: what the collector keeps per event, compact and unformatted. Rendering happens only
//! when a trace is read. Records are encoded into one byte stream (`codec.rs`: about a dozen
//! bytes for a runtime event), with callsites, keys, hosts and strings interned once per trace,
//! and a checkpoint every [`CHECKPOINT`] records so record `i` is found without decoding from
//! the start.

use std::collections::BTreeMap;
use std::sync::Arc;

use doppel_core::driver::FieldValue;

use crate::codec::{
    self, Enc, Reader, HAS_HOST, HAS_SCHEMA, HAS_TASK, HAS_TIME, TAG_BOOL, TAG_F64, TAG_I64,
    TAG_STR, TAG_U64,
};

use tracing::field::{Field, Visit};

/// A field value as recorded (borrowed from the store when read).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An unsigned integer.
    U64(u64),
    /// A signed integer.
    I64(i64),
    /// A boolean.
    Bool(bool),
    /// A float.
    F64(f64),
    /// A string (user fields, `Display`/`Debug` values, messages).
    Str(Box<str>),
}

/// What kind of record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An event.
    Event,
    /// A span was entered.
    Enter,
    /// A span was exited.
    Exit,
}

/// Records between checkpoints: `entry(i)` decodes at most this many to reach record `i`.
pub const CHECKPOINT: usize = 64;

/// Everything a collector recorded.
#[derive(Clone, Debug, Default)]
pub struct Store {
    /// Every record, encoded, in order.
    bytes: Vec<u8>,
    /// For every [`CHECKPOINT`]-th record: where it starts, and the time deltas count from.
    checkpoints: Vec<(usize, u64)>,
    /// How many records.
    count: usize,
    /// The time of the last record that has one (the base of the next delta).
    last_time: u64,
    /// Callsites: (target, name).
    sites: Vec<(&'static str, &'static str)>,
    /// Field keys.
    keys: Vec<&'static str>,
    /// String values.
    strings: Vec<Box<str>>,
    /// Host labels.
    hosts: Vec<Arc<str>>,
    /// Recently seen hosts, by the address of their label's `Arc`, and their index: a
    /// direct-mapped cache in front of `host_ids` (a run with a thousand hosts switches host
    /// almost every event).
    host_cache: Vec<(usize, u32)>,
    /// Every host label, and its index: where a label seen under a new `Arc` is looked up.
    host_labels: BTreeMap<Arc<str>, u32>,
    /// Every host label seen, by the address of its `Arc`, and its index: lookups only (never
    /// iterated, so address order cannot leak into a trace). Sound because `pinned` keeps each
    /// of those `Arc`s alive, so no address is reused by another label while the store lives.
    host_ids: BTreeMap<usize, u32>,
    /// Keeps every `Arc` in `host_ids` alive (a restarted host makes a new `Arc` with an old
    /// label: it maps to the old index).
    pinned: Vec<Arc<str>>,
    /// Recently interned sites, by the addresses of their strings.
    site_cache: Vec<(usize, usize, u32)>,
    /// Runtime-event schemas: a callsite and its field keys, in order.
    schemas: Vec<(u32, Vec<u16>)>,
    /// Recently used schemas, by the addresses of their target, name and keys.
    schema_cache: Vec<SchemaKey>,
    /// Recently interned keys, by address.
    key_cache: Vec<(usize, u16)>,
}

/// A schema cache entry: the addresses that identify a runtime event's callsite and keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct SchemaKey {
    /// The target's and name's addresses.
    site: (usize, usize),
    /// The keys' addresses (unused ones zero).
    keys: [usize; 4],
    /// How many keys.
    len: usize,
    /// The schema's index.
    id: u32,
}

/// A record as read back: everything resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry<'a> {
    /// Event, span enter or span exit.
    pub kind: Kind,
    /// The target (`doppel::net`, or a user's module path).
    pub target: &'static str,
    /// The event's or span's name (for an unnamed `tracing` event, `event file:line`).
    pub name: &'static str,
    /// Virtual time in nanoseconds, or `None` where the backend elides time.
    pub time: Option<u64>,
    /// The host label, or `None` outside any reactor.
    pub host: Option<&'a str>,
    /// The reactor's number on its host.
    pub reactor: u32,
    /// The task being polled, by spawn number.
    pub task: Option<u64>,
    /// The fields, in order.
    pub fields: Vec<(&'static str, Value)>,
}

/// Where and when, as the collector hands it to the store.
#[derive(Clone, Copy, Debug)]
pub(crate) struct At<'a> {
    /// Virtual time, if shown.
    pub(crate) time: Option<u64>,
    /// Host label, if inside a reactor (or a stamped scope).
    pub(crate) host: Option<&'a Arc<str>>,
    /// Reactor number.
    pub(crate) reactor: u32,
    /// Task number.
    pub(crate) task: Option<u64>,
}

impl Store {
    /// How many records.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Record `i`, resolved (decodes from the checkpoint before it).
    pub fn entry(&self, i: usize) -> Option<Entry<'_>> {
        self.entries_from(i).next()
    }

    /// Every record from `start` on, resolved, in order.
    pub fn entries_from(&self, start: usize) -> Entries<'_> {
        let (at, time) = self
            .checkpoints
            .get(start / CHECKPOINT)
            .copied()
            .unwrap_or((self.bytes.len(), self.last_time));
        let mut it = Entries {
            store: self,
            reader: Reader {
                bytes: &self.bytes,
                at,
            },
            time,
            left: self.count.saturating_sub(start / CHECKPOINT * CHECKPOINT),
        };
        for _ in 0..start % CHECKPOINT {
            it.next();
        }
        it
    }

    /// Every record, resolved, in order.
    pub fn entries(&self) -> Entries<'_> {
        self.entries_from(0)
    }

    /// Bytes the records take (what a streaming collector bounds).
    pub(crate) fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Hands every record so far to `each`, in order, then forgets them; callsites, keys and
    /// hosts stay interned, so later records encode as before. Called between records only.
    pub(crate) fn drain(&mut self, mut each: impl FnMut(&Entry<'_>)) {
        let mut it = self.entries();
        let mut fields = Vec::new();
        while let Some(e) = it.next_into(fields) {
            each(&e);
            fields = e.fields;
        }
        self.bytes.clear();
        self.checkpoints.clear();
        self.strings.clear();
        self.count = 0;
    }

    /// Starts a record; its fields follow with [`Store::field`].
    pub(crate) fn begin(
        &mut self,
        kind: Kind,
        target: &'static str,
        name: &'static str,
        at: At<'_>,
    ) {
        let site = self.site(target, name);
        let host = at.host.map(|h| self.host_index(h));
        self.mark();
        let mut enc = Enc::new();
        self.head(&mut enc, kind as u8, site, at, host);
        enc.byte(0); // no fields yet
        self.bytes.extend_from_slice(enc.bytes());
    }

    /// Records a runtime event from the direct path in one go: header and integer fields
    /// encoded on the stack and appended with one copy (more than four fields take the general
    /// path).
    pub(crate) fn runtime(
        &mut self,
        target: &'static str,
        name: &'static str,
        at: At<'_>,
        fields: &[(&'static str, FieldValue<'_>)],
    ) {
        if fields.len() > 4 || fields.iter().any(|(_, v)| matches!(v, FieldValue::S(_))) {
            return self.runtime_slow(target, name, at, fields);
        }
        let schema = self.schema(target, name, fields);
        let host = at.host.map(|h| self.host_index(h));
        self.mark();
        let mut enc = Enc::new();
        self.head(&mut enc, Kind::Event as u8 | HAS_SCHEMA, schema, at, host);
        for &(_, value) in fields {
            match value {
                FieldValue::U(u) => {
                    enc.byte(TAG_U64);
                    enc.put(u);
                }
                FieldValue::I(i) => {
                    enc.byte(TAG_I64);
                    enc.put_signed(i);
                }
                FieldValue::S(_) => unreachable!("text fields take the slow path"),
            }
        }
        self.bytes.extend_from_slice(enc.bytes());
    }

    /// The schema of a runtime event with these keys at this callsite, interning it.
    #[inline]
    fn schema(
        &mut self,
        target: &'static str,
        name: &'static str,
        fields: &[(&'static str, FieldValue<'_>)],
    ) -> u32 {
        const WAYS: usize = 256;
        if self.schema_cache.is_empty() {
            self.schema_cache = vec![SchemaKey::default(); WAYS];
        }
        let mut want = SchemaKey {
            site: (target.as_ptr() as usize, name.as_ptr() as usize),
            len: fields.len(),
            ..SchemaKey::default()
        };
        for (k, (key, _)) in want.keys.iter_mut().zip(fields) {
            *k = key.as_ptr() as usize;
        }
        let h = want.site.1 ^ (want.site.1 >> 9) ^ (want.keys[1] >> 3) ^ (want.len << 4);
        let slot = h % WAYS;
        let cached = self.schema_cache[slot];
        want.id = cached.id;
        if cached == want {
            return cached.id;
        }
        let site = self.site(target, name);
        let keys: Vec<u16> = fields.iter().map(|(k, _)| self.key(k)).collect();
        let id = match self
            .schemas
            .iter()
            .position(|(s, k)| *s == site && *k == keys)
        {
            Some(i) => i as u32,
            None => {
                self.schemas.push((site, keys));
                (self.schemas.len() - 1) as u32
            }
        };
        want.id = id;
        self.schema_cache[slot] = want;
        id
    }

    /// A runtime event with many fields: begin, then each field.
    fn runtime_slow(
        &mut self,
        target: &'static str,
        name: &'static str,
        at: At<'_>,
        fields: &[(&'static str, FieldValue<'_>)],
    ) {
        self.begin(Kind::Event, target, name, at);
        for &(key, value) in fields {
            let v = match value {
                FieldValue::U(u) => Value::U64(u),
                FieldValue::I(i) => Value::I64(i),
                FieldValue::S(s) => Value::Str(s.into()),
            };
            self.field(key, v);
        }
    }

    /// Counts a new record, leaving a checkpoint every [`CHECKPOINT`] records.
    #[inline]
    fn mark(&mut self) {
        if self.count % CHECKPOINT == 0 {
            self.checkpoints.push((self.bytes.len(), self.last_time));
        }
        self.count += 1;
    }

    /// Encodes a record's header: kind and presence bits, callsite (or schema), time delta,
    /// task, host.
    #[inline]
    fn head(&mut self, enc: &mut Enc, kind: u8, site: u32, at: At<'_>, host: Option<u32>) {
        let mut head = kind;
        head |= if at.time.is_some() { HAS_TIME } else { 0 };
        head |= if at.task.is_some() { HAS_TASK } else { 0 };
        head |= if host.is_some() { HAS_HOST } else { 0 };
        enc.byte(head);
        enc.put(u64::from(site));
        if let Some(t) = at.time {
            enc.put_signed(t.wrapping_sub(self.last_time) as i64);
            self.last_time = t;
        }
        if let Some(task) = at.task {
            enc.put(task);
        }
        if let Some(h) = host {
            enc.put(u64::from(h));
            enc.put(u64::from(at.reactor));
        }
    }

    /// Adds a field to the record just begun.
    pub(crate) fn field(&mut self, key: &'static str, value: Value) {
        let key = self.key(key);
        self.bytes.pop(); // the last record's end mark
        codec::put(&mut self.bytes, u64::from(key) + 1);
        match value {
            Value::U64(u) => {
                self.bytes.push(TAG_U64);
                codec::put(&mut self.bytes, u);
            }
            Value::I64(i) => {
                self.bytes.push(TAG_I64);
                codec::put_signed(&mut self.bytes, i);
            }
            Value::Bool(b) => {
                self.bytes.push(TAG_BOOL);
                self.bytes.push(u8::from(b));
            }
            Value::F64(f) => {
                self.bytes.push(TAG_F64);
                self.bytes.extend_from_slice(&f.to_bits().to_le_bytes());
            }
            Value::Str(s) => {
                self.strings.push(s);
                self.bytes.push(TAG_STR);
                codec::put(&mut self.bytes, (self.strings.len() - 1) as u64);
            }
        }
        self.bytes.push(0);
    }

    fn site(&mut self, target: &'static str, name: &'static str) -> u32 {
        const WAYS: usize = 256;
        if self.site_cache.is_empty() {
            self.site_cache = vec![(0, 0, 0); WAYS];
        }
        let (t, n) = (target.as_ptr() as usize, name.as_ptr() as usize);
        let slot = (n ^ (n >> 7) ^ (t >> 3)) % WAYS;
        let (ct, cn, ci) = self.site_cache[slot];
        if ct == t && cn == n {
            return ci;
        }
        let i = match self
            .sites
            .iter()
            .position(|&(a, b)| a == target && b == name)
        {
            Some(i) => i as u32,
            None => {
                self.sites.push((target, name));
                (self.sites.len() - 1) as u32
            }
        };
        self.site_cache[slot] = (t, n, i);
        i
    }

    fn key(&mut self, key: &'static str) -> u16 {
        const WAYS: usize = 64;
        if self.key_cache.is_empty() {
            self.key_cache = vec![(0, 0); WAYS];
        }
        let addr = key.as_ptr() as usize;
        let slot = (addr ^ (addr >> 6)) % WAYS;
        let (ca, ci) = self.key_cache[slot];
        if ca == addr {
            return ci;
        }
        let i = match self.keys.iter().position(|k| *k == key) {
            Some(i) => i as u16,
            None => {
                self.keys.push(key);
                (self.keys.len() - 1) as u16
            }
        };
        self.key_cache[slot] = (addr, i);
        i
    }

    /// The index of `host`, interning it.
    #[inline]
    fn host_index(&mut self, host: &Arc<str>) -> u32 {
        const WAYS: usize = 1024;
        if self.host_cache.is_empty() {
            self.host_cache = vec![(0, 0); WAYS];
        }
        let addr = Arc::as_ptr(host) as *const u8 as usize;
        let slot = (addr >> 4 ^ addr >> 14) % WAYS;
        let (a, i) = self.host_cache[slot];
        if a == addr {
            return i;
        }
        let i = self.host_index_slow(host, addr);
        self.host_cache[slot] = (addr, i);
        i
    }

    /// [`Store::host_index`] past its cache: by address, then by label.
    fn host_index_slow(&mut self, host: &Arc<str>, addr: usize) -> u32 {
        if let Some(&i) = self.host_ids.get(&addr) {
            return i;
        }
        let i = match self.host_labels.get(host) {
            Some(&i) => i,
            None => {
                self.hosts.push(host.clone());
                let i = (self.hosts.len() - 1) as u32;
                self.host_labels.insert(host.clone(), i);
                i
            }
        };
        self.pinned.push(host.clone());
        self.host_ids.insert(addr, i);
        i
    }
}

/// Collects an event's or span's fields into a store (or a span's pending list).
pub(crate) struct Collect<'a> {
    /// Where fields go.
    pub(crate) out: &'a mut Vec<(&'static str, Value)>,
}

impl Visit for Collect<'_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.out.push((field.name(), Value::U64(value)));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.out.push((field.name(), Value::I64(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.out.push((field.name(), Value::Bool(value)));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.out.push((field.name(), Value::F64(value)));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.out.push((field.name(), Value::Str(value.into())));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.out
            .push((field.name(), Value::Str(format!("{value:?}").into())));
    }
}

/// Decodes records in order (see [`Store::entries`]).
pub struct Entries<'a> {
    /// The store (for its tables).
    store: &'a Store,
    /// Where the next record starts.
    reader: Reader<'a>,
    /// The base of the next time delta.
    time: u64,
    /// Records left.
    left: usize,
}

impl std::fmt::Debug for Entries<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entries").field("left", &self.left).finish()
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        self.next_into(Vec::new())
    }
}

impl<'a> Entries<'a> {
    /// The next record, its fields decoded into `fields` (emptied first): a caller that hands
    /// each entry's vector back decodes a whole store with no allocation per record.
    fn next_into(&mut self, fields: Vec<(&'static str, Value)>) -> Option<Entry<'a>> {
        // A store the collector filled always decodes; only a packed file's chunk can fail,
        // and `Store::unpack` checks every record before anything reads it.
        self.try_next_into(fields).unwrap_or(None)
    }

    /// Where the next record starts, in the store's bytes.
    pub(crate) fn at(&self) -> usize {
        self.reader.at
    }

    /// [`Entries::next_into`], with every index checked against the store's tables.
    pub(crate) fn try_next_into(
        &mut self,
        mut fields: Vec<(&'static str, Value)>,
    ) -> Result<Option<Entry<'a>>, String> {
        fields.clear();
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let s = self.store;
        let r = &mut self.reader;
        let head = r.byte();
        let kind = match head & 3 {
            0 => Kind::Event,
            1 => Kind::Enter,
            _ => Kind::Exit,
        };
        let (site, schema) = match head & HAS_SCHEMA {
            0 => (r.get() as usize, None),
            _ => {
                let (site, keys) = s.schemas.get(r.get() as usize).ok_or("no such schema")?;
                (*site as usize, Some(keys))
            }
        };
        let &(target, name) = s.sites.get(site).ok_or("no such callsite")?;
        let time = (head & HAS_TIME != 0).then(|| {
            self.time = self.time.wrapping_add(r.get_signed() as u64);
            self.time
        });
        let task = (head & HAS_TASK != 0).then(|| r.get());
        let (host, reactor) = if head & HAS_HOST != 0 {
            let host = s.hosts.get(r.get() as usize).ok_or("no such host")?;
            (Some(&**host), r.get() as u32)
        } else {
            (None, 0)
        };
        fields.reserve(schema.map_or(4, |k| k.len()));
        match schema {
            Some(keys) => {
                for &k in keys {
                    let value = decode_value(r, s)?;
                    fields.push((s.keys[usize::from(k)], value));
                }
            }
            None => loop {
                let key = r.get() as usize;
                if key == 0 {
                    break;
                }
                let key = *s.keys.get(key - 1).ok_or("no such key")?;
                fields.push((key, decode_value(r, s)?));
            },
        }
        if r.at > r.bytes.len() {
            return Err("a record cut short".into());
        }
        Ok(Some(Entry {
            kind,
            target,
            name,
            time,
            host,
            reactor,
            task,
            fields,
        }))
    }
}

/// Decodes one tagged value.
fn decode_value(r: &mut Reader<'_>, s: &Store) -> Result<Value, &'static str> {
    Ok(match r.byte() {
        TAG_U64 => Value::U64(r.get()),
        TAG_I64 => Value::I64(r.get_signed()),
        TAG_BOOL => Value::Bool(r.byte() != 0),
        TAG_F64 => Value::F64(f64::from_bits(r.word())),
        TAG_STR => Value::Str(
            s.strings
                .get(r.get() as usize)
                .ok_or("no such string")?
                .clone(),
        ),
        _ => return Err("an unknown value tag"),
    })
}

mod packed;

pub(crate) use packed::{intern, Sent};

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    /// A store of `n` records with every kind of field, time going back and forth, some
    /// records outside any reactor.
    fn store(n: u64) -> (Store, Arc<str>) {
        let mut s = Store::default();
        let host: Arc<str> = Arc::from("h");
        for i in 0..n {
            let at = At {
                time: (i % 7 != 3).then_some(1_000 * i - (i % 5) * 300),
                host: (i % 11 != 0).then_some(&host),
                reactor: (i % 3) as u32,
                task: (i % 4 != 0).then_some(i),
            };
            let kind = [Kind::Event, Kind::Enter, Kind::Exit][(i % 3) as usize];
            s.begin(kind, "t", "n", at);
            s.field("u", Value::U64(i * 1_000_003));
            if i % 2 == 0 {
                s.field("i", Value::I64(-(i as i64)));
                s.field("s", Value::Str(format!("v{i}").into()));
            }
            if i % 5 == 0 {
                s.field("b", Value::Bool(true));
                s.field("f", Value::F64(i as f64 / 3.0));
            }
        }
        (s, host)
    }

    #[test]
    fn random_access_agrees_with_decoding_in_order_across_checkpoints() {
        let (s, _host) = store(3 * CHECKPOINT as u64 + 5);
        let all: Vec<Entry<'_>> = s.entries().collect();
        assert_eq!(all.len(), s.len());
        for (i, e) in all.iter().enumerate() {
            assert_eq!(s.entry(i).as_ref(), Some(e), "record {i}");
        }
        assert_eq!(s.entry(s.len()), None);
        let e = &all[14];
        assert_eq!(e.time, Some(12_800));
        assert_eq!(e.task, Some(14));
        assert_eq!(e.fields[0], ("u", Value::U64(14_000_042)));
        assert_eq!(e.fields[1], ("i", Value::I64(-14)));
        assert_eq!(e.fields[2], ("s", Value::Str("v14".into())));
        assert_eq!(all[3].time, None);
        assert_eq!(all[11].host, None);
        assert_eq!(s.entries_from(s.len() - 2).count(), 2);
    }

    #[test]
    fn a_runtime_event_takes_about_a_dozen_bytes() {
        let mut s = Store::default();
        let host: Arc<str> = Arc::from("server");
        for i in 0..1000u64 {
            let at = At {
                time: Some(i * 100),
                host: Some(&host),
                reactor: 0,
                task: Some(3),
            };
            let fields = [("fd", FieldValue::I(4)), ("n", FieldValue::U(64))];
            s.runtime("doppel::net", "read", at, &fields);
        }
        let per = s.bytes.len() / 1000;
        assert!(per <= 14, "{per} bytes per event");
    }
}
