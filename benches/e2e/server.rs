//! The servers of the end-to-end comparison (issue 12): an echo on every path, and on
//! `/fanout` a broadcast of every message to every other `/fanout` connection, on
//! `rfc6455::tokio` and on four peers, each at its defaults, with `TCP_NODELAY` set as
//! `examples/echo` sets it, on `#[tokio::main]`'s runtime as `examples/echo` runs.
//!
//! ```sh
//! e2e_server --impl tungstenite --addr 127.0.0.1:9002
//! ```
//!
//! `--impl`:
//!
//! - `ours`: `rfc6455::tokio::accept_with`, `recv` / `feed` (the echo of
//!   `examples/echo` without its caps and shutdown); fan-out: each message encoded once
//!   as a `PreparedMessage` and queued to every receiver with `feed_prepared`, all the
//!   broadcasts waiting for a receiver in one write (`flush`).
//! - `tungstenite`: `tokio-tungstenite` `accept_hdr_async`, `StreamExt::next` /
//!   `SinkExt::send`.
//! - `fastwebsockets`: a hyper 1 server, `fastwebsockets::upgrade`, `FragmentCollector`
//!   `read_frame` / `write_frame`, in `tokio::task::unconstrained` as its own
//!   `examples/echo_server.rs`; fan-out: `split` and a writer per receiver.
//! - `sockudo`: `sockudo_ws::handshake` + `WebSocketStream::server` (its
//!   `examples/simple_echo.rs`), `next` / `send`.
//! - `tokio-websockets`: `ServerBuilder::accept`, `next` / `send`.
//!
//! The peers' fan-out is the obvious loop: every message goes into a
//! `tokio::sync::broadcast` channel as `Bytes` (shared, not copied), and each receiver's
//! task sends it as a message of its own, which the library encodes for that receiver.
//! Ours passes the one `PreparedMessage` instead.
//!
//! Without `--impl` (as `cargo test --benches` runs it) it checks itself: every server on
//! a free port, a short echo, pipelined echo and fan-out with `loadgen.rs` checking every
//! message.

#[path = "loadgen.rs"]
mod loadgen;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

const IMPLS: [&str; 5] = [
    "ours",
    "tungstenite",
    "fastwebsockets",
    "sockudo",
    "tokio-websockets",
];

/// The fan-out room: (the sender's connection id, the message).
struct Room<T> {
    tx: broadcast::Sender<(u64, T)>,
    ids: AtomicU64,
}

impl<T: Clone> Room<T> {
    fn new() -> Arc<Self> {
        Arc::new(Room {
            tx: broadcast::channel(1024).0,
            ids: AtomicU64::new(0),
        })
    }

    fn join(&self) -> (u64, broadcast::Receiver<(u64, T)>) {
        (
            self.ids.fetch_add(1, Ordering::Relaxed),
            self.tx.subscribe(),
        )
    }
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Accepts for ever, a task per connection.
async fn serve(which: &'static str, listener: TcpListener) {
    let ours_room = Room::<rfc6455::PreparedMessage>::new();
    let bytes_room = Room::<Bytes>::new();
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (ours_room, bytes_room) = (Arc::clone(&ours_room), Arc::clone(&bytes_room));
        tokio::spawn(async move {
            let result = match which {
                "ours" => ours::connection(stream, ours_room).await,
                "tungstenite" => tungstenite::connection(stream, bytes_room).await,
                "fastwebsockets" => fastws::connection(stream, bytes_room).await,
                "sockudo" => sockudo::connection(stream, bytes_room).await,
                _ => tokio_websockets::connection(stream, bytes_room).await,
            };
            // Resets and the like are the load generator going away.
            let _ = result;
        });
    }
}

mod ours {
    use super::*;
    use rfc6455::PreparedMessage;
    use rfc6455::tokio::{Message, Options, Upgrade};

    pub async fn connection(
        stream: TcpStream,
        room: Arc<Room<PreparedMessage>>,
    ) -> Result<(), Error> {
        let mut fanout = false;
        let mut ws = Options::default()
            .accept_with(stream, |request| {
                fanout = request.path() == "/fanout";
                Ok(Upgrade::new())
            })
            .await?;
        if !fanout {
            while let Some(message) = ws.recv().await? {
                if message.is_data() {
                    // `recv` writes the queued echoes before it waits for input.
                    ws.feed(message).await?;
                }
            }
            return Ok(());
        }
        let (me, mut inbox) = room.join();
        loop {
            tokio::select! {
                message = ws.recv() => match message? {
                    Some(Message::Binary(data)) => {
                        let _ = room.tx.send((me, PreparedMessage::binary(data)));
                    }
                    Some(Message::Text(text)) => {
                        let _ = room.tx.send((me, PreparedMessage::text(text)));
                    }
                    Some(_) => {}
                    None => return Ok(()),
                },
                item = inbox.recv() => {
                    // Everything waiting, in one write.
                    let (from, prepared) = item?;
                    if from != me {
                        ws.feed_prepared(&prepared).await?;
                    }
                    while let Ok((from, prepared)) = inbox.try_recv() {
                        if from != me {
                            ws.feed_prepared(&prepared).await?;
                        }
                    }
                    ws.flush().await?;
                }
            }
        }
    }
}

