//! [`NetControl`]: a test's handle on the links of the world it runs in, to hold one at a point
//! of the test and release it at another (the world's side is `hold.rs`).

use std::cell::RefCell;
use std::io;
use std::rc::{Rc, Weak};

use super::World;
use crate::host_id::HostId;

/// Holds and releases links of a running world from inside it: a test's client calls
/// [`NetControl::hold`] at one point and [`NetControl::release`] at another (turmoil's
/// `hold`/`release`). Get one from [`crate::SimBuilder::net_control`] before building; it acts
/// on the world most recently built from that builder (or a clone of it).
///
/// While a link is held, its TCP segments and FINs and its datagrams wait (a handshake, a
/// reset or a window update still passes); on release they leave in the order they were sent.
#[derive(Clone, Default)]
pub struct NetControl {
    /// The world, once built.
    world: Rc<RefCell<Weak<RefCell<World>>>>,
}

impl std::fmt::Debug for NetControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NetControl")
    }
}

impl NetControl {
    /// Attaches the handle to a freshly built world.
    pub(crate) fn attach(&self, world: &Rc<RefCell<World>>) {
        *self.world.borrow_mut() = Rc::downgrade(world);
    }

    /// Holds both directions of the link between hosts `a` and `b`: what they send each
    /// other waits until [`NetControl::release`]. An unknown host name, or no running world,
    /// is an error naming it.
    pub fn hold(&self, a: &str, b: &str) -> io::Result<()> {
        self.with(a, b, |w, a, b| w.hold(a, b)).map(drop)
    }

    /// Releases a held link: what waited leaves now, in order, and the link carries messages
    /// again. Returns how many messages were released.
    pub fn release(&self, a: &str, b: &str) -> io::Result<usize> {
        self.with(a, b, |w, a, b| w.release(a, b))
    }

    /// How many messages wait on the held link between `a` and `b`.
    pub fn held(&self, a: &str, b: &str) -> io::Result<usize> {
        self.with(a, b, |w, a, b| w.held_count(a, b))
    }

    fn with<T>(
        &self,
        a: &str,
        b: &str,
        f: impl FnOnce(&mut World, HostId, HostId) -> T,
    ) -> io::Result<T> {
        let world = self.world.borrow().upgrade().ok_or_else(|| {
            io::Error::other("net control: no running world (build the SimBuilder it came from)")
        })?;
        let mut w = world.borrow_mut();
        let find = |n: &str| {
            w.hosts.iter().position(|h| h.name == n).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("net control: no host named {n:?}"),
                )
            })
        };
        let (a, b) = (find(a)?, find(b)?);
        Ok(f(&mut w, a, b))
    }
}
