//! The server's opening handshake over a tokio stream (§4.2).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;
use std::io;

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ::tokio::time::Instant;
use bytes::{Buf, BytesMut};

use super::{Error, Options, Timeout, WebSocket, within};
use crate::handshake::{Extension, Request, RequestParser};
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

    fn response(&self, request: &Request<'_>) -> Result<Vec<u8>, UsageError> {
        let mut accept = request.accept();
        if let Some(protocol) = &self.subprotocol {
            accept = accept.subprotocol(protocol)?;
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
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Reject {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reject {
    /// A rejection with `status`, from 300 to 599 (anything else is answered with 500).
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

    /// Sets a `text/plain` body.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    fn response(&self) -> Result<Vec<u8>, UsageError> {
        let valid = (300..600).contains(&self.status)
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
        if !self.body.is_empty() {
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
enum Answered {
    /// 101 written; the bytes after the request head.
    Upgraded(BytesMut),
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
    pub async fn accept_with<S, F>(&self, mut stream: S, callback: F) -> Result<WebSocket<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(&RequestHead<'_>) -> Result<Upgrade, Reject>,
    {
        let deadline = self.handshake_timeout.map(|t| Instant::now() + t);
        let answered = within(deadline, self.answer(&mut stream, callback)).await;
        match answered {
            None => Err(Error::Timeout(Timeout::Handshake)),
            Some(Err(error)) => Err(error),
            Some(Ok(Answered::Upgraded(rest))) => {
                let mut connection = Connection::server(self.config);
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

    async fn answer<S, F>(&self, stream: &mut S, callback: F) -> Result<Answered, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        F: FnOnce(&RequestHead<'_>) -> Result<Upgrade, Reject>,
    {
        let mut parser = RequestParser::with_limits(self.handshake_limits);
        let mut buf = BytesMut::with_capacity(1024);
        let mut callback = Some(callback);
        loop {
            if buf.len() == buf.capacity() {
                buf.reserve(buf.len().max(1024));
            }
            if stream.read_buf(&mut buf).await? == 0 {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
            }
            let (response, outcome) = match parser.parse(&buf) {
                Ok(None) => continue,
                Ok(Some(request)) => {
                    let Some(callback) = callback.take() else {
                        unreachable!("the loop ends with the first complete request")
                    };
                    decide(&request, callback)
                }
                Err(error) => (error.response(), Err(Error::Handshake(error))),
            };
            stream.write_all(&response).await?;
            stream.flush().await?;
            return Ok(match outcome {
                Ok(consumed) => {
                    buf.advance(consumed);
                    Answered::Upgraded(buf)
                }
                Err(error) => Answered::Refused(error),
            });
        }
    }
}

/// The response to write and what follows: the head's length, or the error to return.
fn decide<F>(request: &Request<'_>, callback: F) -> (Vec<u8>, Result<usize, Error>)
where
    F: FnOnce(&RequestHead<'_>) -> Result<Upgrade, Reject>,
{
    let server_error = |e| (internal_error(), Err(Error::Usage(e)));
    match callback(&RequestHead { request }) {
        Ok(upgrade) => match upgrade.response(request) {
            Ok(response) => (response, Ok(request.consumed())),
            Err(e) => server_error(e),
        },
        Err(reject) => match reject.response() {
            Ok(response) => (response, Err(Error::Rejected(reject.status))),
            Err(e) => server_error(e),
        },
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
