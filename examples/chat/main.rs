//! A browser chat on one port: the page at `/`, the WebSocket at `/ws`. Rooms, private
//! messages, history, resume after a reconnect, delivery acks and typing notices; alone
//! in memory, or as several processes sharing everything through Redis.
//!
//! ```text
//! cargo run --example chat -- --addr 127.0.0.1:9003
//! cargo run --example chat -- --addr 127.0.0.1:9004 --redis redis://127.0.0.1:6379
//! ```
//!
//! then open the printed `http://…/` address in two browser windows. The page uses only
//! the browser's own `WebSocket` API. The JSON protocol is in protocol.rs and README.md.
//!
//! Files: protocol.rs (the messages), names.rs (what a nickname may be), hub.rs (what
//! each message does, and delivery to this process's connections), store.rs (the state,
//! in memory), redis.rs (the state in Redis), index.html (the page).
//!
//! # Connections
//!
//! Each connection has an outgoing queue of 256 messages. A client that does not read
//! fast enough to keep it from filling is *slow*: what is still queued for it is
//! dropped, a close 1008 goes out right after the frames already written (whole frames
//! only), and the write timeout bounds the wait for it to drain. Keepalive pings find
//! a dead connection within `--ping-interval` + `--ping-timeout` (10 s by default); a
//! page that reconnects first presents its resume token and takes its session back at
//! once, the old connection closed with 4001. Opening handshakes have their own slots
//! (`--max-handshakes`), so they cannot fill the connection cap (`--max-connections`);
//! beyond either, an HTTP `503` with `Retry-After`. Ctrl-C (or SIGTERM) closes every
//! connection with 1001, saves the state (`--state FILE`), and exits.

