//! Tasks: their ids, the slab that holds them, the wakers that queue them, and `JoinHandle`.

pub(crate) mod executor;
pub(crate) mod join;
pub(crate) mod queue;
pub(crate) mod slab;

pub(crate) use join::{wrap, JoinCell};
pub use join::{JoinError, JoinHandle};

/// A fresh cell for a task's output.
pub(crate) fn join_cell<T>() -> std::rc::Rc<JoinCell<T>> {
    JoinCell::new()
}

pub use crate::driver::task_id::TaskId;

/// Yields once: the task goes to the back of the run queue and the reactor runs others first.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await
}
