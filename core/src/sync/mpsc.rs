//! Many senders, one receiver, across reactors: bounded ([`channel`]: a full channel makes
//! `send` wait, which is how a slow consumer pushes back on its producers) or [`unbounded`].
//! `recv` returns `None` once every sender is gone and the queue is empty; `send` fails with
//! [`SendError`] (giving the value back) once the receiver is gone.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::lock::lock;

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
    /// Senders waiting for room, first come first served, each with its ticket. Only the
    /// front one may take a freed slot; a sender that gives up leaves the line and, if it was
    /// at the front, passes the turn on.
    waiting: VecDeque<(u64, Waker)>,
    next_ticket: u64,
}

impl<T> Chan<T> {
    /// Whether a value fits now.
    fn has_room(&self) -> bool {
        self.cap.is_none_or(|cap| self.queue.len() < cap)
    }

    /// The front waiting sender's waker, if a value fits now.
    fn next_sender(&self) -> Option<Waker> {
        if self.has_room() {
            self.waiting.front().map(|(_, w)| w.clone())
        } else {
            None
        }
    }
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
        waiting: VecDeque::new(),
        next_ticket: 0,
    }));
    (Sender { chan: chan.clone() }, Receiver { chan })
}

impl<T> Sender<T> {
    /// Sends `value`, waiting (first come, first served) for room in a bounded channel.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        let mut value = Some(value);
        let mut line = InLine {
            chan: &self.chan,
            ticket: None,
        };
        poll_fn(|cx| self.poll_send(cx, &mut value, &mut line)).await
    }

    fn poll_send(
        &self,
        cx: &mut Context<'_>,
        value: &mut Option<T>,
        line: &mut InLine<'_, T>,
    ) -> Poll<Result<(), SendError<T>>> {
        let mut c = lock(&self.chan);
        let v = value.take().expect("polled after completion");
        if c.rx_gone {
            line.ticket = None;
            return Poll::Ready(Err(SendError(v)));
        }
        let first = match line.ticket {
            None => c.waiting.is_empty(),
            Some(t) => c.waiting.front().is_some_and(|(w, _)| *w == t),
        };
        if first && c.has_room() {
            c.queue.push_back(v);
            if line.ticket.take().is_some() {
                c.waiting.pop_front();
            }
            let (rx, next) = (c.rx_waker.take(), c.next_sender());
            drop(c);
            rx.into_iter().chain(next).for_each(Waker::wake);
            return Poll::Ready(Ok(()));
        }
        *value = Some(v);
        match line.ticket {
            Some(t) => {
                if let Some(e) = c.waiting.iter_mut().find(|(w, _)| *w == t) {
                    e.1.clone_from(cx.waker());
                }
            }
            None => {
                let t = c.next_ticket;
                c.next_ticket += 1;
                c.waiting.push_back((t, cx.waker().clone()));
                line.ticket = Some(t);
            }
        }
        Poll::Pending
    }

    /// Sends `value` if there is room now and no sender is waiting ahead of it.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let waker = {
            let mut c = lock(&self.chan);
            if c.rx_gone {
                return Err(TrySendError::Closed(value));
            }
            if !c.has_room() || !c.waiting.is_empty() {
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
                Some(v) => (Poll::Ready(Some(v)), c.next_sender()),
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
            let w = if v.is_some() { c.next_sender() } else { None };
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
            let waiting: Vec<Waker> = c.waiting.drain(..).map(|(_, w)| w).collect();
            (waiting, std::mem::take(&mut c.queue))
        };
        drop(queued); // values dropped outside the lock: their drops may run user code
        for w in waiting {
            w.wake();
        }
    }
}

/// A sender's place in line: leaves it when the `send` is dropped before it got room, waking
/// the next sender if the slot it was waiting for is free.
struct InLine<'a, T> {
    /// The channel.
    chan: &'a Mutex<Chan<T>>,
    /// The ticket while in line.
    ticket: Option<u64>,
}

impl<T> Drop for InLine<'_, T> {
    fn drop(&mut self) {
        let Some(t) = self.ticket else { return };
        let next = {
            let mut c = lock(self.chan);
            c.waiting.retain(|(w, _)| *w != t);
            c.next_sender()
        };
        if let Some(w) = next {
            w.wake();
        }
    }
}
