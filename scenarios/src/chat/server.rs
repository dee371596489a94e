//! The two chat servers: one task per connection reads and parses lines into the shared
//! room (`room::Room`); they differ in who writes.
//!
//! - Correct: each member has a bounded outbox and its own writer task. A broadcast only
//!   appends to outboxes, so it never waits, never sees a departed member (departure removes
//!   the member in the same step that closes its socket) and never fails; a write error ends
//!   that member's connection and nothing else.
//! - Twin (`write-departed`): one hub task writes each line to every member of a snapshot of
//!   the room, in turn, and returns on the first write error. While a write waits (a full send
//!   buffer, a short write), a member in the snapshot can leave; its socket is closed, the
//!   hub's next write to it fails, and the hub is gone: nobody hears anything again, though
//!   the server still accepts, reads and "joins" clients. This is yesodweb/wai#271 ("closing
//!   any one browser brings the chat session to a halt for the remaining clients. Their
//!   messages are no longer broadcast"), and the class of alexandra-zaharia/Linux-IPC#2 (a
//!   message sent on the socket of a client that already disconnected, still in the server's
//!   set, crashes the server) and of docs/FAULTS.md F14's EPIPE rows.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use doppel::net::{TcpListener, TcpStream};

use super::proto::{self, Command, MAX_LINE};
use super::queue::Queue;
use super::room::{ConnId, Delivery, Line, Room, Target};

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Per-member outboxes and writer tasks.
    Correct,
    /// One hub writing to a snapshot of the room; a write error ends the hub.
    WriteDeparted,
}

/// The largest write a member's writer makes at once (lines queued together go out together).
const WRITE_BATCH: usize = 64 * 1024;

/// Serves the chat on `listener` until the listener fails.
pub async fn serve(listener: TcpListener, variant: Variant) -> io::Result<()> {
    let delivery = match variant {
        Variant::Correct => Delivery::Outboxes,
        Variant::WriteDeparted => Delivery::Hub(Rc::new(Queue::new(usize::MAX))),
    };
    let hub = match &delivery {
        Delivery::Hub(q) => Some(q.clone()),
        Delivery::Outboxes => None,
    };
    let room = Rc::new(RefCell::new(Room::new(delivery)));
    if let Some(q) = hub {
        let room = room.clone();
        doppel::spawn(async move {
            // The hub's error is dropped on the floor, as the bug report's server did: the
            // chat just goes quiet.
            let _ = run_hub(&room, &q).await;
        });
    }
    crate::accept::serve(listener, move |conn| {
        let room = room.clone();
        async move {
            connection(room, conn, variant).await;
            Ok(())
        }
    })
    .await
}

/// Serves one connection: reads lines until EOF, an error or a bad line, then leaves the room
/// and closes the socket.
async fn connection(room: Rc<RefCell<Room>>, conn: TcpStream, variant: Variant) {
    let conn = Rc::new(conn);
    let conn_id = room.borrow_mut().open();
    let _ = read_lines(&room, &conn, conn_id, variant).await;
    room.borrow_mut().leave(conn_id);
    // A connection that never joined is not in the room: close it here. (A failed close has
    // closed.)
    let _ = conn.close();
}

/// Reads and handles lines. Returns at EOF (`Ok`), or with the read error or the reason the
/// client is disconnected (a malformed or out-of-protocol line, a line over [`MAX_LINE`]).
async fn read_lines(
    room: &Rc<RefCell<Room>>,
    conn: &Rc<TcpStream>,
    conn_id: ConnId,
    variant: Variant,
) -> io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut joined = false;
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        pending.extend_from_slice(&buf[..n]);
        let mut start = 0;
        while let Some(len) = pending[start..].iter().position(|&b| b == b'\n') {
            let line = &pending[start..start + len];
            handle(room, conn, conn_id, variant, &mut joined, line)
                .map_err(|why| io::Error::new(io::ErrorKind::InvalidData, why))?;
            start += len + 1;
        }
        pending.drain(..start);
        if pending.len() >= MAX_LINE {
            let why = format!("a line longer than {MAX_LINE} bytes");
            return Err(io::Error::new(io::ErrorKind::InvalidData, why));
        }
    }
}

/// Handles one line from connection `conn_id`.
fn handle(
    room: &Rc<RefCell<Room>>,
    conn: &Rc<TcpStream>,
    conn_id: ConnId,
    variant: Variant,
    joined: &mut bool,
    line: &[u8],
) -> Result<(), String> {
    match proto::command(line)? {
        Command::Join { .. } if *joined => Err("a second JOIN on one connection".into()),
        Command::Join { id } => {
            *joined = true;
            let outbox = room.borrow_mut().join(conn_id, id, conn);
            if variant == Variant::Correct {
                let (room, conn) = (room.clone(), conn.clone());
                doppel::spawn(async move { write_outbox(room, conn, outbox, conn_id).await });
            }
            Ok(())
        }
        Command::Msg { id, seq, .. } => room.borrow_mut().message(conn_id, id, seq, line),
    }
}

/// A member's writer (correct server): writes its outbox, lines queued together in one write,
/// until the outbox closes (the member left) or a write fails (then the member leaves).
async fn write_outbox(
    room: Rc<RefCell<Room>>,
    conn: Rc<TcpStream>,
    outbox: Rc<Queue<Line>>,
    conn_id: ConnId,
) {
    let mut batch = Vec::new();
    while let Some(line) = outbox.pop().await {
        batch.clear();
        batch.extend_from_slice(&line);
        while batch.len() < WRITE_BATCH {
            match outbox.try_pop() {
                Some(line) => batch.extend_from_slice(&line),
                None => break,
            }
        }
        if conn.write_all(&batch).await.is_err() {
            break;
        }
    }
    room.borrow_mut().leave(conn_id);
}

/// The twin's hub: takes each queued line and writes it to every target, one after another.
async fn run_hub(room: &Rc<RefCell<Room>>, queue: &Queue<(Target, Line)>) -> io::Result<()> {
    while let Some((to, line)) = queue.pop().await {
        let targets = room.borrow().targets(to);
        for conn in targets {
            // BUG: `targets` was taken before the first write; a member that left while an
            // earlier write waited has a closed socket by now, and its error ends the hub for
            // everyone (wai#271). The correct server appends to outboxes and never waits here.
            conn.write_all(&line).await?;
        }
        // One line per poll, so each line's writes start with the task's whole I/O budget and
        // (when no write waits) finish within one poll.
        doppel::task::yield_now().await;
    }
    Ok(())
}
