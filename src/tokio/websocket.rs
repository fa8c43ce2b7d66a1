//! The WebSocket over a tokio stream, and its split halves.

use core::pin::Pin;
use core::task::{Context, Poll};
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use ::tokio::io::{AsyncRead, AsyncWrite};
use futures_core::Stream;
use futures_sink::Sink;

use super::core::Core;
use super::{Error, Message, Options};
use crate::{CloseCode, Connection, PreparedMessage};

/// A WebSocket connection over a tokio stream (a `TcpStream`, a TLS stream, a hyper
/// upgrade): receive and send [`Message`]s, with keepalive, timeouts, backpressure and a
/// graceful close handled for you.
///
/// Get one from [`accept`](super::accept) / [`Options::accept_with`] (server),
/// [`connect`](super::connect) / [`client_handshake`](super::client_handshake)
/// (client), or [`WebSocket::from_connection`] after a handshake done elsewhere.
///
/// # Receiving drives the connection
///
/// [`recv`](WebSocket::recv) (or the [`Stream`] impl) reads from the stream, answers
/// pings, echoes the peer's close, sends keepalive pings and enforces the timeouts. Keep
/// calling it for as long as the connection lives — in a loop, in a `select!`, or in the
/// task that owns the [`ReadHalf`] after [`split`](WebSocket::split).
///
/// # Sending
///
/// [`send`](WebSocket::send) queues a message and writes it out; [`feed`](WebSocket::feed)
/// only queues it, for batches, then [`flush`](WebSocket::flush). Both wait while more
/// than [`Options::write_buffer_size`] bytes are queued (backpressure), so a peer that
/// reads slowly slows the sender down instead of growing memory. The [`Sink`] impl does
/// the same (`poll_ready` waits for room).
///
/// # Closing
///
/// [`close`](WebSocket::close) runs the whole closing handshake (§7.1.2): our close frame,
/// the peer's, then the TCP close, within [`Options::close_timeout`]. When the peer
/// closes, [`recv`](WebSocket::recv) returns its [`Message::Close`] once the echo was
/// written and TCP closed, then `None`. A protocol error is returned by `recv` likewise
/// only after its close frame (1002, 1007, 1009) was written.
pub struct WebSocket<S> {
    core: Core<S>,
}

impl<S> core::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.core.fmt(f)
    }
}

impl<S> WebSocket<S> {
    /// A WebSocket over `stream`, for a `connection` whose opening handshake is done
    /// (for example by an HTTP server that upgraded the request). Bytes read after the
    /// handshake must already be in the connection
    /// ([`Connection::receive`]).
    pub fn from_connection(stream: S, connection: Connection, options: &Options) -> Self {
        WebSocket {
            core: Core::new(stream, connection, options),
        }
    }

    /// The connection state machine, for its state, role and
    /// [`buffered_amount`](Connection::buffered_amount).
    pub fn connection(&self) -> &Connection {
        self.core.connection()
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &S {
        self.core.stream()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// The next message, or `None` once the connection is closed.
    ///
    /// The peer's close is returned as [`Message::Close`] after the echo was written and
    /// the TCP connection closed; the next call returns `None`. Cancel-safe: a message is
    /// never lost by dropping the future.
    ///
    /// # Errors
    /// [`Error::Protocol`] when the peer broke the protocol (its close frame already
    /// written; [`ProtocolError::UnexpectedEof`](crate::ProtocolError::UnexpectedEof) when
    /// it vanished), [`Error::Timeout`] when keepalive, a stalled write or the closing
    /// handshake timed out, [`Error::Io`]. After an error, `recv` returns `None`.
    pub async fn recv(&mut self) -> Result<Option<Message>, Error> {
        poll_fn(|cx| self.core.poll_recv(cx)).await.transpose()
    }

    /// Queues `message` and writes everything queued.
    ///
    /// Waits first while more than [`Options::write_buffer_size`] bytes are queued. If
    /// the future is dropped, the message is either not queued or queued whole (it is
    /// written by later calls).
    ///
    /// # Errors
    /// [`Error::Usage`] (e.g. [`UsageError::Closed`](crate::UsageError::Closed) after a
    /// close), [`Error::Timeout`] ([`Timeout::Write`](super::Timeout::Write)) when the
    /// peer stopped reading, [`Error::Io`].
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        self.feed(message).await?;
        self.flush().await
    }

    /// Queues `message`, waiting while more than [`Options::write_buffer_size`] bytes
    /// are queued; writes only what it must to make room. For batches: feed, then
    /// [`flush`](WebSocket::flush).
    ///
    /// [`recv`](WebSocket::recv) also writes everything queued before it waits for
    /// input, so a loop that answers each message it receives (an echo, a relay) can
    /// feed the answers: those to all the messages of one read go out in one write.
    ///
    /// # Errors
    /// As [`send`](WebSocket::send).
    pub async fn feed(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        poll_fn(|cx| self.core.poll_ready(cx)).await?;
        self.core.start_send(message.into())
    }

    /// Queues a message encoded once for many connections (a broadcast; see the module
    /// docs) and writes everything queued.
    ///
    /// # Errors
    /// As [`send`](WebSocket::send).
    pub async fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        poll_fn(|cx| self.core.poll_ready(cx)).await?;
        self.core.start_send_prepared(message)?;
        self.flush().await
    }

