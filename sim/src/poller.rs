//! `SimPoller`: a reactor's view of the world, implementing the `Scheduler` seam. Every call is
//! a method of the world; nothing here touches a real socket or the wall clock.

use std::cell::RefCell;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use doppel_core::driver::{Event, Fd, Scheduler, TaskId, Token, WakeHandle};
use doppel_core::time::Instant;

use crate::world::World;

/// Wakes of a reactor from outside its own turn (another host's task, a foreign waker): noted
/// for the driver, which puts the reactor back in the ready set.
#[derive(Debug, Default)]
pub(crate) struct Pokes {
    /// The poked reactors.
    pub(crate) list: Mutex<Vec<usize>>,
    /// Whether `list` may be non-empty, so the driver's per-step check takes no lock.
    pub(crate) any: std::sync::atomic::AtomicBool,
}

/// The wake handle of one simulated reactor.
#[derive(Debug)]
struct SimWake {
    /// Shared with the driver.
    pokes: Arc<Pokes>,
    reactor: usize,
}

impl WakeHandle for SimWake {
    fn wake(&self) {
        self.pokes
            .list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(self.reactor);
        self.pokes
            .any
            .store(true, std::sync::atomic::Ordering::Release);
    }

    fn wants_every_wake(&self) -> bool {
        true
    }
}

/// One reactor's scheduler in the simulated world.
#[derive(Debug)]
pub(crate) struct SimPoller {
    pub(crate) world: Rc<RefCell<World>>,
    /// Which reactor this is.
    pub(crate) reactor: usize,
    pub(crate) host: usize,
    /// Where cross-reactor wakes go.
    pub(crate) pokes: Arc<Pokes>,
}

impl SimPoller {
    fn w(&self) -> std::cell::RefMut<'_, World> {
        self.world.borrow_mut()
    }
}

impl Scheduler for SimPoller {
    fn now(&self) -> Instant {
        let w = self.world.borrow();
        w.hosts[self.host].clock.local(w.clock)
    }

    fn trace_time(&self) -> Instant {
        self.world.borrow().clock
    }

    fn wall_clock(&self) -> Duration {
        let w = self.world.borrow();
        w.hosts[self.host].clock.wall(w.clock)
    }

    fn poll(&mut self, _timeout: Option<Duration>, events: &mut Vec<Event>) -> io::Result<()> {
        let r = self.reactor;
        let mut w = self.w();
        let res = w.sys_poll(r, events);
        // The reactor's own poll is no task's call: only an `EINTR` from it is worth naming.
        if res.is_err() {
            w.spin.note(r, "poll", &res);
        }
        res
    }

    fn pick(&mut self, runnable: &[TaskId]) -> usize {
        let mut w = self.w();
        let w = &mut *w;
        let i = w
            .tasks
            .pick_task(self.reactor, runnable, w.clock, &mut w.rng.sched);
        w.hash
            .mix(&[0x91, self.reactor as u64, runnable[i].number()]);
        i
    }

    fn wake_handle(&self) -> Arc<dyn WakeHandle> {
        Arc::new(SimWake {
            pokes: self.pokes.clone(),
            reactor: self.reactor,
        })
    }

    fn register(&mut self, fd: Fd, token: Token) -> io::Result<()> {
        let r = self.reactor;
        self.w().sys_register(r, fd.raw(), token)
    }

    fn deregister(&mut self, fd: Fd) -> io::Result<()> {
        let r = self.reactor;
        self.w().sys_deregister(r, fd.raw())
    }

    fn listen(&mut self, addr: SocketAddr, backlog: Option<u32>) -> io::Result<Fd> {
        let h = self.host;
        self.w().sys_listen(h, addr, backlog).map(Fd::new)
    }

    fn accept(&mut self, listener: Fd) -> io::Result<(Fd, SocketAddr)> {
        let r = self.reactor;
        let mut w = self.w();
        let res = w.sys_accept(r, listener.raw());
        w.spin.note(r, "accept", &res);
        res.map(|(fd, a)| (Fd::new(fd), a))
    }

