//! Property tests of the trace codec: whatever records go in (any kind, time going anywhere,
//! any host, task and field values, through the general and the direct path), decoding gives
//! them back exactly, in order and by random access across checkpoints.

use std::sync::Arc;

use proptest::prelude::*;

use super::{At, FieldValue, Kind, Store, Value};

/// Field keys a record may use (the collector's keys are `&'static str`).
const KEYS: [&str; 5] = ["fd", "n", "a", "errno", "x"];
/// Host labels a record may carry.
const HOSTS: [&str; 3] = ["server", "c0", "c1#2"];

/// One field value; floats compare by bits, so NaN round-trips too.
fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::U64),
        any::<i64>().prop_map(Value::I64),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(|b| Value::F64(f64::from_bits(b))),
        ".{0,12}".prop_map(|s| Value::Str(s.into())),
    ]
}

/// One record as the collector would hand it over.
#[derive(Clone, Debug)]
struct Rec {
    kind: Kind,
    time: Option<u64>,
    host: Option<usize>,
    reactor: u32,
    task: Option<u64>,
    /// Direct path (integers only, at most four fields) or general path.
    direct: bool,
    fields: Vec<(usize, Value)>,
}

fn rec() -> impl Strategy<Value = Rec> {
    (
        prop_oneof![Just(Kind::Event), Just(Kind::Enter), Just(Kind::Exit)],
        proptest::option::of(any::<u64>()),
        proptest::option::of(0..HOSTS.len()),
        any::<u32>(),
        proptest::option::of(any::<u64>()),
        any::<bool>(),
        proptest::collection::vec((0..KEYS.len(), value()), 0..6),
    )
        .prop_map(|(kind, time, host, reactor, task, direct, fields)| {
            let direct = direct
                && kind == Kind::Event
                && fields.len() <= 4
                && fields
                    .iter()
                    .all(|(_, v)| matches!(v, Value::U64(_) | Value::I64(_)));
            Rec {
                kind,
                time,
                host,
                reactor,
                task,
                direct,
                fields,
            }
        })
}

/// Whether two values are the same (floats by bits).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::F64(x), Value::F64(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

fn store_of(recs: &[Rec], hosts: &[Arc<str>]) -> Store {
    let mut s = Store::default();
    for r in recs {
        let at = At {
            time: r.time,
            host: r.host.map(|h| &hosts[h]),
            reactor: r.reactor,
            task: r.task,
        };
        if r.direct {
            let fields: Vec<(&'static str, FieldValue<'_>)> = r
                .fields
                .iter()
                .map(|(k, v)| match v {
                    Value::U64(u) => (KEYS[*k], FieldValue::U(*u)),
                    Value::I64(i) => (KEYS[*k], FieldValue::I(*i)),
                    _ => unreachable!("direct records hold integers"),
                })
                .collect();
            s.runtime("doppel::net", "read", at, &fields);
        } else {
            s.begin(r.kind, "user", "event", at);
            for (k, v) in &r.fields {
                s.field(KEYS[*k], v.clone());
            }
        }
    }
    s
}

proptest! {
    #[test]
    fn decoding_gives_back_every_record(recs in proptest::collection::vec(rec(), 0..300)) {
        let hosts: Vec<Arc<str>> = HOSTS.iter().map(|h| Arc::from(*h)).collect();
        let s = store_of(&recs, &hosts);
        prop_assert_eq!(s.len(), recs.len());
        for (i, (r, e)) in recs.iter().zip(s.entries()).enumerate() {
            prop_assert_eq!(e.kind, r.kind, "record {}", i);
            prop_assert_eq!(e.time, r.time, "record {}", i);
            prop_assert_eq!(e.host, r.host.map(|h| HOSTS[h]), "record {}", i);
            if r.host.is_some() {
                prop_assert_eq!(e.reactor, r.reactor, "record {}", i);
            }
            prop_assert_eq!(e.task, r.task, "record {}", i);
            prop_assert_eq!(e.fields.len(), r.fields.len(), "record {}", i);
            for ((k, v), (ek, ev)) in r.fields.iter().zip(&e.fields) {
                prop_assert_eq!(*ek, KEYS[*k]);
                prop_assert!(same(v, ev), "record {}: {:?} became {:?}", i, v, ev);
            }
            let again = s.entry(i).expect("random access");
            prop_assert_eq!(again.time, e.time);
            prop_assert_eq!(again.fields.len(), e.fields.len());
        }
    }

    #[test]
    fn varints_round_trip(u in any::<u64>(), i in any::<i64>()) {
        let mut out = Vec::new();
        super::codec::put(&mut out, u);
        super::codec::put_signed(&mut out, i);
        let mut r = super::codec::Reader { bytes: &out, at: 0 };
        prop_assert_eq!(r.get(), u);
        prop_assert_eq!(r.get_signed(), i);
        prop_assert_eq!(r.at, out.len());
    }
}
