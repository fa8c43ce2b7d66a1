//! The server's side of the opening handshake (§4.2): parse and check the client's
//! request, then answer with a 101 ([`Accept`]) or a rejection
//! ([`HandshakeError::response`]).

use alloc::vec::Vec;

use super::accept::{AcceptKey, accept_key, is_valid_key};
use super::ext::{self, Extension, ValueList};
use super::head::{
    FieldVisitor, HeadScanner, Header, eq_lowercase, find_header, is_token, is_value,
    list_has_token, parse_headers, parse_http_version, split_start_line, trim_ows,
};
use crate::{HandshakeError, HandshakeLimits, UsageError};

/// An incremental parser for the client's opening request (§4.2.1).
///
/// Call [`RequestParser::parse`] with all the bytes received so far, each time more
/// arrive. It answers `Ok(None)` until the head is complete, then a [`Request`] that
/// borrows the buffer and says how many bytes the head took
/// ([`Request::consumed`]); bytes after that are WebSocket frames.
///
/// The parser keeps how far it has searched for the end of the head, so the work over
/// all calls is linear in the head's length however the bytes are split. It never reads
/// past [`HandshakeLimits::max_head_size`] and stops at
/// [`HandshakeLimits::max_headers`].
///
/// ```
/// use rfc6455::handshake::RequestParser;
///
/// let request = b"GET /chat HTTP/1.1\r\n\
///     Host: server.example.com\r\n\
///     Upgrade: websocket\r\n\
///     Connection: Upgrade\r\n\
///     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///     Sec-WebSocket-Version: 13\r\n\
///     \r\n";
/// let mut parser = RequestParser::new();
/// assert!(parser.parse(&request[..10])?.is_none()); // need more
/// let req = parser.parse(request)?.expect("complete");
/// assert_eq!(req.path(), "/chat");
/// assert_eq!(req.consumed(), request.len());
/// let response = req.accept().to_vec();
/// assert!(response.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
/// # Ok::<(), rfc6455::HandshakeError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct RequestParser {
    limits: HandshakeLimits,
    scanner: HeadScanner,
    /// Bytes walked by the second pass over complete heads.
    parsed: usize,
}

impl RequestParser {
    /// A parser with the default [`HandshakeLimits`].
    #[must_use]
    pub const fn new() -> Self {
        Self::with_limits(HandshakeLimits::DEFAULT)
    }

    /// A parser with the given limits.
    #[must_use]
    pub const fn with_limits(limits: HandshakeLimits) -> Self {
        RequestParser {
            limits,
            scanner: HeadScanner::new(),
            parsed: 0,
        }
    }

    /// Parses the request in `buf`, all the bytes received so far.
    ///
    /// Each call must pass the bytes of the previous call plus any new ones; a shorter
    /// buffer restarts the parse from the beginning. Returns `Ok(None)` while the head is
    /// incomplete.
    ///
    /// # Errors
    ///
    /// A [`HandshakeError`] if the head is over the limits, is not valid HTTP/1.1, or
    /// breaks a rule of §4.2.1. Answer it with [`HandshakeError::response`] and close the
    /// connection.
    pub fn parse<'b>(&mut self, buf: &'b [u8]) -> Result<Option<Request<'b>>, HandshakeError> {
        // Fast path, for a first call that holds the whole head (the usual case): parse
        // it in one pass. A head that parses without error has CRLF line ends, no more
        // headers than allowed and ends at its first empty line, so the search below
        // would find exactly that end. Anything else (incomplete, malformed) takes the
        // search, which gives the canonical answer; this runs at most once per parse.
        if self.scanner.is_fresh() && !buf.is_empty() {
            let window = &buf[..buf.len().min(self.limits.max_head_size)];
            if let Ok(head) = parse_http_head(window, &self.limits) {
                self.scanner.count(head.len);
                self.scanner.complete(head.len);
                return head.check().map(Some);
            }
            self.scanner.count(window.len());
        }
        let Some(head_len) = self.scanner.scan(buf, &self.limits)? else {
            return Ok(None);
        };
        self.parsed += head_len;
        parse_http_head(&buf[..head_len], &self.limits)?
            .check()
            .map(Some)
    }

    /// The limits in use.
    #[must_use]
    pub const fn limits(&self) -> &HandshakeLimits {
        &self.limits
    }

    /// Total bytes examined by this parser across all calls: for tests that the work is
    /// linear in the input, not part of the stable API.
    #[doc(hidden)]
    #[must_use]
    pub const fn bytes_scanned(&self) -> usize {
        self.scanner.scanned() + self.parsed
    }
}

