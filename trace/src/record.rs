//! Records: what the collector keeps per event, compact and unformatted. Rendering happens only
//! when a trace is read, so recording costs a lock and a few word copies: a record is 32
//! bytes and each field 16, with names, targets and keys interned once per trace.

use std::collections::BTreeMap;
use std::sync::Arc;

use doppel_core::trace::FieldValue;

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

/// "None" in a record's packed optional fields.
const NONE: u64 = u64::MAX;

/// One record. Its callsite and fields live in the store.
#[derive(Clone, Copy, Debug)]
pub struct Record {
    /// Virtual time in nanoseconds (`u64::MAX`: elided).
    time: u64,
    /// The task being polled, by spawn number (`u64::MAX`: none).
    task: u64,
    /// The callsite (target and name) in the store's site table.
    site: u32,
    /// The host label in the store's host table (`u32::MAX`: outside any reactor).
    host: u32,
    /// Where this record's fields start in the store's field arena.
    first: u32,
    /// The reactor's number on its host.
    reactor: u16,
    /// How many fields it has.
    count: u8,
    /// Event, span enter or span exit.
    kind: Kind,
}

/// A stored field: an interned key and a word.
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// The key, in the store's key table.
    key: u16,
    /// Which `Value` variant.
    tag: u8,
    /// The value (a string's index in the string table for `Str`).
    word: u64,
}

/// Everything a collector recorded.
#[derive(Clone, Debug, Default)]
pub struct Store {
    /// Records in order.
    records: Vec<Record>,
    /// All fields of all records, in order.
    fields: Vec<Slot>,
    /// Callsites: (target, name).
    sites: Vec<(&'static str, &'static str)>,
    /// Field keys.
    keys: Vec<&'static str>,
    /// String values.
    strings: Vec<Box<str>>,
    /// Host labels.
    hosts: Vec<Arc<str>>,
    /// The last host interned, by address, and its index.
    last_host: Option<(usize, u32)>,
    /// Every host label seen, by the address of its `Arc`, and its index: lookups only (never
    /// iterated, so address order cannot leak into a trace). Sound because `pinned` keeps each
    /// of those `Arc`s alive, so no address is reused by another label while the store lives.
    host_ids: BTreeMap<usize, u32>,
    /// Keeps every `Arc` in `host_ids` alive (a restarted host makes a new `Arc` with an old
    /// label: it maps to the old index).
    pinned: Vec<Arc<str>>,
    /// Recently interned sites, by the addresses of their strings.
    site_cache: Vec<(usize, usize, u32)>,
    /// Recently interned keys, by address.
    key_cache: Vec<(usize, u16)>,
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
        self.records.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Record `i`, resolved.
    pub fn entry(&self, i: usize) -> Option<Entry<'_>> {
        let r = self.records.get(i)?;
        let (target, name) = self.sites[r.site as usize];
        let start = r.first as usize;
        let fields = self.fields[start..start + usize::from(r.count)]
            .iter()
            .map(|s| (self.keys[usize::from(s.key)], self.value(s)))
            .collect();
        Some(Entry {
            kind: r.kind,
            target,
            name,
            time: (r.time != NONE).then_some(r.time),
            host: (r.host != u32::MAX).then(|| &*self.hosts[r.host as usize]),
            reactor: u32::from(r.reactor),
            task: (r.task != NONE).then_some(r.task),
            fields,
        })
    }

    fn value(&self, s: &Slot) -> Value {
        match s.tag {
            0 => Value::U64(s.word),
            1 => Value::I64(s.word as i64),
            2 => Value::Bool(s.word != 0),
            3 => Value::F64(f64::from_bits(s.word)),
            _ => Value::Str(self.strings[s.word as usize].clone()),
        }
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
        let host = at.host.map_or(u32::MAX, |h| self.host_index(h));
        self.records.push(Record {
            time: at.time.unwrap_or(NONE),
            task: at.task.unwrap_or(NONE),
            site,
            host,
            first: self.fields.len() as u32,
            reactor: at.reactor as u16,
            count: 0,
            kind,
        });
    }

    /// Records a runtime event from the direct path in one go: begin, then its integer fields.
    pub(crate) fn runtime(
        &mut self,
        target: &'static str,
        name: &'static str,
        at: At<'_>,
        fields: &[(&'static str, FieldValue)],
    ) {
        self.begin(Kind::Event, target, name, at);
        self.fields.reserve(fields.len());
        for &(key, value) in fields {
            let key = self.key(key);
            let (tag, word) = match value {
                FieldValue::U(u) => (0, u),
                FieldValue::I(i) => (1, i as u64),
            };
            self.fields.push(Slot { key, tag, word });
        }
        if let Some(r) = self.records.last_mut() {
            r.count = fields.len().min(usize::from(u8::MAX)) as u8;
        }
    }

    /// Adds a field to the record just begun.
    pub(crate) fn field(&mut self, key: &'static str, value: Value) {
        let key = self.key(key);
        let (tag, word) = match value {
            Value::U64(u) => (0, u),
            Value::I64(i) => (1, i as u64),
            Value::Bool(b) => (2, u64::from(b)),
            Value::F64(f) => (3, f.to_bits()),
            Value::Str(s) => {
                self.strings.push(s);
                (4, (self.strings.len() - 1) as u64)
            }
        };
        self.fields.push(Slot { key, tag, word });
        if let Some(r) = self.records.last_mut() {
            r.count = r.count.saturating_add(1);
        }
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
    fn host_index(&mut self, host: &Arc<str>) -> u32 {
        let addr = Arc::as_ptr(host) as *const u8 as usize;
        if let Some((a, i)) = self.last_host {
            if a == addr {
                return i;
            }
        }
        let i = match self.host_ids.get(&addr) {
            Some(&i) => i,
            None => {
                let i = match self.hosts.iter().position(|h| **h == **host) {
                    Some(i) => i as u32,
                    None => {
                        self.hosts.push(host.clone());
                        (self.hosts.len() - 1) as u32
                    }
                };
                self.pinned.push(host.clone());
                self.host_ids.insert(addr, i);
                i
            }
        };
        self.last_host = Some((addr, i));
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
