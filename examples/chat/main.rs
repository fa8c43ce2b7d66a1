//! A browser chat room on one port: the page at `/`, the WebSocket at `/ws`.
//!
//! ```text
//! cargo run --example chat -- --addr 127.0.0.1:9003
//! ```
//!
//! then open the printed `http://…/` address in two browser windows. The page uses only
//! the browser's own `WebSocket` API. Ctrl-C (or SIGTERM) closes every connection with
//! 1001 (going away) and exits; the open pages show it and reconnect with backoff when
//! the server is back.
//!
//! # Protocol
//!
//! Every message is a WebSocket text message holding one JSON object whose `"type"` says
//! what it is. Unknown fields are ignored.
//!
//! Client to server:
//!
//! | message | meaning |
//! |---|---|
//! | `{"type":"join","nick":"alice"}` | enter the room; nicknames are 1-32 characters, no control characters, trimmed, unique regardless of case |
//! | `{"type":"chat","text":"hello"}` | to everyone (1 to 4096 bytes of text) |
//! | `{"type":"private","to":"bob","text":"psst"}` | to one user (case-insensitive nickname) |
//!
//! Server to client:
//!
//! | message | when |
//! |---|---|
//! | `{"type":"welcome","nick":"alice","users":["alice","bob"]}` | your join succeeded; everyone online, you included |
//! | `{"type":"joined","nick":"carol"}` | someone else joined |
//! | `{"type":"left","nick":"carol"}` | someone left |
//! | `{"type":"users","users":["alice","bob"]}` | who is online, after every join and leave |
//! | `{"type":"chat","from":"alice","text":"hello"}` | a message to everyone, the sender included |
//! | `{"type":"private","from":"alice","to":"bob","text":"psst"}` | to its recipient, and echoed to its sender |
//! | `{"type":"error","message":"…"}` | your last message was refused, and why; nothing else happened |
//!
//! Before a successful join a connection receives only the answers to its own messages.
//! A refused message (malformed JSON, an unknown type, a missing field, a taken or
//! invalid nickname, an empty or over-long text, an unknown recipient, a binary message,
//! more than 20 messages a second) gets an `error` back to its sender only.
//!
//! # Limits
//!
//! A WebSocket message over 64 KiB fails the connection with 1009 (the library's
//! `Config::max_message_size`). Each client has a queue of 256 outgoing messages; a client
//! that does not read fast enough to keep it from filling is closed with 1008 rather than
//! slowing anyone else down. A request head over 8 KiB gets a 431; one not complete
//! within 10 s, or a socket that accepts no bytes for 10 s, is dropped. Idle connections
//! are pinged every 30 s and dropped after 75 s of silence. At most 1024 connections
//! are served at once. A browser's `Origin` must match the `Host` it connects to (§10.2),
//! so other sites' pages cannot use a visitor's browser to join.

mod http;
#[allow(dead_code, reason = "accessors used by tests/chat.rs")]
mod room;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rfc6455::handshake::RequestParser;
use rfc6455::{CloseCode, Config, Connection, ConnectionState, Event};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, sleep_until, timeout};

use room::{ClientId, Delivery, Room};

/// The page, served at `/`.
const PAGE: &str = include_str!("index.html");

const DEFAULT_ADDR: &str = "127.0.0.1:9003";
/// Outgoing messages queued per client before it counts as too slow.
const QUEUE: usize = 256;
const MAX_CONNECTIONS: usize = 1024;
/// The largest WebSocket message accepted (bigger: close 1009).
const MAX_MESSAGE: u64 = 64 * 1024;
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for the peer's close frame after sending ours.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
const PING_EVERY: Duration = Duration::from_secs(30);
const IDLE_LIMIT: Duration = Duration::from_secs(75);
/// Messages a client may send per second, on average, and in a burst.
const RATE: f64 = 20.0;
const BURST: f64 = 40.0;

/// The room and the clients' outgoing queues, behind one lock so that every client sees
/// messages in the same order.
#[derive(Default)]
struct Hub {
    room: Room,
    queues: HashMap<ClientId, mpsc::Sender<Arc<str>>>,
}

