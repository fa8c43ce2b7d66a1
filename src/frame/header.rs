use alloc::vec::Vec;
use bytes::Bytes;

use super::{OpCode, apply_mask};

/// The longest a frame header can be: 2 bytes, an 8-byte extended length and a 4-byte
/// masking key (§5.2).
pub const MAX_HEADER_LEN: usize = 14;

/// A decoded or to-be-encoded frame header (§5.2).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-------+-+-------------+-------------------------------+
/// |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
/// |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
/// |N|V|V|V|       |S|             |   (if payload len==126/127)   |
/// | |1|2|3|       |K|             |                               |
/// +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
/// |     Extended payload length continued, if payload len == 127  |
/// + - - - - - - - - - - - - - - - +-------------------------------+
/// |                               |Masking-key, if MASK set to 1  |
/// +-------------------------------+-------------------------------+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "FIN and RSV1-3 are the RFC's own bits"
)]
pub struct FrameHeader {
    /// FIN: this is the final fragment of a message.
    pub fin: bool,
    /// RSV1: reserved for extensions (permessage-deflate uses it).
    pub rsv1: bool,
    /// RSV2: reserved for extensions.
    pub rsv2: bool,
    /// RSV3: reserved for extensions.
    pub rsv3: bool,
    /// What the payload means.
    pub opcode: OpCode,
    /// The masking key, for a masked frame (§5.3).
    pub mask: Option<[u8; 4]>,
    /// The payload length in bytes.
    pub payload_len: u64,
}

impl FrameHeader {
    /// A header for a final, unmasked frame with no RSV bits.
    #[must_use]
    pub const fn new(opcode: OpCode, payload_len: u64) -> Self {
        FrameHeader {
            fin: true,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode,
            mask: None,
            payload_len,
        }
    }

    /// How many bytes [`FrameHeader::encode`] writes: 2, plus 2 or 8 for an extended
    /// length, plus 4 for a masking key.
    #[must_use]
    pub const fn encoded_len(&self) -> usize {
        header_len(self.payload_len, self.mask.is_some())
    }

    /// Writes the header into `out` with the length in its minimal encoding (§5.2: "the
    /// minimal number of bytes MUST be used to encode the length") and returns how many
    /// bytes were written. Ready for a vectored write beside the payload.
    ///
    /// # Panics
    /// If `payload_len` has its most significant bit set, which §5.2 forbids ("the most
    /// significant bit MUST be 0"); no payload that fits in memory is that long.
    pub fn encode(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        let (lead, extended, key) = self.fields();
        out[..2].copy_from_slice(&lead);
        let mut pos = 2;
        match extended {
            ExtendedLen::None => {}
            ExtendedLen::U16(len) => {
                out[2..4].copy_from_slice(&len);
                pos = 4;
            }
            ExtendedLen::U64(len) => {
                out[2..10].copy_from_slice(&len);
                pos = 10;
            }
        }
        if let Some(key) = key {
            out[pos..pos + 4].copy_from_slice(&key);
            pos += 4;
        }
        pos
    }

    /// Appends what [`FrameHeader::encode`] writes to `out` and returns its length. The
    /// bytes go from registers straight into `out`: a header written byte by byte into a
    /// staging array and then copied out with wider loads stalls the processor (the loads
    /// cannot be served from the pending byte stores), which cost a third of a small
    /// send's time.
    ///
    /// # Panics
    /// As [`FrameHeader::encode`].
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) -> usize {
        let start = out.len();
        let (lead, extended, key) = self.fields();
        out.extend_from_slice(&lead);
        match extended {
            ExtendedLen::None => {}
            ExtendedLen::U16(len) => out.extend_from_slice(&len),
            ExtendedLen::U64(len) => out.extend_from_slice(&len),
        }
        if let Some(key) = key {
            out.extend_from_slice(&key);
        }
        out.len() - start
    }

    /// The header's fields as bytes in wire order (§5.2): the first two bytes (FIN, RSV,
    /// opcode; MASK and the 7-bit length), the extended length in its minimal form, and
    /// the masking key.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn fields(&self) -> ([u8; 2], ExtendedLen, Option<[u8; 4]>) {
        assert!(self.payload_len >> 63 == 0, "payload length over 2^63 - 1");
        let first = u8::from(self.fin) << 7
            | u8::from(self.rsv1) << 6
            | u8::from(self.rsv2) << 5
            | u8::from(self.rsv3) << 4
            | self.opcode.as_u8();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let (len7, extended) = match self.payload_len {
            // Each arm is in range, so the casts below are lossless.
            #[allow(clippy::cast_possible_truncation)]
            len @ 0..=125 => (len as u8, ExtendedLen::None),
            #[allow(clippy::cast_possible_truncation)]
            len @ 126..=0xFFFF => (0x7E, ExtendedLen::U16((len as u16).to_be_bytes())), // 126: 16 bits follow
            len => (0x7F, ExtendedLen::U64(len.to_be_bytes())), // 127: 64 bits follow
        };
        ([first, mask_bit | len7], extended, self.mask)
    }
}

/// The extended payload length after a header's first two bytes (§5.2), big-endian.
enum ExtendedLen {
    None,
    U16([u8; 2]),
    U64([u8; 8]),
}

/// A whole frame: its header and its (unmasked) payload.
///
/// After decoding, `payload` is already unmasked and `header.mask` still records the key
/// the peer used. When encoding, `header.mask` decides whether the payload is masked on
/// the wire; `header.payload_len` is ignored and the payload's length is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The frame header.
    pub header: FrameHeader,
    /// The payload, unmasked.
    pub payload: Bytes,
}

impl Frame {
    /// A final, unmasked frame with no RSV bits.
    #[must_use]
    pub fn new(opcode: OpCode, payload: impl Into<Bytes>) -> Self {
        let payload = payload.into();
        Frame {
            header: FrameHeader::new(opcode, payload.len() as u64),
            payload,
        }
    }

    /// Appends the frame to `out`: the header, then the payload, masked with
    /// `header.mask` if it is set.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_frame(&self.header, &self.payload, out);
    }
}

/// Appends a frame with `header` (its `payload_len` replaced by `payload.len()`) and
/// `payload` to `out`, masking the copy of the payload in `out` if `header.mask` is set.
/// The length of a header for a payload of `payload_len` bytes (§5.2): 2, plus 2 or 8
/// for an extended length, plus 4 for a masking key (§5.3).
#[inline]
pub(crate) const fn header_len(payload_len: u64, masked: bool) -> usize {
    let len = match payload_len {
        0..=125 => 2,
        126..=0xFFFF => 4,
        _ => 10,
    };
    if masked { len + 4 } else { len }
}

pub(crate) fn encode_frame(header: &FrameHeader, payload: &[u8], out: &mut Vec<u8>) {
    let header = FrameHeader {
        payload_len: payload.len() as u64,
        ..*header
    };
    out.reserve(header.encoded_len() + payload.len());
    header.encode_into(out);
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = header.mask {
        apply_mask(&mut out[start..], key, 0);
    }
}
