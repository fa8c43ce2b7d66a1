//! Incremental UTF-8 validation (§8.1) and validated text. (Interim minimal version: the
//! fast implementation is being written.)

use bytes::Bytes;

use crate::ProtocolError;

/// Validated UTF-8 over `Bytes`. (Interim.)
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// Wraps bytes already validated.
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        Utf8Bytes(bytes)
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl From<&'static str> for Utf8Bytes {
    fn from(s: &'static str) -> Self {
        Utf8Bytes(Bytes::from_static(s.as_bytes()))
    }
}

impl core::ops::Deref for Utf8Bytes {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

/// Incremental validator. (Interim: keeps the unvalidated tail.)
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {
    pending: alloc::vec::Vec<u8>,
}

impl Utf8Validator {
    /// A validator at the start of a message.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes.
    ///
    /// # Errors
    /// [`ProtocolError::InvalidUtf8`] once the bytes cannot begin valid UTF-8.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), ProtocolError> {
        self.pending.extend_from_slice(chunk);
        match core::str::from_utf8(&self.pending) {
            Ok(_) => {
                self.pending.clear();
                Ok(())
            }
            Err(e) if e.error_len().is_none() => {
                self.pending.drain(..e.valid_up_to());
                Ok(())
            }
            Err(_) => Err(ProtocolError::InvalidUtf8),
        }
    }

    /// Ends the message.
    ///
    /// # Errors
    /// [`ProtocolError::InvalidUtf8`] if a code point is unfinished.
    pub fn finish(&mut self) -> Result<(), ProtocolError> {
        let done = self.pending.is_empty();
        self.pending.clear();
        if done { Ok(()) } else { Err(ProtocolError::InvalidUtf8) }
    }

    /// Starts over.
    pub fn reset(&mut self) {
        self.pending.clear();
    }
}
