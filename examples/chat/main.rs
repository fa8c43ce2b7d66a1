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
//! are pinged after 20 s of silence and dropped 20 s later (the adapter's keepalive). At
//! most 1024 chat connections are open and 256 requests are being read at once; beyond
//! either, a `503`. A browser's `Origin` must match the `Host` it connects to (§10.2), so
//! other sites' pages cannot use a visitor's browser to join.
//!
//! # One port
//!
//! [`Options::route`] reads each request head once and lets [`route`] answer it: the page,
//! a 404, or the upgrade to a WebSocket with the checks of RFC 6455 §4.2.1.

#[path = "../common/mod.rs"]
mod common;
#[allow(dead_code, reason = "accessors used by tests/chat.rs")]
mod room;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use common::args::{Arg, ArgError, Args, options_or_exit, with_deflate};
use common::signal::shutdown_signal;
use rfc6455::handshake::RequestHead;
use rfc6455::tokio::{Error, Message, Options, Reject, Upgrade, WebSocket};
use rfc6455::{CloseCode, Config, PreparedMessage};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use room::{ClientId, Delivery, Room};

/// The page, served at `/`.
const PAGE: &str = include_str!("index.html");

/// Outgoing messages queued per client before it counts as too slow.
const QUEUE: usize = 256;
const MAX_CONNECTIONS: usize = 1024;
const MAX_HANDSHAKES: usize = 256;
/// The largest WebSocket message accepted (bigger: close 1009).
const MAX_MESSAGE: u64 = 64 * 1024;
/// Messages a client may send per second, on average, and in a burst.
const RATE: f64 = 20.0;
const BURST: f64 = 40.0;

const OPTIONS: Options = Options::DEFAULT
    .config(
        Config::DEFAULT
            .max_message_size(MAX_MESSAGE)
            .max_frame_size(MAX_MESSAGE),
    )
    .write_timeout(Some(Duration::from_secs(10)))
    .close_timeout(Duration::from_secs(5));

const USAGE: &str = "\
A browser chat room: the page at /, the WebSocket at /ws, on one port.

Usage: chat [OPTIONS]

Options:
      --addr ADDR   listen on ADDR [default: 127.0.0.1:9003]; port 0 picks one
      --deflate     accept permessage-deflate (RFC 7692) when the browser offers it; the
                    room's broadcasts, encoded once for all, still go uncompressed
  -h, --help        print this help
";

/// The room and the clients' outgoing queues, behind one lock so that every client sees
/// messages in the same order.
#[derive(Default)]
struct Hub {
    room: Room,
    queues: HashMap<ClientId, mpsc::Sender<PreparedMessage>>,
}

