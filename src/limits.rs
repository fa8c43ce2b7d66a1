//! Limits and configuration: plain data with documented defaults.
//!
//! Every length that comes from the wire is checked against one of these limits before
//! any memory is reserved for it.

/// Bounds on an opening-handshake head (request or response), checked while parsing.
///
/// # Background
/// A handshake head is small: browsers send about 500 bytes, and a request with many
/// cookies rarely exceeds 4 KiB. The parser buffers nothing itself, but the caller keeps
/// the bytes until the head is complete, so an unbounded head is unbounded memory; and
/// a huge number of headers is unbounded work (Node `ws` CVE-2024-37890).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeLimits {
    /// The most bytes the head may have, request/status line and the final blank line
    /// included. Default: 8 KiB, as nginx's and Node's defaults for a request head.
    pub max_head_size: usize,
    /// The most header fields the head may have. Default: 64, twice what a browser sends
    /// with a generous set of cookies and client hints.
    pub max_headers: usize,
}

impl HandshakeLimits {
    /// The defaults: 8 KiB head, 64 headers.
    pub const DEFAULT: HandshakeLimits = HandshakeLimits {
        max_head_size: 8 * 1024,
        max_headers: 64,
    };

    /// Sets [`HandshakeLimits::max_head_size`].
    #[must_use]
    pub const fn max_head_size(mut self, bytes: usize) -> Self {
        self.max_head_size = bytes;
        self
    }

    /// Sets [`HandshakeLimits::max_headers`].
    #[must_use]
    pub const fn max_headers(mut self, count: usize) -> Self {
        self.max_headers = count;
        self
    }
}

impl Default for HandshakeLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
