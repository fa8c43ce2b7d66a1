//! A WebSocket echo server on the tokio adapter: every text message comes back as text,
//! every binary message as binary. A task per connection.
//!
//! ```sh
//! cargo run --example echo                      # ws://127.0.0.1:9001
//! cargo run --example echo -- --addr 0.0.0.0:9001 --idle-timeout 60s
//! cargo run --features deflate --example echo -- --deflate  # compression, when offered
//! cargo run --example client -- ws://127.0.0.1:9001/
//! ```
//!
//! It is the target of the Autobahn|Testsuite fuzzing client and of the interop tests.
//! The adapter does the protocol, keepalive and timeouts; this program adds the two caps
//! that keep the server available under load:
//!
//! - `--max-handshakes` bounds the opening handshakes in progress (each within
//!   `--handshake-timeout`); beyond it a new connection gets a `503` at once;
//! - `--max-connections` bounds the open WebSockets; beyond it a complete request gets a
//!   `503` with `Retry-After: 1`. A silent, stalled or half-open peer holds its place
//!   only until keepalive (`--idle-timeout`, twice) or `--write-timeout` releases it.

#[path = "common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use common::args::{Arg, ArgError, Args, options_or_exit, parse_duration, with_deflate};
use common::signal::shutdown_signal;
use rfc6455::CloseCode;
use rfc6455::tokio::{Error, Message, Options, Reject, Upgrade};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

const USAGE: &str = "\
WebSocket echo server (tokio).

Usage: echo [OPTIONS]

Options:
      --addr ADDR                listen on ADDR [default: 127.0.0.1:9001]; port 0 picks one
      --handshake-timeout TIME   the opening handshake must finish within TIME [default: 10s]
      --idle-timeout TIME|off    ping after TIME of silence; release the peer if nothing
                                 arrives TIME after the ping [default: 20s]
      --write-timeout TIME       release a peer that reads nothing for TIME [default: 30s]
      --close-timeout TIME       the closing handshake, TCP close included [default: 5s]
      --max-connections N        open WebSockets; beyond, answer 503 [default: 10000]
      --max-handshakes N         handshakes in progress; beyond, answer 503 [default: 1024]
      --max-message-size BYTES   largest message accepted [default: 64MiB]
      --max-frame-size BYTES     largest frame accepted [default: 16MiB]
      --protocol NAME            a subprotocol to accept (repeatable)
      --deflate                  accept permessage-deflate (RFC 7692) when offered
  -q, --quiet                    no log line per connection
  -h, --help                     print this help

TIME is seconds (10, 1.5s) or milliseconds (500ms); BYTES may end in KiB, MiB, GiB.
Prints `listening on ws://ADDR` once bound. Ctrl-C (or SIGTERM) stops accepting, sends
close 1001 (going away) to every open connection, waits for them briefly, and exits 0.
";

struct Settings {
    addr: SocketAddr,
    options: Options,
    max_connections: usize,
    max_handshakes: usize,
    protocols: Vec<String>,
    log: bool,
}

