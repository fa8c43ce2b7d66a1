//! The server's opening handshake over a tokio stream (§4.2).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;
use std::io;

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ::tokio::time::Instant;
use bytes::{Buf, BytesMut};

use super::{Agreed, Error, Options, Timeout, WebSocket, within};
use crate::handshake::{self, Extension, Request, RequestParser};
use crate::{Connection, UsageError};

/// The request a client sent to open a WebSocket, as seen by the callback of
/// [`Options::accept_with`]. It passed every check of §4.2.1.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    request: &'a Request<'a>,
}

impl<'a> RequestHead<'a> {
    /// The path of the /resource name/ (§3), `/` if empty, still percent-encoded.
    pub fn path(&self) -> &'a str {
        self.request.path()
    }

    /// The query (after `?`), still percent-encoded.
    pub fn query(&self) -> Option<&'a str> {
        self.request.query()
    }

    /// The request target as sent, e.g. `/chat?room=1`.
    pub fn target(&self) -> &'a str {
        self.request.target()
    }

    /// The `Host` header value (§4.2.1 item 2).
    pub fn host(&self) -> &'a str {
        self.request.host()
    }

    /// The `Origin` header value, sent by every browser (§4.2.1 item 7). A server that
    /// browsers reach should check it (§10.2).
    pub fn origin(&self) -> Option<&'a str> {
        self.request.origin()
    }

    /// The subprotocols offered, in the client's order of preference (§4.2.1 item 8).
    pub fn subprotocols(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.request.subprotocols()
    }

    /// The extensions offered, in order (§9.1).
    pub fn extensions(&self) -> impl Iterator<Item = Extension<'a>> + 'a {
        self.request.extensions()
    }

    /// The value of the first header field called `name` (ASCII case-insensitive), e.g.
    /// `Cookie` or `Authorization`.
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.request.header(name)
    }

    /// All header fields in the order received, as (name, value).
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        self.request.headers().iter().map(|h| (h.name(), h.value()))
    }
}

/// The callback's "yes": upgrade the connection, optionally with a subprotocol and
/// extra response header fields (`Set-Cookie`, say).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Upgrade {
    subprotocol: Option<String>,
    headers: Vec<(String, String)>,
}

impl Upgrade {
    /// A plain upgrade: no subprotocol, no extra header fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Chooses a subprotocol, which must be one the client offered (§4.2.2); otherwise
    /// the client gets a 500 and [`Options::accept_with`] an [`Error::Usage`].
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.subprotocol = Some(protocol.into());
        self
    }

    /// Adds a header field to the 101 response.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn response(
        &self,
        request: &Request<'_>,
        extensions: Option<&str>,
    ) -> Result<Vec<u8>, UsageError> {
        let mut accept = request.accept();
        if let Some(protocol) = &self.subprotocol {
            accept = accept.subprotocol(protocol)?;
        }
        if let Some(extensions) = extensions {
            accept = accept.extension(extensions)?;
        }
        for (name, value) in &self.headers {
            accept = accept.header(name, value)?;
        }
        Ok(accept.to_vec())
    }
}

