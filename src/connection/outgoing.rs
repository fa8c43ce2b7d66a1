//! The outgoing queue: encoded frames waiting for the transport, as chunks.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use bytes::{Buf, Bytes, BytesMut};

use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode, apply_mask};

/// Payloads at least this long are queued as chunks of their own, shared with the caller's
/// `Bytes` instead of copied (a server's unmasked frames only: a client's are masked,
/// which needs a copy unless the caller's buffer is unique). Below it, copying the
/// payload behind the header costs less than one more chunk to write and free.
const SHARE_FROM: usize = 1024;

/// Payloads at least this long that must be copied (borrowed, or masked) get an
/// allocation of their own, of exactly their size, instead of growing the tail: a
/// growing tail copies what it holds at every doubling, and a large one is given back
/// when it drains, so the next large message would fault it in again.
const OWN_CHUNK_FROM: usize = 16 * 1024;

/// Spare capacity kept once everything was written; a queue that grew beyond this for a
/// large message gives the memory back when it drains.
const KEEP_CAPACITY: usize = 64 * 1024;

/// The bytes a [`Connection`](crate::Connection) has queued for the transport: frames,
/// pongs and close frames, in the order they must be written.
///
/// It is a [`bytes::Buf`]: [`chunk`](Buf::chunk) is the next run of bytes to write
/// (with `std`, [`chunks_vectored`](Buf::chunks_vectored) gives several at once for a
/// vectored write), and [`advance`](Buf::advance) reports how many bytes the transport
/// took, so a partial write loses and repeats nothing. Everything not yet advanced over
/// counts in [`Connection::buffered_amount`](crate::Connection::buffered_amount).
/// tokio's `AsyncWriteExt::write_buf` takes it as it is.
///
/// ```
/// use bytes::Buf;
/// use rfc6455::{Config, Connection};
///
/// let mut ws = Connection::server(Config::default());
/// ws.send_text("hello")?;
/// let mut wire = Vec::new();
/// // A transport that takes at most 3 bytes per write.
/// while ws.outgoing().has_remaining() {
///     let out = ws.outgoing();
///     let n = out.chunk().len().min(3);
///     wire.extend_from_slice(&out.chunk()[..n]);
///     out.advance(n);
/// }
/// assert_eq!(wire, b"\x81\x05hello");
/// assert_eq!(ws.buffered_amount(), 0);
/// # Ok::<(), rfc6455::UsageError>(())
/// ```
#[derive(Debug, Default)]
pub struct Outgoing {
    /// Whole chunks, in order, ahead of `tail`. None is empty.
    chunks: VecDeque<Bytes>,
    /// The last bytes queued, where small frames are copied; `tail[tail_start..]` is
    /// not yet written. A `Vec` rather than a `BytesMut`: once written it is reused from
    /// its start at no cost.
    tail: Vec<u8>,
    tail_start: usize,
    /// Bytes in `chunks` and `tail`.
    len: usize,
    /// Pongs held until the queue is next handed out (§5.5.3).
    pongs: VecDeque<Bytes>,
    /// Payload bytes held in `pongs`.
    pong_bytes: usize,
}

/// A payload to queue: borrowed (copied into the queue) or owned (shared when large).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Src<'a> {
    Borrowed(&'a [u8]),
    Shared(&'a Bytes),
}

impl Src<'_> {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Src::Borrowed(s) => s,
            Src::Shared(b) => b,
        }
    }
}

