//! `grpc`: a tonic service (generated from `proto/ledger.proto`) served over HTTP/2 through
//! hyper on doppel (`doppel::compat::hyper`), and its checking tonic client on a
//! `doppel::compat::hyper::Channel`.
//!
//! | file         | what                                                                   |
//! |--------------|------------------------------------------------------------------------|
//! | `service.rs` | the `Ledger` service (unary `Append`, server-streaming `History`), `serve` |
//! | `client.rs`  | the checking client: in-order appends, whole histories, retries        |
//!
//! Each key's records are appended in version order, and the service accepts version v only
//! when the key holds v - 1 of them, and a repeat of a stored version with the value it wrote
//! (answered with the key's count now): so a client may retry an append whose answer a reset
//! lost, and a history must be exactly versions 1 to the newest acknowledged, each with the
//! value it wrote, in order.

use std::net::SocketAddr;

use doppel::net::TcpListener;

use crate::workload::{Load, Task, Variant, Workload, CORRECT};

pub mod client;
pub mod service;

/// The code generated from `proto/ledger.proto` (messages, `ledger_server`, `ledger_client`).
#[allow(
    missing_docs,
    missing_debug_implementations,
    clippy::all,
    clippy::pedantic
)]
pub mod pb {
    tonic::include_proto!("doppel.ledger");
}

/// The workload.
#[derive(Debug)]
pub struct Grpc;

/// The servers.
const VARIANTS: [Variant; 1] = [CORRECT];

impl Workload for Grpc {
    /// Its own assertions: the binary holds every built-in workload's.
    fn coverage_scope(&self) -> &'static [&'static str] {
        &["doppel_scenarios::grpc"]
    }

    fn name(&self) -> &'static str {
        "grpc"
    }

    fn about(&self) -> &'static str {
        "a tonic gRPC service over HTTP/2: in-order versioned appends (unary), whole histories \
         (server-streaming)"
    }

    fn variants(&self) -> &'static [Variant] {
        &VARIANTS
    }

    fn port(&self) -> u16 {
        50051
    }

    fn server(&self, _variant: usize, listener: TcpListener) -> Task {
        Box::pin(service::serve(listener))
    }

    fn client(&self, server: SocketAddr, id: u64, load: &Load) -> Task {
        Box::pin(client::run(format!("http://{server}"), id, load.clone()))
    }
}
