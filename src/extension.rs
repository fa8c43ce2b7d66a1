//! The extension hook (§9): how a negotiated extension, such as permessage-deflate
//! (RFC 7692), claims RSV bits and transforms message payloads.
//!
//! The opening handshake only agrees on extensions (§9.1); this module is where an agreed
//! extension runs. A [`Connection`](crate::Connection) without an extension fails any
//! frame with an RSV bit set (§5.2, close code 1002). With one
//! ([`Connection::with_extension`](crate::Connection::with_extension)), the bits the
//! extension claims are allowed where the extension says, and the payloads of the
//! messages it marks are passed through [`Extension::decode`] on receipt and
//! [`Extension::encode`] before sending.
//!
//! The hook is per message, as every extension registered for WebSocket so far is: an
//! extension marks a message by RSV bits on its first frame (RFC 7692 §6), and
//! transforms the whole message's payload as one stream, whatever the fragmentation.
//!
//! ```
//! use bytes::BytesMut;
//! use rfc6455::extension::{Extension, ExtensionError, Rsv};
//! use rfc6455::{Config, Connection, Event, MessageKind};
//!
//! /// A toy extension that flips bit 5 of every byte of messages it marks with RSV1.
//! struct Flip;
//!
//! impl Extension for Flip {
//!     fn reserved_bits(&self) -> Rsv {
//!         Rsv::RSV1
//!     }
//!     fn decode(&mut self, input: &[u8], _end: bool, output: &mut BytesMut, max: usize)
//!         -> Result<(), ExtensionError> {
//!         if output.len() + input.len() > max {
//!             return Err(ExtensionError::TooLarge);
//!         }
//!         output.extend(input.iter().map(|b| b ^ 0x20));
//!         Ok(())
//!     }
//!     fn begin_outgoing(&mut self, _kind: MessageKind, _len: Option<usize>) -> Rsv {
//!         Rsv::RSV1
//!     }
//!     fn encode(&mut self, input: &[u8], _end: bool, output: &mut BytesMut)
//!         -> Result<(), ExtensionError> {
//!         output.extend(input.iter().map(|b| b ^ 0x20));
//!         Ok(())
//!     }
//! }
//!
//! let mut client = Connection::client(Config::default()).with_extension(Flip);
//! let mut server = Connection::server(Config::default()).with_extension(Flip);
//! client.send_text("Hello")?;
//! let wire = client.take_outgoing();
//! assert_eq!(wire[0], 0x80 | 0x40 | 0x1); // FIN, RSV1, text
//! server.receive(&wire);
//! assert_eq!(server.next_event()?, Some(Event::Text("Hello".into())));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use bytes::BytesMut;

use crate::MessageKind;
use crate::frame::FrameHeader;
use crate::{CloseCode, ProtocolError};

/// A set of the three RSV bits of a frame header (§5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rsv(u8);

impl Rsv {
    /// No bit.
    pub const NONE: Rsv = Rsv(0);
    /// RSV1, the bit permessage-deflate uses ("Per-Message Compressed", RFC 7692 §6).
    pub const RSV1: Rsv = Rsv(0b100);
    /// RSV2.
    pub const RSV2: Rsv = Rsv(0b010);
    /// RSV3.
    pub const RSV3: Rsv = Rsv(0b001);

    /// The bits set in a frame header.
    #[must_use]
    pub const fn of(header: &FrameHeader) -> Rsv {
        Rsv((header.rsv1 as u8) << 2 | (header.rsv2 as u8) << 1 | header.rsv3 as u8)
    }

    /// The bits as `0b_rsv1_rsv2_rsv3`.
    #[must_use]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether no bit is set.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every bit of `other` is set here.
    #[must_use]
    pub const fn contains(self, other: Rsv) -> bool {
        self.0 & other.0 == other.0
    }

    /// The bits set in either.
    #[must_use]
    pub const fn union(self, other: Rsv) -> Rsv {
        Rsv(self.0 | other.0)
    }
}

/// Why an extension could not transform a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtensionError {
    /// The transformed message would exceed the limit passed to
    /// [`Extension::decode`]: the connection fails with 1009, as soon as it is crossed.
    #[error("message exceeds the size limit once transformed")]
    TooLarge,
    /// The payload is not valid for the extension (for example, corrupt compressed data):
    /// the connection fails with 1002 (§7.1.7), or 1007 where the extension says the
    /// data is inconsistent with the message type.
    #[error("extension data is invalid: {0}")]
    Invalid(&'static str),
}

impl ExtensionError {
    /// The close code a received payload failing this way is answered with (§7.4.1).
    #[must_use]
    pub const fn close_code(&self) -> CloseCode {
        match self {
            ExtensionError::TooLarge => CloseCode::MESSAGE_TOO_BIG,
            ExtensionError::Invalid(_) => CloseCode::PROTOCOL_ERROR,
        }
    }
}

