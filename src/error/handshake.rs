use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

/// The opening handshake (§4) failed: the peer's request or response head is malformed,
/// over a limit, or breaks a rule of §4.1 / §4.2.1.
///
/// Each variant says what the peer did. On the server side, [`HandshakeError::status`]
/// gives the HTTP status to answer with and [`HandshakeError::response`] builds the whole
/// rejection (§4.2.1: "return an HTTP response with an appropriate error code (such as 400
/// Bad Request)"; §4.4: a 426 with `Sec-WebSocket-Version: 13` for a version we do not
/// speak).
///
/// Not `Copy`: [`HandshakeError::Rejected`] owns the server's non-101 response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    // ----- the head as HTTP/1.1, both directions -----
    /// The head did not end within the configured number of bytes
    /// ([`HandshakeLimits::max_head_size`](crate::HandshakeLimits)).
    #[error("head exceeds the limit of {max} bytes")]
    HeadTooLarge {
        /// The configured limit.
        max: usize,
    },
    /// The head has more header fields than configured
    /// ([`HandshakeLimits::max_headers`](crate::HandshakeLimits)).
    #[error("more than {max} header fields")]
    TooManyHeaders {
        /// The configured limit.
        max: usize,
    },
    /// A line ended with a bare LF instead of CRLF. We require CRLF, as RFC 9112 §2.2 lets
    /// a recipient do; accepting both would let two parsers disagree on where a line ends.
    #[error("line ending without CR")]
    BareLineFeed,
    /// A header field name is empty, contains a character that is not allowed in a token
    /// (RFC 9110 §5.1: whitespace before the colon included), or is not followed by `:`.
    #[error("invalid header field name")]
    InvalidHeaderName,
    /// A header field value contains a control character (a bare CR included).
    #[error("invalid header field value")]
    InvalidHeaderValue,
    /// A header line starts with a space or tab: obsolete line folding, which RFC 9112
    /// §5.2 lets a server reject with 400.
    #[error("obsolete line folding")]
    ObsoleteLineFolding,

    // ----- the client's request (§4.2.1) -----
    /// The request line is not `method SP request-target SP HTTP-version`.
    #[error("malformed request line")]
    InvalidRequestLine,
    /// The method is not `GET` (§4.2.1 item 1).
    #[error("method is not GET")]
    MethodNotGet,
    /// The HTTP version is lower than 1.1 (§4.2.1 item 1, §4.1 item 1 for a response).
    #[error("HTTP version lower than 1.1")]
    HttpVersionTooOld,
    /// The request target is neither an absolute path (`/chat?room=1`) nor an absolute
    /// `http`, `https`, `ws` or `wss` URI, or it holds a fragment (§3, §4.2.1 item 1).
    #[error("invalid request target")]
    InvalidRequestTarget,
    /// No `Host` header field (§4.2.1 item 2).
    #[error("missing Host header")]
    MissingHost,
    /// More than one `Host` header field (RFC 9112 §3.2: answer 400).
    #[error("duplicate Host header")]
    DuplicateHost,
    /// The `Host` value is empty or not printable ASCII (§4.2.1 item 2: the server's
    /// authority).
    #[error("invalid Host header")]
    InvalidHost,
    /// No `Upgrade` header field with the `websocket` token (§4.2.1 item 3), or in a
    /// response an `Upgrade` that is not `websocket` (§4.1, response item 2).
    #[error("missing Upgrade: websocket header")]
    MissingUpgradeWebSocket,
    /// No `Connection` header field with the `Upgrade` token (§4.2.1 item 4; §4.1,
    /// response item 3).
    #[error("missing Connection: Upgrade header")]
    MissingConnectionUpgrade,
    /// No `Sec-WebSocket-Key` header field (§4.2.1 item 5).
    #[error("missing Sec-WebSocket-Key header")]
    MissingKey,
    /// More than one `Sec-WebSocket-Key` header field.
    #[error("duplicate Sec-WebSocket-Key header")]
    DuplicateKey,
    /// The `Sec-WebSocket-Key` value is not base64 of exactly 16 bytes (§4.2.1 item 5).
    #[error("Sec-WebSocket-Key is not base64 of 16 bytes")]
    InvalidKey,
    /// No `Sec-WebSocket-Version` header field (§4.2.1 item 6). Answered with 426 and
    /// `Sec-WebSocket-Version: 13` (§4.4).
    #[error("missing Sec-WebSocket-Version header")]
    MissingVersion,
    /// More than one `Sec-WebSocket-Version` header field.
    #[error("duplicate Sec-WebSocket-Version header")]
    DuplicateVersion,
    /// A `Sec-WebSocket-Version` other than 13 (§4.2.1 item 6). Answered with 426 and
    /// `Sec-WebSocket-Version: 13` (§4.4).
    #[error("unsupported Sec-WebSocket-Version (this server speaks 13)")]
    UnsupportedVersion,
    /// More than one `Origin` header field, or one that is not printable ASCII (RFC 6454
    /// §7: a single serialized origin).
    #[error("invalid Origin header")]
    InvalidOrigin,
    /// A `Sec-WebSocket-Protocol` value that is not a comma-separated list of tokens
    /// (§4.3 `1#token`), or, in a response, not exactly one token (§4.2.2, §4.3
    /// `Sec-WebSocket-Protocol-Server = token`).
    #[error("invalid Sec-WebSocket-Protocol header")]
    InvalidSubprotocols,
    /// A `Sec-WebSocket-Extensions` value that does not follow the §9.1 grammar ("the
    /// recipient of such malformed data MUST immediately _Fail the WebSocket
    /// Connection_").
    #[error("invalid Sec-WebSocket-Extensions header")]
    InvalidExtensions,

    // ----- the server's response, checked by the client (§4.1) -----
    /// The status line is not `HTTP-version SP 3DIGIT SP reason-phrase`.
    #[error("malformed status line")]
    InvalidStatusLine,
    /// The server answered with a status other than 101 (§4.1, response item 1). The
    /// response is kept so the caller can follow a redirect (3xx) or authenticate (401).
    #[error("server answered {} instead of 101", .0.status)]
    Rejected(Box<RejectedResponse>),
    /// No `Sec-WebSocket-Accept` header field (§4.1, response item 4).
    #[error("missing Sec-WebSocket-Accept header")]
    MissingAccept,
    /// A `Sec-WebSocket-Accept` value other than the one computed from our key, or more
    /// than one (§4.1, response item 4).
    #[error("Sec-WebSocket-Accept does not match the key")]
    AcceptMismatch,
    /// The server chose a subprotocol we did not offer, or one when we offered none
    /// (§4.1, response item 6).
    #[error("server chose a subprotocol that was not offered")]
    SubprotocolNotOffered,
    /// The server accepted an extension we did not offer (§4.1, response item 5; §9).
    #[error("server accepted an extension that was not offered")]
    ExtensionNotOffered,
}

