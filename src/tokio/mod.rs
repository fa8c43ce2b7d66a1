//! The tokio adapter (feature `tokio`): accept and connect, a [`WebSocket`] that is a
//! `futures` [`Stream`](futures_core::Stream) + [`Sink`](futures_sink::Sink), split
//! halves, keepalive, timeouts and a graceful close.
//!
//! This module is one user of the sans-IO core's public API: all the protocol is in
//! [`Connection`](crate::Connection) and [`handshake`](crate::handshake); only I/O and
//! time live here.
//!
//! # A first server
//!
//! ```no_run
//! use rfc6455::tokio::{accept, Error};
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//!     loop {
//!         let (stream, _) = listener.accept().await?;
//!         tokio::spawn(async move {
//!             let mut ws = accept(stream).await?;
//!             while let Some(message) = ws.recv().await? {
//!                 if message.is_data() {
//!                     ws.send(message).await?; // echo
//!                 }
//!             }
//!             Ok::<(), Error>(())
//!         });
//!     }
//! }
//! ```
//!
//! `?` on [`recv`](WebSocket::recv) is safe: a protocol error is returned only after its
//! close frame (1002, 1007, 1009) was written and the TCP connection closed, and a close
//! from the peer ends the loop once the echo went out.
//!
//! # A client
//!
//! ```no_run
//! # #![allow(dead_code)]
//! # async fn f() -> Result<(), rfc6455::tokio::Error> {
//! let (mut ws, _response) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
//! ws.send("hello").await?;
//! if let Some(reply) = ws.recv().await? {
//!     println!("{reply:?}");
//! }
//! ws.close(rfc6455::CloseCode::NORMAL, "bye").await?;
//! # Ok(()) }
//! ```
//!
//! For `wss://`, open the TLS stream yourself (with `tokio-rustls`, say) and run
//! [`client_handshake`] over it.
//!
//! # Defaults for the open internet
//!
//! [`Options`] holds every setting; the defaults release peers that hold a connection
//! without using it:
//!
//! | setting | default | what happens |
//! |---|---|---|
//! | [`handshake_timeout`](Options::handshake_timeout) | 10 s | the opening handshake (TCP connect included, for a client) must finish |
//! | [`keepalive_interval`](Options::keepalive_interval) | 20 s | after this long without a byte from the peer, send a ping |
//! | [`keepalive_timeout`](Options::keepalive_timeout) | 20 s | nothing at all arrived this long after the ping: release the peer |
//! | [`write_timeout`](Options::write_timeout) | 30 s | a write made no progress this long (the peer stopped reading): release it |
//! | [`close_timeout`](Options::close_timeout) | 10 s | from our close frame (or the peer's) to the end of the TCP connection, in total |
//! | [`write_buffer_size`](Options::write_buffer_size) | 128 KiB | sends wait while more than this is queued |
//!
//! A silent peer, one that sent half a frame and stopped, or one that stopped reading is
//! therefore released within a minute. Each timeout is applied once: the close timeout
//! bounds waiting for the peer's close frame, writing, and waiting for its FIN together.
//! Timers need tokio's time driver (`#[tokio::main]` enables it).
//!
//! # Sending from another task
//!
//! [`split`](WebSocket::split) gives a [`ReadHalf`] and a [`WriteHalf`] for two tasks. The
//! read half answers pings and echoes the peer's close by itself, even while the write
//! half is idle or busy; no lock is held across an `.await`.
//!
//! ```no_run
//! # #![allow(dead_code)]
//! use rfc6455::tokio::{Message, WebSocket};
//! use tokio::net::TcpStream;
//! use tokio::sync::mpsc;
//!
//! async fn serve(ws: WebSocket<TcpStream>) -> Result<(), rfc6455::tokio::Error> {
//!     let (mut read, mut write) = ws.split();
//!     let (tx, mut rx) = mpsc::channel::<String>(64);
//!     // Any task can now send through `tx`.
//!     tokio::spawn(async move {
//!         while let Some(text) = rx.recv().await {
//!             if write.send(text).await.is_err() {
//!                 break;
//!             }
//!         }
//!         let _ = write.close(rfc6455::CloseCode::NORMAL, "").await;
//!     });
//!     while let Some(message) = read.recv().await? {
//!         if let Message::Text(text) = message {
//!             let _ = tx.send(format!("you said: {text}")).await;
//!         }
//!     }
//!     Ok(())
//! }
//! ```
//!
//! # Broadcast
//!
//! Encode a message once with [`PreparedMessage`](crate::PreparedMessage) and hand the
//! same bytes to every connection with [`WebSocket::send_prepared`]: no copy, no second
//! encoding, however many receivers. A `tokio::sync::broadcast` channel carries it (a
//! `PreparedMessage` is cheap to clone: it shares its bytes).
//!
//! ```no_run
//! # #![allow(dead_code)]
//! use rfc6455::PreparedMessage;
//! use rfc6455::tokio::{accept, Message};
//! use tokio::sync::broadcast;
//!
//! # async fn f() -> std::io::Result<()> {
//! let (room, _) = broadcast::channel::<PreparedMessage>(256);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//! loop {
//!     let (stream, _) = listener.accept().await?;
//!     let (room, mut inbox) = (room.clone(), room.subscribe());
//!     tokio::spawn(async move {
//!         let mut ws = accept(stream).await?;
//!         loop {
//!             tokio::select! {
//!                 message = ws.recv() => match message? {
//!                     Some(Message::Text(text)) => { let _ = room.send(PreparedMessage::text(text)); }
//!                     Some(_) => {}
//!                     None => break,
//!                 },
//!                 Ok(prepared) = inbox.recv() => ws.send_prepared(&prepared).await?,
//!             }
//!         }
//!         Ok::<(), rfc6455::tokio::Error>(())
//!     });
//! }
//! # }
//! ```
//!
//! `recv` is cancel-safe, so it can sit in a `select!` loop.