impl Hub {
    /// Queues each message for its recipients, serialized once. A client whose queue is
    /// full loses its queue: its task then closes the connection with 1008.
    fn deliver(&mut self, deliveries: Vec<Delivery>) {
        for delivery in deliveries {
            let Ok(json) = serde_json::to_string(&delivery.message) else {
                continue;
            };
            let json: Arc<str> = json.into();
            for id in delivery.to {
                if let Some(queue) = self.queues.get(&id)
                    && queue.try_send(json.clone()).is_err()
                {
                    eprintln!("chat: client {id} is too slow; closing it");
                    self.queues.remove(&id);
                }
            }
        }
    }
}

type SharedHub = Arc<Mutex<Hub>>;

fn lock(hub: &SharedHub) -> MutexGuard<'_, Hub> {
    // The room never panics while holding the lock, but if it did, the state is still
    // consistent enough to keep serving the others.
    hub.lock().unwrap_or_else(PoisonError::into_inner)
}

#[tokio::main]
async fn main() -> ExitCode {
    let addr = match parse_args() {
        Ok(Some(addr)) => addr,
        Ok(None) => return ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("chat: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("chat: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener.local_addr().unwrap_or(addr);
    println!("chat: listening on http://{local}/ (WebSocket at ws://{local}/ws)");

    let hub = SharedHub::default();
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut tasks = JoinSet::new();
    let mut next_id: ClientId = 0;
    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            () = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let Ok(permit) = slots.clone().try_acquire_owned() else {
                        eprintln!("chat: {peer}: over {MAX_CONNECTIONS} connections; refused");
                        continue;
                    };
                    next_id += 1;
                    let client = Client {
                        id: next_id,
                        peer,
                        hub: hub.clone(),
                        shutdown: shutdown_rx.clone(),
                        _permit: permit,
                    };
                    tasks.spawn(client.serve(stream));
                }
                Err(e) => {
                    // Out of file descriptors, for one: wait rather than spin.
                    eprintln!("chat: accept failed: {e}");
                    sleep(Duration::from_millis(100)).await;
                }
            },
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                if let Err(e) = joined {
                    eprintln!("chat: a connection task failed: {e}");
                }
            }
        }
    }
    println!(
        "chat: shutting down, closing {} connection(s) with 1001",
        tasks.len()
    );
    let _ = shutdown_tx.send(true);
    let drained = timeout(CLOSE_TIMEOUT + WRITE_TIMEOUT, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        eprintln!("chat: some connections did not close in time");
    }
    ExitCode::SUCCESS
}

const USAGE: &str = "usage: chat [--addr HOST:PORT]   (default 127.0.0.1:9003)";

/// The address to listen on, or `None` after printing help.
fn parse_args() -> Result<Option<SocketAddr>, String> {
    let mut addr = DEFAULT_ADDR.to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            println!("{USAGE}");
            return Ok(None);
        } else if arg == "--addr" {
            addr = args.next().ok_or("--addr needs a value")?;
        } else if let Some(value) = arg.strip_prefix("--addr=") {
            addr = value.to_owned();
        } else {
            return Err(format!("unknown argument {arg:?}"));
        }
    }
    addr.parse()
        .map(Some)
        .map_err(|e| format!("invalid address {addr:?}: {e}"))
}

/// Resolves on Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                () = ctrl_c => {}
                _ = term.recv() => {}
            },
            Err(_) => ctrl_c.await,
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}

/// One TCP connection: a page request or a chat client.
struct Client {
    id: ClientId,
    peer: SocketAddr,
    hub: SharedHub,
    shutdown: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
}

/// Why a connection ended early, for the log.
type Outcome = Result<(), String>;

