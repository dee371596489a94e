//! hyper's `Read` and `Write` on `TcpStream` and `&TcpStream`, over doppel's retry loop and
//! pollDesc. hyper hands reads an uninitialized buffer; filling it in place would take `unsafe`,
//! which doppel keeps out of its core, so a read lands in a per-thread scratch buffer
//! (initialized once) and is copied in: one `memcpy` of the bytes read, no zeroing per read.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::net::TcpStream;

/// The largest read one call makes.
const SCRATCH: usize = 64 * 1024;

thread_local! {
    /// Where reads land before they are copied into hyper's buffer.
    static BUF: RefCell<Box<[u8]>> = RefCell::new(vec![0u8; SCRATCH].into_boxed_slice());
}

impl hyper::rt::Read for &TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let want = buf.remaining().min(SCRATCH);
        if want == 0 {
            return Poll::Ready(Ok(()));
        }
        BUF.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let dst = &mut scratch[..want];
            let n = ready!(futures_io::AsyncRead::poll_read(self, cx, dst))?;
            buf.put_slice(&dst[..n]);
            Poll::Ready(Ok(()))
        })
    }
}

impl hyper::rt::Write for &TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(self, cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(self, cx)
    }

    /// Sends FIN (shuts down the write half); the socket stays open for reading.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(self, cx)
    }
}

impl hyper::rt::Read for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for TcpStream {
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

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_shutdown(cx)
    }
}
