//! Reads that hold no buffer while they wait: [`TcpStream::read_chunk`] waits for data with no
//! memory of the caller's, then reads into a buffer lent by the reactor's pool and hands it back
//! as a [`Chunk`], which returns to the pool when dropped. A connection that sits idle between
//! requests so costs its socket and its task, not a read buffer: 10,000 idle clients do not hold
//! 10,000 × 16 KiB.
//!
//! [`TcpStream::read_chunk`]: crate::net::TcpStream::read_chunk

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

/// The size of every pooled buffer: what one [`Chunk`] can hold (one `read(2)` asks this much).
pub const CHUNK_SIZE: usize = 16 * 1024;

/// How many free buffers a reactor keeps besides its spare (64 in all, 1 MiB): enough for the connections busy at once in
/// one turn; buffers beyond it go back to the allocator.
const KEEP_FREE: usize = 63;

/// A reactor's free buffers, shared with the [`Chunk`]s out on loan.
#[derive(Default)]
pub(crate) struct ChunkPool {
    /// The buffer given back last: a handler that reads, writes and drops its chunk before its
    /// next read takes and returns this one, without touching `free`.
    spare: Cell<Option<Box<[u8]>>>,
    /// More buffers of [`CHUNK_SIZE`] bytes, ready to lend.
    free: RefCell<Vec<Box<[u8]>>>,
}

impl ChunkPool {
    /// A buffer to read into: the spare, another free one, or a new one.
    #[inline]
    pub(crate) fn take(&self) -> Box<[u8]> {
        match self.spare.take() {
            Some(buf) => buf,
            None => self.take_free(),
        }
    }

    #[inline(never)]
    fn take_free(&self) -> Box<[u8]> {
        match self.free.borrow_mut().pop() {
            Some(buf) => buf,
            None => vec![0u8; CHUNK_SIZE].into_boxed_slice(),
        }
    }

    /// Gives a buffer back (dropped if the pool is full).
    #[inline]
    pub(crate) fn put(&self, buf: Box<[u8]>) {
        if let Some(older) = self.spare.replace(Some(buf)) {
            self.put_free(older);
        }
    }

    #[inline(never)]
    fn put_free(&self, buf: Box<[u8]>) {
        let mut free = self.free.borrow_mut();
        if free.len() < KEEP_FREE {
            free.push(buf);
        }
    }

    /// How many buffers it holds.
    #[cfg(test)]
    fn held(&self) -> usize {
        let spare = self.spare.take();
        let n = usize::from(spare.is_some()) + self.free.borrow().len();
        self.spare.set(spare);
        n
    }
}

/// Bytes [`TcpStream::read_chunk`] read, in a buffer lent by the reactor's pool; empty at end
/// of stream. It derefs to the bytes; dropping it returns the buffer to the pool (copy out with
/// `to_vec` what must outlive it).
///
/// [`TcpStream::read_chunk`]: crate::net::TcpStream::read_chunk
pub struct Chunk {
    /// The lent buffer (`None` once given back, or for end of stream).
    buf: Option<Box<[u8]>>,
    /// How many of its bytes were read.
    len: usize,
    /// Where the buffer goes back to.
    pool: Rc<ChunkPool>,
}

impl Chunk {
    /// `len` bytes read into `buf`, lent by `pool`.
    #[inline]
    pub(crate) fn new(buf: Box<[u8]>, len: usize, pool: Rc<ChunkPool>) -> Chunk {
        if len == 0 {
            pool.put(buf);
            return Chunk {
                buf: None,
                len: 0,
                pool,
            };
        }
        Chunk {
            buf: Some(buf),
            len,
            pool,
        }
    }
}

impl std::ops::Deref for Chunk {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match &self.buf {
            Some(b) => &b[..self.len],
            None => &[],
        }
    }
}

impl AsRef<[u8]> for Chunk {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl Drop for Chunk {
    #[inline]
    fn drop(&mut self) {
        if let Some(buf) = self.buf.take() {
            self.pool.put(buf);
        }
    }
}

impl fmt::Debug for Chunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chunk").field("len", &self.len).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_returns_its_buffer_and_the_pool_is_bounded() {
        let pool = Rc::new(ChunkPool::default());
        let buf = pool.take();
        assert_eq!(buf.len(), CHUNK_SIZE);
        let chunk = Chunk::new(buf, 3, pool.clone());
        assert_eq!(chunk.len(), 3);
        assert_eq!(pool.held(), 0);
        drop(chunk);
        assert_eq!(pool.held(), 1);
        let eof = Chunk::new(pool.take(), 0, pool.clone());
        assert!(eof.is_empty());
        assert_eq!(
            pool.held(),
            1,
            "end of stream gives the buffer back at once"
        );
        let many: Vec<_> = (0..KEEP_FREE + 5).map(|_| pool.take()).collect();
        for b in many {
            pool.put(b);
        }
        assert_eq!(pool.held(), KEEP_FREE + 1);
    }
}
