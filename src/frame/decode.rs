use bytes::{Buf, Bytes, BytesMut};

use super::{Frame, FrameHeader, MAX_CONTROL_PAYLOAD, OpCode, apply_mask};
use crate::{ProtocolError, Role};

/// Decodes frames received by an endpoint of a given [`Role`], enforcing every header
/// rule of §5.2, §5.1 and §5.5 and a maximum payload length.
///
/// Decoding is incremental: given the bytes received so far it returns a whole frame or
/// `None` ("need more"), never a partial result, and consumes only whole frames. Every
/// check that the first two bytes allow is made as soon as they arrive, and the length is
/// checked against the limit before anything is reserved for the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameDecoder {
    role: Role,
    max_payload_len: u64,
    /// RSV bits a negotiated extension defines, as `0b_rsv1_rsv2_rsv3`.
    allowed_rsv: u8,
}

impl FrameDecoder {
    /// The default maximum payload length: 16 MiB. Large enough for the 16 MiB frames
    /// that conformance suites and real peers send, small enough that one frame cannot
    /// exhaust a server's memory.
    pub const DEFAULT_MAX_PAYLOAD_LEN: u64 = 16 << 20;

    /// A decoder for frames *received* by `role`: a server expects masked frames, a client
    /// unmasked ones (§5.1). No RSV bits are allowed, and payloads are limited to
    /// [`FrameDecoder::DEFAULT_MAX_PAYLOAD_LEN`].
    #[must_use]
    pub const fn new(role: Role) -> Self {
        FrameDecoder {
            role,
            max_payload_len: Self::DEFAULT_MAX_PAYLOAD_LEN,
            allowed_rsv: 0,
        }
    }

    /// Sets the largest payload accepted; a longer one is
    /// [`ProtocolError::FrameTooLarge`] (close code 1009).
    #[must_use]
    pub const fn max_payload_len(mut self, max: u64) -> Self {
        self.max_payload_len = max;
        self
    }

    /// Allows RSV bits that a negotiated extension defines (§5.2: "MUST be 0 unless an
    /// extension is negotiated that defines meanings for non-zero values"). The extension
    /// is responsible for the finer rules, such as which frames may carry them.
    #[must_use]
    pub const fn allow_rsv(mut self, rsv1: bool, rsv2: bool, rsv3: bool) -> Self {
        self.allowed_rsv = (rsv1 as u8) << 2 | (rsv2 as u8) << 1 | rsv3 as u8;
        self
    }

    /// The role frames are decoded for.
    #[must_use]
    pub const fn role(&self) -> Role {
        self.role
    }

    /// The largest payload accepted.
    #[must_use]
    pub const fn max_payload(&self) -> u64 {
        self.max_payload_len
    }

