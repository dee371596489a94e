//! `kv`: a key-value server speaking a subset of the Redis protocol (RESP2: `PING`, `ECHO`,
//! `GET`, `SET`, `DEL`, `DBSIZE`, `QUIT`, and the `COMMAND` and `CONFIG GET` replies clients ask
//! for at start-up), so `redis-cli` and `redis-benchmark` talk to it unchanged; its checking
//! client; and two buggy twins, one with a deadline mistake and one with a race between
//! reactors. The server runs unchanged on a plain runtime and on a group of reactors.
//!
//! | file          | what                                                                  |
//! |---------------|-----------------------------------------------------------------------|
//! | `resp.rs`     | the incremental, in-place request parser (multi-bulk and inline)      |
//! | `reply.rs`    | reply encoding (server) and decoding (client)                         |
//! | `store.rs`    | the ordered map the connections share (`Arc<Mutex<_>>`)               |
//! | `command.rs`  | the commands                                                          |
//! | `server.rs`   | `serve`, per-connection pipelining, request and idle deadlines         |
//! | `admission.rs`| the `admission-race` twin's hand-written accept loop and its count     |
//! | `model.rs`    | what a client knows about its keys, exact across lost replies          |
//! | `client.rs`   | the checking client                                                   |
//!
//! The first twin, `deadline-close`, arms a slow request's deadline with `set_deadline` (both
//! halves, Go's `SetDeadline`) where the server means `set_read_deadline`. Nothing clears the
//! write half, so once that instant passes every reply's write fails at once with `TimedOut`,
//! and the handler ends the connection as it does for any deadline, after the request it
//! answers has run: a `SET` is applied and its client sees an orderly close instead of `+OK`.
//! On loopback a small request never arrives in pieces, so the twin never arms that deadline
//! and passes; in the simulator, segments split requests, stalls stretch the run past the
//! deadline, and the client's read-back finds the applied write.
//!
//! The second twin, `admission-race`, does by hand what `doppel::net::serve` does for a group
//! (count live connections, refuse beyond `max_connections`, hand the rest to sub-reactors) and
//! gets the count wrong across reactors: see [`admission`].

use std::net::SocketAddr;
use std::time::Duration;

use doppel::net::TcpListener;

use crate::workload::{self, Load, Task, Workload};

pub mod admission;
pub mod client;
pub mod command;
pub mod model;
pub mod reply;
pub mod resp;
pub mod server;
pub mod store;

pub use server::{serve, Config};
pub use store::{Shared, Store};

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Read deadlines only; every request read is answered before any close.
    Correct,
    /// Arms the request deadline on both halves and never clears the write half: a later
    /// reply's write times out after its request ran, and the connection closes without it.
    DeadlineClose,
    /// Counts live connections for admission with a check-then-act across the hand-off to a
    /// sub-reactor: a departure recorded meanwhile is lost, the count creeps up, and clients
    /// are refused with room to spare ([`admission`]).
    AdmissionRace,
}

/// The deadlines the workload's server runs with, on both backends: a request must arrive
/// within a second of its first byte (short enough that the simulator's stalls, up to half a
/// second each, reach it), and a connection idle for ten seconds is closed.
pub const WORKLOAD_CONFIG: Config = Config {
    idle_timeout: Duration::from_secs(10),
    request_timeout: Duration::from_secs(1),
    max_reply_bytes: server::DEFAULT_MAX_REPLY,
};

/// The `kv` workload.
#[derive(Clone, Copy, Debug)]
pub struct Kv;

/// The variants as the registry lists them: correct, then the twins.
const VARIANTS: [workload::Variant; 3] = [
    workload::CORRECT,
    workload::Variant {
        name: "deadline-close",
        about: "arms a slow request's deadline with set_deadline (read and write, Go's \
                SetDeadline) and never clears the write half; a later reply's write times out \
                after its request ran, and the connection closes without the reply (a deadline \
                that outlives its request: yunge/sphinx#11, percipia/eslgo#35; F18's stale \
                timer, Haivision/srtgo#63)",
    },
    workload::Variant {
        name: "admission-race",
        about: admission::ABOUT,
    },
];

impl Workload for Kv {
    /// Its own assertions: the binary holds every built-in workload's.
    fn coverage_scope(&self) -> &'static [&'static str] {
        &["doppel_scenarios::kv"]
    }

    fn name(&self) -> &'static str {
        "kv"
    }

    fn about(&self) -> &'static str {
        "a Redis-protocol key-value server (GET/SET/DEL, pipelined); lost replies checked exactly"
    }

    fn variants(&self) -> &'static [workload::Variant] {
        &VARIANTS
    }

    fn port(&self) -> u16 {
        6379
    }

    fn server(&self, variant: usize, listener: TcpListener) -> Task {
        let v = match variant {
            1 => Variant::DeadlineClose,
            2 => Variant::AdmissionRace,
            _ => Variant::Correct,
        };
        Box::pin(serve(listener, store::shared(), WORKLOAD_CONFIG, v))
    }

    fn client(&self, server: SocketAddr, id: u64, load: &Load) -> Task {
        let plan = client::Plan {
            rounds: load.rounds,
            pipeline: load.pipeline,
            max_size: load.max_size,
            reconnects: load.reconnects,
            deadline: load.deadline,
            keys: 4,
        };
        Box::pin(client::run(server, id, plan))
    }
}
