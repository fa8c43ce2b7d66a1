//! The adapter's error: the core's errors plus I/O, timeouts and the handshake's outcome.

use core::fmt;
use std::io;

use crate::{HandshakeError, ProtocolError, UriError, UsageError};

/// Why a WebSocket operation of the tokio adapter failed.
///
/// A [`Protocol`](Error::Protocol) error is returned only after the close frame it calls
/// for (1002, 1007, 1009, ... §7.4.1) was written and the TCP connection closed, so `?`
/// on [`WebSocket::recv`](super::WebSocket::recv) loses nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The peer violated RFC 6455; the matching close frame has been written.
    /// [`ProtocolError::UnexpectedEof`] is a peer that went away without a close frame
    /// (1006, §7.1.5).
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// We asked for something the connection's state does not allow, such as sending
    /// after the close ([`UsageError::Closed`]).
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// The opening handshake failed (§4). On the server side the rejection response (400,
    /// 405, 426, 431) has been written.
    #[error("handshake failed: {0}")]
    Handshake(#[from] HandshakeError),
    /// The URL given to connect is not a valid `ws://` URL (§3).
    #[error("invalid WebSocket URL: {0}")]
    Uri(#[from] UriError),
    /// The request callback of
    /// [`Options::accept_with`](super::Options::accept_with) rejected the request; the
    /// response with this status has been written.
    #[error("request rejected with status {0}")]
    Rejected(u16),
    /// `connect` was given a `wss://` URL. Open the TLS stream yourself and run
    /// [`client_handshake`](super::client_handshake) over it.
    #[error("wss:// needs a TLS stream: connect it yourself and use client_handshake")]
    TlsRequired,
    /// The server's 101 accepted permessage-deflate in a way RFC 7692 §7 forbids (our
    /// offer did not allow it, or a parameter is malformed); the connection was failed
    /// (closed) as §7 says.
    #[cfg(feature = "deflate")]
    #[error("permessage-deflate negotiation failed: {0}")]
    Deflate(#[from] crate::deflate::NegotiationError),
    /// A deadline passed; the connection was released.
    #[error("{0} timed out")]
    Timeout(Timeout),
}

/// Which deadline passed, for [`Error::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Timeout {
    /// The opening handshake did not complete within
    /// [`Options::handshake_timeout`](super::Options::handshake_timeout).
    Handshake,
    /// Nothing arrived from the peer within
    /// [`Options::keepalive_timeout`](super::Options::keepalive_timeout) of a keepalive
    /// ping.
    Keepalive,
    /// A write made no progress for
    /// [`Options::write_timeout`](super::Options::write_timeout): the peer stopped
    /// reading.
    Write,
    /// The closing handshake did not complete within
    /// [`Options::close_timeout`](super::Options::close_timeout).
    Close,
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Timeout::Handshake => "opening handshake",
            Timeout::Keepalive => "keepalive",
            Timeout::Write => "write",
            Timeout::Close => "closing handshake",
        })
    }
}

impl From<crate::Error> for Error {
    fn from(error: crate::Error) -> Self {
        match error {
            crate::Error::Protocol(e) => Error::Protocol(e),
            crate::Error::Usage(e) => Error::Usage(e),
        }
    }
}

impl From<Error> for io::Error {
    fn from(error: Error) -> Self {
        match error {
            Error::Io(e) => e,
            Error::Timeout(_) => io::Error::new(io::ErrorKind::TimedOut, error),
            Error::Protocol(ProtocolError::UnexpectedEof) => {
                io::Error::new(io::ErrorKind::UnexpectedEof, error)
            }
            Error::Usage(_) => io::Error::other(error),
            _ => io::Error::new(io::ErrorKind::InvalidData, error),
        }
    }
}
