//! The room: who is in it, how many messages of each client were broadcast, and the one place
//! that delivers lines. Both servers share it; they differ only in [`Delivery`].
//!
//! Every method runs to completion without waiting (the room lives in an `Rc<RefCell<Room>>`
//! on one reactor and is never borrowed across an await), so a join, a message or a departure
//! is atomic with respect to every other.

use std::collections::BTreeMap;
use std::rc::Rc;

use doppel::net::TcpStream;

use super::proto;
use super::queue::Queue;

/// A connection's number in the room, in accept order: the key of the member list, so
/// broadcasts go out in a fixed order.
pub type ConnId = u64;

/// A line as the server sends it (newline included), shared by every outbox it goes to.
pub type Line = Rc<[u8]>;

/// How many lines a member's outbox holds. A member that falls this far behind (it stopped
/// reading while the room kept talking) is disconnected, so one stalled reader cannot make the
/// server buffer without bound.
pub const OUTBOX_LINES: usize = 4096;

/// How lines reach members.
#[derive(Debug)]
pub enum Delivery {
    /// The correct server: a bounded outbox per member, drained by that member's writer task.
    /// Delivering never waits, so a slow member holds up nobody else.
    Outboxes,
    /// The twin: one queue for the whole room, drained by one hub task that writes every line
    /// to each of its targets in turn.
    Hub(Rc<Queue<(Target, Line)>>),
}

/// Who a line queued for the hub goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// One member (a `WELCOME`).
    One(ConnId),
    /// Everyone who had joined when the line was queued (the number of joins then), and is
    /// still a member when the hub takes the line: a client that joins later gets its
    /// `WELCOME` first, as from the correct server.
    All(u64),
}

/// A client in the room.
#[derive(Debug)]
struct Member {
    /// The client's id (from its `JOIN`).
    id: u64,
    /// Its connection, shared with its reader (and writer) task.
    conn: Rc<TcpStream>,
    /// Its outbox (unused by the hub).
    outbox: Rc<Queue<Line>>,
    /// The room's join count when it joined (its own join included).
    joined_at: u64,
}

impl Member {
    /// Ends the membership on the server's side: the outbox closes (its writer stops) and the
    /// socket closes (a task parked on it wakes with an error and ends).
    fn shut(&self) {
        self.outbox.close();
        // A close that fails has still closed (doppel never retries close): nothing to do.
        let _ = self.conn.close();
    }
}

/// The room's state.
#[derive(Debug)]
pub struct Room {
    /// The next connection number.
    next_conn: ConnId,
    /// Who is in the room, by connection.
    members: BTreeMap<ConnId, Member>,
    /// Joins so far (the hub's notion of "who had joined when a line was queued").
    joins: u64,
    /// For every client id that ever joined: how many of its messages were broadcast, which
    /// is also the next `seq` taken from it. Kept after the client leaves, so a re-join
    /// resumes where it stopped and a resent message is never broadcast twice.
    heard: BTreeMap<u64, u64>,
    /// How lines reach members.
    delivery: Delivery,
}

impl Room {
    /// An empty room delivering through `delivery`.
    pub fn new(delivery: Delivery) -> Room {
        Room {
            next_conn: 0,
            members: BTreeMap::new(),
            joins: 0,
            heard: BTreeMap::new(),
            delivery,
        }
    }

    /// A number for a new connection.
    pub fn open(&mut self) -> ConnId {
        self.next_conn += 1;
        self.next_conn
    }