    fn socket(&mut self, _addr: SocketAddr) -> io::Result<Fd> {
        let h = self.host;
        self.w().sys_socket(h).map(Fd::new)
    }

    fn connect(&mut self, fd: Fd, addr: SocketAddr) -> io::Result<()> {
        let r = self.reactor;
        let mut w = self.w();
        let res = w.sys_connect(r, fd.raw(), addr);
        w.spin.note(r, "connect", &res);
        res
    }

    fn take_error(&mut self, fd: Fd) -> io::Result<Option<io::Error>> {
        let h = self.host;
        self.w().sys_take_error(h, fd.raw())
    }

    fn read(&mut self, fd: Fd, buf: &mut [u8]) -> io::Result<usize> {
        let r = self.reactor;
        let mut w = self.w();
        let res = w.sys_read(r, fd.raw(), buf);
        w.spin.note(r, "read", &res);
        res
    }

    fn write(&mut self, fd: Fd, buf: &[u8]) -> io::Result<usize> {
        let r = self.reactor;
        let mut w = self.w();
        let res = w.sys_write(r, fd.raw(), buf);
        w.spin.note(r, "write", &res);
        res
    }

    fn bind_datagram(&mut self, addr: SocketAddr) -> io::Result<Fd> {
        let h = self.host;
        self.w().sys_bind_datagram(h, addr).map(Fd::new)
    }

    fn connect_datagram(&mut self, fd: Fd, addr: SocketAddr) -> io::Result<()> {
        let h = self.host;
        self.w().sys_connect_datagram(h, fd.raw(), addr)
    }

    fn send_to(&mut self, fd: Fd, buf: &[u8], to: Option<SocketAddr>) -> io::Result<usize> {
        let r = self.reactor;
        let mut w = self.w();
        let res = w.sys_send_to(r, fd.raw(), buf, to);
        w.spin.note(r, "send_to", &res);
        res
    }

    fn recv_from(&mut self, fd: Fd, buf: &mut [u8], peek: bool) -> io::Result<(usize, SocketAddr)> {
        let r = self.reactor;
        let mut w = self.w();
        let res = w.sys_recv_from(r, fd.raw(), buf, peek);
        w.spin.note(r, "recv_from", &res);
        res
    }

    fn shutdown(&mut self, fd: Fd, how: Shutdown) -> io::Result<()> {
        let h = self.host;
        self.w().sys_shutdown(h, fd.raw(), how)
    }

    fn close(&mut self, fd: Fd) -> io::Result<()> {
        let r = self.reactor;
        let mut w = self.w();
        let res = w.sys_close(r, fd.raw());
        w.spin.note(r, "close", &res);
        res
    }

    fn local_addr(&self, fd: Fd) -> io::Result<SocketAddr> {
        self.world.borrow_mut().sys_local_addr(self.host, fd.raw())
    }

    fn peer_addr(&self, fd: Fd) -> io::Result<SocketAddr> {
        self.world.borrow_mut().sys_peer_addr(self.host, fd.raw())
    }

    fn set_nodelay(&mut self, fd: Fd, _nodelay: bool) -> io::Result<()> {
        let h = self.host;
        self.w().fd(h, fd.raw()).map(drop)
    }

    fn assertion(&mut self, site: &'static doppel_core::assertion::AssertSite, held: bool) {
        let h = self.host;
        self.w().assertion(h, site, held);
    }

    fn buggify(&mut self, site: &'static str, rate: f64) -> bool {
        self.w().buggify(site, rate)
    }

    /// `localhost` is the host itself; every host of the world answers to its name (up or
    /// crashed: a name outlives its host, as in DNS).
    fn resolve(&mut self, name: &str) -> io::Result<Vec<std::net::IpAddr>> {
        if name.eq_ignore_ascii_case("localhost") {
            return Ok(vec![std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)]);
        }
        let w = self.w();
        w.hosts
            .iter()
            .find(|h| h.name == name)
            .map(|h| vec![h.ip])
            .ok_or_else(|| doppel_core::net::name_not_known(name))
    }
}
