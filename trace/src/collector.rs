//! The collector: a `tracing-subscriber` layer that records every event and span, runtime's and
//! user's alike, in the order they happen, stamped with the reactor's time, host, reactor and
//! task. The runtime's own events reach it on a direct path (`doppel_core::driver::Sink`) that
//! skips `tracing`'s dispatcher; the trace is the same either way.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

use crate::record::{At, Collect, Kind, Store, Value};
use crate::spill::{Streaming, STREAM_BYTES};

/// A span's fields, kept in the registry until the span is entered.
struct SpanFields(Vec<(&'static str, Value)>);

/// The layer. Clone it to share its store.
#[derive(Clone, Debug, Default)]
pub struct Collector {
    /// Where records go.
    store: Arc<Mutex<Store>>,
    /// Where they go on to, in a streaming capture (`stream.rs`).
    stream: Option<Arc<Mutex<Option<Streaming>>>>,
}

/// Writes a `tracing` event's fields straight into the store.
struct ToStore<'a>(&'a mut Store);

impl Visit for ToStore<'_> {
    fn record_u64(&mut self, f: &Field, v: u64) {
        self.0.field(f.name(), Value::U64(v));
    }
    fn record_i64(&mut self, f: &Field, v: i64) {
        self.0.field(f.name(), Value::I64(v));
    }
    fn record_bool(&mut self, f: &Field, v: bool) {
        self.0.field(f.name(), Value::Bool(v));
    }
    fn record_f64(&mut self, f: &Field, v: f64) {
        self.0.field(f.name(), Value::F64(v));
    }
    fn record_str(&mut self, f: &Field, v: &str) {
        self.0.field(f.name(), Value::Str(v.into()));
    }
    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        self.0.field(f.name(), Value::Str(format!("{v:?}").into()));
    }
}

impl Collector {
    /// A collector with an empty store.
    pub fn new() -> Collector {
        Collector::default()
    }

    /// A collector that hands its records on to `stream` whenever they fill
    /// [`STREAM_BYTES`].
    pub(crate) fn streaming(stream: Arc<Mutex<Option<Streaming>>>) -> Collector {
        Collector {
            store: Arc::default(),
            stream: Some(stream),
        }
    }

    /// Hands the records on to the stream once they fill its bound (between records only).
    #[inline]
    fn spill(&self, s: &mut Store) {
        if let Some(stream) = &self.stream {
            if s.byte_len() >= STREAM_BYTES {
                let mut stream = stream.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(stream) = stream.as_mut() {
                    stream.take(s);
                }
            }
        }
    }

    /// Takes everything recorded so far.
    pub fn take(&self) -> Store {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a record stamped with where and when it happens, and lets `fill` add its fields.
    fn push(
        &self,
        kind: Kind,
        target: &'static str,
        name: &'static str,
        fill: impl FnOnce(&mut Store),
    ) {
        let mut s = self.lock();
        self.spill(&mut s);
        doppel_core::driver::with_current_stamp(|st| s.begin(kind, target, name, at(st)));
        fill(&mut s);
    }
}

/// The stamp `doppel_core` hands out, as the store takes it.
fn at(st: Option<doppel_core::driver::StampRef<'_>>) -> At<'_> {
    match st {
        Some((time, host, reactor, task)) => At {
            time: time.map(|t| t.as_nanos()),
            host: Some(host),
            reactor,
            task: task.map(|t| t.number()),
        },
        None => At {
            time: None,
            host: None,
            reactor: 0,
            task: None,
        },
    }
}

impl<S> Layer<S> for Collector
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        self.push(Kind::Event, meta.target(), meta.name(), |s| {
            event.record(&mut ToStore(s))
        });
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Vec::new();
        attrs.record(&mut Collect { out: &mut fields });
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_record(&self, id: &Id, values: &tracing::span::Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(f) = span.extensions_mut().get_mut::<SpanFields>() {
                values.record(&mut Collect { out: &mut f.0 });
            }
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let fields = span
            .extensions()
            .get::<SpanFields>()
            .map(|f| f.0.clone())
            .unwrap_or_default();
        let meta = span.metadata();
        self.push(Kind::Enter, meta.target(), meta.name(), |s| {
            fields.into_iter().for_each(|(k, v)| s.field(k, v))
        });
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let meta = span.metadata();
            self.push(Kind::Exit, meta.target(), meta.name(), |_| {});
        }
    }
}