impl Client {
    async fn serve(self, mut stream: TcpStream) {
        let mut buf = Vec::with_capacity(1024);
        let head = match timeout(HEAD_TIMEOUT, read_head(&mut stream, &mut buf)).await {
            Ok(Ok(Some(len))) => len,
            Ok(Ok(None)) => {
                let response = http::text_response(
                    "431 Request Header Fields Too Large",
                    "request head too large\n",
                );
                let _ = write(&mut stream, &response).await;
                return;
            }
            // Timed out, closed or reset before the head was complete.
            Ok(Err(_)) | Err(_) => return,
        };
        let Some((method, path)) = http::request_line(&buf[..head]) else {
            let _ = write(
                &mut stream,
                &http::text_response("400 Bad Request", "malformed request line\n"),
            )
            .await;
            return;
        };
        let response = match (method, path) {
            ("GET" | "HEAD", "/" | "/index.html") => {
                let mut response = page_response();
                if method == "HEAD" {
                    response.truncate(response.len() - PAGE.len());
                }
                response
            }
            (_, "/" | "/index.html") => http::response(
                "405 Method Not Allowed",
                &[("Allow", "GET, HEAD"), ("Content-Type", "text/plain")],
                b"method not allowed\n",
            ),
            (_, "/ws") => {
                let id = self.id;
                let peer = self.peer;
                if let Err(why) = self.websocket(stream, buf).await {
                    eprintln!("chat: client {id} ({peer}): {why}");
                }
                return;
            }
            _ => http::text_response("404 Not Found", "not found; the chat is at /\n"),
        };
        let _ = write(&mut stream, &response).await;
    }

    /// The opening handshake, then the session, then leaving the room.
    async fn websocket(mut self, mut stream: TcpStream, buf: Vec<u8>) -> Outcome {
        let (response, consumed) = match RequestParser::new().parse(&buf) {
            Ok(Some(request)) => {
                // §10.2: a browser always sends Origin. Accept only pages served from the
                // host the browser connects to, so that another site cannot chat in a
                // visitor's name.
                if let Some(origin) = request.origin()
                    && !same_origin(origin, request.host())
                {
                    let response = http::text_response(
                        "403 Forbidden",
                        "cross-origin WebSocket connections are not allowed\n",
                    );
                    write(&mut stream, &response).await?;
                    return Err(format!("refused origin {origin:?}"));
                }
                (request.accept().to_vec(), request.consumed())
            }
            Ok(None) => {
                // Our head scan and the parser disagree (e.g. on line endings).
                let response = http::text_response("400 Bad Request", "malformed request\n");
                write(&mut stream, &response).await?;
                return Err("incomplete handshake".into());
            }
            Err(e) => {
                write(&mut stream, &e.response()).await?;
                return Err(format!("handshake refused: {e}"));
            }
        };
        write(&mut stream, &response).await?;

        let config = Config::default()
            .max_message_size(MAX_MESSAGE)
            .max_frame_size(MAX_MESSAGE);
        let mut ws = Connection::server(config);
        ws.receive(&buf[consumed..]);
        let (queue, outgoing) = mpsc::channel(QUEUE);
        lock(&self.hub).queues.insert(self.id, queue);
        let outcome = self.session(&mut stream, &mut ws, outgoing).await;
        let mut hub = lock(&self.hub);
        hub.queues.remove(&self.id);
        let left = hub.room.leave(self.id);
        hub.deliver(left);
        outcome
    }

