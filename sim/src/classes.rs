//! The one table of fault classes, and the [`FaultClass`] enum with its count, names and groups
//! generated from it. The F-numbers in the classes' docs are the rows of the repository's
//! `docs/FAULTS.md`.

use std::fmt;
use std::str::FromStr;

/// The one table of fault classes: every list of them (the enum, its names, counts and
/// groups, the trace events, the spec keys of `doppel-cli`) is generated from it, so a new class
/// is one row here plus the code that injects it. Rows are `Variant, spec_key, "name", group;`:
/// the random classes fire by probability (`benign` ones a correct program absorbs without a
/// visible error, `visible` ones it reports), the scheduled ones at planned instants. Row order
/// is counter order, and a class's dice come from its name, so adding a row moves no other
/// class's faults.
///
/// A new class starts `opt_in`: benign, but fired only when a plan names it. `all`, `benign`
/// and swarm leave it out, so a seed a user recorded under `all=0.02` replays the same run
/// after an upgrade that adds a class; the class joins the groups in a release that says so.
///
/// It calls `$then!` with the table, for a crate that needs its own view of it.
#[macro_export]
#[doc(hidden)]
macro_rules! fault_class_table {
    ($then:ident) => {
        $then! {
            random {
                /// An edge with nothing behind it (F6): the next call says `WouldBlock`.
                Spurious, spurious, "spurious", benign;
                /// An edge delivered late (and so coalesced with later ones).
                Late, late, "late", benign;
                /// `EINTR` from `poll` (F1).
                PollEintr, eintr_poll, "eintr-poll", benign;
                /// `EINTR` from `read`, `write`, `accept`, `connect` or `close` (F2, F3, F4).
                Eintr, eintr, "eintr", benign;
                /// `ECONNABORTED` at `accept`: the client reset while queued (F11).
                AcceptAbort, accept_abort, "accept-abort", visible;
                /// `ECONNRESET` in the middle of a stream (F14, F22).
                Reset, reset, "reset", visible;
                /// A read returns a prefix of what is queued (F15).
                ShortRead, short_read, "short-read", benign;
                /// A write takes a prefix of what is offered (F15, F24).
                ShortWrite, short_write, "short-write", benign;
                /// A link stalls for a while, so deadlines fire for real (F18, F20).
                Stall, stall, "stall", benign;
                /// Data arrives at the very instant a deadline is due, in either order (F18).
                DeadlineRace, deadline_race, "deadline-race", visible;
                /// A SYN finds the listen backlog full and is dropped; the client retries (F13).
                Backlog, backlog, "backlog", benign;
                /// A write says `WouldBlock` with room in the send buffer; a writable edge
                /// follows (F6, on the write side).
                EagainWrite, eagain_write, "eagain-write", opt_in;
                /// A datagram is lost on the wire (F25).
                DgramLoss, dgram_loss, "dgram-loss", opt_in;
                /// A datagram arrives twice (F26).
                DgramDup, dgram_dup, "dgram-dup", opt_in;
                /// A datagram is held up to four times its link's latency (at least 1 ms), so
                /// later ones overtake it (F27).
                DgramReorder, dgram_reorder, "dgram-reorder", opt_in;
                /// A datagram is held up to the plan's `stall_max`, long enough for a
                /// client's timeout to fire and its retry to cross the late reply (F28).
                DgramDelay, dgram_delay, "dgram-delay", opt_in;
                /// A `buggify!` fault point in the user's own code: the class's probability is
                /// the chance a call site is on for the seed; an on site fires at its own rate
                /// (F29).
                Buggify, buggify, "buggify", opt_in;
                /// A host's clock is skewed for the whole seed: its wall clock offset and both
                /// its clocks drifting, within the builder's bounds; the class's probability is
                /// the chance each host's is (F30).
                ClockSkew, clock_skew, "clock-skew", opt_in;
            }
            scheduled {
                /// A scheduled partition between hosts, symmetric or one-way (F21).
                Partition, partition, "partition";
                /// A scheduled host crash, with an optional restart (F23).
                Crash, crash, "crash";
            }
        }
    };
    (@benign benign) => {
        true
    };
    (@benign visible) => {
        false
    };
    (@benign opt_in) => {
        false
    };
    (@grouped opt_in) => {
        false
    };
    (@grouped $other:ident) => {
        true
    };
}