/// A request head parsed as HTTP/1.1, with its WebSocket header fields gathered.
struct Head<'b> {
    line: RequestLine<'b>,
    headers: Vec<Header<'b>>,
    fields: RequestCheck<'b>,
    /// The bytes the head took.
    len: usize,
}

/// Parses a request head as HTTP/1.1: the request line and the header lines through the
/// first empty line, in one pass that also gathers the fields §4.2.1 checks.
fn parse_http_head<'b>(
    buf: &'b [u8],
    limits: &HandshakeLimits,
) -> Result<Head<'b>, HandshakeError> {
    let (line, headers_at) = split_start_line(buf).ok_or(HandshakeError::InvalidRequestLine)?;
    let line = RequestLine::parse(line)?;
    let mut headers = Vec::with_capacity(16);
    let mut fields = RequestCheck::default();
    let len = parse_headers(
        buf,
        headers_at,
        limits.max_headers,
        &mut headers,
        &mut fields,
    )?;
    Ok(Head {
        line,
        headers,
        fields,
        len,
    })
}

impl<'b> Head<'b> {
    /// Checks the WebSocket rules of §4.2.1.
    fn check(self) -> Result<Request<'b>, HandshakeError> {
        let upgrade = self.fields.finish()?;
        Ok(Request {
            target: self.line.target,
            path: self.line.path,
            query: self.line.query,
            headers: self.headers,
            upgrade,
            consumed: self.len,
        })
    }
}

/// `request-line = method SP request-target SP HTTP-version` (RFC 9112 §3).
#[derive(Clone, Copy)]
struct RequestLine<'b> {
    /// INVARIANT: visible ASCII, as are `path` and `query`, parts of it (or `/`).
    target: &'b [u8],
    path: &'b [u8],
    query: Option<&'b [u8]>,
}

impl<'b> RequestLine<'b> {
    fn parse(line: &'b [u8]) -> Result<Self, HandshakeError> {
        let (method, target, version) =
            split_request_line(line).ok_or(HandshakeError::InvalidRequestLine)?;
        // §4.2.1 item 1: "An HTTP/1.1 or higher GET request".
        if method != b"GET" {
            return Err(HandshakeError::MethodNotGet);
        }
        if version < (1, 1) {
            return Err(HandshakeError::HttpVersionTooOld);
        }
        let (path, query) = split_target(target).ok_or(HandshakeError::InvalidRequestTarget)?;
        Ok(RequestLine {
            target,
            path,
            query,
        })
    }
}

/// The method, the request target and the HTTP version (major, minor) of a request line.
type RequestLineParts<'l> = (&'l [u8], &'l [u8], (u8, u8));

/// Splits `method SP request-target SP HTTP-version` (RFC 9112 §3): the method is a token
/// up to the first SP, the target visible ASCII (RFC 9112 §3.2, RFC 3986 characters) up to
/// the second, the version the rest.
fn split_request_line(line: &[u8]) -> Option<RequestLineParts<'_>> {
    // The usual line, checked with two compares and a branch-free pass over the target.
    if let Some(target) = line
        .strip_prefix(b"GET ")
        .and_then(|rest| rest.strip_suffix(b" HTTP/1.1"))
    {
        let invisible = target
            .iter()
            .fold(0, |found, &b| found | u8::from(!b.is_ascii_graphic()));
        if !target.is_empty() && invisible == 0 {
            return Some((&line[..3], target, (1, 1)));
        }
    }
    let sp = line.iter().position(|&b| b == b' ')?;
    let (method, rest) = (&line[..sp], &line[sp + 1..]);
    let target_len = rest.iter().position(|&b| !b.is_ascii_graphic())?;
    if target_len == 0 || rest[target_len] != b' ' || !is_token(method) {
        return None;
    }
    let version = parse_http_version(&rest[target_len + 1..])?;
    Some((method, &rest[..target_len], version))
}

