use bytes::Bytes;

use crate::{CloseCode, Utf8Bytes};

/// What a [`Connection`](crate::Connection) reports from the bytes it received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A whole text message, UTF-8 checked (§5.6).
    Text(Utf8Bytes),
    /// A whole binary message.
    Binary(Bytes),
    /// A ping (§5.5.2). With [`Config::auto_pong`](crate::Config::auto_pong) the pong is
    /// already queued, unless our close was already sent (then nothing more is sent).
    Ping(Bytes),
    /// A pong (§5.5.3), solicited or not.
    Pong(Bytes),
    /// The peer's close frame (§5.5.1). The echo is already queued if we had not sent a
    /// close ourselves; the connection is now closed.
    Close(CloseFrame),
    /// A data frame of a message, delivered as it arrives, only with
    /// [`Config::stream_fragments`](crate::Config::stream_fragments).
    Fragment(Fragment),
}

/// An event with its payload borrowed from the connection's buffers, as returned by
/// [`Connection::next_event_ref`](crate::Connection::next_event_ref): the same events as
/// [`Event`], without an allocation per message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventRef<'a> {
    /// A whole text message, UTF-8 checked (§5.6).
    Text(&'a str),
    /// A whole binary message.
    Binary(&'a [u8]),
    /// A ping (§5.5.2); with auto-pong, the pong is already queued.
    Ping(&'a [u8]),
    /// A pong (§5.5.3).
    Pong(&'a [u8]),
    /// The peer's close frame (§5.5.1); the echo is already queued if we had not sent a
    /// close. `code` is [`CloseCode::NO_STATUS_RECEIVED`] (1005) for an empty frame.
    Close {
        /// The status code.
        code: CloseCode,
        /// The reason, possibly empty.
        reason: &'a str,
    },
    /// A data frame of a message, only with
    /// [`Config::stream_fragments`](crate::Config::stream_fragments).
    Fragment {
        /// Text or binary.
        kind: MessageKind,
        /// The frame's payload (for text, possibly ending inside a code point).
        data: &'a [u8],
        /// Whether this is the message's first frame.
        first: bool,
        /// Whether this is the message's last frame.
        fin: bool,
    },
}

/// The body of a close frame (§5.5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code; [`CloseCode::NO_STATUS_RECEIVED`] (1005) if the frame had no body
    /// (§7.1.5), a code that can never appear on the wire.
    pub code: CloseCode,
    /// The reason, possibly empty.
    pub reason: Utf8Bytes,
}

impl CloseFrame {
    /// Whether the peer's close frame had a status code at all.
    #[must_use]
    pub fn has_status(&self) -> bool {
        self.code != CloseCode::NO_STATUS_RECEIVED
    }
}

/// Whether a message is text or binary (§5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Binary,
}

/// One data frame of a message, as delivered with
/// [`Config::stream_fragments`](crate::Config::stream_fragments).
///
/// For text, the concatenation of a message's fragments is valid UTF-8 (checked as the
/// bytes arrive), but one fragment may end in the middle of a code point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// Text or binary.
    pub kind: MessageKind,
    /// The frame's payload.
    pub data: Bytes,
    /// Whether this is the message's first frame.
    pub first: bool,
    /// Whether this is the message's last frame.
    pub fin: bool,
}

/// Where a connection is in its life (§4, §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// Messages flow both ways.
    Open,
    /// We sent a close frame and wait for the peer's; incoming messages are still
    /// delivered, nothing more can be sent.
    Closing,
    /// The close handshake is done, or the connection failed: nothing more is accepted or
    /// sent.
    Closed,
}
