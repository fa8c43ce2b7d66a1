//! The client's side of the opening handshake (§4.1): build the request, then check the
//! server's response.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64::Engine as _;

use super::accept::{AcceptKey, accept_key};
use super::ext::{self, Extension, ValueList};
use super::head::{
    FieldVisitor, HeadKind, HeadParser, Header, Value, eq_lowercase, find_header, is_token,
    is_value, list_has_token, parse_http_version,
};
use super::uri::WsUri;
use crate::{HandshakeError, HandshakeLimits, RandomSource, RejectedResponse, UsageError};

/// Header fields the request writes itself, or that a GET upgrade may not carry.
const RESERVED_REQUEST_HEADERS: [&str; 10] = [
    "host",
    "upgrade",
    "connection",
    "origin",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "content-length",
    "transfer-encoding",
];

/// The client's side of the opening handshake (§4.1): builds the request with a fresh
/// `Sec-WebSocket-Key`, then parses and checks the server's response.
///
/// ```
/// use rfc6455::handshake::{ClientHandshake, WsUri};
///
/// let uri = WsUri::parse("ws://example.com:8080/chat")?;
/// let mut client = ClientHandshake::new(&uri);
/// client.origin("http://example.com")?.subprotocol("chat")?;
/// let request = client.request();
/// assert!(request.starts_with(b"GET /chat HTTP/1.1\r\nHost: example.com:8080\r\n"));
///
/// // ... send `request`, read the response into `buf` ...
/// # let mut buf = Vec::new();
/// # let server = rfc6455::handshake::RequestParser::new().parse(&request)?.unwrap();
/// # server.accept().subprotocol("chat")?.write(&mut buf);
/// let response = client.parse_response(&buf)?.expect("complete");
/// assert_eq!(response.subprotocol(), Some("chat"));
/// let frames = &buf[response.consumed()..]; // for the connection
/// # assert!(frames.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClientHandshake {
    /// The request through the last fixed or added header line, without offers and the
    /// final CRLF.
    head: Vec<u8>,
    /// The base64 key, 24 ASCII characters.
    key: String,
    protocols: Vec<String>,
    extensions: Vec<String>,
    limits: HandshakeLimits,
    response: HeadParser<ResponseKind>,
}

impl ClientHandshake {
    /// A handshake for `uri` with a key from the operating system's random source
    /// ([`OsRandom`](crate::OsRandom)), as §4.1 item 7 requires ("randomly selected").
    #[cfg(feature = "std")]
    #[must_use]
    pub fn new(uri: &WsUri<'_>) -> Self {
        Self::with_random(uri, &mut crate::OsRandom::new())
    }

    /// A handshake for `uri` with a key from `random`. Without the `std` feature this is
    /// the constructor; in tests it makes the request reproducible. §4.1 item 7: "The
    /// nonce MUST be selected randomly for each connection."
    pub fn with_random<R: RandomSource + ?Sized>(uri: &WsUri<'_>, random: &mut R) -> Self {
        let mut nonce = [0u8; 16];
        random.fill_bytes(&mut nonce);
        // 16 bytes encode to 24 base64 characters.
        let key = base64::engine::general_purpose::STANDARD.encode(nonce);
        let mut head = Vec::with_capacity(256);
        // §4.1 items 1-6, 8.
        head.extend_from_slice(b"GET ");
        head.extend_from_slice(uri.resource_name().as_bytes());
        head.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        head.extend_from_slice(uri.host_header().as_bytes());
        head.extend_from_slice(
            b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ",
        );
        head.extend_from_slice(key.as_bytes());
        head.extend_from_slice(b"\r\nSec-WebSocket-Version: 13\r\n");
        ClientHandshake {
            head,
            key,
            protocols: Vec::new(),
            extensions: Vec::new(),
            limits: HandshakeLimits::DEFAULT,
            response: HeadParser::new(),
        }
    }

    /// Sends an `Origin` header (§4.1 item 8: required of browsers, optional otherwise).
    ///
    /// # Errors
    ///
    /// [`UsageError::InvalidHeader`] if `origin` holds control characters.
    pub fn origin(&mut self, origin: &str) -> Result<&mut Self, UsageError> {
        self.push_header("Origin", origin)
    }