    /// Parses a frame header from the start of `buf`.
    ///
    /// Returns `Ok(None)` if `buf` holds only part of a header, or the header and its
    /// length in bytes. The payload is not looked at.
    ///
    /// # Errors
    /// The first rule the header breaks, checked in this order: reserved opcode, RSV bits
    /// set without an extension, fragmented or oversized control frame (§5.5), the mask
    /// bit wrong for the role (§5.1), a 64-bit length with its top bit set or a length not
    /// minimally encoded (§5.2), a payload over the limit.
    #[inline]
    pub fn decode_header(&self, buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        let [b0, b1, ..] = *buf else {
            return Ok(None);
        };
        // §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail the
        // WebSocket Connection_."
        let opcode = OpCode::from_u8(b0 & 0x0F)?;
        // §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated that defines meanings
        // for non-zero values."
        let rsv = (b0 >> 4) & 0b111;
        if rsv & !self.allowed_rsv != 0 {
            return Err(ProtocolError::ReservedBitsSet(rsv & !self.allowed_rsv));
        }
        let fin = b0 & 0x80 != 0;
        let masked = b1 & 0x80 != 0;
        let len7 = b1 & 0x7F;
        // §5.5: "All control frames MUST have a payload length of 125 bytes or less and
        // MUST NOT be fragmented."
        if opcode.is_control() {
            if !fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if usize::from(len7) > MAX_CONTROL_PAYLOAD {
                return Err(ProtocolError::ControlFrameTooLarge);
            }
        }
        // §5.1: a server MUST close on an unmasked frame; a client MUST close on a masked
        // one.
        match (self.role, masked) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrameFromClient),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrameFromServer),
            _ => {}
        }
        // §5.2: 0-125 is the length; 126 means a 16-bit length follows, 127 a 64-bit one
        // whose most significant bit MUST be 0; "the minimal number of bytes MUST be used
        // to encode the length". A non-minimal length is rejected: accepting it would let
        // two encodings mean one frame, which a strict peer and a lax proxy could read
        // differently.
        let (payload_len, mut pos) = match len7 {
            126 => {
                let [_, _, l0, l1, ..] = *buf else {
                    return Ok(None);
                };
                let len = u16::from_be_bytes([l0, l1]);
                if len < 126 {
                    return Err(ProtocolError::NonMinimalLength);
                }
                (u64::from(len), 4)
            }
            127 => {
                let [_, _, l0, l1, l2, l3, l4, l5, l6, l7, ..] = *buf else {
                    return Ok(None);
                };
                let len = u64::from_be_bytes([l0, l1, l2, l3, l4, l5, l6, l7]);
                if len >> 63 != 0 {
                    return Err(ProtocolError::LengthTopBitSet);
                }
                if len <= 0xFFFF {
                    return Err(ProtocolError::NonMinimalLength);
                }
                (len, 10)
            }
            len => (u64::from(len), 2),
        };
        if payload_len > self.max_payload_len {
            return Err(ProtocolError::FrameTooLarge {
                len: payload_len,
                max: self.max_payload_len,
            });
        }
        let mask = if masked {
            let Some(&[k0, k1, k2, k3]) = buf.get(pos..pos + 4) else {
                return Ok(None);
            };
            pos += 4;
            Some([k0, k1, k2, k3])
        } else {
            None
        };
        let header = FrameHeader {
            fin,
            rsv1: rsv & 0b100 != 0,
            rsv2: rsv & 0b010 != 0,
            rsv3: rsv & 0b001 != 0,
            opcode,
            mask,
            payload_len,
        };
        Ok(Some((header, pos)))
    }

    /// Decodes one whole frame from the front of `buf` without allocating: the payload is
    /// unmasked where it lies and returned borrowed, with the number of bytes the frame
    /// took. Returns `Ok(None)` if `buf` does not hold a whole frame yet; nothing is
    /// changed then.
    ///
    /// This is the lowest layer, for callers that manage their own buffer (a proxy, an
    /// embedded device, a custom message layer); [`FrameDecoder::decode`] is the same
    /// decoding over a `BytesMut`, handing each payload out as `Bytes`.
    ///
    /// ```
    /// use rfc6455::Role;
    /// use rfc6455::frame::{FrameDecoder, OpCode};
    ///
    /// // §5.7: a fragmented unmasked text message, "Hel" then "lo", from a server.
    /// let mut buf = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    /// let decoder = FrameDecoder::new(Role::Client);
    /// let first = decoder.decode_slice(&mut buf)?.expect("a whole frame");
    /// assert_eq!((first.header.opcode, first.header.fin, &first.payload[..]), (OpCode::Text, false, &b"Hel"[..]));
    /// let used = first.consumed;
    /// let second = decoder.decode_slice(&mut buf[used..])?.expect("a whole frame");
    /// assert_eq!((second.header.opcode, &second.payload[..]), (OpCode::Continuation, &b"lo"[..]));
    /// # Ok::<(), rfc6455::ProtocolError>(())
    /// ```
    ///
    /// # Errors
    /// As [`FrameDecoder::decode_header`]; `buf` is left as it was.
    #[inline]
    pub fn decode_slice<'b>(
        &self,
        buf: &'b mut [u8],
    ) -> Result<Option<FrameRef<'b>>, ProtocolError> {
        let Some((header, header_len)) = self.decode_header(buf)? else {
            return Ok(None);
        };
        let Some(end) = usize::try_from(header.payload_len)
            .ok()
            .and_then(|len| header_len.checked_add(len))
        else {
            return Err(ProtocolError::FrameTooLarge {
                len: header.payload_len,
                max: self.max_payload_len,
            });
        };
        let Some(payload) = buf.get_mut(header_len..end) else {
            return Ok(None);
        };
        if let Some(key) = header.mask {
            apply_mask(payload, key, 0);
        }
        Ok(Some(FrameRef {
            header,
            payload,
            consumed: end,
        }))
    }

    /// Decodes one whole frame from the front of `buf`, or returns `Ok(None)` if `buf`
    /// does not hold one yet.
    ///
    /// On success the frame's bytes are removed from `buf`, and the payload is unmasked in
    /// place and split off without copying. While the frame is incomplete nothing is
    /// consumed, but `buf`'s capacity is grown toward the whole frame, by at most
    /// [`MAX_EAGER_RESERVE`] at a time: a header alone never commits more memory than
    /// that.
    ///
    /// # Errors
    /// Any error of [`FrameDecoder::decode_header`]. After an error the connection must
    /// be failed (§7.1.7); `buf` is left as it was.
    pub fn decode(&self, buf: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        let Some((header, header_len)) = self.decode_header(buf)? else {
            return Ok(None);
        };
        // The limit check has passed, so the length fits in memory on 64-bit targets; on
        // smaller ones it may not, and is then too large all the same.
        let too_large = ProtocolError::FrameTooLarge {
            len: header.payload_len,
            max: self.max_payload_len,
        };
        let payload_len = usize::try_from(header.payload_len).map_err(|_| too_large)?;
        let frame_len = header_len.checked_add(payload_len).ok_or(too_large)?;
        if buf.len() < frame_len {
            reserve_for_payload(buf, frame_len - buf.len());
            return Ok(None);
        }
        buf.advance(header_len);
        if let Some(key) = header.mask {
            apply_mask(&mut buf[..payload_len], key, 0);
        }
        Ok(Some(Frame {
            header,
            payload: take_payload(buf, payload_len),
        }))
    }
}

