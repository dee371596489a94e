//! `chat`: a broadcast chat room, its checking client, and a buggy twin that writes to
//! members who already left.
//!
//! Every line a client says is broadcast to every member, the sender included; the protocol
//! is in [`proto`] (`JOIN <id>`, `WELCOME <members> <id>:<n> ...`, `JOINED`, `LEFT`,
//! `MSG <id> <seq> <text>`), the client's rules in [`check`]. One reactor, one task per
//! connection, the member list in an `Rc<RefCell<..>>` keyed by connection number (a
//! `BTreeMap`, so broadcast order is fixed).
//!
//! The correct server gives each member a bounded outbox (4096 lines) and a writer task of
//! its own, so a slow member never holds up a broadcast. A member that falls that far behind
//! is disconnected, as is one that sends a malformed or out-of-protocol line (or a line over
//! 64 KiB), and nobody else. A member that leaves (half-close, close, error, reset) is
//! removed, its socket closed and its writer stopped in one step, and the others get `LEFT`.
//!
//! Reconnects: exactly-once delivery to a client that was away is impossible without a
//! history, so the server keeps one number per client id instead: how many of its messages
//! were broadcast. `WELCOME` carries them all. A re-joining client resends its own messages
//! from its count (the server drops any resend it already broadcast) and skips, for every
//! sender, exactly the messages the counts say went out while it was away; everything else
//! is still checked exactly once and in order (see [`check`]).
//!
//! # Module map
//!
//! | module     | what                                                                     |
//! |------------|--------------------------------------------------------------------------|
//! | [`proto`]  | the line protocol: parsing, formatting, the expected text of a message    |
//! | [`check`]  | the client's invariants, as pure bookkeeping                             |
//! | [`client`] | the checking client: join, barrier, pipelined messages, reconnects        |
//! | [`server`] | the correct server and its `write-departed` twin                          |
//! | `room`     | the shared room: members, per-id counts, delivery                         |
//! | `queue`    | a bounded single-consumer FIFO: outboxes and the twin's hub queue         |

pub mod check;
pub mod client;
pub mod proto;
mod queue;
mod room;
pub mod server;

use std::net::SocketAddr;

use doppel::net::TcpListener;

use crate::workload::{Load, Task, Variant, Workload, CORRECT};

/// The twin's entry in the variant list.
const WRITE_DEPARTED: Variant = Variant {
    name: "write-departed",
    about: "a broadcast hub that writes to a snapshot of the room and dies on the write error \
            of a member that left meanwhile: the chat halts for everyone (yesodweb/wai#271; \
            alexandra-zaharia/Linux-IPC#2; docs/FAULTS.md F14)",
};

/// The `chat` workload.
#[derive(Clone, Copy, Debug)]
pub struct Chat;

impl Workload for Chat {
    /// Its own assertions: the binary holds every built-in workload's.
    fn coverage_scope(&self) -> &'static [&'static str] {
        &["doppel_scenarios::chat"]
    }

    fn name(&self) -> &'static str {
        "chat"
    }

    fn about(&self) -> &'static str {
        "a broadcast chat room: every message to every member exactly once, in each sender's \
         order; members leave and re-join mid-conversation"
    }

    fn variants(&self) -> &'static [Variant] {
        &[CORRECT, WRITE_DEPARTED]
    }

    /// IRC's port, for a chat.
    fn port(&self) -> u16 {
        6667
    }

    fn server(&self, variant: usize, listener: TcpListener) -> Task {
        let v = if variant == 1 {
            server::Variant::WriteDeparted
        } else {
            server::Variant::Correct
        };
        Box::pin(server::serve(listener, v))
    }

    fn client(&self, server: SocketAddr, id: u64, load: &Load) -> Task {
        Box::pin(client::run(server, id, load.clone()))
    }
}
