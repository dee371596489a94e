//! `trace FILE [--json] [--out FILE]`: a packed trace rendered as text or JSON lines, the same
//! bytes `run --trace FILE` would have written, to standard output or a file.

use std::io::{self, BufWriter, Write};

use doppel_trace::{render_packed, Format, StreamOutput};

use super::args::TraceArgs;
use super::{Exit, Usage};

/// Renders the file; a file that is not a packed trace, or is cut short, is bad input. On
/// standard output the records before the fault stay written; an `--out` file is replaced only
/// by a whole rendering, so a bad input leaves what was there.
pub(crate) fn main(a: &TraceArgs) -> Result<Exit, Usage> {
    let format = if a.json { Format::Json } else { Format::Text };
    let failed = |e: io::Error| Usage(format!("trace: {e}"));
    match &a.out {
        Some(path) => {
            let mut out = StreamOutput::create(path).map_err(failed)?;
            render_packed(&a.file, format, &mut out).map_err(failed)?;
            out.finish().map_err(failed)?;
        }
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            let rendered = render_packed(&a.file, format, &mut out).and_then(|_| out.flush());
            match rendered {
                // A reader that stopped early (`| head`) is not an error of the trace's.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                other => other.map_err(failed)?,
            }
        }
    }
    Ok(Exit::Ok)
}
