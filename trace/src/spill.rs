//! A streaming capture's output: the records a collector spills once they fill
//! [`STREAM_BYTES`], rendered as lines to the trace file, or packed (`packed.rs`) as the
//! collector encoded them.

use std::io::{self, Write};

use crate::output::StreamOutput;
use crate::packed;
use crate::record::{Sent, Store};
use crate::trace::{push_entry_line, Format};

/// The encoded records a streaming collector holds before it renders them to its output
/// (about 25,000 runtime events): the trace's share of a run's memory.
pub const STREAM_BYTES: usize = 256 * 1024;

/// How spilled records reach the file.
#[derive(Debug)]
pub(crate) enum Encoding {
    /// Rendered, one line a record, in this format; the line is reused.
    Lines(Format, String),
    /// Packed: the tables each chunk adds, then the records' bytes as they are.
    Packed(Sent),
}

/// A streaming capture's output and its state.
pub(crate) struct Streaming {
    /// The file.
    pub(crate) out: StreamOutput,
    /// Lines or packed chunks.
    pub(crate) encoding: Encoding,
    /// Records written.
    pub(crate) written: u64,
    /// The first write error; nothing more is written after it.
    pub(crate) error: Option<io::Error>,
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
    /// Writes every record of `store` to the output and empties it.
    pub(crate) fn take(&mut self, store: &mut Store) {
        if self.error.is_some() {
            store.clear_records();
            return;
        }
        let result = match &mut self.encoding {
            Encoding::Lines(format, line) => lines(&mut self.out, *format, line, store),
            Encoding::Packed(sent) => {
                let n = store.len() as u64;
                packed::write_chunk(&mut self.out, store, sent).map(|()| n)
            }
        };
        match result {
            Ok(n) => self.written += n,
            Err(e) => self.error = Some(e),
        }
    }

    /// Ends the file (a packed trace's end mark) and replaces its path.
    pub(crate) fn finish(mut self) -> io::Result<u64> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if let Encoding::Packed(_) = self.encoding {
            self.out.write_all(&packed::end_mark(self.written))?;
        }
        self.out.finish().map(|()| self.written)
    }
}

/// Renders every record of `store` as a line to `out`, then empties it: how many were written,
/// or the first write error.
fn lines(
    out: &mut StreamOutput,
    format: Format,
    line: &mut String,
    store: &mut Store,
) -> io::Result<u64> {
    let (mut written, mut error) = (0, None);
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
    error.map_or(Ok(written), Err)
}
