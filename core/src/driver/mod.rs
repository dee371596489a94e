//! The driver seam: what the core asks of a backend, and what a backend and a trace collector
//! may do to the core. Server code needs none of it; the real backend (`doppel-real`), the
//! simulator (`doppel-sim`), the trace collector (`doppel-trace`) and a user's own backend
//! (the repository's `tests/seam.rs` scripts one) do.
//!
//! | file          | what                                                                  |
//! |---------------|-----------------------------------------------------------------------|
//! | `scheduler`   | [`Scheduler`], the trait a backend implements, and [`WakeHandle`]     |
//! | `fd`          | [`Fd`], a descriptor number; [`Token`], a registration and its generation |
//! | `ready`       | [`Ready`], [`Event`], [`Direction`]                                   |
//! | `task_id`     | [`TaskId`], what `pick` chooses among                                 |
//! | `instant`     | [`Instant`], the backend's clock reading                              |
//! | `drive`       | [`Drive`]: step a hosted runtime, ask what it waits for; [`runtime`]  |
//! | `turn`        | [`Turn`], what one step did                                           |
//! | `stamp`       | [`Label`], [`Stamp`]: how a runtime's events are labelled and stamped |
//! | `sink`        | [`Sink`], [`RuntimeEvent`], [`FieldValue`]: the collector's direct path |
//! | (re-exported) | [`set_sink`], [`to_sink`], [`on`], [`with_stamp`] (`trace.rs`); [`stamp`], [`with_current_stamp`] (`reactor.rs`): what a collector uses |
//!
//! The vocabulary files (`fd`, `ready`, `task_id`, `instant`, `turn`, `stamp`, `sink`,
//! `scheduler`) import nothing of the core: a backend's view of it is this module alone.
//!
//! # Runtime events
//!
//! Every runtime event is a `tracing` event at `TRACE` level under a stable target, with a
//! static name and integer fields, so recording one allocates nothing and, with no subscriber
//! listening, costs one relaxed load and a branch. A collector installed with [`set_sink`]
//! receives them directly as [`RuntimeEvent`]s instead, each stamped with [`with_current_stamp`]:
//! the reactor's clock (virtual in the simulator, elided on the real backend so traces compare
//! across backends), its host label, reactor number and the task being polled.
//!
//! | target          | names                                                              |
//! |-----------------|--------------------------------------------------------------------|
//! | `doppel::task`  | `spawn`, `poll`, `done`, `abort`                                   |
//! | `doppel::poll`  | `register`, `poll` (timeout, events), `interrupted`, `ready`, `stale` |
//! | `doppel::net`   | `listen`, `socket`, `connect`, `accept`, `read`, `write`, `shutdown`, `close`, `so_error`; the raw calls' `read_once`, `write_once`, `wait_edge`, `edge` |
//! | `doppel::time`  | `sleep`, `fired`, `deadline`, `expired`, `stale_deadline`          |
//!
//! Faults are the simulator's (`doppel::fault`).
//!
//! # The contract every backend honours
//!
//! This is the one interface between doppel's core and a kernel. The real backend
//! (`doppel-real`) implements it over epoll or kqueue; the simulator (`doppel-sim`) implements it
//! over a virtual clock and a virtual network. The core's retry loop, pollDesc and timers are one
//! piece of code above it, so whatever the simulator proves about them holds on epoll too. For
//! that to be true, both backends keep these rules (Go's `runtime/netpoll.go` header and mio's
//! `src/poll.rs` sections "Spurious events" and "Draining readiness" are the models):
//!
//! - **Edge-triggered.** [`Scheduler::register`] watches a descriptor for reading, writing and
//!   peer hang-up once, for its whole life. An event is reported when readiness *arrives*, not
//!   while it lasts: after an event, no further event comes for that direction until the core
//!   has seen `WouldBlock` (or a short transfer, below) and new readiness arrives.
//! - **Registration reports what is already there.** If a descriptor is readable (or
//!   writable) when it is registered, that readiness arrives as an edge on the next `poll`, as
//!   `EPOLL_CTL_ADD` and kqueue's `EV_ADD` both do. The core relies on it: a fresh pollDesc's read
//!   slot starts drained, so a new connection costs no speculative `EAGAIN` read.
//! - **Short transfers mean drained.** A `read` that returns fewer bytes than asked (but more
//!   than zero) means the receive queue held no more at that moment; a `write` that accepts
//!   fewer bytes than offered means the send buffer filled. New data or new buffer space raises a
//!   new edge. The core relies on this to avoid an `EAGAIN` syscall per wake-up.
//! - **Spurious events are allowed.** An event may arrive with nothing behind it; the next call
//!   then returns `WouldBlock`. `poll` may return no events before its timeout.
//! - **`EINTR` is surfaced, never hidden.** `poll` and every socket call may return
//!   [`std::io::ErrorKind::Interrupted`]; the core retries (or, for `poll`, treats it as an empty
//!   round). `close` is the exception the core knows about: an interrupted close has closed the
//!   descriptor and is never retried.
//! - **Errors carry the OS's raw errno.** Both backends build errors with
//!   [`std::io::Error::from_raw_os_error`] and the same `libc` constants, so `ECONNREFUSED` from the
//!   simulator is the same value as `ECONNREFUSED` from Linux.
//! - **Time is monotonic and comes only from [`Scheduler::now`].** Deadlines are absolute
//!   [`Instant`]s; `poll`'s timeout is relative and a backend with a coarser clock rounds it
//!   *up*, so a timer is never polled for early in a busy loop.
//! - **Stale events are harmless.** An event may name a token whose descriptor was since
//!   deregistered or reused; the core drops it by the token's generation.
//!
//! The trait is object safe: the core holds a `Box<dyn Scheduler>`, so server code needs no
//! generics and one test binary can run the same body on both backends.

mod drive;
pub(crate) mod fd;
pub(crate) mod instant;
pub(crate) mod ready;
pub(crate) mod scheduler;
pub(crate) mod sink;
pub(crate) mod stamp;
pub(crate) mod task_id;
pub(crate) mod turn;

pub use crate::reactor::{stamp, with_current_stamp};
pub use crate::trace::{on, set_sink, to_sink, with_stamp};
pub use drive::{runtime, Drive};
pub use fd::{Fd, Token};
pub use instant::Instant;
pub use ready::{Direction, Event, Ready};
pub use scheduler::{name_not_known, Scheduler, WakeHandle};
pub use sink::{FieldValue, RuntimeEvent, Sink};
pub use stamp::{Label, Stamp, StampRef};
pub use task_id::TaskId;
pub use turn::Turn;
