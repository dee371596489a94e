//! `Trace`: a run's records with a header saying what produced them; rendering, comparison,
//! and writing to a file without ever leaving a partial one.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::record::{Kind, Store};
use crate::render;

/// What produced a trace. Rendered as its first line; never part of a snapshot or a
/// comparison (the commit and the compiler change between builds, the run does not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The seed, for simulated runs.
    pub seed: Option<u64>,
    /// The fault plan, as a spec (`none`, `short-read=0.1,...`).
    pub faults: String,
    /// `sim` or `real`.
    pub backend: String,
    /// doppel's version.
    pub doppel: &'static str,
    /// The git commit doppel was built from, or `unknown`.
    pub commit: &'static str,
    /// The compiler that built it.
    pub rustc: &'static str,
}

impl Header {
    /// A header for a run of `backend`.
    pub fn new(backend: &str, seed: Option<u64>, faults: impl Into<String>) -> Header {
        Header {
            seed,
            faults: faults.into(),
            backend: backend.into(),
            doppel: env!("CARGO_PKG_VERSION"),
            commit: env!("DOPPEL_GIT_COMMIT"),
            rustc: env!("DOPPEL_RUSTC_VERSION"),
        }
    }
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seed = self.seed.map_or_else(|| "-".to_string(), |s| s.to_string());
        write!(
            f,
            "# doppel trace backend={} seed={seed} faults={} doppel={} commit={} rustc={:?}",
            self.backend, self.faults, self.doppel, self.commit, self.rustc
        )
    }
}

/// Where two traces first differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The index of the first differing record.
    pub index: usize,
    /// The first trace's line there (`None`: it had ended).
    pub first: Option<String>,
    /// The second trace's line there.
    pub second: Option<String>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |l: &Option<String>| l.clone().unwrap_or_else(|| "(trace ended)".into());
        write!(
            f,
            "the runs diverge at event {}:\n  first:  {}\n  second: {}",
            self.index,
            show(&self.first),
            show(&self.second)
        )
    }
}

/// The events around one injected fault ([`Trace::around`]); its `Display` marks the fault's
/// line with `>>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Around {
    /// The fault, as asked for.
    pub fault: String,
    /// The index of the first line shown.
    pub first: usize,
    /// The index of the fault's line.
    pub at: usize,
    /// How many events the trace holds.
    pub total: usize,
    /// The lines, from `first`.
    pub lines: Vec<String>,
}

impl fmt::Display for Around {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "events {}..{} of {}, around {}:",
            self.first,
            self.first + self.lines.len(),
            self.total,
            self.fault
        )?;
        for (i, line) in self.lines.iter().enumerate() {
            let mark = if self.first + i == self.at {
                ">>"
            } else {
                "  "
            };
            write!(f, "\n  {mark}{line}")?;
        }
        Ok(())
    }
}

/// Text or JSON lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One line per event, after a `#` header line.
    Text,
    /// One JSON object per line, after a `{"header": ...}` line.
    Json,
}

/// A recorded run.
#[derive(Clone, Debug)]
pub struct Trace {
    /// What produced it.
    pub header: Header,
    /// What it recorded.
    pub store: Store,
}

