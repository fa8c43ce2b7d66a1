//! Connecting as a client on tokio: resolve, connect, opening handshake, then a
//! [`Connection`] with whatever frames arrived right behind the 101.

use std::fmt;
use std::io;
use std::time::Duration;

use rfc6455::handshake::{ClientHandshake, WsUri};
use rfc6455::{Config, Connection, HandshakeError, UriError, UsageError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::io::{close_gracefully, read_some, write_out};

/// What to ask for when connecting.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The connection's limits and behaviour.
    pub config: Config,
    /// Subprotocols to offer, in order of preference.
    pub protocols: Vec<String>,
    /// Extra header fields (name, value), e.g. `Authorization`.
    pub headers: Vec<(String, String)>,
    /// Connecting and the opening handshake must complete within this.
    pub handshake_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            config: Config::default(),
            protocols: Vec::new(),
            headers: Vec::new(),
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// Why connecting failed.
#[derive(Debug)]
pub enum ConnectError {
    /// The URL is not a valid `ws://` URI.
    Uri(UriError),
    /// `wss://`: this example has no TLS.
    Tls,
    /// A subprotocol or header given is not valid in a request.
    Option(String, UsageError),
    /// Connecting or the handshake took too long.
    Timeout,
    /// The server closed the connection before answering.
    Eof,
    /// The server answered, but not with a valid 101 (a rejection carries its status).
    Handshake(HandshakeError),
    /// Resolving, connecting, reading or writing failed.
    Io(io::Error),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Uri(e) => write!(f, "invalid URL: {e}"),
            ConnectError::Tls => {
                f.write_str("wss:// needs TLS, which this example does not do; use ws://")
            }
            ConnectError::Option(what, e) => write!(f, "{what}: {e}"),
            ConnectError::Timeout => f.write_str("timed out connecting"),
            ConnectError::Eof => {
                f.write_str("the server closed the connection during the handshake")
            }
            ConnectError::Handshake(HandshakeError::Rejected(r)) => {
                write!(
                    f,
                    "the server rejected the handshake: HTTP {} {}",
                    r.status, r.reason
                )
            }
            ConnectError::Handshake(e) => write!(f, "handshake failed: {e}"),
            ConnectError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ConnectError {}

impl From<io::Error> for ConnectError {
    fn from(e: io::Error) -> Self {
        ConnectError::Io(e)
    }
}

/// An open client connection.
#[derive(Debug)]
pub struct Client {
    /// The TCP connection.
    pub stream: TcpStream,
    /// The WebSocket state machine, client role.
    pub ws: Connection,
    /// The subprotocol the server chose, if any.
    pub subprotocol: Option<String>,
    out: Vec<u8>,
}

/// Connects to `url` (`ws://host[:port]/path[?query]`) and performs the opening
/// handshake (§4.1).
///
/// # Errors
/// See [`ConnectError`].
pub async fn connect(url: &str, options: &ClientOptions) -> Result<Client, ConnectError> {
    let uri = WsUri::parse(url).map_err(ConnectError::Uri)?;
    if uri.is_secure() {
        return Err(ConnectError::Tls);
    }
    let mut handshake = ClientHandshake::new(&uri);
    for protocol in &options.protocols {
        handshake
            .subprotocol(protocol)
            .map_err(|e| ConnectError::Option(format!("subprotocol {protocol:?}"), e))?;
    }
    for (name, value) in &options.headers {
        handshake
            .header(name, value)
            .map_err(|e| ConnectError::Option(format!("header {name:?}"), e))?;
    }
    // A bracketed IPv6 literal is written without brackets for the resolver.
    let host = uri.host().trim_start_matches('[').trim_end_matches(']');
    let port = uri.port();
    let attempt = async {
        let mut stream = TcpStream::connect((host, port)).await?;
        let _ = stream.set_nodelay(true);
        stream.write_all(&handshake.request()).await?;
        let mut received = Vec::with_capacity(1024);
        loop {
            received.reserve(1024);
            let n = stream.read_buf(&mut received).await?;
            let response = handshake.parse_response(&received);
            let (subprotocol, consumed) = match response {
                Ok(Some(response)) => (
                    response.subprotocol().map(str::to_owned),
                    response.consumed(),
                ),
                Ok(None) if n == 0 => return Err(ConnectError::Eof),
                Ok(None) => continue,
                Err(e) => return Err(ConnectError::Handshake(e)),
            };
            let mut ws = Connection::client(options.config);
            ws.receive(&received[consumed..]);
            return Ok(Client {
                stream,
                ws,
                subprotocol,
                out: Vec::new(),
            });
        }
    };
    tokio::time::timeout(options.handshake_timeout, attempt)
        .await
        .unwrap_or(Err(ConnectError::Timeout))
}

impl Client {
    /// Reads once into the connection (`Ok(0)` at end of stream, already reported to
    /// the connection).
    ///
    /// # Errors
    /// The read's error.
    pub async fn read(&mut self) -> io::Result<usize> {
        read_some(&mut self.stream, &mut self.ws).await
    }

    /// Writes out everything the connection queued.
    ///
    /// # Errors
    /// The write's error.
    pub async fn flush(&mut self) -> io::Result<()> {
        write_out(&mut self.stream, &mut self.ws, &mut self.out).await
    }

    /// Ends the TCP connection once the WebSocket is closed. A client waits for the
    /// server to close TCP first (§7.1.1: "the server SHOULD close ... first") and
    /// closes it itself only after `linger`; after a failure it closes at once.
    pub async fn finish(mut self, linger: Duration) {
        let _ = self.flush().await;
        if !self.ws.should_close_transport() {
            let wait_for_eof = async {
                let mut sink = [0u8; 4096];
                while let Ok(n) = self.stream.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(linger, wait_for_eof).await;
        }
        close_gracefully(&mut self.stream, linger).await;
    }
}
