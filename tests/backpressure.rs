//! Backpressure on the real backend: 64 MiB written to a slow reader arrives intact, and the
//! counters show the writer really ran out of send buffer and parked.

mod common;

use std::time::Duration;

use common::{pattern, run_real};
use doppel::net::{TcpListener, TcpStream};

const TOTAL: usize = 64 * 1024 * 1024;

#[test]
fn slow_reader_gets_64_mib_intact_and_the_writer_parks() {
    let ((received, parks_before_read), rt) = run_real(Duration::from_secs(120), async {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let writer = doppel::spawn(async move {
            let conn = TcpStream::connect(addr).await?;
            let data: Vec<u8> = (0..TOTAL as u64).map(|i| pattern(1, i)).collect();
            conn.write_all(&data).await?;
            conn.shutdown(std::net::Shutdown::Write)?;
            std::io::Result::Ok(())
        });
        let (conn, _) = listener.accept().await?;
        // Let the writer fill every buffer before the reader starts.
        doppel::time::sleep(Duration::from_millis(50)).await;
        let parks_before_read = doppel::stats().write_parks;
        let mut buf = vec![0u8; 64 * 1024];
        let mut got = 0u64;
        loop {
            let n = conn.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            for (i, b) in buf[..n].iter().enumerate() {
                assert_eq!(
                    *b,
                    pattern(1, got + i as u64),
                    "byte {} differs",
                    got + i as u64
                );
            }
            got += n as u64;
            if got % (4 * 1024 * 1024) < n as u64 {
                doppel::time::sleep(Duration::from_millis(2)).await;
            }
        }
        writer.await.expect("writer task")?;
        Ok((got, parks_before_read))
    });
    let s = rt.stats();
    println!(
        "received {received} bytes; writer parked {} times ({} before the reader started); \
         short writes {}, EAGAIN writes {}",
        s.write_parks, parks_before_read, s.short_writes, s.write_would_block
    );
    assert_eq!(received, TOTAL as u64);
    assert!(
        parks_before_read > 0,
        "the writer parked on a full send buffer"
    );
    assert!(
        s.short_writes + s.write_would_block > 0,
        "the kernel refused bytes (short write or EAGAIN)"
    );
}
