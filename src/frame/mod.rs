//! The frame codec (§5): frame headers, masking, close payloads.
//!
//! This layer knows nothing about messages: it turns bytes into [`Frame`]s and back.
//! Users who want raw frames (a proxy, their own message layer) can use it alone;
//! [`Connection`](crate::Connection) builds messages, the close handshake and the rest of
//! the protocol on top of it.
//!
//! ```
//! use bytes::BytesMut;
//! use rfc6455::Role;
//! use rfc6455::frame::{FrameDecoder, OpCode};
//!
//! // §5.7: a single-frame masked text message containing "Hello", from a client.
//! let mut buf = BytesMut::from(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58][..]);
//! let mut decoder = FrameDecoder::new(Role::Server);
//! let frame = decoder.decode(&mut buf)?.expect("a whole frame");
//! assert_eq!(frame.header.opcode, OpCode::Text);
//! assert!(frame.header.fin);
//! assert_eq!(&frame.payload[..], b"Hello");
//! assert!(buf.is_empty());
//! # Ok::<(), rfc6455::ProtocolError>(())
//! ```

mod close;
mod decode;
mod header;
mod mask;

pub use close::{encode_close_payload, parse_close_payload};
pub use decode::{FrameDecoder, FrameRef, MAX_EAGER_RESERVE};
pub(crate) use decode::{Step, TextCheck, copy_small_payload, take_payload};
pub(crate) use header::header_len;
pub use header::{Frame, FrameHeader, MAX_HEADER_LEN};
pub use mask::apply_mask;

use crate::ProtocolError;

/// The largest payload a control frame may carry: "All control frames MUST have a payload
/// length of 125 bytes or less and MUST NOT be fragmented" (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A frame's opcode (§5.2): what its payload means.
///
/// Opcodes 0x3-0x7 and 0xB-0xF are reserved; [`OpCode::from_u8`] rejects them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OpCode {
    /// 0x0: a continuation of a fragmented message (§5.4).
    Continuation = 0x0,
    /// 0x1: the first frame of a text message (§5.6).
    Text = 0x1,
    /// 0x2: the first frame of a binary message (§5.6).
    Binary = 0x2,
    /// 0x8: a close frame (§5.5.1).
    Close = 0x8,
    /// 0x9: a ping (§5.5.2).
    Ping = 0x9,
    /// 0xA: a pong (§5.5.3).
    Pong = 0xA,
}

impl OpCode {
    /// Parses the low four bits of a frame's first byte.
    ///
    /// # Errors
    /// [`ProtocolError::ReservedOpcode`] for 0x3-0x7 and 0xB-0xF, and for any value over
    /// 0xF.
    pub const fn from_u8(value: u8) -> Result<OpCode, ProtocolError> {
        Ok(match value {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            other => return Err(ProtocolError::ReservedOpcode(other)),
        })
    }

    /// The opcode's value on the wire.
    #[must_use]
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// Whether this is a control frame opcode: "Control frames are identified by opcodes
    /// where the most significant bit of the opcode is 1" (§5.5).
    #[must_use]
    pub const fn is_control(self) -> bool {
        self.as_u8() & 0x8 != 0
    }
}
