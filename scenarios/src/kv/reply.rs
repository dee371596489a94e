//! RESP2 replies: the server's encoders (simple string, error, integer, bulk, null bulk, array
//! header), which append to a reply buffer without allocating, and the client's decoder.

use super::resp::parse_int;

/// Appends `+text\r\n` (text must hold no CR or LF).
pub fn simple(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'+');
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
}

/// Appends `-message\r\n`, with any CR or LF in `message` turned into spaces so the reply
/// stays one line whatever the client sent.
pub fn error(out: &mut Vec<u8>, message: &str) {
    out.push(b'-');
    out.extend(
        message
            .bytes()
            .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    out.extend_from_slice(b"\r\n");
}

/// Appends the decimal digits of `n`.
fn digits(out: &mut Vec<u8>, n: i64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        tmp[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Appends `:n\r\n`.
pub fn integer(out: &mut Vec<u8>, n: i64) {
    out.push(b':');
    digits(out, n);
    out.extend_from_slice(b"\r\n");
}

/// Appends `$len\r\nbytes\r\n`.
pub fn bulk(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'$');
    digits(out, bytes.len() as i64);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

/// Appends the null bulk string `$-1\r\n` (a missing key).
pub fn null(out: &mut Vec<u8>) {
    out.extend_from_slice(b"$-1\r\n");
}

/// Appends `*n\r\n`, the header of an array of `n` replies that follow.
pub fn array(out: &mut Vec<u8>, n: usize) {
    out.push(b'*');
    digits(out, n as i64);
    out.extend_from_slice(b"\r\n");
}

/// One decoded reply, as a checking client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `+text`.
    Simple(Vec<u8>),
    /// `-message`.
    Error(Vec<u8>),
    /// `:n`.
    Integer(i64),
    /// `$len` and its bytes, or `None` for the null bulk `$-1`.
    Bulk(Option<Vec<u8>>),
    /// `*n` and its elements, or `None` for the null array `*-1`.
    Array(Option<Vec<Reply>>),
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        match self {
            Reply::Simple(s) => write!(f, "+{}", lossy(s)),
            Reply::Error(s) => write!(f, "-{}", lossy(s)),
            Reply::Integer(n) => write!(f, ":{n}"),
            Reply::Bulk(None) => f.write_str("(nil)"),
            Reply::Bulk(Some(b)) if b.len() > 40 => {
                write!(f, "{:?}... ({} bytes)", lossy(&b[..40]), b.len())
            }
            Reply::Bulk(Some(b)) => write!(f, "{:?}", lossy(b)),
            Reply::Array(None) => f.write_str("(nil array)"),
            Reply::Array(Some(v)) => write!(f, "array of {}", v.len()),
        }
    }
}

/// Decodes the reply at the start of `buf`: `Ok(None)` if it is not all there yet,
/// `Ok(Some((reply, bytes used)))`, or an error saying why the bytes are not a reply.
pub fn decode(buf: &[u8]) -> Result<Option<(Reply, usize)>, String> {
    let Some(nl) = buf.windows(2).position(|w| w == b"\r\n") else {
        return Ok(None);
    };
    if nl == 0 {
        return Err("a reply line with no type byte".into());
    }
    let (kind, line) = (buf[0], &buf[1..nl]);
    let after = nl + 2;
    let int = || parse_int(line).ok_or_else(|| format!("bad length or integer {line:?}"));
    match kind {
        b'+' => Ok(Some((Reply::Simple(line.to_vec()), after))),
        b'-' => Ok(Some((Reply::Error(line.to_vec()), after))),
        b':' => Ok(Some((Reply::Integer(int()?), after))),
        b'$' => {
            let len = int()?;
            if len < 0 {
                return Ok(Some((Reply::Bulk(None), after)));
            }
            let end = after + len as usize;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err("bulk reply not followed by CRLF".into());
            }
            Ok(Some((Reply::Bulk(Some(buf[after..end].to_vec())), end + 2)))
        }
        b'*' => {
            let n = int()?;
            if n < 0 {
                return Ok(Some((Reply::Array(None), after)));
            }
            let mut items = Vec::new();
            let mut pos = after;
            for _ in 0..n {
                match decode(&buf[pos..])? {
                    None => return Ok(None),
                    Some((r, used)) => {
                        items.push(r);
                        pos += used;
                    }
                }
            }
            Ok(Some((Reply::Array(Some(items)), pos)))
        }
        other => Err(format!("a reply cannot start with {:?}", char::from(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_replies_decode_back() {
        let mut out = Vec::new();
        simple(&mut out, b"OK");
        error(&mut out, "ERR bad\r\nthing");
        integer(&mut out, -1234567);
        integer(&mut out, 0);
        bulk(&mut out, b"a\r\nb");
        null(&mut out);
        array(&mut out, 2);
        bulk(&mut out, b"save");
        bulk(&mut out, b"");
        let want = [
            Reply::Simple(b"OK".to_vec()),
            Reply::Error(b"ERR bad  thing".to_vec()),
            Reply::Integer(-1234567),
            Reply::Integer(0),
            Reply::Bulk(Some(b"a\r\nb".to_vec())),
            Reply::Bulk(None),
            Reply::Array(Some(vec![
                Reply::Bulk(Some(b"save".to_vec())),
                Reply::Bulk(Some(Vec::new())),
            ])),
        ];
        let mut pos = 0;
        for w in want {
            let (r, used) = decode(&out[pos..]).expect("valid").expect("complete");
            assert_eq!(r, w);
            pos += used;
        }
        assert_eq!(pos, out.len());
    }

    #[test]
    fn a_cut_reply_is_incomplete() {
        let mut out = Vec::new();
        bulk(&mut out, b"hello");
        for cut in 0..out.len() {
            assert_eq!(decode(&out[..cut]), Ok(None), "{cut}");
        }
        assert!(decode(b"?x\r\n").is_err());
    }
}