    /// Drives the connection until it closes: frames in, room messages out.
    async fn session(
        &mut self,
        stream: &mut TcpStream,
        ws: &mut Connection,
        mut outgoing: mpsc::Receiver<Arc<str>>,
    ) -> Outcome {
        let mut queue_open = true;
        let mut shutting_down = false;
        let mut last_heard = Instant::now();
        let mut next_ping = last_heard + PING_EVERY;
        let mut close_deadline: Option<Instant> = None;
        let mut rate = RateLimit::new();
        let mut result = Ok(());
        loop {
            loop {
                match ws.next_event() {
                    Ok(Some(Event::Text(text))) => {
                        let mut hub = lock(&self.hub);
                        let deliveries = if rate.allow() {
                            hub.room.on_text(self.id, &text)
                        } else {
                            Delivery::error(self.id, "you are sending too fast; message dropped")
                        };
                        hub.deliver(deliveries);
                    }
                    Ok(Some(Event::Binary(_))) => {
                        let mut hub = lock(&self.hub);
                        let deliveries = hub.room.on_binary(self.id);
                        hub.deliver(deliveries);
                    }
                    Ok(Some(_)) => {} // pings are answered automatically; a close is echoed
                    Ok(None) => break,
                    Err(e) => {
                        // The close frame with the matching code is queued.
                        result = Err(format!("protocol error: {e}"));
                        break;
                    }
                }
            }
            let out = ws.take_outgoing();
            if !out.is_empty() {
                write(stream, &out).await?;
            }
            if ws.should_close_transport() {
                linger(stream).await;
                return result;
            }
            if ws.state() == ConnectionState::Closing && close_deadline.is_none() {
                close_deadline = Some(Instant::now() + CLOSE_TIMEOUT);
            }
            let open = ws.state() == ConnectionState::Open;
            ws.receive_buffer().reserve(4096);
            tokio::select! {
                read = stream.read_buf(ws.receive_buffer()) => match read {
                    Ok(0) => ws.receive_eof(),
                    Ok(_) => last_heard = Instant::now(),
                    Err(e) => return Err(format!("read failed: {e}")),
                },
                message = outgoing.recv(), if queue_open && open => match message {
                    // Only fails once our close is sent; then the message is moot.
                    Some(json) => { let _ = ws.send_text(&*json); }
                    None => {
                        queue_open = false;
                        let _ = ws.close(CloseCode::POLICY_VIOLATION, "too slow: outgoing queue full");
                    }
                },
                _ = self.shutdown.changed(), if !shutting_down => {
                    shutting_down = true;
                    let _ = ws.close(CloseCode::GOING_AWAY, "server shutting down");
                },
                () = sleep_until(close_deadline.unwrap_or(next_ping)), if close_deadline.is_some() => {
                    return Err("no close frame from the client in time".into());
                },
                () = sleep_until(next_ping), if open => {
                    if last_heard.elapsed() > IDLE_LIMIT {
                        return Err("silent for too long".into());
                    }
                    if last_heard.elapsed() >= PING_EVERY {
                        let _ = ws.send_ping(b"");
                    }
                    next_ping += PING_EVERY;
                },
            }
        }
    }
}

fn page_response() -> Vec<u8> {
    http::response(
        "200 OK",
        &[
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            (
                "Content-Security-Policy",
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                 connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            ),
        ],
        PAGE.as_bytes(),
    )
}

/// Whether `origin` (`http://host:port`) names the authority `host` the browser
/// connected to.
fn same_origin(origin: &str, host: &str) -> bool {
    origin.split_once("://").is_some_and(|(scheme, authority)| {
        matches!(scheme, "http" | "https") && authority.eq_ignore_ascii_case(host)
    })
}

/// Reads until `buf` holds a complete request head; returns its length, or `None` if it
/// is over [`http::MAX_HEAD`]. Bytes after the head (frames a client sent early) stay in
/// `buf`.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Option<usize>> {
    let mut chunk = [0u8; 2048];
    loop {
        if let Some(len) = http::head_len(buf) {
            return Ok(Some(len));
        }
        if buf.len() >= http::MAX_HEAD {
            return Ok(None);
        }
        let room = (http::MAX_HEAD - buf.len()).min(chunk.len());
        let n = stream.read(&mut chunk[..room]).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Closes our side of the TCP connection and discards what the peer still sends until it
/// closes its side too (bounded in time and bytes). Closing a socket with unread bytes
/// makes the kernel send a reset, which can destroy the close frame just written before
/// the peer reads it: a client whose message was refused with 1009 while it was still
/// sending would see 1006 instead.
async fn linger(stream: &mut TcpStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let mut scratch = vec![0u8; 16 * 1024];
    let mut budget = 1usize << 20;
    let _ = timeout(Duration::from_secs(2), async {
        while budget > 0 {
            match stream.read(&mut scratch).await {
                Ok(0) | Err(_) => break,
                Ok(n) => budget = budget.saturating_sub(n),
            }
        }
    })
    .await;
}

/// Writes all of `bytes`, giving up on a peer that accepts none for [`WRITE_TIMEOUT`].
async fn write(stream: &mut TcpStream, bytes: &[u8]) -> Outcome {
    match timeout(WRITE_TIMEOUT, stream.write_all(bytes)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("write failed: {e}")),
        Err(_) => Err("write timed out".into()),
    }
}

/// A token bucket: [`RATE`] messages a second, bursts of [`BURST`].
struct RateLimit {
    tokens: f64,
    last: Instant,
}

impl RateLimit {
    fn new() -> Self {
        RateLimit {
            tokens: BURST,
            last: Instant::now(),
        }
    }

    fn allow(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * RATE;
        self.tokens = (self.tokens + refill).min(BURST);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
