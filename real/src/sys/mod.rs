//! The only `unsafe` code in doppel: raw syscalls through `libc`, each block with a `// SAFETY:`
//! line. One `cfg` picks the selector; `epoll.rs` and `kqueue.rs` expose the same `Selector`
//! with the same method names and are reviewed side by side.
#![allow(unsafe_code)]

/// Calls a libc function, turning `-1` into `io::Error::last_os_error()` (the raw errno).
macro_rules! syscall {
    ($fn:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: every use passes arguments that satisfy the named libc function's contract;
        // each call site states which.
        #[allow(clippy::macro_metavars_in_unsafe)]
        let res = unsafe { libc::$fn($($arg),*) };
        if res == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(res)
        }
    }};
}

#[cfg_attr(any(target_os = "linux", target_os = "android"), path = "epoll.rs")]
#[cfg_attr(
    any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "dragonfly"
    ),
    path = "kqueue.rs"
)]
mod selector;

pub(crate) mod clock;
pub(crate) mod datagram;
pub(crate) mod signal;
pub(crate) mod socket;

pub(crate) use selector::Selector;