fn parse_args() -> Result<Option<Settings>, ArgError> {
    let mut s = Settings {
        addr: ([127, 0, 0, 1], 9001).into(),
        options: Options::default().close_timeout(Duration::from_secs(5)),
        max_connections: 10_000,
        max_handshakes: 1024,
        protocols: Vec::new(),
        log: true,
    };
    let mut args = Args::from_env();
    while let Some(arg) = args.next_arg()? {
        let Arg::Flag(flag) = arg else {
            return Err(ArgError("unexpected argument; see --help".into()));
        };
        let o = &mut s.options;
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--addr" => s.addr = args.parse()?,
            "--handshake-timeout" => o.handshake_timeout = Some(args.duration()?),
            "--idle-timeout" => match args.value()?.as_str() {
                "off" => o.keepalive_interval = None,
                t => {
                    let t = parse_duration(t).ok_or_else(|| ArgError(format!("{flag} {t:?}")))?;
                    *o = o.keepalive(Some(t), t);
                }
            },
            "--write-timeout" => o.write_timeout = Some(args.duration()?),
            "--close-timeout" => o.close_timeout = args.duration()?,
            "--max-connections" => s.max_connections = args.parse()?,
            "--max-handshakes" => s.max_handshakes = args.parse()?,
            "--max-message-size" => o.config = o.config.max_message_size(args.size()?),
            "--max-frame-size" => o.config = o.config.max_frame_size(args.size()?),
            "--protocol" => s.protocols.push(args.value()?),
            "--deflate" => *o = with_deflate(*o)?,
            "-q" | "--quiet" => s.log = false,
            _ => return Err(args.unknown()),
        }
    }
    Ok(Some(s))
}

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match options_or_exit(parse_args(), USAGE) {
        Ok(settings) => Arc::new(settings),
        Err(code) => return code,
    };
    let listener = match TcpListener::bind(settings.addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", settings.addr);
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(local) => println!("listening on ws://{local}"),
        Err(e) => eprintln!("listening (address unknown: {e})"),
    }
    let handshakes = Arc::new(Semaphore::new(settings.max_handshakes));
    let connections = Arc::new(Semaphore::new(settings.max_connections));
    let (stop_tx, stop) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            () = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok((mut stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let settings = Arc::clone(&settings);
                    let connections = Arc::clone(&connections);
                    let mut stop = stop.clone();
                    let Ok(handshake) = Arc::clone(&handshakes).try_acquire_owned() else {
                        // Every handshake slot is taken: refuse at once, without reading.
                        tasks.spawn(async move {
                            let _ = stream.write_all(BUSY).await;
                            let _ = stream.shutdown().await;
                        });
                        continue;
                    };
                    tasks.spawn(async move {
                        let end = serve(stream, &settings, handshake, &connections, &mut stop).await;
                        if settings.log {
                            match end {
                                Ok(Some(code)) => eprintln!("{peer}: closed ({code})"),
                                Ok(None) => eprintln!("{peer}: closed"),
                                Err(e) => eprintln!("{peer}: {e}"),
                            }
                        }
                    });
                }
                // Out of file descriptors, or reset before accepted: pause, go on.
                Err(e) => {
                    eprintln!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    if settings.log {
        eprintln!("shutting down: closing {} connection(s)", tasks.len());
    }
    let _ = stop_tx.send(true);
    let grace = settings.options.close_timeout + Duration::from_secs(1);
    let all = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, all).await.is_err() {
        tasks.shutdown().await;
    }
    ExitCode::SUCCESS
}

const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\
    Retry-After: 1\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n\r\ntoo many connections\n";

/// One connection: the handshake in its slot, then echo in a connection slot until the
/// peer closes (its close code) or shutdown (close 1001).
async fn serve(
    stream: TcpStream,
    settings: &Settings,
    handshake: tokio::sync::OwnedSemaphorePermit,
    connections: &Arc<Semaphore>,
    stop: &mut watch::Receiver<bool>,
) -> Result<Option<CloseCode>, Error> {
    let mut slot = None;
    // On the heap: the handshake's state (its buffer, parser and timer) is freed when it
    // ends, instead of sizing every connection's task for it (`docs/PERFORMANCE.md`,
    // issue 12: idle memory).
    let accepted = Box::pin(settings.options.accept_with(stream, |request| {
        slot = Some(Arc::clone(connections).try_acquire_owned().map_err(|_| {
            Reject::new(503)
                .header("Retry-After", "1")
                .body("too many connections\n")
        })?);
        // The first of the client's offers that we speak (§4.2.2 step 4).
        Ok(
            match request
                .subprotocols()
                .find(|p| settings.protocols.iter().any(|o| o == p))
            {
                Some(protocol) => Upgrade::new().subprotocol(protocol),
                None => Upgrade::new(),
            },
        )
    }));
    let mut ws = tokio::select! {
        ws = accepted => ws?,
        () = stopped(stop) => return Ok(None),
    };
    drop(handshake);
    let mut code = None;
    // One wait for shutdown for the whole connection, not a new one per message.
    let shutdown = stopped(stop);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            message = ws.recv() => match message? {
                Some(Message::Close(frame)) => code = frame.map(|f| f.code),
                // Queued: `recv` writes the echoes of everything one read brought in
                // one write, before it waits for more.
                Some(message) if message.is_data() => ws.feed(message).await?,
                Some(_) => {}
                None => return Ok(code),
            },
            () = &mut shutdown => {
                ws.close(CloseCode::GOING_AWAY, "server shutting down").await?;
                return Ok(Some(CloseCode::GOING_AWAY));
            }
        }
    }
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}
