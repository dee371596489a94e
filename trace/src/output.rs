//! Writing a result file (a trace, a sweep's JSON) without clobbering what is not one: at once
//! ([`write_output`]) or as it goes ([`StreamOutput`]).
//!
//! A regular file, or a path where nothing is yet, is replaced whole or not at all: the bytes go
//! to a temporary file beside it (`.NAME.XXXXXX.doppel-partial`, a unique name per writer, so
//! two runs writing the same path never collide), synced, then renamed over it. A symlink is
//! followed first, so the link stays a link and its target gets the new content. Anything else
//! (a device such as `/dev/null`, a FIFO, a terminal) is written through, never replaced. The
//! names of the writer's own open files (`/dev/stdout`, `/dev/stderr`, `/dev/fd/N`,
//! `/proc/self/fd/N`) are written through that file, after what the process already wrote
//! there: `doppel run ... --trace /dev/stdout > out` keeps the summary and adds the trace. A
//! temporary file is removed on every error; a process killed mid-write leaves at most that
//! one, clearly named, beside the target.

use std::fs::{self, OpenOptions, Permissions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Symlinks followed at most before giving up, as the kernel does (`ELOOP`).
const MAX_LINKS: usize = 40;

/// What a path names, once its symlinks are followed.
enum Target {
    /// A regular file, or nothing yet: replaced atomically at this path.
    File {
        /// The path the temporary file is renamed to (symlinks resolved).
        path: PathBuf,
        /// The permissions the file had, kept by the replacement.
        keep: Option<Permissions>,
    },
    /// A device, FIFO or socket: written through.
    Special,
    /// One of the writer's own open files, by name: appended to (see the module docs).
    Own(Own),
}

/// Which of the process's open files a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Own {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
    /// Another descriptor, opened again by its name, for appending.
    Other,
}

/// Whether `path` names one of the process's own open files.
fn own_file(path: &Path) -> Option<Own> {
    let p = path.to_str()?;
    match p {
        "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1" => Some(Own::Stdout),
        "/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2" => Some(Own::Stderr),
        _ if p.starts_with("/dev/fd/") || p.starts_with("/proc/self/fd/") => Some(Own::Other),
        _ => None,
    }
}

/// Writes `bytes` to `path`: a regular file (or a new one) is replaced whole or not at all, a
/// device, FIFO or `/dev/stdout` is written through (see the module docs).
pub fn write_output(path: &Path, bytes: &[u8]) -> io::Result<()> {
    match target(path)? {
        Target::Special => OpenOptions::new().write(true).open(path)?.write_all(bytes),
        Target::Own(Own::Stdout) => {
            let mut out = io::stdout().lock();
            out.write_all(bytes).and_then(|()| out.flush())
        }
        Target::Own(Own::Stderr) => io::stderr().lock().write_all(bytes),
        Target::Own(Own::Other) => OpenOptions::new().append(true).open(path)?.write_all(bytes),
        Target::File { path, keep } => replace(&path, bytes, keep),
    }
}

/// A result file written as it goes, with [`write_output`]'s rules: for a regular file (or a
/// new one) the bytes go to a temporary file beside it and replace it at [`StreamOutput::finish`]
/// (dropped unfinished, the temporary file is removed and `path` is untouched); a device, FIFO
/// or one of the process's own files is written through.
pub struct StreamOutput {
    /// Where the bytes go.
    to: Sink,
}

/// A [`StreamOutput`]'s destination.
enum Sink {
    /// The temporary file, and the path it replaces.
    Temp(io::BufWriter<tempfile::NamedTempFile>, PathBuf),
    /// Written through.
    Through(io::BufWriter<Box<dyn Write + Send>>),
}

impl StreamOutput {
    /// Opens `path` for writing as it goes (see the type's docs). The error names no path.
    pub fn create(path: &Path) -> io::Result<StreamOutput> {
        let through = |w: Box<dyn Write + Send>| Sink::Through(io::BufWriter::new(w));
        let to = match target(path)? {
            Target::Special => through(Box::new(OpenOptions::new().write(true).open(path)?)),
            Target::Own(Own::Stdout) => through(Box::new(io::stdout())),
            Target::Own(Own::Stderr) => through(Box::new(io::stderr())),
            Target::Own(Own::Other) => {
                through(Box::new(OpenOptions::new().append(true).open(path)?))
            }
            Target::File { path, keep } => {
                Sink::Temp(io::BufWriter::new(temp_in(&path, keep)?), path)
            }
        };
        Ok(StreamOutput { to })
    }