/// A negotiated extension that transforms whole messages (§9), driven by a
/// [`Connection`](crate::Connection).
///
/// Received: for each data message, [`begin_incoming`](Extension::begin_incoming)
/// decides from the first frame's RSV bits whether the message is transformed; every
/// later frame's bits are checked by [`check_frame`](Extension::check_frame); the payload
/// of a transformed message is passed through [`decode`](Extension::decode) frame by
/// frame. Text is checked as UTF-8 *after* decoding.
///
/// Sent: [`begin_outgoing`](Extension::begin_outgoing) chooses the RSV bits of the first
/// frame (none: the message is sent as it is), then [`encode`](Extension::encode) turns
/// the payload into what goes on the wire. Control frames are never passed through the
/// extension.
pub trait Extension: Send {
    /// The RSV bits this extension gives a meaning to. Received frames may carry only
    /// these (anything else is 1002, §5.2), and only where
    /// [`begin_incoming`](Extension::begin_incoming) and
    /// [`check_frame`](Extension::check_frame) allow.
    fn reserved_bits(&self) -> Rsv;

    /// The first frame of a received data message (text or binary, `header.fin` telling
    /// whether it is also the last): returns whether the message is transformed.
    ///
    /// The default, the per-message rule of RFC 7692 §6: transformed when any claimed
    /// bit is set.
    ///
    /// # Errors
    /// A [`ProtocolError`] fails the connection (1002).
    fn begin_incoming(&mut self, header: &FrameHeader) -> Result<bool, ProtocolError> {
        Ok(!Rsv::of(header).is_empty())
    }

    /// Any other received frame: a continuation of a data message or a control frame.
    ///
    /// The default, RFC 7692 §6.1 and §6: the claimed bits are set only on a message's
    /// first frame, so a continuation or control frame with any of them is an error.
    ///
    /// # Errors
    /// [`ProtocolError::ReservedBitsSet`] (1002) by default.
    fn check_frame(&mut self, header: &FrameHeader) -> Result<(), ProtocolError> {
        let rsv = Rsv::of(header);
        if rsv.is_empty() {
            Ok(())
        } else {
            Err(ProtocolError::ReservedBitsSet(rsv.bits()))
        }
    }

    /// Decodes the next part of a transformed message's payload (one frame's payload),
    /// appending the result to `output`. `end` is true for the message's last frame.
    /// `output` may hold at most `max` bytes once this returns (the message size limit,
    /// over the decoded size): return [`ExtensionError::TooLarge`] as soon as it would be
    /// crossed, without producing the rest.
    ///
    /// # Errors
    /// [`ExtensionError`]; the connection fails with its close code.
    fn decode(
        &mut self,
        input: &[u8],
        end: bool,
        output: &mut BytesMut,
        max: usize,
    ) -> Result<(), ExtensionError>;

    /// Starts an outgoing data message of `kind` (`len` is its length when known in
    /// advance, `None` for a message streamed in fragments). Returns the RSV bits for its
    /// first frame; [`Rsv::NONE`] sends this message untransformed (for example, one
    /// too small to be worth compressing), and then [`encode`](Extension::encode) is not
    /// called for it.
    fn begin_outgoing(&mut self, kind: MessageKind, len: Option<usize>) -> Rsv;

    /// Encodes the next part of an outgoing transformed message, appending the result to
    /// `output`; `end` is true for the message's last part.
    ///
    /// # Errors
    /// [`ExtensionError`]: the message is refused
    /// ([`UsageError::Extension`](crate::UsageError::Extension)).
    fn encode(
        &mut self,
        input: &[u8],
        end: bool,
        output: &mut BytesMut,
    ) -> Result<(), ExtensionError>;

    /// The largest received frame payload to accept, given
    /// [`Config::max_frame_size`](crate::Config::max_frame_size) (`configured`): an
    /// extension whose encoding can be longer than its input, as compression is for data
    /// that does not compress, raises the limit by what its peer may add, so that a
    /// message within the limit is accepted in one frame whether or not the peer
    /// transformed it. Called once, by
    /// [`Connection::with_extension`](crate::Connection::with_extension).
    ///
    /// The default: `configured`, unchanged.
    fn max_frame_size(&self, configured: u64) -> u64 {
        configured
    }
}

impl<E: Extension + ?Sized> Extension for alloc::boxed::Box<E> {
    fn reserved_bits(&self) -> Rsv {
        (**self).reserved_bits()
    }
    fn begin_incoming(&mut self, header: &FrameHeader) -> Result<bool, ProtocolError> {
        (**self).begin_incoming(header)
    }
    fn check_frame(&mut self, header: &FrameHeader) -> Result<(), ProtocolError> {
        (**self).check_frame(header)
    }
    fn decode(
        &mut self,
        input: &[u8],
        end: bool,
        output: &mut BytesMut,
        max: usize,
    ) -> Result<(), ExtensionError> {
        (**self).decode(input, end, output, max)
    }
    fn begin_outgoing(&mut self, kind: MessageKind, len: Option<usize>) -> Rsv {
        (**self).begin_outgoing(kind, len)
    }
    fn encode(
        &mut self,
        input: &[u8],
        end: bool,
        output: &mut BytesMut,
    ) -> Result<(), ExtensionError> {
        (**self).encode(input, end, output)
    }
    fn max_frame_size(&self, configured: u64) -> u64 {
        (**self).max_frame_size(configured)
    }
}
