//! What the send methods take: borrowed data (copied into the queue) or owned data
//! (queued without copying where the frame allows).

use alloc::string::String;
use alloc::vec::Vec;
use bytes::{Bytes, BytesMut};

use super::outgoing::Src;
use crate::Utf8Bytes;

/// A binary payload to send: anything byte-like, borrowed or owned.
///
/// Borrowed data (`&[u8]`, `&Vec<u8>`, `&[u8; N]`, `&Bytes`) is copied into the outgoing
/// queue; owned data (`Vec<u8>`, `Bytes`, `BytesMut`) is queued without copying when the
/// frame can carry it as it is (a server's frames of at least 1 KiB; a client masks, which
/// copies). Write `send_binary(&data)` or `send_binary(data)` alike.
#[derive(Debug, Clone)]
pub struct Payload<'a>(Inner<'a>);

/// A text payload to send: a `&str`, `String`, or [`Utf8Bytes`] — text that is valid
/// UTF-8 by its type, so it is never checked again.
///
/// A received [`Event::Text`](crate::Event::Text) can be echoed with `send_text(text)` or
/// `send_text(&text)`: no copy of a large payload (server role), no re-validation.
#[derive(Debug, Clone)]
pub struct TextPayload<'a>(Inner<'a>);

#[derive(Debug, Clone)]
enum Inner<'a> {
    Borrowed(&'a [u8]),
    Shared(&'a Bytes),
    Owned(Bytes),
}

impl Inner<'_> {
    fn src(&self) -> Src<'_> {
        match self {
            Inner::Borrowed(data) => Src::Borrowed(data),
            Inner::Shared(bytes) => Src::Shared(bytes),
            Inner::Owned(bytes) => Src::Shared(bytes),
        }
    }
}

impl Payload<'_> {
    /// The payload's length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.src().as_slice().len()
    }

    /// Whether the payload is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn src(&self) -> Src<'_> {
        self.0.src()
    }
}

impl TextPayload<'_> {
    /// The text's length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.src().as_slice().len()
    }

    /// Whether the text is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn src(&self) -> Src<'_> {
        self.0.src()
    }
}

impl<'a> From<&'a [u8]> for Payload<'a> {
    fn from(data: &'a [u8]) -> Self {
        Payload(Inner::Borrowed(data))
    }
}

impl<'a, const N: usize> From<&'a [u8; N]> for Payload<'a> {
    fn from(data: &'a [u8; N]) -> Self {
        Payload(Inner::Borrowed(data))
    }
}

impl<'a> From<&'a Vec<u8>> for Payload<'a> {
    fn from(data: &'a Vec<u8>) -> Self {
        Payload(Inner::Borrowed(data))
    }
}

impl<'a> From<&'a Bytes> for Payload<'a> {
    fn from(data: &'a Bytes) -> Self {
        Payload(Inner::Shared(data))
    }
}

impl<'a> From<&'a BytesMut> for Payload<'a> {
    fn from(data: &'a BytesMut) -> Self {
        Payload(Inner::Borrowed(data))
    }
}

impl From<Vec<u8>> for Payload<'_> {
    fn from(data: Vec<u8>) -> Self {
        Payload(Inner::Owned(Bytes::from(data)))
    }
}

impl From<Bytes> for Payload<'_> {
    fn from(data: Bytes) -> Self {
        Payload(Inner::Owned(data))
    }
}

impl From<BytesMut> for Payload<'_> {
    fn from(data: BytesMut) -> Self {
        Payload(Inner::Owned(data.freeze()))
    }
}

impl<'a> From<&'a str> for TextPayload<'a> {
    fn from(text: &'a str) -> Self {
        TextPayload(Inner::Borrowed(text.as_bytes()))
    }
}

impl<'a> From<&'a String> for TextPayload<'a> {
    fn from(text: &'a String) -> Self {
        TextPayload(Inner::Borrowed(text.as_bytes()))
    }
}

impl From<String> for TextPayload<'_> {
    fn from(text: String) -> Self {
        TextPayload(Inner::Owned(Bytes::from(text)))
    }
}

impl<'a> From<&'a Utf8Bytes> for TextPayload<'a> {
    fn from(text: &'a Utf8Bytes) -> Self {
        TextPayload(Inner::Shared(text.as_shared_bytes()))
    }
}

impl From<Utf8Bytes> for TextPayload<'_> {
    fn from(text: Utf8Bytes) -> Self {
        TextPayload(Inner::Owned(text.into_bytes()))
    }
}
