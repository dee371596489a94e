//! The lock table: one row per job (`lock_until`, who locked it) and the job's side effect
//! (which nodes are running it). Requests are lines:
//!
//! | request                      | reply                                      |
//! |------------------------------|--------------------------------------------|
//! | `LOCK NODE FOR_MS NOW_MS`    | `LOCKED` or `HELD`                         |
//! | `START NODE`                 | `RUNNING N`: N other nodes are running     |
//! | `END NODE`                   | `DONE`                                     |
//!
//! `NOW_MS` is the node's wall clock in milliseconds since the Unix epoch. The correct table
//! ignores it and keeps time on its own monotonic clock; the twin uses it, as ShedLock's JDBC
//! provider did (`UPDATE shedlock SET lock_until = ? WHERE name = ? AND lock_until <= ?`, both
//! times from the node).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use doppel::net::{TcpListener, TcpStream};
use doppel::time::Instant;

/// Whose clock decides when a lock runs out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// The table's own monotonic clock (ShedLock's `usingDbTime()`).
    Table,
    /// Each node's wall clock, as the node sends it (the twin).
    Nodes,
}

/// The table's one row and the job's side effect.
#[derive(Debug, Default)]
struct Table {
    /// Until when the lock is held: table time (ns on its monotonic clock) or node time (ms
    /// since the epoch), by [`Clock`].
    until: u64,
    /// The nodes running the job now.
    running: BTreeSet<u64>,
}

/// Serves the lock table on `listener`, one task per connection.
pub async fn serve(listener: TcpListener, clock: Clock) -> io::Result<()> {
    let table = Rc::new(RefCell::new(Table::default()));
    loop {
        let (conn, _) = listener.accept().await?;
        let table = table.clone();
        doppel::spawn(async move {
            let _ = handle(&conn, &table, clock).await;
        });
    }
}

/// Answers one connection's requests until it closes.
async fn handle(conn: &TcpStream, table: &RefCell<Table>, clock: Clock) -> io::Result<()> {
    let mut pending = Vec::new();
    loop {
        let line = match super::read_line(conn, &mut pending).await {
            Ok(line) => line,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        };
        let reply = answer(&line, &mut table.borrow_mut(), clock)?;
        conn.write_all(reply.as_bytes()).await?;
    }
}

/// The reply to one request line.
fn answer(line: &str, table: &mut Table, clock: Clock) -> io::Result<String> {
    let words: Vec<&str> = line.split(' ').collect();
    let num = |i: usize| -> io::Result<u64> {
        words
            .get(i)
            .and_then(|w| w.parse().ok())
            .ok_or_else(|| io::Error::other(format!("bad request {line:?}")))
    };
    match words.first().copied() {
        Some("LOCK") => {
            let (hold, node_now) = (Duration::from_millis(num(2)?), num(3)?);
            let (now, until) = match clock {
                Clock::Table => {
                    let now = Instant::now().as_nanos();
                    (now, now + hold.as_nanos() as u64)
                }
                // BUG: both times are the node's own; nodes' clocks differ.
                Clock::Nodes => (node_now, node_now + hold.as_millis() as u64),
            };
            if table.until > now {
                return Ok("HELD\n".into());
            }
            table.until = until;
            Ok("LOCKED\n".into())
        }
        Some("START") => {
            let node = num(1)?;
            let others = table.running.len();
            table.running.insert(node);
            Ok(format!("RUNNING {others}\n"))
        }
        Some("END") => {
            table.running.remove(&num(1)?);
            Ok("DONE\n".into())
        }
        _ => Err(io::Error::other(format!("bad request {line:?}"))),
    }
}