impl HandshakeError {
    /// The HTTP status code a server answers this error with.
    ///
    /// - 431 (Request Header Fields Too Large) for [`HeadTooLarge`] and
    ///   [`TooManyHeaders`];
    /// - 405 (Method Not Allowed, with `Allow: GET`) for [`MethodNotGet`];
    /// - 426 (Upgrade Required) for a missing `Upgrade: websocket` and a missing or
    ///   unsupported version (§4.2.2 step 4, /version/; §4.4);
    /// - 502 (Bad Gateway) for the errors a client finds in a server's response
    ///   ([`InvalidStatusLine`], [`Rejected`], [`MissingAccept`], [`AcceptMismatch`],
    ///   [`SubprotocolNotOffered`], [`ExtensionNotOffered`]): no server of ours sends
    ///   them, but a gateway relaying a failed upstream handshake would;
    /// - 400 (Bad Request) for everything else (§4.2.1).
    ///
    /// [`HeadTooLarge`]: HandshakeError::HeadTooLarge
    /// [`TooManyHeaders`]: HandshakeError::TooManyHeaders
    /// [`MethodNotGet`]: HandshakeError::MethodNotGet
    /// [`InvalidStatusLine`]: HandshakeError::InvalidStatusLine
    /// [`Rejected`]: HandshakeError::Rejected
    /// [`MissingAccept`]: HandshakeError::MissingAccept
    /// [`AcceptMismatch`]: HandshakeError::AcceptMismatch
    /// [`SubprotocolNotOffered`]: HandshakeError::SubprotocolNotOffered
    /// [`ExtensionNotOffered`]: HandshakeError::ExtensionNotOffered
    #[must_use]
    pub const fn status(&self) -> u16 {
        match self {
            HandshakeError::HeadTooLarge { .. } | HandshakeError::TooManyHeaders { .. } => 431,
            HandshakeError::MethodNotGet => 405,
            HandshakeError::MissingUpgradeWebSocket
            | HandshakeError::MissingVersion
            | HandshakeError::UnsupportedVersion => 426,
            HandshakeError::InvalidStatusLine
            | HandshakeError::Rejected(_)
            | HandshakeError::MissingAccept
            | HandshakeError::AcceptMismatch
            | HandshakeError::SubprotocolNotOffered
            | HandshakeError::ExtensionNotOffered => 502,
            _ => 400,
        }
    }