/// Splits a request target into path and query. §4.2.1 item 1: a "Request-URI" that is
/// the /resource name/ (origin-form, `/path?query`) "or an absolute HTTP/HTTPS URI
/// containing the /resource name/". We also take `ws`/`wss`, and refuse fragments (§3).
fn split_target(target: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    // Branch-free: targets are short and almost never hold a "#".
    if target
        .iter()
        .fold(0, |found, &b| found | u8::from(b == b'#'))
        != 0
    {
        return None;
    }
    let resource = if target.first() == Some(&b'/') {
        target
    } else {
        let colon = target.windows(3).position(|w| w == b"://")?;
        let (scheme, rest) = (&target[..colon], &target[colon + 3..]);
        if !["http", "https", "ws", "wss"]
            .iter()
            .any(|s| s.as_bytes().eq_ignore_ascii_case(scheme))
        {
            return None;
        }
        let path_at = rest
            .iter()
            .position(|&b| b == b'/' || b == b'?')
            .unwrap_or(rest.len());
        if path_at == 0 {
            return None;
        }
        &rest[path_at..]
    };
    let (path, query) = match resource.iter().position(|&b| b == b'?') {
        Some(q) => (&resource[..q], Some(&resource[q + 1..])),
        None => (resource, None),
    };
    // §3: "/" if the path component is empty.
    Some((if path.is_empty() { b"/" } else { path }, query))
}

/// Visible ASCII checked by the parser, as text; the fallback is never taken. `const`
/// for the accessors that were `const` when they returned stored `&str`s.
const fn ascii_const(bytes: &[u8]) -> &str {
    match core::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => "",
    }
}

/// A complete, valid opening request (§4.2.1), borrowing the parser's input.
///
/// Answer it with [`Request::accept`], or reject it: for a request that is valid but
/// unwanted (unknown path, disallowed origin) write any HTTP response, e.g. a 404 or 403
/// (§4.2.2 steps 2-4).
///
/// The request target is kept as the bytes checked by the parser (visible ASCII) and
/// turned into text when asked for, as the host and origin are: the parse does not pay
/// for a UTF-8 check of a target the server may not look at.
#[derive(Clone)]
pub struct Request<'b> {
    /// INVARIANT: `target`, `path` and `query` are visible ASCII.
    target: &'b [u8],
    path: &'b [u8],
    query: Option<&'b [u8]>,
    headers: Vec<Header<'b>>,
    upgrade: UpgradeRequest<'b>,
    consumed: usize,
}

impl<'b> Request<'b> {
    /// The bytes the head took, final blank line included. Bytes after these in the
    /// buffer are frames, for the connection.
    #[must_use]
    pub const fn consumed(&self) -> usize {
        self.consumed
    }

    /// The request target as sent: usually origin-form (`/chat?room=1`), possibly an
    /// absolute URI (§4.2.1 item 1).
    #[must_use]
    pub const fn target(&self) -> &'b str {
        ascii_const(self.target)
    }

    /// The path of the /resource name/ (§3), `/` if empty, still percent-encoded.
    #[must_use]
    pub const fn path(&self) -> &'b str {
        ascii_const(self.path)
    }

    /// The query of the /resource name/ (after `?`), still percent-encoded.
    #[must_use]
    pub const fn query(&self) -> Option<&'b str> {
        match self.query {
            Some(query) => Some(ascii_const(query)),
            None => None,
        }
    }

    /// The WebSocket header fields, checked: host, origin, key, offers.
    #[must_use]
    pub const fn upgrade(&self) -> &UpgradeRequest<'b> {
        &self.upgrade
    }

    /// The `Host` header value (§4.2.1 item 2).
    #[must_use]
    pub fn host(&self) -> &'b str {
        self.upgrade.host()
    }

    /// The `Origin` header value, sent by all browsers (§4.2.1 item 7, §10.2).
    #[must_use]
    pub fn origin(&self) -> Option<&'b str> {
        self.upgrade.origin()
    }

    /// The `Sec-WebSocket-Key` value (§4.2.1 item 5).
    #[must_use]
    pub fn key(&self) -> &'b str {
        self.upgrade.key()
    }

    /// The subprotocols offered, in the client's order of preference (§4.2.1 item 8).
    pub fn subprotocols(&self) -> impl Iterator<Item = &'b str> + '_ {
        self.upgrade.subprotocols()
    }

    /// The extensions offered, in order (§4.2.1 item 9, §9.1).
    pub fn extensions(&self) -> impl Iterator<Item = Extension<'b>> + '_ {
        self.upgrade.extensions()
    }

    /// The value of the first header field called `name` (ASCII case-insensitive), e.g.
    /// `Cookie` or `Authorization` (§4.2.1 item 10).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        find_header(&self.headers, name)
    }

    /// Every value of the header fields called `name` (ASCII case-insensitive), in order.
    pub fn header_all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'b [u8]> + 's {
        self.headers
            .iter()
            .filter(move |h| h.is(name))
            .map(Header::value)
    }

    /// All header fields, in the order received.
    #[must_use]
    pub fn headers(&self) -> &[Header<'b>] {
        &self.headers
    }

    /// Starts the 101 response that accepts this request (§4.2.2 step 5).
    pub fn accept(&self) -> Accept<'_> {
        self.upgrade.accept()
    }
}

