//! Error types, one per failure domain.
//!
//! - [`ProtocolError`]: the *peer* broke RFC 6455 after the handshake. Each variant knows
//!   the close code (§7.4.1) the connection must be failed with.
//! - [`HandshakeError`]: the opening handshake (§4) could not be completed. Each variant
//!   knows the HTTP status a server answers with.
//! - [`UsageError`]: *we* (the caller of this crate) asked for something the protocol or
//!   the connection's state does not allow. Nothing goes on the wire for these.
//! - [`Error`]: what the connection's methods return, one of the first and the last.
//!
//! None of them carries an I/O error: the crate does no I/O.

mod handshake;
mod protocol;
mod usage;

pub use handshake::*;
pub use protocol::ProtocolError;
pub use usage::UsageError;

/// An error from the connection state machine: either the peer violated the protocol or
/// the caller misused the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The peer violated RFC 6455; the matching close frame has been queued and the
    /// connection accepts nothing more.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The caller asked for something not allowed in the connection's current state.
    #[error(transparent)]
    Usage(#[from] UsageError),
}

impl Error {
    /// The close code the connection was failed with, for a protocol error.
    #[must_use]
    pub fn close_code(&self) -> Option<crate::CloseCode> {
        match self {
            Error::Protocol(e) => Some(e.close_code()),
            Error::Usage(_) => None,
        }
    }
}
