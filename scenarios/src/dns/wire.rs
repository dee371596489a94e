//! The DNS message format (RFC 1035 §4), as much as an authoritative server answering A
//! queries and its checking client need: a query with one question, a reply with its question
//! copied byte for byte (so a name's letter case comes back as sent, as RFC 5452 resolvers
//! check) and A records whose owner is a pointer to it. Additional records (a client's EDNS OPT,
//! as `dig` sends) are accepted and ignored. Every parse is bounds-checked: a malformed message
//! is an error, never a panic.

use std::fmt;
use std::net::Ipv4Addr;

/// Record type A (a host address).
pub const TYPE_A: u16 = 1;
/// Class IN.
pub const CLASS_IN: u16 = 1;
/// The largest reply a plain DNS client (no EDNS) takes over UDP.
pub const MAX_UDP: usize = 512;

/// A response code (the header's low four bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rcode {
    /// Answered (possibly with no records).
    NoError,
    /// The query could not be parsed.
    FormErr,
    /// The server could not answer (an upstream did not).
    ServFail,
    /// The name does not exist.
    NxDomain,
    /// The opcode is not supported.
    NotImp,
    /// The name is outside the server's zone.
    Refused,
    /// Any other code.
    Other(u8),
}

impl Rcode {
    fn code(self) -> u8 {
        match self {
            Rcode::NoError => 0,
            Rcode::FormErr => 1,
            Rcode::ServFail => 2,
            Rcode::NxDomain => 3,
            Rcode::NotImp => 4,
            Rcode::Refused => 5,
            Rcode::Other(c) => c & 0x0f,
        }
    }

    fn from_code(c: u8) -> Rcode {
        match c & 0x0f {
            0 => Rcode::NoError,
            1 => Rcode::FormErr,
            2 => Rcode::ServFail,
            3 => Rcode::NxDomain,
            4 => Rcode::NotImp,
            5 => Rcode::Refused,
            c => Rcode::Other(c),
        }
    }
}

/// Why a message did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireError(pub String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed DNS message: {}", self.0)
    }
}

impl std::error::Error for WireError {}

fn bad<T>(what: &str) -> Result<T, WireError> {
    Err(WireError(what.to_string()))
}

/// A query as a server sees it: the header fields it answers with, and the question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The id the reply must carry.
    pub id: u16,
    /// The opcode (0: a standard query).
    pub opcode: u8,
    /// Recursion desired, copied into the reply.
    pub rd: bool,
    /// The question's name, lower-cased, dotted, without the root's dot.
    pub name: String,
    /// The question's type.
    pub qtype: u16,
    /// The question's class.
    pub qclass: u16,
    /// The question section's bytes as sent (name, type, class).
    pub raw_question: Vec<u8>,
}

/// A big-endian u16 at `at`.
fn u16_at(b: &[u8], at: usize) -> Result<u16, WireError> {
    match b.get(at..at + 2) {
        Some(s) => Ok(u16::from_be_bytes([s[0], s[1]])),
        None => bad("cut short"),
    }
}

/// Reads an uncompressed name at `at`: the name and where it ends.
fn name_at(b: &[u8], mut at: usize) -> Result<(String, usize), WireError> {
    let mut name = String::new();
    loop {
        let len = *b
            .get(at)
            .ok_or_else(|| WireError("name cut short".into()))? as usize;
        at += 1;
        if len == 0 {
            return Ok((name, at));
        }
        if len > 63 {
            return bad("a compressed or oversized label in a question");
        }
        let label = b
            .get(at..at + len)
            .ok_or_else(|| WireError("label cut short".into()))?;
        if !name.is_empty() {
            name.push('.');
        }
        name.extend(label.iter().map(|c| c.to_ascii_lowercase() as char));
        if name.len() > 253 {
            return bad("a name longer than 255 bytes");
        }
        at += len;
    }
}

/// Parses a query: one question, uncompressed; other sections' records are skipped unread.
pub fn parse_query(b: &[u8]) -> Result<Query, WireError> {
    if b.len() < 12 {
        return bad("shorter than a header");
    }
    let flags = u16_at(b, 2)?;
    if flags & 0x8000 != 0 {
        return bad("a reply, not a query");
    }
    if u16_at(b, 4)? != 1 {
        return bad("not exactly one question");
    }
    let (name, end) = name_at(b, 12)?;
    let qtype = u16_at(b, end)?;
    let qclass = u16_at(b, end + 2)?;
    Ok(Query {
        id: u16_at(b, 0)?,
        opcode: ((flags >> 11) & 0x0f) as u8,
        rd: flags & 0x0100 != 0,
        name,
        qtype,
        qclass,
        raw_question: b[12..end + 4].to_vec(),
    })
}

/// The id of anything at least a header long (for a FORMERR reply to a query that did not
/// parse).
pub fn id_of(b: &[u8]) -> Option<u16> {
    u16_at(b, 0).ok().filter(|_| b.len() >= 12)
}

