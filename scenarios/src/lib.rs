//! doppel-scenarios: servers and clients written once against doppel's types, run unchanged on
//! the real backend (the `echo` example, the real tests) and in the simulator.
//!
//! # Module map
//!
//! | module   | what                                                                     |
//! |----------|--------------------------------------------------------------------------|
//! | [`workload`] | the [`workload::Workload`] trait and the registry of workloads by name |
//! | [`cli`]  | the `doppel` command: list, run, explore, combine, replay, shrink          |
//! | [`accept`] | Go's accept loop (one task per connection) and its fragile twin         |
//! | [`chat`] | a broadcast chat room, its checking client, and its write-departed twin  |
//! | [`echo`] | the echo server (one reactor or a group) and a checking echo client      |
//! | [`kv`]   | a Redis-protocol key-value server, its checking client, two twins         |
//! | [`run`]  | a workload simulated or on loopback, on one reactor or a group of them    |
//! | [`spec`] | scenario specs (TOML): workload, load, network, faults, seeds, server     |
//! | [`upper`]| a line protocol, its correct server and four broken twins (bug classes)   |
//! | [`wire`] | a deterministic byte pattern and size generator for checking clients     |

pub mod accept;
pub mod chat;
pub mod cli;
pub mod echo;
pub mod kv;
pub mod run;
pub mod spec;
pub mod upper;
pub mod wire;
pub mod workload;