    /// Appends to `out` the complete HTTP response a server sends for this error, then
    /// closes the connection: the status line for [`HandshakeError::status`], the headers
    /// that status calls for, and this error's message as a `text/plain` body.
    ///
    /// A 426 carries `Upgrade: websocket` (RFC 9110 §15.5.22) and `Sec-WebSocket-Version:
    /// 13` (§4.4: "the version(s) the server is capable of understanding"); a 405 carries
    /// `Allow: GET`. Every rejection carries `Connection: close`.
    ///
    /// ```
    /// use rfc6455::HandshakeError;
    /// let mut out = Vec::new();
    /// HandshakeError::MissingKey.write_response(&mut out);
    /// assert_eq!(
    ///     out,
    ///     b"HTTP/1.1 400 Bad Request\r\n\
    ///       Connection: close\r\n\
    ///       Content-Type: text/plain; charset=utf-8\r\n\
    ///       Content-Length: 32\r\n\
    ///       \r\n\
    ///       missing Sec-WebSocket-Key header"
    /// );
    /// ```
    pub fn write_response(&self, out: &mut Vec<u8>) {
        let status = self.status();
        let body = alloc::string::ToString::to_string(self);
        // Writing into a Vec<u8> through core::fmt cannot fail.
        let _ = write!(
            VecWriter(out),
            "HTTP/1.1 {status} {}\r\n",
            reason_phrase(status)
        );
        for (name, value) in self.response_headers() {
            for part in [name, ": ", value, "\r\n"] {
                out.extend_from_slice(part.as_bytes());
            }
        }
        let _ = write!(
            VecWriter(out),
            "Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        out.extend_from_slice(body.as_bytes());
    }

    /// The header fields a server's rejection carries for this error, as (name, value)
    /// pairs, for an HTTP stack that builds its own response (hyper, axum; see the
    /// `http` feature): a 426 needs `Upgrade: websocket` (RFC 9110 §15.5.22) and
    /// `Sec-WebSocket-Version: 13` (§4.4), a 405 `Allow: GET` (RFC 9110 §15.5.6), and
    /// every rejection `Connection: close`. The body's fields (`Content-Type`,
    /// `Content-Length`) are the stack's; [`HandshakeError::write_response`] adds them
    /// with this error's message as the body.
    ///
    /// ```
    /// use rfc6455::HandshakeError;
    /// let e = HandshakeError::UnsupportedVersion;
    /// assert_eq!(e.status(), 426);
    /// assert_eq!(e.response_headers(), [
    ///     ("Upgrade", "websocket"),
    ///     ("Connection", "Upgrade, close"),
    ///     ("Sec-WebSocket-Version", "13"),
    /// ]);
    /// assert_eq!(HandshakeError::MethodNotGet.response_headers(),
    ///            [("Allow", "GET"), ("Connection", "close")]);
    /// ```
    #[must_use]
    pub const fn response_headers(&self) -> &'static [(&'static str, &'static str)] {
        match self.status() {
            405 => &[("Allow", "GET"), ("Connection", "close")],
            426 => &[
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade, close"),
                ("Sec-WebSocket-Version", "13"),
            ],
            _ => &[("Connection", "close")],
        }
    }

    /// The standard reason phrase of [`HandshakeError::status`], e.g. `Upgrade Required`.
    #[must_use]
    pub const fn reason(&self) -> &'static str {
        reason_phrase(self.status())
    }

    /// The complete HTTP response a server sends for this error; see
    /// [`HandshakeError::write_response`].
    #[must_use]
    pub fn response(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(160);
        self.write_response(&mut out);
        out
    }
}

/// The standard reason phrase for the statuses a rejection uses.
const fn reason_phrase(status: u16) -> &'static str {
    match status {
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        502 => "Bad Gateway",
        _ => "Bad Request",
    }
}

struct VecWriter<'a>(&'a mut Vec<u8>);

impl core::fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// A server's answer other than 101 Switching Protocols, kept whole (owned) so a client
/// can act on it (§4.1, response item 1): follow a 3xx `Location`, answer a 401's
/// `WWW-Authenticate`, or show the status to a user.
///
/// The body, if any, is not parsed: it starts at [`RejectedResponse::head_len`] in the
/// caller's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RejectedResponse {
    /// The status code, e.g. 302, 401 or 404.
    pub status: u16,
    /// The reason phrase as sent (may be empty); bytes outside ASCII are replaced.
    pub reason: String,
    /// The header fields in the order received: name as sent, value with surrounding
    /// whitespace removed.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The length of the response head, final blank line included.
    pub head_len: usize,
}

impl RejectedResponse {
    /// The value of the first header field called `name` (ASCII case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The `Location` header of a redirect, if present and valid UTF-8.
    #[must_use]
    pub fn location(&self) -> Option<&str> {
        self.header("location")
            .and_then(|v| core::str::from_utf8(v).ok())
    }
}

/// A `ws://` or `wss://` URI could not be parsed (§3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// The scheme is not `ws` or `wss` (case-insensitive), or `://` is missing.
    #[error("scheme is not ws:// or wss://")]
    InvalidScheme,
    /// The host is empty, holds characters not allowed in a host (RFC 3986 §3.2.2), or is
    /// an unterminated or malformed `[IPv6]` literal.
    #[error("invalid host")]
    InvalidHost,
    /// The port is not a decimal number from 0 to 65535.
    #[error("invalid port")]
    InvalidPort,
    /// The URI has user information (`user:pass@`). It is not sent in a WebSocket
    /// handshake; put credentials in an `Authorization` header instead.
    #[error("user information in a WebSocket URI is not supported")]
    UserInfo,
    /// The path or query holds a character that must be percent-encoded (a space, a
    /// control character, a non-ASCII byte).
    #[error("invalid character in path or query")]
    InvalidPath,
    /// The URI has a fragment: "Fragment identifiers are meaningless in the context of
    /// WebSocket URIs and MUST NOT be used on these URIs" (§3).
    #[error("fragment in a WebSocket URI")]
    Fragment,
}
