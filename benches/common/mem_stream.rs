//! An in-memory byte stream for driving the peers (`tungstenite` over `Read + Write`,
//! `fastwebsockets`, `tokio-websockets` and `sockudo-ws` over tokio's
//! `AsyncRead + AsyncWrite`) with the same input as ours.

use std::cell::Cell;
use std::io::{self, IoSlice, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The most bytes one read hands out: a socket read of tungstenite's size
/// (`READ_BUF_LEN`), the same for every implementation.
#[allow(dead_code)] // Each bench includes this file; not all use every item.
pub const READ_SIZE: usize = 128 << 10;

/// The most bytes one read hands out in `benches/workloads.rs` (issue 9): 64 KiB, a
/// typical socket read, for every implementation.
#[allow(dead_code)] // Each bench includes this file; not all use every item.
pub const WORKLOAD_READ_SIZE: usize = 64 << 10;

/// Reads hand out the input, at most `max_read` bytes at a time. Writes (pongs, sent
/// messages) are copied into a scratch buffer, as a socket write copies them into the
/// kernel, then counted and discarded: a writer that hands over its payload without
/// copying it still pays for the one copy it would pay on a socket. The positions live
/// outside, so the same input can be replayed to a peer without rebuilding it.
pub struct MemStream<'a> {
    pub data: &'a [u8],
    pub pos: &'a Cell<usize>,
    pub written: &'a Cell<usize>,
    /// The most bytes one read hands out: [`READ_SIZE`] or [`WORKLOAD_READ_SIZE`].
    pub max_read: usize,
}

impl MemStream<'_> {
    fn chunk(&self, max: usize) -> &[u8] {
        let pos = self.pos.get();
        let n = max.min(self.max_read).min(self.data.len() - pos);
        self.pos.set(pos + n);
        &self.data[pos..pos + n]
    }

    /// A read into the spare capacity of `buf`, as tokio's `read_buf` does: at most
    /// `max_read` bytes and at most the spare capacity, one copy, no zeroing. Returns the
    /// bytes read; 0 at the end of the input.
    #[allow(dead_code)] // Used by the sans-IO drivers only.
    pub fn read_into(&self, buf: &mut bytes::BytesMut) -> usize {
        let chunk = self.chunk(buf.capacity() - buf.len());
        buf.extend_from_slice(chunk);
        chunk.len()
    }

    /// Takes every byte of `bufs`: copied, counted, discarded.
    fn swallow<'b>(&self, bufs: impl IntoIterator<Item = &'b [u8]>) -> usize {
        let n = SCRATCH.with_borrow_mut(|scratch| {
            let mut n = 0;
            for buf in bufs {
                for chunk in buf.chunks(SCRATCH_LEN) {
                    scratch[..chunk.len()].copy_from_slice(chunk);
                    std::hint::black_box(&mut scratch[..]);
                }
                n += buf.len();
            }
            n
        });
        self.written.set(self.written.get() + n);
        n
    }

    fn swallow_vectored(&self, bufs: &[IoSlice<'_>]) -> usize {
        self.swallow(bufs.iter().map(|b| &b[..]))
    }
}

/// The size of the scratch buffer writes are copied into: a socket send buffer's worth.
const SCRATCH_LEN: usize = 64 << 10;

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; SCRATCH_LEN]);
}

impl Read for MemStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let chunk = self.chunk(buf.len());
        buf[..chunk.len()].copy_from_slice(chunk);
        Ok(chunk.len())
    }
}

impl Write for MemStream<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(self.swallow([buf]))
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        Ok(self.swallow_vectored(bufs))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncRead for MemStream<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // `put_slice` copies into the spare capacity without zeroing it first.
        buf.put_slice(self.chunk(buf.remaining()));
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for MemStream<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(self.swallow([buf])))
    }
    // A socket takes a whole `writev`; tokio's default would take only the first slice.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(self.swallow_vectored(bufs)))
    }
    fn is_write_vectored(&self) -> bool {
        true
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
