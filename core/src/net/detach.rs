//! Moving a connection between reactors: [`TcpStream::detach`] takes it off its reactor's
//! poller, open, as a [`Detached`] that may cross threads; [`Detached::attach`] registers it with
//! the reactor it lands on. This is how the main reactor hands accepted connections to
//! sub-reactors; afterwards the connection's readiness, deadlines and tasks all live on the
//! sub-reactor, so no round trip ever crosses reactors.

use std::io;

use super::stream::TcpStream;
use crate::driver::fd::Fd;
use crate::error;
use crate::fd::registration::Registration;
use crate::reactor;

/// An open connection that belongs to no reactor yet. Attach it on the reactor that will serve
/// it; dropped unattached, it is closed through the current reactor (a detached stream dropped
/// on a thread with no runtime leaks its descriptor, as there is no poller to close it with).
#[derive(Debug)]
#[must_use = "a detached stream does nothing until attached"]
pub struct Detached {
    /// The descriptor, until attached.
    fd: Option<Fd>,
}

impl TcpStream {
    /// Takes the stream off this reactor, open (see [`Detached`]). Tasks parked on it wake
    /// with a "use of closed socket" error, as after a close.
    pub fn detach(self) -> io::Result<Detached> {
        let fd = self
            .registration()
            .detach()
            .map_err(|e| error::context("detach", self.fd(), e))?;
        Ok(Detached { fd: Some(fd) })
    }
}

impl Detached {
    /// The descriptor.
    pub fn fd(&self) -> Option<Fd> {
        self.fd
    }

    /// Registers the connection with the current reactor.
    pub fn attach(mut self) -> io::Result<TcpStream> {
        let fd = self
            .fd
            .take()
            .ok_or_else(|| io::Error::other("attach: already attached"))?;
        let reactor = match reactor::current_or_err("attach") {
            Ok(r) => r,
            Err(e) => {
                self.fd = Some(fd);
                return Err(e);
            }
        };
        crate::trace::event!("doppel::net", "attach", fd = fd.0);
        let reg = Registration::new(reactor, fd).map_err(|e| error::context("attach", fd, e))?;
        Ok(TcpStream::from_registration(reg))
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        if let (Some(fd), Some(r)) = (self.fd.take(), reactor::current()) {
            let _ = r.with_sched(|s| s.close(fd));
        }
    }
}
