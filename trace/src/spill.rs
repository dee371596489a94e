//! A streaming capture's output: the records a collector spills once they fill
//! [`STREAM_BYTES`], rendered as lines to the trace file.

use std::io::{self, Write};

use crate::output::StreamOutput;
use crate::record::Store;
use crate::trace::{push_entry_line, Format};

/// The encoded records a streaming collector holds before it renders them to its output
/// (about 25,000 runtime events): the trace's share of a run's memory.
pub const STREAM_BYTES: usize = 256 * 1024;

/// A streaming capture's output and its state.
pub(crate) struct Streaming {
    /// The file.
    pub(crate) out: StreamOutput,
    /// Text or JSON lines.
    pub(crate) format: Format,
    /// Records written.
    pub(crate) written: u64,
    /// The first write error; nothing more is written after it.
    pub(crate) error: Option<io::Error>,
    /// One record's line, reused.
    pub(crate) line: String,
}

impl std::fmt::Debug for Streaming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streaming")
            .field("out", &self.out)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl Streaming {
    /// Renders every record of `store` to the output and empties it.
    pub(crate) fn take(&mut self, store: &mut Store) {
        let (out, format, line) = (&mut self.out, self.format, &mut self.line);
        let (mut written, mut error) = (0, self.error.take());
        store.drain(|e| {
            if error.is_none() {
                line.clear();
                push_entry_line(line, e, format);
                match out.write_all(line.as_bytes()) {
                    Ok(()) => written += 1,
                    Err(e) => error = Some(e),
                }
            }
        });
        self.written += written;
        self.error = error;
    }
}
