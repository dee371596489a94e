//! What a chat client checks, line by line, across all its connections. Pure bookkeeping (no
//! I/O), so the rules can be tested without a server.
//!
//! For every sender `s`, the checker keeps `next[s]`, the `seq` of the next message of `s` it
//! must see. The rules, each an error naming what broke:
//!
//! 1. Every line parses, and the first line on each connection is its `WELCOME` (nothing before
//!    it, no second one). Ids are below `load.clients`, member counts between 1 (0 for `LEFT`)
//!    and `load.clients`, `seq` below `load.rounds`, and a message's text is exactly the text
//!    its sender generates for that `seq`.
//! 2. On a connection, every message of every sender arrives exactly once and in the
//!    sender's order: `MSG s q` must have `q == next[s]` (a smaller `q` is a duplicate or a
//!    reordering, a larger one a loss); then `next[s] += 1`.
//! 3. A `WELCOME` never goes backwards (`n >= next[s]` for every id: the server does not forget
//!    messages), lists every id this client has seen join, and never claims more of this
//!    client's messages than it has sent.
//! 4. Until this client has been away (stepped away, or lost a connection after connecting),
//!    its `WELCOME` must not skip anything: `n == next[s]` (all zero, since every client waits
//!    for all to join before it speaks). After an absence, `next[s] = n`: the messages broadcast
//!    while it was away are the only ones it may miss, and the server's count says exactly
//!    which they are.
//! 5. Its own messages come back: one it never sent is an error, and it is done only when the
//!    server has broadcast all of them (`next[me] == rounds`), as for every other client.
//! 6. `MSG` and `LEFT` name only ids that joined; nobody tells a client that it left itself.

use super::proto::{self, Event};
use crate::workload::Load;

/// A client's view of the room, checked as lines arrive.
#[derive(Clone, Debug)]
pub struct Checker {
    /// This client's id.
    me: u64,
    /// How many clients there are (ids `0..clients`).
    clients: u64,
    /// Messages per client.
    rounds: u64,
    /// The largest text, to regenerate expected texts.
    max_size: usize,
    /// Per sender: the next `seq` this client must see.
    next: Vec<u64>,
    /// Per id: whether this client knows it joined (from a `WELCOME` or `JOINED`).
    joined: Vec<bool>,
    /// The next `seq` of this client's own to send (restarts at the server's count after a
    /// re-join: resends are deduplicated by the server).
    cursor: u64,
    /// How many of its messages this client has sent at least once.
    sent: u64,
    /// Whether a connection is up (connected, not yet lost).
    live: bool,
    /// Whether this client has been away since it first connected (rule 4).
    away: bool,
    /// Whether this connection's `WELCOME` has arrived.
    welcomed: bool,
}

impl Checker {
    /// A checker for client `me` under `load`, before its first connection; an error if `me`
    /// is not one of the load's clients.
    pub fn new(me: u64, load: &Load) -> Result<Checker, String> {
        if me >= u64::from(load.clients) {
            return Err(format!("client {me} of {}: ids run from 0", load.clients));
        }
        let n = load.clients as usize;
        Ok(Checker {
            me,
            clients: u64::from(load.clients),
            rounds: u64::from(load.rounds),
            max_size: load.max_size,
            next: vec![0; n],
            joined: vec![false; n],
            cursor: 0,
            sent: 0,
            live: false,
            away: false,
            welcomed: false,
        })
    }

    /// A new connection is up: its first line must be a `WELCOME`.
    pub fn connected(&mut self) {
        self.live = true;
        self.welcomed = false;
    }

    /// The connection is gone (lost, or left on purpose): if one was up, what is broadcast
    /// from now until the next `WELCOME` is this client's to miss.
    pub fn disconnected(&mut self) {
        if self.live {
            self.away = true;
        }
        self.live = false;
        self.welcomed = false;
    }

    /// Whether this client has received everything: every sender's every message, its own
    /// included, or the server's word (a `WELCOME` after an absence) that it was broadcast.
    pub fn done(&self) -> bool {
        self.next.iter().all(|&n| n == self.rounds)
    }

    /// How many of its own messages the server has broadcast.
    pub fn confirmed(&self) -> u64 {
        self.next[self.me as usize]
    }

    /// Whether every message this client sent on this connection has come back.
    pub fn idle(&self) -> bool {
        self.cursor == self.confirmed()
    }

