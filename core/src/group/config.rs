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
    /// On the real backend, non-blocking polls a sub-reactor tries (yielding the CPU between
    /// them) before it blocks in its poller, while one of its last 8 polls found two or more
    /// events; 0 never spins. It keeps a busy sub-reactor on its CPU instead of sleeping and
    /// being woken per batch (see `benches/real-echo`'s `multi` in the README for what it
    /// buys); at most [`MAX_SPIN_POLLS`]. The simulator has no CPUs to keep and ignores it.
    pub spin_polls: u32,
}

/// The largest [`GroupConfig::spin_polls`]: a spin longer than this is a busy loop, not a wait.
pub const MAX_SPIN_POLLS: u32 = 2_000;

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            sub_reactors: 2,
            workers: 1,
            max_connections: 10_000,
            worker_queue: 64,
            placement: Placement::RoundRobin,
            spin_polls: 200,
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

    /// Sets the spin before a sub-reactor blocks (0: never).
    pub fn spin_polls(mut self, n: u32) -> Self {
        self.spin_polls = n;
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
        if self.spin_polls > MAX_SPIN_POLLS {
            return bad(&format!(
                "spin_polls({}): at most {MAX_SPIN_POLLS} non-blocking polls before a sub-reactor blocks",
                self.spin_polls
            ));
        }
        Ok(())
    }
}