    /// Client `id` joins on connection `conn_id`: it gets `WELCOME` first, then everyone
    /// (itself included) gets `JOINED`. One connection per id: an older connection of the same
    /// id (one the server has not yet seen die) is closed, with no `LEFT`. Returns the new
    /// member's outbox, for its writer task.
    pub fn join(&mut self, conn_id: ConnId, id: u64, conn: &Rc<TcpStream>) -> Rc<Queue<Line>> {
        let older: Vec<ConnId> = (self.members.iter())
            .filter(|(c, m)| m.id == id && **c != conn_id)
            .map(|(c, _)| *c)
            .collect();
        for c in older {
            if let Some(m) = self.members.remove(&c) {
                m.shut();
            }
        }
        self.heard.entry(id).or_insert(0);
        self.joins += 1;
        let outbox = Rc::new(Queue::new(OUTBOX_LINES));
        let member = Member {
            id,
            conn: conn.clone(),
            outbox: outbox.clone(),
            joined_at: self.joins,
        };
        self.members.insert(conn_id, member);
        let welcome = proto::welcome_line(self.members.len(), &self.heard);
        self.send(conn_id, welcome.into());
        self.broadcast(proto::joined(id, self.members.len()).into());
        outbox
    }

    /// Message `seq` of client `id`, said on `conn_id` (`line` is the whole line, without its
    /// newline): broadcast verbatim if it is the next one from `id`, dropped if it was
    /// broadcast already (a resend after a reconnect). An error (the caller disconnects the
    /// client): the connection has not joined, speaks for another id, or skipped a number.
    pub fn message(
        &mut self,
        conn_id: ConnId,
        id: u64,
        seq: u64,
        line: &[u8],
    ) -> Result<(), String> {
        let member = self.members.get(&conn_id).ok_or("MSG before JOIN")?;
        if member.id != id {
            return Err(format!("client {} sent a message as {id}", member.id));
        }
        let heard = self.heard.entry(id).or_insert(0);
        if seq < *heard {
            return Ok(());
        }
        if seq > *heard {
            return Err(format!("message {seq} from {id} skips {}", *heard));
        }
        *heard += 1;
        let mut out = Vec::with_capacity(line.len() + 1);
        out.extend_from_slice(line);
        out.push(b'\n');
        self.broadcast(out.into());
        Ok(())
    }

    /// Connection `conn_id` is gone (EOF, error, a bad line): if it was a member, it is removed,
    /// its socket and outbox close, and everyone left gets `LEFT`. Calling it again is a no-op.
    pub fn leave(&mut self, conn_id: ConnId) {
        if let Some(m) = self.members.remove(&conn_id) {
            m.shut();
            self.broadcast(proto::left(m.id, self.members.len()).into());
        }
    }

    /// The hub's view: the connections a queued line goes to, among the members now.
    pub fn targets(&self, to: Target) -> Vec<Rc<TcpStream>> {
        match to {
            Target::One(c) => self
                .members
                .get(&c)
                .map(|m| m.conn.clone())
                .into_iter()
                .collect(),
            Target::All(joins) => (self.members.values())
                .filter(|m| m.joined_at <= joins)
                .map(|m| m.conn.clone())
                .collect(),
        }
    }

    /// Sends `line` to one member.
    fn send(&mut self, conn_id: ConnId, line: Line) {
        match &self.delivery {
            Delivery::Hub(q) => {
                q.push((Target::One(conn_id), line));
            }
            Delivery::Outboxes => {
                let full = match self.members.get(&conn_id) {
                    Some(m) => !m.outbox.push(line),
                    None => false,
                };
                if full {
                    self.leave(conn_id);
                }
            }
        }
    }

    /// Sends `line` to every member. A member whose outbox is full is disconnected (and its
    /// `LEFT` goes out after `line`).
    fn broadcast(&mut self, line: Line) {
        if let Delivery::Hub(q) = &self.delivery {
            q.push((Target::All(self.joins), line));
            return;
        }
        let mut lines = vec![line];
        while let Some(line) = lines.pop() {
            let full: Vec<ConnId> = (self.members.iter())
                .filter(|(_, m)| !m.outbox.push(line.clone()))
                .map(|(c, _)| *c)
                .collect();
            for c in full {
                if let Some(m) = self.members.remove(&c) {
                    m.shut();
                    lines.push(proto::left(m.id, self.members.len()).into());
                }
            }
        }
    }
}
