//! `TcpStream::read_chunk`, from the facade as a user calls it: a server that reads only into
//! buffers lent by the reactor echoes every byte, sees end of stream as an empty chunk, never
//! gets more than `CHUNK_SIZE` at once, and keeps all of that under short reads (the fault
//! counted, so it provably fired). The body runs on the real backend and in the simulator.

mod common;

use std::io;

use common::both;
use doppel::net::{Chunk, TcpListener, TcpStream, CHUNK_SIZE};
use doppel::sim::{FaultClass, FaultPlan, SimBuilder};

/// What the server saw: bytes echoed, whether every chunk held at most `CHUNK_SIZE` bytes
/// (how many a chunk holds depends on timing, so only the bound is compared across runs), and
/// whether end of stream came as an empty chunk.
type Seen = (usize, bool, bool);

/// Echoes with `read_chunk` until end of stream.
async fn chunk_echo(conn: TcpStream) -> io::Result<Seen> {
    let (mut total, mut largest) = (0, 0);
    loop {
        let data: Chunk = conn.read_chunk().await?;
        if data.is_empty() {
            return Ok((total, largest <= CHUNK_SIZE, true));
        }
        total += data.len();
        largest = largest.max(data.len());
        conn.write_all(&data).await?;
    }
}

/// Sends messages of several sizes (one spanning more than a chunk), checks each echo, closes
/// the write half, and returns what the server saw.
async fn exchange(addr: std::net::SocketAddr) -> io::Result<Seen> {
    let server = TcpListener::bind(addr)?;
    let addr = server.local_addr()?;
    let handler = doppel::spawn(async move {
        let (conn, _) = server.accept().await?;
        chunk_echo(conn).await
    });
    let client = TcpStream::connect(addr).await?;
    for (i, size) in [1usize, 100, CHUNK_SIZE + 3_000, 5].into_iter().enumerate() {
        let msg: Vec<u8> = (0..size).map(|k| (k * 7 + i) as u8).collect();
        client.write_all(&msg).await?;
        let mut back = vec![0u8; size];
        let mut got = 0;
        while got < size {
            let n = client.read(&mut back[got..]).await?;
            assert!(n > 0, "the echo ended early");
            got += n;
        }
        assert_eq!(back, msg, "message {i} came back changed");
    }
    client.shutdown(std::net::Shutdown::Write)?;
    handler.await.expect("the handler ran")
}

#[test]
fn read_chunk_echoes_every_byte_and_ends_with_an_empty_chunk_on_both_backends() {
    let (total, bounded, eof) = both("read_chunk", || exchange("127.0.0.1:0".parse().unwrap()));
    assert_eq!(total, 1 + 100 + CHUNK_SIZE + 3_000 + 5);
    assert!(bounded, "a chunk holds at most CHUNK_SIZE bytes");
    assert!(eof, "end of stream is an empty chunk");
}

#[test]
fn read_chunk_keeps_the_stream_whole_under_short_reads() {
    let mut fired = 0;
    for seed in 0..16 {
        let report = SimBuilder::new(seed)
            .faults(FaultPlan::none().with(FaultClass::ShortRead, 0.5))
            .client("host", "10.0.0.1", || async {
                let seen = exchange("127.0.0.1:0".parse().unwrap()).await?;
                assert_eq!(seen.0, 1 + 100 + CHUNK_SIZE + 3_000 + 5);
                Ok(())
            })
            .check()
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        fired += report.faults.get(FaultClass::ShortRead);
    }
    assert!(fired > 0, "short reads were injected ({fired})");
}