    /// Offers a subprotocol (§4.1 item 10), in order of preference.
    ///
    /// # Errors
    ///
    /// [`UsageError::InvalidHeader`] if `protocol` is not a token or was already offered
    /// (§4.1 item 10: "unique strings").
    pub fn subprotocol(&mut self, protocol: &str) -> Result<&mut Self, UsageError> {
        if !is_token(protocol.as_bytes()) || self.protocols.iter().any(|p| p == protocol) {
            return Err(UsageError::InvalidHeader);
        }
        self.protocols.push(protocol.to_string());
        Ok(self)
    }

    /// Offers one or more extensions, as a §9.1 `extension-list` (§4.1 item 11), e.g.
    /// `permessage-deflate; client_max_window_bits`.
    ///
    /// # Errors
    ///
    /// [`UsageError::InvalidHeader`] if `extensions` does not follow §9.1.
    pub fn extension(&mut self, extensions: &str) -> Result<&mut Self, UsageError> {
        if !ext::is_extension_list(extensions.as_bytes()) || !is_value(extensions.as_bytes()) {
            return Err(UsageError::InvalidHeader);
        }
        self.extensions.push(extensions.to_string());
        Ok(self)
    }

    /// Adds a header field, e.g. `Authorization` or `Cookie` (§4.1 item 12).
    ///
    /// # Errors
    ///
    /// [`UsageError::InvalidHeader`] if `name` is not a token, `value` holds a control
    /// character (CR and LF included) or surrounding whitespace, or `name` is one the
    /// request writes itself (`Host`, `Upgrade`, `Connection`, `Origin`,
    /// `Sec-WebSocket-*`) or a GET upgrade may not carry (`Content-Length`,
    /// `Transfer-Encoding`).
    pub fn header(&mut self, name: &str, value: &str) -> Result<&mut Self, UsageError> {
        if RESERVED_REQUEST_HEADERS
            .iter()
            .any(|r| r.eq_ignore_ascii_case(name))
        {
            return Err(UsageError::InvalidHeader);
        }
        self.push_header(name, value)
    }

    fn push_header(&mut self, name: &str, value: &str) -> Result<&mut Self, UsageError> {
        if !is_token(name.as_bytes()) || !is_value(value.as_bytes()) {
            return Err(UsageError::InvalidHeader);
        }
        for part in [name, ": ", value, "\r\n"] {
            self.head.extend_from_slice(part.as_bytes());
        }
        Ok(self)
    }

    /// Sets the limits for the response head.
    pub fn limits(&mut self, limits: HandshakeLimits) -> &mut Self {
        self.limits = limits;
        self
    }

    /// The `Sec-WebSocket-Key` sent (§4.1 item 7).
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The `Sec-WebSocket-Accept` the server must answer with (§4.1, response item 4).
    #[must_use]
    pub fn expected_accept(&self) -> AcceptKey {
        accept_key(self.key.as_bytes())
    }

    /// Appends the request to `out`.
    pub fn write_request(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.head);
        write_list(out, "Sec-WebSocket-Protocol", &self.protocols);
        write_list(out, "Sec-WebSocket-Extensions", &self.extensions);
        out.extend_from_slice(b"\r\n");
    }

    /// The request as a new vector.
    #[must_use]
    pub fn request(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.head.len() + 64);
        self.write_request(&mut out);
        out
    }

    /// Parses and checks the server's response in `buf`, all the bytes received so far.
    ///
    /// As with [`RequestParser::parse`](super::RequestParser::parse), each call passes
    /// the bytes of the previous call plus new ones, and `Ok(None)` means the head is
    /// incomplete. On success, bytes after [`Response::consumed`] are frames.
    ///
    /// # Errors
    ///
    /// - [`HandshakeError::Rejected`] if the status is not 101 (§4.1, response item 1),
    ///   carrying the status and headers;
    /// - otherwise the rule of §4.1 the response breaks: `Upgrade: websocket`,
    ///   `Connection: Upgrade`, the accept key, a subprotocol we did not offer, an
    ///   extension we did not offer, or a malformed or oversized head. The connection
    ///   must then be failed (closed).
    pub fn parse_response<'b>(
        &mut self,
        buf: &'b [u8],
    ) -> Result<Option<Response<'b>>, HandshakeError> {
        let mut check = ResponseCheck::default();
        let Some(head) = self.response.parse(buf, &self.limits, &mut check)? else {
            return Ok(None);
        };
        let (status, headers, consumed) = (head.start, head.headers, head.len);
        if status.code != 101 {
            let reason = buf
                .get(status.reason.0..status.reason.1)
                .ok_or(HandshakeError::InvalidStatusLine)?;
            return Err(HandshakeError::Rejected(Box::new(RejectedResponse {
                status: status.code,
                reason: String::from_utf8_lossy(reason).into_owned(),
                headers: headers
                    .iter()
                    .map(|h| (h.name().to_string(), h.value().to_vec()))
                    .collect(),
                head_len: consumed,
            })));
        }
        if status.version < (1, 1) {
            return Err(HandshakeError::HttpVersionTooOld);
        }
        let (subprotocol, extensions) = check.finish(self)?;
        Ok(Some(Response {
            headers,
            subprotocol,
            extensions,
            consumed,
        }))
    }
}