/// The classes flagged in `flags`, in order (`N` of them).
const fn pick<const N: usize>(
    all: [FaultClass; FaultClass::COUNT],
    flags: &[bool],
) -> [FaultClass; N] {
    let mut out = [FaultClass::Spurious; N];
    let (mut i, mut k) = (0, 0);
    while i < flags.len() {
        if flags[i] {
            out[k] = all[i];
            k += 1;
        }
        i += 1;
    }
    out
}

/// How many of `flags` are set.
const fn count(flags: &[bool]) -> usize {
    let (mut i, mut n) = (0, 0);
    while i < flags.len() {
        if flags[i] {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The enum and its lists, from the table.
macro_rules! define_classes {
    (
        random { $( $(#[$doc:meta])* $v:ident, $key:ident, $name:literal, $group:ident; )* }
        scheduled { $( $(#[$sdoc:meta])* $sv:ident, $skey:ident, $sname:literal; )* }
    ) => {
        /// One class of fault. The names (`Display`, `FromStr`) are what specs and the CLI use;
        /// every list of classes comes from one table (`fault_class_table!` in `classes.rs`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum FaultClass {
            $( $(#[$doc])* $v, )*
            $( $(#[$sdoc])* $sv, )*
        }

        /// Per random class: whether it is benign.
        const BENIGN_FLAGS: &[bool] = &[$( $crate::fault_class_table!(@benign $group), )*];

        /// Per random class: whether `all` and swarm include it (every class but `opt_in` ones).
        const GROUPED_FLAGS: &[bool] = &[$( $crate::fault_class_table!(@grouped $group), )*];

        impl FaultClass {
            /// How many classes there are.
            pub const COUNT: usize = [$( $name, )* $( $sname, )*].len();

            /// Every class, in counter order.
            pub const ALL: [FaultClass; FaultClass::COUNT] =
                [$( FaultClass::$v, )* $( FaultClass::$sv, )*];

            /// The classes that fire by probability (the others are scheduled).
            pub const RANDOM: [FaultClass; [$( $name, )*].len()] = [$( FaultClass::$v, )*];

            /// The random classes `all` and `swarm=all` turn on: every one but the `opt_in`
            /// classes, which fire only when a plan names them.
            pub const GROUPED: [FaultClass; count(GROUPED_FLAGS)] =
                pick(FaultClass::ALL, GROUPED_FLAGS);

            /// The classes a correct server and client absorb without any visible error (see
            /// [`FaultPlan::benign`](crate::FaultPlan::benign)).
            pub const BENIGN: [FaultClass; count(BENIGN_FLAGS)] =
                pick(FaultClass::ALL, BENIGN_FLAGS);

            /// The spec name.
            pub fn name(self) -> &'static str {
                match self {
                    $( FaultClass::$v => $name, )*
                    $( FaultClass::$sv => $sname, )*
                }
            }
            /// The class's slot in counters and plans: its row in the table, which `ALL`
            /// follows.
            pub(crate) fn index(self) -> usize {
                self as usize
            }
        }
    };
}

fault_class_table!(define_classes);

impl fmt::Display for FaultClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FaultClass {
    type Err = FaultError;
    fn from_str(s: &str) -> Result<Self, FaultError> {
        FaultClass::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| FaultError(format!("unknown fault class {s:?} (known: {})", known())))
    }
}

fn known() -> String {
    FaultClass::ALL.map(FaultClass::name).join(", ")
}

/// A bad fault spec or knob, with what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultError(pub String);

impl fmt::Display for FaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FaultError {}
