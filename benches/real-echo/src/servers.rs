//! The single-threaded echo servers (doppel, tokio current-thread, mio) and the dispatch to
//! every server, the multi-threaded ones of `multi_servers` included. Each holds no buffer while
//! a connection is idle (the buffer is allocated on first data), so RSS per idle connection
//! measures the runtime, not the server.

use std::cell::Cell;
use std::io::{Read, Write};
use std::process::ExitCode;
use std::rc::Rc;

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    /// doppel's single-reactor runtime (`doppel::real::runtime`).
    Doppel,
    /// tokio's current-thread runtime with a `LocalSet`.
    Tokio,
    /// A hand-written mio loop.
    Mio,
    /// doppel's multi-reactor runtime: a main reactor accepting, two sub-reactors serving.
    DoppelMulti,
    /// tokio's multi-thread runtime with two worker threads.
    TokioMt,
}

impl Impl {
    /// The single-threaded servers `all` compares.
    pub const ALL: [Impl; 3] = [Impl::Doppel, Impl::Tokio, Impl::Mio];

    /// The servers `multi` compares: the multi-threaded two, and doppel's single reactor.
    pub const MULTI: [Impl; 3] = [Impl::DoppelMulti, Impl::TokioMt, Impl::Doppel];

    /// The server named `s` on the command line.
    pub fn parse(s: &str) -> Option<Impl> {
        match s {
            "doppel" => Some(Impl::Doppel),
            "tokio" => Some(Impl::Tokio),
            "mio" => Some(Impl::Mio),
            "doppel-multi" => Some(Impl::DoppelMulti),
            "tokio-mt" => Some(Impl::TokioMt),
            _ => None,
        }
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Impl::Doppel => "doppel",
            Impl::Tokio => "tokio",
            Impl::Mio => "mio",
            Impl::DoppelMulti => "doppel-multi",
            Impl::TokioMt => "tokio-mt",
        }
    }
}

/// Each connection's buffer, once it has seen data.
pub const BUF: usize = 4096;

/// Raises the descriptor limit to the hard maximum (10,000 idle connections need it).
pub fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit on a live struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// Prints the listening port (the parent reads it from the first line of stdout).
pub fn announce(port: u16) {
    println!("{port}");
    std::io::stdout().flush().expect("stdout");
}

/// Runs one server until `exit_after` connections have closed (or forever).
pub fn serve(which: Impl, exit_after: Option<u64>) -> ExitCode {
    raise_fd_limit();
    let res = match which {
        Impl::Doppel => doppel_server(exit_after),
        Impl::Tokio => tokio_server(exit_after),
        Impl::Mio => mio_server(exit_after),
        Impl::DoppelMulti => crate::multi_servers::doppel_multi_server(exit_after),
        Impl::TokioMt => crate::multi_servers::tokio_mt_server(exit_after),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("serve {}: {e}", which.name());
            ExitCode::FAILURE
        }
    }
}

thread_local! {
    /// Connections closed so far, and the `--exit-after` limit: per server, not per task, so the
    /// handler futures hold nothing but the connection and its buffer.
    static CLOSED: Cell<u64> = const { Cell::new(0) };
    static EXIT_AFTER: Cell<u64> = const { Cell::new(u64::MAX) };
    static DOPPEL_LISTENER: std::cell::RefCell<Option<Rc<doppel::net::TcpListener>>> = const { std::cell::RefCell::new(None) };
    static TOKIO_STOP: std::cell::RefCell<Option<Rc<tokio::sync::Notify>>> = const { std::cell::RefCell::new(None) };
}

/// Counts a closed connection; true once the server should exit.
fn closed_one() -> bool {
    CLOSED.with(|c| c.set(c.get() + 1));
    CLOSED.with(Cell::get) >= EXIT_AFTER.with(Cell::get)
}

