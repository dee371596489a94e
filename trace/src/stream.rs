//! Traces that stream: [`capture_to`] writes the header, then every record as it goes, as text
//! or JSON lines identical to [`crate::Trace::render`]'s, and [`capture_packed`] the same
//! records packed (rendered later by [`crate::packed::render_packed`]), while the collector keeps at
//! most about `STREAM_BYTES` of records in memory. A run that fails has written everything up to
//! its failure; the file is complete once the capture returns.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

use crate::collector::{capture_with, Collector};
use crate::output::StreamOutput;
use crate::packed;
use crate::record::Sent;
use crate::spill::{Encoding, Streaming};
use crate::trace::{header_line, Format, Header};

/// Runs `f` with a collector that writes its trace to `out` as it goes: `header` first, then
/// each record, in `format`. Returns `f`'s result and how many records were written, or the
/// first write error (the run itself is not stopped by one). `out` is finished here: a regular
/// file replaces its path only now, whole.
pub fn capture_to<R>(
    header: &Header,
    format: Format,
    out: StreamOutput,
    f: impl FnOnce() -> R,
) -> (R, io::Result<u64>) {
    let head = header_line(header, format).into_bytes();
    streamed(&head, Encoding::Lines(format, String::new()), out, f)
}

/// [`capture_to`], with the records packed as the collector encoded them instead of rendered:
/// a fraction of the cost while the run goes, for a trace rendered later (or never) with
/// [`crate::packed::render_packed`] or `doppel trace FILE`.
pub fn capture_packed<R>(
    header: &Header,
    out: StreamOutput,
    f: impl FnOnce() -> R,
) -> (R, io::Result<u64>) {
    let head = packed::file_head(header);
    streamed(&head, Encoding::Packed(Sent::default()), out, f)
}

/// Writes `head`, then runs `f` streaming its records to `out` as `encoding` says.
fn streamed<R>(
    head: &[u8],
    encoding: Encoding,
    mut out: StreamOutput,
    f: impl FnOnce() -> R,
) -> (R, io::Result<u64>) {
    let first = out.write_all(head);
    let stream = Arc::new(Mutex::new(Some(Streaming {
        out,
        encoding,
        written: 0,
        error: first.err(),
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
    (result, s.finish())
}