/// Payloads up to this length are copied out of the receive buffer rather than shared
/// with it: a shared slice costs two atomic reference-count updates (one now, one when it
/// is dropped) and keeps the buffer from being reused in place, a copy costs one small
/// allocation and a copy. Measured in `benches/decode.rs` (125-byte frames: 0.98x of
/// tungstenite's time shared, 0.75x copied) and `benches/connection.rs`.
pub(crate) const COPY_PAYLOADS_UP_TO: usize = 256;

/// Removes the first `len` bytes of `buf` (a payload, already unmasked) and returns them:
/// shared with `buf` without copying, or copied when small (see [`COPY_PAYLOADS_UP_TO`]).
// Out of line: inlined into `decode`, it made 16-byte frames 1.5x slower (register
// pressure; `benches/decode.rs`).
#[inline(never)]
fn take_payload(buf: &mut BytesMut, len: usize) -> Bytes {
    if len <= COPY_PAYLOADS_UP_TO {
        let payload = Bytes::copy_from_slice(&buf[..len]);
        buf.advance(len);
        payload
    } else {
        buf.split_to(len).freeze()
    }
}

/// A frame decoded in place by [`FrameDecoder::decode_slice`]: its payload, unmasked,
/// borrowed from the caller's buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct FrameRef<'b> {
    /// The frame header; `mask` records the key the payload was unmasked with.
    pub header: FrameHeader,
    /// The payload, unmasked in place.
    pub payload: &'b mut [u8],
    /// How many bytes of the buffer the frame took, header included.
    pub consumed: usize,
}

/// The most spare capacity reserved ahead of bytes that have not arrived yet: a peer that
/// announces a large frame and sends nothing more costs at most this much.
pub const MAX_EAGER_RESERVE: usize = 64 * 1024;

/// Grows `buf` toward `missing` more bytes of an announced payload, by at most
/// [`MAX_EAGER_RESERVE`].
pub(crate) fn reserve_for_payload(buf: &mut BytesMut, missing: usize) {
    buf.reserve(missing.min(MAX_EAGER_RESERVE));
}