/// A query for `name`'s records of `qtype`, with recursion desired.
pub fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(18 + name.len());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&0x0100u16.to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    out
}

/// An authoritative reply to `q`: its id and question, `rcode`, and one A record per address
/// (owner: a pointer to the question's name; `ttl` seconds).
pub fn reply(q: &Query, rcode: Rcode, addrs: &[Ipv4Addr], ttl: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + q.raw_question.len() + 16 * addrs.len());
    out.extend_from_slice(&q.id.to_be_bytes());
    let flags = 0x8000 | 0x0400 | (u16::from(q.opcode) << 11) | (u16::from(q.rd) << 8);
    out.extend_from_slice(&(flags | u16::from(rcode.code())).to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(addrs.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&q.raw_question);
    for a in addrs {
        out.extend_from_slice(&[0xc0, 0x0c]);
        out.extend_from_slice(&TYPE_A.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        out.extend_from_slice(&4u16.to_be_bytes());
        out.extend_from_slice(&a.octets());
    }
    out
}

/// A FORMERR reply to a message with id `id` that did not parse (no question section).
pub fn format_error(id: u16) -> Vec<u8> {
    let mut out = id.to_be_bytes().to_vec();
    out.extend_from_slice(&(0x8000u16 | 1).to_be_bytes());
    out.extend_from_slice(&[0; 8]);
    out
}

/// A reply as a client reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// Its id.
    pub id: u16,
    /// Its response code.
    pub rcode: Rcode,
    /// Its question section's bytes, to compare with the query's.
    pub raw_question: Vec<u8>,
    /// The A records' addresses, in order.
    pub addrs: Vec<Ipv4Addr>,
}

/// Parses a reply with at most one question and A records whose owners are pointers or names.
pub fn parse_reply(b: &[u8]) -> Result<Reply, WireError> {
    if b.len() < 12 {
        return bad("shorter than a header");
    }
    let flags = u16_at(b, 2)?;
    if flags & 0x8000 == 0 {
        return bad("a query, not a reply");
    }
    let (qd, an) = (u16_at(b, 4)?, u16_at(b, 6)?);
    let mut at = 12;
    let mut raw_question = Vec::new();
    if qd == 1 {
        let (_, end) = name_at(b, 12)?;
        raw_question = b
            .get(12..end + 4)
            .ok_or_else(|| WireError("question cut short".into()))?
            .to_vec();
        at = end + 4;
    } else if qd > 1 {
        return bad("more than one question");
    }
    let mut addrs = Vec::new();
    for _ in 0..an {
        at = skip_owner(b, at)?;
        let (ty, len) = (u16_at(b, at)?, u16_at(b, at + 8)? as usize);
        let data = b
            .get(at + 10..at + 10 + len)
            .ok_or_else(|| WireError("record cut short".into()))?;
        if ty == TYPE_A && len == 4 {
            addrs.push(Ipv4Addr::new(data[0], data[1], data[2], data[3]));
        }
        at += 10 + len;
    }
    Ok(Reply {
        id: u16_at(b, 0)?,
        rcode: Rcode::from_code(flags as u8),
        raw_question,
        addrs,
    })
}

/// Skips a record's owner name (labels ending in the root or a compression pointer).
fn skip_owner(b: &[u8], mut at: usize) -> Result<usize, WireError> {
    loop {
        let len = *b
            .get(at)
            .ok_or_else(|| WireError("owner cut short".into()))?;
        match len {
            0 => return Ok(at + 1),
            l if l & 0xc0 == 0xc0 => return Ok(at + 2),
            l if l > 63 => return bad("a bad label length"),
            l => at += 1 + l as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_and_its_reply_round_trip() {
        let q = parse_query(&query(0xbeef, "Host7.Doppel.test", TYPE_A)).unwrap();
        assert_eq!(
            (q.id, q.name.as_str(), q.qtype, q.rd),
            (0xbeef, "host7.doppel.test", TYPE_A, true)
        );
        let addr = Ipv4Addr::new(10, 53, 1, 8);
        let r = parse_reply(&reply(&q, Rcode::NoError, &[addr], 60)).unwrap();
        assert_eq!(
            (r.id, r.rcode, r.addrs.clone()),
            (0xbeef, Rcode::NoError, vec![addr])
        );
        assert_eq!(
            r.raw_question, q.raw_question,
            "the question comes back byte for byte"
        );
        assert!(
            r.raw_question.windows(5).any(|w| w == b"Host7"),
            "case kept"
        );
    }

    #[test]
    fn every_cut_of_a_message_is_an_error_not_a_panic() {
        let q = query(1, "www.doppel.test", TYPE_A);
        let r = reply(
            &parse_query(&q).unwrap(),
            Rcode::NoError,
            &[Ipv4Addr::LOCALHOST],
            1,
        );
        for cut in 0..q.len() {
            assert!(parse_query(&q[..cut]).is_err(), "query cut at {cut}");
        }
        for cut in 0..r.len() {
            assert!(parse_reply(&r[..cut]).is_err(), "reply cut at {cut}");
        }
    }
}
