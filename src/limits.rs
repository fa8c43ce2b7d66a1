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

/// How a [`Connection`](crate::Connection) behaves and what it accepts.
///
/// Start from [`Config::default`] and change what you need:
///
/// ```
/// let config = rfc6455::Config::default()
///     .max_message_size(1 << 20)
///     .auto_pong(false);
/// assert_eq!(config.max_message_size, 1 << 20);
/// ```
///
/// # Background
/// Every limit is checked on a frame's header, before any memory is reserved for the
/// payload: a peer announcing a 2^63-byte frame costs nothing. A frame over
/// `max_frame_size` or a message over `max_message_size` fails the connection with close
/// code 1009 (§7.4.1, "message too big").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The largest frame payload accepted. Default: 16 MiB — the largest single frames
    /// that conformance suites (Autobahn 9.1.6, 9.2.6) and real peers send. An
    /// extension may raise it by what its peer's encoding adds
    /// ([`Extension::max_frame_size`](crate::extension::Extension::max_frame_size):
    /// permessage-deflate adds 1/16 and 1 KiB, for data that grows when compressed).
    pub max_frame_size: u64,
    /// The largest message accepted, summed over its fragments. Default: 64 MiB, room for
    /// a 16 MiB message sent in any fragmentation, four times over.
    /// Not applied with [`Config::stream_fragments`], where nothing is reassembled.
    pub max_message_size: u64,
    /// Outgoing messages longer than this are split into frames of this size (§5.4).
    /// Default: 1 MiB, under every common peer's frame limit (tungstenite: 16 MiB).
    pub max_send_frame_size: usize,
    /// Once more than this many bytes are queued and not yet taken for writing, sending a
    /// data message is refused with [`UsageError::OutgoingBufferFull`](crate::UsageError)
    /// (backpressure; like the browser's `bufferedAmount`). Control frames are never
    /// refused. Default: 64 MiB.
    pub max_buffered_outgoing: usize,
    /// Answer each ping with a pong automatically (§5.5.2). The ping is still reported.
    /// Default: on.
    pub auto_pong: bool,
    /// The most automatic pongs held until the outgoing bytes are next taken; when more
    /// pings arrive, the oldest unanswered ones are dropped (§5.5.3 lets an endpoint
    /// answer only the most recent ping), so a ping flood from a peer that does not read
    /// cannot grow the queue. Default: 16.
    pub max_pending_pongs: usize,
    /// Deliver data frames as [`Event::Fragment`](crate::Event)s as they arrive, instead
    /// of reassembling whole messages: for messages too big to buffer. Text is still
    /// validated as it arrives. Default: off.
    pub stream_fragments: bool,
}

impl Config {
    /// The defaults, as documented on each field.
    pub const DEFAULT: Config = Config {
        max_frame_size: 16 << 20,
        max_message_size: 64 << 20,
        max_send_frame_size: 1 << 20,
        max_buffered_outgoing: 64 << 20,
        auto_pong: true,
        max_pending_pongs: 16,
        stream_fragments: false,
    };

    /// Sets [`Config::max_frame_size`].
    #[must_use]
    pub const fn max_frame_size(mut self, bytes: u64) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Sets [`Config::max_message_size`].
    #[must_use]
    pub const fn max_message_size(mut self, bytes: u64) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Sets [`Config::max_send_frame_size`]. A value of 0 is treated as 1.
    #[must_use]
    pub const fn max_send_frame_size(mut self, bytes: usize) -> Self {
        self.max_send_frame_size = bytes;
        self
    }

    /// Sets [`Config::max_buffered_outgoing`].
    #[must_use]
    pub const fn max_buffered_outgoing(mut self, bytes: usize) -> Self {
        self.max_buffered_outgoing = bytes;
        self
    }

    /// Sets [`Config::auto_pong`].
    #[must_use]
    pub const fn auto_pong(mut self, on: bool) -> Self {
        self.auto_pong = on;
        self
    }

    /// Sets [`Config::max_pending_pongs`]. A value of 0 is treated as 1.
    #[must_use]
    pub const fn max_pending_pongs(mut self, count: usize) -> Self {
        self.max_pending_pongs = count;
        self
    }

    /// Sets [`Config::stream_fragments`].
    #[must_use]
    pub const fn stream_fragments(mut self, on: bool) -> Self {
        self.stream_fragments = on;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}