impl core::fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Request")
            .field("target", &self.target())
            .field("path", &self.path())
            .field("query", &self.query())
            .field("headers", &self.headers)
            .field("upgrade", &self.upgrade)
            .field("consumed", &self.consumed)
            .finish()
    }
}

/// Checks the WebSocket header fields of a request whose HTTP head was parsed elsewhere
/// (hyper, axum, an embedded HTTP server), with the same code [`RequestParser`] uses:
/// `Host`, `Upgrade: websocket`, `Connection: Upgrade`, `Sec-WebSocket-Key`,
/// `Sec-WebSocket-Version: 13`, `Origin`, and the syntax of the subprotocol and extension
/// offers (§4.2.1).
///
/// Pass every header field of the request as (name, value) pairs. The caller checks the
/// request line itself: method `GET`, HTTP/1.1 or later (§4.2.1 item 1). Values are
/// trimmed of surrounding whitespace here.
///
/// ```
/// use rfc6455::handshake::validate_request_headers;
///
/// let headers = [
///     ("host", "example.com"),
///     ("upgrade", "websocket"),
///     ("connection", "keep-alive, Upgrade"),
///     ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
///     ("sec-websocket-version", "13"),
///     ("sec-websocket-protocol", "chat, superchat"),
/// ];
/// let upgrade = validate_request_headers(headers.iter().map(|(n, v)| (*n, *v)))?;
/// assert_eq!(upgrade.accept_key().as_str(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// assert_eq!(upgrade.subprotocols().collect::<Vec<_>>(), ["chat", "superchat"]);
/// # Ok::<(), rfc6455::HandshakeError>(())
/// ```
///
/// With the `http` crate's `HeaderMap`, pass `map.iter()`.
///
/// # Errors
///
/// The first rule broken, checked in the order of §4.2.1 (host, upgrade, connection,
/// version, key), then origin and the offers.
pub fn validate_request_headers<'a, I, N, V>(
    headers: I,
) -> Result<UpgradeRequest<'a>, HandshakeError>
where
    I: IntoIterator<Item = (&'a N, &'a V)>,
    N: AsRef<[u8]> + ?Sized + 'a,
    V: AsRef<[u8]> + ?Sized + 'a,
{
    let mut check = RequestCheck::default();
    for (name, value) in headers {
        if let Some(field) = RequestCheck::field(name.as_ref()) {
            check.visit(field, trim_ows(value.as_ref()));
        }
    }
    check.finish()
}

/// How many times a header that must appear once was seen, and its first value.
#[derive(Debug, Default)]
enum Single<'a> {
    #[default]
    Absent,
    Once(&'a [u8]),
    Duplicated,
}

impl<'a> Single<'a> {
    fn see(&mut self, value: &'a [u8]) {
        *self = match self {
            Single::Absent => Single::Once(value),
            _ => Single::Duplicated,
        };
    }
}

/// The request's WebSocket header fields seen so far: one place per rule of §4.2.1.
#[derive(Debug, Default)]
struct RequestCheck<'a> {
    host: Single<'a>,
    upgrade: bool,
    connection: bool,
    key: Single<'a>,
    version: Single<'a>,
    origin: Single<'a>,
    protocols: ValueList<'a>,
    extensions: ValueList<'a>,
}

/// The request header fields §4.2.1 looks at.
#[derive(Debug, Clone, Copy)]
enum Field {
    Host,
    Origin,
    Upgrade,
    Connection,
    Key,
    Version,
    Protocol,
    Extensions,
}

