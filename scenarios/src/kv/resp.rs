//! An incremental parser for RESP2 requests, as Redis reads them: multi-bulk arrays
//! (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`, what every client library and `redis-cli` send) and inline
//! commands (`PING\r\n`, what a person types into `nc`).
//!
//! The parser works in place: it never copies an argument, it records each as a byte range of
//! the buffer it was given, so a server can parse a whole pipeline out of one read without
//! allocating. It resumes where it stopped: a [`Parser`] given the start of a request that is
//! not all there yet says [`Parsed::Incomplete`] with the smallest length that could complete
//! it, and keeps the arguments, the position and the line search it had, so the next call with
//! more of the same request scans only the new bytes. A request of N bytes costs O(N) however
//! it is cut into reads, as Redis's `processMultibulkBuffer` does with its `multibulklen` and
//! `bulklen` state. Bad input is a [`ProtocolError`] (the server replies
//! `-ERR Protocol error: ...` and closes, as Redis does), never a panic.

use std::fmt;
use std::ops::Range;

pub use args::Args;

/// The longest inline request, and the longest `*N` or `$N` header line (Redis:
/// `PROTO_INLINE_MAX_SIZE`): a peer that sends more without a newline is not speaking RESP.
pub const MAX_INLINE: usize = 64 * 1024;

/// The most arguments one multi-bulk request may announce: `INT_MAX`, the bound Redis 7 checks
/// (`ll > INT_MAX` in `processMultibulkBuffer`; older releases refused more than 1,048,576).
/// Announcing many costs nothing here: an argument's range is stored only once its bytes have
/// arrived, never reserved from the count.
pub const MAX_ARGS: i64 = i32::MAX as i64;

/// The longest bulk argument (Redis's default `proto-max-bulk-len`, 512 MB).
pub const MAX_BULK: i64 = 512 * 1024 * 1024;

/// What the start of a buffer holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// One complete request of `used` bytes; its arguments are in [`Parser::args`].
    Request {
        /// Bytes the request took, from the start of the buffer.
        used: usize,
    },
    /// An empty request (a blank inline line, or `*0`): skip `used` bytes, answer nothing.
    Empty {
        /// Bytes to skip.
        used: usize,
    },
    /// Not a whole request yet; nothing can complete it before the buffer holds `need` bytes.
    Incomplete {
        /// The buffer length worth parsing again at.
        need: usize,
    },
}

/// Why a request is not RESP; the text follows `Protocol error: ` in the reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProtocolError {}

/// Where a multi-bulk request's parse stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// At a request's first byte.
    Start,
    /// `*N` is parsed; `left` bulk arguments are still to come, the next one's `$` at `pos`.
    Bulks {
        /// Arguments still to come.
        left: i64,
    },
}

/// A resumable parse of the request at the start of a buffer (see the module docs). One per
/// connection; after a complete request (or an error) it starts afresh at the next one.
#[derive(Debug)]
pub struct Parser {
    /// The request's arguments so far, as ranges of the buffer.
    args: Args,
    /// How far the request is parsed.
    stage: Stage,
    /// The next byte to parse: the next `$` header (multi-bulk), or 0 (inline).
    pos: usize,
    /// Where the search for the end of the line being read resumes.
    scan: usize,
    /// Bytes the parser has examined, over its life: its work, whatever the time.
    scanned: u64,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

/// The outcome of looking for a line's end.
enum Line {
    /// The line ends (its `\r`) here.
    Ends(usize),
    /// Not all there yet.
    Partial,
}

impl Parser {
    /// A parser at the start of a request.
    pub fn new() -> Parser {
        Parser {
            args: Args::default(),
            stage: Stage::Start,
            pos: 0,
            scan: 0,
            scanned: 0,
        }
    }

    /// The arguments of the request the last call completed, as ranges of its buffer.
    pub fn args(&self) -> &[Range<usize>] {
        self.args.as_slice()
    }

    /// Bytes examined so far over every call: what a slow sender costs, counted, not timed.
    pub fn scanned(&self) -> u64 {
        self.scanned
    }

    /// Parses the request at the start of `buf`. After [`Parsed::Incomplete`], `buf` must
    /// start with the same request again (with more bytes after what it had); after anything
    /// else the next call starts a new request.
    pub fn parse(&mut self, buf: &[u8]) -> Result<Parsed, ProtocolError> {
        if self.stage == Stage::Start && self.pos == 0 && self.scan == 0 {
            self.args.clear();
        }
        let result = match buf.first() {
            None => Ok(Parsed::Incomplete { need: 1 }),
            Some(b'*') => self.multibulk(buf),
            Some(_) => self.inline(buf),
        };
        if !matches!(result, Ok(Parsed::Incomplete { .. })) {
            self.stage = Stage::Start;
            self.pos = 0;
            self.scan = 0;
        }
        result
    }

