//! The server's side of the opening handshake (§4.2): parse any request head, then
//! serve it as plain HTTP or check and upgrade it, answering with a 101 ([`Accept`]) or a
//! rejection ([`HandshakeError::response`]).

use alloc::string::String;
use alloc::vec::Vec;

use super::accept::{AcceptKey, accept_key, is_valid_key};
use super::ext::{self, Extension, ValueList};
use super::head::{
    FieldVisitor, HeadKind, HeadParser, HeadText, Header, Value, eq_lowercase, find_header,
    is_printable, is_token, is_value, list_has_token, parse_http_version, trim_ows,
};
use crate::{HandshakeError, HandshakeLimits, UsageError};

/// An incremental parser for request heads: any HTTP/1.1 request with
/// [`RequestParser::parse_head`], the client's opening request (§4.2.1) with
/// [`RequestParser::parse`].
///
/// Call either with all the bytes received so far, each time more arrive. It answers
/// `Ok(None)` until the head is complete, then a view that borrows the buffer and says
/// how many bytes the head took; bytes after that are the body, or WebSocket frames.
///
/// The parser keeps what it has parsed, so the work over all calls is linear in the
/// head's length however the bytes are split. It never reads past
/// [`HandshakeLimits::max_head_size`] and stops at [`HandshakeLimits::max_headers`].
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
#[derive(Debug, Clone)]
pub struct RequestParser {
    limits: HandshakeLimits,
    head: HeadParser<RequestKind>,
}

impl Default for RequestParser {
    fn default() -> Self {
        Self::new()
    }
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
            head: HeadParser::new(),
        }
    }

    /// Parses the opening request in `buf`, all the bytes received so far: the head as
    /// with [`RequestParser::parse_head`], then the §4.2.1 checks of
    /// [`RequestHead::upgrade`].
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
        match self.parse_head(buf)? {
            Some(head) => head.upgrade().map(Some),
            None => Ok(None),
        }
    }

    /// Parses any HTTP/1.1 request head in `buf`, all the bytes received so far, for a
    /// server that serves plain HTTP and WebSocket on one port: look at the
    /// [`RequestHead`], then answer it yourself or [upgrade](RequestHead::upgrade) it,
    /// without parsing again.
    ///
    /// The same contract as [`RequestParser::parse`]: each call extends the last buffer,
    /// `Ok(None)` means incomplete. The body, if any, starts at
    /// [`RequestHead::consumed`] and is the caller's to read.
    ///
    /// ```
    /// use rfc6455::handshake::RequestParser;
    ///
    /// let mut out = Vec::new();
    /// for bytes in [&b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"[..],
    ///               b"GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
    ///                 Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    ///                 Sec-WebSocket-Version: 13\r\n\r\n"] {
    ///     let head = RequestParser::new().parse_head(bytes)?.expect("complete");
    ///     if head.path() == "/ws" {
    ///         match head.upgrade() {
    ///             Ok(request) => request.accept().write(&mut out),
    ///             Err(e) => e.write_response(&mut out),
    ///         }
    ///     } else {
    ///         assert!(!head.is_websocket_upgrade());
    ///         assert_eq!((head.method(), head.host()), ("GET", Some("example.com")));
    ///         out.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    ///     }
    /// }
    /// assert!(out.starts_with(b"HTTP/1.1 200 OK\r\n"));
    /// assert!(out.ends_with(b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"));
    /// # Ok::<(), rfc6455::HandshakeError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`HandshakeError`] if the head is over the limits or is not valid HTTP/1.1 (a
    /// 400 or 431, from [`HandshakeError::response`]); then close the connection.
    #[inline]
    pub fn parse_head<'b>(
        &mut self,
        buf: &'b [u8],
    ) -> Result<Option<RequestHead<'b>>, HandshakeError> {
        let mut fields = RequestCheck::default();
        let Some(head) = self.head.parse(buf, &self.limits, &mut fields)? else {
            return Ok(None);
        };
        RequestHead::new(head.text, head.start, head.headers, fields, head.len).map(Some)
    }

    /// The limits in use.
    #[must_use]
    pub const fn limits(&self) -> &HandshakeLimits {
        &self.limits
    }
}

/// Request heads, for [`HeadParser`].
#[derive(Debug, Clone, Copy)]
struct RequestKind;

impl HeadKind for RequestKind {
    type StartLine = RequestLine;
    type Field = Field;

    fn start_line(line: &[u8]) -> Result<RequestLine, HandshakeError> {
        RequestLine::parse(line)
    }

