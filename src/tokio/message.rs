//! The adapter's message type, for both directions.

use alloc::string::String;
use alloc::vec::Vec;

use bytes::Bytes;

use crate::{CloseFrame, Event, Fragment, Utf8Bytes};

/// A WebSocket message, received from [`WebSocket::recv`](super::WebSocket::recv) or
/// given to [`WebSocket::send`](super::WebSocket::send).
///
/// Not the core's [`Event`]: an event reports what already happened (a ping *was*
/// answered, a close *was* echoed) and is only ever received, while a message is also
/// something to send — a close without a status code, a ping of our own — and converts
/// from strings and byte buffers.
///
/// Pings and pongs are reported for information: the pong for a ping is sent
/// automatically ([`Config::auto_pong`](crate::Config::auto_pong)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// A whole text message, UTF-8 checked (§5.6).
    Text(Utf8Bytes),
    /// A whole binary message.
    Binary(Bytes),
    /// A ping (§5.5.2), at most 125 bytes.
    Ping(Bytes),
    /// A pong (§5.5.3), at most 125 bytes.
    Pong(Bytes),
    /// A close frame (§5.5.1). Received: the peer's, with `None` for a close without a
    /// status code (1005); by then the echo was written and the transport closed. Sent:
    /// starts the closing handshake.
    Close(Option<CloseFrame>),
    /// One frame of a message, received only with
    /// [`Config::stream_fragments`](crate::Config::stream_fragments). Sent: the first
    /// fragment begins a message, the one with `fin` ends it (§5.4).
    Fragment(Fragment),
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<Utf8Bytes>) -> Self {
        Message::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Message::Binary(data.into())
    }

    /// Whether this is a text or binary message (or a fragment of one).
    #[must_use]
    pub fn is_data(&self) -> bool {
        matches!(
            self,
            Message::Text(_) | Message::Binary(_) | Message::Fragment(_)
        )
    }

    /// Whether this is a close frame.
    #[must_use]
    pub fn is_close(&self) -> bool {
        matches!(self, Message::Close(_))
    }

    /// The text of a text message.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text.as_str()),
            _ => None,
        }
    }

    /// The payload as bytes: the text's UTF-8, the data, the control payload, or the close
    /// reason.
    #[must_use]
    pub fn into_data(self) -> Bytes {
        match self {
            Message::Text(text) => text.into_bytes(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data,
            Message::Close(frame) => frame.map(|f| f.reason.into_bytes()).unwrap_or_default(),
            Message::Fragment(fragment) => fragment.data,
        }
    }

    pub(crate) fn from_event(event: Event) -> Self {
        match event {
            Event::Text(text) => Message::Text(text),
            Event::Binary(data) => Message::Binary(data),
            Event::Ping(data) => Message::Ping(data),
            Event::Pong(data) => Message::Pong(data),
            Event::Close(frame) => Message::Close(frame.has_status().then_some(frame)),
            Event::Fragment(fragment) => Message::Fragment(fragment),
        }
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.into())
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text.into())
    }
}

impl From<Utf8Bytes> for Message {
    fn from(text: Utf8Bytes) -> Self {
        Message::Text(text)
    }
}

impl From<&[u8]> for Message {
    fn from(data: &[u8]) -> Self {
        Message::Binary(Bytes::copy_from_slice(data))
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Self {
        Message::Binary(data.into())
    }
}

impl From<Bytes> for Message {
    fn from(data: Bytes) -> Self {
        Message::Binary(data)
    }
}
