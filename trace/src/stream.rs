//! Traces that stream: [`capture_to`] writes the header, then every record as it goes, as text
//! or JSON lines identical to [`crate::Trace::render`]'s, while the collector keeps at most about
//! `STREAM_BYTES` of records in memory. A run that fails has written everything up to its
//! failure; the file is complete once [`capture_to`] returns.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

use crate::collector::{capture_with, Collector};
use crate::output::StreamOutput;
use crate::spill::Streaming;
use crate::trace::{header_line, Format, Header};

/// Runs `f` with a collector that writes its trace to `out` as it goes: `header` first, then
/// each record, in `format`. Returns `f`'s result and how many records were written, or the
/// first write error (the run itself is not stopped by one). `out` is finished here: a regular
/// file replaces its path only now, whole.
pub fn capture_to<R>(
    header: &Header,
    format: Format,
    mut out: StreamOutput,
    f: impl FnOnce() -> R,
) -> (R, io::Result<u64>) {
    let first = out.write_all(header_line(header, format).as_bytes());
    let stream = Arc::new(Mutex::new(Some(Streaming {
        out,
        format,
        written: 0,
        error: first.err(),
        line: String::new(),
    })));
    let collector = Collector::streaming(stream.clone());
    let result = capture_with(&collector, f);
    let mut rest = collector.take();
    let taken = stream.lock().unwrap_or_else(PoisonError::into_inner).take();
    let Some(mut s) = taken else {
        return (
            result,
            Err(io::Error::other("the trace's output was already finished")),
        );
    };
    s.take(&mut rest);
    let written = match s.error {
        Some(e) => Err(e),
        None => s.out.finish().map(|()| s.written),
    };
    (result, written)
}