mod client;
mod core;
mod error;
mod message;
mod server;
mod websocket;

use std::future::Future;

use ::tokio::io::{AsyncRead, AsyncWrite};
use ::tokio::time::{Duration, Instant};

pub use client::{UpgradeResponse, client_handshake, connect};
pub use error::{Error, Timeout};
pub use message::Message;
pub use server::{Reject, RequestHead, Upgrade};
pub use websocket::{ReadHalf, WebSocket, WriteHalf};

use crate::{Config, HandshakeLimits};

/// Everything the adapter can be told: the connection's [`Config`], handshake limits
/// and timeout, keepalive, the close and write timeouts, and the backpressure threshold.
///
/// ```
/// use std::time::Duration;
/// use rfc6455::tokio::Options;
///
/// let options = Options::default()
///     .config(rfc6455::Config::default().max_message_size(1 << 20))
///     .keepalive(Some(Duration::from_secs(30)), Duration::from_secs(30))
///     .close_timeout(Duration::from_secs(5));
/// assert_eq!(options.close_timeout, Duration::from_secs(5));
/// ```
///
/// # Background
/// Defaults are for servers on the open internet, where peers vanish without a word
/// (a phone losing signal), send half a frame and stop, or stop reading. See the table
/// in the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The connection's limits and behaviour. Default: [`Config::default`].
    pub config: Config,
    /// Bounds on the request (server) or response (client) head. Default:
    /// [`HandshakeLimits::default`].
    pub handshake_limits: HandshakeLimits,
    /// The time the opening handshake may take, reading the request to writing the
    /// response (server) or connecting to reading the response (client). `None`: no
    /// limit. Default: 10 s.
    pub handshake_timeout: Option<Duration>,
    /// After this long with nothing received, send a ping. `None`: no keepalive.
    /// Default: 20 s.
    pub keepalive_interval: Option<Duration>,
    /// If nothing at all (not a byte) arrives within this long of a keepalive ping, the
    /// peer is released with [`Timeout::Keepalive`]. Default: 20 s.
    pub keepalive_timeout: Duration,
    /// The time from the start of the close — our close frame queued, the peer's
    /// received, or a protocol error — to the end of the TCP connection, in total:
    /// waiting for the peer's close, writing, and waiting for its FIN. Default: 10 s.
    pub close_timeout: Duration,
    /// A write that makes no progress for this long (the peer stopped reading) releases
    /// the peer with [`Timeout::Write`]. `None`: wait for ever. Default: 30 s.
    pub write_timeout: Option<Duration>,
    /// Sends wait while more than this many bytes are queued and not yet written
    /// (backpressure). Default: 128 KiB.
    pub write_buffer_size: usize,
    /// permessage-deflate (RFC 7692, feature `deflate`): `Some` offers it (client) or
    /// accepts the first acceptable offer (server), with this policy, and runs it on the
    /// connection when agreed; see [`Options::deflate`]. Default: `None`.
    #[cfg(feature = "deflate")]
    pub deflate: Option<crate::deflate::DeflateConfig>,
}

impl Options {
    /// The defaults, as documented on each field.
    pub const DEFAULT: Options = Options {
        config: Config::DEFAULT,
        handshake_limits: HandshakeLimits::DEFAULT,
        handshake_timeout: Some(Duration::from_secs(10)),
        keepalive_interval: Some(Duration::from_secs(20)),
        keepalive_timeout: Duration::from_secs(20),
        close_timeout: Duration::from_secs(10),
        write_timeout: Some(Duration::from_secs(30)),
        write_buffer_size: 128 * 1024,
        #[cfg(feature = "deflate")]
        deflate: None,
    };

