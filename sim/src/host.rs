//! Hosts as the world knows them: a name, an address, whether it is up, and where its faults
//! are numbered. Its descriptor table and ports are the TCP model's (`net/tables.rs`).

use std::net::IpAddr;

use crate::site::{HostNames, Label, Site};

pub use crate::host_id::HostId;

/// What the world knows about a host (its runtime lives in the driver).
#[derive(Debug)]
pub(crate) struct HostState {
    /// The name given to the builder.
    pub(crate) name: String,
    /// Its address.
    pub(crate) ip: IpAddr,
    /// Up (false between a crash and its restart).
    pub(crate) up: bool,
    /// Where its crashes, and its fresh sockets' faults, are numbered: its name.
    pub(crate) site: Site,
    /// A hash of its name: what its sites' keys are derived from.
    pub(crate) name_hash: u64,
    /// Its clock: true unless `clock-skew` skewed it.
    pub(crate) clock: crate::clock::HostClock,
    /// Whether its clock has been drawn (at its first boot; a restart keeps it).
    pub(crate) clock_drawn: bool,
}

impl HostState {
    /// A fresh host of the run seeded with `seed` (its site is set once every host exists).
    pub(crate) fn new(seed: u64, name: String, ip: IpAddr) -> HostState {
        HostState {
            site: Site::new(seed, Label::Net, 0),
            name_hash: crate::rng::name_hash(&name),
            name,
            ip,
            up: true,
            clock: Default::default(),
            clock_drawn: false,
        }
    }
}

/// The world's hosts, as fault sites name them.
impl HostNames for Vec<HostState> {
    fn name(&self, host: HostId) -> &str {
        &self[host].name
    }

    fn name_hash(&self, host: HostId) -> u64 {
        self[host].name_hash
    }
}