    #[allow(clippy::inline_always)] // Measured: out of line, the header loop pays a call per line.
    #[inline(always)]
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
}

/// `request-line = method SP request-target SP HTTP-version` (RFC 9112 §3), as offsets
/// into the line: the method is `..method_len`, the others are (start, end).
#[derive(Debug, Clone, Copy)]
struct RequestLine {
    method_len: usize,
    target: (usize, usize),
    /// Empty for an empty path (`http://host`), which is `/` (§3).
    path: (usize, usize),
    query: Option<(usize, usize)>,
    version: (u8, u8),
}

impl RequestLine {
    fn parse(line: &[u8]) -> Result<Self, HandshakeError> {
        let (method_len, target_len, version) =
            split_request_line(line).ok_or(HandshakeError::InvalidRequestLine)?;
        let start = method_len + 1;
        let target = &line[start..start + target_len];
        let (path, query) = if target == b"*" {
            // RFC 9112 §3.2.4: the asterisk-form, "only used for a server-wide OPTIONS
            // request".
            if &line[..method_len] != b"OPTIONS" {
                return Err(HandshakeError::InvalidRequestTarget);
            }
            ((0, 1), None)
        } else {
            split_target(target).ok_or(HandshakeError::InvalidRequestTarget)?
        };
        let at = |(a, b): (usize, usize)| (start + a, start + b);
        Ok(RequestLine {
            method_len,
            target: (start, start + target_len),
            path: at(path),
            query: query.map(at),
            version,
        })
    }
}

/// The lengths of the method and the request target, and the HTTP version (major,
/// minor) of a request line.
type RequestLineParts = (usize, usize, (u8, u8));

/// Splits `method SP request-target SP HTTP-version` (RFC 9112 §3): the method is a token
/// up to the first SP, the target visible ASCII (RFC 9112 §3.2, RFC 3986 characters) up to
/// the second, the version the rest.
fn split_request_line(line: &[u8]) -> Option<RequestLineParts> {
    // The usual line, checked with two compares and a branch-free pass over the target.
    if let Some(target) = line
        .strip_prefix(b"GET ")
        .and_then(|rest| rest.strip_suffix(b" HTTP/1.1"))
    {
        let invisible = target
            .iter()
            .fold(0, |found, &b| found | u8::from(!b.is_ascii_graphic()));
        if !target.is_empty() && invisible == 0 {
            return Some((3, target.len(), (1, 1)));
        }
    }
    let sp = line.iter().position(|&b| b == b' ')?;
    let (method, rest) = (&line[..sp], &line[sp + 1..]);
    let target_len = rest.iter().position(|&b| !b.is_ascii_graphic())?;
    if target_len == 0 || rest[target_len] != b' ' || !is_token(method) {
        return None;
    }
    let version = parse_http_version(&rest[target_len + 1..])?;
    Some((sp, target_len, version))
}

/// A path or query as (start, end) offsets into the request target.
type Span = (usize, usize);

/// Splits a request target into path and query, as offsets. §4.2.1 item 1: a
/// "Request-URI" that is the /resource name/ (origin-form, `/path?query`) "or an
/// absolute HTTP/HTTPS URI containing the /resource name/". We also take `ws`/`wss`, and
/// refuse fragments (§3; nor has RFC 9112 §3.2 a place for one).
fn split_target(target: &[u8]) -> Option<(Span, Option<Span>)> {
    // Branch-free: targets are short and almost never hold a "#".
    if target
        .iter()
        .fold(0, |found, &b| found | u8::from(b == b'#'))
        != 0
    {
        return None;
    }
    let resource = if target.first() == Some(&b'/') {
        0
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
        colon + 3 + path_at
    };
    Some(match target[resource..].iter().position(|&b| b == b'?') {
        Some(q) => (
            (resource, resource + q),
            Some((resource + q + 1, target.len())),
        ),
        None => ((resource, target.len()), None),
    })
}

/// Any HTTP/1.1 request head, parsed ([`RequestParser::parse_head`]): what a server needs
/// to route it, answer it as plain HTTP, or [upgrade](RequestHead::upgrade) it to a
/// WebSocket with the checks of §4.2.1 and no second parse.
///
/// The getters for WebSocket header fields ([`host`](RequestHead::host),
/// [`subprotocols`](RequestHead::subprotocols), ...) show only values that pass their
/// rule of §4.2.1; [`upgrade`](RequestHead::upgrade) checks every rule and reports the
/// first one broken.
#[derive(Clone)]
pub struct RequestHead<'b> {
    method: &'b str,
    target: &'b str,
    path: &'b str,
    query: Option<&'b str>,
    version: (u8, u8),
    headers: Vec<Header<'b>>,
    fields: RequestCheck<'b>,
    consumed: usize,
}

