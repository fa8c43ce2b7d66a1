use bytes::{Buf, Bytes, BytesMut};

use super::{Frame, FrameHeader, MAX_CONTROL_PAYLOAD, OpCode, apply_mask};
use crate::{ProtocolError, Role, Utf8Validator};

/// The frame decoder (§5.2): every header rule of §5.2, §5.1 and §5.5, a maximum payload
/// length, and the payload's progress — how much has arrived, unmasked at which key
/// phase, and (for text) validated as UTF-8 so far.
///
/// This is the one decoder of the crate: [`decode`](FrameDecoder::decode) over a
/// `BytesMut`, [`decode_slice`](FrameDecoder::decode_slice) over the caller's own buffer
/// and [`Connection`](crate::Connection) all drive the same incremental step, so every
/// rule is checked in one place.
///
/// Decoding is resumable at any byte: given the bytes of the current frame received so
/// far (from its first header byte), it returns a whole frame or `None` ("need more").
/// Bytes of a payload that arrived are unmasked in place as soon as they are seen and
/// never again, so the caller must hand in the same frame's bytes again, with more
/// appended, until the frame is whole. Every check that the first two bytes allow is
/// made as soon as they arrive, and the length is checked against the limit before
/// anything is reserved for the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameDecoder {
    role: Role,
    max_payload_len: u64,
    /// RSV bits a negotiated extension defines, as `0b_rsv1_rsv2_rsv3`.
    allowed_rsv: u8,
    /// The frame whose header was read and whose payload is arriving.
    current: Option<Progress>,
}

/// A frame whose header has been parsed: how far its payload has been processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Progress {
    header: FrameHeader,
    /// The header's length in bytes (2 to 14).
    header_len: usize,
    /// The payload's length, known to fit in memory.
    len: usize,
    /// Payload bytes already unmasked (and validated, for text).
    done: usize,
    /// How the payload's text is checked.
    text: TextCheck,
}

/// How a frame's payload is checked as UTF-8 (§8.1) while it is decoded; decided by the
/// caller from the header, since only the message layer knows whether a continuation
/// frame carries text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextCheck {
    /// Not text, or text that is checked elsewhere (an extension's output).
    None,
    /// Text: fed to the validator as it arrives, so that invalid text fails the
    /// connection before the frame ends.
    Stream,
    /// Text the caller checks a frame at a time (a message in one frame, or a frame of
    /// one it joins): if the frame arrives whole in one step, it is left to the caller
    /// to check in one pass (which yields the `&str`); bytes that arrive in pieces are
    /// fed to the validator as for `Stream`, so that invalid text still fails before
    /// the frame ends.
    Whole,
}

/// A frame that was decoded whole by [`FrameDecoder::step`]: the caller removes
/// `header_len + payload_len` bytes from the front of its buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Complete {
    pub(crate) header: FrameHeader,
    pub(crate) header_len: usize,
    pub(crate) payload_len: usize,
    /// For [`TextCheck::Whole`]: whether the text was already fed to the validator
    /// (it arrived in pieces) rather than left to the caller.
    pub(crate) text_fed: bool,
}