    /// The `seq` to send next, if this client may send now: welcomed, everyone has joined (the
    /// barrier), messages left, and fewer than `pipeline` of its own outstanding.
    pub fn to_send(&self, pipeline: u32) -> Option<u64> {
        let everyone = self.joined.iter().all(|&j| j);
        let outstanding = self.cursor.saturating_sub(self.confirmed());
        let room = outstanding < u64::from(pipeline.max(1));
        (self.welcomed && everyone && self.cursor < self.rounds && room).then_some(self.cursor)
    }

    /// Records that message `to_send()` went out.
    pub fn sent_one(&mut self) {
        self.cursor += 1;
        self.sent = self.sent.max(self.cursor);
    }

    /// Checks one line from the server (without its newline).
    pub fn line(&mut self, line: &[u8]) -> Result<(), String> {
        let event = proto::event(line)?;
        if !self.welcomed && !matches!(event, Event::Welcome { .. }) {
            return Err(format!("{:?} before WELCOME", proto::lossy(line)));
        }
        match event {
            Event::Welcome { members, heard } => self.welcome(members, &heard),
            Event::Joined { id, members } => {
                self.id(id, "JOINED")?;
                self.members(members, 1, "JOINED")?;
                self.joined[id as usize] = true;
                Ok(())
            }
            Event::Left { id, members } => {
                self.known(id, "LEFT")?;
                self.members(members, 0, "LEFT")?;
                if id == self.me {
                    return Err("told that I left, on a connection I have not left".into());
                }
                Ok(())
            }
            Event::Msg { id, seq, text } => self.msg(id, seq, text),
        }
    }

    /// `id` is a client of this run.
    fn id(&self, id: u64, what: &str) -> Result<(), String> {
        if id >= self.clients {
            return Err(format!(
                "{what} names client {id}; there are {}",
                self.clients
            ));
        }
        Ok(())
    }

    /// `id` is a client of this run that has joined.
    fn known(&self, id: u64, what: &str) -> Result<(), String> {
        self.id(id, what)?;
        if !self.joined[id as usize] {
            return Err(format!("{what} from client {id}, which never joined"));
        }
        Ok(())
    }

    /// A member count is possible.
    fn members(&self, members: u64, least: u64, what: &str) -> Result<(), String> {
        if members < least || members > self.clients {
            return Err(format!(
                "{what} counts {members} members; there are {} clients",
                self.clients
            ));
        }
        Ok(())
    }

    /// Rules 3 and 4.
    fn welcome(&mut self, members: u64, heard: &[(u64, u64)]) -> Result<(), String> {
        if self.welcomed {
            return Err("a second WELCOME on one connection".into());
        }
        self.members(members, 1, "WELCOME")?;
        let ids: Vec<u64> = heard.iter().map(|&(id, _)| id).collect();
        if ids.windows(2).any(|w| w[0] >= w[1]) {
            return Err(format!("WELCOME ids out of order: {ids:?}"));
        }
        for id in 0..self.clients {
            if (id == self.me || self.joined[id as usize]) && !ids.contains(&id) {
                return Err(format!("WELCOME forgets that client {id} joined"));
            }
        }
        for &(id, n) in heard {
            self.id(id, "WELCOME")?;
            let next = self.next[id as usize];
            if n > self.rounds || (id == self.me && n > self.sent) {
                return Err(format!(
                    "WELCOME says client {id} had {n} messages broadcast; it sends {} and I \
                     sent {} of mine",
                    self.rounds, self.sent
                ));
            }
            if n < next {
                return Err(format!(
                    "WELCOME says client {id} had {n} messages broadcast; I already got {next}"
                ));
            }
            if n > next && !self.away {
                return Err(format!(
                    "WELCOME skips client {id}'s messages {next}..{n}, though I was never away \
                     and everyone waits for all to join before speaking"
                ));
            }
        }
        for &(id, n) in heard {
            self.next[id as usize] = n;
            self.joined[id as usize] = true;
        }
        self.cursor = self.confirmed();
        self.welcomed = true;
        Ok(())
    }