/// Echoes one connection on doppel's single reactor.
async fn doppel_conn(conn: doppel::net::TcpStream) {
    let mut buf = Vec::new();
    loop {
        if buf.is_empty() {
            // Allocate on first data: an idle connection holds no buffer.
            if conn.readable().await.is_err() {
                break;
            }
            buf = vec![0u8; BUF];
        }
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if conn.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
    drop(conn);
    if closed_one() {
        DOPPEL_LISTENER.with(|l| l.borrow().as_ref().map(|l| l.close()));
    }
}

/// `doppel`: one reactor accepts and serves, a task per connection.
fn doppel_server(exit_after: Option<u64>) -> std::io::Result<()> {
    EXIT_AFTER.with(|e| e.set(exit_after.unwrap_or(u64::MAX)));
    let rt = doppel::real::runtime()?;
    rt.block_on(async {
        let listener = Rc::new(doppel::net::TcpListener::bind("127.0.0.1:0")?);
        DOPPEL_LISTENER.with(|l| *l.borrow_mut() = Some(listener.clone()));
        announce(listener.local_addr()?.port());
        loop {
            let (conn, _) = match listener.accept().await {
                Ok(c) => c,
                Err(_) if CLOSED.with(Cell::get) >= EXIT_AFTER.with(Cell::get) => return Ok(()),
                Err(e) => return Err(e),
            };
            conn.set_nodelay(true)?;
            doppel::spawn(doppel_conn(conn));
        }
    })
}

/// Echoes one connection on tokio's current-thread runtime.
async fn tokio_conn(mut conn: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = Vec::new();
    loop {
        if buf.is_empty() {
            // Allocate on first data: an idle connection holds no buffer.
            if conn.readable().await.is_err() {
                break;
            }
            buf = vec![0u8; BUF];
        }
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if conn.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
    drop(conn);
    if closed_one() {
        TOKIO_STOP.with(|s| s.borrow().as_ref().map(|s| s.notify_one()));
    }
}

/// `tokio`: a current-thread runtime with a `LocalSet`, a local task per connection.
fn tokio_server(exit_after: Option<u64>) -> std::io::Result<()> {
    EXIT_AFTER.with(|e| e.set(exit_after.unwrap_or(u64::MAX)));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        announce(listener.local_addr()?.port());
        let stop = Rc::new(tokio::sync::Notify::new());
        TOKIO_STOP.with(|s| *s.borrow_mut() = Some(stop.clone()));
        loop {
            let accepted = tokio::select! {
                biased;
                _ = stop.notified() => return Ok(()),
                a = listener.accept() => a,
            };
            let (conn, _) = accepted?;
            conn.set_nodelay(true)?;
            tokio::task::spawn_local(tokio_conn(conn));
        }
    })
}

/// A plain mio loop: a slab of streams, one shared buffer, edge-triggered reads with the
/// short-read shortcut (the fastest a hand-written loop gets).
fn mio_server(exit_after: Option<u64>) -> std::io::Result<()> {
    use mio::net::TcpListener;
    use mio::{Events, Interest, Poll, Token};
    const LISTENER: Token = Token(usize::MAX);
    let mut poll = Poll::new()?;
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().expect("addr"))?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    announce(listener.local_addr()?.port());
    let mut conns: Vec<Option<mio::net::TcpStream>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut buf = vec![0u8; BUF];
    let mut events = Events::with_capacity(1024);
    let mut closed = 0u64;
    loop {
        if exit_after.is_some_and(|n| closed >= n) {
            return Ok(());
        }
        match poll.poll(&mut events, None) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for ev in &events {
            if ev.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((mut s, _)) => {
                            s.set_nodelay(true)?;
                            let i = free.pop().unwrap_or_else(|| {
                                conns.push(None);
                                conns.len() - 1
                            });
                            poll.registry()
                                .register(&mut s, Token(i), Interest::READABLE)?;
                            conns[i] = Some(s);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
                continue;
            }
            let i = ev.token().0;
            let Some(s) = conns[i].as_mut() else { continue };
            let mut close = false;
            loop {
                match s.read(&mut buf) {
                    Ok(0) => {
                        close = true;
                        break;
                    }
                    Ok(n) => {
                        if s.write_all(&buf[..n]).is_err() {
                            close = true;
                            break;
                        }
                        if n < buf.len() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        close = true;
                        break;
                    }
                }
            }
            if close {
                conns[i] = None;
                free.push(i);
                closed += 1;
            }
        }
    }
}
