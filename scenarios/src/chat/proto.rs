//! The chat protocol: one command or event per `\n`-terminated line, fields separated by one
//! space, numbers in decimal.
//!
//! | direction       | line                              | meaning                                      |
//! |-----------------|-----------------------------------|----------------------------------------------|
//! | client → server | `JOIN <id>`                       | join the room as client `id`                 |
//! | client → server | `MSG <id> <seq> <text>`           | say `text`, this client's message `seq`       |
//! | server → client | `WELCOME <members> <id>:<n> ...`  | reply to `JOIN`: members now, and for every id that ever joined, how many of its messages were broadcast |
//! | server → all    | `JOINED <id> <members>`           | `id` joined                                   |
//! | server → all    | `LEFT <id> <members>`             | `id` left (or was disconnected)              |
//! | server → all    | `MSG <id> <seq> <text>`           | the client's line, verbatim                   |
//!
//! A client leaves by half-closing its connection (the server then closes its side) or by
//! closing it. `<text>` is any non-empty run of bytes without a newline; messages of one id are
//! numbered from 0 with no gaps, and the server broadcasts message `n` of an id only after
//! message `n - 1`, so a client that lost its connection re-joins and resends from the count
//! its `WELCOME` gives.

use std::collections::BTreeMap;

use crate::wire::{pattern, Gen};

/// The longest line either side accepts, newline included. A server disconnects a client whose
/// line is longer; a client reports it. So a missing newline cannot make a reader buffer
/// without bound.
pub const MAX_LINE: usize = 64 * 1024;

/// The longest message text a client sends: `Load::max_size` is capped here so that every
/// `MSG` line fits in [`MAX_LINE`].
pub const MAX_TEXT: usize = 60_000;

/// A line a client sends, parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// `JOIN <id>`.
    Join {
        /// The client's id.
        id: u64,
    },
    /// `MSG <id> <seq> <text>`.
    Msg {
        /// The sender's id.
        id: u64,
        /// The message's number among the sender's messages.
        seq: u64,
        /// What it says.
        text: &'a [u8],
    },
}

/// A line the server sends, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// `WELCOME <members> <id>:<n> ...`: the reply to `JOIN`.
    Welcome {
        /// How many clients are in the room, the new one included.
        members: u64,
        /// For every id that ever joined, in increasing order: how many of its messages the
        /// server has broadcast (the next `seq` it will take from that id).
        heard: Vec<(u64, u64)>,
    },
    /// `JOINED <id> <members>`.
    Joined {
        /// Who joined.
        id: u64,
        /// Members now.
        members: u64,
    },
    /// `LEFT <id> <members>`.
    Left {
        /// Who left.
        id: u64,
        /// Members now.
        members: u64,
    },
    /// `MSG <id> <seq> <text>`: a client's message.
    Msg {
        /// The sender.
        id: u64,
        /// Its number among the sender's messages.
        seq: u64,
        /// What it says.
        text: &'a [u8],
    },
}

/// A decimal number of at most 19 digits, nothing else.
fn number(field: Option<&[u8]>, what: &str) -> Result<u64, String> {
    let field = field.ok_or_else(|| format!("missing {what}"))?;
    let digits = !field.is_empty() && field.len() <= 19 && field.iter().all(u8::is_ascii_digit);
    if !digits {
        return Err(format!("{what} is not a number: {:?}", lossy(field)));
    }
    Ok(field.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

/// `line` as text, for error messages (cut at 80 bytes).
pub fn lossy(line: &[u8]) -> String {
    let cut = &line[..line.len().min(80)];
    let more = if line.len() > cut.len() { "..." } else { "" };
    format!("{}{more}", String::from_utf8_lossy(cut))
}

/// Splits `rest` at its first space: the field, and what follows it.
fn field(rest: &[u8]) -> (&[u8], Option<&[u8]>) {
    match rest.iter().position(|&b| b == b' ') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    }
}

/// The `<id> <seq> <text>` of a `MSG` line.
fn msg_fields(rest: Option<&[u8]>) -> Result<(u64, u64, &[u8]), String> {
    let (id, rest) = field(rest.ok_or("MSG without fields")?);
    let id = number(Some(id), "MSG id")?;
    let (seq, text) = field(rest.ok_or("MSG without seq")?);
    let seq = number(Some(seq), "MSG seq")?;
    match text {
        Some(text) if !text.is_empty() => Ok((id, seq, text)),
        _ => Err("MSG without text".into()),
    }
}

/// Parses a client's line (without its newline).
pub fn command(line: &[u8]) -> Result<Command<'_>, String> {
    let (verb, rest) = field(line);
    match verb {
        b"JOIN" => {
            let (id, extra) = field(rest.ok_or("JOIN without id")?);
            if extra.is_some() {
                return Err(format!("JOIN with extra fields: {:?}", lossy(line)));
            }
            Ok(Command::Join {
                id: number(Some(id), "JOIN id")?,
            })
        }
        b"MSG" => {
            let (id, seq, text) = msg_fields(rest)?;
            Ok(Command::Msg { id, seq, text })
        }
        _ => Err(format!("unknown command: {:?}", lossy(line))),
    }
}

