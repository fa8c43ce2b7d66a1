/// The caller asked for something that the protocol or the current state does not allow.
///
/// These are bugs or races in the calling code, not faults of the peer; nothing is sent
/// on the wire because of them, and the connection stays as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// A ping, pong or close payload over 125 bytes (§5.5).
    #[error("control frame payload over 125 bytes")]
    ControlPayloadTooLarge,
    /// A close code that may not be sent (§7.4.1: 1005, 1006, 1015 and undefined ranges).
    #[error("close code {0} may not be sent")]
    InvalidCloseCode(u16),
    /// Sending after our close frame was queued, or after the connection closed (§5.5.1:
    /// "the endpoint MUST NOT send any more data frames after sending a Close frame").
    #[error("the connection is closing or closed")]
    Closed,
    /// A data message was sent while a streamed message is still in progress, or a
    /// fragment was sent with no streamed message begun.
    #[error("a streamed message is in progress, or none was begun")]
    MessageInProgress,
    /// Bytes sent as part of a streamed text message are not valid UTF-8 (§5.6).
    #[error("text is not valid UTF-8")]
    InvalidUtf8,
    /// The outgoing queue is over its configured limit; write out queued bytes first.
    #[error("outgoing buffer is full")]
    OutgoingBufferFull,
    /// The negotiated extension could not encode the message; nothing was sent.
    #[error("the extension could not encode the message: {0}")]
    Extension(crate::extension::ExtensionError),
    /// The chosen subprotocol is not one the client offered (§4.2.2).
    #[error("subprotocol was not offered by the client")]
    SubprotocolNotOffered,
    /// A header name or value given by the caller is not valid HTTP (contains CR, LF,
    /// or characters not allowed in a token).
    #[error("invalid header name or value")]
    InvalidHeader,
    /// An accepted extension is not one the client offered: "Extensions not listed by the
    /// client MUST NOT be listed" (§4.2.2, /extensions/).
    #[error("extension was not offered by the client")]
    ExtensionNotOffered,
}
