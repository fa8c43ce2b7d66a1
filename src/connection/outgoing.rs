use alloc::collections::VecDeque;
use alloc::vec::Vec;
use bytes::Bytes;

use crate::frame::{FrameHeader, OpCode, encode_frame};

/// Bytes queued for the transport, and the automatic pongs not yet written.
///
/// Pongs are held apart until the bytes are taken, so that when pings arrive faster than
/// the caller writes, only the most recent `max_pending_pongs` are answered (§5.5.3).
#[derive(Debug, Default)]
pub(super) struct Outgoing {
    buf: Vec<u8>,
    pongs: VecDeque<Bytes>,
    /// Payload bytes held in `pongs`.
    pong_bytes: usize,
}

impl Outgoing {
    /// Appends one frame.
    pub(super) fn push_frame(
        &mut self,
        fin: bool,
        opcode: OpCode,
        mask: Option<[u8; 4]>,
        payload: &[u8],
    ) {
        let header = FrameHeader {
            fin,
            mask,
            ..FrameHeader::new(opcode, payload.len() as u64)
        };
        encode_frame(&header, payload, &mut self.buf);
    }

    /// Holds a pong for `ping`'s payload, dropping the oldest held pong beyond `max`.
    pub(super) fn hold_pong(&mut self, payload: Bytes, max: usize) {
        while self.pongs.len() >= max.max(1) {
            if let Some(old) = self.pongs.pop_front() {
                self.pong_bytes -= old.len();
            }
        }
        self.pong_bytes += payload.len();
        self.pongs.push_back(payload);
    }

    /// Writes the held pongs into the byte queue, masking each with a key from `mask`.
    pub(super) fn flush_pongs(&mut self, mut mask: impl FnMut() -> Option<[u8; 4]>) {
        while let Some(payload) = self.pongs.pop_front() {
            self.pong_bytes -= payload.len();
            let key = mask();
            self.push_frame(true, OpCode::Pong, key, &payload);
        }
    }

    /// Forgets the held pongs (the connection failed or closed).
    pub(super) fn drop_pongs(&mut self) {
        self.pongs.clear();
        self.pong_bytes = 0;
    }

    /// Bytes queued, counting each held pong as the frame it will become.
    pub(super) fn len(&self, masked: bool) -> usize {
        let per_pong = if masked { 6 } else { 2 };
        self.buf.len() + self.pong_bytes + per_pong * self.pongs.len()
    }

    /// The byte queue, held pongs not included.
    pub(super) fn bytes(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }
}
