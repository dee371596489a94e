//! `TcpStream`: a connected socket, read and written through the retry loop.

use std::future::{poll_fn, Future};
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::addr::ToSocketAddr;
use super::chunk::Chunk;
use crate::driver::fd::Fd;
use crate::driver::instant::Instant;
use crate::driver::ready::Direction;
use crate::driver::scheduler::Scheduler;
use crate::error;
use crate::fd::registration::{ParkGuard, Registration};
use crate::fd::retry::{Parked, Retry, Wait};
use crate::reactor;
use crate::trace::{self, Call};

/// A TCP connection on the current reactor.
///
/// Reads and writes take `&self`: share the stream (`Rc<TcpStream>`, or `&TcpStream` across
/// `join`) to read in one task and write or close in another. Two tasks reading at once is a
/// bug doppel reports with a "double wait" panic, as Go does. Dropping the stream closes it.
#[derive(Debug)]
pub struct TcpStream {
    /// The registered socket.
    reg: Registration,
}

/// True for a connect result that means "the handshake goes on in the background" (F3: an
/// interrupted connect is never re-issued; it completes asynchronously).
fn connect_pending(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINPROGRESS | libc::EALREADY | libc::EINTR)
    ) || e.kind() == io::ErrorKind::Interrupted
}

/// Where a connect in progress stands once its socket is writable: `Ok` connected, an error
/// it failed with, or `WouldBlock` still in progress (a spurious edge, F16; or `SO_ERROR` says
/// so). A socket that hung up without saying why is `ENOTCONN`, since waiting again on a
/// hang-up would return at once and spin.
fn connect_outcome(s: &mut dyn Scheduler, fd: Fd, reg: &Registration) -> io::Result<()> {
    let so_error = s.take_error(fd);
    let errno = match &so_error {
        Ok(e) => e.as_ref().map_or(0, trace::errno_of),
        Err(e) => trace::errno_of(e),
    };
    trace::event!("doppel::net", "so_error", fd = fd.0, errno = errno);
    match so_error {
        Ok(Some(e)) | Err(e) if connect_pending(&e) => {}
        Ok(Some(e)) | Err(e) => return Err(e),
        Ok(None) => match s.peer_addr(fd) {
            Ok(_) => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => {}
            Err(e) => return Err(e),
        },
    }
    if reg.hung_up(Direction::Write) {
        return Err(io::Error::from_raw_os_error(libc::ENOTCONN));
    }
    Err(io::ErrorKind::WouldBlock.into())
}

impl TcpStream {
    pub(crate) fn from_registration(reg: Registration) -> TcpStream {
        TcpStream { reg }
    }

    /// The registered socket (for [`TcpStream::detach`]).
    pub(crate) fn registration(&self) -> &Registration {
        &self.reg
    }

    /// Connects to `addr`: a non-blocking connect, a wait for writability, then `SO_ERROR`.
    /// A wake-up with no error but no peer (spurious readiness, F16) waits again, as Go does.
    pub async fn connect(addr: impl ToSocketAddr) -> io::Result<TcpStream> {
        let addr = addr.lookup()?;
        let ctx = |e| error::context("connect", addr, e);
        let reactor = reactor::current_or_err("connect")?;
        let fd = reactor.with_sched(|s| s.socket(addr)).map_err(ctx)?;
        trace::event!("doppel::net", "socket", fd = fd.0);
        let reg = Registration::new(reactor, fd).map_err(ctx)?;
        let started = reg.with_sched(|s, fd| s.connect(fd, addr));
        let errno = started.as_ref().err().map_or(0, trace::errno_of);
        trace::event!("doppel::net", "connect", fd = fd.0, errno = errno);
        match started {
            Ok(()) => return Ok(TcpStream { reg }),
            Err(e) if connect_pending(&e) => reg.drained(Direction::Write),
            Err(e) => return Err(ctx(e)),
        }
        // One call of the retry loop: wait for writability, then ask `SO_ERROR`; "still in
        // progress" is `WouldBlock` to it, so it waits again.
        let mut guard = ParkGuard::new(&reg, Direction::Write);
        poll_fn(|cx| {
            reg.poll_io(
                Call::Wait,
                Direction::Write,
                Wait::Park(cx, true),
                Retry::Plain,
                &mut guard.parked,
                |s, fd| connect_outcome(s, fd, &reg),
            )
        })
        .await
        .map_err(ctx)?;
        drop(guard);
        Ok(TcpStream { reg })
    }

