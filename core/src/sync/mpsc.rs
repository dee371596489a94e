//! Many senders, one receiver, across reactors: bounded ([`channel`]: a full channel makes
//! `send` wait, which is how a slow consumer pushes back on its producers) or [`unbounded`].
//! `recv` returns `None` once every sender is gone and the queue is empty; `send` fails with
//! [`SendError`] (giving the value back) once the receiver is gone.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::lock;

/// The receiver is gone; here is the value that could not be sent.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> std::fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> std::fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("channel closed: the receiver is gone")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why `try_send` did not send.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The channel is at capacity.
    Full(T),
    /// The receiver is gone.
    Closed(T),
}

impl<T> std::fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

/// The shared state.
struct Chan<T> {
    /// Queued values.
    queue: VecDeque<T>,
    /// The capacity, for a bounded channel.
    cap: Option<usize>,
    /// Live senders.
    senders: usize,
    /// The receiver is gone.
    rx_gone: bool,
    /// The receiving task, waiting for a value.
    rx_waker: Option<Waker>,
    /// Senders waiting for room, first come first served.
    tx_wakers: VecDeque<Waker>,
}

/// Sends values; clone it for more senders.
pub struct Sender<T> {
    /// The channel.
    chan: Arc<Mutex<Chan<T>>>,
}

/// Receives values, in the order they were sent.
pub struct Receiver<T> {
    /// The channel.
    chan: Arc<Mutex<Chan<T>>>,
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("mpsc::Sender").finish_non_exhaustive()
    }
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("mpsc::Receiver").finish_non_exhaustive()
    }
}

/// A channel that holds at most `capacity` values (a capacity of 0 holds 1: a channel that
/// could never hold a value would deadlock its first `send`).
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    make(Some(capacity.max(1)))
}

/// A channel with no capacity limit: `send` never waits.
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    make(None)
}

fn make<T>(cap: Option<usize>) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Mutex::new(Chan {
        queue: VecDeque::new(),
        cap,
        senders: 1,
        rx_gone: false,
        rx_waker: None,
        tx_wakers: VecDeque::new(),
    }));
    (Sender { chan: chan.clone() }, Receiver { chan })
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for room in a bounded channel.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        let mut value = Some(value);
        poll_fn(|cx| self.poll_send(cx, &mut value)).await
    }

    fn poll_send(
        &self,
        cx: &mut Context<'_>,
        value: &mut Option<T>,
    ) -> Poll<Result<(), SendError<T>>> {
        let v = value.take().expect("polled after completion");
        match self.try_send(v) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(TrySendError::Closed(v)) => Poll::Ready(Err(SendError(v))),
            Err(TrySendError::Full(v)) => {
                let mut c = lock(&self.chan);
                // Room may have opened since try_send; register and re-check under the lock.
                if c.cap.is_some_and(|cap| c.queue.len() >= cap) && !c.rx_gone {
                    c.tx_wakers.push_back(cx.waker().clone());
                    *value = Some(v);
                    return Poll::Pending;
                }
                drop(c);
                *value = Some(v);
                self.poll_send(cx, value)
            }
        }
    }

    /// Sends `value` if there is room now.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let waker = {
            let mut c = lock(&self.chan);
            if c.rx_gone {
                return Err(TrySendError::Closed(value));
            }
            if c.cap.is_some_and(|cap| c.queue.len() >= cap) {
                return Err(TrySendError::Full(value));
            }
            c.queue.push_back(value);
            c.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Whether the receiver is gone.
    pub fn is_closed(&self) -> bool {
        lock(&self.chan).rx_gone
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        lock(&self.chan).senders += 1;
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut c = lock(&self.chan);
            c.senders -= 1;
            if c.senders > 0 {
                return;
            }
            c.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// The next value, or `None` once every sender is gone and nothing is queued.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next value.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let (out, waker) = {
            let mut c = lock(&self.chan);
            match c.queue.pop_front() {
                Some(v) => (Poll::Ready(Some(v)), c.tx_wakers.pop_front()),
                None if c.senders == 0 => (Poll::Ready(None), None),
                None => {
                    c.rx_waker = Some(cx.waker().clone());
                    (Poll::Pending, None)
                }
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
        out
    }

    /// A value if one is queued now.
    pub fn try_recv(&mut self) -> Option<T> {
        let (v, waker) = {
            let mut c = lock(&self.chan);
            let v = c.queue.pop_front();
            let w = if v.is_some() {
                c.tx_wakers.pop_front()
            } else {
                None
            };
            (v, w)
        };
        if let Some(w) = waker {
            w.wake();
        }
        v
    }

    /// How many values are queued.
    pub fn len(&self) -> usize {
        lock(&self.chan).queue.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let (waiting, queued) = {
            let mut c = lock(&self.chan);
            c.rx_gone = true;
            (
                std::mem::take(&mut c.tx_wakers),
                std::mem::take(&mut c.queue),
            )
        };
        drop(queued); // values dropped outside the lock: their drops may run user code
        for w in waiting {
            w.wake();
        }
    }
}
