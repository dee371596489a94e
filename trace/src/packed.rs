//! Packed trace files: what `capture_packed` (in `stream.rs`) writes and [`render_packed`] reads. A
//! streaming run that renders every record as it goes spends most of its tracing cost on text;
//! a packed file holds the collector's own encoding instead (`record/packed.rs`), so writing it
//! costs a copy, and rendering happens once, later, only if someone reads it.
//!
//! The file is [`PACKED_MAGIC`], then frames, each a tag byte, its length as eight little-endian
//! bytes, and its payload: one `H` (the run's [`Header`]), any number of `C` (a chunk of
//! records), and `E` (the record count) once the capture finished. A file without its `E` frame
//! is from a process that died mid-run: it renders up to where it stops, then says so.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use crate::codec::{put, Reader};
use crate::record::{intern, Sent, Store};
use crate::trace::{header_line, push_entry_line, Format, Header};

/// What a packed trace file starts with.
pub const PACKED_MAGIC: &[u8] = b"doppel packed trace 1\n";

/// The largest frame a reader takes (a corrupt length is refused, not allocated).
const MAX_FRAME: u64 = 1 << 30;

/// The file's start: [`PACKED_MAGIC`] and the header frame.
pub(crate) fn file_head(h: &Header) -> Vec<u8> {
    let mut p = Vec::new();
    match h.seed {
        Some(seed) => {
            p.push(1);
            put(&mut p, seed);
        }
        None => p.push(0),
    }
    for s in [&*h.faults, &*h.backend, h.doppel, h.commit, h.rustc] {
        put(&mut p, s.len() as u64);
        p.extend_from_slice(s.as_bytes());
    }
    let mut out = PACKED_MAGIC.to_vec();
    out.extend_from_slice(&frame(b'H', p.len()));
    out.extend_from_slice(&p);
    out
}

/// A frame's tag and length.
fn frame(tag: u8, len: usize) -> [u8; 9] {
    let mut f = [tag; 9];
    f[1..].copy_from_slice(&(len as u64).to_le_bytes());
    f
}

/// Writes the records of `store` as one chunk frame and empties it (nothing for no records).
pub(crate) fn write_chunk(
    out: &mut impl Write,
    store: &mut Store,
    sent: &mut Sent,
) -> io::Result<()> {
    if store.is_empty() {
        return Ok(());
    }
    let head = store.pack_head(sent);
    let records = store.packed_records();
    out.write_all(&frame(b'C', head.len() + records.len()))?;
    out.write_all(&head)?;
    out.write_all(records)?;
    store.clear_records();
    Ok(())
}

/// The end frame: how many records the file holds.
pub(crate) fn end_mark(records: u64) -> Vec<u8> {
    let mut p = Vec::new();
    put(&mut p, records);
    let mut out = frame(b'E', p.len()).to_vec();
    out.extend_from_slice(&p);
    out
}

/// Renders the packed trace at `path` to `out` as text or JSON lines, chunk by chunk (memory
/// bounded by one chunk): the same bytes `capture_to` would have written for the same
/// run. Returns how many records it rendered. A file that is not a packed trace, or is corrupt,
/// is an `InvalidData` error naming the path and what is wrong, after the records before the
/// fault were rendered; so is one whose run did not finish (no end frame).
pub fn render_packed(path: &Path, format: Format, out: &mut dyn Write) -> io::Result<u64> {
    let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let file = File::open(path).map_err(named)?;
    render_from(BufReader::new(file), format, out).map_err(named)
}

/// [`render_packed`] of an open file.
fn render_from(mut input: impl Read, format: Format, out: &mut dyn Write) -> io::Result<u64> {
    let mut magic = vec![0; PACKED_MAGIC.len()];
    let got = read_up_to(&mut input, &mut magic)?;
    if got < PACKED_MAGIC.len() || magic != PACKED_MAGIC {
        return Err(bad(
            "not a packed doppel trace (it does not start with `doppel packed trace 1`)",
        ));
    }
    let (mut store, mut payload, mut line) = (Store::default(), Vec::new(), String::new());
    let mut rendered = 0u64;
    let mut header = false;
    loop {
        let Some(tag) = next_frame(&mut input, &mut payload)? else {
            return Err(bad(&format!(
                "the file ends without its end frame after {rendered} records: the run that \
                 wrote it did not finish"
            )));
        };
        let mut r = Reader {
            bytes: &payload,
            at: 0,
        };
        match (tag, header) {
            (b'H', false) => {
                out.write_all(header_line(&read_header(&mut r)?, format).as_bytes())?;
                header = true;
            }
            (b'C', true) => {
                store
                    .unpack(&mut r)
                    .map_err(|e| bad(&format!("chunk after record {rendered}: {e}")))?;
                rendered += render_chunk(&store, format, &mut line, out)?;
            }
            (b'E', true) => {
                let total = r.get();
                return match total == rendered {
                    true => Ok(rendered),
                    false => Err(bad(&format!(
                        "the end frame counts {total} records, the file holds {rendered}"
                    ))),
                };
            }
            _ => {
                return Err(bad(&format!(
                    "an unexpected frame `{}`",
                    tag.escape_ascii()
                )))
            }
        }
        if r.at != payload.len() {
            return Err(bad(&format!(
                "a `{}` frame of the wrong length",
                tag.escape_ascii()
            )));
        }
    }
}

/// Writes one chunk's records as lines; how many.
fn render_chunk(
    store: &Store,
    format: Format,
    line: &mut String,
    out: &mut dyn Write,
) -> io::Result<u64> {
    for e in store.entries() {
        line.clear();
        push_entry_line(line, &e, format);
        out.write_all(line.as_bytes())?;
    }
    Ok(store.len() as u64)
}

/// The next frame's payload into `payload`, and its tag; `None` at the end of the file.
fn next_frame(input: &mut impl Read, payload: &mut Vec<u8>) -> io::Result<Option<u8>> {
    let mut head = [0u8; 9];
    match read_up_to(input, &mut head)? {
        0 => return Ok(None),
        9 => {}
        _ => return Err(bad("the file ends inside a frame header: it was cut short")),
    }
    let len = u64::from_le_bytes(head[1..].try_into().expect("eight bytes"));
    if len > MAX_FRAME {
        return Err(bad(&format!(
            "a frame of {len} bytes (at most {MAX_FRAME})"
        )));
    }
    payload.clear();
    input.take(len).read_to_end(payload)?;
    match payload.len() as u64 == len {
        true => Ok(Some(head[0])),
        false => Err(bad("the file ends inside a frame: it was cut short")),
    }
}

/// Fills `buf` as far as the input goes; how many bytes it got.
fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The header frame's run header.
fn read_header(r: &mut Reader<'_>) -> io::Result<Header> {
    let seed = match r.byte() {
        0 => None,
        1 => Some(r.get()),
        _ => return Err(bad("a header frame that does not hold together")),
    };
    let mut text = || -> io::Result<String> {
        let len = r.get() as usize;
        let bytes = r
            .bytes
            .get(r.at..r.at.saturating_add(len))
            .ok_or_else(|| bad("a header cut short"))?;
        r.at += len;
        String::from_utf8(bytes.to_vec()).map_err(|_| bad("a header that is not UTF-8"))
    };
    let (faults, backend) = (text()?, text()?);
    let (doppel, commit, rustc) = (intern(&text()?), intern(&text()?), intern(&text()?));
    Ok(Header {
        seed,
        faults,
        backend,
        doppel,
        commit,
        rustc,
    })
}

/// A corrupt or foreign file.
fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}