    /// Rules 1, 2, 5 and 6 for a message.
    fn msg(&mut self, id: u64, seq: u64, text: &[u8]) -> Result<(), String> {
        self.known(id, "MSG")?;
        if seq >= self.rounds {
            return Err(format!(
                "message {seq} from client {id}; each sends {}",
                self.rounds
            ));
        }
        let want = proto::text(id, seq, self.max_size);
        if text != want.as_slice() {
            return Err(format!(
                "message {seq} from client {id} came back wrong ({} bytes, {} expected)",
                text.len(),
                want.len()
            ));
        }
        if id == self.me && seq >= self.cursor {
            // Only this connection's sends can come back on it: the server takes an id's
            // messages from its newest connection only (a re-join closes the older one).
            return Err(format!(
                "my message {seq} came back, but I never sent it on this connection"
            ));
        }
        let next = &mut self.next[id as usize];
        match seq.cmp(next) {
            std::cmp::Ordering::Less => Err(format!(
                "message {seq} from client {id} again, after its message {} (duplicate or \
                 reordered)",
                *next - 1
            )),
            std::cmp::Ordering::Greater => Err(format!(
                "messages {}..{seq} from client {id} lost: got {seq} next",
                *next
            )),
            std::cmp::Ordering::Equal => {
                *next += 1;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load() -> Load {
        Load {
            clients: 2,
            rounds: 3,
            max_size: 20,
            ..Load::default()
        }
    }

    fn msg(id: u64, seq: u64) -> Vec<u8> {
        let mut l = proto::msg(id, seq, &proto::text(id, seq, 20));
        l.pop();
        l
    }

    /// Client 0, welcomed with client 1 already in, having sent its first message.
    fn started() -> Checker {
        let mut c = Checker::new(0, &load()).expect("client 0");
        c.connected();
        c.line(b"WELCOME 2 0:0 1:0").expect("welcome");
        assert_eq!(c.to_send(1), Some(0));
        c.sent_one();
        assert_eq!(c.to_send(1), None, "pipeline of 1");
        c
    }

    #[test]
    fn a_clean_run_is_done() {
        let mut c = started();
        for seq in 0..3 {
            c.line(&msg(1, seq)).expect("from 1");
        }
        c.line(&msg(0, 0)).expect("mine");
        for seq in 1..3 {
            assert_eq!(c.to_send(1), Some(seq));
            c.sent_one();
            c.line(&msg(0, seq)).expect("mine");
        }
        assert!(c.done());
    }

    #[test]
    fn losses_duplicates_and_strangers_are_caught() {
        let mut c = started();
        c.line(&msg(1, 0)).expect("first");
        assert!(c.line(&msg(1, 0)).unwrap_err().contains("again"));
        let mut c = started();
        assert!(c.line(&msg(1, 1)).unwrap_err().contains("lost"));
        let mut c = started();
        assert!(c.line(&msg(0, 1)).unwrap_err().contains("never sent"));
        let mut c = started();
        assert!(c.line(b"MSG 1 0 zzz").unwrap_err().contains("wrong"));
        let mut c = started();
        assert!(c.line(b"JOINED 7 2").is_err());
        let mut c = Checker::new(0, &load()).expect("client 0");
        c.connected();
        assert!(c.line(&msg(1, 0)).unwrap_err().contains("before WELCOME"));
    }

    #[test]
    fn an_absence_excuses_exactly_what_the_server_counts() {
        let mut c = started();
        c.line(&msg(0, 0)).expect("mine");
        c.disconnected();
        c.connected();
        // While away, client 1's first two messages went out.
        c.line(b"WELCOME 2 0:1 1:2")
            .expect("welcome after an absence");
        assert!(c.line(&msg(1, 1)).is_err(), "already counted");
        c.line(&msg(1, 2)).expect("the next one");
        let mut c = started();
        c.disconnected();
        c.connected();
        assert!(c.line(b"WELCOME 2 0:2 1:0").unwrap_err().contains("I"));
        let mut c = started();
        c.line(&msg(1, 0)).expect("first");
        c.disconnected();
        c.connected();
        assert!(c
            .line(b"WELCOME 2 0:0 1:0")
            .unwrap_err()
            .contains("already got"));
    }

    #[test]
    fn without_an_absence_nothing_may_be_skipped() {
        let mut c = Checker::new(0, &load()).expect("client 0");
        c.connected();
        assert!(c
            .line(b"WELCOME 2 0:0 1:1")
            .unwrap_err()
            .contains("never away"));
    }
}