impl Outgoing {
    /// Queues one frame: `header` with its length set from the payload.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn push_frame(&mut self, header: FrameHeader, payload: Src<'_>) {
        let data = payload.as_slice();
        let header = FrameHeader {
            payload_len: data.len() as u64,
            ..header
        };
        match (header.mask, payload) {
            (None, Src::Shared(bytes)) if bytes.len() >= SHARE_FROM => {
                self.len += header.encode_into(&mut self.tail) + data.len();
                self.seal_tail();
                self.chunks.push_back(bytes.clone());
            }
            _ if data.len() >= OWN_CHUNK_FROM => {
                self.len += header.encode_into(&mut self.tail) + data.len();
                self.seal_tail();
                let mut chunk = BytesMut::with_capacity(data.len());
                chunk.extend_from_slice(data);
                if let Some(key) = header.mask {
                    apply_mask(&mut chunk, key, 0);
                }
                self.chunks.push_back(chunk.freeze());
            }
            _ => {
                self.tail.reserve(MAX_HEADER_LEN + data.len());
                self.len += header.encode_into(&mut self.tail) + data.len();
                let start = self.tail.len();
                self.tail.extend_from_slice(data);
                if let Some(key) = header.mask {
                    apply_mask(&mut self.tail[start..], key, 0);
                }
            }
        }
    }

    /// Queues bytes that are already one or more whole encoded frames.
    pub(crate) fn push_encoded(&mut self, frames: &Bytes) {
        if frames.is_empty() {
            return;
        }
        self.len += frames.len();
        if frames.len() >= SHARE_FROM {
            self.seal_tail();
            self.chunks.push_back(frames.clone());
        } else {
            self.tail.extend_from_slice(frames);
        }
    }

    /// Moves the tail's bytes into a chunk of their own, so that a shared chunk can
    /// follow them.
    fn seal_tail(&mut self) {
        if self.tail.len() > self.tail_start {
            let tail = core::mem::take(&mut self.tail);
            self.chunks
                .push_back(Bytes::from(tail).slice(self.tail_start..));
        }
        self.tail.clear();
        self.tail_start = 0;
    }

    /// Holds a pong for `ping`'s payload, dropping the oldest held pong beyond `max`
    /// (§5.5.3: "an endpoint MAY elect to send a Pong frame for only the most recently
    /// processed Ping frame").
    pub(crate) fn hold_pong(&mut self, payload: Bytes, max: usize) {
        while self.pongs.len() >= max.max(1) {
            if let Some(old) = self.pongs.pop_front() {
                self.pong_bytes -= old.len();
            }
        }
        self.pong_bytes += payload.len();
        self.pongs.push_back(payload);
    }

    /// Queues the held pongs, masking each with a key from `mask`.
    pub(crate) fn flush_pongs(&mut self, mut mask: impl FnMut() -> Option<[u8; 4]>) {
        while let Some(payload) = self.pongs.pop_front() {
            self.pong_bytes -= payload.len();
            let header = FrameHeader {
                mask: mask(),
                ..FrameHeader::new(OpCode::Pong, 0)
            };
            self.push_frame(header, Src::Borrowed(&payload));
        }
    }

    /// Forgets the held pongs (the peer's close arrived: §5.5.2 asks for no more).
    pub(crate) fn drop_pongs(&mut self) {
        self.pongs.clear();
        self.pong_bytes = 0;
    }

    /// Whether pongs are held.
    pub(crate) fn has_pongs(&self) -> bool {
        !self.pongs.is_empty()
    }

    /// Bytes queued, counting each held pong as the frame it will become.
    pub(crate) fn buffered(&self, masked: bool) -> usize {
        let per_pong = if masked { 6 } else { 2 };
        self.len + self.pong_bytes + per_pong * self.pongs.len()
    }

    /// Takes every queued byte (held pongs not included) into one `Vec`.
    pub(crate) fn take_all(&mut self, out: &mut Vec<u8>) {
        out.reserve(self.len);
        for chunk in &self.chunks {
            out.extend_from_slice(chunk);
        }
        out.extend_from_slice(&self.tail[self.tail_start..]);
        self.chunks.clear();
        self.tail.clear();
        self.tail_start = 0;
        self.len = 0;
        self.release();
    }

    /// Gives back all the queue's memory if nothing is queued or held.
    pub(crate) fn release_all(&mut self) {
        if self.len == 0 {
            self.tail = Vec::new();
            self.tail_start = 0;
            self.chunks = VecDeque::new();
        }
        if self.pongs.is_empty() {
            self.pongs = VecDeque::new();
        }
    }

    /// The memory the queue holds, bytes.
    pub(crate) fn capacity(&self) -> usize {
        self.tail.capacity()
            + self.chunks.capacity() * core::mem::size_of::<Bytes>()
            + self.pongs.capacity() * core::mem::size_of::<Bytes>()
    }

    /// Gives back a large tail's memory once it has drained.
    fn release(&mut self) {
        if self.len == 0 && self.tail.capacity() > KEEP_CAPACITY {
            self.tail = Vec::new();
        }
    }
}

impl Buf for Outgoing {
    fn remaining(&self) -> usize {
        self.len
    }

    fn chunk(&self) -> &[u8] {
        match self.chunks.front() {
            Some(chunk) => chunk,
            None => &self.tail[self.tail_start..],
        }
    }

    /// Consumes `cnt` bytes that the transport took. Unlike most `Buf`s, advancing past
    /// the end does not panic: it consumes everything.
    fn advance(&mut self, cnt: usize) {
        let mut cnt = cnt.min(self.len);
        self.len -= cnt;
        while cnt > 0 {
            if let Some(front) = self.chunks.front_mut() {
                let n = cnt.min(front.len());
                front.advance(n);
                cnt -= n;
                if front.is_empty() {
                    self.chunks.pop_front();
                }
            } else {
                self.tail_start = (self.tail_start + cnt).min(self.tail.len());
                cnt = 0;
            }
        }
        if self.len == 0 {
            self.tail.clear();
            self.tail_start = 0;
            self.release();
        }
    }

    #[cfg(feature = "std")]
    fn chunks_vectored<'a>(&'a self, dst: &mut [std::io::IoSlice<'a>]) -> usize {
        let mut n = 0;
        let parts = self
            .chunks
            .iter()
            .map(|c| &c[..])
            .chain(core::iter::once(&self.tail[self.tail_start..]))
            .filter(|c| !c.is_empty());
        for (slot, part) in dst.iter_mut().zip(parts) {
            *slot = std::io::IoSlice::new(part);
            n += 1;
        }
        n
    }
}
