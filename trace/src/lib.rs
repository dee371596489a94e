//! doppel-trace: every event of a run, runtime's and user's, in one ordered trace.
//!
//! A [`Collector`] is a `tracing-subscriber` layer; [`capture`] installs it around a closure.
//! Records are kept compact and unformatted; a [`Trace`] renders them as stable text lines
//! (`0.001250000 server#0 t3 net read fd=7 n=64`) or JSON lines, compares two runs
//! ([`Trace::diverges_from`]), and writes itself without clobbering ([`write_output`]).
//!
//! # Module map
//!
//! | module      | what                                                              |
//! |-------------|-------------------------------------------------------------------|
//! | `collector` | [`Collector`], the layer, and [`capture`]                         |
//! | `stream`    | [`capture_to`]: a trace written as it goes, in bounded memory     |
//! | `packed`    | packed trace files: [`capture_packed`] writes them, [`render_packed`] renders them |
//! | `spill`     | the records a streaming collector hands on once they fill [`STREAM_BYTES`] |
//! | `record`    | [`Store`], [`Entry`]: records in one byte stream, checkpointed  |
//! | `codec`     | the byte encoding: header, varints, time as a delta             |
//! | `render`    | text and JSON lines                                               |
//! | `trace`     | [`Trace`], [`Header`], [`Divergence`], [`Around`], [`trace_dir`]  |
//! | `errno`     | errno names for traces                                            |
//! | `output`    | [`write_output`], [`StreamOutput`]: atomic for a regular file, through for a device |
//!
//! With the `snapshots` feature, `assert_trace_snapshot!` snapshots a trace's body with insta
//! into the calling crate's `snapshots/` folder.

mod codec;
mod collector;
pub mod errno;
mod output;
mod packed;
mod record;
pub mod render;
mod spill;
mod stream;
mod trace;

pub use collector::{capture, Collector};
pub use output::{check_writable, write_output, StreamOutput};
pub use packed::{render_packed, PACKED_MAGIC};
pub use record::{Entries, Entry, Kind, Store, Value, CHECKPOINT};
pub use spill::STREAM_BYTES;
pub use stream::{capture_packed, capture_to};
pub use trace::{snapshot_name_ok, trace_dir, Around, Divergence, Format, Header, Trace};

#[cfg(feature = "snapshots")]
#[doc(hidden)]
pub use insta as __insta;

/// Snapshots a [`Trace`]'s body (no header: the commit and compiler change between builds) with
/// insta, as `snapshots/NAME.snap` beside the calling crate's `Cargo.toml`. Review changes with
/// `cargo insta review`. A name other than letters, digits, `-` and `_` is refused with a clear
/// panic before anything is written.
#[cfg(feature = "snapshots")]
#[macro_export]
macro_rules! assert_trace_snapshot {
    ($name:expr, $trace:expr) => {{
        let name: &str = &$name;
        if let Err(e) = $crate::snapshot_name_ok(name) {
            panic!("{e}");
        }
        let body = $trace.body();
        let mut settings = $crate::__insta::Settings::clone_current();
        settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.bind(|| $crate::__insta::assert_snapshot!(name, body));
    }};
}
