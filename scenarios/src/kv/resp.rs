//! An incremental parser for RESP2 requests, as Redis reads them: multi-bulk arrays
//! (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`, what every client library and `redis-cli` send) and inline
//! commands (`PING\r\n`, what a person types into `nc`).
//!
//! The parser works in place: it never copies an argument, it records each as a byte range of
//! the buffer it was given, so a server can parse a whole pipeline out of one read without
//! allocating. It is incremental in the cheapest way: a request that is not complete yet is
//! reported as [`Parsed::Incomplete`] with the smallest buffer length that could complete it,
//! and the caller parses it again from its first byte once that many bytes are there. Bad input
//! is a [`ProtocolError`] (the server replies `-ERR Protocol error: ...` and closes, as Redis
//! does), never a panic.

use std::fmt;
use std::ops::Range;

/// The longest inline request, and the longest `*N` or `$N` header line (Redis:
/// `PROTO_INLINE_MAX_SIZE`): a peer that sends more without a newline is not speaking RESP.
pub const MAX_INLINE: usize = 64 * 1024;

/// The most arguments one multi-bulk request may have (Redis's limit).
pub const MAX_ARGS: i64 = 1024 * 1024;

/// The longest bulk argument (Redis's default `proto-max-bulk-len`, 512 MB).
pub const MAX_BULK: i64 = 512 * 1024 * 1024;

/// What the start of a buffer holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// One complete request of `used` bytes; its arguments were pushed as ranges.
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

/// Parses the request at the start of `buf`, pushing its arguments (ranges into `buf`) onto
/// `args`. `args` is cleared first, so a caller can reuse one vector for every request.
pub fn parse(buf: &[u8], args: &mut Vec<Range<usize>>) -> Result<Parsed, ProtocolError> {
    args.clear();
    match buf.first() {
        None => Ok(Parsed::Incomplete { need: 1 }),
        Some(b'*') => multibulk(buf, args),
        Some(_) => inline(buf, args),
    }
}

/// The end of the `\r\n`-terminated line starting at `from` (the index of its `\r`), `None` if
/// the line is not all there yet, or an error if it is already longer than a header may be.
fn line_end(buf: &[u8], from: usize, what: &str) -> Result<Option<usize>, ProtocolError> {
    let rest = &buf[from..];
    match rest.iter().position(|&b| b == b'\r') {
        Some(i) if i + 1 < rest.len() => {
            if rest[i + 1] == b'\n' {
                Ok(Some(from + i))
            } else {
                Err(ProtocolError(format!(
                    "expected '\\n' after '\\r' in {what}"
                )))
            }
        }
        Some(i) if i <= MAX_INLINE => Ok(None),
        None if rest.len() <= MAX_INLINE => Ok(None),
        _ => Err(ProtocolError(format!("too big {what}"))),
    }
}

/// A decimal integer with an optional minus sign; `None` for anything else (or overflow).
pub fn parse_int(digits: &[u8]) -> Option<i64> {
    let (neg, digits) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, digits),
    };
    if digits.is_empty() || digits.len() > 18 {
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

/// `*N\r\n` followed by N bulk strings `$LEN\r\nBYTES\r\n`.
fn multibulk(buf: &[u8], args: &mut Vec<Range<usize>>) -> Result<Parsed, ProtocolError> {
    let Some(end) = line_end(buf, 1, "mbulk count string")? else {
        return Ok(Parsed::Incomplete {
            need: buf.len() + 1,
        });
    };
    let count = parse_int(&buf[1..end])
        .filter(|&n| n <= MAX_ARGS)
        .ok_or_else(|| ProtocolError("invalid multibulk length".into()))?;
    let mut pos = end + 2;
    if count <= 0 {
        return Ok(Parsed::Empty { used: pos });
    }
    for _ in 0..count {
        match buf.get(pos) {
            None => return Ok(Parsed::Incomplete { need: pos + 1 }),
            Some(b'$') => {}
            Some(&c) => {
                return Err(ProtocolError(format!(
                    "expected '$', got '{}'",
                    char::from(c).escape_default()
                )))
            }
        }
        let Some(end) = line_end(buf, pos + 1, "bulk count string")? else {
            return Ok(Parsed::Incomplete {
                need: buf.len() + 1,
            });
        };
        let len = parse_int(&buf[pos + 1..end])
            .filter(|&n| (0..=MAX_BULK).contains(&n))
            .ok_or_else(|| ProtocolError("invalid bulk length".into()))?;
        let start = end + 2;
        let stop = start + len as usize;
        if buf.len() < stop + 2 {
            return Ok(Parsed::Incomplete { need: stop + 2 });
        }
        if &buf[stop..stop + 2] != b"\r\n" {
            return Err(ProtocolError("expected CRLF after a bulk argument".into()));
        }
        args.push(start..stop);
        pos = stop + 2;
    }
    Ok(Parsed::Request { used: pos })
}

/// An inline command: one line (ending in `\n`, an optional `\r` before it), arguments split
/// on spaces and tabs, `"..."` or `'...'` quoting an argument that holds spaces (no escapes).
fn inline(buf: &[u8], args: &mut Vec<Range<usize>>) -> Result<Parsed, ProtocolError> {
    let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
        if buf.len() > MAX_INLINE {
            return Err(ProtocolError("too big inline request".into()));
        }
        return Ok(Parsed::Incomplete {
            need: buf.len() + 1,
        });
    };
    let end = if nl > 0 && buf[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    split_inline(buf, end, args)?;
    if args.is_empty() {
        Ok(Parsed::Empty { used: nl + 1 })
    } else {
        Ok(Parsed::Request { used: nl + 1 })
    }
}

/// Splits `buf[..end]` into arguments.
fn split_inline(buf: &[u8], end: usize, args: &mut Vec<Range<usize>>) -> Result<(), ProtocolError> {
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
        for bad in [&b""[..], b"-", b"1x", b"+1", b"9999999999999999999"] {
            assert_eq!(parse_int(bad), None, "{bad:?}");
        }
    }
}