mod tungstenite {
    use super::*;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

    #[allow(
        clippy::result_large_err,
        reason = "tungstenite's callback type, as its examples write it"
    )]
    pub async fn connection(stream: TcpStream, room: Arc<Room<Bytes>>) -> Result<(), Error> {
        let mut fanout = false;
        let mut ws =
            tokio_tungstenite::accept_hdr_async(stream, |request: &Request, response: Response| {
                fanout = request.uri().path() == "/fanout";
                Ok(response)
            })
            .await?;
        if !fanout {
            while let Some(message) = ws.next().await {
                let message = message?;
                if message.is_text() || message.is_binary() {
                    ws.send(message).await?;
                }
            }
            return Ok(());
        }
        let (me, mut inbox) = room.join();
        loop {
            tokio::select! {
                message = ws.next() => match message.transpose()? {
                    Some(Message::Binary(data)) => { let _ = room.tx.send((me, data)); }
                    Some(Message::Close(_)) | None => return Ok(()),
                    Some(_) => {}
                },
                item = inbox.recv() => {
                    let (from, data) = item?;
                    if from != me {
                        ws.send(Message::Binary(data)).await?;
                    }
                }
            }
        }
    }
}

mod fastws {
    use super::*;
    use fastwebsockets::{
        FragmentCollector, FragmentCollectorRead, Frame, OpCode, Payload, WebSocketError,
    };
    use http_body_util::Empty;
    use hyper::body::Incoming;
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper::{Request, Response};
    use hyper_util::rt::TokioIo;

    pub async fn connection(stream: TcpStream, room: Arc<Room<Bytes>>) -> Result<(), Error> {
        let service = service_fn(move |mut request: Request<Incoming>| {
            let room = Arc::clone(&room);
            async move {
                let fanout = request.uri().path() == "/fanout";
                let (response, upgrade) = fastwebsockets::upgrade::upgrade(&mut request)?;
                tokio::spawn(tokio::task::unconstrained(async move {
                    let ws = upgrade.await?;
                    if fanout {
                        fan(ws, room).await
                    } else {
                        echo(ws).await
                    }
                }));
                Ok::<Response<Empty<Bytes>>, WebSocketError>(response)
            }
        });
        http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades()
            .await?;
        Ok(())
    }

    type Ws = fastwebsockets::WebSocket<TokioIo<hyper::upgrade::Upgraded>>;

    async fn echo(ws: Ws) -> Result<(), WebSocketError> {
        let mut ws = FragmentCollector::new(ws);
        loop {
            let frame = ws.read_frame().await?;
            match frame.opcode {
                OpCode::Close => return Ok(()),
                OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
                _ => {}
            }
        }
    }

    async fn fan(ws: Ws, room: Arc<Room<Bytes>>) -> Result<(), WebSocketError> {
        let (read, mut write) = ws.split(tokio::io::split);
        let mut read = FragmentCollectorRead::new(read);
        let (me, mut inbox) = room.join();
        let writer = tokio::spawn(async move {
            while let Ok((from, data)) = inbox.recv().await {
                if from != me
                    && write
                        .write_frame(Frame::binary(Payload::Borrowed(&data)))
                        .await
                        .is_err()
                {
                    break;
                }
            }
        });
        loop {
            let frame = read
                .read_frame::<_, WebSocketError>(&mut |_| async { Ok(()) })
                .await;
            match frame {
                Ok(frame) if frame.opcode == OpCode::Binary => {
                    let _ = room.tx.send((me, Bytes::copy_from_slice(&frame.payload)));
                }
                Ok(frame) if frame.opcode != OpCode::Close => {}
                _ => break,
            }
        }
        writer.abort();
        Ok(())
    }
}

mod sockudo {
    use super::*;
    use bytes::BytesMut;
    use sockudo_ws::handshake::{build_response, generate_accept_key, parse_request};
    use sockudo_ws::protocol::Message;
    use sockudo_ws::{Config, WebSocketStream};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    pub async fn connection(mut stream: TcpStream, room: Arc<Room<Bytes>>) -> Result<(), Error> {
        // The handshake as in its examples/simple_echo.rs.
        let mut buf = BytesMut::with_capacity(4096);
        let fanout = loop {
            if stream.read_buf(&mut buf).await? == 0 {
                return Ok(());
            }
            if let Some((request, _)) = parse_request(&buf)? {
                let fanout = request.path == "/fanout";
                let response = build_response(&generate_accept_key(request.key), None, None);
                stream.write_all(&response).await?;
                stream.flush().await?;
                break fanout;
            }
        };
        drop(buf);
        let mut ws = WebSocketStream::server(stream, Config::default());
        if !fanout {
            while let Some(message) = ws.next().await {
                match message? {
                    Message::Text(text) => ws.send(Message::Text(text)).await?,
                    Message::Binary(data) => ws.send(Message::Binary(data)).await?,
                    Message::Close(_) => break,
                    _ => {}
                }
            }
            return Ok(());
        }
        let (me, mut inbox) = room.join();
        loop {
            tokio::select! {
                message = ws.next() => match message.transpose()? {
                    Some(Message::Binary(data)) => { let _ = room.tx.send((me, data)); }
                    Some(Message::Close(_)) | None => return Ok(()),
                    Some(_) => {}
                },
                item = inbox.recv() => {
                    let (from, data) = item?;
                    if from != me {
                        ws.send(Message::Binary(data)).await?;
                    }
                }
            }
        }
    }
}