    /// Finds the end of the `\r\n`-terminated line starting at `from`, resuming the search
    /// where the last call left it; an error if the line is already longer than a header may be.
    fn line_end(&mut self, buf: &[u8], from: usize, what: &str) -> Result<Line, ProtocolError> {
        let at = self.scan.max(from);
        let found = buf[at..].iter().position(|&b| b == b'\r').map(|i| at + i);
        self.scanned += (found.map_or(buf.len(), |i| i + 1) - at) as u64;
        match found {
            Some(i) if i + 1 < buf.len() => {
                self.scanned += 1;
                self.scan = 0;
                if buf[i + 1] == b'\n' {
                    Ok(Line::Ends(i))
                } else {
                    Err(ProtocolError(format!(
                        "expected '\\n' after '\\r' in {what}"
                    )))
                }
            }
            Some(i) if i - from <= MAX_INLINE => {
                self.scan = i;
                Ok(Line::Partial)
            }
            None if buf.len() - from <= MAX_INLINE => {
                self.scan = buf.len();
                Ok(Line::Partial)
            }
            _ => Err(ProtocolError(format!("too big {what}"))),
        }
    }

    /// `*N\r\n` followed by N bulk strings `$LEN\r\nBYTES\r\n`.
    fn multibulk(&mut self, buf: &[u8]) -> Result<Parsed, ProtocolError> {
        let mut left = match self.stage {
            Stage::Bulks { left } => left,
            Stage::Start => {
                let Line::Ends(end) = self.line_end(buf, 1, "mbulk count string")? else {
                    return Ok(Parsed::Incomplete {
                        need: buf.len() + 1,
                    });
                };
                let count = parse_int(&buf[1..end])
                    .filter(|&n| n <= MAX_ARGS)
                    .ok_or_else(|| ProtocolError("invalid multibulk length".into()))?;
                self.pos = end + 2;
                if count <= 0 {
                    return Ok(Parsed::Empty { used: self.pos });
                }
                count
            }
        };
        while left > 0 {
            self.stage = Stage::Bulks { left };
            if let Some(need) = self.bulk(buf)? {
                return Ok(Parsed::Incomplete { need });
            }
            left -= 1;
        }
        Ok(Parsed::Request { used: self.pos })
    }

    /// One bulk argument at `pos`: `None` once it is parsed (and `pos` is past it), or the
    /// buffer length that could complete it.
    fn bulk(&mut self, buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
        let pos = self.pos;
        match buf.get(pos) {
            None => return Ok(Some(pos + 1)),
            Some(b'$') => {}
            Some(&c) => {
                return Err(ProtocolError(format!(
                    "expected '$', got '{}'",
                    char::from(c).escape_default()
                )))
            }
        }
        let Line::Ends(end) = self.line_end(buf, pos + 1, "bulk count string")? else {
            return Ok(Some(buf.len() + 1));
        };
        let len = parse_int(&buf[pos + 1..end])
            .filter(|&n| (0..=MAX_BULK).contains(&n))
            .ok_or_else(|| ProtocolError("invalid bulk length".into()))?;
        let start = end + 2;
        let stop = start + len as usize;
        if buf.len() < stop + 2 {
            // The header is parsed; resume at it, but skip the line search next time.
            self.scan = end;
            return Ok(Some(stop + 2));
        }
        self.scan = 0;
        self.scanned += 2;
        if &buf[stop..stop + 2] != b"\r\n" {
            return Err(ProtocolError("expected CRLF after a bulk argument".into()));
        }
        self.args.push(start..stop);
        self.pos = stop + 2;
        Ok(None)
    }