    /// Flushes everything; a regular file is synced and renamed over its path.
    pub fn finish(self) -> io::Result<()> {
        match self.to {
            Sink::Through(mut w) => w.flush(),
            Sink::Temp(w, path) => {
                let tmp = w.into_inner().map_err(io::IntoInnerError::into_error)?;
                tmp.as_file().sync_all()?;
                tmp.persist(&path).map(drop).map_err(|e| e.error)
            }
        }
    }
}

impl Write for StreamOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.to {
            Sink::Temp(w, _) => w.write(buf),
            Sink::Through(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.to {
            Sink::Temp(w, _) => w.flush(),
            Sink::Through(w) => w.flush(),
        }
    }
}

impl std::fmt::Debug for StreamOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.to {
            Sink::Temp(_, path) => format!("replacing {}", path.display()),
            Sink::Through(_) => "written through".to_string(),
        };
        f.debug_struct("StreamOutput").field("to", &kind).finish()
    }
}

/// Checks, before a long run, that [`write_output`] could write `path`: it is no folder, its
/// folder exists and takes a new file (a device must open for writing). Leaves nothing behind.
pub fn check_writable(path: &Path) -> io::Result<()> {
    match target(path)? {
        Target::Own(Own::Stdout | Own::Stderr) => Ok(()),
        Target::Own(Own::Other) => OpenOptions::new().append(true).open(path).map(drop),
        Target::Special => {
            if fs::metadata(path).is_ok_and(|m| is_fifo(&m)) {
                // Opening a FIFO waits for its reader, which may start later: its type is enough.
                return Ok(());
            }
            OpenOptions::new().write(true).open(path).map(drop)
        }
        Target::File { path, .. } => temp_in(&path, None).map(drop),
    }
}

/// Classifies `path` (see [`Target`]); a folder is an error.
fn target(path: &Path) -> io::Result<Target> {
    if path.as_os_str().is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "an empty path"));
    }
    let real = follow_links(path)?;
    if let Some(own) = own_file(&real) {
        return Ok(Target::Own(own));
    }
    match fs::metadata(&real) {
        Ok(m) if m.is_dir() => Err(io::Error::from_raw_os_error(libc::EISDIR)),
        Ok(m) if m.is_file() => Ok(Target::File {
            path: real,
            keep: Some(m.permissions()),
        }),
        Ok(_) => Ok(Target::Special),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Target::File {
            path: real,
            keep: None,
        }),
        Err(e) => Err(e),
    }
}

/// The path `path`'s chain of symlinks ends at (which may not exist yet: a dangling link is
/// followed to where its target would be), or the name of one of the process's own open files
/// met on the way (their links, such as `pipe:[123]`, name no path).
fn follow_links(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        if own_file(&p).is_some() {
            return Ok(p);
        }
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            Ok(_) => return Ok(p),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(p),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::from_raw_os_error(libc::ELOOP))
}

/// A new, uniquely named temporary file beside `path`, with `keep`'s permissions (or a new
/// file's: 0666 less the umask). Dropped, it is removed.
fn temp_in(path: &Path, keep: Option<Permissions>) -> io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
    let prefix = format!(".{}.", name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".doppel-partial");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(Permissions::from_mode(0o666));
    }
    // A missing folder fails here with the OS's own error: tempfile's would name its random
    // temporary path instead of the one the user gave.
    fs::metadata(dir)?;
    let tmp = builder.tempfile_in(dir)?;
    if let Some(p) = keep {
        tmp.as_file().set_permissions(p)?;
    }
    Ok(tmp)
}

/// Writes `bytes` to a temporary file beside `path`, syncs it, and renames it over `path`.
fn replace(path: &Path, bytes: &[u8], keep: Option<Permissions>) -> io::Result<()> {
    let mut tmp = temp_in(path, keep)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map(drop).map_err(|e| e.error)
}

/// Whether `m` is a FIFO's.
#[cfg(unix)]
fn is_fifo(m: &fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    m.file_type().is_fifo()
}

/// Whether `m` is a FIFO's (no FIFOs here).
#[cfg(not(unix))]
fn is_fifo(_: &fs::Metadata) -> bool {
    false
}
