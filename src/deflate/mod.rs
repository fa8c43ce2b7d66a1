//! permessage-deflate, [RFC 7692]: messages compressed with DEFLATE, negotiated in the
//! opening handshake and run through the [extension hook](crate::extension).
//!
//! - The server passes the request's offers to [`negotiate`], answers with the element it
//!   returns ([`Accept::extension`](crate::handshake::Accept::extension)) and runs the
//!   [`PerMessageDeflate`] it returns on its connection.
//! - The client offers [`DeflateConfig::offer`]
//!   ([`ClientHandshake::extension`](crate::handshake::ClientHandshake::extension)),
//!   checks the 101's extensions with [`DeflateConfig::client_accept`], and runs the
//!   [`PerMessageDeflate`] it returns.
//!
//! The message size limit ([`Config::max_message_size`](crate::Config::max_message_size))
//! applies to the decompressed size, and is enforced while inflating: a message that
//! inflates past it fails the connection with 1009 as soon as the limit is crossed, having
//! produced at most the limit (and held at most 1.5 times it while its buffer grew). Memory per connection is bounded and stated on
//! [`PerMessageDeflate`]. Why `zlib-rs` does the compression, and what it costs, is in
//! `docs/DEFLATE.md`.
//!
//! # A whole conversation, in memory
//!
//! ```
//! use rfc6455::deflate::{DeflateConfig, negotiate};
//! use rfc6455::handshake::{ClientHandshake, RequestParser, WsUri};
//! use rfc6455::{Config, Connection, Event};
//!
//! let config = DeflateConfig::default();
//!
//! // The client offers permessage-deflate.
//! let uri = WsUri::parse("ws://example.com/chat")?;
//! let mut handshake = ClientHandshake::new(&uri);
//! handshake.extension(&config.offer())?;
//! let request = handshake.request();
//!
//! // The server accepts the first offer it can, and answers with its parameters.
//! let mut parser = RequestParser::new();
//! let req = parser.parse(&request)?.expect("a complete request");
//! let (answer, extension) = negotiate(req.extensions(), &config).expect("an acceptable offer");
//! let response = req.accept().extension(&answer)?.to_vec();
//! let mut server = Connection::server(Config::default()).with_extension(extension);
//!
//! // The client checks the answer against its offer.
//! let accepted = handshake.parse_response(&response)?.expect("a complete response");
//! let extension = config.client_accept(accepted.extensions())?.expect("deflate accepted");
//! let mut client = Connection::client(Config::default()).with_extension(extension);
//!
//! // Messages travel compressed, RSV1 set on their first frame (RFC 7692 §6).
//! let text = "a chat message, a chat message, a chat message, a chat message";
//! client.send_text(text)?;
//! let wire = client.take_outgoing();
//! assert_eq!(wire[0], 0x80 | 0x40 | 0x1); // FIN, RSV1, text
//! assert!(wire.len() < 6 + text.len() / 2); // header, mask, and under half the text
//! server.receive(&wire);
//! assert_eq!(server.next_event()?, Some(Event::Text(text.into())));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is supported
//!
//! Every parameter of RFC 7692 §7.1, in both roles: `server_no_context_takeover`,
//! `client_no_context_takeover`, `server_max_window_bits` and `client_max_window_bits`
//! with windows 9 to 15 honoured exactly by the compressor. A window of 8 (256 bytes) is
//! accepted too, but `zlib-rs`, like zlib, cannot make raw DEFLATE with it: an endpoint
//! whose compressor is limited to 8 sends its messages uncompressed (RSV1 clear), which
//! RFC 7692 §6 allows for any message, and still decompresses the peer's. Received
//! messages are always inflated with a 32 KiB window, which decodes any smaller one.
//!
//! [RFC 7692]: https://www.rfc-editor.org/rfc/rfc7692

mod codec;
mod negotiate;

pub use codec::PerMessageDeflate;
pub use negotiate::{DeflateParams, EXTENSION_NAME, NegotiationError, negotiate};