mod tokio_websockets {
    use super::*;
    use ::tokio_websockets::{Message, ServerBuilder};

    pub async fn connection(stream: TcpStream, room: Arc<Room<Bytes>>) -> Result<(), Error> {
        let (request, mut ws) = ServerBuilder::new().accept(stream).await?;
        if request.uri().path() != "/fanout" {
            while let Some(message) = ws.next().await {
                let message = message?;
                if message.is_text() || message.is_binary() {
                    ws.send(message).await?;
                } else if message.is_close() {
                    break;
                }
            }
            return Ok(());
        }
        let (me, mut inbox) = room.join();
        loop {
            tokio::select! {
                message = ws.next() => match message.transpose()? {
                    Some(m) if m.is_binary() => { let _ = room.tx.send((me, m.into_payload().into())); }
                    Some(m) if m.is_close() => return Ok(()),
                    None => return Ok(()),
                    Some(_) => {}
                },
                item = inbox.recv() => {
                    let (from, data) = item?;
                    if from != me {
                        ws.send(Message::binary(data)).await?;
                    }
                }
            }
        }
    }
}

/// Starts `which` on a free port in a runtime of its own (a background thread).
fn start(which: &'static str) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            serve(which, TcpListener::from_std(listener).expect("listener")).await;
        });
    });
    addr
}

/// Every server, briefly: echo, pipelined echo, fan-out; every message checked.
fn self_check() -> ExitCode {
    let short = Duration::from_millis(200);
    let mut failed = false;
    for which in IMPLS {
        let addr = start(which);
        let runs = [
            (loadgen::Mode::Echo, "/", 3, 20, 1),
            (loadgen::Mode::Echo, "/", 2, 16 * 1024, 8),
            (loadgen::Mode::Fanout, "/fanout", 5, 1024, 4),
            (loadgen::Mode::Idle, "/", 20, 20, 1),
        ];
        for (mode, path, connections, size, in_flight) in runs {
            let settings = loadgen::Settings {
                mode,
                url: format!("ws://{addr}{path}"),
                connections,
                size,
                in_flight,
                warmup: Duration::ZERO,
                duration: short,
                settle: Duration::ZERO,
                ..loadgen::Settings::default()
            };
            match loadgen::run(&settings) {
                Ok(_) if mode == loadgen::Mode::Idle => {
                    println!("{which} idle: {connections} connections held");
                }
                Ok(report) if report.verified > 0 => {
                    println!(
                        "{which} {}: {} messages checked",
                        mode.name(),
                        report.verified
                    );
                }
                Ok(_) => {
                    eprintln!("{which} {}: no message went through", mode.name());
                    failed = true;
                }
                Err(e) => {
                    eprintln!("{which} {}: {e}", mode.name());
                    failed = true;
                }
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

const USAGE: &str = "\
Usage: e2e_server --impl ours|tungstenite|fastwebsockets|sockudo|tokio-websockets --addr ADDR

Echo on every path; on /fanout every message goes to every other /fanout connection.
Prints `listening on ws://ADDR` once bound. Without arguments: a self-check of every server.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.is_empty() {
        return self_check();
    }
    let mut which = None;
    let mut addr: SocketAddr = ([127, 0, 0, 1], 9002).into();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match (flag.as_str(), it.next()) {
            ("--impl", Some(v)) => match IMPLS.iter().find(|i| *i == v) {
                Some(i) => which = Some(*i),
                None => {
                    eprintln!("e2e_server: --impl {v:?}: one of {IMPLS:?}");
                    return ExitCode::from(2);
                }
            },
            ("--addr", Some(v)) => match v.parse() {
                Ok(a) => addr = a,
                Err(e) => {
                    eprintln!("e2e_server: --addr {v:?}: {e}");
                    return ExitCode::from(2);
                }
            },
            _ => {
                eprint!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(which) = which else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    // `#[tokio::main]`'s runtime, as examples/echo.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("e2e_server: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match TcpListener::bind(addr).await {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("e2e_server: cannot listen on {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        match listener.local_addr() {
            Ok(local) => println!("listening on ws://{local}"),
            Err(_) => println!("listening on ws://{addr}"),
        }
        serve(which, listener).await;
        ExitCode::SUCCESS
    })
}