fn write_list(out: &mut Vec<u8>, name: &str, items: &[String]) {
    if let Some((first, rest)) = items.split_first() {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(first.as_bytes());
        for item in rest {
            out.extend_from_slice(b", ");
            out.extend_from_slice(item.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// Response heads, for [`HeadParser`].
#[derive(Debug, Clone, Copy)]
struct ResponseKind;

impl HeadKind for ResponseKind {
    type StartLine = StatusLine;
    type Field = ResponseField;

    fn start_line(line: &[u8]) -> Result<StatusLine, HandshakeError> {
        StatusLine::parse(line)
    }

    #[inline]
    fn field(name: &[u8]) -> Option<ResponseField> {
        let (field, eq) = match name.len() {
            7 => (ResponseField::Upgrade, eq_lowercase(name, b"upgrade")),
            10 => (ResponseField::Connection, eq_lowercase(name, b"connection")),
            20 => (
                ResponseField::Accept,
                eq_lowercase(name, b"sec-websocket-accept"),
            ),
            22 => (
                ResponseField::Protocol,
                eq_lowercase(name, b"sec-websocket-protocol"),
            ),
            24 => (
                ResponseField::Extensions,
                eq_lowercase(name, b"sec-websocket-extensions"),
            ),
            _ => return None,
        };
        eq.then_some(field)
    }
}

/// `status-line = HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 §4); the
/// reason phrase as (start, end) offsets into the line.
#[derive(Debug, Clone, Copy)]
struct StatusLine {
    version: (u8, u8),
    code: u16,
    reason: (usize, usize),
}

impl StatusLine {
    fn parse(line: &[u8]) -> Result<Self, HandshakeError> {
        let mut parts = line.splitn(3, |&b| b == b' ');
        let version = parts.next().and_then(parse_http_version);
        let code = match parts.next() {
            Some(&[a, b, c]) if [a, b, c].iter().all(u8::is_ascii_digit) => {
                u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
            }
            _ => return Err(HandshakeError::InvalidStatusLine),
        };
        // A missing reason phrase (and its SP) is tolerated.
        let reason = parts.next().unwrap_or_default();
        let (Some(version), true) = (
            version,
            reason.iter().all(|&b| b == b'\t' || b >= b' ' && b != 0x7f),
        ) else {
            return Err(HandshakeError::InvalidStatusLine);
        };
        Ok(StatusLine {
            version,
            code,
            // The reason phrase ends the line.
            reason: (line.len() - reason.len(), line.len()),
        })
    }
}

/// The response header fields §4.1 looks at.
#[derive(Debug, Clone, Copy)]
enum ResponseField {
    Upgrade,
    Connection,
    Accept,
    Protocol,
    Extensions,
}

/// The response's WebSocket header fields seen so far: one place per rule of §4.1.
#[derive(Debug, Default)]
struct ResponseCheck<'a> {
    /// Some `Upgrade` line was seen, and every one was `websocket`.
    upgrade: Option<bool>,
    connection: bool,
    /// The accept values seen (at most the first two matter).
    accept: Option<&'a [u8]>,
    accept_count: usize,
    protocols: ValueList<Value<'a>>,
    extensions: ValueList<Value<'a>>,
}

impl<'a> FieldVisitor<'a, ResponseField> for ResponseCheck<'a> {
    #[allow(clippy::inline_always)] // Measured: out of line, the header loop pays a call per line.
    #[inline(always)]
    fn visit(&mut self, field: ResponseField, value: Value<'a>) {
        ResponseCheck::visit(self, field, value);
    }
}

impl<'a> ResponseCheck<'a> {
    fn visit(&mut self, field: ResponseField, value: Value<'a>) {
        if let ResponseField::Protocol = field {
            return self.protocols.push(value);
        }
        if let ResponseField::Extensions = field {
            return self.extensions.push(value);
        }
        let value = value.bytes;
        match field {
            // §4.1 response item 2: the |Upgrade| value must be "an ASCII
            // case-insensitive match for the value "websocket"".
            ResponseField::Upgrade => {
                let ok = value.eq_ignore_ascii_case(b"websocket");
                self.upgrade = Some(self.upgrade.unwrap_or(true) && ok);
            }
            // §4.1 response item 3: a token that matches "Upgrade".
            ResponseField::Connection => self.connection |= list_has_token(value, b"upgrade"),
            ResponseField::Accept => {
                self.accept = Some(value);
                self.accept_count += 1;
            }
            ResponseField::Protocol | ResponseField::Extensions => {}
        }
    }

    fn finish(
        self,
        client: &ClientHandshake,
    ) -> Result<(Option<&'a str>, ValueList<&'a str>), HandshakeError> {
        if self.upgrade != Some(true) {
            return Err(HandshakeError::MissingUpgradeWebSocket);
        }
        if !self.connection {
            return Err(HandshakeError::MissingConnectionUpgrade);
        }
        // §4.1 response item 4: the base64 SHA-1 of key + GUID, "ignoring any leading
        // and trailing whitespace" (already trimmed).
        match (self.accept, self.accept_count) {
            (None, _) => return Err(HandshakeError::MissingAccept),
            (Some(accept), 1) if accept == client.expected_accept().as_bytes() => {}
            _ => return Err(HandshakeError::AcceptMismatch),
        }
        // §4.1 response item 5 and §9.1: well-formed, and only extensions we offered.
        let extensions = self
            .extensions
            .checked(ext::is_extension_list, &HandshakeError::InvalidExtensions)?;
        for accepted in ext::extensions(&extensions) {
            let offered = client.extensions.iter().any(|list| {
                ext::list_items(list)
                    .filter_map(ext::parse_extension)
                    .any(|o| o.name().eq_ignore_ascii_case(accepted.name()))
            });
            if !offered {
                return Err(HandshakeError::ExtensionNotOffered);
            }
        }
        // §4.1 response item 6 and §4.3: `Sec-WebSocket-Protocol-Server = token`, one of
        // ours.
        let protocols = self
            .protocols
            .checked(is_token, &HandshakeError::InvalidSubprotocols)?;
        let mut protocols = protocols.iter();
        let subprotocol = match (protocols.next(), protocols.next()) {
            (None, _) => None,
            (Some(chosen), None) => {
                if !client.protocols.iter().any(|p| p == chosen) {
                    return Err(HandshakeError::SubprotocolNotOffered);
                }
                Some(chosen)
            }
            (Some(_), Some(_)) => return Err(HandshakeError::InvalidSubprotocols),
        };
        Ok((subprotocol, extensions))
    }
}

/// A server's valid 101 response (§4.1), borrowing the parser's input: the connection
/// is open.
#[derive(Debug, Clone)]
pub struct Response<'b> {
    headers: Vec<Header<'b>>,
    subprotocol: Option<&'b str>,
    extensions: ValueList<&'b str>,
    consumed: usize,
}

impl<'b> Response<'b> {
    /// The bytes the head took, final blank line included. Bytes after these in the
    /// buffer are frames the server already sent, for the connection.
    #[must_use]
    pub const fn consumed(&self) -> usize {
        self.consumed
    }

    /// The subprotocol the server chose, one of ours, or `None` (§4.1, response item 6).
    #[must_use]
    pub const fn subprotocol(&self) -> Option<&'b str> {
        self.subprotocol
    }

    /// The extensions in use, in the order they apply (§9.1), each one we offered.
    pub fn extensions(&self) -> impl Iterator<Item = Extension<'b>> + '_ {
        ext::extensions(&self.extensions)
    }

    /// The value of the first header field called `name` (ASCII case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        find_header(&self.headers, name)
    }

    /// All header fields, in the order received.
    #[must_use]
    pub fn headers(&self) -> &[Header<'b>] {
        &self.headers
    }
}
