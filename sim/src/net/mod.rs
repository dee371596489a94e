//! The virtual network: sockets (TCP and UDP), links, and the queue of what happens next.

pub(crate) mod link;
pub(crate) mod queue;
pub(crate) mod socket;
pub(crate) mod tables;
pub(crate) mod tcp;
pub(crate) mod udp;

pub use link::LinkConfig;
