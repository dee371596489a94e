//! doppel-scenarios: servers and clients written once against doppel's types, run unchanged on
//! the real backend (the `echo` example, the real tests) and in the simulator.
//!
//! # Module map
//!
//! | module   | what                                                                     |
//! |----------|--------------------------------------------------------------------------|
//! | [`workload`] | the registry of built-in workloads ([`doppel::cli::Workload`] impls)  |
//! | [`specs`] | the built-in scenario specs (TOML, compiled in) and [`cli`], the command |
//! | [`accept`] | Go's accept loop (one task per connection) and its fragile twin         |
//! | [`dns`]  | DNS over UDP: a forwarder, its authority, a checking stub resolver, the first-reply twin |
//! | [`chat`] | a broadcast chat room, its checking client, and its write-departed twin  |
//! | [`grpc`] | a tonic gRPC service over HTTP/2 (unary and server-streaming), its checking client |
//! | [`http`] | an axum REST service over hyper, its checking hyper client, its conn-age twin |
//! | [`echo`] | the echo server (one reactor or a group) and a checking echo client      |
//! | [`lock`] | a ShedLock-style lock table and its nodes; the node-time twin (clock skew) |
//! | [`kv`]   | a Redis-protocol key-value server, its checking client, two twins         |
//! | [`upper`]| a line protocol, its correct server and four broken twins (bug classes)   |
//! | [`wire`] | a deterministic byte pattern and size generator for checking clients     |
//!
//! The command itself (`doppel::cli`), the [`doppel::cli::Workload`] trait, specs and the
//! simulated and loopback runs live in the `doppel` crate, where a user's own crate reaches
//! them too; this crate only registers the built-in workloads and specs.

pub mod accept;
pub mod chat;
pub mod dns;
pub mod echo;
pub mod grpc;
pub mod http;
pub mod kv;
pub mod lock;
pub mod specs;
pub mod upper;
pub mod wire;
pub mod workload;

pub use specs::cli;

/// Runs a workload simulated or on loopback (`doppel::cli::run`).
pub mod run {
    pub use doppel::cli::run::*;
}

/// Scenario specs (`doppel::cli::spec`), and the built-in ones.
pub mod spec {
    pub use crate::specs::{builtin, find, BUILTIN};
    pub use doppel::cli::spec::*;
}
