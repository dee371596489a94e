//! The simulator's own trace events (`doppel::fault`), and how a run is traced.

use doppel_core::time::Instant;
use doppel_core::trace::Stamp;

use crate::faults::FaultClass;

/// Traces an injected fault (`doppel::fault`, named after its class, with its site and its
/// opportunity number there: `--only CLASS@SITE:OP` names it). Its injection order in the run
/// is left out, so one fault more or less on one connection changes no other fault's line.
/// Like the runtime's events it goes straight to doppel's collector when one listens (so no
/// callsite interest cached by `tracing` on another thread can drop it), else through
/// `tracing`.
pub(crate) fn fault(class: FaultClass, site: &str, op: u64) {
    use doppel_core::trace::{on, to_sink, FieldValue, RuntimeEvent};
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
    macro_rules! ev {
        ($name:literal) => {
            tracing::event!(name: $name, target: "doppel::fault", tracing::Level::TRACE, site, op)
        };
    }
    match class {
        FaultClass::Spurious => ev!("spurious"),
        FaultClass::Late => ev!("late"),
        FaultClass::PollEintr => ev!("eintr-poll"),
        FaultClass::Eintr => ev!("eintr"),
        FaultClass::AcceptAbort => ev!("accept-abort"),
        FaultClass::Reset => ev!("reset"),
        FaultClass::ShortRead => ev!("short-read"),
        FaultClass::ShortWrite => ev!("short-write"),
        FaultClass::Stall => ev!("stall"),
        FaultClass::DeadlineRace => ev!("deadline-race"),
        FaultClass::Backlog => ev!("backlog"),
        FaultClass::Partition => ev!("partition"),
        FaultClass::Crash => ev!("crash"),
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