    /// Queues a message encoded once for many connections, waiting for room as
    /// [`feed`](WebSocket::feed) does; for batches: feed several, then
    /// [`flush`](WebSocket::flush) once.
    ///
    /// # Errors
    /// As [`send`](WebSocket::send).
    pub async fn feed_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        poll_fn(|cx| self.core.poll_ready(cx)).await?;
        self.core.start_send_prepared(message)
    }

    /// Writes everything queued.
    ///
    /// # Errors
    /// [`Error::Timeout`] ([`Timeout::Write`](super::Timeout::Write)) when the peer
    /// stopped reading, [`Error::Io`].
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.core.poll_flush(cx)).await
    }

    /// Runs the closing handshake (§7.1.2): sends our close frame, waits for the peer's
    /// (messages arriving meanwhile are discarded), then closes TCP gracefully, all
    /// within [`Options::close_timeout`]. Does nothing more than finish the close if one
    /// was already sent or received.
    ///
    /// # Errors
    /// [`Error::Usage`] for a code that may not be sent or a reason over 123 bytes;
    /// [`Error::Timeout`] ([`Timeout::Close`](super::Timeout::Close)) when the peer did
    /// not answer in time (the connection is released anyway); whatever error ended the
    /// connection meanwhile.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.core.start_close(code, reason)?;
        while self.recv().await?.is_some() {}
        Ok(())
    }

    /// Splits into a read half and a write half, usable from different tasks.
    ///
    /// The halves share the connection behind a mutex that is held only inside a poll,
    /// never across an `.await`. The read half keeps answering pings and echoes the
    /// peer's close by itself (writing them between the write half's messages), so a
    /// task may only send while another only receives.
    ///
    /// `futures`' `StreamExt::split` also works (it locks the whole `WebSocket` per
    /// poll), and returns the sink first.
    pub fn split(self) -> (ReadHalf<S>, WriteHalf<S>) {
        let shared = Arc::new(Mutex::new(self.core));
        (
            ReadHalf {
                shared: Arc::clone(&shared),
            },
            WriteHalf { shared },
        )
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocket<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().core.poll_recv(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocket<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().core.poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.get_mut().core.start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().core.poll_flush(cx)
    }

    /// Sends a close 1000 (unless a close was sent or received) and flushes. The
    /// closing handshake completes as the stream side is polled to its end.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let core = &mut self.get_mut().core;
        core.start_close(CloseCode::NORMAL, "")?;
        core.poll_flush(cx)
    }
}

type Shared<S> = Arc<Mutex<Core<S>>>;

