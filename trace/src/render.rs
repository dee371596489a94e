//! Rendering records: one stable text line per record, or one JSON object per line. No
//! pointers, no wall time, no hash order: the same run renders the same bytes.

use std::fmt::Write;

use crate::errno;
use crate::record::{Entry, Kind, Value};

/// Seconds with nine decimals: `0.001250000`.
pub fn secs(ns: u64) -> String {
    let mut out = String::with_capacity(20);
    push_secs(&mut out, ns);
    out
}

/// Appends [`secs`]'s text.
fn push_secs(out: &mut String, ns: u64) {
    push_u64(out, ns / 1_000_000_000);
    out.push('.');
    let frac = ns % 1_000_000_000;
    let mut digits = [b'0'; 9];
    let mut n = frac;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend(digits.iter().map(|&d| char::from(d)));
}

/// Appends `n` in decimal, without the formatting machinery (a trace renders millions).
fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(buf[i..].iter().map(|&d| char::from(d)));
}

/// Appends `n` in decimal.
fn push_i64(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_u64(out, n.unsigned_abs());
}

/// The readiness bits of a `ready` field, as `r|w|rdhup|hup|err`.
fn ready_bits(bits: u64) -> String {
    let names = ["r", "w", "rdhup", "hup", "err"];
    let set: Vec<&str> = (0..5)
        .filter(|i| bits & (1 << i) != 0)
        .map(|i| names[i])
        .collect();
    if set.is_empty() {
        "-".into()
    } else {
        set.join("|")
    }
}

/// The short target: `net` for `doppel::net`, a user's target as it is.
fn target(r: &Entry<'_>) -> &'static str {
    let t = r.target;
    t.strip_prefix("doppel::").unwrap_or(t)
}

/// Whether the callsite has a name of its own (runtime events do; a plain `info!` does not).
fn named(r: &Entry<'_>) -> bool {
    !r.name.starts_with("event ")
}

/// Writes one field value, with doppel's fields made readable.
fn value(out: &mut String, key: &str, v: &Value, runtime: bool) {
    let _ = match (key, v) {
        ("errno", Value::I64(e)) if runtime => match errno::name(*e) {
            Some(n) => write!(out, "{n}"),
            None => write!(out, "{e}"),
        },
        ("ready", Value::U64(b)) if runtime => {
            out.push_str(&ready_bits(*b));
            Ok(())
        }
        ("dir", Value::U64(d)) if runtime => {
            write!(out, "{}", if *d == 0 { "read" } else { "write" })
        }
        (k, Value::U64(n)) if runtime && k.ends_with("_ns") => {
            push_secs(out, *n);
            Ok(())
        }
        (k, Value::I64(n)) if runtime && k.ends_with("_ns") && *n >= 0 => {
            push_secs(out, *n as u64);
            Ok(())
        }
        (k, Value::I64(_)) if runtime && k.ends_with("_ns") => write!(out, "none"),
        (_, Value::U64(n)) => {
            push_u64(out, *n);
            Ok(())
        }
        (_, Value::I64(n)) => {
            push_i64(out, *n);
            Ok(())
        }
        (_, Value::Bool(b)) => write!(out, "{b}"),
        (_, Value::F64(f)) => write!(out, "{f}"),
        (_, Value::Str(s))
            if s.is_empty() || s.contains(|c: char| c.is_whitespace() || c == '"') =>
        {
            write!(out, "{s:?}")
        }
        (_, Value::Str(s)) => write!(out, "{s}"),
    };
}

/// One record as a text line: `time host#reactor task target name fields`.
pub fn line(r: &Entry<'_>) -> String {
    let mut out = String::with_capacity(64);
    line_into(&mut out, r);
    out
}

/// Appends [`line()`]'s text to `out` (no newline): a streaming trace reuses one buffer.
pub fn line_into(out: &mut String, r: &Entry<'_>) {
    match r.time {
        Some(t) => push_secs(out, t),
        None => out.push('-'),
    }
    out.push(' ');
    match r.host {
        Some(h) => {
            out.push_str(h);
            out.push('#');
            push_u64(out, u64::from(r.reactor));
        }
        None => out.push('-'),
    }
    match r.task {
        Some(t) => {
            out.push_str(" t");
            push_u64(out, t);
            out.push(' ');
        }
        None => out.push_str(" - "),
    }
    out.push_str(target(r));
    let runtime = r.target.starts_with("doppel");
    let fields = &r.fields;
    match r.kind {
        Kind::Enter => {
            out.push_str(" enter ");
            out.push_str(r.name);
        }
        Kind::Exit => {
            out.push_str(" exit ");
            out.push_str(r.name);
        }
        Kind::Event if named(r) => {
            out.push(' ');
            out.push_str(r.name);
        }
        Kind::Event => {}
    }
    for (k, v) in fields {
        out.push(' ');
        if *k != "message" {
            let key = if runtime {
                k.strip_suffix("_ns").unwrap_or(k)
            } else {
                k
            };
            out.push_str(key);
            out.push('=');
        }
        value(out, k, v, runtime);
    }
}

/// A JSON string literal.
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// One record as a JSON object on one line.
pub fn json(r: &Entry<'_>) -> String {
    let mut out = String::with_capacity(128);
    out.push_str("{\"time_ns\":");
    match r.time {
        Some(t) => {
            let _ = write!(out, "{t}");
        }
        None => out.push_str("null"),
    }
    out.push_str(",\"host\":");
    match r.host {
        Some(h) => json_str(&mut out, h),
        None => out.push_str("null"),
    }
    let _ = write!(out, ",\"reactor\":{},\"task\":", r.reactor);
    match r.task {
        Some(t) => {
            let _ = write!(out, "{t}");
        }
        None => out.push_str("null"),
    }
    out.push_str(",\"kind\":");
    json_str(
        &mut out,
        match r.kind {
            Kind::Event => "event",
            Kind::Enter => "enter",
            Kind::Exit => "exit",
        },
    );
    out.push_str(",\"target\":");
    json_str(&mut out, r.target);
    out.push_str(",\"name\":");
    json_str(
        &mut out,
        if named(r) || r.kind != Kind::Event {
            r.name
        } else {
            ""
        },
    );
    out.push_str(",\"fields\":{");
    for (i, (k, v)) in r.fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_str(&mut out, k);
        out.push(':');
        match v {
            Value::U64(n) => {
                let _ = write!(out, "{n}");
            }
            Value::I64(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Value::F64(f) if f.is_finite() => {
                let _ = write!(out, "{f}");
            }
            Value::F64(_) => out.push_str("null"),
            Value::Str(s) => json_str(&mut out, s),
        }
    }
    out.push_str("}}");
    out
}
