//! TCP and UDP over the current reactor: [`TcpListener`], [`TcpStream`] and [`UdpSocket`].
//!
//! Every call is non-blocking underneath and goes through the one retry loop (EINTR retried,
//! `WouldBlock` parks the task until an edge, `ECONNABORTED` at accept retried, connect through
//! writability and `SO_ERROR`). Methods take `&self`, so one task can read while another writes
//! or closes; a close wakes every task parked on the socket with an error at once.
//!
//! Addresses are literal `IP:port` (see [`ToSocketAddr`]): doppel never resolves names, because
//! a DNS lookup would reach outside the simulated world.

mod addr;
pub(crate) mod chunk;
mod detach;
mod listener;
mod serve;
mod stream;
mod udp;

pub use addr::{name_not_known, ToSocketAddr};
pub use chunk::{Chunk, CHUNK_SIZE};
pub use detach::Detached;
pub use listener::{Accept, TcpListener};
pub use serve::{serve, serve_with, ServeOptions};
pub use stream::{Read, ReadChunk, TcpStream, WaitReady, Write, WriteAll};
pub use udp::UdpSocket;