fn lock<S>(shared: &Shared<S>) -> MutexGuard<'_, Core<S>> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The receiving half of a [`WebSocket`], from [`WebSocket::split`].
///
/// It drives the connection as [`WebSocket::recv`] does: answers pings, echoes the
/// peer's close, sends keepalive pings, enforces the timeouts and closes the transport.
/// Keep receiving until it returns `None`, also after the write half sent a close.
pub struct ReadHalf<S> {
    shared: Shared<S>,
}

/// The sending half of a [`WebSocket`], from [`WebSocket::split`].
///
/// Its [`close`](WriteHalf::close) sends our close frame; the read half completes the
/// closing handshake and closes the transport.
pub struct WriteHalf<S> {
    shared: Shared<S>,
}

impl<S> core::fmt::Debug for ReadHalf<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("ReadHalf")
            .field(&*lock(&self.shared))
            .finish()
    }
}

impl<S> core::fmt::Debug for WriteHalf<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("WriteHalf")
            .field(&*lock(&self.shared))
            .finish()
    }
}

impl<S> ReadHalf<S> {
    /// Puts the halves back together.
    ///
    /// # Errors
    /// Gives both back if they come from different [`split`](WebSocket::split)s.
    pub fn reunite(self, write: WriteHalf<S>) -> Result<WebSocket<S>, (ReadHalf<S>, WriteHalf<S>)> {
        if !Arc::ptr_eq(&self.shared, &write.shared) {
            return Err((self, write));
        }
        drop(write);
        match Arc::try_unwrap(self.shared) {
            Ok(mutex) => Ok(WebSocket {
                core: mutex.into_inner().unwrap_or_else(PoisonError::into_inner),
            }),
            // Both halves were the only owners.
            Err(_) => unreachable!("a split WebSocket has exactly two halves"),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> ReadHalf<S> {
    /// The next message, or `None` once the connection is closed; see
    /// [`WebSocket::recv`].
    ///
    /// # Errors
    /// As [`WebSocket::recv`].
    pub async fn recv(&mut self) -> Result<Option<Message>, Error> {
        poll_fn(|cx| lock(&self.shared).poll_recv(cx))
            .await
            .transpose()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for ReadHalf<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        lock(&self.shared).poll_recv(cx)
    }
}

impl<S> WriteHalf<S> {
    /// Bytes queued and not yet written (see [`Connection::buffered_amount`]).
    pub fn buffered_amount(&self) -> usize {
        lock(&self.shared).connection().buffered_amount()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WriteHalf<S> {
    /// Queues `message` and writes everything queued; see [`WebSocket::send`].
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        self.feed(message).await?;
        self.flush().await
    }

    /// Queues `message`, waiting for room; see [`WebSocket::feed`].
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub async fn feed(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        let message = message.into();
        poll_fn(|cx| lock(&self.shared).poll_ready(cx)).await?;
        lock(&self.shared).start_send(message)
    }

    /// Queues a prepared (broadcast) message and writes everything queued.
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub async fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        poll_fn(|cx| lock(&self.shared).poll_ready(cx)).await?;
        lock(&self.shared).start_send_prepared(message)?;
        self.flush().await
    }

    /// Queues a prepared (broadcast) message, waiting for room; see
    /// [`WebSocket::feed_prepared`].
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub async fn feed_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        poll_fn(|cx| lock(&self.shared).poll_ready(cx)).await?;
        lock(&self.shared).start_send_prepared(message)
    }

    /// Writes everything queued.
    ///
    /// # Errors
    /// As [`WebSocket::flush`].
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| lock(&self.shared).poll_flush(cx)).await
    }

    /// Sends our close frame (unless a close was sent or received) and writes it out.
    /// The read half then receives until the peer's close and closes the transport,
    /// within [`Options::close_timeout`].
    ///
    /// # Errors
    /// As [`WebSocket::close`], for the sending part.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        lock(&self.shared).start_close(code, reason)?;
        self.flush().await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WriteHalf<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        lock(&self.shared).start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_flush(cx)
    }

    /// Sends a close 1000 (unless a close was sent or received) and flushes; the read
    /// half completes the closing handshake.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut core = lock(&self.shared);
        core.start_close(CloseCode::NORMAL, "")?;
        core.poll_flush(cx)
    }
}