    /// Sets [`Options::config`].
    #[must_use]
    pub const fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets [`Options::handshake_limits`].
    #[must_use]
    pub const fn handshake_limits(mut self, limits: HandshakeLimits) -> Self {
        self.handshake_limits = limits;
        self
    }

    /// Sets [`Options::handshake_timeout`].
    #[must_use]
    pub const fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets [`Options::keepalive_interval`] and [`Options::keepalive_timeout`].
    #[must_use]
    pub const fn keepalive(mut self, interval: Option<Duration>, timeout: Duration) -> Self {
        self.keepalive_interval = interval;
        self.keepalive_timeout = timeout;
        self
    }

    /// Sets [`Options::close_timeout`].
    #[must_use]
    pub const fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Sets [`Options::write_timeout`].
    #[must_use]
    pub const fn write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Sets [`Options::write_buffer_size`].
    #[must_use]
    pub const fn write_buffer_size(mut self, bytes: usize) -> Self {
        self.write_buffer_size = bytes;
        self
    }

    /// Sets [`Options::deflate`]: permessage-deflate with this policy, or `None` for
    /// none.
    ///
    /// A server ([`accept_with`](Options::accept_with), [`route`](Options::route))
    /// answers the request's offers with [`negotiate`](crate::deflate::negotiate): the
    /// 101 carries the agreed `Sec-WebSocket-Extensions`, and the connection compresses.
    /// A client ([`connect`](Options::connect),
    /// [`client_handshake`](Options::client_handshake)) adds
    /// [`DeflateConfig::offer`](crate::deflate::DeflateConfig::offer) to its request
    /// and checks the 101's answer with
    /// [`client_accept`](crate::deflate::DeflateConfig::client_accept); a peer that
    /// does not agree leaves the connection uncompressed.
    ///
    /// ```
    /// use rfc6455::deflate::DeflateConfig;
    /// use rfc6455::tokio::Options;
    ///
    /// let options = Options::default().deflate(Some(DeflateConfig::default()));
    /// assert!(options.deflate.is_some());
    /// ```
    #[cfg(feature = "deflate")]
    #[must_use]
    pub const fn deflate(mut self, config: Option<crate::deflate::DeflateConfig>) -> Self {
        self.deflate = config;
        self
    }
}

impl Default for Options {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Runs the server's opening handshake on `stream` with the default [`Options`],
/// accepting any valid WebSocket request; see [`Options::accept_with`].
///
/// # Errors
/// As [`Options::accept_with`].
pub async fn accept<S>(stream: S) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    Options::DEFAULT.accept(stream).await
}

/// Runs the server's opening handshake on `stream` with the default [`Options`], letting
/// `callback` accept or reject the request; see [`Options::accept_with`].
///
/// # Errors
/// As [`Options::accept_with`].
pub async fn accept_with<S, F>(stream: S, callback: F) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&RequestHead<'_>) -> Result<Upgrade, Reject>,
{
    Options::DEFAULT.accept_with(stream, callback).await
}

/// Serves one HTTP request on `stream` with the default [`Options`]: answers it as plain
/// HTTP or upgrades it, as `route` decides; see [`Options::route`].
///
/// # Errors
/// As [`Options::route`].
pub async fn route<S, F>(stream: S, route: F) -> Result<Option<WebSocket<S>>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&crate::handshake::RequestHead<'_>) -> Result<Upgrade, Reject>,
{
    Options::DEFAULT.route(stream, route).await
}

/// What the opening handshake agreed to run on the connection besides RFC 6455 itself.
#[derive(Debug, Default)]
struct Agreed {
    #[cfg(feature = "deflate")]
    deflate: Option<crate::deflate::PerMessageDeflate>,
}

impl Agreed {
    /// Installs what was agreed on `connection`, before any byte went through it.
    #[allow(clippy::unused_self)]
    fn install(self, connection: crate::Connection) -> crate::Connection {
        #[cfg(feature = "deflate")]
        if let Some(deflate) = self.deflate {
            return connection.with_extension(deflate);
        }
        connection
    }
}

/// Runs `work` until `deadline`: `None` if it passed first.
async fn within<F: Future>(deadline: Option<Instant>, work: F) -> Option<F::Output> {
    match deadline {
        Some(deadline) => ::tokio::time::timeout_at(deadline, work).await.ok(),
        None => Some(work.await),
    }
}
