//! A node: it runs the job `runs` times, each run under the lock. Every few milliseconds it
//! tries to take the lock (`LOCK`, with its own wall clock as ShedLock sends it); once it has
//! it, it starts the job (`START`), runs it for [`super::JOB`] and ends it (`END`), leaving the
//! lock to run out at `lock_until` (ShedLock's `lockAtLeastFor` keeps other nodes off meanwhile).
//! The check: the table must say no other node is running when this one starts.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, UNIX_EPOCH};

use doppel::net::TcpStream;

/// What a node does.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Runs of the job it must make.
    pub runs: u32,
    /// How long it waits for each reply.
    pub wait: Duration,
}

/// How long a node waits between tries of a held lock.
const RETRY: Duration = Duration::from_millis(25);

/// Runs node `id` against the table at `server`.
pub async fn run(server: SocketAddr, id: u64, plan: Plan) -> io::Result<()> {
    let conn = TcpStream::connect(server).await?;
    let mut pending = Vec::new();
    let mut waited = false;
    for run in 0..plan.runs {
        loop {
            let now_ms = wall_ms()?;
            let reply = exchange(
                &conn,
                &mut pending,
                plan.wait,
                format!("LOCK {id} {} {now_ms}\n", super::LOCK_FOR.as_millis()),
            )
            .await?;
            match reply.as_str() {
                "LOCKED" => break,
                "HELD" => {
                    waited = true;
                    doppel::time::sleep(RETRY).await;
                }
                other => {
                    return Err(io::Error::other(format!(
                        "node {id}: LOCK answered {other:?}"
                    )))
                }
            }
        }
        let started = exchange(&conn, &mut pending, plan.wait, format!("START {id}\n")).await?;
        let others: u64 = started
            .strip_prefix("RUNNING ")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| io::Error::other(format!("node {id}: START answered {started:?}")))?;
        if others > 0 {
            return Err(io::Error::other(format!(
                "node {id} run {run}: took the lock and started the job while {others} other node(s) ran it: two holders of one lock"
            )));
        }
        doppel::reachable!("a node ran the job under the lock");
        doppel::time::sleep(super::JOB).await;
        exchange(&conn, &mut pending, plan.wait, format!("END {id}\n")).await?;
        doppel::time::sleep(RETRY).await;
    }
    doppel::sometimes!(waited, "a node found the lock held and waited");
    Ok(())
}

/// Sends `request` and reads its one-line reply, within `wait`.
async fn exchange(
    conn: &TcpStream,
    pending: &mut Vec<u8>,
    wait: Duration,
    request: String,
) -> io::Result<String> {
    conn.write_all(request.as_bytes()).await?;
    match doppel::time::timeout(wait, super::read_line(conn, pending)).await {
        Ok(reply) => reply,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no reply to {:?} within {wait:?}", request.trim_end()),
        )),
    }
}

/// This host's wall clock, in milliseconds since the Unix epoch.
fn wall_ms() -> io::Result<u64> {
    let since = doppel::time::wall_clock()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| io::Error::other("the wall clock is before 1970"))?;
    Ok(since.as_millis() as u64)
}