    /// An inline command: one line (ending in `\n`, an optional `\r` before it), arguments
    /// split on spaces and tabs, `"..."` or `'...'` quoting an argument that holds spaces (no
    /// escapes).
    fn inline(&mut self, buf: &[u8]) -> Result<Parsed, ProtocolError> {
        let at = self.scan;
        let Some(nl) = buf[at..].iter().position(|&b| b == b'\n').map(|i| at + i) else {
            self.scanned += (buf.len() - at) as u64;
            if buf.len() > MAX_INLINE {
                return Err(ProtocolError("too big inline request".into()));
            }
            self.scan = buf.len();
            return Ok(Parsed::Incomplete {
                need: buf.len() + 1,
            });
        };
        self.scanned += (nl + 1 - at) as u64 + nl as u64;
        let end = if nl > 0 && buf[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        split_inline(buf, end, &mut self.args)?;
        if self.args.is_empty() {
            Ok(Parsed::Empty { used: nl + 1 })
        } else {
            Ok(Parsed::Request { used: nl + 1 })
        }
    }
}

/// Parses the request at the start of `buf` in one go, pushing its arguments (ranges into
/// `buf`) onto `args` (cleared first): a fresh [`Parser`]'s answer, for callers with the whole
/// request at hand.
pub fn parse(buf: &[u8], args: &mut Vec<Range<usize>>) -> Result<Parsed, ProtocolError> {
    let mut p = Parser::new();
    let result = p.parse(buf);
    args.clear();
    args.extend_from_slice(p.args());
    result
}

/// A decimal integer as Redis's `string2ll` reads one: an optional `-`, then `0` alone or
/// digits that do not start with `0` (so `0004`, `+4` and `-0` are refused, as Redis refuses
/// them); `None` for anything else (or overflow).
pub fn parse_int(digits: &[u8]) -> Option<i64> {
    let (neg, digits) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, digits),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    if digits[0] == b'0' && (digits.len() > 1 || neg) {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(d - b'0');
    }
    Some(if neg { -n } else { n })
}

/// Splits `buf[..end]` into arguments.
fn split_inline(buf: &[u8], end: usize, args: &mut Args) -> Result<(), ProtocolError> {
    let blank = |b: u8| b == b' ' || b == b'\t' || b == b'\r';
    let mut i = 0;
    while i < end {
        if blank(buf[i]) {
            i += 1;
            continue;
        }
        if buf[i] == b'"' || buf[i] == b'\'' {
            let quote = buf[i];
            let close = buf[i + 1..end]
                .iter()
                .position(|&b| b == quote)
                .map(|p| i + 1 + p);
            match close {
                Some(c) if c + 1 == end || blank(buf[c + 1]) => {
                    args.push(i + 1..c);
                    i = c + 1;
                }
                _ => return Err(ProtocolError("unbalanced quotes in request".into())),
            }
        } else {
            let start = i;
            while i < end && !blank(buf[i]) {
                i += 1;
            }
            args.push(start..i);
        }
    }
    Ok(())
}

mod args;
#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    fn words(buf: &[u8]) -> (Parsed, Vec<Vec<u8>>) {
        let mut args = Vec::new();
        let p = parse(buf, &mut args).expect("valid");
        (p, args.into_iter().map(|r| buf[r].to_vec()).collect())
    }

    #[test]
    fn a_multibulk_request_parses_in_place() {
        let buf = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\r\nb!\r\nrest";
        let (p, a) = words(buf);
        assert_eq!(
            p,
            Parsed::Request {
                used: buf.len() - 4
            }
        );
        assert_eq!(a, vec![b"SET".to_vec(), b"k".to_vec(), b"a\r\nb!".to_vec()]);
    }

    #[test]
    fn every_prefix_of_a_request_is_incomplete_and_says_how_much_it_needs() {
        let buf = b"*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\n";
        for cut in 0..buf.len() {
            let (p, _) = words(&buf[..cut]);
            match p {
                Parsed::Incomplete { need } => assert!(need > cut && need <= buf.len(), "{cut}"),
                other => panic!("prefix {cut}: {other:?}"),
            }
        }
        assert_eq!(words(buf).0, Parsed::Request { used: buf.len() });
    }

    #[test]
    fn inline_commands_split_on_blanks_and_quotes() {
        let (p, a) = words(b"set  k \"two words\"\r\nPING\r\n");
        assert_eq!(p, Parsed::Request { used: 20 });
        assert_eq!(
            a,
            vec![b"set".to_vec(), b"k".to_vec(), b"two words".to_vec()]
        );
        assert_eq!(words(b"PING\n").0, Parsed::Request { used: 5 });
        assert_eq!(words(b"\r\n").0, Parsed::Empty { used: 2 });
        assert_eq!(words(b"*0\r\n").0, Parsed::Empty { used: 4 });
    }

    #[test]
    fn bad_input_is_a_protocol_error_never_a_panic() {
        let mut args = Vec::new();
        for bad in [
            &b"*x\r\n"[..],
            b"*2\r\n+OK\r\n",
            b"*1\r\n$-5\r\n",
            b"*1\r\n$3\r\nGETxx",
            b"*99999999999\r\n",
            b"*1\rX",
            b"get \"k\r\n",
            b"*1\r\n$0004\r\nPING\r\n",
            b"*01\r\n$4\r\nPING\r\n",
            b"*2147483648\r\n",
        ] {
            assert!(parse(bad, &mut args).is_err(), "{bad:?}");
        }
        let long = vec![b'a'; MAX_INLINE + 1];
        let e = parse(&long, &mut args).expect_err("too long");
        assert_eq!(e.0, "too big inline request");
    }

    #[test]
    fn integers_parse_strictly() {
        assert_eq!(parse_int(b"123"), Some(123));
        assert_eq!(parse_int(b"-1"), Some(-1));
        assert_eq!(parse_int(b"0"), Some(0));
        for bad in [
            &b""[..],
            b"-",
            b"1x",
            b"+1",
            b"9999999999999999999",
            b"0004",
            b"-0",
            b"-01",
        ] {
            assert_eq!(parse_int(bad), None, "{bad:?}");
        }
    }

    /// `DEL` with `keys` keys, as a client sends it.
    fn big_del(keys: usize) -> Vec<u8> {
        let mut req = format!("*{}\r\n$3\r\nDEL\r\n", keys + 1).into_bytes();
        for k in 0..keys {
            let key = format!("{k:06}");
            req.extend_from_slice(format!("${}\r\n{key}\r\n", key.len()).as_bytes());
        }
        req
    }

    /// Feeds `req` to a fresh parser `chunk` bytes at a time, calling it as the server does
    /// (only once the buffer holds what it said it needs); the outcome and the bytes scanned.
    fn feed(req: &[u8], chunk: usize) -> (Parsed, usize, u64) {
        let mut p = Parser::new();
        let mut need = 1;
        let mut have = 0;
        loop {
            have = (have + chunk).min(req.len());
            if have < need {
                continue;
            }
            match p.parse(&req[..have]).expect("valid") {
                Parsed::Incomplete { need: n } => need = n,
                done => return (done, p.args().len(), p.scanned()),
            }
        }
    }

    #[test]
    fn a_request_sent_slowly_costs_what_it_costs_sent_whole() {
        let req = big_del(1_048_575);
        assert!(req.len() > 7_000_000, "{}", req.len());
        let (whole, args, whole_work) = feed(&req, req.len());
        assert_eq!(whole, Parsed::Request { used: req.len() });
        assert_eq!(args, 1_048_576);
        for chunk in [4096, 1000, 7] {
            let (slow, slow_args, slow_work) = feed(&req, chunk);
            assert_eq!((slow, slow_args), (whole.clone(), args), "chunk {chunk}");
            assert!(
                slow_work <= 2 * whole_work,
                "chunk {chunk}: {slow_work} bytes scanned against {whole_work} whole"
            );
        }
    }

    #[test]
    fn a_big_bulk_argument_sent_in_pieces_parses_whole() {
        let mut req = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$204800\r\n".to_vec();
        req.extend(std::iter::repeat_n(b'v', 204_800));
        req.extend_from_slice(b"\r\n");
        for chunk in [4096, 16 * 1024, 100_000] {
            let (p, args, _) = feed(&req, chunk);
            assert_eq!(
                (p, args),
                (Parsed::Request { used: req.len() }, 3),
                "{chunk}"
            );
        }
    }

    #[test]
    fn a_long_inline_line_sent_a_byte_at_a_time_is_scanned_once() {
        let mut line = vec![b'x'; MAX_INLINE - 2];
        line.extend_from_slice(b"\r\n");
        let (whole, _, whole_work) = feed(&line, line.len());
        let (slow, _, slow_work) = feed(&line, 1);
        assert_eq!(slow, whole);
        assert!(
            slow_work <= 2 * whole_work,
            "{slow_work} against {whole_work}"
        );
    }

    #[test]
    fn the_parser_starts_afresh_after_each_request() {
        let buf = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n";
        let mut p = Parser::new();
        assert_eq!(p.parse(&buf[..9]).unwrap(), Parsed::Incomplete { need: 13 });
        assert_eq!(p.parse(&buf[..21]).unwrap(), Parsed::Request { used: 20 });
        assert_eq!(p.args(), [8..11, 17..18]);
        assert_eq!(p.parse(&buf[20..]).unwrap(), Parsed::Request { used: 6 });
        assert_eq!(p.args(), std::slice::from_ref(&(0..4)));
    }
}
