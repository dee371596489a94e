//! The ecosystem's traits on doppel's types, each behind a cargo feature that costs nothing
//! when off:
//!
//! | module     | feature    | what                                                            |
//! |------------|------------|-----------------------------------------------------------------|
//! | `tokio_io` | `tokio-io` | tokio's `AsyncRead`/`AsyncWrite` on `TcpStream` and `&TcpStream`  |
//! | [`hyper`]  | `hyper`    | hyper's `Read`/`Write`, an `Executor`, a `Timer`, `serve`, `Channel` |
//!
//! Only the traits: tokio never runs here. A library that calls `tokio::spawn`, `tokio::time`
//! or `tokio::net` itself needs tokio's runtime and does not run on doppel.

#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "tokio-io")]
mod tokio_io;