/// The permessage-deflate policy of an endpoint: what it offers or accepts, and how it
/// compresses.
///
/// The window and context-takeover fields use RFC 7692's names, which are by role; what
/// each means depends on the endpoint's role:
///
/// | field | client | server |
/// | --- | --- | --- |
/// | `server_no_context_takeover` | asks the server to reset per message | resets per message |
/// | `client_no_context_takeover` | resets per message | asks the client to reset |
/// | `server_max_window_bits` | asks the server for at most this window | compresses with at most this window |
/// | `client_max_window_bits` | compresses with at most this window | asks the client for at most this window, if it allows |
///
/// A server gets what it asks for (RFC 7692 §7.1 lets it answer with the four
/// parameters), except a client window limit that the offer does not allow; a client gets
/// what it asks for or a [`NegotiationError`] from
/// [`client_accept`](DeflateConfig::client_accept). Without context takeover an
/// endpoint's messages compress less, and the peer's decompressor can reset too.
///
/// ```
/// use rfc6455::deflate::DeflateConfig;
///
/// let config = DeflateConfig::default()
///     .server_no_context_takeover(true)
///     .level(1)
///     .min_compress_size(64);
/// assert_eq!(config.level, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// The server compresses every message from scratch (RFC 7692 §7.1.1.1). Default:
    /// false (context takeover: repeated content compresses to little).
    pub server_no_context_takeover: bool,
    /// The client compresses every message from scratch (RFC 7692 §7.1.1.2). Default:
    /// false.
    pub client_no_context_takeover: bool,
    /// The server's LZ77 window, as a base-2 logarithm, 8..=15 (RFC 7692 §7.1.2.1).
    /// Default: 15, 32 KiB.
    pub server_max_window_bits: u8,
    /// The client's LZ77 window, 8..=15 (RFC 7692 §7.1.2.2). Default: 15.
    pub client_max_window_bits: u8,
    /// The compression level, 0 (stored, no compression) to 9 (smallest output).
    /// Default: 6, zlib's, which browsers, Python `websockets` and Node `ws` use too.
    pub level: u8,
    /// The compressor's memory level, 1..=9: its buffers of pending output take
    /// 7 × 2^(`memory_level` + 6) bytes. Default: 8, zlib's.
    pub memory_level: u8,
    /// Messages shorter than this are sent uncompressed (RSV1 clear, RFC 7692 §6), where
    /// DEFLATE would add more than it saves. Default: 0, every message is compressed.
    /// Streamed messages ([`Connection::begin_message`](crate::Connection::begin_message)),
    /// whose length is not known, are always compressed.
    pub min_compress_size: usize,
}

impl DeflateConfig {
    /// The defaults: context takeover both ways, 32 KiB windows, level 6, memory level 8,
    /// every message compressed.
    pub const DEFAULT: DeflateConfig = DeflateConfig {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
        level: 6,
        memory_level: 8,
        min_compress_size: 0,
    };

    /// Sets [`DeflateConfig::server_no_context_takeover`].
    #[must_use]
    pub const fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// Sets [`DeflateConfig::client_no_context_takeover`].
    #[must_use]
    pub const fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// Sets [`DeflateConfig::server_max_window_bits`].
    ///
    /// # Panics
    /// If `bits` is outside 8..=15 (RFC 7692 §7.1.2.1).
    #[must_use]
    pub const fn server_max_window_bits(mut self, bits: u8) -> Self {
        assert!(8 <= bits && bits <= 15, "window bits must be within 8..=15");
        self.server_max_window_bits = bits;
        self
    }

    /// Sets [`DeflateConfig::client_max_window_bits`].
    ///
    /// # Panics
    /// If `bits` is outside 8..=15 (RFC 7692 §7.1.2.2).
    #[must_use]
    pub const fn client_max_window_bits(mut self, bits: u8) -> Self {
        assert!(8 <= bits && bits <= 15, "window bits must be within 8..=15");
        self.client_max_window_bits = bits;
        self
    }

    /// Sets [`DeflateConfig::level`].
    ///
    /// # Panics
    /// If `level` is over 9.
    #[must_use]
    pub const fn level(mut self, level: u8) -> Self {
        assert!(level <= 9, "the compression level must be within 0..=9");
        self.level = level;
        self
    }

    /// Sets [`DeflateConfig::memory_level`].
    ///
    /// # Panics
    /// If `level` is outside 1..=9.
    #[must_use]
    pub const fn memory_level(mut self, level: u8) -> Self {
        assert!(
            1 <= level && level <= 9,
            "the memory level must be within 1..=9"
        );
        self.memory_level = level;
        self
    }

    /// Sets [`DeflateConfig::min_compress_size`].
    #[must_use]
    pub const fn min_compress_size(mut self, bytes: usize) -> Self {
        self.min_compress_size = bytes;
        self
    }
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}
