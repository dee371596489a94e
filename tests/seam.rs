//! The seam, exercised by a scripted `Scheduler` written against the public trait: exactly the
//! position the simulator will be in. Each test scripts what the "kernel" says and checks that
//! the core's one retry loop and pollDesc do the right thing, counting that each fault fired.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use doppel::driver::{Drive, Event, Fd, Label, Ready, Token, WakeHandle};
use doppel::net::{TcpListener, TcpStream};
use doppel::time::Instant;
use doppel::{Runtime, Scheduler, TaskId};

/// One scripted `poll` result.
#[derive(Debug, Clone)]
enum Step {
    /// Readiness for the newest registration of an fd.
    Ready(i32, Ready),
    /// Readiness for the oldest registration of an fd: stale once the fd was closed and reused.
    Stale(i32, Ready),
    /// `poll` fails with EINTR.
    Interrupted,
}

/// What the scripted kernel knows.
#[derive(Debug, Default)]
struct Kernel {
    /// Virtual time in nanoseconds; `poll` with nothing scripted jumps to its timeout.
    now: u64,
    /// Every token each fd was registered with, oldest first.
    tokens: BTreeMap<i32, Vec<Token>>,
    /// `poll` results, in order.
    steps: VecDeque<Step>,
    /// Scripted results per fd for `read` (bytes, or an errno).
    reads: BTreeMap<i32, VecDeque<Result<Vec<u8>, i32>>>,
    /// Scripted `accept` results (an fd, or an errno).
    accepts: VecDeque<Result<i32, i32>>,
    /// Scripted `connect` result and `SO_ERROR` values.
    connects: VecDeque<Result<(), i32>>,
    /// Scripted `take_error` results.
    so_errors: VecDeque<i32>,
    /// The next fd `listen`/`socket` hands out.
    next_fd: i32,
    /// fds closed, in order.
    closed: Vec<i32>,
    /// The sizes of the runnable sets `pick` was asked about.
    picks: Vec<usize>,
}

struct Scripted(Rc<RefCell<Kernel>>);

struct NoWake;
impl WakeHandle for NoWake {
    fn wake(&self) {}
}

fn errno(e: i32) -> io::Error {
    io::Error::from_raw_os_error(e)
}

