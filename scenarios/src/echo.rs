//! Echo: the server of the `echo` example, and a client that checks every byte it gets back.
//! The same functions run on the real backend and in the simulator, on one reactor or on a
//! group of them (`doppel::net::serve` hands each connection to a sub-reactor).

use std::io;
use std::net::SocketAddr;

use doppel::net::{TcpListener, TcpStream, ToSocketAddr};

use crate::wire::{fill, Gen};
use crate::workload::{Load, Task, Variant, Workload, CORRECT};

/// Echoes one connection until the peer closes it. Each read borrows a buffer from the
/// reactor's pool (`read_chunk`) and gives it back once its bytes are written, so a connection
/// waiting for its next message holds no buffer.
pub async fn handle(conn: TcpStream) -> io::Result<()> {
    loop {
        let data = conn.read_chunk().await?;
        if data.is_empty() {
            return Ok(());
        }
        conn.write_all(&data).await?;
    }
}

/// Accepts on `listener` forever through `doppel::net::serve`: on a plain runtime one task per
/// connection, on a group's main reactor a hand-off of each connection to a sub-reactor. A
/// connection that fails is dropped (its task ends); the accept loop goes on.
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    doppel::net::serve(listener, |conn| async move {
        let _ = handle(conn).await;
        Ok(())
    })
    .await
}

/// Binds `addr` and serves echo on it.
pub async fn bind_and_serve(addr: impl ToSocketAddr) -> io::Result<()> {
    serve(TcpListener::bind(addr)?).await
}

/// What a checking client does.
#[derive(Clone, Copy, Debug)]
pub struct ClientPlan {
    /// Round trips.
    pub rounds: usize,
    /// The largest message.
    pub max_size: usize,
    /// How many times the client may reconnect after a reset, refusal, timeout or early EOF
    /// (redoing the interrupted round on the new connection). 0: any error fails the client.
    pub reconnects: u32,
    /// A read deadline for each round, if any (a round that misses it counts as a timeout).
    pub deadline: Option<std::time::Duration>,
}

/// Connects to `addr` and makes `plan.rounds` round trips with sizes from 1 byte to
/// `plan.max_size` (log-uniform, chosen by `id`), checking every byte that comes back. Returns
/// the bytes sent.
pub async fn client(addr: SocketAddr, id: u64, plan: ClientPlan) -> io::Result<u64> {
    let mut gen = Gen(id);
    let mut sent = 0u64;
    let mut out = vec![0u8; plan.max_size];
    let mut back = vec![0u8; plan.max_size];
    let mut conn: Option<TcpStream> = None;
    let mut reconnects = 0u32;
    for round in 0..plan.rounds {
        let size = match round {
            0 => 1,
            r if r + 1 == plan.rounds => plan.max_size,
            _ => gen.log_size(plan.max_size),
        };
        fill(&mut out[..size], id, sent);
        loop {
            let tried = match &conn {
                Some(c) => {
                    let deadline = plan.deadline.map(|d| doppel::time::Instant::now() + d);
                    match c.set_read_deadline(deadline) {
                        Ok(()) => round_trip(c, &out[..size], &mut back[..size]).await,
                        Err(e) => Err(e),
                    }
                }
                None => connect(addr)
                    .await
                    .map(|c| conn = Some(c))
                    .and(Err(io::ErrorKind::Interrupted.into())),
            };
            match tried {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if crate::wire::connection_lost_or_closed(&e)
                        && reconnects < plan.reconnects =>
                {
                    doppel::sometimes!(
                        e.kind() == io::ErrorKind::ConnectionReset,
                        "echo: a reset hit a connection mid-round and the client reconnected"
                    );
                    reconnects += 1;
                    conn = None;
                    doppel::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                Err(e) => {
                    let what = format!("client {id} round {round} ({reconnects} reconnects): {e}");
                    return Err(io::Error::new(e.kind(), what));
                }
            }
        }
        if out[..size] != back[..size] {
            let at = (0..size).find(|&i| out[i] != back[i]).unwrap_or(0);
            return Err(io::Error::other(format!(
                "client {id} round {round}: byte {at} of {size} came back wrong"
            )));
        }
        sent += size as u64;
    }
    Ok(sent)
}

/// Connects with Nagle off.
async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let conn = TcpStream::connect(addr).await?;
    conn.set_nodelay(true)?;
    Ok(conn)
}

/// Writes `out` while reading the same number of bytes back into `back`.
async fn round_trip(conn: &TcpStream, out: &[u8], back: &mut [u8]) -> io::Result<()> {
    let read = async {
        let mut got = 0;
        while got < back.len() {
            match conn.read(&mut back[got..]).await? {
                0 => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "early EOF")),
                n => got += n,
            }
        }
        Ok(())
    };
    let (w, r) = join(conn.write_all(out), read).await;
    w.and(r)
}

/// Polls two futures to completion, `a` first each time (deterministic, unlike a random
/// select).
async fn join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none() {
            if let std::task::Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let std::task::Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    (ra.expect("ready"), rb.expect("ready"))
}

/// Makes `load.rounds` connections, one round trip each (1 byte to `load.max_size`), checking
/// every byte; a connection that fails transiently is retried, `load.reconnects` times in all.
/// Connection churn: what exercises an accept loop.
pub async fn churn(addr: SocketAddr, id: u64, load: Load) -> io::Result<()> {
    let mut gen = Gen(id ^ 0xacce);
    let mut out = vec![0u8; load.max_size.max(1)];
    let mut back = out.clone();
    let mut retries = 0u32;
    let mut sent = 0u64;
    for round in 0..load.rounds {
        let size = gen.log_size(load.max_size.max(1));
        fill(&mut out[..size], id, sent);
        loop {
            let tried = async {
                let c = connect(addr).await?;
                let deadline = load.deadline.map(|d| doppel::time::Instant::now() + d);
                c.set_read_deadline(deadline)?;
                round_trip(&c, &out[..size], &mut back[..size]).await
            };
            match tried.await {
                Ok(()) => break,
                Err(e)
                    if crate::wire::connection_lost_or_closed(&e) && retries < load.reconnects =>
                {
                    retries += 1
                }
                Err(e) => {
                    let what = format!("client {id} connection {round} ({retries} retries): {e}");
                    return Err(io::Error::new(e.kind(), what));
                }
            }
        }
        if out[..size] != back[..size] {
            return Err(io::Error::other(format!(
                "client {id} connection {round}: the echo of {size} bytes came back wrong"
            )));
        }
        sent += size as u64;
    }
    Ok(())
}

/// The `echo` workload: the echo server and the checking client.
#[derive(Clone, Copy, Debug)]
pub struct Echo;

impl Workload for Echo {
    /// Its own assertions: the binary holds every built-in workload's.
    fn coverage_scope(&self) -> &'static [&'static str] {
        &["doppel_scenarios::echo"]
    }

    fn name(&self) -> &'static str {
        "echo"
    }

    fn about(&self) -> &'static str {
        "echo: every byte back, in order; messages of 1 byte to max_size on long-lived connections"
    }

    fn variants(&self) -> &'static [Variant] {
        &[CORRECT]
    }

    fn server(&self, _variant: usize, listener: TcpListener) -> Task {
        Box::pin(serve(listener))
    }

    fn client(&self, server: SocketAddr, id: u64, load: &Load) -> Task {
        let plan = ClientPlan {
            rounds: load.rounds as usize,
            max_size: load.max_size.max(1),
            reconnects: load.reconnects,
            deadline: load.deadline,
        };
        Box::pin(async move { client(server, id, plan).await.map(drop) })
    }
}