#[path = "../common/mod.rs"]
mod common;
mod hub;
mod names;
mod protocol;
mod redis;
mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use common::args::{Arg, ArgError, Args, options_or_exit, with_deflate};
use common::signal::shutdown_signal;
use rfc6455::handshake::RequestHead;
use rfc6455::tokio::{Error, Message, Options, Reject, Upgrade, WebSocket};
use rfc6455::{CloseCode, Config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use hub::{ConnId, Hub, Kick, Session};
use protocol::ServerMessage;
use store::{MemoryStore, Store, Timing};

/// The page, served at `/`.
const PAGE: &str = include_str!("index.html");

/// Outgoing messages queued per client before it counts as too slow.
const QUEUE: usize = 256;
/// The largest WebSocket message accepted (bigger: close 1009).
const MAX_MESSAGE: u64 = 64 * 1024;
/// Messages a client may send per second, on average, and in a burst.
const RATE: f64 = 20.0;
const BURST: f64 = 40.0;
/// How often the sweeper looks for users who went away or are gone.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// How long an online mark lasts in Redis without a heartbeat (sent every third of it).
const PRESENCE: Duration = Duration::from_secs(6);
/// The close code for a connection whose session was resumed by another one.
const REPLACED: CloseCode = CloseCode(4001);

const USAGE: &str = "\
A browser chat: the page at /, the WebSocket at /ws, on one port.

Usage: chat [OPTIONS]

Options:
      --addr ADDR             listen on ADDR [default: 127.0.0.1:9003]; port 0 picks one
      --redis URL             share rooms, names, presence and history with every chat
                              process using the Redis at URL (redis://HOST:PORT)
      --state FILE            without --redis: load the state from FILE at start (if it
                              exists) and save it there on shutdown, so that a restart
                              keeps names, rooms and history
      --history N             messages kept per room, and per user in private [default: 50]
      --resume-grace TIME     how long a disconnected user keeps their name and rooms,
                              to resume [default: 60s]
      --ping-interval TIME    ping a connection after TIME of silence [default: 5s]
      --ping-timeout TIME     drop it if nothing arrives TIME after the ping [default: 5s]
      --write-timeout TIME    drop a connection whose writes make no progress [default: 10s]
      --max-connections N     chat connections at once [default: 1024]
      --max-handshakes N      requests being read at once [default: 256]
      --deflate               accept permessage-deflate (RFC 7692) when the browser
                              offers it; messages to many, encoded once, go uncompressed
  -h, --help                  print this help

TIME is 10, 1.5s or 500ms.
";

/// Everything the command line sets.
struct Settings {
    addr: SocketAddr,
    options: Options,
    redis: Option<String>,
    state: Option<PathBuf>,
    timing: Timing,
    max_connections: usize,
    max_handshakes: usize,
}

fn parse_args() -> Result<Option<Settings>, ArgError> {
    let mut s = Settings {
        addr: ([127, 0, 0, 1], 9003).into(),
        options: Options::DEFAULT
            .config(
                Config::DEFAULT
                    .max_message_size(MAX_MESSAGE)
                    .max_frame_size(MAX_MESSAGE),
            )
            .close_timeout(Duration::from_secs(5)),
        redis: None,
        state: None,
        timing: Timing {
            grace: Duration::from_secs(60),
            presence: PRESENCE,
            history: 50,
        },
        max_connections: 1024,
        max_handshakes: 256,
    };
    let mut ping_interval = Some(Duration::from_secs(5));
    let mut ping_timeout = Duration::from_secs(5);
    let mut write_timeout = Duration::from_secs(10);
    let mut args = Args::from_env();
    while let Some(arg) = args.next_arg()? {
        let Arg::Flag(flag) = arg else {
            let Arg::Positional(p) = arg else { continue };
            return Err(ArgError(format!("unexpected argument {p:?}")));
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--addr" => s.addr = args.parse()?,
            "--deflate" => s.options = with_deflate(s.options)?,
            "--redis" => s.redis = Some(args.value()?),
            "--state" => s.state = Some(PathBuf::from(args.value()?)),
            "--history" => s.timing.history = args.parse()?,
            "--resume-grace" => s.timing.grace = args.duration()?,
            "--ping-interval" => ping_interval = Some(args.duration()?),
            "--ping-timeout" => ping_timeout = args.duration()?,
            "--write-timeout" => write_timeout = args.duration()?,
            "--max-connections" => s.max_connections = args.parse()?,
            "--max-handshakes" => s.max_handshakes = args.parse()?,
            _ => return Err(args.unknown()),
        }
    }
    if s.redis.is_some() && s.state.is_some() {
        return Err(ArgError(
            "--state is for one process alone; with --redis the state is in Redis".into(),
        ));
    }
    if s.max_connections == 0 || s.max_handshakes == 0 {
        return Err(ArgError(
            "--max-connections and --max-handshakes must be at least 1".into(),
        ));
    }
    s.options = s
        .options
        .keepalive(ping_interval, ping_timeout)
        .write_timeout(Some(write_timeout));
    Ok(Some(s))
}

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match options_or_exit(parse_args(), USAGE) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let store = match open_store(&settings).await {
        Ok(store) => store,
        Err(why) => {
            eprintln!("chat: {why}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match TcpListener::bind(settings.addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("chat: cannot listen on {}: {e}", settings.addr);
            return ExitCode::FAILURE;
        }
    };
    let local = listener.local_addr().unwrap_or(settings.addr);
    println!("chat: listening on http://{local}/");
    match &settings.redis {
        Some(url) => println!("chat: WebSocket at ws://{local}/ws; state shared through {url}"),
        None => println!("chat: WebSocket at ws://{local}/ws; state in memory"),
    }

    let hub = Hub::new(store);
    let (stop_tx, stop) = watch::channel(false);
    let mut background = start_background(&hub);
    let handshakes = Arc::new(Semaphore::new(settings.max_handshakes));
    let connections = Arc::new(Semaphore::new(settings.max_connections));
    let mut tasks = JoinSet::new();
    let mut next_id: ConnId = 0;
    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            () = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let Ok(handshake) = Arc::clone(&handshakes).try_acquire_owned() else {
                        tasks.spawn(busy(stream));
                        continue;
                    };
                    next_id += 1;
                    let client = Client {
                        id: next_id,
                        hub: Arc::clone(&hub),
                        stop: stop.clone(),
                        options: settings.options,
                    };
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
    let limit = settings.options.close_timeout + Duration::from_secs(1);
    if tokio::time::timeout(limit, all).await.is_err() {
        eprintln!("chat: some connections did not close in time");
    }
    background.abort_all();
    if let (Some(path), Store::Memory(memory)) = (&settings.state, &hub.store) {
        // Written beside it, then renamed: a crash mid-write leaves the old file whole.
        let partial = path.with_extension("partial");
        let saved =
            std::fs::write(&partial, memory.save()).and_then(|()| std::fs::rename(&partial, path));
        if let Err(e) = saved {
            eprintln!("chat: cannot save the state to {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("chat: state saved to {}", path.display());
    }
    ExitCode::SUCCESS
}

/// The store the flags ask for: Redis, a `--state` file, or plain memory.
async fn open_store(settings: &Settings) -> Result<Store, String> {
    if let Some(url) = &settings.redis {
        let redis = redis::RedisStore::connect(url, settings.timing, Duration::from_secs(5))
            .await
            .map_err(|e| format!("cannot use Redis: {e}"))?;
        return Ok(Store::Redis(redis));
    }
    let saved = match &settings.state {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        },
        None => None,
    };
    let memory = MemoryStore::new(settings.timing, saved.as_deref()).map_err(|e| {
        let path = settings.state.as_deref().unwrap_or_else(|| "".as_ref());
        format!("{} is not a chat state file: {e}", path.display())
    })?;
    Ok(Store::Memory(memory))
}

/// The sweeper, and with Redis the heartbeat and the subscription to other processes'
/// events.
fn start_background(hub: &Arc<Hub>) -> JoinSet<()> {
    let mut background = JoinSet::new();
    let sweeper = Arc::clone(hub);
    background.spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = sweeper.sweep().await {
                eprintln!("chat: sweeping: {e}");
            }
        }
    });
    if matches!(hub.store, Store::Redis(_)) {
        let beat = Arc::clone(hub);
        background.spawn(async move {
            let mut tick = tokio::time::interval(PRESENCE / 3);
            loop {
                tick.tick().await;
                if let Err(e) = beat.store.heartbeat(&beat.live()).await {
                    eprintln!("chat: heartbeat: {e}");
                }
            }
        });
        let listener = Arc::clone(hub);
        background.spawn(async move {
            let Store::Redis(redis) = &listener.store else {
                return;
            };
            loop {
                let outcome = redis
                    .subscribe(|line| {
                        if let Some(event) = store::Event::decode(line) {
                            listener.dispatch(&event);
                        }
                    })
                    .await;
                if let Err(e) = outcome {
                    eprintln!("chat: {e}; subscribing again in 1 s");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
    background
}

const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\
    Retry-After: 1\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n\r\ntoo many connections\n";

/// Answers a connection beyond the handshake slots with a 503, then reads (and drops)
/// what it sent for a moment, so that closing does not reset the connection before the
/// client read the answer.
async fn busy(mut stream: TcpStream) {
    let answer = async {
        stream.write_all(BUSY).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), std::io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), answer).await;
}

/// One TCP connection: a page request or a chat client.
struct Client {
    id: ConnId,
    hub: Arc<Hub>,
    stop: watch::Receiver<bool>,
    options: Options,
}

/// How a session's sending side ended.
enum End {
    Kicked(Kick),
    Shutdown,
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
        let (kick, kicked) = oneshot::channel();
        self.hub.register(self.id, queue, kick);
        let outcome = self.session(ws, outgoing, kicked).await;
        self.hub.unregister(self.id).await;
        drop(slot);
        outcome
    }

    /// Runs the connection until it closes: messages in, queued messages out.
    async fn session(
        &self,
        ws: WebSocket<TcpStream>,
        mut outgoing: mpsc::Receiver<rfc6455::PreparedMessage>,
        mut kicked: oneshot::Receiver<Kick>,
    ) -> Result<(), Error> {
        let (mut read, mut write) = ws.split();
        let mut stop = self.stop.clone();
        let writer = async {
            let end = loop {
                let message = tokio::select! {
                    biased;
                    kick = &mut kicked => break End::Kicked(kick.unwrap_or(Kick::Slow)),
                    _ = stop.changed() => break End::Shutdown,
                    message = outgoing.recv() => match message {
                        Some(message) => message,
                        None => break End::Kicked(Kick::Slow),
                    },
                };
                // Waiting for room in the socket is where a slow reader keeps us; a
                // kick must still get through (a send given up here is not queued).
                tokio::select! {
                    biased;
                    kick = &mut kicked => break End::Kicked(kick.unwrap_or(Kick::Slow)),
                    _ = stop.changed() => break End::Shutdown,
                    sent = write.send_prepared(&message) => sent?,
                }
            };
            // Whatever is still queued for this client is dropped; the close goes out
            // right after the frames already handed to the socket.
            outgoing.close();
            while outgoing.try_recv().is_ok() {}
            let (code, reason) = match end {
                End::Kicked(Kick::Slow) => (
                    CloseCode::POLICY_VIOLATION,
                    "too slow: your queue filled and was dropped",
                ),
                End::Kicked(Kick::Replaced) => (REPLACED, "resumed on another connection"),
                End::Shutdown => (CloseCode::GOING_AWAY, "server shutting down"),
            };
            write.close(code, reason).await
        };
        let reader = async {
            let mut rate = RateLimit::new();
            let mut session = Session::default();
            loop {
                match read.recv().await? {
                    Some(Message::Text(text)) if rate.allow() => {
                        self.hub.on_text(self.id, &mut session, &text).await;
                    }
                    Some(Message::Text(_)) => self.hub.reply(
                        self.id,
                        &ServerMessage::error(
                            "too-fast",
                            "you are sending too fast; message dropped",
                            None,
                        ),
                    ),
                    Some(Message::Binary(_)) => self.hub.reply(
                        self.id,
                        &ServerMessage::error(
                            "invalid",
                            "binary messages are not supported; send JSON text",
                            None,
                        ),
                    ),
                    Some(_) => {} // pings are answered, a close is echoed
                    None => return Ok::<(), Error>(()),
                }
            }
        };
        let closed_by_us = tokio::select! {
            read = reader => return read,
            sent = writer => sent,
        };
        // Our close frame is out (or the write timed out): keep reading until the peer's
        // close and the end of TCP, within the close timeout.
        closed_by_us?;
        while read.recv().await?.is_some() {}
        Ok(())
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