impl Scheduler for Scripted {
    fn now(&self) -> Instant {
        Instant::from_nanos(self.0.borrow().now)
    }
    fn poll(&mut self, timeout: Option<Duration>, out: &mut Vec<Event>) -> io::Result<()> {
        let mut k = self.0.borrow_mut();
        let newest = |k: &Kernel, fd: i32| *k.tokens[&fd].last().expect("registered");
        match k.steps.pop_front() {
            Some(Step::Ready(fd, ready)) => out.push(Event {
                token: newest(&k, fd),
                ready,
            }),
            Some(Step::Stale(fd, ready)) => out.push(Event {
                token: k.tokens[&fd][0],
                ready,
            }),
            Some(Step::Interrupted) => return Err(errno(libc::EINTR)),
            None => match timeout {
                Some(d) => k.now += d.as_nanos() as u64,
                None => panic!("stall: poll(None) with nothing scripted"),
            },
        }
        Ok(())
    }
    fn pick(&mut self, runnable: &[TaskId]) -> usize {
        self.0.borrow_mut().picks.push(runnable.len());
        runnable.len() - 1 // LIFO: the opposite of the real backend's FIFO
    }
    fn wake_handle(&self) -> Arc<dyn WakeHandle> {
        Arc::new(NoWake)
    }
    fn register(&mut self, fd: Fd, token: Token) -> io::Result<()> {
        self.0
            .borrow_mut()
            .tokens
            .entry(fd.raw())
            .or_default()
            .push(token);
        Ok(())
    }
    fn deregister(&mut self, _fd: Fd) -> io::Result<()> {
        Ok(())
    }
    fn listen(&mut self, _addr: SocketAddr, _backlog: Option<u32>) -> io::Result<Fd> {
        self.socket("0.0.0.0:0".parse().unwrap())
    }
    fn accept(&mut self, _l: Fd) -> io::Result<(Fd, SocketAddr)> {
        match self.0.borrow_mut().accepts.pop_front() {
            Some(Ok(fd)) => Ok((Fd::new(fd), "10.0.0.2:4000".parse().unwrap())),
            Some(Err(e)) => Err(errno(e)),
            None => Err(errno(libc::EAGAIN)),
        }
    }
    fn socket(&mut self, _addr: SocketAddr) -> io::Result<Fd> {
        let mut k = self.0.borrow_mut();
        k.next_fd = k.next_fd.max(3) + 1;
        Ok(Fd::new(k.next_fd - 1))
    }
    fn connect(&mut self, _fd: Fd, _addr: SocketAddr) -> io::Result<()> {
        self.0
            .borrow_mut()
            .connects
            .pop_front()
            .unwrap_or(Ok(()))
            .map_err(errno)
    }
    fn take_error(&mut self, _fd: Fd) -> io::Result<Option<io::Error>> {
        let e = self.0.borrow_mut().so_errors.pop_front().unwrap_or(0);
        Ok((e != 0).then(|| errno(e)))
    }
    fn read(&mut self, fd: Fd, buf: &mut [u8]) -> io::Result<usize> {
        let mut k = self.0.borrow_mut();
        match k.reads.get_mut(&fd.raw()).and_then(VecDeque::pop_front) {
            Some(Ok(bytes)) => {
                buf[..bytes.len()].copy_from_slice(&bytes);
                Ok(bytes.len())
            }
            Some(Err(e)) => Err(errno(e)),
            None => Err(errno(libc::EAGAIN)),
        }
    }
    fn write(&mut self, _fd: Fd, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn shutdown(&mut self, _fd: Fd, _how: Shutdown) -> io::Result<()> {
        Ok(())
    }
    fn close(&mut self, fd: Fd) -> io::Result<()> {
        self.0.borrow_mut().closed.push(fd.raw());
        Err(errno(libc::EINTR)) // F4: closed anyway, and must not be retried
    }
    fn local_addr(&self, _fd: Fd) -> io::Result<SocketAddr> {
        Ok("10.0.0.1:80".parse().unwrap())
    }
    fn peer_addr(&self, _fd: Fd) -> io::Result<SocketAddr> {
        Ok("10.0.0.2:4000".parse().unwrap())
    }
    fn set_nodelay(&mut self, _fd: Fd, _nodelay: bool) -> io::Result<()> {
        Ok(())
    }
}

fn scripted() -> (Runtime, Rc<RefCell<Kernel>>) {
    let k = Rc::new(RefCell::new(Kernel::default()));
    (Runtime::new(Box::new(Scripted(k.clone()))), k)
}

#[test]
fn accept_retries_aborted_and_interrupted_and_stale_events_never_reach_the_new_owner() {
    let (rt, k) = scripted();
    {
        let mut k = k.borrow_mut();
        // accept: a connection that died in the queue, then EINTR, then fd 4.
        k.accepts
            .extend([Err(libc::ECONNABORTED), Err(libc::EINTR), Ok(4), Ok(4)]);
        // The second owner of fd 4 reads "hi" only after its own edge.
        k.reads.insert(4, VecDeque::from([Ok(b"hi".to_vec())]));
        k.steps.extend([
            Step::Ready(3, Ready::READABLE), // connections arrive at the listener
            Step::Stale(4, Ready::READABLE), // queued for the first owner of fd 4
            Step::Interrupted,
            Step::Ready(4, Ready::READABLE),
        ]);
    }
    let got = rt.block_on(async {
        let l = TcpListener::bind("10.0.0.1:80").unwrap();
        let (first, _) = l.accept().await.unwrap();
        first.close().unwrap(); // EINTR from close counts as closed
        let (second, _) = l.accept().await.unwrap();
        assert_eq!(second.fd(), first.fd(), "fd 4 reused");
        let mut buf = [0u8; 8];
        let n = second.read(&mut buf).await.unwrap();
        buf[..n].to_vec()
    });
    assert_eq!(got, b"hi");
    let s = rt.stats();
    assert_eq!(
        s.accept_retries, 1,
        "ECONNABORTED fired once and was retried"
    );
    assert_eq!(
        s.eintr_retries, 1,
        "EINTR at accept fired once and was retried"
    );
    assert_eq!(
        s.stale_events, 1,
        "the old registration's event was dropped"
    );
    assert_eq!(s.poll_interrupted, 1, "EINTR from poll was an empty round");
    // Each owner closed once despite EINTR: the first fd 4, the second fd 4, the listener.
    assert_eq!(k.borrow().closed, vec![4, 4, 3], "close was never retried");
}

#[test]
fn spurious_readiness_is_followed_by_would_block_and_a_second_wait() {
    let (rt, k) = scripted();
    {
        let mut k = k.borrow_mut();
        k.accepts.push_back(Ok(4));
        let reads = [Err(libc::EAGAIN), Ok(b"late".to_vec())];
        k.reads.insert(4, VecDeque::from(reads));
        k.steps.extend([
            Step::Ready(3, Ready::READABLE),
            Step::Ready(4, Ready::READABLE), // spurious: the read says EAGAIN
            Step::Ready(4, Ready::READABLE),
        ]);
    }
    rt.block_on(async {
        let l = TcpListener::bind("10.0.0.1:80").unwrap();
        let (s, _) = l.accept().await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(s.read(&mut buf).await.unwrap(), 4);
    });
    let s = rt.stats();
    assert_eq!(s.read_would_block, 1, "the spurious edge's EAGAIN");
    assert_eq!(
        s.read_parks, 3,
        "accept, the first read, and again after the spurious edge"
    );
}

#[test]
fn interrupted_connect_waits_for_writable_and_a_spurious_edge_waits_again() {
    let (rt, k) = scripted();
    {
        let mut k = k.borrow_mut();
        k.connects.push_back(Err(libc::EINTR)); // F3: never re-issue connect
        k.so_errors.extend([libc::EINPROGRESS, 0]); // spurious writable first, then done
        k.steps.extend([
            Step::Ready(3, Ready::WRITABLE),
            Step::Ready(3, Ready::WRITABLE),
        ]);
    }
    rt.block_on(async {
        let s = TcpStream::connect("10.0.0.9:80").await.unwrap();
        assert_eq!(s.fd(), Fd::new(3));
    });
    assert_eq!(
        rt.stats().write_parks,
        2,
        "parked once, and again after the spurious edge"
    );
}

#[test]
fn refused_connect_reports_so_error_with_the_address() {
    let (rt, k) = scripted();
    {
        let mut k = k.borrow_mut();
        k.connects.push_back(Err(libc::EINPROGRESS));
        k.so_errors.push_back(libc::ECONNREFUSED);
        k.steps
            .push_back(Step::Ready(3, Ready::WRITABLE | Ready::ERROR));
    }
    let err = rt.block_on(TcpStream::connect("10.0.0.9:80")).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    assert_eq!(doppel::error::errno(&err), Some(libc::ECONNREFUSED));
    assert!(
        err.to_string().starts_with("connect 10.0.0.9:80: "),
        "{err}"
    );
    assert_eq!(k.borrow().closed, vec![3], "the failed socket was closed");
}

/// A backend hosting a runtime the way the simulator does: built with a label, stepped one
/// turn at a time through `driver::Drive`, asked what it waits for between turns.
#[test]
fn a_backend_steps_a_hosted_runtime_through_the_driver_seam() {
    let k = Rc::new(RefCell::new(Kernel::default()));
    let label = Label {
        host: Arc::from("box"),
        reactor: 0,
        time: true,
    };
    // The first poll is interrupted, so the first turn ends with the sleep still pending.
    k.borrow_mut().steps.push_back(Step::Interrupted);
    let rt = doppel::driver::runtime(Box::new(Scripted(k.clone())), label);
    let done = Rc::new(RefCell::new(false));
    let flag = done.clone();
    rt.spawn(async move {
        doppel::time::sleep(Duration::from_millis(5)).await;
        *flag.borrow_mut() = true;
    });
    assert!(
        rt.has_runnable(),
        "a spawned task is runnable before its first turn"
    );
    assert_eq!((rt.tasks(), rt.registered()), (1, 0));
    let first = rt.turn();
    assert_eq!(first.ran, 1, "the first turn polls the task once");
    assert!(!first.main_done, "no block_on future outside block_on");
    assert_eq!(
        rt.stats().poll_interrupted,
        1,
        "the scripted EINTR was seen"
    );
    assert_eq!(rt.next_timer(), Some(Instant::from_nanos(5_000_000)));
    let blocked = rt.blocked();
    assert!(
        blocked
            .iter()
            .any(|b| b == "t1 waits (timer, channel or join)"),
        "{blocked:?}"
    );
    rt.turn();
    assert_eq!(
        k.borrow().now,
        5_000_000,
        "the idle poll jumped to the timer"
    );
    assert!(rt.has_runnable(), "the fired sleep woke its task");
    // The task's last turn ends in a poll with nothing left to wait for: script its answer.
    k.borrow_mut().steps.push_back(Step::Interrupted);
    rt.turn();
    assert!(*done.borrow(), "the task ran to its end");
    assert_eq!(rt.tasks(), 0, "the finished task is gone");
    assert_eq!(rt.next_timer(), None);
}

#[test]
#[allow(clippy::disallowed_methods)] // The wall clock measures the test, not the runtime.
fn the_scheduler_picks_the_order_and_virtual_time_jumps() {
    let (rt, k) = scripted();
    let order = Rc::new(RefCell::new(Vec::new()));
    let start = std::time::Instant::now();
    rt.block_on(async {
        let hs: Vec<_> = (0..3)
            .map(|i| {
                let order = order.clone();
                doppel::spawn(async move { order.borrow_mut().push(i) })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        doppel::time::sleep(Duration::from_secs(3600)).await;
        assert!(doppel::time::Instant::now() >= Instant::from_nanos(3_600_000_000_000));
    });
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "an hour of virtual time is instant"
    );
    assert_eq!(
        *order.borrow(),
        vec![2, 1, 0],
        "LIFO pick ran the last-spawned first"
    );
    assert!(k.borrow().picks.iter().any(|&n| n >= 3));
}

#[test]
fn serve_backs_off_when_the_process_is_out_of_descriptors_and_goes_on() {
    let (rt, k) = scripted();
    {
        let mut k = k.borrow_mut();
        // EMFILE twice (the process is full), then a connection: fd 4.
        k.accepts
            .extend([Err(libc::EMFILE), Err(libc::EMFILE), Ok(4)]);
        k.steps.push_back(Step::Ready(3, Ready::READABLE));
    }
    let (fd, waited) = rt
        .block_on(async {
            let listener = TcpListener::bind("10.0.0.1:80")?;
            let start = Instant::now();
            let (tx, rx) = doppel::sync::oneshot::channel::<i32>();
            let tx = std::sync::Mutex::new(Some(tx));
            let server = doppel::spawn(doppel::net::serve(listener, move |c: TcpStream| {
                if let Some(t) = tx.lock().unwrap().take() {
                    let _ = t.send(c.fd().raw());
                }
                async { Ok(()) }
            }));
            let fd = rx.await.map_err(io::Error::other)?;
            server.abort();
            io::Result::Ok((fd, Instant::now() - start))
        })
        .unwrap();
    assert_eq!(fd, 4, "the server kept accepting after EMFILE");
    // Backed off 5 ms, then 10 ms, rather than spinning or giving up.
    assert!(waited >= Duration::from_millis(15), "{waited:?}");
    assert!(
        k.borrow().accepts.is_empty(),
        "every scripted accept was made"
    );
}
