//! hyper's `Executor` on `doppel::spawn`: HTTP/2 runs each stream as a task of its own, on the
//! reactor of the connection.

use std::future::Future;

/// Spawns hyper's futures on the current reactor. The futures never cross threads, so they
/// need not be `Send`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Executor;

impl<F> hyper::rt::Executor<F> for Executor
where
    F: Future + 'static,
    F::Output: 'static,
{
    fn execute(&self, fut: F) {
        drop(crate::current::spawn(fut));
    }
}
