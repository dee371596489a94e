//! A bounded FIFO with one consumer task, for one reactor: the per-member outbox of the
//! correct server (and the twin's hub queue). Pushing never waits, so a broadcast never waits
//! for a slow reader; a full queue says so and the caller decides (the server disconnects
//! that member).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::task::{Poll, Waker};

/// The queue's state.
struct Inner<T> {
    /// What waits to be taken, oldest first.
    items: VecDeque<T>,
    /// The most items it holds; a push beyond it is refused.
    limit: usize,
    /// Closed: pushes are dropped and the consumer gets `None`.
    closed: bool,
    /// The consumer, parked in [`Queue::pop`] on an empty queue.
    waker: Option<Waker>,
}

/// A bounded FIFO with one consumer task (share it as `Rc<Queue<T>>`).
pub struct Queue<T> {
    /// The state; never borrowed across an await.
    inner: RefCell<Inner<T>>,
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.inner.borrow();
        f.debug_struct("Queue")
            .field("len", &i.items.len())
            .field("limit", &i.limit)
            .field("closed", &i.closed)
            .finish()
    }
}

impl<T> Queue<T> {
    /// An empty queue that holds at most `limit` items.
    pub fn new(limit: usize) -> Queue<T> {
        Queue {
            inner: RefCell::new(Inner {
                items: VecDeque::new(),
                limit,
                closed: false,
                waker: None,
            }),
        }
    }

    /// Adds `item` and wakes the consumer. Returns false, and drops `item`, when the queue is
    /// full; a closed queue drops it too (and returns true: nobody is behind).
    pub fn push(&self, item: T) -> bool {
        let waker = {
            let mut i = self.inner.borrow_mut();
            if i.closed {
                return true;
            }
            if i.items.len() >= i.limit {
                return false;
            }
            i.items.push_back(item);
            i.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        true
    }

    /// Closes the queue: what is queued is dropped, and the consumer's next [`Queue::pop`]
    /// returns `None`.
    pub fn close(&self) {
        let waker = {
            let mut i = self.inner.borrow_mut();
            i.closed = true;
            i.items.clear();
            i.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// The oldest item, if one is queued now (`None` also once closed).
    pub fn try_pop(&self) -> Option<T> {
        self.inner.borrow_mut().items.pop_front()
    }

    /// The oldest item, waiting for one; `None` once the queue is closed.
    pub async fn pop(&self) -> Option<T> {
        poll_fn(|cx| {
            let mut i = self.inner.borrow_mut();
            if let Some(item) = i.items.pop_front() {
                return Poll::Ready(Some(item));
            }
            if i.closed {
                return Poll::Ready(None);
            }
            i.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_fifo_that_closes() {
        let q = Queue::new(2);
        assert!(q.push(1));
        assert!(q.push(2));
        assert!(!q.push(3), "a full queue refuses");
        assert_eq!(q.try_pop(), Some(1));
        assert!(q.push(4));
        q.close();
        assert_eq!(q.try_pop(), None, "closing drops what was queued");
        assert!(q.push(5), "a closed queue takes and drops");
        assert_eq!(q.try_pop(), None);
    }
}