/// `<id> <members>`, exactly.
fn id_members(rest: Option<&[u8]>, verb: &str) -> Result<(u64, u64), String> {
    let (id, rest) = field(rest.ok_or_else(|| format!("{verb} without id"))?);
    let id = number(Some(id), &format!("{verb} id"))?;
    let (members, extra) = field(rest.ok_or_else(|| format!("{verb} without members"))?);
    if extra.is_some() {
        return Err(format!("{verb} with extra fields"));
    }
    Ok((id, number(Some(members), &format!("{verb} members"))?))
}

/// `<members> <id>:<n> ...`.
fn welcome(rest: Option<&[u8]>) -> Result<Event<'static>, String> {
    let (members, mut rest) = field(rest.ok_or("WELCOME without members")?);
    let members = number(Some(members), "WELCOME members")?;
    let mut heard = Vec::new();
    while let Some(r) = rest {
        let (pair, next) = field(r);
        let colon = pair.iter().position(|&b| b == b':');
        let colon = colon.ok_or_else(|| format!("WELCOME entry without ':': {:?}", lossy(pair)))?;
        let id = number(Some(&pair[..colon]), "WELCOME id")?;
        let n = number(Some(&pair[colon + 1..]), "WELCOME count")?;
        heard.push((id, n));
        rest = next;
    }
    Ok(Event::Welcome { members, heard })
}

/// Parses a server's line (without its newline).
pub fn event(line: &[u8]) -> Result<Event<'_>, String> {
    let (verb, rest) = field(line);
    match verb {
        b"WELCOME" => welcome(rest),
        b"JOINED" => id_members(rest, "JOINED").map(|(id, members)| Event::Joined { id, members }),
        b"LEFT" => id_members(rest, "LEFT").map(|(id, members)| Event::Left { id, members }),
        b"MSG" => {
            let (id, seq, text) = msg_fields(rest)?;
            Ok(Event::Msg { id, seq, text })
        }
        _ => Err(format!("unknown line: {:?}", lossy(line))),
    }
}

/// `JOIN <id>\n`.
pub fn join(id: u64) -> Vec<u8> {
    format!("JOIN {id}\n").into_bytes()
}

/// `MSG <id> <seq> <text>\n`.
pub fn msg(id: u64, seq: u64, text: &[u8]) -> Vec<u8> {
    let mut line = format!("MSG {id} {seq} ").into_bytes();
    line.extend_from_slice(text);
    line.push(b'\n');
    line
}

/// `WELCOME <members> <id>:<n> ...\n`.
pub fn welcome_line(members: usize, heard: &BTreeMap<u64, u64>) -> Vec<u8> {
    let mut line = format!("WELCOME {members}");
    for (id, n) in heard {
        line.push_str(&format!(" {id}:{n}"));
    }
    line.push('\n');
    line.into_bytes()
}

/// `JOINED <id> <members>\n`.
pub fn joined(id: u64, members: usize) -> Vec<u8> {
    format!("JOINED {id} {members}\n").into_bytes()
}

/// `LEFT <id> <members>\n`.
pub fn left(id: u64, members: usize) -> Vec<u8> {
    format!("LEFT {id} {members}\n").into_bytes()
}

/// The text of client `id`'s message `seq`: lowercase letters, 1 to `max_size` of them (capped
/// at [`MAX_TEXT`], log-uniform), a function of its arguments only, so every receiver knows
/// what each message must say.
pub fn text(id: u64, seq: u64, max_size: usize) -> Vec<u8> {
    let stream = id.wrapping_mul(0x1_0000_0001).wrapping_add(seq);
    let len = Gen(stream ^ 0xc4a7).log_size(max_size.clamp(1, MAX_TEXT));
    (0..len as u64)
        .map(|i| b'a' + pattern(stream, i) % 26)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let line = msg(3, 7, b"hello world");
        assert_eq!(
            event(&line[..line.len() - 1]),
            Ok(Event::Msg {
                id: 3,
                seq: 7,
                text: b"hello world"
            })
        );
        assert_eq!(
            command(&line[..line.len() - 1]),
            Ok(Command::Msg {
                id: 3,
                seq: 7,
                text: b"hello world"
            })
        );
        let heard = BTreeMap::from([(0, 2), (5, 0)]);
        let w = welcome_line(2, &heard);
        assert_eq!(
            event(&w[..w.len() - 1]),
            Ok(Event::Welcome {
                members: 2,
                heard: vec![(0, 2), (5, 0)]
            })
        );
        assert_eq!(command(b"JOIN 12"), Ok(Command::Join { id: 12 }));
    }

    #[test]
    fn malformed_lines_are_errors() {
        for bad in [
            &b""[..],
            b"JOIN",
            b"JOIN x",
            b"JOIN 1 2",
            b"JOIN -1",
            b"MSG 1 2",
            b"MSG 1 2 ",
            b"MSG a 2 hi",
            b"HELLO",
            b"JOIN 99999999999999999999",
        ] {
            assert!(command(bad).is_err(), "{:?}", lossy(bad));
        }
        for bad in [&b"WELCOME"[..], b"WELCOME 1 0", b"JOINED 1", b"LEFT 1 2 3"] {
            assert!(event(bad).is_err(), "{:?}", lossy(bad));
        }
    }

    #[test]
    fn texts_depend_only_on_their_arguments() {
        assert_eq!(text(1, 2, 100), text(1, 2, 100));
        assert_ne!(text(1, 2, 100), text(2, 1, 100));
        for seq in 0..50 {
            let t = text(4, seq, 30);
            assert!((1..=30).contains(&t.len()));
            assert!(t.iter().all(u8::is_ascii_lowercase));
        }
    }
}
