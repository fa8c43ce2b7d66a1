//! An in-memory byte stream for driving the peers (`tungstenite` over `Read + Write`,
//! `fastwebsockets` over tokio's `AsyncRead + AsyncWrite`) with the same input as ours.

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The most bytes one read hands out: a socket read of tungstenite's size
/// (`READ_BUF_LEN`), the same for every implementation.
pub const READ_SIZE: usize = 128 << 10;

/// Reads hand out the input, at most [`READ_SIZE`] bytes at a time; writes (pongs) are
/// counted and discarded. The positions live outside, so the same input can be replayed
/// to a peer without rebuilding it.
pub struct MemStream<'a> {
    pub data: &'a [u8],
    pub pos: &'a Cell<usize>,
    pub written: &'a Cell<usize>,
}

impl MemStream<'_> {
    fn chunk(&self, max: usize) -> &[u8] {
        let pos = self.pos.get();
        let n = max.min(READ_SIZE).min(self.data.len() - pos);
        self.pos.set(pos + n);
        &self.data[pos..pos + n]
    }
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
        self.written.set(self.written.get() + buf.len());
        Ok(buf.len())
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
        self.written.set(self.written.get() + buf.len());
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