/// What one step of the decoder found.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step {
    /// The frame is not whole: this many more bytes are needed at least (the rest of the
    /// header, or the rest of the payload).
    Incomplete(usize),
    /// The frame is whole.
    Complete(Complete),
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
            current: None,
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

    pub(crate) fn set_allowed_rsv(&mut self, bits: u8) {
        self.allowed_rsv = bits & 0b111;
    }

    pub(crate) fn set_max_payload_len(&mut self, max: u64) {
        self.max_payload_len = max;
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

    /// Whether a frame's header has been read and its payload is still arriving.
    #[must_use]
    pub const fn is_mid_frame(&self) -> bool {
        self.current.is_some()
    }

    /// Where the frame in progress ends, counted from its first header byte, once its
    /// header has been read.
    pub(crate) fn frame_end(&self) -> Option<usize> {
        self.current.map(|p| p.header_len + p.len)
    }

    /// Forgets the frame in progress, if any: the next bytes are a new frame's header.
    pub fn reset(&mut self) {
        self.current = None;
    }

    /// Parses a frame header from the start of `buf`.
    ///
    /// Returns `Ok(None)` if `buf` holds only part of a header, or the header and its
    /// length in bytes. The payload is not looked at, and the decoder's progress is
    /// neither used nor changed.
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
        // The limit, checked before anything is reserved (the one place FrameTooLarge is
        // made). A length that does not fit in memory is over any limit there can be.
        if payload_len > self.max_payload_len || usize::try_from(payload_len).is_err() {
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

    /// One step over `buf`, which holds the current frame's bytes received so far, from
    /// its first header byte (and possibly later frames after it).
    ///
    /// When the header is first complete, `on_header` sees it (the message layer's checks
    /// go there) and says how its payload is checked as text. Then the payload bytes not
    /// yet seen are unmasked in place, continuing the key phase, and fed to `utf8` as that
    /// says. Returns [`Step::Complete`] once the whole frame is in `buf`; the decoder is
    /// then ready for the next frame, which starts after `header_len + payload_len`
    /// bytes.
    ///
    /// # Errors
    /// A header rule ([`decode_header`](Self::decode_header)), an error of `on_header`,
    /// or invalid UTF-8; the decoder is then reset.
    #[inline]
    pub(crate) fn step(
        &mut self,
        buf: &mut [u8],
        utf8: &mut Utf8Validator,
        on_header: impl FnOnce(&FrameHeader) -> Result<TextCheck, ProtocolError>,
    ) -> Result<Step, ProtocolError> {
        let mut progress = if let Some(progress) = self.current {
            progress
        } else {
            let Some((header, header_len)) = self.decode_header(buf)? else {
                // At least the two first bytes; the exact header length is known from
                // them, but two is a safe lower bound.
                return Ok(Step::Incomplete(2usize.saturating_sub(buf.len()).max(1)));
            };
            let text = on_header(&header)?;
            Progress {
                header,
                header_len,
                // decode_header checked that the length fits in a usize.
                len: usize::try_from(header.payload_len).unwrap_or(usize::MAX),
                done: 0,
                text,
            }
        };
        let available = (buf.len() - progress.header_len).min(progress.len);
        let whole_at_once = progress.done == 0 && available == progress.len;
        if available > progress.done {
            let fresh =
                &mut buf[progress.header_len + progress.done..][..available - progress.done];
            if let Some(key) = progress.header.mask {
                apply_mask(fresh, key, progress.done);
            }
            let feed = match progress.text {
                TextCheck::None => false,
                TextCheck::Stream => true,
                TextCheck::Whole => !whole_at_once,
            };
            if feed {
                if let Err(error) = utf8.feed(fresh) {
                    self.current = None;
                    return Err(error);
                }
            }
            progress.done = available;
        }
        if progress.done < progress.len {
            self.current = Some(progress);
            return Ok(Step::Incomplete(progress.len - progress.done));
        }
        self.current = None;
        Ok(Step::Complete(Complete {
            header: progress.header,
            header_len: progress.header_len,
            payload_len: progress.len,
            text_fed: !(progress.text == TextCheck::Whole && whole_at_once),
        }))
    }

    /// Decodes one frame from the front of `buf` without allocating: once the frame is
    /// whole, its payload is returned borrowed from `buf`, unmasked in place, with the
    /// number of bytes the frame took. Returns `Ok(None)` while `buf` holds only part of
    /// it.
    ///
    /// Resumable: the payload bytes that have arrived are unmasked as they are seen, and
    /// the decoder remembers how far it got, so call again with the same frame's bytes
    /// (more appended) until it returns the frame; then hand in the bytes after
    /// `consumed`.
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
    /// let mut decoder = FrameDecoder::new(Role::Client);
    /// let first = decoder.decode_slice(&mut buf)?.expect("a whole frame");
    /// assert_eq!((first.header.opcode, first.header.fin, &first.payload[..]), (OpCode::Text, false, &b"Hel"[..]));
    /// let used = first.consumed;
    /// let second = decoder.decode_slice(&mut buf[used..])?.expect("a whole frame");
    /// assert_eq!((second.header.opcode, &second.payload[..]), (OpCode::Continuation, &b"lo"[..]));
    /// # Ok::<(), rfc6455::ProtocolError>(())
    /// ```
    ///
    /// # Errors
    /// As [`FrameDecoder::decode_header`]; the decoder is then reset.
    #[inline]
    pub fn decode_slice<'b>(
        &mut self,
        buf: &'b mut [u8],
    ) -> Result<Option<FrameRef<'b>>, ProtocolError> {
        let mut unused = Utf8Validator::new();
        match self.step(buf, &mut unused, |_| Ok(TextCheck::None))? {
            Step::Incomplete(_) => Ok(None),
            Step::Complete(frame) => {
                let end = frame.header_len + frame.payload_len;
                Ok(Some(FrameRef {
                    header: frame.header,
                    payload: &mut buf[frame.header_len..end],
                    consumed: end,
                }))
            }
        }
    }

    /// Decodes one frame from the front of `buf`, or returns `Ok(None)` if `buf` does not
    /// hold all of it yet.
    ///
    /// On success the frame's bytes are removed from `buf`, and the payload, unmasked in
    /// place, is split off without copying (or copied, when small: see
    /// `take_payload`). While the frame is incomplete nothing is removed (the payload
    /// that arrived is unmasked in place, as for
    /// [`decode_slice`](Self::decode_slice)), and `buf`'s capacity is grown toward the
    /// whole frame, by at most [`MAX_EAGER_RESERVE`] at a time: a header alone never
    /// commits more memory than that.
    ///
    /// # Errors
    /// Any error of [`FrameDecoder::decode_header`]. After an error the connection must
    /// be failed (§7.1.7); the decoder is reset.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        let mut unused = Utf8Validator::new();
        match self.step(buf, &mut unused, |_| Ok(TextCheck::None))? {
            Step::Incomplete(missing) => {
                buf.reserve(missing.min(MAX_EAGER_RESERVE));
                Ok(None)
            }
            Step::Complete(frame) => {
                buf.advance(frame.header_len);
                Ok(Some(Frame {
                    header: frame.header,
                    payload: take_payload(buf, frame.payload_len),
                }))
            }
        }
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
/// The one place a received payload becomes `Bytes`.
#[inline]
pub(crate) fn take_payload(buf: &mut BytesMut, len: usize) -> Bytes {
    if let Some(payload) = copy_small_payload(&buf[..len]) {
        buf.advance(len);
        payload
    } else {
        buf.split_to(len).freeze()
    }
}

/// A copy of `payload` if it is small enough to be copied rather than shared (see
/// [`COPY_PAYLOADS_UP_TO`]); `None` when it is to be shared ([`take_payload`]).
#[inline]
pub(crate) fn copy_small_payload(payload: &[u8]) -> Option<Bytes> {
    (payload.len() <= COPY_PAYLOADS_UP_TO).then(|| Bytes::copy_from_slice(payload))
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