/// The callback's "no": an HTTP response with this status (a 403 for a foreign origin, a
/// 404 for an unknown path, a 401 with `WWW-Authenticate`, a 3xx with `Location`), then
/// the connection is closed (§4.2.2: "the server ... MAY ... return an appropriate HTTP
/// error code").
///
/// With [`Options::route`] it is also the answer to a plain HTTP request on the
/// WebSocket's port: `Reject::new(200).header("Content-Type", "text/html").body(page)`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Reject {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reject {
    /// A response with `status`, from 200 to 599 but not 204 or 304 (anything else is
    /// answered with 500): a 2xx for a plain HTTP answer with [`Options::route`], a 3xx to
    /// 5xx to refuse.
    pub fn new(status: u16) -> Self {
        Reject {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// Adds a header field. An invalid name or value (not a token, CR or LF in the
    /// value) makes the response a 500, and [`Options::accept_with`] returns an
    /// [`Error::Usage`].
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body: `text/plain` unless a `Content-Type` header field says otherwise.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    fn response(&self) -> Result<Vec<u8>, UsageError> {
        let valid = (200..600).contains(&self.status)
            && self.status != 204
            && self.status != 304
            && self.headers.iter().all(|(name, value)| {
                !name.is_empty()
                    && name.bytes().all(is_token_byte)
                    && !["content-length", "transfer-encoding", "connection"]
                        .iter()
                        .any(|r| r.eq_ignore_ascii_case(name))
                    && value
                        .bytes()
                        .all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
            });
        if !valid {
            return Err(UsageError::InvalidHeader);
        }
        let mut out = String::with_capacity(128 + self.body.len());
        let _ = write!(
            out,
            "HTTP/1.1 {} {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.status,
            reason_phrase(self.status),
            self.body.len()
        );
        let typed = self
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        if !self.body.is_empty() && !typed {
            out.push_str("Content-Type: text/plain; charset=utf-8\r\n");
        }
        for (name, value) in &self.headers {
            let _ = write!(out, "{name}: {value}\r\n");
        }
        out.push_str("\r\n");
        out.push_str(&self.body);
        Ok(out.into_bytes())
    }
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// How the handshake was answered.
// Short-lived, once per connection: boxing the agreed extension would save nothing.
#[allow(clippy::large_enum_variant)]
enum Answered {
    /// 101 written; the bytes after the request head, and the extensions agreed.
    Upgraded(BytesMut, Agreed),
    /// A rejection written; the error to return once the connection is closed.
    Refused(Error),
}

impl Options {
    /// Runs the server's opening handshake on `stream` and accepts any valid WebSocket
    /// request; see [`accept_with`](Options::accept_with).
    ///
    /// # Errors
    /// As [`accept_with`](Options::accept_with).
    pub async fn accept<S>(&self, stream: S) -> Result<WebSocket<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        self.accept_with(stream, |_| Ok(Upgrade::new())).await
    }

    /// Runs the server's opening handshake on `stream` (§4.2): reads the request head
    /// (bounded by [`handshake_limits`](Options::handshake_limits)), checks it, lets
    /// `callback` look at it and answer, and writes the response — all within
    /// [`handshake_timeout`](Options::handshake_timeout). Bytes the client sent after
    /// the head go to the connection.
    ///
    /// ```no_run
    /// # #![allow(dead_code)]
    /// use rfc6455::tokio::{Options, Reject, Upgrade};
    ///
    /// # async fn f(stream: tokio::net::TcpStream) -> Result<(), rfc6455::tokio::Error> {
    /// let mut ws = Options::default()
    ///     .accept_with(stream, |request| {
    ///         if request.path() != "/chat" {
    ///             return Err(Reject::new(404));
    ///         }
    ///         if request.origin() != Some("https://example.com") {
    ///             return Err(Reject::new(403).body("foreign origin"));
    ///         }
    ///         match request.subprotocols().find(|p| *p == "chat.v2") {
    ///             Some(p) => Ok(Upgrade::new().subprotocol(p)),
    ///             None => Ok(Upgrade::new()),
    ///         }
    ///     })
    ///     .await?;
    /// ws.send("welcome").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// - [`Error::Handshake`]: the request is not a valid WebSocket request; the 400,
    ///   405, 426 or 431 response was written;
    /// - [`Error::Rejected`]: `callback` rejected it; its response was written;
    /// - [`Error::Usage`]: the callback chose a subprotocol the client did not offer, or
    ///   an invalid header field; a 500 was written;
    /// - [`Error::Timeout`] ([`Timeout::Handshake`]); [`Error::Io`].
    pub async fn accept_with<S, F>(&self, stream: S, callback: F) -> Result<WebSocket<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(&RequestHead<'_>) -> Result<Upgrade, Reject>,
    {
        self.serve_head(stream, |head| match head.upgrade() {
            Ok(request) => self.decide(&request, callback),
            Err(error) => (error.response(), Err(Error::Handshake(error))),
        })
        .await
    }

    /// Serves one HTTP request on `stream`, for a server that answers plain HTTP and
    /// WebSocket on one port: reads the request head (any request, bounded by
    /// [`handshake_limits`](Options::handshake_limits)), shows it to `route`, and either
    /// answers it with the [`Reject`] it returns (any status from 200, a page or a 404)
    /// or, for an [`Upgrade`], checks it as an opening handshake (§4.2.1) and upgrades
    /// it. The head is parsed once ([`RequestParser::parse_head`]), all within
    /// [`handshake_timeout`](Options::handshake_timeout).
    ///
    /// ```no_run
    /// # #![allow(dead_code)]
    /// use rfc6455::tokio::{Options, Reject, Upgrade};
    ///
    /// # async fn f(stream: tokio::net::TcpStream) -> Result<(), rfc6455::tokio::Error> {
    /// let routed = Options::default()
    ///     .route(stream, |head| match head.path() {
    ///         "/ws" => Ok(Upgrade::new()),
    ///         "/" => Err(Reject::new(200).header("Content-Type", "text/html").body("<p>hi</p>")),
    ///         _ => Err(Reject::new(404)),
    ///     })
    ///     .await?;
    /// if let Some(mut ws) = routed {
    ///     ws.send("welcome").await?;
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// Answered as plain HTTP, the connection is closed afterwards (`Connection: close`):
    /// one request per connection.
    ///
    /// # Errors
    /// `Ok(None)` when the request was answered as plain HTTP. Otherwise as
    /// [`accept_with`](Options::accept_with): [`Error::Handshake`] when the head is not
    /// valid HTTP/1.1 (a 400 or 431 was written) or `route` upgraded a request that is
    /// not a valid opening handshake (its 400, 405 or 426 was written);
    /// [`Error::Usage`]; [`Error::Timeout`]; [`Error::Io`].
    pub async fn route<S, F>(&self, stream: S, route: F) -> Result<Option<WebSocket<S>>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(&handshake::RequestHead<'_>) -> Result<Upgrade, Reject>,
    {
        let routed = self
            .serve_head(stream, |head| match route(&head) {
                Ok(upgrade) => match head.upgrade() {
                    Ok(request) => self.decide(&request, |_| Ok(upgrade)),
                    Err(error) => (error.response(), Err(Error::Handshake(error))),
                },
                Err(reject) => match reject.response() {
                    Ok(response) => (response, Err(Error::Rejected(reject.status))),
                    Err(e) => (internal_error(), Err(Error::Usage(e))),
                },
            })
            .await;
        match routed {
            Ok(ws) => Ok(Some(ws)),
            Err(Error::Rejected(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The server's handshake around `answer`, which turns the parsed head into the
    /// response to write and the head's length (upgrade) or the error to return.
    async fn serve_head<S, F>(&self, mut stream: S, answer: F) -> Result<WebSocket<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(handshake::RequestHead<'_>) -> (Vec<u8>, Result<(usize, Agreed), Error>),
    {
        let deadline = self.handshake_timeout.map(|t| Instant::now() + t);
        let answered = within(deadline, self.answer(&mut stream, answer)).await;
        match answered {
            None => Err(Error::Timeout(Timeout::Handshake)),
            Some(Err(error)) => Err(error),
            Some(Ok(Answered::Upgraded(rest, agreed))) => {
                let mut connection = agreed.install(Connection::server(self.config));
                connection.receive(&rest);
                Ok(WebSocket::from_connection(stream, connection, self))
            }
            Some(Ok(Answered::Refused(error))) => {
                let linger = Instant::now() + self.close_timeout;
                let linger = deadline.map_or(linger, |d| d.min(linger));
                close_gracefully(&mut stream, linger).await;
                Err(error)
            }
        }
    }

    async fn answer<S, F>(&self, stream: &mut S, answer: F) -> Result<Answered, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(handshake::RequestHead<'_>) -> (Vec<u8>, Result<(usize, Agreed), Error>),
    {
        let mut parser = RequestParser::with_limits(self.handshake_limits);
        let mut buf = BytesMut::with_capacity(1024);
        let mut answer = Some(answer);
        loop {
            if buf.len() == buf.capacity() {
                buf.reserve(buf.len().max(1024));
            }
            if stream.read_buf(&mut buf).await? == 0 {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
            }
            let (response, outcome) = match parser.parse_head(&buf) {
                Ok(None) => continue,
                Ok(Some(head)) => {
                    let Some(answer) = answer.take() else {
                        unreachable!("the loop ends with the first complete request")
                    };
                    answer(head)
                }
                Err(error) => (error.response(), Err(Error::Handshake(error))),
            };
            stream.write_all(&response).await?;
            stream.flush().await?;
            return Ok(match outcome {
                Ok((consumed, agreed)) => {
                    buf.advance(consumed);
                    Answered::Upgraded(buf, agreed)
                }
                Err(error) => Answered::Refused(error),
            });
        }
    }
}

impl Options {
    /// The response to write and what follows: the head's length and the extensions
    /// agreed, or the error to return.
    fn decide<F>(
        &self,
        request: &Request<'_>,
        callback: F,
    ) -> (Vec<u8>, Result<(usize, Agreed), Error>)
    where
        F: FnOnce(&RequestHead<'_>) -> Result<Upgrade, Reject>,
    {
        let server_error = |e| (internal_error(), Err(Error::Usage(e)));
        match callback(&RequestHead { request }) {
            Ok(upgrade) => {
                let (answer, agreed) = self.negotiate(request);
                match upgrade.response(request, answer.as_deref()) {
                    Ok(response) => (response, Ok((request.consumed(), agreed))),
                    Err(e) => server_error(e),
                }
            }
            Err(reject) => match reject.response() {
                Ok(response) => (response, Err(Error::Rejected(reject.status))),
                Err(e) => server_error(e),
            },
        }
    }

    /// The server's extension negotiation (§9.1): the `Sec-WebSocket-Extensions` value
    /// of the 101, if any, and what to run on the connection.
    #[allow(clippy::unused_self, unused_variables)]
    fn negotiate(&self, request: &Request<'_>) -> (Option<String>, Agreed) {
        #[cfg(feature = "deflate")]
        if let Some(config) = &self.deflate {
            if let Some((answer, deflate)) = crate::deflate::negotiate(request.extensions(), config)
            {
                let agreed = Agreed {
                    deflate: Some(deflate),
                };
                return (Some(answer), agreed);
            }
        }
        (None, Agreed::default())
    }
}

fn internal_error() -> Vec<u8> {
    Reject::new(500).response().unwrap_or_default()
}

/// Shuts down our write direction, then reads and discards until the peer's end of
/// stream or `until`: closing a socket with unread input resets the connection, which
/// can destroy the response just written.
pub(crate) async fn close_gracefully<S>(stream: &mut S, until: Instant)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let drain = async {
        stream.shutdown().await?;
        let mut scratch = [0u8; 1024];
        while stream.read(&mut scratch).await? != 0 {}
        Ok::<(), io::Error>(())
    };
    let _ = within(Some(until), drain).await;
}
