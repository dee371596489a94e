//! The virtual network: sockets, links, and the queue of what happens next.

pub(crate) mod link;
pub(crate) mod queue;
pub(crate) mod socket;
pub(crate) mod tables;
pub(crate) mod tcp;

pub use link::LinkConfig;
