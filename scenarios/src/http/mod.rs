//! `http`: an axum REST service (a versioned key-value store with JSON bodies, keep-alive, a
//! request timeout) served through hyper on doppel (`doppel::compat::hyper`), its checking hyper
//! client, and a buggy twin.
//!
//! | file        | what                                                                    |
//! |-------------|-------------------------------------------------------------------------|
//! | `app.rs`    | the axum `Router`: `PUT` and `GET /kv/{key}`, a request-timeout layer    |
//! | `server.rs` | serving it: the correct server and the `conn-age` twin                  |
//! | `client.rs` | the checking client: versioned writes, exact reads, retries after resets |
//!
//! Writes carry a version the client chooses, and the store keeps the highest it has seen, so a
//! write may be retried after a reset (or arrive late from a dead connection) and still be
//! applied at most once, in order: a read must show the newest acknowledged version or a newer
//! one, with the value that version wrote. A connection the server closes in an orderly way
//! while a request waits for its response is a failure: a correct server answers every request
//! it reads before it closes.
//!
//! The twin, `conn-age`, caps a connection's age the way fasthttp#321 reports: it arms a
//! write deadline of accept time + 300 ms on each connection, so a request that arrives shortly
//! before that age runs, and its response's write times out; hyper then closes the connection
//! without the response. On loopback a client's whole run takes a few milliseconds and never
//! meets the deadline; in the simulator, stalled links stretch a run past it.

use std::net::SocketAddr;

use doppel::net::TcpListener;

use crate::workload::{Load, Task, Variant, Workload, CORRECT};

pub mod app;
pub mod client;
pub mod server;

/// The workload.
#[derive(Debug)]
pub struct Http;

/// The servers.
const VARIANTS: [Variant; 2] = [
    CORRECT,
    Variant {
        name: "conn-age",
        about: "a connection-age write deadline cuts responses to requests that arrive late in a \
                connection's life: the server closes with the request answered by nothing \
                (valyala/fasthttp#321)",
    },
];

impl Workload for Http {
    /// Its own assertions: the binary holds every built-in workload's.
    fn coverage_scope(&self) -> &'static [&'static str] {
        &["doppel_scenarios::http"]
    }

    fn name(&self) -> &'static str {
        "http"
    }

    fn about(&self) -> &'static str {
        "an axum REST service over hyper: versioned JSON writes, reads, keep-alive, a request timeout"
    }

    fn variants(&self) -> &'static [Variant] {
        &VARIANTS
    }

    fn port(&self) -> u16 {
        8080
    }

    fn server(&self, variant: usize, listener: TcpListener) -> Task {
        Box::pin(server::serve(listener, variant == 1))
    }

    fn client(&self, server: SocketAddr, id: u64, load: &Load) -> Task {
        Box::pin(client::run(server, id, load.clone()))
    }
}