    /// The socket's descriptor (for diagnostics; the stream owns it).
    pub fn fd(&self) -> Fd {
        self.reg.fd()
    }

    /// Reads into `buf`; `Ok(0)` is end of stream (or an empty `buf`).
    pub fn read<'a>(&'a self, buf: &'a mut [u8]) -> Read<'a> {
        Read {
            stream: self,
            buf,
            guard: ParkGuard::new(&self.reg, Direction::Read),
        }
    }

    /// Waits for data holding no buffer, then reads up to [`CHUNK_SIZE`] bytes into one lent
    /// by the reactor's pool: the read for a server whose connections sit idle between requests
    /// (an idle connection then holds no read buffer). An empty [`Chunk`] is end of stream.
    /// Same retry loop, faults, deadlines and trace as [`TcpStream::read`].
    ///
    /// ```no_run
    /// # async fn echo(conn: doppel_core::net::TcpStream) -> std::io::Result<()> {
    /// loop {
    ///     let data = conn.read_chunk().await?;
    ///     if data.is_empty() {
    ///         return Ok(());
    ///     }
    ///     conn.write_all(&data).await?;
    /// } // `data` dropped: the buffer is back in the pool before the next wait
    /// # }
    /// ```
    ///
    /// [`CHUNK_SIZE`]: crate::net::CHUNK_SIZE
    pub fn read_chunk(&self) -> ReadChunk<'_> {
        ReadChunk {
            stream: self,
            guard: ParkGuard::new(&self.reg, Direction::Read),
        }
    }

    /// Writes some of `buf`, returning how much was accepted.
    pub fn write<'a>(&'a self, buf: &'a [u8]) -> Write<'a> {
        Write {
            stream: self,
            buf,
            guard: ParkGuard::new(&self.reg, Direction::Write),
        }
    }

    /// Writes all of `buf`, waiting for buffer space as often as needed (a short write is
    /// never an error, F15).
    pub fn write_all<'a>(&'a self, buf: &'a [u8]) -> WriteAll<'a> {
        WriteAll {
            stream: self,
            buf,
            guard: ParkGuard::new(&self.reg, Direction::Write),
        }
    }

    /// Waits until a read may make progress (data, EOF, an error, or an expired deadline).
    pub fn readable(&self) -> WaitReady<'_> {
        WaitReady {
            reg: &self.reg,
            guard: ParkGuard::new(&self.reg, Direction::Read),
        }
    }

    /// Waits until a write may make progress.
    pub fn writable(&self) -> WaitReady<'_> {
        WaitReady {
            reg: &self.reg,
            guard: ParkGuard::new(&self.reg, Direction::Write),
        }
    }

    /// Reads without waiting: `WouldBlock` if nothing is known to be there.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self.poll_read_with(Wait::NoPark, buf, &mut None) {
            Poll::Ready(r) => r,
            Poll::Pending => unreachable!("doppel: try_read parked"),
        }
    }

    /// Writes without waiting: `WouldBlock` if the send buffer is known to be full.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match self.poll_write_with(Wait::NoPark, buf, &mut None) {
            Poll::Ready(r) => r,
            Poll::Pending => unreachable!("doppel: try_write parked"),
        }
    }

    /// Raw, mio-style access, for code that runs its own I/O loop: waits for the next readiness
    /// edge in `dir`, consuming the current one first. Under edge triggering, data still queued
    /// when you call this raises no new edge: read until `WouldBlock` before waiting again
    /// (epoll(7)'s starvation pitfall, which the simulator catches).
    ///
    /// Traced as `net wait_edge fd=N dir=read`, then `net edge fd=N dir=read` when it ends.
    pub async fn wait_edge(&self, dir: Direction) -> io::Result<()> {
        trace::raw_wait(self.fd(), dir, None);
        let waited = self.reg.wait_edge(dir).await;
        trace::raw_wait(self.fd(), dir, Some(&waited));
        waited.map_err(|e| self.err("wait", e))
    }

    /// Raw access: exactly one `read(2)`, with its raw result. `Interrupted` and `WouldBlock`
    /// come back as errors and readiness is not tracked; doppel's own [`TcpStream::read`]
    /// retries and waits for you. For code that runs its own loop over [`TcpStream::wait_edge`].
    ///
    /// Traced as `net read_once fd=N asked=M n=K` (or `errno=EAGAIN` and the like).
    pub fn read_once(&self, buf: &mut [u8]) -> io::Result<usize> {
        let got = self.reg.with_sched(|s, fd| s.read(fd, buf));
        trace::raw_call(Call::Read, self.fd(), buf.len(), &got);
        got
    }

    /// Raw access: exactly one `write(2)`, with its raw result (see [`TcpStream::read_once`]).
    ///
    /// Traced as `net write_once fd=N asked=M n=K` (or `errno=EAGAIN` and the like).
    pub fn write_once(&self, buf: &[u8]) -> io::Result<usize> {
        let got = self.reg.with_sched(|s, fd| s.write(fd, buf));
        trace::raw_call(Call::Write, self.fd(), buf.len(), &got);
        got
    }

    /// One `write(2)` through the retry loop that never parks and keeps no short-write
    /// shortcut: `EINTR` is retried there, a full send buffer is `WouldBlock`, and a call
    /// after a short write tries the kernel again. For callers that must not wait at all (the
    /// refusal `net::serve` writes from its accept loop).
    pub(crate) fn write_now(&self, buf: &[u8]) -> io::Result<usize> {
        self.now(Call::Write, Direction::Write, |s, fd| s.write(fd, buf))
    }

    /// One `read(2)` the same way (see [`TcpStream::write_now`]).
    pub(crate) fn read_now(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.now(Call::Read, Direction::Read, |s, fd| s.read(fd, buf))
    }

    /// `op` through the retry loop, without parking.
    fn now(
        &self,
        call: Call,
        dir: Direction,
        op: impl FnMut(&mut dyn Scheduler, Fd) -> io::Result<usize>,
    ) -> io::Result<usize> {
        match self
            .reg
            .poll_io(call, dir, Wait::NoPark, Retry::Plain, &mut None, op)
        {
            Poll::Ready(r) => r,
            Poll::Pending => unreachable!("doppel: a call that never parks parked"),
        }
    }

    /// Shuts down the read half, the write half (sends FIN), or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        trace::event!("doppel::net", "shutdown", fd = self.fd().0, how = how as u8);
        self.reg
            .with_sched(|s, fd| s.shutdown(fd, how))
            .map_err(|e| self.err("shutdown", e))
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.reg.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.reg.local_addr()
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.reg
            .with_sched(|s, fd| s.set_nodelay(fd, nodelay))
            .map_err(|e| self.err("setsockopt TCP_NODELAY", e))
    }

    /// Sets the absolute read deadline (`None` clears it). A read parked past it, or started
    /// after it, fails with `TimedOut`, even if data is ready (Go's semantics). Moving the
    /// deadline later before it passes means it does not fire; clearing it lets reads block again.
    pub fn set_read_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.reg.set_deadline(Direction::Read, deadline)
    }

    /// Sets the absolute write deadline (`None` clears it).
    pub fn set_write_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.reg.set_deadline(Direction::Write, deadline)
    }

    /// Sets both deadlines.
    pub fn set_deadline(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.reg.set_deadlines(deadline)
    }

    /// Closes the socket now. Tasks parked on it wake with an error in this turn; later calls
    /// fail with "use of closed socket". Dropping the stream does the same.
    pub fn close(&self) -> io::Result<()> {
        self.reg.close().map_err(|e| self.err("close", e))
    }

    fn err(&self, op: &'static str, e: io::Error) -> io::Error {
        error::context(op, self.fd(), e)
    }

    fn poll_read_with(
        &self,
        wait: Wait<'_, '_>,
        buf: &mut [u8],
        parked: &mut Parked,
    ) -> Poll<io::Result<usize>> {
        let len = buf.len();
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        let res = ready!(self.reg.poll_io(
            Call::Read,
            Direction::Read,
            wait,
            Retry::Plain,
            parked,
            |s, fd| s.read(fd, buf)
        ));
        Poll::Ready(match res {
            Ok(n) => {
                if n > 0 && n < len {
                    self.reg.short_transfer(Direction::Read);
                }
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(e),
            Err(e) => Err(self.err("read", e)),
        })
    }

    fn poll_write_with(
        &self,
        wait: Wait<'_, '_>,
        buf: &[u8],
        parked: &mut Parked,
    ) -> Poll<io::Result<usize>> {
        let len = buf.len();
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        let res = ready!(self.reg.poll_io(
            Call::Write,
            Direction::Write,
            wait,
            Retry::Plain,
            parked,
            |s, fd| s.write(fd, buf)
        ));
        Poll::Ready(match res {
            Ok(n) => {
                if n < len {
                    self.reg.short_transfer(Direction::Write);
                }
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(e),
            Err(e) => Err(self.err("write", e)),
        })
    }
}

/// The future of [`TcpStream::read`].
#[derive(Debug)]
pub struct Read<'a> {
    stream: &'a TcpStream,
    /// Where the bytes go.
    buf: &'a mut [u8],
    /// Un-parks on drop.
    guard: ParkGuard<'a>,
}