impl<'b> RequestHead<'b> {
    /// The view of a parsed head: the one place its request line becomes text.
    fn new(
        text: HeadText<'b>,
        line: RequestLine,
        headers: Vec<Header<'b>>,
        fields: RequestCheck<'b>,
        consumed: usize,
    ) -> Result<Self, HandshakeError> {
        // All parts are visible ASCII, checked by the line's parser: the conversions
        // cannot fail on the buffer parsed, and report the line if the bytes changed.
        let text =
            |(a, b): (usize, usize)| text.str(a, b).ok_or(HandshakeError::InvalidRequestLine);
        let path = text(line.path)?;
        Ok(RequestHead {
            method: text((0, line.method_len))?,
            target: text(line.target)?,
            // §3: "/" if the path component is empty.
            path: if path.is_empty() { "/" } else { path },
            query: line.query.map(text).transpose()?,
            version: line.version,
            headers,
            fields,
            consumed,
        })
    }

    /// The bytes the head took, final blank line included. Bytes after these in the
    /// buffer are the request's body, or WebSocket frames once upgraded.
    #[must_use]
    pub const fn consumed(&self) -> usize {
        self.consumed
    }

    /// The method, e.g. `GET` (case-sensitive, RFC 9110 §9.1).
    #[must_use]
    pub const fn method(&self) -> &'b str {
        self.method
    }

    /// The HTTP version of the request line as (major, minor), e.g. `(1, 1)`.
    #[must_use]
    pub const fn http_version(&self) -> (u8, u8) {
        self.version
    }

    /// The request target as sent: usually origin-form (`/chat?room=1`), possibly an
    /// absolute URI (§4.2.1 item 1), or `*` for `OPTIONS *`.
    #[must_use]
    pub const fn target(&self) -> &'b str {
        self.target
    }

    /// The path of the target (the /resource name/ of §3 without its query), `/` if
    /// empty, still percent-encoded; `*` for `OPTIONS *`.
    #[must_use]
    pub const fn path(&self) -> &'b str {
        self.path
    }

    /// The query of the target (after `?`), still percent-encoded.
    #[must_use]
    pub const fn query(&self) -> Option<&'b str> {
        self.query
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

    /// The `Host` header value, if there is exactly one and it is printable ASCII
    /// (§4.2.1 item 2; RFC 9112 §3.2).
    #[must_use]
    pub fn host(&self) -> Option<&'b str> {
        self.fields.host().ok()
    }

    /// The `Origin` header value, if there is exactly one and it is printable ASCII
    /// (§4.2.1 item 7, §10.2).
    #[must_use]
    pub fn origin(&self) -> Option<&'b str> {
        self.fields.origin().ok().flatten()
    }

    /// The subprotocols offered, in the client's order of preference (§4.2.1 item 8);
    /// none if any `Sec-WebSocket-Protocol` line is not a list of tokens.
    pub fn subprotocols(&self) -> impl Iterator<Item = &'b str> + '_ {
        let offers = self.fields.protocols().unwrap_or_default();
        ext::owned_tokens(offers)
    }

    /// The extensions offered, in order (§4.2.1 item 9, §9.1); none if any
    /// `Sec-WebSocket-Extensions` line does not follow §9.1.
    pub fn extensions(&self) -> impl Iterator<Item = Extension<'b>> + '_ {
        let offers = self.fields.extensions().unwrap_or_default();
        ext::owned_extensions(offers)
    }

    /// Whether the client asks for a WebSocket: a `GET` with `Upgrade: websocket` and
    /// `Connection: Upgrade` (§4.2.1 items 1, 3 and 4). Such a request is for
    /// [`RequestHead::upgrade`], which checks the rest, rather than for plain HTTP.
    #[must_use]
    pub fn is_websocket_upgrade(&self) -> bool {
        self.method == "GET" && self.fields.upgrade && self.fields.connection
    }

    /// Checks the request as a WebSocket opening handshake (§4.2.1): `GET`, HTTP/1.1 or
    /// later, an origin-form or absolute target, then the header fields as
    /// [`validate_request_headers`] does. Nothing is parsed again.
    ///
    /// # Errors
    ///
    /// The first rule broken: [`HandshakeError::MethodNotGet`],
    /// [`HandshakeError::HttpVersionTooOld`], [`HandshakeError::InvalidRequestTarget`],
    /// then those of [`validate_request_headers`]. Answer it with
    /// [`HandshakeError::response`] (a 405, 400 or 426) and close the connection.
    #[inline]
    pub fn upgrade(self) -> Result<Request<'b>, HandshakeError> {
        // §4.2.1 item 1: "An HTTP/1.1 or higher GET request, including a "Request-URI"".
        if self.method != "GET" {
            return Err(HandshakeError::MethodNotGet);
        }
        if self.version < (1, 1) {
            return Err(HandshakeError::HttpVersionTooOld);
        }
        if self.target == "*" {
            return Err(HandshakeError::InvalidRequestTarget);
        }
        let upgrade = self.fields.finish()?;
        Ok(Request {
            head: self,
            upgrade,
        })
    }
}

