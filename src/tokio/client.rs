//! The client's opening handshake over a tokio stream (§4.1), and `connect`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use std::io;

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ::tokio::net::TcpStream;
use ::tokio::time::Instant;
use bytes::{Buf, BytesMut};

use super::{Error, Options, Timeout, WebSocket, within};
use crate::Connection;
use crate::handshake::{ClientHandshake, WsUri};

/// The server's 101 response, kept after the handshake: the subprotocol it chose and
/// its header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeResponse {
    subprotocol: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
}

impl UpgradeResponse {
    /// The subprotocol the server chose, one of those offered (§4.1), if any.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// The value of the first header field called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// All header fields in the order received, as (name, value).
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }
}

impl Options {
    /// Connects to a `ws://` URL and runs the opening handshake; see
    /// [`connect_request`](Options::connect_request).
    ///
    /// # Errors
    /// As [`connect_request`](Options::connect_request), and [`Error::Uri`] for a URL
    /// that is not a valid `ws://` URL (§3).
    pub async fn connect(
        &self,
        url: &str,
    ) -> Result<(WebSocket<TcpStream>, UpgradeResponse), Error> {
        let uri = WsUri::parse(url)?;
        self.connect_request(&uri, ClientHandshake::new(&uri)).await
    }

    /// Connects to `uri`'s host and port over TCP (`TCP_NODELAY` on; a name is resolved
    /// and each address tried in turn; an IPv6 literal such as `[::1]` is connected to
    /// without its brackets) and runs the opening handshake with `request` — built with
    /// [`ClientHandshake`] to offer subprotocols or add header fields. Connecting and
    /// the handshake together must finish within
    /// [`handshake_timeout`](Options::handshake_timeout).
    ///
    /// ```no_run
    /// # #![allow(dead_code)]
    /// use rfc6455::handshake::{ClientHandshake, WsUri};
    /// use rfc6455::tokio::Options;
    ///
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// let uri = WsUri::parse("ws://[::1]:9001/chat")?;
    /// let mut request = ClientHandshake::new(&uri);
    /// request.subprotocol("chat.v2")?.header("Authorization", "Bearer 123")?;
    /// let (mut ws, response) = Options::default().connect_request(&uri, request).await?;
    /// assert_eq!(response.subprotocol(), Some("chat.v2"));
    /// ws.send("hello").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::TlsRequired`] for `wss://` (open the TLS stream yourself, then
    /// [`client_handshake`](Options::client_handshake)); [`Error::Handshake`] when the
    /// server's answer is not a valid 101 (a [`HandshakeError::Rejected`](crate::HandshakeError::Rejected)
    /// keeps its status and headers); [`Error::Timeout`]; [`Error::Io`].
    pub async fn connect_request(
        &self,
        uri: &WsUri<'_>,
        request: ClientHandshake,
    ) -> Result<(WebSocket<TcpStream>, UpgradeResponse), Error> {
        if uri.is_secure() {
            return Err(Error::TlsRequired);
        }
        let host = uri.host();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let port = uri.port();
        let deadline = self.handshake_timeout.map(|t| Instant::now() + t);
        let work = async {
            let mut stream = TcpStream::connect((host, port)).await?;
            stream.set_nodelay(true)?;
            let (connection, response) = self.handshake(&mut stream, request).await?;
            Ok::<_, Error>((
                WebSocket::from_connection(stream, connection, self),
                response,
            ))
        };
        within(deadline, work)
            .await
            .unwrap_or(Err(Error::Timeout(Timeout::Handshake)))
    }

    /// Runs the client's opening handshake with `request` over a stream the caller
    /// opened — a TLS stream for `wss://`, a proxy tunnel — within
    /// [`handshake_timeout`](Options::handshake_timeout).
    ///
    /// # Errors
    /// [`Error::Handshake`] when the server's answer is not a valid 101;
    /// [`Error::Timeout`]; [`Error::Io`].
    pub async fn client_handshake<S>(
        &self,
        mut stream: S,
        request: ClientHandshake,
    ) -> Result<(WebSocket<S>, UpgradeResponse), Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let deadline = self.handshake_timeout.map(|t| Instant::now() + t);
        match within(deadline, self.handshake(&mut stream, request)).await {
            None => Err(Error::Timeout(Timeout::Handshake)),
            Some(Err(error)) => Err(error),
            Some(Ok((connection, response))) => Ok((
                WebSocket::from_connection(stream, connection, self),
                response,
            )),
        }
    }

    async fn handshake<S>(
        &self,
        stream: &mut S,
        mut request: ClientHandshake,
    ) -> Result<(Connection, UpgradeResponse), Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        request.limits(self.handshake_limits);
        #[cfg(feature = "deflate")]
        if let Some(config) = &self.deflate {
            request.extension(&config.offer())?;
        }
        stream.write_all(&request.request()).await?;
        stream.flush().await?;
        let mut buf = BytesMut::with_capacity(1024);
        loop {
            if buf.len() == buf.capacity() {
                buf.reserve(buf.len().max(1024));
            }
            if stream.read_buf(&mut buf).await? == 0 {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
            }
            let Some(response) = request.parse_response(&buf)? else {
                continue;
            };
            let consumed = response.consumed();
            #[cfg(feature = "deflate")]
            let agreed = super::Agreed {
                deflate: match &self.deflate {
                    Some(config) => config.client_accept(response.extensions())?,
                    None => None,
                },
            };
            #[cfg(not(feature = "deflate"))]
            let agreed = super::Agreed::default();
            let response = UpgradeResponse {
                subprotocol: response.subprotocol().map(ToString::to_string),
                headers: response
                    .headers()
                    .iter()
                    .map(|h| (h.name().to_string(), h.value().to_vec()))
                    .collect(),
            };
            buf.advance(consumed);
            let mut connection = agreed.install(Connection::client(self.config));
            connection.receive(&buf);
            return Ok((connection, response));
        }
    }
}

/// Connects to a `ws://` URL with the default [`Options`]; see [`Options::connect`].
///
/// ```no_run
/// # #![allow(dead_code)]
/// # async fn f() -> Result<(), rfc6455::tokio::Error> {
/// let (mut ws, _) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
/// ws.send("hello").await?;
/// let _reply = ws.recv().await?;
/// ws.close(rfc6455::CloseCode::NORMAL, "").await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`Options::connect`].
pub async fn connect(url: &str) -> Result<(WebSocket<TcpStream>, UpgradeResponse), Error> {
    Options::default().connect(url).await
}

/// Runs the client's opening handshake for `url` over a stream the caller opened (a TLS
/// stream for `wss://`), with the default [`Options`]; see
/// [`Options::client_handshake`].
///
/// # Errors
/// As [`Options::client_handshake`], and [`Error::Uri`] for an invalid URL.
pub async fn client_handshake<S>(
    stream: S,
    url: &str,
) -> Result<(WebSocket<S>, UpgradeResponse), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let uri = WsUri::parse(url)?;
    Options::default()
        .client_handshake(stream, ClientHandshake::new(&uri))
        .await
}
