//! A tokio echo server around the sans-IO core: accept loop, opening handshake, the
//! receive / events / send loop, time limits and a clean shutdown.

use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use rfc6455::handshake::RequestParser;
use rfc6455::{
    CloseCode, Config, Connection, ConnectionState, Event, HandshakeError, HandshakeLimits,
    ProtocolError, UsageError,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout};

use super::io::{close_gracefully, read_some, sleep_until_some, write_out};

/// How the echo server behaves. [`EchoOptions::default`] is what `echo` runs with.
#[derive(Debug, Clone)]
pub struct EchoOptions {
    /// The connection's limits and behaviour (frame and message sizes, auto-pong).
    pub config: Config,
    /// Bounds on the request head.
    pub handshake_limits: HandshakeLimits,
    /// The opening handshake must complete within this.
    pub handshake_timeout: Duration,
    /// After a close frame is sent, how long to wait for the peer's; after closing TCP,
    /// how long to drain the peer's last bytes.
    pub close_timeout: Duration,
    /// With nothing received for this long, ping; with nothing again for as long, close
    /// with 1001. `None`: connections may stay idle for ever.
    pub idle_timeout: Option<Duration>,
    /// Connections served at once; more are answered `503 Service Unavailable`.
    pub max_connections: usize,
    /// Subprotocols the server speaks, chosen in the client's order of preference.
    pub protocols: Vec<String>,
    /// Log a line per connection to stderr.
    pub log: bool,
}

impl Default for EchoOptions {
    fn default() -> Self {
        EchoOptions {
            config: Config::default(),
            handshake_limits: HandshakeLimits::default(),
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            idle_timeout: None,
            max_connections: 10_000,
            protocols: Vec::new(),
            log: true,
        }
    }
}

/// How one connection ended, for the log.
#[derive(Debug)]
pub enum End {
    /// The close handshake completed; the peer's code.
    Closed(CloseCode),
    /// The peer broke the protocol; we sent a close frame with its code.
    Failed(ProtocolError),
    /// We rejected the opening handshake with this HTTP status.
    Rejected(HandshakeError),
    /// Answered 503: too many connections.
    Busy,
    /// The handshake did not complete in time.
    HandshakeTimeout,
    /// The peer closed TCP during the handshake.
    HandshakeEof,
    /// Shutdown arrived during the handshake.
    HandshakeShutdown,
    /// Our close frame was not answered in time.
    CloseTimeout,
    /// A read or write failed.
    Io(io::Error),
    /// A bug in this program (a `UsageError` from the connection).
    Bug(UsageError),
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            End::Closed(code) => write!(f, "closed ({code})"),
            End::Failed(ProtocolError::UnexpectedEof) => {
                f.write_str("closed without a close handshake (1006)")
            }
            End::Failed(e) => write!(f, "protocol error: {e} (sent close {})", e.close_code()),
            End::Rejected(e) => write!(f, "handshake rejected with {}: {e}", e.status()),
            End::Busy => f.write_str("too many connections: answered 503"),
            End::HandshakeTimeout => f.write_str("handshake timed out"),
            End::HandshakeEof => f.write_str("closed during the handshake"),
            End::HandshakeShutdown => f.write_str("shutdown during the handshake"),
            End::CloseTimeout => f.write_str("no close frame from the peer in time"),
            End::Io(e) => write!(f, "I/O error: {e}"),
            End::Bug(e) => write!(f, "usage error (a bug in the example): {e}"),
        }
    }
}

impl From<io::Error> for End {
    fn from(e: io::Error) -> Self {
        End::Io(e)
    }
}

impl From<UsageError> for End {
    fn from(e: UsageError) -> Self {
        End::Bug(e)
    }
}