impl core::fmt::Debug for RequestHead<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RequestHead")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("version", &self.version)
            .field("headers", &self.headers)
            .field("consumed", &self.consumed)
            .finish_non_exhaustive()
    }
}

/// A complete, valid opening request (§4.2.1), borrowing the parser's input.
///
/// Answer it with [`Request::accept`], or reject it: for a request that is valid but
/// unwanted (unknown path, disallowed origin) write any HTTP response, e.g. a 404 or 403
/// (§4.2.2 steps 2-4).
#[derive(Clone)]
pub struct Request<'b> {
    head: RequestHead<'b>,
    upgrade: UpgradeRequest<'b>,
}

impl<'b> Request<'b> {
    /// The bytes the head took, final blank line included. Bytes after these in the
    /// buffer are frames, for the connection.
    #[must_use]
    pub const fn consumed(&self) -> usize {
        self.head.consumed
    }

    /// The request head: method, target, every header field.
    #[must_use]
    pub const fn head(&self) -> &RequestHead<'b> {
        &self.head
    }

    /// The request target as sent: usually origin-form (`/chat?room=1`), possibly an
    /// absolute URI (§4.2.1 item 1).
    #[must_use]
    pub const fn target(&self) -> &'b str {
        self.head.target
    }

    /// The path of the /resource name/ (§3), `/` if empty, still percent-encoded.
    #[must_use]
    pub const fn path(&self) -> &'b str {
        self.head.path
    }

    /// The query of the /resource name/ (after `?`), still percent-encoded.
    #[must_use]
    pub const fn query(&self) -> Option<&'b str> {
        self.head.query
    }

    /// The WebSocket header fields, checked: host, origin, key, offers.
    #[must_use]
    pub const fn upgrade(&self) -> &UpgradeRequest<'b> {
        &self.upgrade
    }

    /// The `Host` header value (§4.2.1 item 2).
    #[must_use]
    pub const fn host(&self) -> &'b str {
        self.upgrade.host
    }

    /// The `Origin` header value, sent by all browsers (§4.2.1 item 7, §10.2).
    #[must_use]
    pub const fn origin(&self) -> Option<&'b str> {
        self.upgrade.origin
    }

    /// The `Sec-WebSocket-Key` value (§4.2.1 item 5).
    #[must_use]
    pub const fn key(&self) -> &'b str {
        self.upgrade.key
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
        self.head.header(name)
    }

    /// Every value of the header fields called `name` (ASCII case-insensitive), in order.
    pub fn header_all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'b [u8]> + 's {
        self.head.header_all(name)
    }

    /// All header fields, in the order received.
    #[must_use]
    pub fn headers(&self) -> &[Header<'b>] {
        &self.head.headers
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
            .field("headers", &self.head.headers)
            .field("upgrade", &self.upgrade)
            .field("consumed", &self.consumed())
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
        if let Some(field) = RequestKind::field(name.as_ref()) {
            check.visit(field, Value::bytes(trim_ows(value.as_ref())));
        }
    }
    check.finish()
}

/// How many times a header that must appear once was seen, and its first value.
#[derive(Debug, Clone, Copy, Default)]
enum Single<'a> {
    #[default]
    Absent,
    Once(Value<'a>),
    Duplicated,
}

impl<'a> Single<'a> {
    fn see(&mut self, value: Value<'a>) {
        *self = match self {
            Single::Absent => Single::Once(value),
            _ => Single::Duplicated,
        };
    }
}

/// The request's WebSocket header fields seen so far: one place per rule of §4.2.1.
#[derive(Debug, Clone, Default)]
struct RequestCheck<'a> {
    host: Single<'a>,
    upgrade: bool,
    connection: bool,
    key: Single<'a>,
    version: Single<'a>,
    origin: Single<'a>,
    protocols: ValueList<Value<'a>>,
    extensions: ValueList<Value<'a>>,
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

