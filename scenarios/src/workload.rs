//! The built-in workloads: each a server (correct, or a buggy twin) and its checking client,
//! implementing [`doppel::cli::Workload`] like a user's own would.

pub use doppel::cli::workload::*;

/// Every built-in workload, in the order `doppel list` shows them.
pub fn all() -> &'static [&'static dyn Workload] {
    &[
        &crate::echo::Echo,
        &crate::accept::Accept,
        &crate::upper::Upper,
        &crate::kv::Kv,
        &crate::chat::Chat,
        &crate::http::Http,
        &crate::grpc::Grpc,
        &crate::dns::Dns,
        &crate::lock::Lock,
    ]
}

/// The built-in workload called `name`; the error lists the known ones.
pub fn find(name: &str) -> Result<&'static dyn Workload, String> {
    doppel::cli::workload::find(all(), name)
}