impl<'a> FieldVisitor<'a> for RequestCheck<'a> {
    type Field = Field;

    #[inline]
    fn field(name: &[u8]) -> Option<Field> {
        // Dispatch on length first: most header fields match none of these.
        let (field, eq) = match name.len() {
            4 => (Field::Host, eq_lowercase(name, b"host")),
            6 => (Field::Origin, eq_lowercase(name, b"origin")),
            7 => (Field::Upgrade, eq_lowercase(name, b"upgrade")),
            10 => (Field::Connection, eq_lowercase(name, b"connection")),
            17 => (Field::Key, eq_lowercase(name, b"sec-websocket-key")),
            21 => (Field::Version, eq_lowercase(name, b"sec-websocket-version")),
            22 => (
                Field::Protocol,
                eq_lowercase(name, b"sec-websocket-protocol"),
            ),
            24 => (
                Field::Extensions,
                eq_lowercase(name, b"sec-websocket-extensions"),
            ),
            _ => return None,
        };
        eq.then_some(field)
    }

    /// Records one header field; `value` is already trimmed.
    #[inline]
    fn visit(&mut self, field: Field, value: &'a [u8]) {
        match field {
            Field::Host => self.host.see(value),
            Field::Origin => self.origin.see(value),
            // §4.2.1 item 3: "An |Upgrade| header field containing the value
            // "websocket", treated as an ASCII case-insensitive value." Several lines
            // or a list (`websocket, h2c`) are fine.
            Field::Upgrade => self.upgrade |= list_has_token(value, b"websocket"),
            // §4.2.1 item 4: "A |Connection| header field that includes the token
            // "Upgrade", treated as an ASCII case-insensitive value."
            Field::Connection => self.connection |= list_has_token(value, b"upgrade"),
            Field::Key => self.key.see(value),
            Field::Version => self.version.see(value),
            Field::Protocol => self.protocols.push(value),
            Field::Extensions => self.extensions.push(value),
        }
    }
}

impl<'a> RequestCheck<'a> {
    fn finish(self) -> Result<UpgradeRequest<'a>, HandshakeError> {
        // §4.2.1 item 2: "A |Host| header field containing the server's authority."
        let host = match self.host {
            Single::Absent => return Err(HandshakeError::MissingHost),
            Single::Duplicated => return Err(HandshakeError::DuplicateHost),
            Single::Once(host) if is_printable(host) => host,
            Single::Once(_) => return Err(HandshakeError::InvalidHost),
        };
        if !self.upgrade {
            return Err(HandshakeError::MissingUpgradeWebSocket);
        }
        if !self.connection {
            return Err(HandshakeError::MissingConnectionUpgrade);
        }
        // §4.2.1 item 6: "A |Sec-WebSocket-Version| header field, with a value of 13."
        // Checked before the key so that an old client learns which version to use
        // (§4.4).
        match self.version {
            Single::Absent => return Err(HandshakeError::MissingVersion),
            Single::Duplicated => return Err(HandshakeError::DuplicateVersion),
            Single::Once(b"13") => {}
            Single::Once(_) => return Err(HandshakeError::UnsupportedVersion),
        }
        // §4.2.1 item 5: "A |Sec-WebSocket-Key| header field with a base64-encoded ...
        // value that, when decoded, is 16 bytes in length."
        let key = match self.key {
            Single::Absent => return Err(HandshakeError::MissingKey),
            Single::Duplicated => return Err(HandshakeError::DuplicateKey),
            // A valid key is base64, hence printable ASCII.
            Single::Once(key) if is_valid_key(key) => key,
            Single::Once(_) => return Err(HandshakeError::InvalidKey),
        };
        let origin = match self.origin {
            Single::Absent => None,
            Single::Once(origin) if is_printable(origin) => Some(origin),
            Single::Once(_) | Single::Duplicated => return Err(HandshakeError::InvalidOrigin),
        };
        // §4.3: Sec-WebSocket-Protocol-Client = 1#token.
        if !self.protocols.iter().all(ext::is_token_list) {
            return Err(HandshakeError::InvalidSubprotocols);
        }
        // §9.1: malformed extension offers fail the handshake.
        if !self.extensions.iter().all(ext::is_extension_list) {
            return Err(HandshakeError::InvalidExtensions);
        }
        Ok(UpgradeRequest {
            host,
            origin,
            key,
            protocols: self.protocols,
            extensions: self.extensions,
        })
    }
}