impl<'a> FieldVisitor<'a, Field> for RequestCheck<'a> {
    #[allow(clippy::inline_always)] // Measured: out of line, the header loop pays a call per line.
    #[inline(always)]
    fn visit(&mut self, field: Field, value: Value<'a>) {
        RequestCheck::visit(self, field, value);
    }
}

impl<'a> RequestCheck<'a> {
    /// Records one header field; `value` is already trimmed.
    #[allow(clippy::inline_always)] // Measured: out of line, the header loop pays a call per line.
    #[inline(always)]
    fn visit(&mut self, field: Field, value: Value<'a>) {
        match field {
            Field::Host => self.host.see(value),
            Field::Origin => self.origin.see(value),
            Field::Key => self.key.see(value),
            Field::Version => self.version.see(value),
            Field::Protocol => self.protocols.push(value),
            Field::Extensions => self.extensions.push(value),
            _ => self.visit_tokens(field, value.bytes),
        }
    }

    #[inline]
    fn visit_tokens(&mut self, field: Field, value: &'a [u8]) {
        match field {
            // §4.2.1 item 3: "An |Upgrade| header field containing the value
            // "websocket", treated as an ASCII case-insensitive value." Several lines
            // or a list (`websocket, h2c`) are fine.
            Field::Upgrade => self.upgrade |= list_has_token(value, b"websocket"),
            // §4.2.1 item 4: "A |Connection| header field that includes the token
            // "Upgrade", treated as an ASCII case-insensitive value."
            Field::Connection => self.connection |= list_has_token(value, b"upgrade"),
            _ => {}
        }
    }

    /// §4.2.1 item 2: "A |Host| header field containing the server's authority."
    fn host(&self) -> Result<&'a str, HandshakeError> {
        match self.host {
            Single::Absent => Err(HandshakeError::MissingHost),
            Single::Duplicated => Err(HandshakeError::DuplicateHost),
            Single::Once(host) => printable(host).ok_or(HandshakeError::InvalidHost),
        }
    }

    /// §4.2.1 item 7, RFC 6454 §7: at most one serialized origin.
    fn origin(&self) -> Result<Option<&'a str>, HandshakeError> {
        match self.origin {
            Single::Absent => Ok(None),
            Single::Once(origin) => printable(origin)
                .map(Some)
                .ok_or(HandshakeError::InvalidOrigin),
            Single::Duplicated => Err(HandshakeError::InvalidOrigin),
        }
    }

    /// §4.3: Sec-WebSocket-Protocol-Client = 1#token.
    fn protocols(&self) -> Result<ValueList<&'a str>, HandshakeError> {
        self.protocols
            .checked(ext::is_token_list, &HandshakeError::InvalidSubprotocols)
    }

    /// §9.1: malformed extension offers fail the handshake.
    fn extensions(&self) -> Result<ValueList<&'a str>, HandshakeError> {
        self.extensions
            .checked(ext::is_extension_list, &HandshakeError::InvalidExtensions)
    }

    /// The first rule broken, in the order of §4.2.1 (host, upgrade, connection, then
    /// the version before the key, so that an old client learns which version to use,
    /// §4.4), then origin and the offers; or the checked fields, as text.
    fn finish(&self) -> Result<UpgradeRequest<'a>, HandshakeError> {
        let host = self.host()?;
        if !self.upgrade {
            return Err(HandshakeError::MissingUpgradeWebSocket);
        }
        if !self.connection {
            return Err(HandshakeError::MissingConnectionUpgrade);
        }
        // §4.2.1 item 6: "A |Sec-WebSocket-Version| header field, with a value of 13."
        match self.version {
            Single::Absent => return Err(HandshakeError::MissingVersion),
            Single::Duplicated => return Err(HandshakeError::DuplicateVersion),
            Single::Once(Value { bytes: b"13", .. }) => {}
            Single::Once(_) => return Err(HandshakeError::UnsupportedVersion),
        }
        // §4.2.1 item 5: "A |Sec-WebSocket-Key| header field with a base64-encoded ...
        // value that, when decoded, is 16 bytes in length." Base64 is printable ASCII.
        let key = match self.key {
            Single::Absent => return Err(HandshakeError::MissingKey),
            Single::Duplicated => return Err(HandshakeError::DuplicateKey),
            Single::Once(key) if is_valid_key(key.bytes) => {
                printable(key).ok_or(HandshakeError::InvalidKey)?
            }
            Single::Once(_) => return Err(HandshakeError::InvalidKey),
        };
        Ok(UpgradeRequest {
            host,
            key,
            origin: self.origin()?,
            protocols: self.protocols()?,
            extensions: self.extensions()?,
        })
    }
}

