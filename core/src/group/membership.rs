//! A reactor's place in its group: the inbox other reactors and threads send it jobs through,
//! and which group it belongs to, at which index.

use std::cell::RefCell;
use std::sync::Arc;

use super::inbox::{Doorbell, Inbox, Job, Remote};
use super::Group;
use crate::driver::task_id::TaskId;
use crate::task::queue::{RunQueue, TaskWaker};

/// What a reactor knows of its group.
pub(crate) struct Membership {
    /// Jobs sent from other reactors and threads.
    inbox: Arc<Inbox>,
    /// The group this reactor belongs to, and its index there.
    group: RefCell<Option<(Arc<Group>, usize)>>,
}

impl Membership {
    /// A reactor alone (no group yet) whose inbox wakes it through `queue`.
    pub(crate) fn new(queue: &Arc<RunQueue>) -> Membership {
        let bell: Arc<dyn Doorbell> = TaskWaker::new(TaskId::INBOX, queue.clone());
        Membership {
            inbox: Arc::new(Inbox::new(bell)),
            group: RefCell::new(None),
        }
    }

    /// A handle other reactors and threads use to send this one jobs.
    pub(crate) fn remote(&self) -> Remote {
        Remote {
            inbox: self.inbox.clone(),
        }
    }

    /// The group this reactor belongs to, with its index there.
    pub(crate) fn group(&self) -> Option<(Arc<Group>, usize)> {
        self.group.borrow().clone()
    }

    /// Makes this reactor number `index` of `group`.
    pub(crate) fn join(&self, group: Arc<Group>, index: usize) {
        *self.group.borrow_mut() = Some((group, index));
    }

    /// Every job waiting in the inbox, in arrival order (the caller runs them with the reactor
    /// current).
    pub(crate) fn take_jobs(&self) -> Vec<Job> {
        self.inbox.take()
    }

    /// Leaves the group and refuses further jobs; returns the ones never run (dropping them,
    /// with the reactor current, cancels their callers' handles).
    pub(crate) fn close(&self) -> Vec<Job> {
        let unrun = self.inbox.close();
        self.group.borrow_mut().take();
        unrun
    }
}
