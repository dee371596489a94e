//! The commands: `PING [msg]`, `ECHO msg`, `GET key`, `SET key value`, `DEL key [key ...]`,
//! `DBSIZE`, `QUIT`, and the minimal `COMMAND` and `CONFIG GET` replies that `redis-cli` and
//! `redis-benchmark` ask for when they start. Anything else gets Redis's own
//! `-ERR unknown command` reply.
//!
//! A command reads its arguments in place (ranges into the request's bytes) and appends its
//! reply to the connection's reply buffer: no allocation on the `GET`/`SET` path beyond what the
//! store itself needs.

use std::ops::Range;

use super::reply;
use super::store::Store;

/// What the connection does after a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep serving.
    Continue,
    /// Send what is buffered, then close (`QUIT`, or a protocol error).
    Close,
}

/// Runs the request whose bytes are `req` and whose arguments are `args` (ranges into `req`,
/// at least one), appending the reply to `out`.
pub fn execute(req: &[u8], args: &[Range<usize>], store: &mut Store, out: &mut Vec<u8>) -> Flow {
    let arg = |i: usize| &req[args[i].clone()];
    let name = arg(0);
    let is = |cmd: &[u8]| name.eq_ignore_ascii_case(cmd);
    let n = args.len();
    if is(b"GET") {
        if n != 2 {
            return wrong_arity(out, "get");
        }
        match store.get(arg(1)) {
            Some(v) => reply::bulk(out, v),
            None => reply::null(out),
        }
    } else if is(b"SET") {
        match n {
            3 => {
                store.set(arg(1), arg(2));
                reply::simple(out, b"OK");
            }
            0..=2 => return wrong_arity(out, "set"),
            _ => reply::error(out, "ERR syntax error"),
        }
    } else if is(b"DEL") {
        if n < 2 {
            return wrong_arity(out, "del");
        }
        let removed = (1..n).filter(|&i| store.del(arg(i))).count();
        reply::integer(out, removed as i64);
    } else if is(b"PING") {
        match n {
            1 => reply::simple(out, b"PONG"),
            2 => reply::bulk(out, arg(1)),
            _ => return wrong_arity(out, "ping"),
        }
    } else {
        return rare(Args { req, args }, store, out);
    }
    Flow::Continue
}

/// A request's arguments, for the commands off the hot path.
#[derive(Clone, Copy)]
struct Args<'a> {
    /// The request's bytes.
    req: &'a [u8],
    /// Each argument's range in `req`.
    args: &'a [Range<usize>],
}

impl<'a> Args<'a> {
    /// Argument `i` (0 is the command's name).
    fn get(self, i: usize) -> &'a [u8] {
        &self.req[self.args[i].clone()]
    }
}

/// The commands off the hot path.
fn rare(a: Args<'_>, store: &mut Store, out: &mut Vec<u8>) -> Flow {
    let name = a.get(0);
    let n = a.args.len();
    let arg = |i: usize| a.get(i);
    let is = |cmd: &[u8]| name.eq_ignore_ascii_case(cmd);
    if is(b"ECHO") {
        if n != 2 {
            return wrong_arity(out, "echo");
        }
        reply::bulk(out, arg(1));
    } else if is(b"DBSIZE") {
        reply::integer(out, store.len() as i64);
    } else if is(b"QUIT") {
        reply::simple(out, b"OK");
        return Flow::Close;
    } else if is(b"COMMAND") {
        // redis-cli asks for `COMMAND DOCS` to show hints; an empty answer means "no hints".
        if n >= 2 && arg(1).eq_ignore_ascii_case(b"COUNT") {
            reply::integer(out, 9);
        } else {
            reply::array(out, 0);
        }
    } else if is(b"CONFIG") {
        config(a, out);
    } else {
        unknown(a, out);
    }
    Flow::Continue
}

