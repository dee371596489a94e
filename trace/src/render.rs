//! Rendering records: one stable text line per record, or one JSON object per line. No
//! pointers, no wall time, no hash order: the same run renders the same bytes.

use std::fmt::Write;

use crate::errno;
use crate::record::{Entry, Kind, Value};

/// Seconds with nine decimals: `0.001250000`.
pub fn secs(ns: u64) -> String {
    format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000)
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
        ("ready", Value::U64(b)) if runtime => write!(out, "{}", ready_bits(*b)),
        ("dir", Value::U64(d)) if runtime => {
            write!(out, "{}", if *d == 0 { "read" } else { "write" })
        }
        (k, Value::U64(n)) if runtime && k.ends_with("_ns") => write!(out, "{}", secs(*n)),
        (k, Value::I64(n)) if runtime && k.ends_with("_ns") && *n >= 0 => {
            write!(out, "{}", secs(*n as u64))
        }
        (k, Value::I64(_)) if runtime && k.ends_with("_ns") => write!(out, "none"),
        (_, Value::U64(n)) => write!(out, "{n}"),
        (_, Value::I64(n)) => write!(out, "{n}"),
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
    match r.time {
        Some(t) => out.push_str(&secs(t)),
        None => out.push('-'),
    }
    out.push(' ');
    match r.host {
        Some(h) => {
            let _ = write!(out, "{h}#{}", r.reactor);
        }
        None => out.push('-'),
    }
    match r.task {
        Some(t) => {
            let _ = write!(out, " t{t} ");
        }
        None => out.push_str(" - "),
    }
    out.push_str(target(r));
    let runtime = r.target.starts_with("doppel");
    let fields = &r.fields;
    match r.kind {
        Kind::Enter => {
            let _ = write!(out, " enter {}", r.name);
        }
        Kind::Exit => {
            let _ = write!(out, " exit {}", r.name);
        }
        Kind::Event if named(r) => {
            let _ = write!(out, " {}", r.name);
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
            let _ = write!(out, "{key}=");
        }
        value(&mut out, k, v, runtime);
    }
    out
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