impl Trace {
    /// A trace of `store` with `header`.
    pub fn new(header: Header, store: Store) -> Trace {
        Trace { header, store }
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// Record `i` as a text line.
    pub fn line(&self, i: usize) -> Option<String> {
        self.store.entry(i).map(|e| render::line(&e))
    }

    /// Every record as a text line.
    pub fn lines(&self) -> Vec<String> {
        self.store.entries().map(|e| render::line(&e)).collect()
    }

    /// The body (no header), one line per record: what snapshots and comparisons use.
    pub fn body(&self) -> String {
        let mut out = self.lines().join("\n");
        out.push('\n');
        out
    }

    /// The last `n` lines.
    pub fn tail(&self, n: usize) -> Vec<String> {
        let start = self.len().saturating_sub(n);
        self.store
            .entries_from(start)
            .map(|e| render::line(&e))
            .collect()
    }

    /// The whole trace in `format`, header first.
    pub fn render(&self, format: Format) -> String {
        let mut out = String::new();
        match format {
            Format::Text => {
                out.push_str(&header_line(&self.header, format));
                out.push_str(&self.body());
            }
            Format::Json => {
                out.push_str(&header_line(&self.header, format));
                for e in self.store.entries() {
                    out.push_str(&render::json(&e));
                    out.push('\n');
                }
            }
        }
        out
    }

    /// Only the records of `target` (for example `doppel::net`), as lines.
    pub fn lines_of(&self, target: &str) -> Vec<String> {
        self.store
            .entries()
            .filter(|e| e.target == target && e.kind == Kind::Event)
            .map(|e| render::line(&e))
            .collect()
    }

    /// The `n` events around the injected fault `fault` (named `CLASS@SITE:OP`, as a failure
    /// prints it), or `None` if it did not fire in this run.
    ///
    /// ```
    /// # use doppel_trace::{Header, Store, Trace};
    /// let trace = Trace::new(Header::new("sim", Some(1), "none"), Store::default());
    /// assert!(trace.around("short-write@c0:49152/server:7000:3", 10).is_none());
    /// ```
    pub fn around(&self, fault: &str, n: usize) -> Option<Around> {
        let (class, rest) = fault.trim().split_once('@')?;
        let (site, op) = rest.rsplit_once(':')?;
        let (class, site, op) = (
            format!(" fault {class} "),
            format!(" site={site} "),
            format!(" op={op}"),
        );
        let lines = self.lines();
        let at = lines.iter().position(|l| {
            l.contains(&class)
                && l.contains(&site)
                && (l.ends_with(&op) || l.contains(&format!("{op} ")))
        })?;
        let first = at.saturating_sub(n / 2);
        let end = (at + n - n / 2).min(lines.len()).max(at + 1);
        Some(Around {
            fault: fault.trim().to_string(),
            first,
            at,
            total: lines.len(),
            lines: lines[first..end].to_vec(),
        })
    }

    /// Where this trace and `other` first differ, if they do.
    pub fn diverges_from(&self, other: &Trace) -> Option<Divergence> {
        let (mut a, mut b) = (self.store.entries(), other.store.entries());
        let n = self.len().max(other.len());
        (0..n).find_map(|i| {
            let (x, y) = (a.next(), b.next());
            let (x, y) = (x.map(|e| render::line(&e)), y.map(|e| render::line(&e)));
            (x != y).then_some(Divergence {
                index: i,
                first: x,
                second: y,
            })
        })
    }

    /// Writes the trace to `path` with [`crate::write_output`]: a regular file is replaced
    /// whole or not at all, a device or `/dev/stdout` is written through. The error names the
    /// path.
    pub fn write(&self, path: &Path, format: Format) -> io::Result<()> {
        crate::output::write_output(path, self.render(format).as_bytes()).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("writing trace to {}: {e}", path.display()),
            )
        })
    }
}

/// The header's line (with its newline) in `format`: what a trace file starts with.
pub(crate) fn header_line(h: &Header, format: Format) -> String {
    match format {
        Format::Text => format!("{h}\n"),
        Format::Json => format!("{}\n", header_json(h)),
    }
}

/// Appends a record's line (with its newline) in `format` to `out`.
pub(crate) fn push_entry_line(out: &mut String, e: &crate::record::Entry<'_>, format: Format) {
    match format {
        Format::Text => render::line_into(out, e),
        Format::Json => out.push_str(&render::json(e)),
    }
    out.push('\n');
}

/// The header as one JSON line.
fn header_json(h: &Header) -> String {
    let seed = h.seed.map_or_else(|| "null".to_string(), |s| s.to_string());
    format!(
        "{{\"header\":{{\"backend\":{:?},\"seed\":{seed},\"faults\":{:?},\"doppel\":{:?},\"commit\":{:?},\"rustc\":{:?}}}}}",
        h.backend, h.faults, h.doppel, h.commit, h.rustc
    )
}

/// Where failing runs' traces go: `target/doppel-traces/` of the build running now (found
/// from the test binary's path), or the system's temporary folder.
pub fn trace_dir() -> PathBuf {
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        exe.ancestors()
            .find(|p| p.file_name().is_some_and(|n| n == "target"))
            .map(Path::to_path_buf)
    });
    from_exe
        .unwrap_or_else(std::env::temp_dir)
        .join("doppel-traces")
}

/// Checks a snapshot name: letters, digits, `-` and `_`, at most 100 characters.
pub fn snapshot_name_ok(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "doppel: snapshot name {name:?} is not usable: use 1 to 100 letters, digits, '-' or '_'"
        ))
    }
}