/// Serves echo connections on `listener` until `shutdown` completes; then stops
/// accepting, sends close 1001 (going away) on every open connection and waits for them
/// at most [`EchoOptions::close_timeout`] (plus a second) before dropping the rest.
pub async fn serve(
    listener: TcpListener,
    options: EchoOptions,
    shutdown: impl Future<Output = ()>,
) {
    let options = Arc::new(options);
    let (stop_tx, stop_rx) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(
        options.max_connections.min(Semaphore::MAX_PERMITS),
    ));
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let slot = Arc::clone(&slots).try_acquire_owned().ok();
                    let options = Arc::clone(&options);
                    let stop = stop_rx.clone();
                    tasks.spawn(async move {
                        let end = serve_connection(stream, &options, slot, stop).await;
                        if options.log {
                            eprintln!("{peer}: {end}");
                        }
                    });
                }
                // Out of file descriptors, or a connection reset before it was accepted:
                // the listener is fine, so pause briefly and go on.
                Err(e) => {
                    eprintln!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            // Reap finished connections so the set does not grow.
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                if let Err(e) = joined {
                    eprintln!("connection task failed: {e}");
                }
            }
        }
    }
    drop(listener);
    let open = tasks.len();
    if options.log && open > 0 {
        eprintln!("closing {open} connection(s)");
    }
    let _ = stop_tx.send(true);
    let grace = options.close_timeout + Duration::from_secs(1);
    let all_done = async { while tasks.join_next().await.is_some() {} };
    if timeout(grace, all_done).await.is_err() {
        eprintln!(
            "{} connection(s) did not close in time; dropping them",
            tasks.len()
        );
        tasks.shutdown().await;
    }
}

/// Serves one connection: the opening handshake, then echo until it closes. `slot` is
/// the connection's place under [`EchoOptions::max_connections`] (`None`: answer 503).
pub async fn serve_connection(
    mut stream: TcpStream,
    options: &EchoOptions,
    slot: Option<OwnedSemaphorePermit>,
    mut stop: watch::Receiver<bool>,
) -> End {
    let _ = stream.set_nodelay(true);
    let deadline = Instant::now() + options.handshake_timeout;
    let handshake = tokio::select! {
        result = timeout_at(deadline, handshake(&mut stream, options, slot.is_some())) => result,
        _ = stop.wait_for(|stop| *stop) => Err(End::HandshakeShutdown),
    };
    let mut ws = match handshake {
        Ok(ws) => ws,
        Err(end) => {
            if matches!(end, End::Rejected(_) | End::Busy) {
                close_gracefully(&mut stream, options.close_timeout).await;
            }
            return end;
        }
    };
    let timers = Timers {
        close: options.close_timeout,
        idle: options.idle_timeout,
    };
    let stop = async move {
        let _ = stop.wait_for(|stop| *stop).await;
    };
    let end = echo(&mut stream, &mut ws, timers, stop).await;
    close_gracefully(&mut stream, options.close_timeout).await;
    drop(slot);
    end
}

async fn timeout_at<T>(
    deadline: Instant,
    f: impl Future<Output = Result<T, End>>,
) -> Result<T, End> {
    tokio::time::timeout_at(deadline, f)
        .await
        .unwrap_or(Err(End::HandshakeTimeout))
}

/// Reads the request (bounded by [`EchoOptions::handshake_limits`]), answers it, and
/// returns the connection with any bytes that followed the request already received.
async fn handshake(
    stream: &mut TcpStream,
    options: &EchoOptions,
    have_slot: bool,
) -> Result<Connection, End> {
    let mut parser = RequestParser::with_limits(options.handshake_limits);
    let mut received = Vec::with_capacity(1024);
    loop {
        // Never read past the head limit (plus one byte, to see that it was passed).
        let room = (options.handshake_limits.max_head_size + 1).saturating_sub(received.len());
        received.reserve(room.min(4096));
        let n = (&mut *stream)
            .take(room as u64)
            .read_buf(&mut received)
            .await?;
        let (response, consumed) = match parser.parse(&received) {
            Ok(None) if n == 0 => return Err(End::HandshakeEof),
            Ok(None) => continue,
            Err(e) => {
                stream.write_all(&e.response()).await?;
                return Err(End::Rejected(e));
            }
            Ok(Some(_)) if !have_slot => {
                stream.write_all(BUSY).await?;
                return Err(End::Busy);
            }
            Ok(Some(request)) => {
                // Pick the first of the client's offers that we speak (§4.2.2 step 4).
                let chosen = request
                    .subprotocols()
                    .find(|offer| options.protocols.iter().any(|ours| ours == offer));
                let mut accept = request.accept();
                if let Some(protocol) = chosen {
                    accept = accept.subprotocol(protocol)?;
                }
                (accept.to_vec(), request.consumed())
            }
        };
        stream.write_all(&response).await?;
        let mut ws = Connection::server(options.config);
        // Bytes after the head are already frames (a client may send them at once).
        ws.receive(&received[consumed..]);
        return Ok(ws);
    }
}