impl doppel_core::driver::Sink for Collector {
    /// The runtime's direct path: same target, name and fields as the `tracing` event.
    fn record(&self, event: &doppel_core::driver::RuntimeEvent<'_>) {
        let mut s = self.lock();
        self.spill(&mut s);
        doppel_core::driver::with_current_stamp(|st| {
            s.runtime(event.target, event.name, at(st), event.fields);
        });
    }
}

/// A subscriber that records nothing and asks to be consulted about every callsite. One lives
/// for the whole process once a capture has run: with two dispatchers registered, `tracing`
/// takes its general path to each callsite's interest, and a callsite first reached on a thread
/// with no subscriber is not cached as never-interesting while a capture runs on another
/// thread (tracing-core's single-dispatcher shortcut does that: tokio-rs/tracing#3611), which
/// would drop user events from traces when seeds run in parallel.
struct Bystander;

impl Subscriber for Bystander {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        false
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::OFF)
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// The [`Bystander`]'s dispatcher, registered once and kept for the process.
static BYSTANDER: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();

/// Runs `f` with a collector as this thread's subscriber and returns what it recorded. User
/// events and spans raised inside `f` land in the same store, in order, with the runtime's.
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, Store) {
    let collector = Collector::new();
    let out = capture_with(&collector, f);
    (out, collector.take())
}

/// Runs `f` with `collector` as this thread's subscriber and the runtime's direct sink.
pub(crate) fn capture_with<R>(collector: &Collector, f: impl FnOnce() -> R) -> R {
    BYSTANDER.get_or_init(|| tracing::Dispatch::new(Bystander));
    let subscriber = tracing_subscriber::registry().with(collector.clone());
    let sink: std::rc::Rc<dyn doppel_core::driver::Sink> = std::rc::Rc::new(collector.clone());
    let restore = RestoreSink(Some(doppel_core::driver::set_sink(Some(sink))));
    let out = tracing::subscriber::with_default(subscriber, f);
    drop(restore);
    out
}

/// Puts the thread's previous direct sink back when dropped, so a run that panics inside
/// [`capture`] leaves no dead collector behind on a thread that goes on (a sweep's worker).
struct RestoreSink(Option<Option<std::rc::Rc<dyn doppel_core::driver::Sink>>>);

impl Drop for RestoreSink {
    fn drop(&mut self) {
        if let Some(previous) = self.0.take() {
            doppel_core::driver::set_sink(previous);
        }
    }
}

#[cfg(test)]
mod tests {
    /// The event a test emits from two threads.
    fn shared_event() {
        tracing::info!(target: "app", "hello");
    }

    /// A callsite first reached on a thread with no subscriber, while a capture runs on another
    /// thread, still reaches the capture (tokio-rs/tracing#3611 without the bystander).
    #[test]
    fn a_callsite_first_seen_elsewhere_still_reaches_the_capture() {
        let (to_other, other_rx) = std::sync::mpsc::channel::<()>();
        let (to_capture, capture_rx) = std::sync::mpsc::channel::<()>();
        std::thread::scope(|s| {
            s.spawn(move || {
                other_rx.recv().expect("the capture started");
                shared_event();
                to_capture.send(()).expect("the capture waits");
            });
            let ((), store) = crate::collector::capture(|| {
                to_other.send(()).expect("the other thread waits");
                capture_rx.recv().expect("the other thread emitted first");
                shared_event();
            });
            assert_eq!(store.len(), 1, "the event reached the capture");
        });
    }
}
