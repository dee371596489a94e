//! doppel-scenarios: servers and clients written once against doppel's types, run unchanged on
//! the real backend (the `echo` example, the real tests) and in the simulator.
//!
//! # Module map
//!
//! | module   | what                                                                     |
//! |----------|--------------------------------------------------------------------------|
//! | [`workload`] | the [`workload::Workload`] trait and the registry of workloads by name |
//! | [`accept`] | Go's accept loop (one task per connection) and its fragile twin         |
//! | [`echo`] | the echo server and a checking echo client                               |
//! | [`kv`]   | a Redis-protocol key-value server, its checking client, a deadline twin   |
//! | [`run`]  | a workload in the default simulated world, or on loopback                 |
//! | [`upper`]| a line protocol, its correct server and four broken twins (bug classes)   |
//! | [`wire`] | a deterministic byte pattern and size generator for checking clients     |

pub mod accept;
pub mod echo;
pub mod kv;
pub mod run;
pub mod upper;
pub mod wire;
pub mod workload;