/// Whether `value` is non-empty visible ASCII, spaces allowed (then it is also a `str`).
fn is_printable(value: &[u8]) -> bool {
    // Branch-free over the value: these are short and almost always valid.
    !value.is_empty()
        && value
            .iter()
            .fold(true, |ok, &b| ok & (b' '..=b'~').contains(&b))
}

/// ASCII bytes checked by [`is_printable`] or a grammar, as text. The fallback is never
/// taken.
fn ascii(value: &[u8]) -> &str {
    core::str::from_utf8(value).unwrap_or_default()
}

/// The WebSocket header fields of a valid opening request (§4.2.1), from
/// [`RequestParser`] (via [`Request::upgrade`]) or [`validate_request_headers`].
#[derive(Clone, PartialEq, Eq)]
pub struct UpgradeRequest<'a> {
    /// INVARIANT: `host`, `origin` and `key` passed `is_printable` (so are ASCII).
    host: &'a [u8],
    origin: Option<&'a [u8]>,
    key: &'a [u8],
    protocols: ValueList<'a>,
    extensions: ValueList<'a>,
}

impl<'a> UpgradeRequest<'a> {
    /// The `Host` header value (§4.2.1 item 2).
    #[must_use]
    pub fn host(&self) -> &'a str {
        ascii(self.host)
    }

    /// The `Origin` header value (§4.2.1 item 7). A server that does not check it
    /// "will accept connections from anywhere" (§4.2.2 step 4, §10.2).
    #[must_use]
    pub fn origin(&self) -> Option<&'a str> {
        self.origin.map(ascii)
    }

    /// The `Sec-WebSocket-Key` value (§4.2.1 item 5).
    #[must_use]
    pub fn key(&self) -> &'a str {
        ascii(self.key)
    }

    /// The `Sec-WebSocket-Accept` value answering this key (§4.2.2 step 5.4).
    #[must_use]
    pub fn accept_key(&self) -> AcceptKey {
        accept_key(self.key)
    }

    /// The subprotocols offered in `Sec-WebSocket-Protocol` (all lines, in order of
    /// preference; §4.2.1 item 8).
    pub fn subprotocols(&self) -> impl Iterator<Item = &'a str> + '_ {
        ext::tokens(&self.protocols)
    }

    /// The extensions offered in `Sec-WebSocket-Extensions` (all lines, in order; §9.1).
    pub fn extensions(&self) -> impl Iterator<Item = Extension<'a>> + '_ {
        ext::extensions(&self.extensions)
    }

    /// Starts the 101 response that accepts this request (§4.2.2 step 5).
    pub fn accept(&self) -> Accept<'_> {
        Accept {
            key: self.accept_key(),
            request: self,
            subprotocol: None,
            extensions: Vec::new(),
            headers: Vec::new(),
        }
    }
}

