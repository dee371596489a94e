//! `JoinHandle`: await a task's output, or abort it.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use crate::driver::task_id::TaskId;

/// Why a task produced no output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// The task was aborted, or its runtime was dropped, before it finished.
    Cancelled(TaskId),
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled(id) => write!(f, "task {id} was cancelled before it finished"),
        }
    }
}

impl std::error::Error for JoinError {}

/// Where a task's output goes.
#[derive(Debug)]
enum JoinState<T> {
    /// Still running; holds the waker of a task awaiting the handle.
    Running(Option<Waker>),
    /// Finished; the output waits to be taken.
    Done(T),
    /// Aborted or dropped before finishing.
    Cancelled,
    /// The output has been taken.
    Taken,
}

/// Shared between a task and its handle.
#[derive(Debug)]
pub(crate) struct JoinCell<T> {
    /// The task's progress and output.
    state: RefCell<JoinState<T>>,
}

impl<T> JoinCell<T> {
    pub(crate) fn new() -> Rc<JoinCell<T>> {
        Rc::new(JoinCell {
            state: RefCell::new(JoinState::Running(None)),
        })
    }

    fn finish(&self, next: JoinState<T>) {
        let prev = std::mem::replace(&mut *self.state.borrow_mut(), next);
        if let JoinState::Running(Some(w)) = prev {
            w.wake();
        }
    }
}

/// Marks the task cancelled if its future is dropped before it completes.
struct CancelOnDrop<T>(Option<Rc<JoinCell<T>>>);

impl<T> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        if let Some(cell) = self.0.take() {
            cell.finish(JoinState::Cancelled);
        }
    }
}

pin_project_lite::pin_project! {
    /// A user future whose output lands in its handle's cell; dropped before it completes, it
    /// cancels the handle. Written out rather than as an `async fn`: an `async fn wrap(fut)`
    /// keeps room for `fut` twice, as its argument and as the future it awaits (rustc does not
    /// overlap the two), so every task would cost its future's size twice over.
    pub(crate) struct Wrapped<F: Future> {
        #[pin]
        fut: F,
        guard: CancelOnDrop<F::Output>,
    }
}

impl<F: Future> Future for Wrapped<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let out = std::task::ready!(this.fut.poll(cx));
        if let Some(cell) = this.guard.0.take() {
            cell.finish(JoinState::Done(out));
        }
        Poll::Ready(())
    }
}

/// Wraps a user future so its output lands in `cell`; dropping it early cancels the handle.
pub(crate) fn wrap<F: Future>(fut: F, cell: Rc<JoinCell<F::Output>>) -> Wrapped<F> {
    Wrapped {
        fut,
        guard: CancelOnDrop(Some(cell)),
    }
}

/// What a handle asks of the reactor that runs its task: to cancel it. A trait, so a handle
/// names no reactor (the reactor implements it).
pub(crate) trait Abort {
    /// Cancels task `id` (see [`JoinHandle::abort`]).
    fn abort(self: Rc<Self>, id: TaskId);
}

/// An owned permission to await a spawned task's output (`Result<T, JoinError>`) or abort it.
///
/// Dropping the handle detaches the task: it keeps running.
pub struct JoinHandle<T> {
    /// The task, for `abort`.
    id: TaskId,
    /// Where the output arrives.
    cell: Rc<JoinCell<T>>,
    /// The reactor that runs the task (weak: a handle must not keep a dropped runtime alive).
    reactor: Weak<dyn Abort>,
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").field("id", &self.id).finish()
    }
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(id: TaskId, cell: Rc<JoinCell<T>>, reactor: Weak<dyn Abort>) -> Self {
        JoinHandle { id, cell, reactor }
    }

    /// The task's id, as traces print it.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// Cancels the task: its future is dropped (at once, or when its current poll returns) and
    /// awaiting the handle gives [`JoinError::Cancelled`]. A no-op once the task finished.
    pub fn abort(&self) {
        if let Some(r) = self.reactor.upgrade() {
            r.abort(self.id);
        }
    }

    /// Whether the task has finished, been aborted, or been dropped with its runtime.
    pub fn is_finished(&self) -> bool {
        !matches!(*self.cell.state.borrow(), JoinState::Running(_))
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.cell.state.borrow_mut();
        match &mut *state {
            JoinState::Running(w) => {
                match w {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => *w = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            JoinState::Done(_) => match std::mem::replace(&mut *state, JoinState::Taken) {
                JoinState::Done(out) => Poll::Ready(Ok(out)),
                _ => unreachable!(),
            },
            JoinState::Cancelled => Poll::Ready(Err(JoinError::Cancelled(self.id))),
            JoinState::Taken => panic!("doppel: JoinHandle of {} polled after completion", self.id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_task_holds_its_future_once() {
        let payload = [7u8; 512];
        let fut = async move { payload.iter().map(|&b| u64::from(b)).sum::<u64>() };
        let inner = std::mem::size_of_val(&fut);
        let wrapped = wrap(fut, JoinCell::new());
        let outer = std::mem::size_of_val(&wrapped);
        assert!(inner >= 512, "the future holds its payload: {inner}");
        assert!(
            outer <= inner + 16,
            "the wrapper adds the cell's pointer, not a second copy: {outer} for a {inner}-byte future"
        );
    }
}
