//! `HostId`: how the world, its sockets, links and fault sites name a host.

/// A host's index in the world.
pub type HostId = usize;
