//! `lock`: ShedLock's scheduled-job lock. Nodes (the clients) each run a job on a schedule;
//! before a run a node takes the job's lock in a shared lock table (the server), and the lock
//! stays taken until its `lock_until`, so no other node runs the job meanwhile. The table also
//! keeps the job's side effect, which nodes are running it, so a node that starts while
//! another runs sees it and fails: two holders of one lock.
//!
//! The twin, `node-time`, is ShedLock's JDBC provider before `usingDbTime()`
//! (lukas-krecan/ShedLock#231, "Node time is not synchronized, Jdbc lock will fail"): each
//! node stamps `lock_until` with its own wall clock and takes the lock when `lock_until <=` its
//! own now, so a node whose clock is ahead takes a lock another still holds. The correct table
//! keeps time itself, on its own monotonic clock, as `usingDbTime()` does. A loopback run of
//! either passes (one machine, one clock); the simulator's `clock-skew` class breaks the twin.
//!
//! | file        | what                                                             |
//! |-------------|------------------------------------------------------------------|
//! | `mod.rs`    | the workload, its variants and the line protocol                 |
//! | `server.rs` | the lock table, with its two ways to keep time                   |
//! | `client.rs` | a node: its schedule, its job and the check                      |

pub mod client;
pub mod server;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use doppel::net::{TcpListener, TcpStream};

use crate::workload::{Load, Task, Variant, Workload, CORRECT};

/// The workload.
#[derive(Debug)]
pub struct Lock;

/// The table that keeps time, then the twin that trusts each node's clock.
const VARIANTS: [Variant; 2] = [
    CORRECT,
    Variant {
        name: "node-time",
        about: "a lock table that takes each node's own wall clock for `lock_until` and for \
                now, so a node whose clock runs ahead takes a lock another still holds \
                (ShedLock's JDBC provider before usingDbTime(), lukas-krecan/ShedLock#231)",
    },
];

/// How long a lock is held (ShedLock's `lockAtMostFor`): longer than a job runs.
pub const LOCK_FOR: Duration = Duration::from_millis(300);

/// How long one run of the job takes.
pub const JOB: Duration = Duration::from_millis(100);

impl Workload for Lock {
    fn name(&self) -> &'static str {
        "lock"
    }

    fn about(&self) -> &'static str {
        "a ShedLock-style lock table: nodes run a scheduled job, each run under the job's lock"
    }

    fn variants(&self) -> &'static [Variant] {
        &VARIANTS
    }

    fn server(&self, variant: usize, listener: TcpListener) -> Task {
        let clock = match variant {
            1 => server::Clock::Nodes,
            _ => server::Clock::Table,
        };
        Box::pin(server::serve(listener, clock))
    }

    /// `load.rounds` is the runs a node must make; `load.deadline` each reply's wait.
    fn client(&self, server: SocketAddr, id: u64, load: &Load) -> Task {
        let plan = client::Plan {
            runs: load.rounds,
            wait: load.deadline.unwrap_or(Duration::from_secs(5)),
        };
        Box::pin(client::run(server, id, plan))
    }

    fn coverage_scope(&self) -> &'static [&'static str] {
        &["doppel_scenarios::lock"]
    }
}

/// Reads one line (without its newline) from `conn`, keeping what follows it in `pending`.
/// End of stream before a newline is an error.
pub async fn read_line(conn: &TcpStream, pending: &mut Vec<u8>) -> io::Result<String> {
    let mut buf = [0u8; 256];
    loop {
        if let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).take(end).collect();
            return String::from_utf8(line).map_err(|_| io::Error::other("a line not in UTF-8"));
        }
        if pending.len() > 4096 {
            return Err(io::Error::other("a line longer than 4096 bytes"));
        }
        match conn.read(&mut buf).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => pending.extend_from_slice(&buf[..n]),
        }
    }
}
