use crate::CloseCode;

/// The peer violated RFC 6455 (§7.1.7: "Fail the WebSocket Connection").
///
/// Each variant names what the peer did and knows the close code that answers it
/// ([`ProtocolError::close_code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    // ----- frame header (§5.2) -----
    /// An opcode reserved for future use (0x3-0x7, 0xB-0xF) (§5.2).
    #[error("reserved opcode {0:#x}")]
    ReservedOpcode(u8),
    /// RSV1, RSV2 or RSV3 set without a negotiated extension that defines it (§5.2).
    /// The value holds the three bits as `0b_rsv1_rsv2_rsv3`.
    #[error("reserved bits {0:#05b} set without a negotiated extension")]
    ReservedBitsSet(u8),
    /// A 64-bit payload length with its most significant bit set (§5.2).
    #[error("64-bit payload length with the most significant bit set")]
    LengthTopBitSet,
    /// A payload length not in its minimal encoding: "the minimal number of bytes MUST be
    /// used to encode the length" (§5.2).
    #[error("payload length not minimally encoded")]
    NonMinimalLength,
    /// A control frame with a payload over 125 bytes (§5.5).
    #[error("control frame payload over 125 bytes")]
    ControlFrameTooLarge,
    /// A control frame with FIN clear: "control frames MUST NOT be fragmented" (§5.5).
    #[error("fragmented control frame")]
    FragmentedControlFrame,
    /// A client sent an unmasked frame; "the server MUST close the connection" (§5.1).
    #[error("unmasked frame from client")]
    UnmaskedFrameFromClient,
    /// A server sent a masked frame; "the client MUST close the connection" (§5.1).
    #[error("masked frame from server")]
    MaskedFrameFromServer,
    /// A frame announced a payload longer than the configured limit.
    #[error("frame payload of {len} bytes exceeds the limit of {max}")]
    FrameTooLarge {
        /// The announced payload length.
        len: u64,
        /// The configured limit.
        max: u64,
    },

    // ----- close frame payload (§5.5.1, §7.4) -----
    /// A close frame with a 1-byte payload: the body, if any, starts with a 2-byte code
    /// (§5.5.1).
    #[error("close frame payload of 1 byte")]
    CloseFrameOneByte,
    /// A close code that may not be sent on the wire (§7.4.1, §7.4.2).
    #[error("invalid close code {0}")]
    InvalidCloseCode(u16),
    /// A close reason that is not valid UTF-8 (§5.5.1).
    #[error("close reason is not valid UTF-8")]
    InvalidCloseReason,

    // ----- messages (§5.4, §8.1) -----
    /// A continuation frame with no message in progress (§5.4).
    #[error("continuation frame without a message in progress")]
    UnexpectedContinuation,
    /// A new text or binary frame while a fragmented message is in progress (§5.4).
    #[error("new data frame while a fragmented message is in progress")]
    ExpectedContinuation,
    /// Text that is not valid UTF-8 (§8.1).
    #[error("text is not valid UTF-8")]
    InvalidUtf8,
    /// A message whose fragments add up to more than the configured limit.
    #[error("message exceeds the limit of {max} bytes")]
    MessageTooLarge {
        /// The configured limit.
        max: u64,
    },

    /// A negotiated extension found a payload invalid (for example, corrupt compressed
    /// data, RFC 7692 §8.1); the reason is the extension's.
    #[error("invalid extension data: {0}")]
    Extension(&'static str),

    // ----- the transport -----
    /// The transport ended (end of stream) before the closing handshake: "the WebSocket
    /// Connection Close Code is considered to be 1006" (§7.1.5). Nothing can be sent.
    #[error("connection closed without a closing handshake")]
    UnexpectedEof,
}

impl ProtocolError {
    /// The close code to fail the connection with (§7.4.1).
    ///
    /// - 1007 for data inconsistent with its type: invalid UTF-8 in text or in a close
    ///   reason (§8.1, §5.5.1);
    /// - 1009 for frames and messages over the configured limits;
    /// - 1006 for an end of stream before the closing handshake (never sent: §7.4.1);
    /// - 1002 for everything else.
    #[must_use]
    pub const fn close_code(&self) -> CloseCode {
        match self {
            ProtocolError::InvalidUtf8 | ProtocolError::InvalidCloseReason => {
                CloseCode::INVALID_PAYLOAD
            }
            ProtocolError::FrameTooLarge { .. } | ProtocolError::MessageTooLarge { .. } => {
                CloseCode::MESSAGE_TOO_BIG
            }
            ProtocolError::UnexpectedEof => CloseCode::ABNORMAL,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}