/// `value` as text if it is non-empty visible ASCII, spaces allowed.
fn printable(value: Value<'_>) -> Option<&str> {
    if is_printable(value.bytes) {
        value.text()
    } else {
        None
    }
}

/// The WebSocket header fields of a valid opening request (§4.2.1), from
/// [`RequestParser`] (via [`Request::upgrade`]) or [`validate_request_headers`].
#[derive(Clone, PartialEq, Eq)]
pub struct UpgradeRequest<'a> {
    host: &'a str,
    origin: Option<&'a str>,
    key: &'a str,
    protocols: ValueList<&'a str>,
    extensions: ValueList<&'a str>,
}

impl<'a> UpgradeRequest<'a> {
    /// The `Host` header value (§4.2.1 item 2).
    #[must_use]
    pub const fn host(&self) -> &'a str {
        self.host
    }

    /// The `Origin` header value (§4.2.1 item 7). A server that does not check it
    /// "will accept connections from anywhere" (§4.2.2 step 4, §10.2).
    #[must_use]
    pub const fn origin(&self) -> Option<&'a str> {
        self.origin
    }

    /// The `Sec-WebSocket-Key` value (§4.2.1 item 5).
    #[must_use]
    pub const fn key(&self) -> &'a str {
        self.key
    }

    /// The `Sec-WebSocket-Accept` value answering this key (§4.2.2 step 5.4).
    #[must_use]
    pub fn accept_key(&self) -> AcceptKey {
        accept_key(self.key.as_bytes())
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
            extensions: String::new(),
            headers: Vec::new(),
        }
    }
}

impl core::fmt::Debug for UpgradeRequest<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("UpgradeRequest")
            .field("host", &self.host)
            .field("origin", &self.origin)
            .field("key", &self.key)
            .field("subprotocols", &self.subprotocols().collect::<Vec<_>>())
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
    /// The accepted extension lists, joined with `, `: one header line.
    extensions: String,
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
        for accepted in ext::list_items(extensions).filter_map(ext::parse_extension) {
            if !self
                .request
                .extensions()
                .any(|offered| offered.name().eq_ignore_ascii_case(accepted.name()))
            {
                return Err(UsageError::ExtensionNotOffered);
            }
        }
        if !self.extensions.is_empty() {
            self.extensions.push_str(", ");
        }
        self.extensions.push_str(extensions);
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

    /// The status code of the response: always 101 (Switching Protocols, §4.2.2 step
    /// 5.1), for an HTTP stack that writes the response itself.
    #[must_use]
    pub const fn status(&self) -> u16 {
        101
    }

    /// The header fields of the response as (name, value) pairs, in the order
    /// [`Accept::write`] writes them: `Upgrade`, `Connection`, `Sec-WebSocket-Accept`,
    /// then `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` if chosen, then the
    /// fields added with [`Accept::header`]. For an HTTP stack that builds its own
    /// response (hyper, axum: an `http::Response`, or see the `http` feature).
    ///
    /// ```
    /// # use rfc6455::handshake::RequestParser;
    /// # let request = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    /// #     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
    /// #     Sec-WebSocket-Protocol: chat\r\n\r\n";
    /// let req = RequestParser::new().parse(request)?.expect("complete");
    /// let accept = req.accept().subprotocol("chat")?;
    /// assert_eq!(accept.status(), 101);
    /// assert_eq!(accept.headers().collect::<Vec<_>>(), [
    ///     ("Upgrade", "websocket"),
    ///     ("Connection", "Upgrade"),
    ///     ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
    ///     ("Sec-WebSocket-Protocol", "chat"),
    /// ]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", self.key.as_str()),
        ]
        .into_iter()
        .chain(self.subprotocol.map(|p| ("Sec-WebSocket-Protocol", p)))
        .chain(
            (!self.extensions.is_empty())
                .then_some(("Sec-WebSocket-Extensions", self.extensions.as_str())),
        )
        .chain(self.headers.iter().copied())
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
        if !self.extensions.is_empty() {
            out.extend_from_slice(b"Sec-WebSocket-Extensions: ");
            out.extend_from_slice(self.extensions.as_bytes());
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