/// `CONFIG GET param [param ...]`: redis-benchmark asks for `save` and `appendonly` to warn
/// about persistence; this server has none, which is what these answers say. Other
/// parameters are simply not listed (as Redis does for a pattern that matches nothing).
fn config(a: Args<'_>, out: &mut Vec<u8>) {
    let n = a.args.len();
    let arg = |i: usize| a.get(i);
    if n < 2 || !arg(1).eq_ignore_ascii_case(b"GET") {
        let sub = if n < 2 { Vec::new() } else { arg(1).to_vec() };
        let sub = String::from_utf8_lossy(&sub[..sub.len().min(128)]).into_owned();
        reply::error(
            out,
            &format!("ERR unknown subcommand '{sub}'. Try CONFIG HELP."),
        );
        return;
    }
    if n < 3 {
        reply::error(
            out,
            "ERR wrong number of arguments for 'config|get' command",
        );
        return;
    }
    let known: [(&[u8], &[u8]); 2] = [(b"save", b""), (b"appendonly", b"no")];
    let found: Vec<(&[u8], &[u8])> = (2..n)
        .filter_map(|i| known.iter().find(|(k, _)| arg(i).eq_ignore_ascii_case(k)))
        .copied()
        .collect();
    reply::array(out, found.len() * 2);
    for (k, v) in found {
        reply::bulk(out, k);
        reply::bulk(out, v);
    }
}

/// Redis 7's reply to an unknown command, arguments included (each cut to 128 bytes).
fn unknown(a: Args<'_>, out: &mut Vec<u8>) {
    let (name, n) = (a.get(0), a.args.len());
    let arg = |i: usize| a.get(i);
    let show = |b: &[u8]| String::from_utf8_lossy(&b[..b.len().min(128)]).into_owned();
    let mut msg = format!(
        "ERR unknown command '{}', with args beginning with: ",
        show(name)
    );
    for i in 1..n {
        msg.push_str(&format!("'{}' ", show(arg(i))));
    }
    reply::error(out, &msg);
}

/// Redis's reply to a command given the wrong number of arguments.
fn wrong_arity(out: &mut Vec<u8>, cmd: &str) -> Flow {
    reply::error(
        out,
        &format!("ERR wrong number of arguments for '{cmd}' command"),
    );
    Flow::Continue
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::resp::{parse, Parsed};

    /// Runs one inline request and returns the reply's text.
    fn run(store: &mut Store, line: &str) -> (String, Flow) {
        let mut args = Vec::new();
        let req = format!("{line}\r\n");
        assert!(matches!(
            parse(req.as_bytes(), &mut args),
            Ok(Parsed::Request { .. })
        ));
        let mut out = Vec::new();
        let flow = execute(req.as_bytes(), &args, store, &mut out);
        (String::from_utf8(out).expect("utf-8"), flow)
    }

    #[test]
    fn commands_answer_as_redis_does() {
        let mut s = Store::new();
        let cases = [
            ("PING", "+PONG\r\n"),
            ("ping hi", "$2\r\nhi\r\n"),
            ("GET k", "$-1\r\n"),
            ("set k v", "+OK\r\n"),
            ("GET k", "$1\r\nv\r\n"),
            ("DEL k k2", ":1\r\n"),
            ("DBSIZE", ":0\r\n"),
            (
                "GET",
                "-ERR wrong number of arguments for 'get' command\r\n",
            ),
            ("SET k v EX 10", "-ERR syntax error\r\n"),
            ("CONFIG GET save", "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"),
            (
                "CONFIG GET appendonly",
                "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n",
            ),
            ("COMMAND DOCS", "*0\r\n"),
            (
                "FLY me",
                "-ERR unknown command 'FLY', with args beginning with: 'me' \r\n",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(
                run(&mut s, line),
                (want.to_string(), Flow::Continue),
                "{line}"
            );
        }
        assert_eq!(run(&mut s, "QUIT"), ("+OK\r\n".to_string(), Flow::Close));
    }
}