impl core::fmt::Debug for UpgradeRequest<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("UpgradeRequest")
            .field("host", &self.host())
            .field("origin", &self.origin())
            .field("key", &self.key())
            .field(
                "subprotocols",
                &ext::tokens(&self.protocols).collect::<Vec<_>>(),
            )
            .field(
                "extensions",
                &self.extensions().map(|e| e.as_str()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Header fields the 101 response writes itself, or that a 1xx response may not carry
/// (RFC 9110 §8.6: no `Content-Length` in a 1xx; RFC 9112 §6.1: nor `Transfer-Encoding`).
const RESERVED_RESPONSE_HEADERS: [&str; 7] = [
    "upgrade",
    "connection",
    "sec-websocket-accept",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "content-length",
    "transfer-encoding",
];

/// The 101 Switching Protocols response accepting a request (§4.2.2 step 5), being
/// built: choose a subprotocol and extensions, add header fields, then write it.
///
/// ```text
/// HTTP/1.1 101 Switching Protocols
/// Upgrade: websocket
/// Connection: Upgrade
/// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
/// Sec-WebSocket-Protocol: chat                          (if chosen)
/// Sec-WebSocket-Extensions: permessage-deflate          (if any accepted)
/// Set-Cookie: session=1                                 (headers added, in order)
/// ```
#[derive(Debug, Clone)]
#[must_use = "an Accept does nothing until written"]
pub struct Accept<'a> {
    request: &'a UpgradeRequest<'a>,
    key: AcceptKey,
    subprotocol: Option<&'a str>,
    extensions: Vec<&'a str>,
    headers: Vec<(&'a str, &'a str)>,
}

impl<'a> Accept<'a> {
    /// Chooses the subprotocol, which must be one the client offered (§4.2.2 step 4,
    /// /subprotocol/: "The value chosen MUST be derived from the client's handshake").
    /// Compared exactly. A later call replaces the choice.
    ///
    /// # Errors
    ///
    /// [`UsageError::SubprotocolNotOffered`] if the client did not offer `protocol`.
    pub fn subprotocol(mut self, protocol: &'a str) -> Result<Self, UsageError> {
        if !self.request.subprotocols().any(|p| p == protocol) {
            return Err(UsageError::SubprotocolNotOffered);
        }
        self.subprotocol = Some(protocol);
        Ok(self)
    }

    /// Accepts one or more extensions, written as a §9.1 `extension-list` with the
    /// parameters the server answers with (e.g. `permessage-deflate;
    /// server_no_context_takeover`). Extensions are listed in the order added, the order
    /// in which they apply to the data (§9.1).
    ///
    /// # Errors
    ///
    /// [`UsageError::InvalidHeader`] if `extensions` does not follow §9.1;
    /// [`UsageError::ExtensionNotOffered`] if the client did not offer one of them by
    /// name (§4.2.2: "Extensions not listed by the client MUST NOT be listed").
    pub fn extension(mut self, extensions: &'a str) -> Result<Self, UsageError> {
        if !ext::is_extension_list(extensions.as_bytes()) || !is_value(extensions.as_bytes()) {
            return Err(UsageError::InvalidHeader);
        }
        for accepted in ext::list_items(extensions.as_bytes()).filter_map(ext::parse_extension) {
            if !self
                .request
                .extensions()
                .any(|offered| offered.name().eq_ignore_ascii_case(accepted.name()))
            {
                return Err(UsageError::ExtensionNotOffered);
            }
        }
        self.extensions.push(extensions);
        Ok(self)
    }

    /// Adds a header field to the response, e.g. `Set-Cookie`.
    ///
    /// # Errors
    ///
    /// [`UsageError::InvalidHeader`] if `name` is not a token, `value` holds a control
    /// character (CR and LF included) or surrounding whitespace, or `name` is one the
    /// response writes itself (`Upgrade`, `Connection`, `Sec-WebSocket-Accept`,
    /// `-Protocol`, `-Extensions`) or a 1xx response may not carry (`Content-Length`,
    /// `Transfer-Encoding`).
    pub fn header(mut self, name: &'a str, value: &'a str) -> Result<Self, UsageError> {
        if !is_token(name.as_bytes())
            || !is_value(value.as_bytes())
            || RESERVED_RESPONSE_HEADERS
                .iter()
                .any(|r| r.eq_ignore_ascii_case(name))
        {
            return Err(UsageError::InvalidHeader);
        }
        self.headers.push((name, value));
        Ok(self)
    }

    /// The `Sec-WebSocket-Accept` value of this response.
    #[must_use]
    pub const fn accept_key(&self) -> &AcceptKey {
        &self.key
    }

    /// Appends the response to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(
            b"HTTP/1.1 101 Switching Protocols\r\n\
              Upgrade: websocket\r\n\
              Connection: Upgrade\r\n\
              Sec-WebSocket-Accept: ",
        );
        out.extend_from_slice(self.key.as_bytes());
        out.extend_from_slice(b"\r\n");
        if let Some(protocol) = self.subprotocol {
            out.extend_from_slice(b"Sec-WebSocket-Protocol: ");
            out.extend_from_slice(protocol.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if let Some((first, rest)) = self.extensions.split_first() {
            out.extend_from_slice(b"Sec-WebSocket-Extensions: ");
            out.extend_from_slice(first.as_bytes());
            for e in rest {
                out.extend_from_slice(b", ");
                out.extend_from_slice(e.as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }

    /// The response as a new vector.
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(160);
        self.write(&mut out);
        out
    }
}