const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
    Connection: close\r\n\
    Retry-After: 1\r\n\
    Content-Type: text/plain; charset=utf-8\r\n\
    Content-Length: 21\r\n\
    \r\n\
    too many connections\n";

/// Queued bytes above which the echo loop writes before decoding more: a bound on memory
/// when one read holds many messages.
const FLUSH_AT: usize = 1 << 20;

/// The echo loop's time limits.
#[derive(Debug, Clone, Copy)]
pub struct Timers {
    /// After sending a close frame, wait this long for the peer's.
    pub close: Duration,
    /// With nothing received for this long, ping; with nothing again for as long, close
    /// with 1001.
    pub idle: Option<Duration>,
}

/// The sans-IO loop, for either role: read into the connection, take its events (echoing
/// messages), write out what it queued, until the close handshake completes or the
/// connection fails. When `stop` completes, sends close 1001 (going away) and waits for
/// the peer's close.
///
/// The caller then closes the transport: a server at once, a client after the server
/// did (§7.1.1).
pub async fn echo<S>(
    stream: &mut S,
    ws: &mut Connection,
    timers: Timers,
    stop: impl Future<Output = ()>,
) -> End
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    tokio::pin!(stop);
    let mut out = Vec::new();
    let mut close_deadline = None;
    let mut idle = timers.idle.map(|t| (Instant::now() + t, false));
    let mut stopping = false;
    loop {
        // Events from the bytes received so far.
        loop {
            let event = match ws.next_event() {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(e) => {
                    // The close frame with e's code is queued: write it, then close TCP
                    // (§7.1.7).
                    let _ = write_out(stream, ws, &mut out).await;
                    return End::Failed(e);
                }
            };
            let sent = match event {
                Event::Text(text) => ws.send_text(text),
                Event::Binary(data) => ws.send_binary(data),
                // The connection queued the pong (auto-pong), or the close echo.
                Event::Close(close) => {
                    let _ = write_out(stream, ws, &mut out).await;
                    return End::Closed(close.code);
                }
                _ => Ok(()),
            };
            match sent {
                // After our own close (shutdown, idle), messages still arrive until the
                // peer's close; they are not echoed.
                Ok(()) | Err(UsageError::Closed) => {}
                Err(e) => return End::Bug(e),
            }
            if ws.buffered_amount() >= FLUSH_AT {
                if let Err(e) = write_out(stream, ws, &mut out).await {
                    return End::Io(e);
                }
            }
        }
        if let Err(e) = write_out(stream, ws, &mut out).await {
            return End::Io(e);
        }
        if ws.should_close_transport() {
            // Reached after end of stream without a close frame: next_event reported it.
            return End::Io(io::ErrorKind::UnexpectedEof.into());
        }
        // Wait for bytes, a timer or shutdown.
        let timer = match (close_deadline, idle) {
            (Some(deadline), _) => Some(deadline),
            (None, Some((deadline, _))) => Some(deadline),
            (None, None) => None,
        };
        tokio::select! {
            read = read_some(stream, ws) => match read {
                Ok(_) => {
                    if let Some(t) = timers.idle {
                        idle = Some((Instant::now() + t, false));
                    }
                }
                Err(e) => return End::Io(e),
            },
            () = sleep_until_some(timer) => {
                if close_deadline.is_some() {
                    return End::CloseTimeout;
                }
                match idle {
                    Some((_, false)) => {
                        // Silent for a while: is the peer still there (§5.5.2)?
                        let _ = ws.send_ping(b"idle");
                        idle = timers.idle.map(|t| (Instant::now() + t, true));
                    }
                    _ => {
                        let _ = ws.close(CloseCode::GOING_AWAY, "idle timeout");
                        close_deadline = Some(Instant::now() + timers.close);
                    }
                }
            }
            () = &mut stop, if !stopping => {
                stopping = true;
                if ws.state() == ConnectionState::Open {
                    let _ = ws.close(CloseCode::GOING_AWAY, "server shutting down");
                    close_deadline = Some(Instant::now() + timers.close);
                }
            }
        }
    }
}
