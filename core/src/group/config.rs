//! How a group of reactors is shaped: sub-reactors for connections, worker reactors for
//! CPU-bound work, and the limits that make overload degrade instead of collapse.

use std::io;

/// How the main reactor picks the sub-reactor for a new connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Placement {
    /// Each in turn.
    #[default]
    RoundRobin,
    /// The one with the fewest live connections (ties: the lowest index).
    LeastLoaded,
}

/// The shape and limits of a multi-reactor runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupConfig {
    /// Reactors that own accepted connections (at least 1).
    pub sub_reactors: usize,
    /// Reactors that run CPU-bound closures ([`crate::reactors::run_blocking`]); 0 is allowed,
    /// and then such work fails with [`crate::reactors::WorkerError::NoWorkers`].
    pub workers: usize,
    /// Live connections beyond which [`crate::net::serve`] refuses new ones at once.
    pub max_connections: usize,
    /// CPU-bound closures queued or running at most, over all workers; a submitter beyond it
    /// waits (the reader is pushed back, memory stays bounded).
    pub worker_queue: usize,
    /// How connections are spread over the sub-reactors.
    pub placement: Placement,
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            sub_reactors: 2,
            workers: 1,
            max_connections: 10_000,
            worker_queue: 64,
            placement: Placement::RoundRobin,
        }
    }
}

impl GroupConfig {
    /// Sets the number of sub-reactors.
    pub fn sub_reactors(mut self, n: usize) -> Self {
        self.sub_reactors = n;
        self
    }

    /// Sets the number of worker reactors.
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n;
        self
    }

    /// Sets the connection limit.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }

    /// Sets the bound on queued CPU-bound work.
    pub fn worker_queue(mut self, n: usize) -> Self {
        self.worker_queue = n;
        self
    }

    /// Sets how connections are placed.
    pub fn placement(mut self, p: Placement) -> Self {
        self.placement = p;
        self
    }

    /// How many reactors the group has: the main one, the sub-reactors, the workers.
    pub fn reactors(&self) -> usize {
        1 + self.sub_reactors + self.workers
    }

    /// Checks the shape; the error names the knob and says what is expected.
    pub fn validate(&self) -> io::Result<()> {
        let bad = |m: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, m.to_string()));
        if self.sub_reactors == 0 {
            return bad("sub_reactors(0): a multi-reactor runtime needs at least one sub-reactor to own connections (for a single reactor, use the plain runtime)");
        }
        if self.max_connections == 0 {
            return bad("max_connections(0): the server could admit no connection at all");
        }
        if self.worker_queue == 0 && self.workers > 0 {
            return bad("worker_queue(0): workers need room for at least one queued job");
        }
        Ok(())
    }
}