impl Hub {
    /// Queues each message for its recipients, encoded once. A client whose queue is full
    /// loses its queue: its task then closes the connection with 1008.
    fn deliver(&mut self, deliveries: Vec<Delivery>) {
        for delivery in deliveries {
            let Ok(json) = serde_json::to_string(&delivery.message) else {
                continue;
            };
            let message = PreparedMessage::text(json);
            for id in delivery.to {
                if let Some(queue) = self.queues.get(&id)
                    && queue.try_send(message.clone()).is_err()
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

fn parse_args() -> Result<Option<(SocketAddr, Options)>, ArgError> {
    let mut addr: SocketAddr = ([127, 0, 0, 1], 9003).into();
    let mut options = OPTIONS;
    let mut args = Args::from_env();
    while let Some(arg) = args.next_arg()? {
        match arg {
            Arg::Flag(flag) if flag == "-h" || flag == "--help" => return Ok(None),
            Arg::Flag(flag) if flag == "--addr" => addr = args.parse()?,
            Arg::Flag(flag) if flag == "--deflate" => options = with_deflate(options)?,
            Arg::Flag(_) => return Err(args.unknown()),
            Arg::Positional(p) => return Err(ArgError(format!("unexpected argument {p:?}"))),
        }
    }
    Ok(Some((addr, options)))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (addr, options) = match options_or_exit(parse_args(), USAGE) {
        Ok(parsed) => parsed,
        Err(code) => return code,
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
    let (stop_tx, stop) = watch::channel(false);
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut tasks = JoinSet::new();
    let mut next_id: ClientId = 0;
    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            () = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok((mut stream, peer)) => {
                    let Ok(handshake) = Arc::clone(&handshakes).try_acquire_owned() else {
                        tasks.spawn(async move {
                            let _ = stream.write_all(BUSY).await;
                            let _ = stream.shutdown().await;
                        });
                        continue;
                    };
                    next_id += 1;
                    let client = Client { id: next_id, hub: hub.clone(), stop: stop.clone(), options };
                    let connections = Arc::clone(&connections);
                    tasks.spawn(async move {
                        let id = client.id;
                        if let Err(why) = client.serve(stream, handshake, connections).await {
                            eprintln!("chat: client {id} ({peer}): {why}");
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors, for one: wait rather than spin.
                    eprintln!("chat: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    println!(
        "chat: shutting down, closing {} connection(s) with 1001",
        tasks.len()
    );
    let _ = stop_tx.send(true);
    let all = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(options.close_timeout + Duration::from_secs(1), all)
        .await
        .is_err()
    {
        eprintln!("chat: some connections did not close in time");
    }
    ExitCode::SUCCESS
}

const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\
    Retry-After: 1\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n\r\ntoo many connections\n";

/// One TCP connection: a page request or a chat client.
struct Client {
    id: ClientId,
    hub: SharedHub,
    stop: watch::Receiver<bool>,
    options: Options,
}

impl Client {
    /// Answers the request (the page, a 404, ...) or upgrades it and runs the session.
    async fn serve(
        mut self,
        stream: TcpStream,
        handshake: OwnedSemaphorePermit,
        connections: Arc<Semaphore>,
    ) -> Result<(), Error> {
        let mut slot = None;
        let routed = self
            .options
            .route(stream, |head| route(head, &connections, &mut slot));
        let ws = tokio::select! {
            routed = routed => routed?,
            _ = self.stop.changed() => None,
        };
        drop(handshake);
        let Some(ws) = ws else { return Ok(()) };
        let (queue, outgoing) = mpsc::channel(QUEUE);
        lock(&self.hub).queues.insert(self.id, queue);
        let outcome = self.session(ws, outgoing).await;
        let mut hub = lock(&self.hub);
        hub.queues.remove(&self.id);
        let left = hub.room.leave(self.id);
        hub.deliver(left);
        drop(slot);
        outcome
    }

    /// Runs the connection until it closes: messages in, room messages out.
    async fn session(
        &mut self,
        mut ws: WebSocket<TcpStream>,
        mut outgoing: mpsc::Receiver<PreparedMessage>,
    ) -> Result<(), Error> {
        let mut rate = RateLimit::new();
        loop {
            tokio::select! {
                message = ws.recv() => {
                    let deliveries = match message? {
                        Some(Message::Text(text)) if rate.allow() => lock(&self.hub).room.on_text(self.id, &text),
                        Some(Message::Text(_)) => Delivery::error(self.id, "you are sending too fast; message dropped"),
                        Some(Message::Binary(_)) => lock(&self.hub).room.on_binary(self.id),
                        Some(_) => continue, // pings are answered, a close is echoed
                        None => return Ok(()),
                    };
                    lock(&self.hub).deliver(deliveries);
                }
                message = outgoing.recv() => match message {
                    Some(message) => ws.send_prepared(&message).await?,
                    None => return ws.close(CloseCode::POLICY_VIOLATION, "too slow: outgoing queue full").await,
                },
                _ = self.stop.changed() => return ws.close(CloseCode::GOING_AWAY, "server shutting down").await,
            }
        }
    }
}

/// The answer to one request: the page, the WebSocket (in a connection slot, from a page
/// of this host), or an error status.
fn route(
    head: &RequestHead<'_>,
    connections: &Arc<Semaphore>,
    slot: &mut Option<OwnedSemaphorePermit>,
) -> Result<Upgrade, Reject> {
    match (head.method(), head.path()) {
        ("GET" | "HEAD", "/" | "/index.html") => Err(page(head.method() == "HEAD")),
        (_, "/" | "/index.html") => Err(Reject::new(405)
            .header("Allow", "GET, HEAD")
            .body("method not allowed\n")),
        (_, "/ws") => {
            // §10.2: a browser always sends Origin. Accept only pages served from the host
            // the browser connects to, so that another site cannot chat in a visitor's name.
            if let (Some(origin), Some(host)) = (head.origin(), head.host())
                && !same_origin(origin, host)
            {
                return Err(
                    Reject::new(403).body("cross-origin WebSocket connections are not allowed\n")
                );
            }
            let permit = Arc::clone(connections).try_acquire_owned();
            *slot = Some(permit.map_err(|_| {
                Reject::new(503)
                    .header("Retry-After", "1")
                    .body("too many connections\n")
            })?);
            Ok(Upgrade::new())
        }
        _ => Err(Reject::new(404).body("not found; the chat is at /\n")),
    }
}

fn page(head_only: bool) -> Reject {
    let page = Reject::new(200)
        .header("Content-Type", "text/html; charset=utf-8")
        .header("Cache-Control", "no-store")
        .header("X-Content-Type-Options", "nosniff")
        .header("Referrer-Policy", "no-referrer")
        .header(
            "Content-Security-Policy",
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
             connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        );
    if head_only { page } else { page.body(PAGE) }
}

/// Whether `origin` (`http://host:port`) names the authority `host` the browser
/// connected to.
fn same_origin(origin: &str, host: &str) -> bool {
    origin.split_once("://").is_some_and(|(scheme, authority)| {
        matches!(scheme, "http" | "https") && authority.eq_ignore_ascii_case(host)
    })
}

/// A token bucket: `RATE` messages a second on average, `BURST` at once.
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