impl Future for Read<'_> {
    type Output = io::Result<usize>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.stream
            .poll_read_with(Wait::Park(cx, true), this.buf, &mut this.guard.parked)
    }
}

/// The future of [`TcpStream::read_chunk`].
#[derive(Debug)]
pub struct ReadChunk<'a> {
    stream: &'a TcpStream,
    /// Un-parks on drop.
    guard: ParkGuard<'a>,
}

impl Future for ReadChunk<'_> {
    type Output = io::Result<Chunk>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let stream = this.stream;
        let pool = &stream.reg.reactor().chunks;
        // Taken only when the retry loop is about to call `read(2)`: a wait holds no buffer.
        let mut lent: Option<Box<[u8]>> = None;
        let res = stream.reg.poll_io(
            Call::Read,
            Direction::Read,
            Wait::Park(cx, true),
            Retry::Plain,
            &mut this.guard.parked,
            |s, fd| s.read(fd, lent.get_or_insert_with(|| pool.take())),
        );
        match (res, lent) {
            (Poll::Ready(Ok(n)), Some(buf)) => {
                if n > 0 && n < buf.len() {
                    stream.reg.short_transfer(Direction::Read);
                }
                Poll::Ready(Ok(Chunk::new(buf, n, pool.clone())))
            }
            (res, lent) => {
                if let Some(buf) = lent {
                    pool.put(buf);
                }
                match res {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                        Poll::Ready(Err(e))
                    }
                    Poll::Ready(Err(e)) => Poll::Ready(Err(stream.err("read", e))),
                    Poll::Ready(Ok(_)) => unreachable!("doppel: a read returned without a buffer"),
                }
            }
        }
    }
}

