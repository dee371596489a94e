//! The simulator's own trace events (`doppel::fault`), and how a run is traced.

use doppel_core::driver::Stamp;
use doppel_core::time::Instant;

use crate::faults::FaultClass;

/// Traces an injected fault (`doppel::fault`, named after its class, with its site and its
/// opportunity number there: `--only CLASS@SITE:OP` names it). Its injection order in the run
/// is left out, so one fault more or less on one connection changes no other fault's line.
/// Like the runtime's events it goes straight to doppel's collector when one listens (so no
/// callsite interest cached by `tracing` on another thread can drop it), else through
/// `tracing`.
pub(crate) fn fault(class: FaultClass, site: &str, op: u64) {
    use doppel_core::driver::{on, to_sink, FieldValue, RuntimeEvent};
    if !on() {
        return;
    }
    let fields = [("site", FieldValue::S(site)), ("op", FieldValue::U(op))];
    let ev = RuntimeEvent {
        target: "doppel::fault",
        name: class.name(),
        fields: &fields,
    };
    if to_sink(&ev) {
        return;
    }
    tracing_fallback(class, site, op);
}

/// The fault's event through `tracing`, when no doppel collector listens: `tracing` names an
/// event at compile time, so there is one callsite per class, from the table.
macro_rules! tracing_fallback {
    (
        random { $( $(#[$doc:meta])* $v:ident, $key:ident, $name:literal, $group:ident; )* }
        scheduled { $( $(#[$sdoc:meta])* $sv:ident, $skey:ident, $sname:literal; )* }
    ) => {
        fn tracing_fallback(class: FaultClass, site: &str, op: u64) {
            match class {
                $( FaultClass::$v => tracing::event!(
                    name: $name, target: "doppel::fault", tracing::Level::TRACE, site, op
                ), )*
                $( FaultClass::$sv => tracing::event!(
                    name: $sname, target: "doppel::fault", tracing::Level::TRACE, site, op
                ), )*
            }
        }
    };
}

fault_class_table!(tracing_fallback);

/// Traces a datagram the kernel dropped on arrival (`doppel::net dgram_drop`, with the port,
/// its length and why: `overflow`, a full receive buffer). Not a fault: a kernel does this
/// whenever a reader falls behind.
pub(crate) fn dgram_drop(port: u16, len: usize, reason: &'static str) {
    use doppel_core::driver::{on, to_sink, FieldValue, RuntimeEvent};
    if !on() {
        return;
    }
    let fields = [
        ("port", FieldValue::U(u64::from(port))),
        ("n", FieldValue::U(len as u64)),
        ("reason", FieldValue::S(reason)),
    ];
    let ev = RuntimeEvent {
        target: "doppel::net",
        name: "dgram_drop",
        fields: &fields,
    };
    if !to_sink(&ev) {
        tracing::event!(name: "dgram_drop", target: "doppel::net", tracing::Level::TRACE, port, n = len, reason);
    }
}

/// Traces a rule's verdict on a message (`doppel::rule`, named after the verdict: the link,
/// the protocol, the message's number on the link, and a delay's length).
pub(crate) fn rule(
    name: &'static str,
    (from, to): (&str, &str),
    proto: &'static str,
    n: u64,
    delay: u64,
) {
    use doppel_core::driver::{on, to_sink, FieldValue, RuntimeEvent};
    if !on() {
        return;
    }
    let fields = [
        ("from", FieldValue::S(from)),
        ("to", FieldValue::S(to)),
        ("proto", FieldValue::S(proto)),
        ("n", FieldValue::U(n)),
        ("delay_ns", FieldValue::U(delay)),
    ];
    let ev = RuntimeEvent {
        target: "doppel::rule",
        name,
        fields: &fields,
    };
    if !to_sink(&ev) {
        tracing::event!(target: "doppel::rule", tracing::Level::TRACE, verdict = name, from, to, proto, n, delay_ns = delay);
    }
}

/// The stamp of events the network raises between turns (deliveries, and faults decided then).
pub(crate) fn net_stamp(now: Instant) -> Stamp {
    thread_local! {
        static NET: std::sync::Arc<str> = std::sync::Arc::from("net");
    }
    Stamp {
        time: Some(now),
        host: NET.with(Clone::clone),
        reactor: 0,
        task: None,
    }
}