/// The future of [`TcpStream::write`].
#[derive(Debug)]
pub struct Write<'a> {
    stream: &'a TcpStream,
    /// The bytes.
    buf: &'a [u8],
    /// Un-parks on drop.
    guard: ParkGuard<'a>,
}

impl Future for Write<'_> {
    type Output = io::Result<usize>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.stream
            .poll_write_with(Wait::Park(cx, true), this.buf, &mut this.guard.parked)
    }
}

/// The future of [`TcpStream::write_all`].
#[derive(Debug)]
pub struct WriteAll<'a> {
    stream: &'a TcpStream,
    /// What is left to write.
    buf: &'a [u8],
    /// Un-parks on drop.
    guard: ParkGuard<'a>,
}

impl Future for WriteAll<'_> {
    type Output = io::Result<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while !this.buf.is_empty() {
            let wait = Wait::Park(cx, true);
            let n = ready!(this
                .stream
                .poll_write_with(wait, this.buf, &mut this.guard.parked))?;
            if n == 0 {
                let e = io::Error::new(io::ErrorKind::WriteZero, "the socket accepted 0 bytes");
                return Poll::Ready(Err(this.stream.err("write", e)));
            }
            this.buf = &this.buf[n..];
        }
        Poll::Ready(Ok(()))
    }
}

/// The future of [`TcpStream::readable`] and [`TcpStream::writable`].
#[derive(Debug)]
pub struct WaitReady<'a> {
    /// The socket.
    reg: &'a Registration,
    /// The slot, and un-parking on drop.
    guard: ParkGuard<'a>,
}

impl Future for WaitReady<'_> {
    type Output = io::Result<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let dir = this.guard.dir();
        this.reg
            .poll_ready(dir, cx, &mut this.guard.parked)
            .map_err(|e| error::context("wait", this.reg.fd(), e))
    }
}

impl futures_io::AsyncRead for &TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_with(Wait::Park(cx, false), buf, &mut None)
    }
}

impl futures_io::AsyncWrite for &TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(Wait::Park(cx, false), buf, &mut None)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Sends FIN (shuts down the write half); the socket stays open for reading.
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

impl futures_io::AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_read(cx, buf)
    }
}

impl futures_io::AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_flush(cx)
    }

    /// Sends FIN (shuts down the write half); the socket stays open for reading.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_close(cx)
    }
}
